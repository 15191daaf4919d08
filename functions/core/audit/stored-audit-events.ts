import type { DocumentStore, Item } from '../ports/document-store';
import type { AuditEvent } from './audit-event';

/** The main item of one event in the `audit` table, as `AuditTrail.write` stores it. */
export type StoredAuditItem = Item & { event: AuditEvent; gsi1pk?: string; gsi1sk?: string; gsi2pk?: string; gsi2sk?: string };

const DAY_MS = 86_400_000;

/**
 * Reads the main event items whose sort key lies in [startIso, endIso), in stored order
 * (ascending `<time>#<eventId>`), page by page over the `DAY#` partitions. Membership is decided
 * by the stored sort key, not by re-parsing times, so the sealer and the verifier always agree
 * on which events a period holds.
 */
export async function* storedAuditEventPages(store: DocumentStore, startIso: string, endIso: string, pageSize = 1000): AsyncGenerator<StoredAuditItem[]> {
  if (startIso >= endIso) return;
  const lastDay = endIso.slice(0, 10);
  for (let d = Date.parse(`${startIso.slice(0, 10)}T00:00:00.000Z`); ; d += DAY_MS) {
    const day = new Date(d).toISOString().slice(0, 10);
    if (day > lastDay) return;
    let cursor: string | undefined;
    do {
      // The upper bound is inclusive, but a stored sk always carries `#<eventId>` after the time, so no
      // sk equals endIso and every sk starting with endIso sorts after it: [start, end) exactly.
      const page = await store.query<StoredAuditItem>('audit', { pk: `DAY#${day}`, skBetween: [startIso, endIso], ascending: true, limit: pageSize, cursor });
      if (page.items.length) yield page.items;
      cursor = page.cursor;
    } while (cursor);
  }
}

/**
 * A pull cursor over {@link storedAuditEventPages}: `takeBefore(end)` returns the next events whose
 * sort key is below `end`, so consecutive periods are read in a single pass.
 */
export class StoredAuditEventCursor {
  private buffer: StoredAuditItem[] = [];
  private pos = 0;
  private done = false;
  private readonly pages: AsyncGenerator<StoredAuditItem[]>;

  constructor(store: DocumentStore, startIso: string, endIso: string, pageSize?: number) {
    this.pages = storedAuditEventPages(store, startIso, endIso, pageSize);
  }

  async takeBefore(endIso: string): Promise<StoredAuditItem[]> {
    const out: StoredAuditItem[] = [];
    for (;;) {
      while (this.pos < this.buffer.length) {
        const item = this.buffer[this.pos]!;
        if (item.sk >= endIso) return out;
        out.push(item);
        this.pos++;
      }
      if (this.done) return out;
      const next = await this.pages.next();
      if (next.done) {
        this.done = true;
        return out;
      }
      this.buffer = next.value;
      this.pos = 0;
    }
  }
}
