import { createHash } from 'node:crypto';
import pMap from 'p-map';
import { mapDrained } from '../in-flight';
import type { Clock } from '../ports/clock';
import type { DocumentStore, Item, TransactOperation } from '../ports/document-store';
import type { KeyProvider } from '../ports/key-provider';
import type { ObjectStore } from '../ports/object-store';
import type { JobLineage, Lineage } from '../ingestion/ingest-job';

/** The research-side summary of a patient: pseudonymous id and clinical facts, no identifiers. */
export interface PatientProfile {
  patientId: string;
  datasetIds: string[];
  institutions: string[];
  sex: string;
  birthYear: number;
  ageAtDiagnosis?: number;
  diagnosis?: { system: string; code: string; display: string };
  pathologyType?: string;
  stage?: string;
  molecularSubtype?: string;
  /** GA4GH DUO code of the patient's consent and whether it is in force (R-DSR-2). */
  consent: { duoCode: string; status: 'active' | 'withdrawn' | 'rejected' };
  updatedAt: string;
}

/** A record's version as read for a conditional rewrite: 0 when absent; `'unversioned'` when written before its kind was versioned. */
export type RecordVersion = number | 'unversioned';

export interface TimelineEvent {
  eventId: string;
  patientId: string;
  type: string;
  occurredAt: string;
  endedAt?: string;
  title: { zh: string; en: string };
  recordRefs: string[];
  fileIds: string[];
  source: 'ingested' | 'manual';
  annotations: Array<{ at: string; by: string; text: string }>;
}

export interface StoredFile {
  fileId: string;
  patientId: string;
  kind: string;
  contentType: string;
  fileName: string;
  sizeBytes: number;
  /** SHA-256 (hex) of the plaintext, recorded at ingest and verified on read (R-ING-4). */
  sha256: string;
  /** Key that wrapped the per-object data key (KMS key ARN in AWS). */
  keyId: string;
  objectKey: string;
  eventId?: string;
  description: { zh: string; en: string };
  datasetId: string;
  /** The patient id the object was encrypted for, when it differs (the file moved with a merge, R-MPI-2). */
  encryptedFor?: string;
}

/** A record an ingest job writes, with its timeline event if it has one (`saveRecordsOfJobs`). */
export interface JobRecord {
  jobId: string;
  patientId: string;
  resource: { resourceType: string; id?: string };
  /** `<ResourceType>/<id>` in the source system. */
  sourceId: string;
  event?: TimelineEvent;
}

/** What a record of a job with a shared lineage keeps of it (`saveJobRecords`). */
type LineageRef = Pick<Lineage, 'jobId' | 'sourceId'>;

/**
 * The research store: pseudonymous profiles, clinical records (FHIR resources whose Patient
 * references point at the pseudonym), timeline events and encrypted files. Objects are
 * envelope-encrypted per object before they reach the object store (R-ING-3, R-SEC-4).
 */
export class ResearchRecords {
  private readonly jobLineages = new Map<string, JobLineage>();

  constructor(
    private readonly store: DocumentStore,
    private readonly objects: ObjectStore,
    private readonly keys: KeyProvider,
    private readonly clock: Clock,
  ) {}

  /**
   * Writes the profile and, in the same transaction, one membership item per dataset it belongs
   * to (a copy of the profile), so a dataset's patients are one query whatever their number.
   */
  async saveProfile(profile: PatientProfile): Promise<void> {
    await this.store.transact(this.profileOperations(profile));
  }

  /** The writes of `saveProfile`, for a caller that commits them with its own (an ingest job's report). */
  profileOperations(profile: PatientProfile): TransactOperation[] {
    return [
      { kind: 'put', table: 'main', item: { pk: `PATIENT#${profile.patientId}`, sk: 'PROFILE', profile } },
      ...profile.datasetIds.map((d) => ({ kind: 'put' as const, table: 'main' as const, item: { pk: `DSMEMBER#${d}`, sk: profile.patientId, profile } })),
    ];
  }

