import MiniSearch from 'minisearch';
import { deidentifyResource, patientPseudonym } from '../deid/deidentify-resource';
import { getPolicy } from '../deid/deid-policy';
import { shiftFhirDate, ageBand } from '../deid/date-shift';
import { Pseudonymizer } from '../deid/pseudonym';
import { ForbiddenError, NotFoundError } from '../errors';
import type { Actor } from '../identity/actor';
import type { ResearchRecords, TimelineEvent } from '../patients/research-records';
import type { Clock } from '../ports/clock';
import type { DocumentStore, Item } from '../ports/document-store';
import type { KeyProvider } from '../ports/key-provider';
import { consentCovers } from './duo';
import { isGrantUsable, type Grant } from './grant';
import type { GrantService } from './grant-service';
import type { Resource } from '@medplum/fhirtypes';

/** What a researcher sees of a released patient: generalized facts under a project pseudonym. */
export interface ReleasedPatient {
  token: string;
  datasetId: string;
  sex: string;
  ageBand?: string;
  diagnosis?: string;
  stage?: string;
  molecularSubtype?: string;
}

export interface ReleaseSummary {
  grantId: string;
  included: number;
  /** Patients left out because their consent does not cover the purpose, by reason. */
  excluded: Record<string, number>;
  policyId: string;
  builtAt: string;
}

type ReleaseItem = Item & { patientId: string; patient: ReleasedPatient };

/** Resource types a grant's modalities expose (R-GOV-7 field/modality-level access). */
const MODALITY_TYPES: Record<string, readonly string[]> = {
  clinical: ['Condition', 'Encounter', 'Procedure', 'MedicationAdministration', 'Consent'],
  labs: ['Observation'],
  'vital-signs': ['Observation'],
  imaging: ['ImagingStudy'],
  documents: ['DiagnosticReport', 'DocumentReference'],
  nursing: ['Observation'],
};

/** The de-identification policy for a data level (R-SEC-3). */
export function policyForLevel(level: number): string {
  return level >= 4 ? 'l2-strict' : level === 3 ? 'l3-project' : 'l2-research';
}

/**
 * What a grant exposes (R-DEID-1, R-GOV-5, R-ANA-1): at issue time a release is materialized —
 * every patient of the granted datasets whose consent covers the purpose, under a pseudonym
 * scoped to the grant, with generalized search facts. Reads check the grant at decision time
 * (holder, status, expiry) and the consent again, and return data only through the
 * de-identification engine, with the grant's data-level policy and a per-patient date shift.
 */
export class ResearchAccessService {
  constructor(
    private readonly store: DocumentStore,
    private readonly grants: GrantService,
    private readonly research: ResearchRecords,
    private readonly keys: KeyProvider,
    private readonly clock: Clock,
  ) {}

  /** Builds the release of a newly issued grant (idempotent). */
  async buildRelease(grant: Grant): Promise<ReleaseSummary> {
    const existing = await this.store.get<Item & { summary: ReleaseSummary }>('main', { pk: `RELEASE#${grant.grantId}`, sk: 'SUMMARY' });
    if (existing) return existing.summary;
    const excluded: Record<string, number> = {};
    const items: ReleaseItem[] = [];
    const seen = new Set<string>();
    for (const datasetId of grant.scope.datasetIds) {
      for (const p of await this.research.profilesOf(datasetId)) {
        if (seen.has(p.patientId)) continue;
        seen.add(p.patientId);
        const c = consentCovers(p.consent, grant.purposeCode);
        if (!c.covered) {
          excluded[c.reason] = (excluded[c.reason] ?? 0) + 1;
          continue;
        }
        const token = await patientPseudonym(this.keys, grant.grantId, p.patientId);
        const age = p.ageAtDiagnosis ?? (p.birthYear ? new Date(this.clock.now()).getUTCFullYear() - p.birthYear : undefined);
        items.push({
          pk: `RELEASE#${grant.grantId}`,
          sk: `PT#${token}`,
          patientId: p.patientId,
          patient: {
            token,
            datasetId,
            sex: p.sex,
            ...(age !== undefined ? { ageBand: ageBand(age) } : {}),
            ...(p.diagnosis ? { diagnosis: `${p.diagnosis.code} ${p.diagnosis.display}`.trim() } : {}),
            ...(p.stage ? { stage: p.stage } : {}),
            ...(p.molecularSubtype ? { molecularSubtype: p.molecularSubtype } : {}),
          },
        });
      }
    }
    await this.store.batchPut('main', items);
    const summary: ReleaseSummary = { grantId: grant.grantId, included: items.length, excluded, policyId: policyForLevel(grant.dataLevel), builtAt: new Date(this.clock.now()).toISOString() };
    await this.store.put('main', { pk: `RELEASE#${grant.grantId}`, sk: 'SUMMARY', summary }, { ifNotExists: true }).catch(() => undefined);
    return summary;
  }

