import { createHash } from 'node:crypto';
import type { CatalogService } from '../catalog/catalog-service';
import { isDomainError } from '../errors';
import type { PatientIndex, PatientIdentity } from '../patients/patient-index';
import type { PatientProfile, ResearchRecords, TimelineEvent } from '../patients/research-records';
import type { Clock } from '../ports/clock';
import type { DocumentStore, Item, TransactOperation } from '../ports/document-store';
import type { FhirValidator } from '../ports/fhir-validator';
import type { IdGenerator } from '../ports/id-generator';
import type { IngestJob, JobLineage, RejectedItem } from './ingest-job';
import { IngestJobs, WritePool } from './ingest-support';

/** Resource types the platform accepts (R-ING-1). */
export const ACCEPTED_RESOURCE_TYPES = [
  'Patient',
  'Encounter',
  'Condition',
  'Observation',
  'Procedure',
  'MedicationAdministration',
  'DiagnosticReport',
  'ImagingStudy',
  'DocumentReference',
  'Consent',
] as const;

/** Version of this pipeline's transformations, recorded in every record's lineage. */
export const FHIR_INGEST_VERSION = 'fhir-ingest/1.0.0';

/** Writes `IngestJobs.finish` takes beside the report, marker and counts (a transaction holds 100). */
const MAX_WRITES_WITH_REPORT = 97;

const RESIDENT_ID_SYSTEM = /cn-resident-id|2\.16\.156\.10011\.1\.3|resident/i;

export interface FhirSource {
  datasetId: string;
  institution: string;
  sourceSystem: string;
  fileName: string;
  contentType: string;
  bytes: Uint8Array;
  uploadId?: string;
  operator: string;
}

type FhirResource = { resourceType: string; id?: string; [k: string]: unknown };

/**
 * Ingestion of FHIR R4 JSON resources, Bundles (collection/transaction/batch) and NDJSON bulk
 * exports (R-ING-1, -5, -6, R-MPI-1..3):
 * - every resource is validated (medplum) and rejected with a reason, never half-written;
 * - Patients go through the master patient index: identities into the vault, only the
 *   pseudonymous id on the research side; references to patients are rewritten to it;
 * - other resources get stable platform ids (hash of institution, type and source id), so
 *   re-ingesting the same content overwrites identical items: idempotent, and resumable after a
 *   crash; a whole file already ingested (same SHA-256) is a no-op returning the earlier report;
 * - each record carries its source id and its job, whose lineage is stored once; event-like
 *   resources become timeline events, written in the same batch call as their record (not
 *   atomically with it: see `ingest`).
 */
export class FhirIngestor {
  private readonly jobs: IngestJobs;

  constructor(
    private readonly store: DocumentStore,
    private readonly index: PatientIndex,
    private readonly records: ResearchRecords,
    private readonly catalog: CatalogService,
    private readonly validator: FhirValidator,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    /** Record batches and transactions of one job in flight at once. */
    private readonly writeConcurrency = 4,
  ) {
    this.jobs = new IngestJobs(store, clock);
  }

