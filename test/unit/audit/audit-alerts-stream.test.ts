import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { StoredAuditItem } from '../../../functions/core/audit/stored-audit-events';
import { auditAlertFeedOf, evaluateAuditStream } from '../../../functions/handlers/audit-alerts.handler';
import { testContainer } from '../../support/test-container';
import { auditEvent } from './audit-fixtures';

/** The wire format of a stream image (what DynamoDB Streams delivers). */
function image(v: unknown): AttributeValue {
  if (typeof v === 'string') return { S: v };
  if (typeof v === 'number') return { N: String(v) };
  if (typeof v === 'boolean') return { BOOL: v };
  if (v === null || v === undefined) return { NULL: true };
  if (Array.isArray(v)) return { L: v.map(image) };
  return { M: Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).map(([k, x]) => [k, image(x)])) };
}

const record = (item: Record<string, unknown>, seq: number, eventName: 'INSERT' | 'MODIFY' = 'INSERT'): DynamoDBRecord => ({
  eventName,
  dynamodb: { SequenceNumber: String(seq), NewImage: (image(item) as { M: Record<string, AttributeValue> }).M },
});

describe('audit-alerts handler: the audit table stream → alert rules (R-AUD-5, AWS path)', () => {
  it('R-AUD-5: six 401s from one source, delivered as stream records of the stored items, raise the failed-logins alert once', async () => {
    // Prepare: events written by the trail, as the API handler writes them; the stream carries the stored items.
    const c = testContainer();
    const day = '2026-11-24';
    for (let i = 0; i < 6; i++) {
      await c.audit.write(auditEvent(`${day}T02:00:0${i}.000Z`, { category: 'auth', actor: { kind: 'anonymous', id: 'anonymous', roles: [] }, source: { ip: '203.0.113.50' }, resources: [], result: { outcome: 'denied', status: 401 } }));
    }
    const stored = (await c.documents.query<StoredAuditItem>('audit', { pk: `DAY#${day}` })).items;
    expect(stored).toHaveLength(6);
    // An alert item and a modification are ignored (the mapping's filter drops them in AWS too).
    const records = [record({ pk: 'ALERT#2026-11-24', sk: 'x', alert: { rule: 'bulk-access' } }, 1), ...stored.map((it, i) => record(it, i + 2)), record(stored[0]!, 99, 'MODIFY')];
    // Act
    const res = await evaluateAuditStream(c, records);
    const again = await evaluateAuditStream(c, records); // a redelivered batch
    // Assess
    expect(res).toEqual({ batchItemFailures: [] });
    expect(again).toEqual({ batchItemFailures: [] });
    const alerts = (await c.audit.listAlerts({ limit: 10 })).items;
    expect(alerts).toEqual([expect.objectContaining({ rule: 'failed-logins', sourceIp: '203.0.113.50', count: 5 })]);
    const inbox = await c.notifier.list(['role:security-admin']);
    expect(inbox.filter((m) => m.category === 'security-alert')).toHaveLength(1);
  });

  it('R-AUD-5: a failing evaluation reports the record it stopped at, so Lambda retries from there (then the failure destination)', async () => {
    // Prepare
    const c = testContainer();
    await c.audit.write(auditEvent('2026-11-24T02:00:00.000Z'));
    await c.audit.write(auditEvent('2026-11-24T02:00:01.000Z'));
    const stored = (await c.documents.query<StoredAuditItem>('audit', { pk: 'DAY#2026-11-24' })).items;
    let n = 0;
    c.auditAlerts.evaluate = async () => {
      if (++n === 2) throw new Error('store unavailable');
      return [];
    };
    // Act
    const res = await evaluateAuditStream(c, stored.map((it, i) => record(it, 10 + i)));
    // Assess
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: '11' }] });
  });

  it('R-AUD-5: the local runtime reaches the same rules through the container’s durable feed', async () => {
    // Prepare
    const c = testContainer();
    await c.audit.write(auditEvent('2026-11-24T07:59:00.000Z', { operation: 'createDownloadLink' }));
    // Act
    const r = await auditAlertFeedOf(c).run();
    // Assess
    expect(r.evaluated).toBe(1);
    expect((await c.audit.listAlerts({ limit: 10 })).items).toEqual([expect.objectContaining({ rule: 'export-download' })]);
  });
});
