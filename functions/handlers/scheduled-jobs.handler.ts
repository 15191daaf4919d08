import { Logger } from '@aws-lambda-powertools/logger';
import { auditSystemAction } from '../core/audit/system-action';
import type { ScheduledJob } from '../core/ports/scheduler';
import type { Container } from '../composition/container';
import { lambdaContainer } from './lambda-runtime';

const logger = new Logger({ serviceName: 'scheduled-jobs' });

/**
 * Runs one scheduled job (EventBridge Scheduler target in AWS; the local scheduler calls the same
 * function). Jobs are idempotent: delivery is at least once. Each run is audited as a system action.
 */
export async function runScheduledJob(container: Container, job: ScheduledJob): Promise<void> {
  let outcome: 'success' | 'failure' = 'success';
  const grantId = String(job.payload.grantId ?? '');
  try {
    if (job.type === 'grant-expiry') await container.grants.expire(grantId);
    else if (job.type === 'grant-reminder') await container.grants.remind(grantId, Number(job.payload.days));
    else throw new Error(`unknown job type ${job.type}`);
  } catch (e) {
    outcome = 'failure';
    throw e;
  } finally {
    await auditSystemAction(container, {
      actorId: 'system:scheduler',
      operation: `job.${job.type}`,
      category: 'system',
      correlationId: job.name,
      resources: grantId ? [{ type: 'Grant', id: grantId }] : [],
      parameters: { job: job.name },
      outcome,
    });
  }
}

/** EventBridge Scheduler target: the schedule's input is the job. */
export const handler = async (event: ScheduledJob): Promise<void> => {
  logger.info('scheduled job', { type: event.type, name: event.name });
  await runScheduledJob(await lambdaContainer(), event);
};
