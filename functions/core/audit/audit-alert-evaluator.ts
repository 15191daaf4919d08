import { createHash } from 'node:crypto';
import { isDomainError } from '../errors';
import type { DocumentStore, Item, QueryPage } from '../ports/document-store';
import type { Notifier } from '../ports/notifier';
import type { AuditEvent } from './audit-event';

/** The suspicious patterns watched for (R-AUD-5). */
export type AlertRule = 'failed-logins' | 'high-frequency-access' | 'bulk-access' | 'export-download' | 'permission-change' | 'off-hours-privileged';

/** One stored alert (ids only, never PHI). */
export interface AuditAlert {
  alertId: string;
  rule: AlertRule;
  severity: 'low' | 'medium' | 'high';
  /** Time of the event that raised it. */
  time: string;
  /** Start of the de-duplication window: one alert per rule, subject and window. */
  windowStart: string;
  actorId: string;
  sourceIp?: string;
  operation: string;
  eventId: string;
  /** Events counted by a rate rule, or items touched by a bulk call. */
  count?: number;
  summary: string;
}

export interface AlertRuleOptions {
  /** Failed sign-ins / 401s from one source: more than `threshold` within `windowMs` (default 5 in 5 min). */
  failedLogins?: { threshold: number; windowMs: number };
  /** Data-access events of one actor: more than `threshold` within `windowMs` (default 100 per minute). */
  highFrequency?: { threshold: number; windowMs: number };
  /** One call returning or changing more than this many items (default 1000). */
  bulkCount?: number;
  /** Operations that export or download data (default: names containing download/export). */
  exportOperation?: RegExp;
  /** Successful operations that change permissions (grant revocation, partner onboarding, key revocation…). */
  permissionOperations?: string[];
  /** Roles whose actions outside office hours are flagged. */
  privilegedRoles?: string[];
  /** Office hours in the institution's time zone (default Mon–Fri 08:00–19:00 Asia/Shanghai). */
  officeHours?: { timeZone: string; startHour: number; endHour: number; weekdays: number[] };
}

const DEFAULTS: Required<AlertRuleOptions> = {
  failedLogins: { threshold: 5, windowMs: 5 * 60_000 },
  highFrequency: { threshold: 100, windowMs: 60_000 },
  bulkCount: 1000,
  exportOperation: /download|export/i,
  permissionOperations: ['revokeGrant', 'onboardPartner', 'revokePartnerApiKey', 'assignRole', 'removeRole',
    // R-DEID-3: every step of a re-identification is a privileged disclosure decision.
    'requestReidentification', 'decideReidentificationRequest', 'viewReidentificationResult'],
  privilegedRoles: ['security-admin', 'data-manager', 'data-owner'],
  officeHours: { timeZone: 'Asia/Shanghai', startHour: 8, endHour: 19, weekdays: [1, 2, 3, 4, 5] },
};

/** The partition of the alert listing (`gsi1`), newest first by time. */
const ALERTS_GSI_PK = 'ALERTS';

/** `notified` is set once the notification went out, so a retried event can finish a failed delivery. */
type AlertItem = Item & { alert: AuditAlert; notified?: true };

/**
 * Evaluates the alert rules of R-AUD-5 on each event just written to the audit trail. Rate rules
 * count the actor's recent events through the trail's actor index (no counters to maintain).
 * Each alert is stored once per rule, subject and window (`ALERT#…` items, conditional put), and
 * only the first occurrence notifies `role:security-admin`, so a burst raises one alert.
 *
 * @example
 * const trail = new AuditTrail(documents, { alerts: new AuditAlertEvaluator(documents, notifier) });
 */
export class AuditAlertEvaluator {
  private readonly o: Required<AlertRuleOptions>;
  private readonly clockParts: Intl.DateTimeFormat;

  constructor(
    private readonly store: DocumentStore,
    private readonly notifier: Notifier,
    options: AlertRuleOptions = {},
  ) {
    this.o = { ...DEFAULTS, ...options };
    this.clockParts = new Intl.DateTimeFormat('en-US', { timeZone: this.o.officeHours.timeZone, hourCycle: 'h23', hour: 'numeric', weekday: 'short' });
  }

  /** Runs every rule on `event`; returns the alerts newly raised. */
  async evaluate(event: AuditEvent): Promise<AuditAlert[]> {
    const t = Date.parse(event.time);
    if (!Number.isFinite(t)) return [];
    const raised: AuditAlert[] = [];
    const raise = async (rule: AlertRule, severity: AuditAlert['severity'], subject: string, windowStart: number, summary: string, count?: number) => {
      const a = await this.store_(event, rule, severity, subject, windowStart, summary, count);
      if (a) raised.push(a);
    };
    const actor = event.actor.id;
    const ip = event.source.ip;

    if (isFailedSignIn(event)) {
      const { threshold, windowMs } = this.o.failedLogins;
      const n = await this.countRecent(event, windowMs, threshold, (e) => isFailedSignIn(e) && e.source.ip === ip);
      if (n >= threshold) await raise('failed-logins', 'high', `${ip ?? actor}`, floor(t, windowMs), `${n} failed sign-ins or unauthenticated calls from one source within ${windowMs / 60_000} min`, n);
    }
    if (event.category === 'data-access' && event.result.outcome === 'success') {
      const { threshold, windowMs } = this.o.highFrequency;
      const n = await this.countRecent(event, windowMs, threshold + 1, (e) => e.category === 'data-access');
      if (n > threshold) await raise('high-frequency-access', 'medium', actor, floor(t, windowMs), `more than ${threshold} data-access calls by one actor within ${windowMs / 1000} s`, n);
    }
    if ((event.category === 'data-access' || event.category === 'data-change') && (event.result.count ?? 0) > this.o.bulkCount) {
      await raise('bulk-access', 'medium', event.eventId, t, `one call touched ${event.result.count} items`, event.result.count);
    }
    if (this.o.exportOperation.test(event.operation) && event.result.outcome === 'success') {
      await raise('export-download', 'low', event.eventId, t, `data exported or downloaded (${event.operation})`);
    }
    if (this.o.permissionOperations.includes(event.operation) && event.result.outcome === 'success') {
      await raise('permission-change', 'medium', event.eventId, t, `permission change (${event.operation})`);
    }
    if (event.actor.roles.some((r) => this.o.privilegedRoles.includes(r)) && !this.inOfficeHours(t)) {
      await raise('off-hours-privileged', 'medium', actor, floor(t, 3_600_000), `privileged account active outside office hours (${event.operation})`);
    }
    return raised;
  }

