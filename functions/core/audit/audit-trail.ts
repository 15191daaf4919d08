import type { DocumentStore, Item, QueryPage, TransactOperation } from '../ports/document-store';
import type { AuditSink } from '../ports/audit-sink';
import type { Clock } from '../ports/clock';
import { listAuditAlerts, type AuditAlert } from './audit-alert-evaluator';
import type { AuditEvent } from './audit-event';

/** Query of the audit trail (R-AUD-4): by actor, or by data item, within a time range. */
export interface AuditQuery {
  actorId?: string;
  resource?: { type: string; id: string };
  /** ISO-8601 bounds (inclusive). */
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
}

type AuditItem = Item & { event: AuditEvent };

/**
 * The platform's own audit trail on the document store (table `audit`). Every event is written
 * once with a not-exists condition (never updated), plus one pointer item per extra resource so
 * "everything that happened to item X" is a single index query (gsi2), and "everything user U
 * did" is another (gsi1). Tamper evidence (digests, signatures) is layered on top by the sealer.
 *
 * A write is one conditional put (or one transaction), nothing more: it is on every request's
 * path and fails the request if it fails (fail closed). The alert rules (R-AUD-5) read the stored
 * events asynchronously — a DynamoDB Stream in AWS, `AuditAlertFeed` locally.
 */
export class AuditTrail implements AuditSink {
  constructor(
    private readonly store: DocumentStore,
    /** Today's day partition for queries without `to`. */
    private readonly clock: Clock,
  ) {}

  async write(event: AuditEvent): Promise<void> {
    await this.writeOnce(event);
  }

  /** Alerts raised from the trail (R-AUD-5), newest first. */
  listAlerts(q: { from?: string; to?: string; limit: number; cursor?: string }): Promise<QueryPage<AuditAlert>> {
    return listAuditAlerts(this.store, q);
  }

  private async writeOnce(event: AuditEvent): Promise<void> {
    const day = event.time.slice(0, 10);
    const order = `${event.time}#${event.eventId}`;
    const [first, ...rest] = event.resources;
    const main: AuditItem = {
      pk: `DAY#${day}`,
      sk: order,
      gsi1pk: `ACTOR#${event.actor.id}`,
      gsi1sk: order,
      ...(first ? { gsi2pk: resourceKey(first), gsi2sk: order } : {}),
      event,
    };
    if (rest.length === 0) {
      await this.store.put('audit', main, { ifNotExists: true });
      return;
    }
    const ops: TransactOperation[] = [
      { kind: 'put', table: 'audit', item: main, options: { ifNotExists: true } },
      ...rest.slice(0, 98).map(
        (r, i): TransactOperation => ({
          kind: 'put',
          table: 'audit',
          item: { pk: `REF#${event.eventId}`, sk: String(i + 1).padStart(3, '0'), gsi2pk: resourceKey(r), gsi2sk: order, event },
          options: { ifNotExists: true },
        }),
      ),
    ];
    await this.store.transact(ops);
  }

  /** Events newest first. Without actor or resource: the platform-wide stream for one day range. */
  async query(q: AuditQuery): Promise<QueryPage<AuditEvent>> {
    const from = q.from ?? '0000';
    const to = q.to ?? '9999';
    const range: [string, string] = [from, `${to}\uffff`];
    let page: QueryPage<AuditItem>;
    if (q.actorId) {
      page = await this.store.query<AuditItem>('audit', { index: 'gsi1', pk: `ACTOR#${q.actorId}`, skBetween: range, ascending: false, limit: q.limit, cursor: q.cursor });
    } else if (q.resource) {
      page = await this.store.query<AuditItem>('audit', { index: 'gsi2', pk: resourceKey(q.resource), skBetween: range, ascending: false, limit: q.limit, cursor: q.cursor });
    } else {
      // The platform-wide stream is partitioned by day; walk back from the `to` day.
      const day = (q.to ?? new Date(this.clock.now()).toISOString()).slice(0, 10);
      page = await this.store.query<AuditItem>('audit', { pk: `DAY#${day}`, skBetween: range, ascending: false, limit: q.limit, cursor: q.cursor });
    }
    return { items: page.items.map((i) => i.event), ...(page.cursor ? { cursor: page.cursor } : {}) };
  }
}

function resourceKey(r: { type: string; id: string }): string {
  return `RES#${r.type}#${r.id}`;
}
