import { createHash } from 'node:crypto';
import { NotFoundError, ValidationError } from '../errors';
import type { Actor } from '../identity/actor';
import type { Clock } from '../ports/clock';
import type { DocumentStore, Item } from '../ports/document-store';
import type { IdGenerator } from '../ports/id-generator';
import type { ObjectStore } from '../ports/object-store';
import { listAuditAlerts, type AuditAlert } from './audit-alert-evaluator';
import type { VerifyAuditChainResult } from './audit-chain-verifier';
import type { AuditEvent } from './audit-event';
import { storedAuditEventPages } from './stored-audit-events';

/** `2026-Q4`: the quarter a report covers (R-AUD-6: at least quarterly). */
export const REPORT_PERIOD = /^(\d{4})-Q([1-4])$/;

/** A count under a label, largest first. */
export interface Tally {
  key: string;
  count: number;
}

/** A user whose activity the report flags (denials, failures, alerts). */
export interface RiskyUser {
  actorId: string;
  kind: string;
  roles: string[];
  institution?: string;
  events: number;
  denied: number;
  failed: number;
  alerts: number;
  /** denied + failed + 5 × alerts: a simple, documented ranking, not a verdict. */
  score: number;
}

/** A data item the report flags (much accessed, or refused). */
export interface RiskyItem {
  type: string;
  id: string;
  accesses: number;
  distinctActors: number;
  denied: number;
  exports: number;
  score: number;
}

/** Everything the quarterly report states (ids and counts only, never PHI). */
export interface AuditReportData {
  period: string;
  periodStart: string;
  periodEnd: string;
  generatedAt: string;
  generatedBy: string;
  /** The deployment's whole trail; `institution` is the reporting auditor's institution. */
  scope: { stage: string; institution: string; sources: string[] };
  totals: { events: number; actors: number; success: number; failure: number; denied: number };
  byCategory: Tally[];
  byOutcome: Tally[];
  byOperation: Tally[];
  alerts: { total: number; byRule: Tally[]; bySeverity: Tally[]; items: AuditAlert[] };
  riskyUsers: RiskyUser[];
  riskyItems: RiskyItem[];
  chain: Pick<VerifyAuditChainResult, 'ok' | 'digestsChecked' | 'eventsChecked' | 'sealedThrough' | 'firstBroken'>;
}

/** The archived report's metadata (the PDF itself is in the archive bucket, Object Lock). */
export interface AuditReportRecord {
  reportId: string;
  period: string;
  periodStart: string;
  periodEnd: string;
  generatedAt: string;
  generatedBy: string;
  objectKey: string;
  bytes: number;
  sha256: string;
  totals: AuditReportData['totals'];
  alertCount: number;
}

/** Renders the report (PDF in the platform: pdfkit, in an adapter). */
export interface AuditReportRenderer {
  render(data: AuditReportData): Promise<Uint8Array>;
}

export interface AuditReportDeps {
  store: DocumentStore;
  objects: ObjectStore;
  renderer: AuditReportRenderer;
  clock: Clock;
  ids: IdGenerator;
  /** Verifies the chain over the period (the report states whether its evidence is intact). */
  verifyChain(range: { from: string; to: string }): Promise<VerifyAuditChainResult>;
  stage: string;
}

type ReportItem = Item & { report: AuditReportRecord };
const REPORTS_PK = 'AUDIT-REPORTS';
const TOP = 15;

/** [start, end) of a quarter, ISO. */
export function quarterRange(period: string): { start: string; end: string } {
  const m = REPORT_PERIOD.exec(period);
  if (!m) throw new ValidationError('period must look like 2026-Q4', { in: 'body', field: 'period' });
  const year = Number(m[1]);
  const q = Number(m[2]);
  const start = new Date(Date.UTC(year, (q - 1) * 3, 1));
  const end = new Date(Date.UTC(year, q * 3, 1));
  return { start: start.toISOString(), end: end.toISOString() };
}

/**
 * The periodic audit report (R-AUD-6): scope, period, process (chain verification), counts by
 * category / outcome / operation, findings of the alert rules, risky users and data items, and a
 * recommendations section left for the auditor. Rendered as PDF, archived with its SHA-256 in
 * the audit archive bucket (Object Lock, compliance mode, in AWS), listed and downloadable.
 * A report may be generated again for the same period (e.g. a quarter in progress); each
 * generation is a new archived object, never an overwrite.
 */
export class AuditReportService {
  constructor(private readonly d: AuditReportDeps) {}

