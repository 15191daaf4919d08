import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MemoryDocumentStore } from '../../functions/adapters/memory/memory-document-store';
import { LocalWorkflowEngine } from '../../functions/adapters/local/local-workflow-engine';
import type { DocumentStore } from '../../functions/core/ports/document-store';

export const FUNCTION_ARN = 'arn:aws:lambda:local:000000000000:function:mdrp-access-workflow';

/** The deployed ASL, read as-is (with its `${AccessWorkflowFunctionArn}` placeholder). */
export function accessRequestAsl(): object {
  const file = fileURLToPath(new URL('../../state-machines/access-request.asl.json', import.meta.url));
  return JSON.parse(readFileSync(file, 'utf8')) as object;
}

/** One recorded task invocation. */
export interface TaskCall {
  functionArn: string;
  payload: Record<string, unknown>;
}

type TaskBehaviour = (payload: Record<string, unknown>) => unknown;

/**
 * A LocalWorkflowEngine over the real ASL with a recording fake task function. Behaviours per
 * task name can be set (`on('issueGrant', () => { throw … })`); the default returns `{ ok: true }`.
 */
export class WorkflowHarness {
  readonly calls: TaskCall[] = [];
  /** Engine-internal errors (must stay empty: a Catch would otherwise hide them). */
  readonly internalErrors: unknown[] = [];
  readonly engine: LocalWorkflowEngine;
  private readonly behaviours = new Map<string, TaskBehaviour>();
  private seq = 0;

  /** `clockOffsetMs` shifts the engine's clock (e.g. a restart long after a deadline). */
  constructor(
    readonly store: DocumentStore = new MemoryDocumentStore(),
    clockOffsetMs = 0,
  ) {
    this.engine = new LocalWorkflowEngine({
      definitions: { 'access-request': accessRequestAsl() },
      substitutions: { AccessWorkflowFunctionArn: FUNCTION_ARN },
      runTask: async (functionArn, payload) => {
        this.calls.push({ functionArn, payload });
        const behaviour = this.behaviours.get(String(payload.task));
        return behaviour ? behaviour(payload) : { ok: true };
      },
      store: this.store,
      clock: { now: () => Date.now() + clockOffsetMs },
      ids: { next: (prefix) => `${prefix}_${++this.seq}` },
      onInternalError: (e) => {
        this.internalErrors.push(e);
      },
    });
  }

  on(task: string, behaviour: TaskBehaviour): this {
    this.behaviours.set(task, behaviour);
    return this;
  }

  /** `task:step` of every invocation, in order (e.g. `openReviewStep:ethics`). */
  trace(): string[] {
    return this.calls.map((c) => (c.payload.step === undefined ? String(c.payload.task) : `${String(c.payload.task)}:${String(c.payload.step)}`));
  }

  async start(requestId: string, approvalChain: string[], reviewTimeoutSeconds = 3600): Promise<string> {
    const id = await this.engine.start('access-request', requestId, { requestId, approvalChain, reviewTimeoutSeconds });
    await this.engine.waitForIdle();
    return id;
  }

  /** The token of the step the execution waits on (fails the test if it is not waiting). */
  async waiting(executionId: string): Promise<{ state: string; taskToken: string; payload: Record<string, unknown> }> {
    const d = await this.engine.describe(executionId);
    if (!d.waiting) throw new Error(`execution ${executionId} is not waiting (status ${d.status})`);
    return d.waiting as { state: string; taskToken: string; payload: Record<string, unknown> };
  }

  /** Completes the current callback step with `output` and lets the execution settle. */
  async decide(executionId: string, output: Record<string, unknown>): Promise<void> {
    const { taskToken } = await this.waiting(executionId);
    await this.engine.sendTaskSuccess(taskToken, output);
    await this.engine.waitForIdle();
  }
}