  async getProfile(patientId: string): Promise<PatientProfile | undefined> {
    return (await this.store.get<Item & { profile: PatientProfile }>('main', { pk: `PATIENT#${patientId}`, sk: 'PROFILE' }))?.profile;
  }

  /** Profiles of one dataset's patients. */
  async profilesOf(datasetId: string): Promise<PatientProfile[]> {
    const out: PatientProfile[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.query<Item & { profile: PatientProfile }>('main', { pk: `DSMEMBER#${datasetId}`, limit: 1000, cursor });
      out.push(...page.items.map((i) => i.profile));
      cursor = page.cursor;
    } while (cursor);
    return out;
  }

  /** Bulk write of a patient's FHIR resources (already pseudonymized references). */
  async saveRecords(patientId: string, resources: Array<{ resourceType: string; id?: string }>): Promise<void> {
    await this.store.batchPut(
      'main',
      resources.map((r) => ({ pk: `PATIENT#${patientId}`, sk: `REC#${r.resourceType}#${r.id}`, resource: r })),
    );
  }

  /**
   * One accepted record with its lineage, and its timeline event if it has one, written in one
   * transaction (nothing half-written). Deterministic keys make a repeat a no-op overwrite.
   */
  async saveRecord(patientId: string, resource: { resourceType: string; id?: string }, lineage: Lineage, event?: TimelineEvent): Promise<void> {
    await this.store.transact(this.recordOperations(patientId, resource, lineage, event));
  }

  /**
   * The writes of `saveRecord`, for a caller that commits them in one transaction with its own
   * (the DICOM pipeline writes a study, its event, its files' metadata and the job report at once).
   */
  recordOperations(patientId: string, resource: { resourceType: string; id?: string }, lineage: Lineage, event?: TimelineEvent, readVersion?: RecordVersion): TransactOperation[] {
    const key = `REC#${resource.resourceType}#${resource.id}`;
    // A record merged from what was read (a study built up instance by instance) is written only
    // if nobody wrote it since: version `readVersion + 1`, conditional on `readVersion` (0: new;
    // a record from before versioning becomes version 1, on condition it still has none).
    const versioned = readVersion !== undefined ? { item: { version: readVersion === 'unversioned' ? 1 : readVersion + 1 }, options: { options: { expectedVersion: readVersion } } } : undefined;
    return [
      { kind: 'put', table: 'main', item: { pk: `PATIENT#${patientId}`, sk: key, gsi2pk: `JOBREC#${lineage.jobId}`, gsi2sk: `${patientId}#${key}`, resource, lineage, ...versioned?.item }, ...versioned?.options },
      ...(event ? [{ kind: 'put' as const, table: 'main' as const, item: { pk: `PATIENT#${patientId}`, sk: `EVT#${event.occurredAt}#${event.eventId}`, event } }] : []),
    ];
  }

  /** One timeline event by its key parts, or undefined. */
  async getEvent(patientId: string, occurredAt: string, eventId: string): Promise<TimelineEvent | undefined> {
    return (await this.store.get<Item & { event: TimelineEvent }>('main', { pk: `PATIENT#${patientId}`, sk: `EVT#${occurredAt}#${eventId}` }))?.event;
  }

  /**
   * The lineage every record of one job shares (source, file, operator, time, transformations:
   * the job as a PROV activity, like a FHIR Provenance with many targets), stored once per job.
   * Written before the job's first record, so a record never names a job whose lineage is missing.
   */
  async saveJobLineage(lineage: JobLineage): Promise<void> {
    await this.saveJobLineages([lineage]);
  }

  /** `saveJobLineage` of several jobs (the files of one queue batch) by BatchWriteItem. */
  async saveJobLineages(lineages: JobLineage[]): Promise<void> {
    await this.store.batchPut(
      'main',
      lineages.map((lineage) => ({ pk: `JOB#${lineage.jobId}`, sk: 'LINEAGE', lineage })),
    );
  }

