import { Logger } from '@aws-lambda-powertools/logger';
import { auditSystemAction } from '../core/audit/system-action';
import { fhirServicesOf } from '../composition/fhir-services';
import { runAuditSealing } from './audit.handler';
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
    else if (job.type === 'daily-sweep') await runDailySweep(container);
    else if (job.type === 'audit-seal') await runAuditSealing(container);
    // End of a rotated API key's grace period (the edge also refuses it at decision time).
    // A FHIR Bulk Data $export kicked off by a grant holder (runs as that holder, grant re-checked).
    else if (job.type === 'fhir-export') await fhirServicesOf(container).exports.run(String(job.payload.jobId));
    else if (job.type === 'partner-key-revocation') await container.partners.endKeyGrace(String(job.payload.partnerId), String(job.payload.keyId));
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
      resources: grantId ? [{ type: 'Grant', id: grantId }] : job.payload.keyId ? [{ type: 'ApiKey', id: String(job.payload.keyId) }] : [],
      parameters: { job: job.name },
      outcome,
    });
  }
}

/**
 * D4: the daily sweep expires every grant past its end whose one-time schedule was missed (the
 * decision-time check already denies them; this makes their status say so too).
 */
export async function runDailySweep(container: Container): Promise<number> {
  const now = container.clock.now();
  let expired = 0;
  for (const g of await container.grants.listAll()) {
    if (g.status === 'expired' && Date.parse(g.expiresAt) <= now) {
      // listAll reports past-end grants as expired; persist it.
      const stored = await container.grants.get(g.grantId);
      if (stored.status === 'active') {
        await container.grants.expire(g.grantId);
        expired += 1;
      }
    }
  }
  return expired;
}

/** EventBridge Scheduler target: the schedule's input is the job. */
export const handler = async (event: ScheduledJob): Promise<void> => {
  logger.info('scheduled job', { type: event.type, name: event.name });
  await runScheduledJob(await lambdaContainer(), event);
};
