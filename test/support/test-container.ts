import { MemoryDocumentStore } from '../../functions/adapters/memory/memory-document-store';
import { LocalDigestSigner } from '../../functions/adapters/local/local-digest-signer';
import { LocalKeyProvider, type LocalKeyMaterial } from '../../functions/adapters/local/local-key-provider';
import type { PlatformConfig } from '../../functions/composition/config';
import { buildContainer, type Container } from '../../functions/composition/container';
import type { Clock } from '../../functions/core/ports/clock';
import type { IdGenerator } from '../../functions/core/ports/id-generator';
import type { ObjectStore } from '../../functions/core/ports/object-store';
import { CURRENT_AGREEMENT_VERSION } from '../../functions/core/access/access-request-service';
import type { Actor } from '../../functions/core/identity/actor';
import type { ScheduledJob, Scheduler } from '../../functions/core/ports/scheduler';
import type { WorkflowEngine } from '../../functions/core/ports/workflow-engine';
import { randomBytes, generateKeyPairSync } from 'node:crypto';

/** A settable clock for time-based rules. */
export class TestClock implements Clock {
  constructor(public t = Date.parse('2026-11-24T08:00:00Z')) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Deterministic ids: `<prefix>_<counter>` padded to satisfy id patterns. */
export class SequenceIds implements IdGenerator {
  private n = 0;
  next(prefix: string): string {
    this.n += 1;
    return `${prefix}_${String(this.n).padStart(12, '0')}`;
  }
}

/** Records scheduled jobs; tests run them by hand. */
export class RecordingScheduler implements Scheduler {
  jobs = new Map<string, ScheduledJob>();
  async schedule(job: ScheduledJob): Promise<void> {
    if (!this.jobs.has(job.name)) this.jobs.set(job.name, job);
  }
  async cancel(name: string): Promise<void> {
    this.jobs.delete(name);
  }
}

/** Records workflow calls; tests drive the tasks by hand (the real ASL runs in test/workflow). */
export class RecordingWorkflow implements WorkflowEngine {
  started: Array<{ machine: string; name: string; input: unknown }> = [];
  sent: Array<{ token: string; output?: unknown; error?: string }> = [];
  used = new Set<string>();
  async start(machine: string, name: string, input: unknown): Promise<string> {
    this.started.push({ machine, name, input });
    return `exec-${name}`;
  }
  async sendTaskSuccess(token: string, output: unknown): Promise<void> {
    this.sent.push({ token, output });
  }
  async sendTaskFailure(token: string, error: string): Promise<void> {
    this.sent.push({ token, error });
  }
}

const unusedObjects: ObjectStore = new Proxy({} as ObjectStore, {
  get: (_t, p) => () => Promise.reject(new Error(`object store not available in this test (${String(p)})`)),
});

export function testKeys(): LocalKeyMaterial {
  return {
    data: randomBytes(32).toString('base64'),
    identity: randomBytes(32).toString('base64'),
    match: randomBytes(32).toString('base64'),
    pseudonym: randomBytes(32).toString('base64'),
    auditSigningKeyPem: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

export const TEST_CONFIG: PlatformConfig = {
  stage: 'test',
  version: '0.0.0-test',
  region: 'us-east-1',
  tables: { main: 'main', identity: 'identity', audit: 'audit' },
  buckets: { staging: 'staging', data: 'data', archive: 'archive' },
  keys: { kind: 'local', keyFile: '/nonexistent' },
  workflow: { kind: 'local' },
  scheduler: { kind: 'local' },
  identity: { userPoolId: 'local_test', issuer: 'http://127.0.0.1/local_test' },
  notifications: {},
  allowedOrigin: 'http://127.0.0.1:3000',
  assetsDir: '.',
};

/** A container over in-memory adapters, for unit tests of services and the handler pipeline. */
export function testContainer(overrides: { objects?: ObjectStore } = {}): Container & { clock: TestClock; workflow: RecordingWorkflow; scheduler: RecordingScheduler } {
  const clock = new TestClock();
  const workflow = new RecordingWorkflow();
  const scheduler = new RecordingScheduler();
  const keys = testKeys();
  const c = buildContainer(TEST_CONFIG, {
    clock,
    ids: new SequenceIds(),
    documents: new MemoryDocumentStore(),
    objects: overrides.objects ?? unusedObjects,
    keys: new LocalKeyProvider(keys),
    digestSigner: new LocalDigestSigner(keys.auditSigningKeyPem),
    workflow,
    scheduler,
    directory: { getUser: async () => undefined, listUsers: async () => [], listUsersInRole: async () => [] },
  });
  return c as Container & { clock: TestClock; workflow: RecordingWorkflow; scheduler: RecordingScheduler };
}

/**
 * A grant for `who` (its level is the datasets'), issued the way the workflow's last step issues it (the
 * review steps themselves are tested elsewhere): submit a complete request, run `issueGrant`.
 */
export async function issueGrantFor(c: Container, who: Actor, scope: { datasetIds: string[]; modalities: string[] }, title = 'Research grant for a test'): Promise<string> {
  const r = await c.accessRequests.submit(who, {
    title,
    purposeCode: 'DUO:0000007',
    purpose: 'Disease-specific research on breast cancer response',
    academicStatement: 'A detailed academic statement that is long enough to pass the fifty character rule.',
    scope: { ...scope, fields: [] },
    requestedDurationDays: 30,
    agreementVersion: CURRENT_AGREEMENT_VERSION,
    agreementAccepted: true,
  });
  return (await c.accessRequests.runWorkflowTask({ task: 'issueGrant', requestId: r.requestId })).grantId as string;
}