  /**
   * Many records of one job, and the timeline event of those that have one, by BatchWriteItem;
   * each record keeps its source id and its job's id, the rest of its lineage is the job's
   * (`saveJobLineage` first). Each item is atomic, a record and its event are not written
   * atomically together. A record's event comes right after it, so a list of at most 25 items (one
   * call) has every pair in the same call. For callers whose resume does not need the pair
   * atomic: the FHIR pipeline writes its job report and content marker only after every batch has
   * landed, a job without its marker runs again, and record and event keys are deterministic, so a
   * rerun overwrites the same items and completes any pair a crash left half-written.
   */
  async saveJobRecords(jobId: string, patientRecords: Array<Omit<JobRecord, 'jobId'>>): Promise<void> {
    await this.saveRecordsOfJobs(patientRecords.map((r) => ({ ...r, jobId })));
  }

  /** `saveJobRecords` of records that name their own job: one call may carry several jobs' records (a queue batch's files). */
  async saveRecordsOfJobs(jobRecords: JobRecord[]): Promise<void> {
    await this.store.batchPut(
      'main',
      jobRecords.flatMap(({ jobId, patientId, resource, sourceId, event }) => {
        const key = `REC#${resource.resourceType}#${resource.id}`;
        const lineage: LineageRef = { jobId, sourceId };
        return [
          { pk: `PATIENT#${patientId}`, sk: key, gsi2pk: `JOBREC#${jobId}`, gsi2sk: `${patientId}#${key}`, resource, lineage },
          ...(event ? [{ pk: `PATIENT#${patientId}`, sk: `EVT#${event.occurredAt}#${event.eventId}`, event }] : []),
        ];
      }),
    );
  }


