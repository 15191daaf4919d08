import type { Grant } from '../access/grant';
import type { Dataset } from '../catalog/dataset';
import { ValidationError } from '../errors';
import type { DocumentStore, Item } from '../ports/document-store';
import type { AuditEvent } from './audit-event';

/** One access to an institution's data, as a data provider sees it (R-AUD-4, R-GOV-6). */
export interface DataAccessEntry {
  eventId: string;
  time: string;
  operation: string;
  category: AuditEvent['category'];
  actor: { kind: string; id: string; roles: string[]; institution?: string };
  outcome: AuditEvent['result']['outcome'];
  status: number;
  count?: number;
  /** How the event was tied to the institution's data. */
  via: 'dataset' | 'grant' | 'patient';
  /** The grant the access went through, if any. */
  grantId?: string;
  requestId?: string;
  /** The institution's datasets the event concerns (never another institution's). */
  datasetIds: string[];
  /** Grant-scoped pseudonym of the institution's patient that was read, if one was. */
  patientToken?: string;
}

/** A grant that covers some of the institution's datasets (R-GOV-6: who holds a permission on my data). */
export interface CoveringGrant {
  grantId: string;
  requestId: string;
  holderId: string;
  holderName: string;
  holderInstitution: string;
  status: Grant['status'];
  startsAt: string;
  expiresAt: string;
  datasetIds: string[];
}

export interface InstitutionAccessQuery {
  institution: string;
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
}

export interface InstitutionAccessPage {
  items: DataAccessEntry[];
  grants: CoveringGrant[];
  cursor?: string;
}

/** What the log needs from the catalogue, grants and research records (narrow, testable). */
export interface InstitutionAccessSources {
  listDatasets(): Promise<Dataset[]>;
  listGrants(): Promise<Grant[]>;
  /** Institutions that contributed a patient (by pseudonymous patient id). */
  patientInstitutions(patientId: string): Promise<string[] | undefined>;
  /** Institutions whose patients a pooled dataset holds. */
  datasetInstitutions(datasetId: string): Promise<string[]>;
}

type AuditItem = Item & { event: AuditEvent; gsi2sk: string };
type ReleaseItem = Item & { patientId: string; patient: { datasetId: string } };

/**
 * "Who accessed my data" for a data provider or data owner (R-AUD-4, R-GOV-6).
 *
 * Mapping of audit events to an institution's data (documented in docs/audit.md):
 * - its datasets are those the catalogue lists with `institution` = the caller's institution, plus
 *   pooled ("multi-institution") datasets holding at least one of its patients;
 * - an event belongs to it when it names one of those datasets (catalogue reads, access requests
 *   whose scope names them, uploads and ingestion into them) — found through the trail's item
 *   index (`RES#Dataset#<id>`), or
 * - when it names a grant whose scope covers one of those datasets (release summary, search,
 *   patient reads, revocation) — through `RES#Grant#<id>`; a read of one released patient counts
 *   only when that patient (grant-scoped token → release item → patient profile) came from the
 *   institution, so a pooled grant does not show one hospital the other's patient reads.
 * Another institution's dataset ids are removed from every entry, and no event that touches only
 * another institution's data is ever returned.
 *
 * Pages are newest first; the cursor is the position of the last event of the page, and each
 * page is a k-way merge of the per-item index queries (each asked for `limit` events below the
 * cursor, so the first `limit` of the union are exactly the next page).
 */
export class InstitutionAccessLog {
  constructor(
    private readonly store: DocumentStore,
    private readonly sources: InstitutionAccessSources,
  ) {}

