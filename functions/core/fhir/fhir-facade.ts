import type { Resource } from '@medplum/fhirtypes';
import { policyForLevel, type ReleasedPatient, type ResearchAccessService } from '../access/research-access-service';
import type { GrantService } from '../access/grant-service';
import type { Grant } from '../access/grant';
import { DEID_POLICY_TAG_SYSTEM, DEID_PROJECT_TAG_SYSTEM, deidentifyResource } from '../deid/deidentify-resource';
import { getPolicy } from '../deid/deid-policy';
import { isDomainError, NotFoundError, ValidationError } from '../errors';
import type { Actor } from '../identity/actor';
import type { KeyProvider } from '../ports/key-provider';
import { encodeCursor, isFhirResourceType, matchesSearch, parseSearch, patientIdOf, type FhirJson, type FhirResourceType, type ParsedSearch } from './fhir-search';

/** Reads the approved project of a grant (its request), if the caller may see it. */
export interface ProjectTitles {
  titleOf(actor: Actor, grant: Grant): Promise<string | undefined>;
}

/** One released patient of one grant, loaded and de-identified (memoized per request). */
export interface ReleasedPatientData {
  token: string;
  patient: FhirJson;
  records: FhirJson[];
  policy: { id: string; version: string };
}

/** A resource found through one grant. */
export interface GrantedResource {
  grantId: string;
  resource: FhirJson;
}

/** A searchset Bundle (R4). */
export interface SearchBundle {
  resourceType: 'Bundle';
  type: 'searchset';
  total: number;
  link: Array<{ relation: 'self' | 'next' | 'previous'; url: string }>;
  entry?: Array<{ fullUrl: string; resource: FhirJson; search: { mode: 'match' | 'include' } }>;
}

/**
 * What one caller can see through the FHIR facade during one request: the caller's usable grants
 * (holder = the caller, checked at decision time), each grant's released patients whose consent
 * still covers the purpose, and their records of the granted modalities, all de-identified by
 * the grant's data-level policy under grant-scoped pseudonyms (R-DEID-1). Everything comes from
 * {@link ResearchAccessService}; nothing here reads identified data.
 */
export class GrantedView {
  private grantsP: Promise<Grant[]> | undefined;
  private readonly patientsP = new Map<string, Promise<ReleasedPatient[]>>();
  private readonly dataP = new Map<string, Promise<ReleasedPatientData | undefined>>();

  constructor(
    readonly actor: Actor,
    private readonly access: ResearchAccessService,
    private readonly grantService: GrantService,
    private readonly keys: KeyProvider,
  ) {}

  /** The caller's grants usable now (newest first). */
  grants(): Promise<Grant[]> {
    this.grantsP ??= this.grantService.usableGrants(this.actor.id);
    return this.grantsP;
  }

  /** A usable grant of the caller by its id or its FHIR id (see {@link grantFhirId}). */
  async grant(grantId: string): Promise<Grant | undefined> {
    return (await this.grants()).find((g) => g.grantId === grantId || grantFhirId(g.grantId) === grantId);
  }

  /** Released patients of a grant, ordered by pseudonym (deterministic paging). */
  releasedPatients(grantId: string): Promise<ReleasedPatient[]> {
    let p = this.patientsP.get(grantId);
    if (!p) {
      p = this.access.search(this.actor, grantId, undefined, Number.MAX_SAFE_INTEGER).then((r) => [...r.items].sort((a, b) => a.token.localeCompare(b.token)));
      this.patientsP.set(grantId, p);
    }
    return p;
  }

  /**
   * One released patient, de-identified; `undefined` when the patient left the release (consent
   * withdrawn since). The Patient resource is built from the released, generalized facts and
   * passes through the de-identification engine like every record. `types` narrows the records
   * loaded (and de-identified) to those resource types; all of them when omitted.
   */
  patientData(grantId: string, released: ReleasedPatient, types?: readonly FhirResourceType[]): Promise<ReleasedPatientData | undefined> {
    const key = `${grantId}|${released.token}|${types ? types.join(',') : '*'}`;
    let p = this.dataP.get(key);
    if (!p) {
      p = this.loadPatient(grantId, released, types);
      this.dataP.set(key, p);
    }
    return p;
  }

  private async loadPatient(grantId: string, released: ReleasedPatient, types?: readonly FhirResourceType[]): Promise<ReleasedPatientData | undefined> {
    let view: Awaited<ReturnType<ResearchAccessService['patient']>>;
    try {
      // The facade serves no timeline: only the records it may return are de-identified.
      view = await this.access.patient(this.actor, grantId, released.token, { ...(types ? { resourceTypes: types } : {}), timeline: false });
    } catch (e) {
      if (isDomainError(e, 'NOT_FOUND')) return undefined;
      throw e;
    }
    const source: Resource = { resourceType: 'Patient', id: 'released', gender: fhirGender(released.sex), active: true };
    const { resource } = await deidentifyResource(source, { policy: getPolicy(view.policy.id), projectId: grantId, patientToken: released.token, keys: this.keys });
    return { token: released.token, patient: resource as unknown as FhirJson, records: (view.records as unknown as FhirJson[]).slice().sort(byTypeAndId), policy: view.policy };
  }