  /**
   * The instances of an imaging study, each its own item beside the study record (`DCMI#<study>#<sop>`),
   * so the record stays small however many instances a study has (DynamoDB items are at most 400 KB).
   * Strongly consistent: read after the record's version, it must see every instance committed with it.
   */
  async studyInstances<T extends { sopInstanceUid: string; seriesInstanceUid: string }>(patientId: string, studyId: string): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.query<Item & { instance: T }>('main', { pk: `PATIENT#${patientId}`, skPrefix: `DCMI#${studyId}#`, limit: 1000, cursor, consistent: true });
      out.push(...page.items.map((i) => i.instance));
      cursor = page.cursor;
    } while (cursor);
    return out;
  }

  /**
   * Imaging studies for a merge, in one round trip for all of them (plus a query per study that
   * may have instance items): each study's record with the version to pass back to
   * `recordOperations` (0: no such record; `'unversioned'`: one written before study records were
   * versioned), its timeline event, and its instances. A study without a record has instance items only if a
   * staged write began there (`studyInstancesStagedOperation`, written before them); else its
   * instances are not queried.
   */
  async studiesForUpdate<T extends { sopInstanceUid: string; seriesInstanceUid: string }>(
    studies: Array<{ patientId: string; studyId: string; event?: { occurredAt: string; eventId: string } }>,
  ): Promise<Array<{ resource: Record<string, unknown> | undefined; version: RecordVersion; event: TimelineEvent | undefined; staged: boolean; instances: T[] }>> {
    const keysOf = ({ patientId, studyId, event }: (typeof studies)[number]) => [
      { pk: `PATIENT#${patientId}`, sk: `REC#ImagingStudy#${studyId}` },
      { pk: `PATIENT#${patientId}`, sk: `DCMS#${studyId}` },
      ...(event ? [{ pk: `PATIENT#${patientId}`, sk: `EVT#${event.occurredAt}#${event.eventId}` }] : []),
    ];
    const found = await this.store.getMany<Item & { resource?: Record<string, unknown>; version?: number; event?: TimelineEvent }>('main', studies.flatMap(keysOf));
    let at = 0;
    const reads = studies.map((s) => {
      const [item, staged, eventItem] = found.slice(at, (at += keysOf(s).length));
      return { study: s, item, staged: Boolean(staged), event: s.event ? eventItem : undefined };
    });
    // Strongly consistent queries after the records were read (see `studyInstances`), a few at a time.
    return pMap(reads, async ({ study, item, staged, event }) => ({
      resource: item?.resource,
      version: item ? (item.version ?? 'unversioned') : 0,
      event: event?.event,
      staged,
      instances: item || staged ? await this.studyInstances<T>(study.patientId, study.studyId) : [],
    }), { concurrency: 8 });
  }

  /**
   * The marker a staged study write puts before its first instance item (see `studiesForUpdate`):
   * a crash before the study record then leaves instances that the next job reading the study finds.
   */
  studyInstancesStagedOperation(patientId: string, studyId: string): TransactOperation {
    return { kind: 'put', table: 'main', item: { pk: `PATIENT#${patientId}`, sk: `DCMS#${studyId}` } };
  }

  /**
   * The marker's removal, in the transaction that writes the study record: once the record exists
   * its instances are queried anyway, so the marker has done its work.
   */
  studyInstancesStagedRemoval(patientId: string, studyId: string): TransactOperation {
    return { kind: 'delete', table: 'main', key: { pk: `PATIENT#${patientId}`, sk: `DCMS#${studyId}` } };
  }

  /** The write of one study instance item (see `studyInstances`). */
  studyInstanceOperation(patientId: string, studyId: string, instance: { sopInstanceUid: string; seriesInstanceUid: string }): TransactOperation {
    return { kind: 'put', table: 'main', item: { pk: `PATIENT#${patientId}`, sk: `DCMI#${studyId}#${instance.sopInstanceUid}`, instance } };
  }

  /** One record, or undefined. */
  async getRecord(patientId: string, resourceType: string, id: string): Promise<Record<string, unknown> | undefined> {
    return (await this.store.get<Item & { resource: Record<string, unknown> }>('main', { pk: `PATIENT#${patientId}`, sk: `REC#${resourceType}#${id}` }))?.resource;
  }

  /** Metadata of one stored file (no bytes), or undefined. */
  async getFile(patientId: string, fileId: string): Promise<StoredFile | undefined> {
    return (await this.store.get<Item & { file: StoredFile }>('main', { pk: `PATIENT#${patientId}`, sk: `FILE#${fileId}` }))?.file;
  }

  /** Lineage of one record (R-ING-6): its own, or its source id with its job's. */
  async lineageOf(patientId: string, resourceType: string, id: string): Promise<Lineage | undefined> {
    const own = (await this.store.get<Item & { lineage?: Lineage | LineageRef }>('main', { pk: `PATIENT#${patientId}`, sk: `REC#${resourceType}#${id}` }))?.lineage;
    if (!own || 'fileName' in own) return own;
    const job = await this.jobLineage(own.jobId);
    return job ? { ...job, sourceId: own.sourceId } : undefined;
  }

  /** A job's shared lineage; immutable once written, so kept for the next records of the same job. */
  private async jobLineage(jobId: string): Promise<JobLineage | undefined> {
    const known = this.jobLineages.get(jobId);
    if (known) return known;
    const lineage = (await this.store.get<Item & { lineage: JobLineage }>('main', { pk: `JOB#${jobId}`, sk: 'LINEAGE' }))?.lineage;
    if (lineage) {
      if (this.jobLineages.size >= 256) this.jobLineages.delete(this.jobLineages.keys().next().value!);
      this.jobLineages.set(jobId, lineage);
    }
    return lineage;
  }

  /** Records whose current version one ingest job wrote (R-ING-6: lineage per job), a page at a time. */
  async recordsOfJob(jobId: string, page: { limit?: number; cursor?: string } = {}): Promise<{ items: Array<{ patientId: string; resourceType: string; id: string }>; cursor?: string }> {
    // gsi2 holds the keys of records only (not their resource): `REC#<type>#<id>` names the record
    // (FHIR ids and resource types never contain `#`).
    const found = await this.store.query('main', { index: 'gsi2', pk: `JOBREC#${jobId}`, limit: page.limit ?? 1000, cursor: page.cursor });
    const items = found.items.map((i) => {
      const [, resourceType = '', ...id] = i.sk.split('#');
      return { patientId: i.pk.slice('PATIENT#'.length), resourceType, id: id.join('#') };
    });
    return { items, ...(found.cursor ? { cursor: found.cursor } : {}) };
  }

  async records(patientId: string, resourceType?: string): Promise<Array<Record<string, unknown>>> {
    const page = await this.store.query<Item & { resource: Record<string, unknown> }>('main', { pk: `PATIENT#${patientId}`, skPrefix: resourceType ? `REC#${resourceType}#` : 'REC#', limit: 1000 });
    return page.items.map((i) => i.resource);
  }

  async saveTimeline(events: TimelineEvent[]): Promise<void> {
    await this.store.batchPut(
      'main',
      events.map((e) => ({ pk: `PATIENT#${e.patientId}`, sk: `EVT#${e.occurredAt}#${e.eventId}`, event: e })),
    );
  }

  async timeline(patientId: string): Promise<TimelineEvent[]> {
    const page = await this.store.query<Item & { event: TimelineEvent }>('main', { pk: `PATIENT#${patientId}`, skPrefix: 'EVT#', limit: 1000 });
    return page.items.map((i) => i.event);
  }

  /**
   * Encrypts and stores files (a fresh data key per object); their metadata keeps the plaintext
   * SHA-256 and the wrapping key id. Objects are written first, metadata last, so a crash leaves
   * at worst an unreferenced ciphertext, never metadata pointing at nothing.
   */
  async saveFiles(files: Array<{ meta: Omit<StoredFile, 'sha256' | 'keyId' | 'objectKey' | 'sizeBytes'>; bytes: Uint8Array }>, concurrency = 8): Promise<StoredFile[]> {
    const out = await this.storeObjects(files, concurrency);
    await this.store.batchPut('main', out.map(fileItem));
    return out;
  }

  /**
   * The first half of `saveFiles`: each object encrypted under its own fresh data key (never a
   * cached one, R-ING-3) and stored, up to `concurrency` at a time (a failure waits for the puts
   * in flight, see `mapDrained`); returns the metadata the caller must then write
   * (`fileOperations`) once the objects are all in place.
   */
  async storeObjects(files: Array<{ meta: Omit<StoredFile, 'sha256' | 'keyId' | 'objectKey' | 'sizeBytes'>; bytes: Uint8Array; /** Already computed over `bytes` by the caller (not hashed twice). */ sha256?: string }>, concurrency = 8): Promise<StoredFile[]> {
    return mapDrained(files, async ({ meta, bytes, ...known }) => {
      const sha256 = known.sha256 ?? createHash('sha256').update(bytes).digest('hex');
      const objectKey = `patients/${meta.patientId}/${meta.fileId}`;
      const { ciphertext, keyId } = await this.keys.encrypt('data', bytes, { patientId: meta.patientId, fileId: meta.fileId });
      await this.objects.put('data', objectKey, ciphertext, { contentType: 'application/octet-stream', metadata: { sha256, 'file-id': meta.fileId } });
      return { ...meta, sha256, keyId, objectKey, sizeBytes: bytes.byteLength };
    }, concurrency);
  }

  /** The metadata items of stored files, as writes for a transaction or a batch. */
  fileOperations(files: StoredFile[]): TransactOperation[] {
    return files.map((file) => ({ kind: 'put', table: 'main', item: fileItem(file) }));
  }

  /** Reads and decrypts a file, verifying its SHA-256 (R-ING-4). */
  async readFile(patientId: string, fileId: string): Promise<{ file: StoredFile; bytes: Uint8Array } | undefined> {
    const item = await this.store.get<Item & { file: StoredFile }>('main', { pk: `PATIENT#${patientId}`, sk: `FILE#${fileId}` });
    if (!item) return undefined;
    const obj = await this.objects.get('data', item.file.objectKey);
    if (!obj) return undefined;
    const bytes = await this.keys.decrypt('data', obj.body, { patientId: item.file.encryptedFor ?? patientId, fileId });
    if (createHash('sha256').update(bytes).digest('hex') !== item.file.sha256) throw new Error(`integrity check failed for file ${fileId}`);
    return { file: item.file, bytes };
  }

  now(): string {
    return new Date(this.clock.now()).toISOString();
  }
}

function fileItem(file: StoredFile): Item {
  return { pk: `PATIENT#${file.patientId}`, sk: `FILE#${file.fileId}`, file };
}
