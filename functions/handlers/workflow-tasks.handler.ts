import { Logger } from '@aws-lambda-powertools/logger';
import type { WorkflowTaskPayload } from '../core/access/access-request-service';
import { auditSystemAction } from '../core/audit/system-action';
import type { Container } from '../composition/container';
import { lambdaContainer } from './lambda-runtime';

const logger = new Logger({ serviceName: 'workflow-tasks' });

/**
 * Runs one task of the access-request state machine and audits it as a system action. Shared by
 * the Lambda (Step Functions invokes it) and the local workflow runner.
 */
export async function runWorkflowTask(container: Container, payload: WorkflowTaskPayload): Promise<Record<string, unknown>> {
  let outcome: 'success' | 'failure' = 'success';
  try {
    return await container.accessRequests.runWorkflowTask(payload);
  } catch (e) {
    outcome = 'failure';
    throw e;
  } finally {
    await auditSystemAction(container, {
      actorId: 'system:access-workflow',
      operation: `workflow.${payload.task}`,
      category: 'permission',
      correlationId: payload.requestId,
      resources: [{ type: 'AccessRequest', id: payload.requestId }],
      parameters: { ...(payload.step ? { step: payload.step } : {}), ...(payload.outcome ? { outcome: payload.outcome } : {}) },
      outcome,
    });
  }
}

/** Step Functions Lambda task entry point (`lambda:invoke` and `.waitForTaskToken`). */
export const handler = async (event: WorkflowTaskPayload): Promise<Record<string, unknown>> => {
  logger.info('workflow task', { task: event.task, requestId: event.requestId });
  return runWorkflowTask(await lambdaContainer(), event);
};