  /** Mon–Fri (by default) between the start and end hour, in the institution's time zone. */
  inOfficeHours(t: number): boolean {
    const parts = this.clockParts.formatToParts(new Date(t));
    const hour = Number(parts.find((p) => p.type === 'hour')?.value);
    const day = WEEKDAYS.indexOf(parts.find((p) => p.type === 'weekday')?.value ?? '');
    const { startHour, endHour, weekdays } = this.o.officeHours;
    return weekdays.includes(day) && hour >= startHour && hour < endHour;
  }

  /** Events of the same actor in (time − window, time] matching `match`, counted up to `enough`. */
  private async countRecent(event: AuditEvent, windowMs: number, enough: number, match: (e: AuditEvent) => boolean): Promise<number> {
    const from = new Date(Date.parse(event.time) - windowMs + 1).toISOString();
    let n = 0;
    let cursor: string | undefined;
    do {
      const page: QueryPage<Item & { event: AuditEvent }> = await this.store.query('audit', {
        index: 'gsi1',
        pk: `ACTOR#${event.actor.id}`,
        skBetween: [from, `${event.time}\uffff`],
        ascending: false,
        // Only as many as could still be needed: the rule stops at `enough` (reads stay small for busy actors).
        limit: Math.min(500, Math.max(enough - n, 25)),
        cursor,
      });
      for (const it of page.items) if (match(it.event)) n++;
      cursor = n >= enough ? undefined : page.cursor;
    } while (cursor);
    return n;
  }

  private async store_(event: AuditEvent, rule: AlertRule, severity: AuditAlert['severity'], subject: string, windowStart: number, summary: string, count?: number): Promise<AuditAlert | undefined> {
    const ws = new Date(windowStart).toISOString();
    const alert: AuditAlert = {
      alertId: `alr_${createHash('sha256').update(`${rule}\u0000${subject}\u0000${ws}`).digest('hex').slice(0, 24)}`,
      rule,
      severity,
      time: event.time,
      windowStart: ws,
      actorId: event.actor.id,
      ...(event.source.ip ? { sourceIp: event.source.ip } : {}),
      operation: event.operation,
      eventId: event.eventId,
      ...(count !== undefined ? { count } : {}),
      summary,
    };
    const item: AlertItem = { pk: `ALERT#${ws.slice(0, 10)}`, sk: `${ws}#${rule}#${subject}`, gsi1pk: ALERTS_GSI_PK, gsi1sk: `${event.time}#${alert.alertId}`, alert };
    try {
      // The key is the de-duplication key: the first event of a burst wins, the rest are no-ops.
      await this.store.put('audit', item, { ifNotExists: true });
    } catch (e) {
      if (!isDomainError(e, 'CONFLICT')) throw e;
      // Already stored. Only the event that raised it may deliver it again, and only if its
      // delivery failed (the feed / stream retries that event): at least once, never per burst event.
      const existing = await this.store.get<AlertItem>('audit', { pk: item.pk, sk: item.sk });
      if (!existing || existing.notified || existing.alert.eventId !== event.eventId) return undefined;
      await this.deliver(existing);
      return existing.alert;
    }
    await this.deliver(item);
    return alert;
  }

  /** Notifies security admins, then marks the alert delivered (a retry after a partial fan-out may repeat a channel). */
  private async deliver(item: AlertItem): Promise<void> {
    const { alert } = item;
    await this.notifier.notify({
      to: 'role:security-admin',
      category: 'security-alert',
      subject: `Audit alert: ${alert.rule} (${alert.severity})`,
      body: `${alert.summary}. Actor ${alert.actorId}, operation ${alert.operation}, event ${alert.eventId}.`,
      refs: { alertId: alert.alertId, eventId: alert.eventId, rule: alert.rule },
    });
    await this.store.put('audit', { ...item, notified: true } satisfies AlertItem);
  }
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function floor(t: number, ms: number): number {
  return Math.floor(t / ms) * ms;
}

/** A failed sign-in (auth category) or any call refused as unauthenticated. */
function isFailedSignIn(e: AuditEvent): boolean {
  return e.result.status === 401 || (e.category === 'auth' && e.result.outcome !== 'success');
}

/** Alerts newest first, optionally within [from, to] (ISO). */
export async function listAuditAlerts(store: DocumentStore, q: { from?: string; to?: string; limit: number; cursor?: string }): Promise<QueryPage<AuditAlert>> {
  const page = await store.query<AlertItem>('audit', {
    index: 'gsi1',
    pk: ALERTS_GSI_PK,
    skBetween: [q.from ?? '0000', `${q.to ?? '9999'}\uffff`],
    ascending: false,
    limit: q.limit,
    cursor: q.cursor,
  });
  return { items: page.items.map((i) => i.alert), ...(page.cursor ? { cursor: page.cursor } : {}) };
}
