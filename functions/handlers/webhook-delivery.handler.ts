import { Logger } from '@aws-lambda-powertools/logger';
import type { Container } from '../composition/container';
import { integrationServices } from '../composition/integration-services';
import type { DispatchSummary } from '../core/integrations/webhook-dispatcher';
import { lambdaContainer } from './lambda-runtime';

const logger = new Logger({ serviceName: 'webhook-delivery' });

/**
 * Delivers every due webhook delivery of the outbox (R-INT-1), page by page, within a time
 * budget. The delivery Lambda runs it on a one-minute schedule in AWS; the local runtime on an
 * interval timer. Each attempt is audited by the dispatcher.
 */
export async function runWebhookDelivery(container: Container, budgetMs = 50_000): Promise<DispatchSummary> {
  const started = Date.now();
  const total: DispatchSummary = { attempted: 0, delivered: 0, retrying: 0, failed: 0 };
  const { dispatcher } = integrationServices(container);
  for (;;) {
    const s = await dispatcher.deliverDue(25);
    for (const k of Object.keys(total) as Array<keyof DispatchSummary>) total[k] += s[k];
    if (s.attempted < 25 || Date.now() - started > budgetMs) return total;
  }
}

/** EventBridge schedule target (rate 1 minute). */
export async function handler(): Promise<DispatchSummary> {
  const summary = await runWebhookDelivery(await lambdaContainer());
  logger.info('webhook deliveries', { ...summary });
  return summary;
}
