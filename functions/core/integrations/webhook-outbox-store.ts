import { createHash } from 'node:crypto';
import type { AccessRequest } from '../access/access-request';
import type { Grant } from '../access/grant';
import type { Clock } from '../ports/clock';
import type { DocumentStore, Item, ItemChanges, ItemKey, PutOptions, QueryInput, QueryPage, TableName, TransactOperation } from '../ports/document-store';
import type { IntegrationEvent, IntegrationEventData, IntegrationEventType } from './integration-event';
import type { WebhookDelivery } from './webhook-endpoint';
import { webhookKeys, type DeliveryItem, type WebhookService } from './webhook-service';

const DECISION_ACTIONS = new Set(['approved', 'rejected', 'changes-requested', 'more-info']);

/**
 * Transactional outbox for integration events (R-INT-1). Wraps the document store the access
 * services write through: when a write changes an access request or a grant whose applicant or
 * holder is a partner with subscribed webhook endpoints, the delivery items of the resulting
 * events are written in the SAME transaction as the change. A status change is therefore never
 * recorded without its events, and never announced without having happened (no dual write).
 * The events are derived from the before/after state, like a change-data-capture stream:
 *
 * - request created → `access-request.submitted`
 * - a review decision added to the history → `access-request.decision` (step, outcome)
 * - status becomes `approved` (grant issued) → `access-request.approved` (grantId, expiresAt)
 * - status becomes `rejected` → `access-request.rejected`
 * - grant status becomes `revoked` / `expired` → `grant.revoked` / `grant.expired`
 *
 * Event ids are derived from the item and its version, so a retried write cannot duplicate them.
 */
export class WebhookOutboxStore implements DocumentStore {
  constructor(
    private readonly inner: DocumentStore,
    private readonly webhooks: Pick<WebhookService, 'subscribers'>,
    private readonly clock: Clock,
  ) {}

  get<T extends Item = Item>(table: TableName, key: ItemKey): Promise<T | undefined> {
    return this.inner.get<T>(table, key);
  }

  getMany<T extends Item = Item>(table: TableName, keys: ItemKey[]): Promise<Array<T | undefined>> {
    return this.inner.getMany<T>(table, keys);
  }

  async put(table: TableName, item: Item, options?: PutOptions): Promise<void> {
    const deliveries = table === 'main' ? await this.capture(item, options) : [];
    if (deliveries.length === 0) return this.inner.put(table, item, options);
    await this.inner.transact([{ kind: 'put', table, item, ...(options ? { options } : {}) }, ...deliveries]);
  }

  delete(table: TableName, key: ItemKey): Promise<void> {
    return this.inner.delete(table, key);
  }

  /** In-place changes (counters) are not state changes a partner subscribes to. */
  update(table: TableName, key: ItemKey, changes: ItemChanges): Promise<void> {
    return this.inner.update(table, key, changes);
  }

  query<T extends Item = Item>(table: TableName, input: QueryInput): Promise<QueryPage<T>> {
    return this.inner.query<T>(table, input);
  }

  async transact(operations: TransactOperation[]): Promise<void> {
    const extra: TransactOperation[] = [];
    for (const op of operations) if (op.kind === 'put' && op.table === 'main') extra.push(...(await this.capture(op.item, op.options)));
    return this.inner.transact([...operations, ...extra]);
  }