  async ingest(src: FhirSource): Promise<IngestJob> {
    const sha256 = IngestJobs.sha256(src.bytes);
    const joinsKey = { pk: `JOINS#${src.datasetId}#${src.institution}#${sha256}`, sk: 'JOINS' };
    const [previous, crashedJoins] = await this.jobs.previousAnd<Item & { patients: string[] }>(src.datasetId, sha256, joinsKey);
    if (previous) return previous;
    const startedAt = new Date(this.clock.now()).toISOString();
    const jobId = this.ids.next('job');
    // Every record of the job shares this lineage; stored once, while the patients are indexed,
    // and landed before the first record that names the job.
    const jobLineage: JobLineage = {
      sourceSystem: src.sourceSystem,
      institution: src.institution,
      fileName: src.fileName,
      fileSha256: sha256,
      ...(src.uploadId ? { uploadId: src.uploadId } : {}),
      jobId,
      transformations: [
        { name: 'validate-fhir-r4', version: FHIR_INGEST_VERSION },
        { name: 'pseudonymize-patient-references', version: FHIR_INGEST_VERSION },
        { name: 'scrub-known-identifiers', version: FHIR_INGEST_VERSION },
        { name: 'assign-platform-ids', version: FHIR_INGEST_VERSION },
      ],
      operator: src.operator,
      at: startedAt,
    };
    const lineageSaved = this.records.saveJobLineage(jobLineage);
    lineageSaved.catch(() => undefined); // awaited before the first record batch, which rethrows
    const rejected: RejectedItem[] = [];
    const parsed = parse(src, rejected);
    // Resources that occur once in the file are written as soon as they are validated and
    // prepared: their batches go out while the next resources are validated. A resource repeated
    // in the file (same type and source id) waits for its last version, so no two writes ever
    // touch the same item and no earlier version's event is left behind.
    const occurrences = new Map<string, number>();
    for (const { resource } of parsed) occurrences.set(sourceKeyOf(resource), (occurrences.get(sourceKeyOf(resource)) ?? 0) + 1);

    // Patients first, so every other resource can be linked to its pseudonym.
    const patientIds = new Map<string, string>();
    const identities = new Map<string, PatientIdentity[]>();
    // Profiles are read once per patient, changed in memory (demographics, diagnosis, consent)
    // and written once per patient at the end: not a read-modify-write per Condition or Consent.
    const profiles = new Map<string, ProfileDraft>();
    let newPatients = 0;
    let probableDuplicates = 0;
    for (const { line, resource } of parsed) {
      if (resource.resourceType !== 'Patient') continue;
      const issues = this.check(resource);
      if (issues) {
        rejected.push({ line, resourceType: resource.resourceType, ...issues });
        continue;
      }
      const identity = identityOf(resource);
      if (!identity) {
        rejected.push({ line, resourceType: 'Patient', code: 'MISSING_PATIENT_IDENTITY', issues: ['name, gender and birthDate are required to index a patient'] });
        continue;
      }
      try {
        // Sequential on purpose: two records of one person in the same file must meet in the index.
        const r = await this.index.register({ sourcePatientId: `${src.institution}/${resource.id}`, institution: src.institution, identity });
        patientIds.set(resource.id!, r.patientId);
        identities.set(r.patientId, [identity]);
        if (r.created) newPatients += 1;
        if (r.probableDuplicateOf) probableDuplicates += 1;
        // A patient the index just created has no profile yet: nothing to read.
        const draft = r.created ? { loaded: undefined, profile: undefined } : await this.draftOf(profiles, r.patientId);
        profiles.set(r.patientId, draft);
        draft.profile = this.upsertProfile(draft.profile, r.patientId, src, resource);
      } catch (e) {
        if (isDomainError(e, 'VALIDATION_FAILED')) rejected.push({ line, resourceType: 'Patient', code: 'INVALID_RESIDENT_ID', issues: ['identifier: resident ID fails the GB 11643 check'] });
        else throw e;
      }
    }

    // Records and their timeline events by BatchWriteItem, at most 25 items per call with a record
    // and its event always in the same call, up to `writeConcurrency` calls in flight. Not one
    // TransactWriteItems per record+event pair: resuming after a crash does not rest on the pair
    // being atomic. Everything lands (`drain` rethrows the first failure) before the job report
    // and its content marker, committed last in one transaction; a job without its marker is run
    // again (redelivery, re-upload) and every key is deterministic (record: patient, type and
    // platform id; event: its time and `ev-<platform id>`), so the rerun overwrites the same items
    // and completes whatever a crash left, a record without its event or the reverse included.
    // No call carries one item twice (see `occurrences`). A job in progress was never atomic as a
    // whole (its batches were visible before its marker); what this drops is only a reader's
    // guarantee, between a crash and the rerun, that an ingested event's record exists (released
    // timelines tokenise references without resolving them).
    type Prepared = { patientId: string; resource: FhirResource; sourceId: string; event?: TimelineEvent };
    const pool = new WritePool(this.writeConcurrency);
    let chunk: Prepared[] = [];
    let items = 0;
    let timelineEvents = 0;
    const send = async () => {
      const full = chunk;
      chunk = [];
      items = 0;
      await lineageSaved;
      await pool.add(() => this.records.saveJobRecords(jobId, full));
      // Lets the call go out before the next resources are validated (validation never yields).
      await new Promise((resolve) => setImmediate(resolve));
    };
    const write = async (entry: Prepared) => {
      const n = entry.event ? 2 : 1;
      if (items + n > 25) await send();
      chunk.push(entry);
      items += n;
      if (entry.event) timelineEvents += 1;
    };

    let acceptedCount = patientIds.size;
    const touchedPatients = new Set(patientIds.values());
    // One lookup per source patient, not per resource (bulk exports put Observations in their own file).
    const sourceLookups = new Map<string, Promise<string | undefined>>();
    // Repeated resources by item: the last version of each is written once, after the others.
    const repeated = new Map<string, Prepared>();
    for (const { line, resource } of parsed) {
      if (resource.resourceType === 'Patient') continue;
      const issues = this.check(resource);
      if (issues) {
        rejected.push({ line, resourceType: resource.resourceType, ...issues });
        continue;
      }
      const subject = patientRefOf(resource);
      let patientId = subject ? patientIds.get(subject) : undefined;
      if (subject && !patientId) {
        let lookup = sourceLookups.get(subject);
        if (!lookup) sourceLookups.set(subject, (lookup = this.index.lookupSource(`${src.institution}/${subject}`)));
        patientId = await lookup;
      }
      if (!patientId) {
        rejected.push({ line, resourceType: resource.resourceType, code: 'UNKNOWN_PATIENT', issues: ['subject/patient does not reference a known patient of this institution'] });
        continue;
      }
      const platformId = platformIdOf(src.institution, resource.resourceType, resource.id ?? `line-${line}`);
      if (!identities.has(patientId)) identities.set(patientId, (await this.index.identities(patientId)).map((i) => i.identity));
      const scrubbed = scrubKnownIdentifiers(resource, identities.get(patientId)!, patientId);
      const record = { ...rewriteReferences(scrubbed, src.institution, patientIds, patientId), id: platformId };
      const event = timelineEventOf(record, patientId);
      const entry: Prepared = { patientId, resource: record, sourceId: `${resource.resourceType}/${resource.id ?? `line-${line}`}`, ...(event ? { event } : {}) };
      if (occurrences.get(sourceKeyOf(resource))! > 1) {
        const key = `${patientId}|${record.resourceType}|${platformId}`;
        repeated.delete(key); // re-inserted: the last version keeps its place after the others
        repeated.set(key, entry);
      } else await write(entry);
      acceptedCount += 1;
      touchedPatients.add(patientId);
      if (resource.resourceType === 'Condition' || resource.resourceType === 'Consent') {
        const draft = await this.draftOf(profiles, patientId);
        if (draft.profile) draft.profile = enrichProfile(draft.profile, record);
      }
    }
    for (const entry of repeated.values()) await write(entry);
    if (chunk.length) await send();
    // Reported in line order, whichever pass found them.
    rejected.sort((x, y) => x.line - y.line);
    const updatedAt = new Date(this.clock.now()).toISOString();
    const changedProfiles = [...profiles.values()].flatMap((d) => (d.profile && d.profile !== d.loaded ? [{ ...d.profile, updatedAt }] : []));
    const profileWrites = changedProfiles.flatMap((p) => this.records.profileOperations(p));
    const joined = new Set(crashedJoins?.patients ?? []);
    const fresh: string[] = [];
    for (const [patientId, draft] of profiles) {
      if (draft.profile && draft.profile !== draft.loaded && !draft.loaded?.datasetIds.includes(src.datasetId) && draft.profile.datasetIds.includes(src.datasetId) && !joined.has(patientId)) fresh.push(patientId);
    }
    // The patients this file adds to the dataset are counted with the job's report. When their
    // profiles fit in the report's transaction (a file of a few patients), they are written in it:
    // joining and counting are one step. Else the profiles go first; a run that crashed before its
    // report left them in the dataset already, so they are noted first (`JOINS#…`, removed with
    // the report) and the rerun counts them too.
    const clearNote: TransactOperation[] = crashedJoins ? [{ kind: 'delete', table: 'main', key: joinsKey }] : [];
    const withReport = profileWrites.length + clearNote.length + 1 <= MAX_WRITES_WITH_REPORT;
    fresh.forEach((id) => joined.add(id));
    if (!withReport) {
      if (fresh.length) {
        await this.store.put('main', { ...joinsKey, patients: [...joined] });
        if (!crashedJoins) clearNote.push({ kind: 'delete', table: 'main', key: joinsKey });
      }
      for (const profile of changedProfiles) await pool.add(() => this.records.saveProfile(profile));
    }
    await pool.drain();
    // Report, content marker (conditional: a concurrent run of the same file returns the winner's
    // report) and the dataset's counts in one transaction: counted once, never lost to a crash.
    const finishedAt = new Date(this.clock.now()).toISOString();
    const catalogue = this.catalog.ingestOperation(src.datasetId, { records: acceptedCount - patientIds.size, newPatients: joined.size, at: finishedAt });
    const job = await this.jobs.finish(
      src,
      { jobId, sha256, startedAt },
      { accepted: acceptedCount, patients: touchedPatients.size, newPatients, probableDuplicates, timelineEvents },
      rejected,
      [...(withReport ? profileWrites : []), ...clearNote],
      catalogue,
    );
    return job;
  }

