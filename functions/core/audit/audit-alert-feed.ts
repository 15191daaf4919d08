import { isDomainError } from '../errors';
import type { Clock } from '../ports/clock';
import type { DocumentStore, Item } from '../ports/document-store';
import type { AuditEvent } from './audit-event';
import { storedAuditEventPages } from './stored-audit-events';

/** What evaluates one event (the alert rules, `AuditAlertEvaluator`). */
export interface AlertRules {
  evaluate(event: AuditEvent): Promise<unknown>;
}

export interface AuditAlertFeedOptions {
  /**
   * Events are re-read from this long before the newest evaluated one (default 15 s): an event's
   * time is taken before its write completes, so a slow write can land behind a faster, later one.
   * Events already evaluated in that window are skipped by sort key.
   */
  graceMs?: number;
  /** Where a feed without checkpoint starts (default 1 day before now). */
  initialLookbackMs?: number;
  /** Bound on the work of one run (default 2000 events); the next run continues. */
  maxEventsPerRun?: number;
  /** Attempts on one event before it is set aside as a dead letter (default 5). */
  maxAttempts?: number;
  /** Told of every failed evaluation (ids only, never event contents). */
  onError?: (error: unknown, eventId: string, attempt: number) => void;
}

export interface AuditAlertFeedRun {
  evaluated: number;
  deadLettered: number;
  /** Sort key (`<time>#<eventId>`) of the newest event evaluated so far (or the feed's start). */
  through: string;
  /** The run stopped at an event whose evaluation failed; it is retried by the next run. */
  blocked?: string;
}

/** The feed's durable position (table `main`; the audit table stays append-only). */
interface CheckpointItem extends Item {
  through: string;
  /** Sort keys evaluated within `graceMs` before `through` (skipped when re-read). */
  recent: string[];
  /** Failed attempts of the event the feed is blocked on. */
  failures?: { sk: string; attempts: number };
}

const CHECKPOINT = { pk: 'AUDIT-ALERT-FEED', sk: 'CHECKPOINT' } as const;
/** Events set aside after `maxAttempts` (ids only), for a security admin to look at. */
export const ALERT_FEED_DEAD_LETTER_PK = 'AUDIT-ALERT-FEED#DEAD';
const MAX_RECENT = 5000;

const timeOf = (sk: string) => Date.parse(sk.slice(0, sk.indexOf('#')));
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The alert rules of R-AUD-5, evaluated as events arrive but off the request path: a pull feed
 * over the audit trail's `DAY#` partitions in stored order, with a durable checkpoint. It is the
 * local runtime's counterpart of the DynamoDB Stream that drives the `audit-alerts` Lambda in AWS;
 * both call the same rules, so the rules' results do not depend on the path.
 *
 * At-least-once: the checkpoint is saved after each page, so an event written but not yet
 * evaluated when the process stops is evaluated by the next run after a restart. Evaluating an
 * event twice is harmless: each alert is stored once per rule, subject and window (conditional
 * put) and only the first store notifies. An event whose evaluation keeps failing blocks the
 * feed for `maxAttempts` runs, then is recorded as a dead letter and passed.
 *
 * @example
 * const feed = new AuditAlertFeed(documents, new AuditAlertEvaluator(documents, notifier), clock);
 * setInterval(() => void feed.run(), 1000);
 */
export class AuditAlertFeed {
  private readonly graceMs: number;
  private readonly lookbackMs: number;
  private readonly maxEvents: number;
  private readonly maxAttempts: number;

  constructor(
    private readonly store: DocumentStore,
    private readonly rules: AlertRules,
    private readonly clock: Clock,
    private readonly options: AuditAlertFeedOptions = {},
  ) {
    this.graceMs = options.graceMs ?? 15_000;
    this.lookbackMs = options.initialLookbackMs ?? 86_400_000;
    this.maxEvents = options.maxEventsPerRun ?? 2000;
    this.maxAttempts = options.maxAttempts ?? 5;
  }

  /** Evaluates the events written since the checkpoint, in stored order. */
  async run(): Promise<AuditAlertFeedRun> {
    const saved = await this.store.get<CheckpointItem>('main', CHECKPOINT);
    const now = this.clock.now();
    // A new feed starts `initialLookbackMs` back (a pseudo sort key, below every real one of that instant).
    let through = saved?.through ?? `${iso(now - this.lookbackMs)}#`;
    const seen = new Set(saved?.recent ?? []);
    let failures = saved?.failures;
    const start = saved ? iso(timeOf(through) - this.graceMs) : iso(now - this.lookbackMs);
    // Up to a minute ahead of this clock: clocks of writers may run slightly ahead.
    const end = iso(now + 60_000);
    let evaluated = 0;
    let deadLettered = 0;
    let blocked: string | undefined;

    const save = async () => {
      const from = iso(timeOf(through) - this.graceMs);
      const recent = [...seen].filter((s) => s >= from).sort().slice(-MAX_RECENT);
      await this.store.put('main', { ...CHECKPOINT, through, recent, ...(failures ? { failures } : {}) } satisfies CheckpointItem);
    };

    pages: for await (const page of storedAuditEventPages(this.store, start, end, 200)) {
      for (const item of page) {
        if (seen.has(item.sk)) continue;
        if (evaluated + deadLettered >= this.maxEvents) break pages;
        try {
          await this.rules.evaluate(item.event);
          evaluated++;
        } catch (e) {
          const attempts = (failures?.sk === item.sk ? failures.attempts : 0) + 1;
          this.options.onError?.(e, item.event.eventId, attempts);
          if (attempts < this.maxAttempts) {
            failures = { sk: item.sk, attempts };
            blocked = item.sk;
            break pages;
          }
          await this.store.put('main', { pk: ALERT_FEED_DEAD_LETTER_PK, sk: item.sk, eventId: item.event.eventId, attempts, at: iso(now) }, { ifNotExists: true }).catch((d: unknown) => {
            if (!isDomainError(d, 'CONFLICT')) throw d; // already set aside by an earlier run
          });
          deadLettered++;
        }
        if (failures?.sk === item.sk) failures = undefined;
        seen.add(item.sk);
        if (item.sk > through) through = item.sk;
      }
      await save();
    }
    await save();
    return { evaluated, deadLettered, through, ...(blocked ? { blocked } : {}) };
  }
}
