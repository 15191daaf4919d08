import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateDemoCohort } from '../../infra/local/demo/generate-demo-cohort';
import { grantFor } from '../support/access-grants';
import { apiAs, idTokenFor } from '../support/api-client';

const platform = inject('platform');
const run = promisify(execFile);

/** `npm run trace-leak -- <file>` as a data protection officer runs it, against this test platform's stores and keys. */
async function traceLeak(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, MDRP_DYNAMO_PORT: new URL(platform.dynamoEndpoint).port, MDRP_S3_PORT: new URL(platform.s3Endpoint).port };
  try {
    const out = await run(process.execPath, ['--import', 'tsx', 'infra/local/trace-leak-cli.ts', file, '--data-dir', platform.dataDir], { env, timeout: 90_000 });
    return { code: 0, ...out };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

describe('npm run trace-leak on a file released by the running platform (R-DEID-6)', () => {
  let dir: string;
  let grantId: string;
  let researcher: ReturnType<typeof apiAs>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mdrp-leak-'));
    ({ grantId } = await grantFor(platform, 'researcher', { title: 'Leak tracing rehearsal' }));
    researcher = apiAs(platform, await idTokenFor(platform, 'researcher'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('R-DEID-6: an NDJSON excerpt of released Observations names its grant and holder; the trace is audited', async () => {
    const group = (await researcher.get(`/fhir/R4/Group/${grantId.replace(/_/g, '-')}`)).json;
    const pid = (group.member[0].entity.reference as string).split('/')[1];
    const obs = await researcher.get(`/fhir/R4/Observation?patient=${pid}&_count=8`);
    expect(obs.status).toBe(200);
    const resources = obs.json.entry.filter((e: { search: { mode: string } }) => e.search.mode === 'match').map((e: { resource: unknown }) => e.resource);
    expect(resources.length).toBeGreaterThan(3);
    const file = join(dir, 'found-on-a-usb-stick.ndjson');
    writeFileSync(file, resources.map((r: unknown) => JSON.stringify(r)).join('\n') + '\n');

    const t = await traceLeak(file);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toContain(grantId);
    expect(t.stdout).toMatch(/TRACED to grant/);
    // The tool prints figures and ids, never the file's content.
    expect(t.stdout).not.toContain(resources[0].id);

    const auditor = apiAs(platform, await idTokenFor(platform, 'auditor'));
    const events = await auditor.get(`/v1/audit/events?resourceType=Grant&resourceId=${encodeURIComponent(grantId)}&limit=100`);
    expect(events.status).toBe(200);
    const trace = events.json.items.find((e: { operation: string }) => e.operation === 'traceLeak');
    expect(trace).toMatchObject({ category: 'security', result: { outcome: 'success', status: 200 }, parameters: { traced: true } });
  });

  it('R-DEID-6: a file of de-identified-looking data from outside the platform is "not traced" (exit code 3)', async () => {
    const cohort = generateDemoCohort({ patients: 2 });
    const file = join(dir, 'elsewhere.ndjson');
    writeFileSync(file, cohort.patients[0]!.fhir.slice(0, 6).map((r) => JSON.stringify(r)).join('\n') + '\n');
    const t = await traceLeak(file);
    expect(t.code).toBe(3);
    expect(t.stdout).not.toContain(grantId);
  });
});
