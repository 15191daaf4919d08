import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { streamImageToItem } from '../adapters/aws/stream-image';
import type { Container } from '../composition/container';
import { AuditAlertFeed, type AuditAlertFeedRun } from '../core/audit/audit-alert-feed';
import type { AuditEvent } from '../core/audit/audit-event';
import { lambdaContainer } from './lambda-runtime';

const logger = new Logger({ serviceName: 'audit-alerts' });

/**
 * R-AUD-5 in AWS: the audit table's stream (NEW_IMAGE, filtered to inserted `DAY#` event items by
 * the event source mapping) → the alert rules, off the request path. Records are evaluated in
 * stream order; at the first failure the rest of the batch is reported as failed from that record
 * on (`reportBatchItemFailures`), so Lambda retries from there, and after its retries the batch
 * goes to the failure destination (SQS). Re-evaluation is harmless (alerts are stored once).
 */
export async function evaluateAuditStream(container: Container, records: readonly DynamoDBRecord[]): Promise<DynamoDBBatchResponse> {
  for (const r of records) {
    const event = auditEventOf(r);
    if (!event) continue;
    try {
      await container.auditAlerts.evaluate(event);
    } catch (e) {
      // Ids only: the event itself may carry parameters that are not for logs.
      logger.error('alert evaluation failed', { eventId: event.eventId, error: e as Error });
      return { batchItemFailures: [{ itemIdentifier: r.dynamodb?.SequenceNumber ?? '' }] };
    }
  }
  return { batchItemFailures: [] };
}

/** The audit event of an inserted main event item (`DAY#…`); undefined for anything else. */
export function auditEventOf(r: DynamoDBRecord): AuditEvent | undefined {
  if (r.eventName !== 'INSERT' || !r.dynamodb?.NewImage) return undefined;
  const item = streamImageToItem(r.dynamodb.NewImage) as { pk?: unknown; event?: AuditEvent };
  return typeof item.pk === 'string' && item.pk.startsWith('DAY#') && item.event ? item.event : undefined;
}

/**
 * The local runtime's path to the same rules: a durable pull feed over the stored events (the
 * local store has no stream the runtime reads). One feed per container.
 */
export function auditAlertFeedOf(container: Container, onError?: (error: unknown, eventId: string) => void): AuditAlertFeed {
  return new AuditAlertFeed(container.documents, container.auditAlerts, container.clock, { ...(onError ? { onError } : {}) });
}

export type { AuditAlertFeedRun };

/** DynamoDB Streams event source of the audit table. */
export const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => evaluateAuditStream(await lambdaContainer(), event.Records);