  getJob(jobId: string): Promise<IngestJob | undefined> {
    return this.jobs.get(jobId);
  }

  private check(resource: FhirResource): Pick<RejectedItem, 'code' | 'issues'> | undefined {
    if (!(ACCEPTED_RESOURCE_TYPES as readonly string[]).includes(resource.resourceType)) {
      return { code: 'UNSUPPORTED_RESOURCE_TYPE', issues: [`resourceType: ${String(resource.resourceType).slice(0, 64)} is not accepted`] };
    }
    if (!resource.id) return { code: 'INVALID_FHIR', issues: ['id: required for ingestion (stable source id)'] };
    const issues = this.validator.validate(resource);
    return issues.length ? { code: 'INVALID_FHIR', issues: issues.slice(0, 20) } : undefined;
  }

  /** The profile draft of a patient, read from the store the first time this job needs it. */
  private async draftOf(drafts: Map<string, ProfileDraft>, patientId: string): Promise<ProfileDraft> {
    let draft = drafts.get(patientId);
    if (!draft) {
      const loaded = await this.records.getProfile(patientId);
      draft = { loaded, profile: loaded };
      drafts.set(patientId, draft);
    }
    return draft;
  }

  private upsertProfile(existing: PatientProfile | undefined, patientId: string, src: FhirSource, patient: FhirResource): PatientProfile {
    return {
      ...(existing ?? { consent: { duoCode: 'DUO:0000042', status: 'active' as const } }),
      patientId,
      datasetIds: [...new Set([...(existing?.datasetIds ?? []), src.datasetId])],
      institutions: [...new Set([...(existing?.institutions ?? []), src.institution])],
      sex: String(patient.gender ?? 'unknown'),
      birthYear: Number(String(patient.birthDate ?? '0').slice(0, 4)),
      updatedAt: new Date(this.clock.now()).toISOString(),
    };
  }
}

