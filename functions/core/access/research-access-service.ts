import { deidentifyResource, patientPseudonym } from '../deid/deidentify-resource';
import { getPolicy } from '../deid/deid-policy';
import { ageBand } from '../deid/date-shift';
import { Pseudonymizer } from '../deid/pseudonym';
import { GrantWatermark } from '../deid/watermark';
import type { Authorizer } from '../authz/authorizer';
import { ForbiddenError, NotFoundError } from '../errors';
import type { Actor } from '../identity/actor';
import type { ResearchRecords } from '../patients/research-records';
import { patientFiles, readCuratedTimeline } from '../patients/timeline-curation';
import { releaseTimeline, type ReleaseContext, type ReleasedTimelineEvent } from './released-timeline';
import type { Clock } from '../ports/clock';
import type { DocumentStore, Item } from '../ports/document-store';
import type { KeyProvider } from '../ports/key-provider';
import { consentCovers } from './duo';
import { ReleaseIndexCache, ReleaseSearchIndex } from './release-search-index';
import { grantResource, isGrantUsable, type Grant } from './grant';
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
    /** Decides each read with the grant's data level in the context (R-SEC-6: MFA for L4/L5). */
    private readonly authorizer?: Authorizer,
    /** Partition indexes of recently searched grants (this instance's memory). */
    private readonly indexes = new ReleaseIndexCache(),
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

  /**
   * Fuzzy search (pseudonym, diagnosis, stage, subtype) within what one usable grant releases.
   * The grant's partition index is cached per instance (keyed by the release's build time), so a
   * query touches only the grant's patients and does not rebuild the index (ARCHITECTURE D7).
   */
  async search(actor: Actor, grantId: string, q: string | undefined, limit: number): Promise<{ items: ReleasedPatient[]; total: number }> {
    await this.usableGrant(actor, grantId);
    const summary = await this.store.get<Item & { summary: ReleaseSummary }>('main', { pk: `RELEASE#${grantId}`, sk: 'SUMMARY' });
    const load = async () => (await this.releaseItems(grantId)).map((i) => i.patient);
    const index = summary ? await this.indexes.get(grantId, summary.summary.builtAt, load) : new ReleaseSearchIndex(await load());
    const hits = index.search(q) as ReleasedPatient[];
    return { items: hits.slice(0, limit), total: hits.length };
  }

  /**
   * One released patient, de-identified for the grant: records of the granted modalities and the
   * timeline. `only.resourceTypes` narrows the records to those types (intersected with the grant's
   * modalities) and `only.timeline: false` skips the timeline, so a caller that needs one type
   * (the FHIR facade) de-identifies only what it returns.
   */
  async patient(
    actor: Actor,
    grantId: string,
    token: string,
    only: { resourceTypes?: readonly string[]; timeline?: boolean } = {},
  ): Promise<{ patient: ReleasedPatient; policy: { id: string; version: string }; records: Resource[]; timeline: ReleasedTimelineEvent[] }> {
    const grant = await this.usableGrant(actor, grantId);
    const item = await this.store.get<ReleaseItem>('main', { pk: `RELEASE#${grantId}`, sk: `PT#${token}` });
    if (!item) throw new NotFoundError('patient', { token });
    const profile = await this.research.getProfile(item.patientId);
    // Consent withdrawn after the release: the patient disappears from it (R-DSR-2).
    if (!profile || !consentCovers(profile.consent, grant.purposeCode).covered) throw new NotFoundError('patient', { token });
    const policy = getPolicy(policyForLevel(grant.dataLevel));
    const granted = (grant.scope.modalities.length ? grant.scope.modalities : Object.keys(MODALITY_TYPES)).flatMap((m) => MODALITY_TYPES[m] ?? []);
    const types = new Set(only.resourceTypes ? granted.filter((t) => only.resourceTypes!.includes(t)) : granted);
    // R-DEID-6 / R-SEC-3: level-3 (and stricter) data carries the grant's keyed watermark.
    const watermark = watermarkOf(this.keys, grant);
    const pseudonymizer = new Pseudonymizer(this.keys, grantId, watermark);
    const records: Resource[] = [];
    for (const r of types.size ? await this.research.records(item.patientId) : []) {
      if (!types.has(String(r.resourceType))) continue;
      const out = await deidentifyResource(r as unknown as Resource, { policy, projectId: grantId, patientToken: token, keys: this.keys, pseudonymizer, ...(watermark ? { watermark } : {}) });
      records.push(out.resource);
    }
    const shift = await pseudonymizer.dateOffsetDays(token, { minDays: policy.dateShift.minDays, maxDays: policy.dateShift.maxDays });
    // Record and file ids in the release are pseudonymized per grant; the timeline points at the
    // same ids. Curated events and scrubbed annotations are part of it (R-ANA-2).
    if (only.timeline === false) return { patient: item.patient, policy: { id: policy.id, version: policy.version }, records, timeline: [] };
    const timeline = await releaseTimeline(await readCuratedTimeline(this.store, this.research, item.patientId), await patientFiles(this.store, item.patientId), {
      policy,
      pseudonymizer,
      shiftDays: shift,
      modalities: grant.scope.modalities,
      patientId: item.patientId,
      patientToken: token,
    });
    return { patient: item.patient, policy: { id: policy.id, version: policy.version }, records, timeline };
  }

  /**
   * The released patient behind a grant token, checked like {@link patient} (holder, grant usable
   * now, patient in the release, consent still covering the purpose), with what de-identifying
   * its data needs. Used by inline previews (R-ANA-2).
   */
  async releasedContext(actor: Actor, grantId: string, token: string): Promise<ReleaseContext & { grant: Grant }> {
    const grant = await this.usableGrant(actor, grantId);
    const item = await this.store.get<ReleaseItem>('main', { pk: `RELEASE#${grantId}`, sk: `PT#${token}` });
    if (!item) throw new NotFoundError('patient', { token });
    const profile = await this.research.getProfile(item.patientId);
    if (!profile || !consentCovers(profile.consent, grant.purposeCode).covered) throw new NotFoundError('patient', { token });
    const policy = getPolicy(policyForLevel(grant.dataLevel));
    // The watermark marks DICOM UIDs of previews as it marks ImagingStudy UIDs of the records.
    const pseudonymizer = new Pseudonymizer(this.keys, grantId, watermarkOf(this.keys, grant));
    const shiftDays = await pseudonymizer.dateOffsetDays(token, { minDays: policy.dateShift.minDays, maxDays: policy.dateShift.maxDays });
    return { grant, policy, pseudonymizer, shiftDays, modalities: grant.scope.modalities, patientId: item.patientId, patientToken: token };
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
    const d = this.authorizer?.decide({ actor, action: 'ReadResearchData', resource: grantResource(grant), context: { dataLevel: grant.dataLevel } });
    if (d && d.effect !== 'allow') {
      const mfa = d.policyIds.some((id) => id.startsWith('mfa-required'));
      const machine = d.policyIds.includes('sensitive-data-never-to-partner-systems');
      const message = mfa ? `data of level ${grant.dataLevel} is read only in a multi-factor authenticated session` : machine ? `data of level ${grant.dataLevel} is never released to partner systems` : 'access denied';
      const reason = mfa ? { reason: 'MFA_REQUIRED', dataLevel: grant.dataLevel } : machine ? { reason: 'NOT_FOR_PARTNER_SYSTEMS', dataLevel: grant.dataLevel } : {};
      throw new ForbiddenError(message, { grantId, policyIds: d.policyIds, ...reason });
    }
    return grant;
  }
}

/** The keyed watermark that level-3 (and stricter) releases of a grant carry (R-DEID-6). */
function watermarkOf(keys: KeyProvider, grant: Grant): GrantWatermark | undefined {
  return grant.dataLevel >= 3 ? new GrantWatermark(keys, grant.grantId) : undefined;
}