  batchPut(table: TableName, items: Item[]): Promise<void> {
    return this.inner.batchPut(table, items);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  /** The delivery items (one per subscribed endpoint and event) a write of `item` produces. */
  private async capture(item: Item, options?: PutOptions): Promise<TransactOperation[]> {
    const events = await this.eventsOf(item, options);
    const out: TransactOperation[] = [];
    for (const [n, event] of events.entries()) {
      // Within one millisecond, events keep the order of the item's versions and of their derivation.
      const order = `${event.createdAt}#${String(item.version ?? 0).padStart(6, '0')}.${n}`;
      for (const endpoint of await this.webhooks.subscribers(event.partnerId, event.type)) {
        const deliveryId = `whd_${sha(`${event.id}|${endpoint.endpointId}`).slice(0, 24)}`;
        const delivery: WebhookDelivery = {
          deliveryId,
          endpointId: endpoint.endpointId,
          partnerId: event.partnerId,
          eventId: event.id,
          eventType: event.type,
          status: 'pending',
          attempts: [],
          nextAttemptAt: event.createdAt,
          createdAt: event.createdAt,
        };
        const d: DeliveryItem = {
          ...webhookKeys.delivery(deliveryId),
          gsi1pk: webhookKeys.log(endpoint.endpointId),
          gsi1sk: `${order}#${deliveryId}`,
          gsi2pk: webhookKeys.outbox,
          gsi2sk: `${order}#${deliveryId}`,
          version: 1,
          delivery,
          body: JSON.stringify(event),
        };
        out.push({ kind: 'put', table: 'main', item: d, options: { ifNotExists: true } });
      }
    }
    return out;
  }

  private async eventsOf(item: Item, options?: PutOptions): Promise<IntegrationEvent[]> {
    const at = new Date(this.clock.now()).toISOString();
    if (item.sk === 'REQUEST' && isObject(item.request)) {
      const next = item.request as unknown as AccessRequest;
      if (!isPartnerId(next.applicantId)) return [];
      const prev = options?.ifNotExists ? undefined : (await this.inner.get<Item & { request: AccessRequest }>('main', { pk: item.pk, sk: item.sk }))?.request;
      const partnerId = next.applicantId;
      const events: IntegrationEvent[] = [];
      const emit = (type: IntegrationEventType, data: Omit<IntegrationEventData, 'requestId' | 'status'>, n = 0) =>
        events.push({ id: `evt_${sha(`${next.requestId}|${type}|${next.version}|${n}`).slice(0, 24)}`, type, createdAt: at, partnerId, data: { requestId: next.requestId, status: next.status, ...data } });
      if (!prev) emit('access-request.submitted', {});
      const added = next.history.slice(prev?.history.length ?? next.history.length);
      added.forEach((h, i) => {
        if (h.step && DECISION_ACTIONS.has(h.action)) emit('access-request.decision', { step: h.step, outcome: h.action }, i);
      });
      if (prev && prev.status !== 'approved' && next.status === 'approved') {
        const grant = next.grantId ? (await this.inner.get<Item & { grant: Grant }>('main', { pk: `GRANT#${next.grantId}`, sk: 'GRANT' }))?.grant : undefined;
        emit('access-request.approved', { ...(next.grantId ? { grantId: next.grantId } : {}), ...(grant ? { expiresAt: grant.expiresAt } : {}) });
      }
      if (prev && prev.status !== 'rejected' && next.status === 'rejected') emit('access-request.rejected', {});
      return events;
    }
    if (item.sk === 'GRANT' && isObject(item.grant)) {
      const next = item.grant as unknown as Grant;
      if (!isPartnerId(next.holderId) || options?.ifNotExists) return [];
      const prev = (await this.inner.get<Item & { grant: Grant }>('main', { pk: item.pk, sk: item.sk }))?.grant;
      if (!prev || prev.status === next.status || (next.status !== 'revoked' && next.status !== 'expired')) return [];
      const type: IntegrationEventType = next.status === 'revoked' ? 'grant.revoked' : 'grant.expired';
      return [{ id: `evt_${sha(`${next.grantId}|${type}|${next.version}`).slice(0, 24)}`, type, createdAt: at, partnerId: next.holderId, data: { requestId: next.requestId, status: next.status, grantId: next.grantId, expiresAt: next.expiresAt } }];
    }
    return [];
  }
}

/** Partner ids are `ptn_…` (PartnerService); only partner-held requests and grants have subscribers. */
function isPartnerId(id: string): boolean {
  return id.startsWith('ptn_');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function sha(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
