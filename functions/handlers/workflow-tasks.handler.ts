import { Logger } from '@aws-lambda-powertools/logger';
import type { WorkflowTaskPayload } from '../core/access/access-request-service';
import { systemActor } from '../core/identity/actor';
import type { Container } from '../composition/container';
import { lambdaContainer } from './lambda-runtime';

const logger = new Logger({ serviceName: 'workflow-tasks' });

/**
 * Runs one task of the access-request state machine and audits it as a system action. Shared by
 * the Lambda (Step Functions invokes it) and the local workflow runner.
 */
export async function runWorkflowTask(container: Container, payload: WorkflowTaskPayload): Promise<Record<string, unknown>> {
  const actor = systemActor('access-workflow');
  let outcome: 'success' | 'failure' = 'success';
  try {
    return await container.accessRequests.runWorkflowTask(payload);
  } catch (e) {
    outcome = 'failure';
    throw e;
  } finally {
    await container.audit.write({
      eventId: container.ids.next('evt'),
      time: new Date(container.clock.now()).toISOString(),
      correlationId: payload.requestId,
      category: 'permission',
      operation: `workflow.${payload.task}`,
      actor: { kind: actor.kind, id: actor.id, roles: [] },
      source: {},
      resources: [{ type: 'AccessRequest', id: payload.requestId }],
      parameters: { ...(payload.step ? { step: payload.step } : {}), ...(payload.outcome ? { outcome: payload.outcome } : {}) },
      result: { outcome, status: outcome === 'success' ? 200 : 500 },
    });
  }
}

/** Step Functions Lambda task entry point (`lambda:invoke` and `.waitForTaskToken`). */
export const handler = async (event: WorkflowTaskPayload): Promise<Record<string, unknown>> => {
  logger.info('workflow task', { task: event.task, requestId: event.requestId });
  return runWorkflowTask(await lambdaContainer(), event);
};