  /** Computes the figures of a period from the stored events (one pass over the `DAY#` partitions). */
  async compile(period: string, actor: Actor): Promise<AuditReportData> {
    const { start, end } = quarterRange(period);
    const now = new Date(this.d.clock.now()).toISOString();
    if (start > now) throw new ValidationError('the period has not started yet', { in: 'body', field: 'period' });
    const byCategory = new Map<string, number>();
    const byOutcome = new Map<string, number>();
    const byOperation = new Map<string, number>();
    const users = new Map<string, RiskyUser>();
    const items = new Map<string, RiskyItem & { actors: Set<string> }>();
    const totals = { events: 0, actors: 0, success: 0, failure: 0, denied: 0 };
    for await (const page of storedAuditEventPages(this.d.store, start, end)) {
      for (const { event: e } of page) {
        totals.events++;
        totals[e.result.outcome]++;
        bump(byCategory, e.category);
        bump(byOutcome, e.result.outcome);
        bump(byOperation, e.operation);
        const u = users.get(e.actor.id) ?? { actorId: e.actor.id, kind: e.actor.kind, roles: e.actor.roles, ...(e.actor.institution ? { institution: e.actor.institution } : {}), events: 0, denied: 0, failed: 0, alerts: 0, score: 0 };
        u.events++;
        if (e.result.outcome === 'denied') u.denied++;
        if (e.result.outcome === 'failure') u.failed++;
        users.set(e.actor.id, u);
        if (e.category === 'data-access' || e.category === 'data-change') {
          for (const r of e.resources) {
            const k = `${r.type}#${r.id}`;
            const it = items.get(k) ?? { type: r.type, id: r.id, accesses: 0, distinctActors: 0, denied: 0, exports: 0, score: 0, actors: new Set<string>() };
            it.accesses++;
            it.actors.add(e.actor.id);
            if (e.result.outcome === 'denied') it.denied++;
            if (isExport(e)) it.exports++;
            items.set(k, it);
          }
        }
      }
    }
    totals.actors = users.size;
    const alertItems: AuditAlert[] = [];
    let cursor: string | undefined;
    do {
      const page = await listAuditAlerts(this.d.store, { from: start, to: new Date(Date.parse(end) - 1).toISOString(), limit: 500, cursor });
      alertItems.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    for (const a of alertItems) {
      const u = users.get(a.actorId);
      if (u) u.alerts++;
    }
    for (const u of users.values()) u.score = u.denied + u.failed + 5 * u.alerts;
    const riskyUsers = [...users.values()].filter((u) => u.score > 0).sort((a, b) => b.score - a.score || a.actorId.localeCompare(b.actorId)).slice(0, TOP);
    const riskyItems = [...items.values()]
      .map(({ actors, ...it }) => ({ ...it, distinctActors: actors.size, score: it.accesses + 3 * it.denied + 5 * it.exports + actors.size }))
      .sort((a, b) => b.score - a.score || `${a.type}#${a.id}`.localeCompare(`${b.type}#${b.id}`))
      .slice(0, TOP);
    const chain = await this.d.verifyChain({ from: start, to: end < now ? end : now });
    return {
      period,
      periodStart: start,
      periodEnd: end,
      generatedAt: now,
      generatedBy: actor.id,
      scope: { stage: this.d.stage, institution: actor.institution ?? 'platform operator', sources: ['platform audit trail (API calls, system actions, sign-in events)', 'alert rules (R-AUD-5)', 'signed digest chain (R-AUD-2)'] },
      totals,
      byCategory: tallies(byCategory),
      byOutcome: tallies(byOutcome),
      byOperation: tallies(byOperation),
      alerts: { total: alertItems.length, byRule: tallies(count(alertItems.map((a) => a.rule))), bySeverity: tallies(count(alertItems.map((a) => a.severity))), items: alertItems.slice(0, 50) },
      riskyUsers,
      riskyItems,
      chain: { ok: chain.ok, digestsChecked: chain.digestsChecked, eventsChecked: chain.eventsChecked, ...(chain.sealedThrough ? { sealedThrough: chain.sealedThrough } : {}), ...(chain.firstBroken ? { firstBroken: chain.firstBroken } : {}) },
    };
  }

  /** Compiles, renders and archives the report of `period`; returns its record. */
  async generate(period: string, actor: Actor): Promise<{ record: AuditReportRecord; data: AuditReportData }> {
    const data = await this.compile(period, actor);
    const pdf = await this.d.renderer.render(data);
    const sha256 = createHash('sha256').update(pdf).digest('hex');
    const reportId = this.d.ids.next('rpt');
    const objectKey = `audit-reports/${period}/${reportId}.pdf`;
    await this.d.objects.put('archive', objectKey, pdf, { contentType: 'application/pdf', metadata: { 'report-id': reportId, period, sha256 } });
    const record: AuditReportRecord = {
      reportId,
      period,
      periodStart: data.periodStart,
      periodEnd: data.periodEnd,
      generatedAt: data.generatedAt,
      generatedBy: actor.id,
      objectKey,
      bytes: pdf.byteLength,
      sha256,
      totals: data.totals,
      alertCount: data.alerts.total,
    };
    await this.d.store.put('audit', { pk: `REPORT#${reportId}`, sk: 'META', gsi1pk: REPORTS_PK, gsi1sk: `${data.generatedAt}#${reportId}`, report: record } satisfies ReportItem, { ifNotExists: true });
    return { record, data };
  }

  /** Archived reports, newest first. */
  async list(q: { limit: number; cursor?: string }): Promise<{ items: AuditReportRecord[]; cursor?: string }> {
    const page = await this.d.store.query<ReportItem>('audit', { index: 'gsi1', pk: REPORTS_PK, ascending: false, limit: q.limit, cursor: q.cursor });
    return { items: page.items.map((i) => i.report), ...(page.cursor ? { cursor: page.cursor } : {}) };
  }

  /** The archived PDF, checked against the SHA-256 recorded when it was generated. */
  async download(reportId: string): Promise<{ record: AuditReportRecord; pdf: Uint8Array }> {
    const item = await this.d.store.get<ReportItem>('audit', { pk: `REPORT#${reportId}`, sk: 'META' });
    if (!item) throw new NotFoundError('audit report', { reportId });
    const obj = await this.d.objects.get('archive', item.report.objectKey);
    if (!obj) throw new NotFoundError('audit report file', { reportId });
    const sha = createHash('sha256').update(obj.body).digest('hex');
    // A mismatch means the archive was altered (it is write-once): refuse rather than serve it.
    if (sha !== item.report.sha256) throw new Error(`archived report ${reportId} does not match its recorded SHA-256`);
    return { record: item.report, pdf: obj.body };
  }
}

function isExport(e: AuditEvent): boolean {
  return /download|export/i.test(e.operation);
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

function count(keys: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) bump(m, k);
  return m;
}

function tallies(m: Map<string, number>): Tally[] {
  return [...m.entries()].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}