/** A patient's profile as stored when the job started (`loaded`) and as the job leaves it. */
interface ProfileDraft {
  loaded: PatientProfile | undefined;
  profile: PatientProfile | undefined;
}

/** Research-side facts used by search and consent matching: diagnosis, stage, consent (R-DSR-2). */
function enrichProfile(profile: PatientProfile, r: FhirResource): PatientProfile {
  if (r.resourceType === 'Condition') {
    const coding = ((r.code as { coding?: Array<{ system?: string; code?: string; display?: string }> } | undefined)?.coding ?? []).find((c) => c.code);
    const stage = (r.stage as Array<{ summary?: { text?: string; coding?: Array<{ display?: string }> } }> | undefined)?.[0]?.summary;
    return {
      ...profile,
      ...(coding && !profile.diagnosis ? { diagnosis: { system: coding.system ?? '', code: coding.code!, display: coding.display ?? '' } } : {}),
      ...(stage ? { stage: stage.text ?? stage.coding?.[0]?.display ?? profile.stage } : {}),
    };
  }
  const duo = /DUO[_:](\d{7})/.exec(JSON.stringify(r.provision ?? {}))?.[1];
  const status = r.status === 'active' ? 'active' : r.status === 'rejected' ? 'rejected' : 'withdrawn';
  return { ...profile, consent: { duoCode: duo ? `DUO:${duo}` : profile.consent.duoCode, status } };
}

