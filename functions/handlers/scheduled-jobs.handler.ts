import { Logger } from '@aws-lambda-powertools/logger';
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
    await container.audit.write({
      eventId: container.ids.next('evt'),
      time: new Date(container.clock.now()).toISOString(),
      correlationId: job.name,
      category: 'system',
      operation: `job.${job.type}`,
      actor: { kind: 'system', id: 'system:scheduler', roles: [] },
      source: {},
      resources: grantId ? [{ type: 'Grant', id: grantId }] : [],
      parameters: { job: job.name },
      result: { outcome, status: outcome === 'success' ? 200 : 500 },
    });
  }
}

/** EventBridge Scheduler target: the schedule's input is the job. */
export const handler = async (event: ScheduledJob): Promise<void> => {
  logger.info('scheduled job', { type: event.type, name: event.name });
  await runScheduledJob(await lambdaContainer(), event);
};