  async query(q: InstitutionAccessQuery): Promise<InstitutionAccessPage> {
    const mine = await this.datasetsOf(q.institution);
    const grants = (await this.sources.listGrants())
      .map((g) => ({ g, ds: g.scope.datasetIds.filter((d) => mine.has(d)) }))
      .filter((x) => x.ds.length > 0);
    const covering: CoveringGrant[] = grants.map(({ g, ds }) => ({
      grantId: g.grantId,
      requestId: g.requestId,
      holderId: g.holderId,
      holderName: g.holderName,
      holderInstitution: g.institution,
      status: g.status,
      startsAt: g.startsAt,
      expiresAt: g.expiresAt,
      datasetIds: ds,
    }));
    const grantDatasets = new Map(grants.map(({ g, ds }) => [g.grantId, ds]));

    const lower = q.from ?? '0000';
    const after = q.cursor ? decodeCursor(q.cursor) : undefined;
    if (q.cursor && !after) throw new ValidationError('invalid cursor', { in: 'query', field: 'cursor' });
    const upper = after ?? `${q.to ?? '9999'}\uffff`;
    const keys = [...[...mine].map((d) => `RES#Dataset#${d}`), ...[...grantDatasets.keys()].map((g) => `RES#Grant#${g}`)];

    const fetched = new Map<string, AuditItem>();
    let truncated = false;
    for (const pk of keys) {
      // limit + 1: the event at the cursor itself (inclusive bound) is dropped below.
      const page = await this.store.query<AuditItem>('audit', { index: 'gsi2', pk, skBetween: [lower, upper], ascending: false, limit: q.limit + 1 });
      const below = page.items.filter((i) => !after || i.gsi2sk < after);
      if (page.cursor || below.length > q.limit) truncated = true;
      for (const it of below.slice(0, q.limit)) if (!fetched.has(it.event.eventId)) fetched.set(it.event.eventId, it);
    }
    const ordered = [...fetched.values()].sort((a, b) => (a.gsi2sk < b.gsi2sk ? 1 : a.gsi2sk > b.gsi2sk ? -1 : 0));
    const window = ordered.slice(0, q.limit);
    const more = truncated || ordered.length > q.limit;

    const items: DataAccessEntry[] = [];
    for (const it of window) {
      const entry = await this.entryFor(it.event, q.institution, mine, grantDatasets);
      if (entry) items.push(entry);
    }
    const last = window[window.length - 1];
    return { items, grants: covering, ...(more && last ? { cursor: encodeCursor(last.gsi2sk) } : {}) };
  }

  /** The institution's datasets: its own, and pooled ones that hold its patients. */
  private async datasetsOf(institution: string): Promise<Set<string>> {
    const out = new Set<string>();
    for (const d of await this.sources.listDatasets()) {
      if (d.institution === institution) out.add(d.datasetId);
      else if (d.institution === 'multi-institution' && (await this.sources.datasetInstitutions(d.datasetId)).includes(institution)) out.add(d.datasetId);
    }
    return out;
  }

  private async entryFor(e: AuditEvent, institution: string, mine: Set<string>, grantDatasets: Map<string, string[]>): Promise<DataAccessEntry | undefined> {
    const datasetIds = new Set(e.resources.filter((r) => r.type === 'Dataset' && mine.has(r.id)).map((r) => r.id));
    const grant = e.resources.find((r) => r.type === 'Grant' && grantDatasets.has(r.id));
    const patient = e.resources.find((r) => r.type === 'Patient');
    let via: DataAccessEntry['via'] = 'dataset';
    let patientToken: string | undefined;
    if (grant) {
      for (const d of grantDatasets.get(grant.id)!) datasetIds.add(d);
      via = 'grant';
      if (patient) {
        // One released patient: only if that patient is this institution's.
        const release = await this.store.get<ReleaseItem>('main', { pk: `RELEASE#${grant.id}`, sk: `PT#${patient.id}` });
        const insts = release ? await this.sources.patientInstitutions(release.patientId) : undefined;
        // Another institution's patient (pooled grant): not this institution's access.
        if (!insts?.includes(institution)) return undefined;
        via = 'patient';
        patientToken = patient.id;
      }
    }
    if (datasetIds.size === 0) return undefined;
    const requestId = e.resources.find((r) => r.type === 'AccessRequest')?.id;
    return {
      eventId: e.eventId,
      time: e.time,
      operation: e.operation,
      category: e.category,
      actor: { kind: e.actor.kind, id: e.actor.id, roles: e.actor.roles, ...(e.actor.institution ? { institution: e.actor.institution } : {}) },
      outcome: e.result.outcome,
      status: e.result.status,
      ...(e.result.count !== undefined ? { count: e.result.count } : {}),
      via,
      ...(grant ? { grantId: grant.id } : {}),
      ...(requestId ? { requestId } : {}),
      datasetIds: [...datasetIds].sort(),
      ...(patientToken ? { patientToken } : {}),
    };
  }
}

function encodeCursor(sk: string): string {
  return Buffer.from(JSON.stringify({ b: sk }), 'utf8').toString('base64url');
}

function decodeCursor(c: string): string | undefined {
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as { b?: unknown };
    return typeof v.b === 'string' ? v.b : undefined;
  } catch {
    return undefined;
  }
}