  /** Every loaded patient of a grant (optionally only some pseudonyms and record types), in pseudonym order. */
  async patientsOf(grantId: string, only?: readonly string[], types?: readonly FhirResourceType[]): Promise<ReleasedPatientData[]> {
    const released = (await this.releasedPatients(grantId)).filter((p) => !only || only.includes(p.token));
    const out: ReleasedPatientData[] = [];
    // Bounded concurrency: a release may hold thousands of patients.
    for (let i = 0; i < released.length; i += 8) {
      const batch = await Promise.all(released.slice(i, i + 8).map((p) => this.patientData(grantId, p, types)));
      for (const d of batch) if (d) out.push(d);
    }
    return out;
  }
}

/**
 * The FHIR id of a grant's Group and ResearchStudy: the grant id with `_` (not allowed in FHIR
 * ids) replaced by `-`. The grant id itself is in `identifier`.
 */
export function grantFhirId(grantId: string): string {
  return grantId.replace(/_/g, '-');
}

/** Which source sex values map to which FHIR administrative gender. */
function fhirGender(sex: string): 'male' | 'female' | 'other' | 'unknown' {
  const s = sex.toLowerCase();
  if (s === 'male' || s === 'm' || s === '男') return 'male';
  if (s === 'female' || s === 'f' || s === '女') return 'female';
  if (s === 'other') return 'other';
  return 'unknown';
}

function byTypeAndId(a: FhirJson, b: FhirJson): number {
  return a.resourceType === b.resourceType ? String(a.id).localeCompare(String(b.id)) : a.resourceType.localeCompare(b.resourceType);
}

/**
 * The FHIR R4 read/search facade (R-INT-1, R-DEID-1): permission-filtered by the caller's usable
 * grants, de-identified per grant, searchset Bundles with paging, `_include` of the patient and
 * `_summary=count`. Patients, records and their ids are grant pseudonyms, so the same person seen
 * through two grants is two unlinkable patients, as the de-identification design requires.
 */
export class FhirFacade {
  constructor(
    private readonly access: ResearchAccessService,
    private readonly grants: GrantService,
    private readonly keys: KeyProvider,
    private readonly projects?: ProjectTitles,
  ) {}

  /** A fresh per-request view for the caller. */
  view(actor: Actor): GrantedView {
    return new GrantedView(actor, this.access, this.grants, this.keys);
  }

  /** `GET [base]/[type]/[id]`: 404 when the resource does not exist or is not visible to the caller. */
  async read(actor: Actor, type: string, id: string): Promise<GrantedResource> {
    const rt = checkType(type);
    if (!/^[A-Za-z0-9\-.]{1,64}$/.test(id)) throw new ValidationError('not a FHIR id', { in: 'path', parameter: 'id', fhirCode: 'FHIR_INVALID_ID' });
    const view = this.view(actor);
    const found = await this.collect(view, rt, rt === 'Patient' ? [id] : undefined, id);
    const hit = found.find((f) => f.resource.id === id);
    if (!hit) throw new NotFoundError(`${rt}/${id}`, { resourceType: rt });
    return hit;
  }

  /**
   * `GET [base]/[type]?…`: a searchset Bundle. `query` holds every value of every parameter
   * (repeated parameters are ANDed). `selfUrl` is the request URL, the base of paging links.
   */
  async search(actor: Actor, type: string, query: Record<string, readonly string[] | undefined>, links: { base: string }): Promise<{ bundle: SearchBundle; grantIds: string[]; search: ParsedSearch }> {
    const rt = checkType(type);
    const search = parseSearch(rt, query);
    const view = this.view(actor);
    const idFilter = search.criteria.find((c) => c.type === 'id')?.anyOf;
    const all = (await this.collect(view, rt, search.patientIds, idFilter?.length === 1 ? idFilter[0] : undefined)).filter((g) => matchesSearch(g.resource, search));
    const selfQuery = queryString(query);
    const self = `${links.base}/${rt}${selfQuery ? `?${selfQuery}` : ''}`;
    const grantIds = [...new Set(all.map((g) => g.grantId))];
    if (search.summaryCount) return { bundle: { resourceType: 'Bundle', type: 'searchset', total: all.length, link: [{ relation: 'self', url: self }] }, grantIds, search };
    const page = all.slice(search.offset, search.offset + search.count);
    const link: SearchBundle['link'] = [{ relation: 'self', url: self }];
    const nextOffset = search.offset + search.count;
    if (search.count > 0 && nextOffset < all.length) link.push({ relation: 'next', url: `${links.base}/${rt}?${queryString({ ...query, _cursor: [encodeCursor(nextOffset)] })}` });
    if (search.offset > 0) link.push({ relation: 'previous', url: `${links.base}/${rt}?${queryString({ ...query, _cursor: [encodeCursor(Math.max(0, search.offset - Math.max(search.count, 1)))] })}` });
    const entry: NonNullable<SearchBundle['entry']> = page.map((g) => ({ fullUrl: `${links.base}/${rt}/${g.resource.id}`, resource: g.resource, search: { mode: 'match' } }));
    if (search.includes.length) {
      const seen = new Set<string>();
      for (const g of page) {
        const pid = patientIdOf(g.resource);
        if (!pid || seen.has(`${g.grantId}|${pid}`)) continue;
        seen.add(`${g.grantId}|${pid}`);
        const [patient] = await this.collect(view, 'Patient', [pid], undefined, g.grantId);
        if (patient) entry.push({ fullUrl: `${links.base}/Patient/${pid}`, resource: patient.resource, search: { mode: 'include' } });
      }
    }
    return { bundle: { resourceType: 'Bundle', type: 'searchset', total: all.length, link, entry }, grantIds, search };
  }