  async releaseSummary(actor: Actor, grantId: string): Promise<ReleaseSummary> {
    await this.usableGrant(actor, grantId);
    const s = await this.store.get<Item & { summary: ReleaseSummary }>('main', { pk: `RELEASE#${grantId}`, sk: 'SUMMARY' });
    if (!s) throw new NotFoundError('release', { grantId });
    return s.summary;
  }

  /** Fuzzy search (pseudonym, diagnosis, stage, subtype) within what one usable grant releases. */
  async search(actor: Actor, grantId: string, q: string | undefined, limit: number): Promise<{ items: ReleasedPatient[]; total: number }> {
    await this.usableGrant(actor, grantId);
    const all = await this.releaseItems(grantId);
    let hits = all.map((i) => i.patient);
    if (q?.trim()) {
      const index = new MiniSearch<ReleasedPatient & { id: string }>({ fields: ['token', 'diagnosis', 'stage', 'molecularSubtype', 'sex', 'ageBand'], idField: 'id', // Typos are tolerated only in words of 4+ characters: a short code such as "C50" must
        // not fuzzily match an age band "50-54".
        searchOptions: { fuzzy: (term: string) => (term.length >= 4 ? 0.2 : false), prefix: true, combineWith: 'AND' } });
      index.addAll(hits.map((p) => ({ ...p, id: p.token })));
      const found = new Set(index.search(q).map((r) => r.id as string));
      hits = hits.filter((p) => found.has(p.token));
    }
    return { items: hits.slice(0, limit), total: hits.length };
  }

  /** One released patient, de-identified for the grant: records of the granted modalities and the timeline. */
  async patient(actor: Actor, grantId: string, token: string): Promise<{ patient: ReleasedPatient; policy: { id: string; version: string }; records: Resource[]; timeline: Array<Omit<TimelineEvent, 'patientId' | 'annotations' | 'source'>> }> {
    const grant = await this.usableGrant(actor, grantId);
    const item = await this.store.get<ReleaseItem>('main', { pk: `RELEASE#${grantId}`, sk: `PT#${token}` });
    if (!item) throw new NotFoundError('patient', { token });
    const profile = await this.research.getProfile(item.patientId);
    // Consent withdrawn after the release: the patient disappears from it (R-DSR-2).
    if (!profile || !consentCovers(profile.consent, grant.purposeCode).covered) throw new NotFoundError('patient', { token });
    const policy = getPolicy(policyForLevel(grant.dataLevel));
    const types = new Set((grant.scope.modalities.length ? grant.scope.modalities : Object.keys(MODALITY_TYPES)).flatMap((m) => MODALITY_TYPES[m] ?? []));
    const pseudonymizer = new Pseudonymizer(this.keys, grantId);
    const records: Resource[] = [];
    for (const r of await this.research.records(item.patientId)) {
      if (!types.has(String(r.resourceType))) continue;
      const out = await deidentifyResource(r as unknown as Resource, { policy, projectId: grantId, patientToken: token, keys: this.keys, pseudonymizer });
      records.push(out.resource);
    }
    const shift = await pseudonymizer.dateOffsetDays(token, { minDays: policy.dateShift.minDays, maxDays: policy.dateShift.maxDays });
    // Record ids in the release are pseudonymized per grant; the timeline points at the same ids.
    const releasedRef = async (ref: string) => {
      const [type, id] = ref.split('/');
      return `${type}/${await pseudonymizer.token(`res:${type}`, id ?? '')}`;
    };
    const timeline = await Promise.all(
      (await this.research.timeline(item.patientId)).map(async (e) => {
        const recordRefs = await Promise.all(e.recordRefs.map(releasedRef));
        return {
          eventId: `ev-${(recordRefs[0] ?? e.eventId).replace('/', '-')}`,
          type: e.type,
          occurredAt: shiftFhirDate(e.occurredAt, shift),
          ...(e.endedAt ? { endedAt: shiftFhirDate(e.endedAt, shift) } : {}),
          title: e.title,
          recordRefs,
          fileIds: e.fileIds,
        };
      }),
    );
    return { patient: item.patient, policy: { id: policy.id, version: policy.version }, records, timeline };
  }

  private async releaseItems(grantId: string): Promise<ReleaseItem[]> {
    const out: ReleaseItem[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.query<ReleaseItem>('main', { pk: `RELEASE#${grantId}`, skPrefix: 'PT#', limit: 1000, cursor });
      out.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    return out;
  }

  /** Decision-time grant check (ARCHITECTURE D3/D4): the holder, active, within its period. */
  private async usableGrant(actor: Actor, grantId: string): Promise<Grant> {
    const grant = await this.grants.get(grantId).catch(() => undefined);
    if (!grant || grant.holderId !== actor.id) throw new NotFoundError('grant', { grantId });
    if (!isGrantUsable(grant, this.clock.now())) throw new ForbiddenError('the grant is not usable (expired, revoked or not started)', { grantId, status: grant.status, expiresAt: grant.expiresAt });
    return grant;
  }
}