function parse(src: FhirSource, rejected: RejectedItem[]): Array<{ line: number; resource: FhirResource }> {
  const text = new TextDecoder().decode(src.bytes).replace(/^\uFEFF/, '');
  if (!text.trim()) {
    rejected.push({ line: 0, code: 'EMPTY_FILE', issues: ['the file is empty'] });
    return [];
  }
  const ndjson = /ndjson/.test(src.contentType) || src.fileName.endsWith('.ndjson');
  const out: Array<{ line: number; resource: FhirResource }> = [];
  const take = (value: unknown, line: number) => {
    if (!value || typeof value !== 'object' || typeof (value as FhirResource).resourceType !== 'string') {
      rejected.push({ line, code: 'INVALID_FHIR', issues: ['resourceType: missing'] });
      return;
    }
    const r = value as FhirResource;
    if (r.resourceType === 'Bundle') {
      const entries = (r.entry as Array<{ resource?: unknown }> | undefined) ?? [];
      entries.forEach((e, i) => take(e.resource, i + 1));
    } else out.push({ line, resource: r });
  };
  if (ndjson) {
    text.split(/\r?\n/).forEach((l, i) => {
      if (!l.trim()) return;
      try {
        take(JSON.parse(l), i + 1);
      } catch {
        rejected.push({ line: i + 1, code: 'INVALID_JSON', issues: ['line is not valid JSON'] });
      }
    });
  } else {
    try {
      take(JSON.parse(text), 1);
    } catch {
      rejected.push({ line: 0, code: 'INVALID_JSON', issues: ['file is not valid JSON'] });
    }
  }
  return out;
}

/** Direct identifiers of a FHIR Patient, for the vault. Undefined when too little to index. */
function identityOf(p: FhirResource): PatientIdentity | undefined {
  const names = (p.name as Array<{ text?: string; family?: string; given?: string[] }> | undefined) ?? [];
  const n = names[0];
  const fullName = n?.text ?? [n?.family, ...(n?.given ?? [])].filter(Boolean).join('');
  if (!fullName || typeof p.gender !== 'string' || typeof p.birthDate !== 'string') return undefined;
  const ids = (p.identifier as Array<{ system?: string; value?: string; type?: { coding?: Array<{ code?: string }> } }> | undefined) ?? [];
  const byType = (code: string) => ids.find((i) => i.type?.coding?.some((c) => c.code === code))?.value;
  const telecom = (p.telecom as Array<{ system?: string; value?: string }> | undefined) ?? [];
  const address = (p.address as Array<{ text?: string; line?: string[]; city?: string; state?: string }> | undefined)?.[0];
  return {
    fullName,
    sex: (['female', 'male', 'other', 'unknown'].includes(p.gender) ? p.gender : 'unknown') as PatientIdentity['sex'],
    birthDate: p.birthDate,
    ...(ids.find((i) => RESIDENT_ID_SYSTEM.test(i.system ?? '') || i.type?.coding?.some((c) => c.code === 'NI'))?.value ? { residentId: ids.find((i) => RESIDENT_ID_SYSTEM.test(i.system ?? '') || i.type?.coding?.some((c) => c.code === 'NI'))!.value! } : {}),
    ...(byType('MR') ? { mrn: byType('MR')! } : {}),
    ...(byType('SN') ? { insuranceNumber: byType('SN')! } : {}),
    ...(telecom.find((t) => t.system === 'phone')?.value ? { phone: telecom.find((t) => t.system === 'phone')!.value! } : {}),
    ...(address ? { address: address.text ?? [address.state, address.city, ...(address.line ?? [])].filter(Boolean).join('') } : {}),
  };
}

/** A resource's identity in its source file: type and source id. */
function sourceKeyOf(r: FhirResource): string {
  return `${r.resourceType}/${r.id ?? ''}`;
}

