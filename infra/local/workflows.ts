import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalScheduler } from '../../functions/adapters/local/local-scheduler';
import { LocalWorkflowEngine } from '../../functions/adapters/local/local-workflow-engine';
import type { WorkflowTaskPayload } from '../../functions/core/access/access-request-service';
import type { Clock } from '../../functions/core/ports/clock';
import type { DocumentStore } from '../../functions/core/ports/document-store';
import type { IdGenerator } from '../../functions/core/ports/id-generator';
import type { Container } from '../../functions/composition/container';
import { runScheduledJob } from '../../functions/handlers/scheduled-jobs.handler';
import { runWorkflowTask } from '../../functions/handlers/workflow-tasks.handler';

/** The function ARN the ASL's `${AccessWorkflowFunctionArn}` resolves to locally. */
export const LOCAL_ACCESS_WORKFLOW_ARN = 'arn:aws:lambda:local:000000000000:function:mdrp-access-workflow';

/**
 * The local stand-ins for Step Functions and EventBridge Scheduler (no emulator exists for
 * either): the same ASL file CDK deploys, and the same task/job functions the Lambdas run.
 * Both keep their state in the document store, so paused approvals and due jobs survive restarts.
 */
export function startLocalWorkflows(opts: { assetsDir: string; documents: DocumentStore; clock: Clock; ids: IdGenerator; getContainer: () => Container; intervalMs: number; onError?: (e: unknown) => void }) {
  const definition = JSON.parse(readFileSync(join(opts.assetsDir, 'state-machines', 'access-request.asl.json'), 'utf8')) as object;
  const workflow = new LocalWorkflowEngine({
    definitions: { 'access-request': definition },
    substitutions: { AccessWorkflowFunctionArn: LOCAL_ACCESS_WORKFLOW_ARN },
    runTask: async (functionArn, payload) => {
      if (functionArn !== LOCAL_ACCESS_WORKFLOW_ARN) throw new Error(`no local function ${functionArn}`);
      return runWorkflowTask(opts.getContainer(), payload as unknown as WorkflowTaskPayload);
    },
    store: opts.documents,
    clock: opts.clock,
    ids: opts.ids,
    ...(opts.onError ? { onInternalError: opts.onError } : {}),
  });
  const scheduler = new LocalScheduler({
    store: opts.documents,
    clock: opts.clock,
    runJob: (job) => runScheduledJob(opts.getContainer(), job),
    ...(opts.onError ? { onError: (e: unknown) => opts.onError!(e) } : {}),
  });
  return {
    workflow,
    scheduler,
    /** Resumes paused executions and starts polling due jobs. */
    async resume(): Promise<void> {
      await workflow.resumeAll();
      scheduler.start(opts.intervalMs);
    },
    async stop(): Promise<void> {
      scheduler.stop();
      await workflow.stop();
    },
  };
}