  /**
   * Every resource of a type the caller may see, in a deterministic order (grant, patient
   * pseudonym, id). `patientIds` and `id` narrow what is loaded (reading less, not filtering).
   */
  async collect(view: GrantedView, type: FhirResourceType, patientIds?: readonly string[], id?: string, onlyGrant?: string): Promise<GrantedResource[]> {
    const out: GrantedResource[] = [];
    for (const grant of await view.grants()) {
      if (onlyGrant && grant.grantId !== onlyGrant) continue;
      if (type === 'ResearchStudy' || type === 'Group') {
        // Their id is the grant id: other grants need not be loaded.
        if (id && id !== grantFhirId(grant.grantId)) continue;
        out.push({ grantId: grant.grantId, resource: type === 'Group' ? await this.group(view, grant) : await this.researchStudy(view, grant) });
        continue;
      }
      // Patients need no records; other types only their own.
      for (const p of await view.patientsOf(grant.grantId, patientIds, type === 'Patient' ? [] : [type])) {
        if (type === 'Patient') out.push({ grantId: grant.grantId, resource: p.patient });
        else for (const r of p.records) if (r.resourceType === type) out.push({ grantId: grant.grantId, resource: r });
      }
    }
    return out;
  }

  /** The grant's released cohort (R-GOV-5): members are the patients still in the release. */
  async group(view: GrantedView, grant: Grant): Promise<FhirJson> {
    const patients = await view.patientsOf(grant.grantId, undefined, []);
    return {
      resourceType: 'Group',
      id: grantFhirId(grant.grantId),
      meta: { tag: lineageTags(grant) },
      identifier: [{ system: 'https://mdrp.example.org/fhir/sid/grant', value: grant.grantId }],
      active: true,
      type: 'person',
      actual: true,
      name: `Released cohort of grant ${grant.grantId}`,
      quantity: patients.length,
      ...(patients.length ? { member: patients.map((p) => ({ entity: { reference: `Patient/${p.token}` }, period: { start: grant.startsAt, end: grant.expiresAt } })) } : {}),
    };
  }

  /** The approved project of a grant: one ResearchStudy per usable grant, enrolling its Group. */
  async researchStudy(view: GrantedView, grant: Grant): Promise<FhirJson> {
    const title = await this.projects?.titleOf(view.actor, grant).catch(() => undefined);
    return {
      resourceType: 'ResearchStudy',
      id: grantFhirId(grant.grantId),
      meta: { tag: lineageTags(grant) },
      identifier: [
        { system: 'https://mdrp.example.org/fhir/sid/grant', value: grant.grantId },
        { system: 'https://mdrp.example.org/fhir/sid/access-request', value: grant.requestId },
      ],
      ...(title ? { title } : {}),
      status: 'active',
      category: [{ coding: [{ system: 'http://purl.obolibrary.org/obo/duo.owl', code: grant.purposeCode }] }],
      period: { start: grant.startsAt, end: grant.expiresAt },
      enrollment: [{ reference: `Group/${grantFhirId(grant.grantId)}` }],
    };
  }
}

/** The grant's de-identification policy (id@version) and project, as on every released record. */
function lineageTags(grant: Grant): Array<{ system: string; code: string }> {
  const policy = getPolicy(policyForLevel(grant.dataLevel));
  return [
    { system: DEID_POLICY_TAG_SYSTEM, code: `${policy.id}@${policy.version}` },
    { system: DEID_PROJECT_TAG_SYSTEM, code: grant.grantId },
  ];
}

function checkType(type: string): FhirResourceType {
  if (!isFhirResourceType(type)) throw new ValidationError(`resource type ${type} is not served by this server`, { in: 'path', parameter: 'resourceType', fhirCode: 'FHIR_UNKNOWN_RESOURCE_TYPE' });
  return type;
}

/** A query string with stable parameter order (paging links compare equal across pages). */
function queryString(query: Record<string, readonly string[] | undefined>): string {
  const p = new URLSearchParams();
  for (const k of Object.keys(query).sort()) for (const v of query[k] ?? []) p.append(k, v);
  return p.toString();
}