/** The source id of the patient a resource is about (`subject` or `patient`). */
function patientRefOf(r: FhirResource): string | undefined {
  for (const key of ['subject', 'patient']) {
    const ref = (r[key] as { reference?: string } | undefined)?.reference;
    const m = ref ? /^Patient\/(.+)$/.exec(ref) : null;
    if (m) return m[1];
  }
  return undefined;
}

/**
 * Replaces the patient's own identifiers wherever a source system copied them into another
 * resource (document ids and URLs carrying the MRN, names in titles, phones in notes): ids become
 * the pseudonym, names and phones placeholders. The identity vault is the only place they stay.
 */
function scrubKnownIdentifiers<T>(value: T, identities: PatientIdentity[], patientId: string): T {
  const replacements: Array<[string, string]> = [];
  for (const id of identities) {
    for (const v of [id.residentId, id.mrn, id.insuranceNumber]) if (v && v.length >= 4) replacements.push([v, patientId]);
    if (id.phone && id.phone.length >= 7) replacements.push([id.phone, '[PHONE]']);
    if (id.fullName && id.fullName.length >= 2) replacements.push([id.fullName, '[NAME]']);
    if (id.address && id.address.length >= 6) replacements.push([id.address, '[ADDRESS]']);
  }
  replacements.sort((a, b) => b[0].length - a[0].length);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return replacements.reduce((s, [from, to]) => (s.includes(from) ? s.split(from).join(to) : s), v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/** Stable platform id of a source resource: the same source record always maps to the same id. */
export function platformIdOf(institution: string, type: string, sourceId: string): string {
  return `r-${createHash('sha256').update(`${institution}|${type}|${sourceId}`).digest('hex').slice(0, 24)}`;
}

function rewriteReferences<T>(value: T, institution: string, patients: Map<string, string>, patientId: string): T {
  if (Array.isArray(value)) return value.map((v) => rewriteReferences(v, institution, patients, patientId)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') {
        const m = /^([A-Z][A-Za-z]+)\/([^/]+)$/.exec(v);
        out[k] = !m ? v : m[1] === 'Patient' ? `Patient/${patients.get(m[2]!) ?? patientId}` : `${m[1]}/${platformIdOf(institution, m[1]!, m[2]!)}`;
      } else if (k === 'display' && typeof v === 'string' && (value as { reference?: string }).reference?.startsWith('Patient/')) {
        // A display next to a patient reference is usually the patient's name: dropped.
        continue;
      } else out[k] = rewriteReferences(v, institution, patients, patientId);
    }
    return out as T;
  }
  return value;
}

const EVENT_TYPES: Record<string, { type: string; at: (r: FhirResource) => unknown }> = {
  Encounter: { type: 'visit', at: (r) => (r.period as { start?: string } | undefined)?.start },
  Procedure: { type: 'procedure', at: (r) => r.performedDateTime ?? (r.performedPeriod as { start?: string } | undefined)?.start },
  MedicationAdministration: { type: 'medication', at: (r) => r.effectiveDateTime ?? (r.effectivePeriod as { start?: string } | undefined)?.start },
  DiagnosticReport: { type: 'report', at: (r) => r.effectiveDateTime ?? r.issued },
  ImagingStudy: { type: 'imaging', at: (r) => r.started },
  Condition: { type: 'diagnosis', at: (r) => r.onsetDateTime ?? r.recordedDate },
};

/** The timeline event a record stands for (R-ING-7), if it is event-like and dated. */
function timelineEventOf(r: FhirResource, patientId: string): TimelineEvent | undefined {
  const spec = EVENT_TYPES[r.resourceType];
  const at = spec?.at(r);
  if (!spec || typeof at !== 'string') return undefined;
  const code = (r.code ?? r.type ?? r.medicationCodeableConcept) as { text?: string; coding?: Array<{ display?: string }> } | Array<{ text?: string }> | undefined;
  const label = Array.isArray(code) ? code[0]?.text : (code?.text ?? code?.coding?.[0]?.display);
  const title = label ?? r.resourceType;
  return {
    eventId: `ev-${r.id}`,
    patientId,
    type: spec.type,
    occurredAt: new Date(at).toISOString(),
    title: { zh: title, en: title },
    recordRefs: [`${r.resourceType}/${r.id}`],
    fileIds: [],
    source: 'ingested',
    annotations: [],
  };
}
