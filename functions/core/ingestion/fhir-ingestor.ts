import { createHash } from 'node:crypto';
import type { CatalogService } from '../catalog/catalog-service';
import { ConflictError, isDomainError } from '../errors';
import { WritePool } from '../in-flight';
import type { PatientIndex, PatientIdentity } from '../patients/patient-index';
import type { JobRecord, PatientProfile, ResearchRecords, TimelineEvent } from '../patients/research-records';
import type { Clock } from '../ports/clock';
import type { DocumentStore, Item, ItemKey, TransactOperation } from '../ports/document-store';
import type { FhirValidator } from '../ports/fhir-validator';
import type { IdGenerator } from '../ports/id-generator';
import type { IngestJob, RejectedItem } from './ingest-job';
import { FILES_INGESTED_TOGETHER, IngestJobs, jobLineageOf, MAX_TRANSACTION_WRITES, packTransactions, settled, type JobBase } from './ingest-support';

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

/** Writes a file's profiles may take beside its report, content marker and the dataset's counts in one transaction. */
const MAX_WRITES_WITH_REPORT = MAX_TRANSACTION_WRITES - 3;

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
    /** Record batches and transactions of one run in flight at once. */
    private readonly writeConcurrency = 4,
  ) {
    this.jobs = new IngestJobs(store, clock);
  }

  async ingest(src: FhirSource): Promise<IngestJob> {
    const [result] = await this.ingestFiles([src]);
    if (result!.status === 'rejected') throw result!.reason;
    return result!.value;
  }

  /**
   * Several source files, one job and report each (R-ING-5), as a queue batch delivers them
   * (ARCHITECTURE D8). Each institution's files run in delivery order, since a file may reference
   * the patients of the files before it; a run of up to `FILES_INGESTED_TOGETHER` of them,
   * consecutive, of one dataset and distinct in content, shares its round trips: one lookup of earlier
   * reports, one write of the jobs' lineage, record batches packed across files (the next file is
   * validated while the last one's batches are in flight), and reports, profiles and counts in
   * as few transactions as they fit. Results are in the order of `srcs`, each file's own: if a
   * shared run fails, its files run one by one.
   */
  async ingestFiles(srcs: FhirSource[]): Promise<Array<PromiseSettledResult<IngestJob>>> {
    const out: Array<PromiseSettledResult<IngestJob>> = new Array(srcs.length);
    const files = srcs.map((src) => ({ src, sha256: IngestJobs.sha256(src.bytes) }));
    // By institution (a file references only its own institution's patients), each in delivery order.
    const byInstitution = new Map<string, number[]>();
    files.forEach(({ src }, at) => byInstitution.set(src.institution, [...(byInstitution.get(src.institution) ?? []), at]));
    for (const order of byInstitution.values()) {
      for (let start = 0; start < order.length; ) {
        // Consecutive files of one dataset. The same content twice can share no run (one content
        // marker per content): a repeat starts the next run, where it finds the earlier job's report.
        const contents = new Set<string>();
        let end = start;
        const { datasetId } = files[order[start]!]!.src;
        while (end < order.length && end - start < FILES_INGESTED_TOGETHER && files[order[end]!]!.src.datasetId === datasetId && !contents.has(files[order[end]!]!.sha256)) contents.add(files[order[end++]!]!.sha256);
        const run = order.slice(start, end);
        if (run.length === 1) out[run[0]!] = await settled(() => this.alone(files[run[0]!]!));
        else {
          const committed = new Map<number, IngestJob>();
          try {
            (await this.ingestRun(run.map((at) => files[at]!), committed)).forEach((job, i) => (out[run[i]!] = { status: 'fulfilled', value: job }));
          } catch {
            // One bad file fails only itself: each file of the run whose report did not land, on its own.
            for (const [i, at] of run.entries()) {
              const job = committed.get(i);
              if (job) out[at] = { status: 'fulfilled', value: job };
              else out[at] = await settled(() => this.alone(files[at]!));
            }
          }
        }
        start = end;
      }
    }
    return out;
  }

  getJob(jobId: string): Promise<IngestJob | undefined> {
    return this.jobs.get(jobId);
  }

  /** One file as a run of its own; a concurrent run of the same file that committed first (a redelivered event) wins, and its report is returned. */
  private async alone(file: { src: FhirSource; sha256: string }): Promise<IngestJob> {
    try {
      return (await this.ingestRun([file]))[0]!;
    } catch (e) {
      const earlier = e instanceof ConflictError ? await this.jobs.previous(file.src.datasetId, file.sha256, file.src.institution) : undefined;
      if (earlier) return earlier;
      throw e;
    }
  }

  /**
   * Files of one institution and dataset, distinct in content, in order. Every record of a file
   * lands (BatchWriteItem, see `prepareFile`) before any report; then the reports with their
   * content markers, the patients' profiles and the dataset's counts commit in transactions of
   * consecutive files (rejected files' reports last, in transactions of their own, as they have
   * no marker a rerun could find); `committed` gets each file whose report has landed, so a run
   * that fails part-way is completed by running only the others again.
   * A job without its marker is run again (redelivery, re-upload) and every key is deterministic,
   * so the rerun of a run that crashed overwrites the same items and completes what it left.
   *
   * Profiles are read once per run, changed in memory and written once, with the report of the
   * first file that touched them (that file commits first, and the profile already holds what the
   * later files add, which their reruns add again idempotently). A patient who joins the dataset
   * is counted in the same transaction as the profile write that makes it a member. A file whose
   * profiles do not fit in a transaction with its report (a bulk export) writes them first; a run
   * that crashed before its report left them in the dataset already, so they are noted first
   * (`JOINS#…`, removed with the report) and the rerun counts them too.
   */
  private async ingestRun(files: Array<{ src: FhirSource; sha256: string }>, committed = new Map<number, IngestJob>()): Promise<IngestJob[]> {
    const { datasetId, institution } = files[0]!.src;
    const joinsKeys = files.map((f) => ({ pk: `JOINS#${datasetId}#${institution}#${f.sha256}`, sk: 'JOINS' }));
    const [earlier, notes] = await this.jobs.previousOfManyAnd<Item & { patients: string[] }>(
      datasetId,
      files.map((f) => f.sha256),
      institution,
      joinsKeys,
    );
    const jobs: IngestJob[] = new Array(files.length);
    const runs: FileRun[] = [];
    for (const [i, { src, sha256 }] of files.entries()) {
      if (earlier[i]) committed.set(i, (jobs[i] = earlier[i]));
      else runs.push({ i, src, base: { jobId: this.ids.next('job'), sha256, startedAt: new Date(this.clock.now()).toISOString() }, joinsKey: joinsKeys[i]!, note: notes[i] });
    }
    if (runs.length === 0) return jobs;
    // Every record of a job shares its job's lineage, stored once and landed before the first
    // record that names the job.
    const lineageSaved = this.records.saveJobLineages(runs.map((r) => jobLineageOf(r.src, r.base, FHIR_TRANSFORMATIONS)));
    lineageSaved.catch(() => undefined); // awaited before the first record batch, which rethrows
    const pool = new WritePool(this.writeConcurrency);
    try {
      return await this.writeRun(runs, jobs, committed, pool, lineageSaved);
    } finally {
      // A failed run leaves no write in flight behind it (its files may run again at once).
      await pool.drain().catch(() => undefined);
    }
  }

  /** The rest of `ingestRun`: the files prepared and written, then their commits; `committed` gets each file whose report has landed. */
  private async writeRun(runs: FileRun[], jobs: IngestJob[], committed: Map<number, IngestJob>, pool: WritePool, lineageSaved: Promise<void>): Promise<IngestJob[]> {
    const { datasetId } = runs[0]!.src;
    const writer = new RecordWriter(this.records, pool, lineageSaved);
    const drafts: ProfileDrafts = { profiles: new Map(), owners: new Map() };
    const prepared: PreparedFile[] = [];
    for (const [k, run] of runs.entries()) prepared.push(await this.prepareFile(run, k, writer, drafts));
    await writer.flush();
    await lineageSaved;

    // The patients each file adds to the dataset, each counted once: those its crashed run noted
    // that are members after this run (a noted patient whose profile write failed, and which
    // another file of that run added, is counted by the file that adds it now), then those whose
    // profile it owns and which join now.
    const updatedAt = new Date(this.clock.now()).toISOString();
    const counted = new Set<string>();
    const memberAfter = (patientId: string) => {
      const draft = drafts.profiles.get(patientId);
      return !draft || (draft.profile?.datasetIds.includes(datasetId) ?? false);
    };
    const joins = runs.map((run) => new Set((run.note?.patients ?? []).filter((p) => memberAfter(p) && !counted.has(p) && counted.add(p))));
    const fresh = runs.map(() => 0);
    const owned: PatientProfile[][] = runs.map(() => []);
    for (const [patientId, draft] of drafts.profiles) {
      if (!draft.profile || draft.profile === draft.loaded) continue;
      const k = drafts.owners.get(patientId)!;
      owned[k]!.push({ ...draft.profile, updatedAt });
      if (!draft.loaded?.datasetIds.includes(datasetId) && draft.profile.datasetIds.includes(datasetId) && !counted.has(patientId)) {
        counted.add(patientId);
        joins[k]!.add(patientId);
        fresh[k]! += 1;
      }
    }
    const commits: FileCommit[] = [];
    for (const [k, run] of runs.entries()) {
      const clearNote: TransactOperation[] = run.note ? [{ kind: 'delete', table: 'main', key: run.joinsKey }] : [];
      const profileWrites = owned[k]!.flatMap((p) => this.records.profileOperations(p));
      const withReport = profileWrites.length + clearNote.length + 1 <= MAX_WRITES_WITH_REPORT;
      if (!withReport) {
        if (fresh[k]! > 0) {
          await this.store.put('main', { ...run.joinsKey, patients: [...joins[k]!] });
          if (!run.note) clearNote.push({ kind: 'delete', table: 'main', key: run.joinsKey });
        }
        for (const profile of owned[k]!) await pool.add(() => this.records.saveProfile(profile));
      }
      const { job, operations } = this.jobs.report(run.src, run.base, prepared[k]!.counts, prepared[k]!.rejected);
      jobs[run.i] = job;
      commits.push({ k, operations: [...(withReport ? profileWrites : []), ...clearNote, ...operations], records: prepared[k]!.records, newPatients: joins[k]!.size, marked: job.counts.accepted > 0 });
    }
    await pool.drain();

    // Accepted files first, in order (a profile commits with the first file that touched it), then
    // the rejected, in transactions of their own: they have no marker for a rerun to find, so a run
    // that crashed before its last transaction has written none of them.
    const transactions = [...packTransactions(commits.filter((c) => c.marked)), ...packTransactions(commits.filter((c) => !c.marked))];
    for (const group of transactions) {
      const marked = group.filter((c) => c.marked);
      const catalogue = marked.length
        ? [this.catalog.ingestOperation(datasetId, { records: sum(marked.map((c) => c.records)), newPatients: sum(marked.map((c) => c.newPatients)), at: new Date(this.clock.now()).toISOString() })]
        : [];
      // Conditional on each content marker: a concurrent run of one of these files that
      // committed first fails this transaction, and the file, run again alone, returns its report.
      await this.store.transact([...group.flatMap((c) => c.operations), ...catalogue]);
      for (const c of group) committed.set(runs[c.k]!.i, jobs[runs[c.k]!.i]!);
    }
    return jobs;
  }

  /**
   * One file of a run: parsed, every resource validated (medplum) and rejected with a reason or
   * prepared and handed to the run's `writer`. Patients first, through the master patient index
   * (sequentially: two records of one person must meet in the index), so every other resource is
   * linked to its pseudonym.
   */
  private async prepareFile(run: FileRun, k: number, writer: RecordWriter, drafts: ProfileDrafts): Promise<PreparedFile> {
    const { src } = run;
    const rejected: RejectedItem[] = [];
    const parsed = parse(src, rejected);
    // Resources that occur once in the file are written as soon as they are validated and
    // prepared: their batches go out while the next resources are validated. A resource repeated
    // in the file (same type and source id) waits for its last version, so no two writes of the
    // file ever touch the same item and no earlier version's event is left behind.
    const occurrences = new Map<string, number>();
    for (const { resource } of parsed) occurrences.set(sourceKeyOf(resource), (occurrences.get(sourceKeyOf(resource)) ?? 0) + 1);

    const patientIds = new Map<string, string>();
    const identities = new Map<string, PatientIdentity[]>();
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
        const r = await this.index.register({ sourcePatientId: `${src.institution}/${resource.id}`, institution: src.institution, identity });
        patientIds.set(resource.id!, r.patientId);
        identities.set(r.patientId, [identity]);
        if (r.created) newPatients += 1;
        if (r.probableDuplicateOf) probableDuplicates += 1;
        const draft = await this.draftOf(drafts, r.patientId, k, r.created);
        draft.profile = this.upsertProfile(draft.profile, r.patientId, src, resource);
      } catch (e) {
        if (isDomainError(e, 'VALIDATION_FAILED')) rejected.push({ line, resourceType: 'Patient', code: 'INVALID_RESIDENT_ID', issues: ['identifier: resident ID fails the GB 11643 check'] });
        else throw e;
      }
    }

    let acceptedCount = patientIds.size;
    let timelineEvents = 0;
    const touchedPatients = new Set(patientIds.values());
    // One lookup per source patient, not per resource (bulk exports put Observations in their own file).
    const sourceLookups = new Map<string, Promise<string | undefined>>();
    // Repeated resources by item: the last version of each is written once, after the others.
    const repeated = new Map<string, JobRecord>();
    const write = async (entry: JobRecord) => {
      if (entry.event) timelineEvents += 1;
      await writer.write(entry, k);
    };
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
      const entry: JobRecord = { jobId: run.base.jobId, patientId, resource: record, sourceId: `${resource.resourceType}/${resource.id ?? `line-${line}`}`, ...(event ? { event } : {}) };
      if (occurrences.get(sourceKeyOf(resource))! > 1) {
        const key = recordKeyOf(entry);
        repeated.delete(key); // re-inserted: the last version keeps its place after the others
        repeated.set(key, entry);
      } else await write(entry);
      acceptedCount += 1;
      touchedPatients.add(patientId);
      if (resource.resourceType === 'Condition' || resource.resourceType === 'Consent') {
        const draft = await this.draftOf(drafts, patientId, k);
        if (draft.profile) draft.profile = enrichProfile(draft.profile, record);
      }
    }
    for (const entry of repeated.values()) await write(entry);
    // Reported in line order, whichever pass found them.
    rejected.sort((x, y) => x.line - y.line);
    return {
      counts: { accepted: acceptedCount, patients: touchedPatients.size, newPatients, probableDuplicates, timelineEvents },
      records: acceptedCount - patientIds.size,
      rejected,
    };
  }

  private check(resource: FhirResource): Pick<RejectedItem, 'code' | 'issues'> | undefined {
    if (!(ACCEPTED_RESOURCE_TYPES as readonly string[]).includes(resource.resourceType)) {
      return { code: 'UNSUPPORTED_RESOURCE_TYPE', issues: [`resourceType: ${String(resource.resourceType).slice(0, 64)} is not accepted`] };
    }
    if (!resource.id) return { code: 'INVALID_FHIR', issues: ['id: required for ingestion (stable source id)'] };
    const issues = this.validator.validate(resource);
    return issues.length ? { code: 'INVALID_FHIR', issues: issues.slice(0, 20) } : undefined;
  }

  /**
   * The profile draft of a patient, read from the store the first time the run needs it (a
   * patient the index just created has no profile yet: nothing to read); the file `k` that first
   * needs it owns it (see `ingestRun`).
   */
  private async draftOf(drafts: ProfileDrafts, patientId: string, k: number, created = false): Promise<ProfileDraft> {
    let draft = drafts.profiles.get(patientId);
    if (!draft) {
      const loaded = created ? undefined : await this.records.getProfile(patientId);
      draft = { loaded, profile: loaded };
      drafts.profiles.set(patientId, draft);
      drafts.owners.set(patientId, k);
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

/** A file of a run that has no earlier report: its job, and the note its crashed run left (see `ingestRun`). */
interface FileRun {
  /** Its place in the run's files. */
  i: number;
  src: FhirSource;
  base: JobBase;
  joinsKey: ItemKey;
  note: (Item & { patients: string[] }) | undefined;
}

/** What a file's job found, for its report. */
interface PreparedFile {
  counts: Omit<IngestJob['counts'], 'rejected'>;
  /** Accepted resources other than Patients (the dataset's record count). */
  records: number;
  rejected: RejectedItem[];
}

/** A patient's profile as stored when the run started (`loaded`) and as the run leaves it. */
interface ProfileDraft {
  loaded: PatientProfile | undefined;
  profile: PatientProfile | undefined;
}

/** The profiles a run changes, and which of its files (by index) first touched each. */
interface ProfileDrafts {
  profiles: Map<string, ProfileDraft>;
  owners: Map<string, number>;
}

/**
 * Records and their timeline events by BatchWriteItem, packed across the files of a run: at most
 * 25 items per call with a record and its event always in the same call, up to the pool's limit
 * of calls in flight, each call after the jobs' lineage (`lineageSaved`). Not one
 * TransactWriteItems per record+event pair: resuming after a crash does not rest on the pair
 * being atomic (see `ResearchRecords.saveJobRecords`). No call carries one item twice, and no two
 * calls in flight write the same item: a record an earlier file of the run wrote waits until that
 * write has landed, so the later file's version is the one kept.
 */
class RecordWriter {
  private batch: JobRecord[] = [];
  private items = 0;
  /** Record keys written in this run, by the file that wrote them. */
  private readonly writtenBy = new Map<string, number>();

  constructor(
    private readonly records: ResearchRecords,
    private readonly pool: WritePool,
    private readonly lineageSaved: Promise<void>,
  ) {}

  async write(entry: JobRecord, file: number): Promise<void> {
    const key = recordKeyOf(entry);
    const earlier = this.writtenBy.get(key);
    if (earlier !== undefined && earlier !== file) {
      await this.flush();
      await this.pool.drain();
      this.writtenBy.clear();
    }
    this.writtenBy.set(key, file);
    const n = entry.event ? 2 : 1;
    if (this.items + n > 25) await this.flush();
    this.batch.push(entry);
    this.items += n;
  }

  async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const full = this.batch;
    this.batch = [];
    this.items = 0;
    await this.lineageSaved;
    await this.pool.add(() => this.records.saveRecordsOfJobs(full));
    // Lets the call go out before the next resources are validated (validation never yields).
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A file's writes for the run's commit: its report and marker, and the profiles it owns when they fit beside them. */
interface FileCommit {
  /** Its place in the run's files that have no earlier report. */
  k: number;
  operations: TransactOperation[];
  records: number;
  newPatients: number;
  /** Something was accepted: the report comes with a content marker and the dataset's counts. */
  marked: boolean;
}

/** A record's item: patient, type and platform id. */
function recordKeyOf(r: JobRecord): string {
  return `${r.patientId}|${r.resource.resourceType}|${r.resource.id}`;
}

function sum(ns: number[]): number {
  return ns.reduce((a, b) => a + b, 0);
}

/** What the FHIR pipeline does to every record it writes (R-ING-6). */
const FHIR_TRANSFORMATIONS = [
  { name: 'validate-fhir-r4', version: FHIR_INGEST_VERSION },
  { name: 'pseudonymize-patient-references', version: FHIR_INGEST_VERSION },
  { name: 'scrub-known-identifiers', version: FHIR_INGEST_VERSION },
  { name: 'assign-platform-ids', version: FHIR_INGEST_VERSION },
];

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
