import type { CatalogService } from '../catalog/catalog-service';
import { ConflictError } from '../errors';
import { mapDrained, WritePool } from '../in-flight';
import type { PatientIndex } from '../patients/patient-index';
import type { RecordVersion, ResearchRecords, StoredFile, TimelineEvent } from '../patients/research-records';
import type { TransactOperation } from '../ports/document-store';
import type { Clock } from '../ports/clock';
import type { IdGenerator } from '../ports/id-generator';
import { ArchiveRejected, type ArchiveLimits, type ArchiveReader } from '../ports/archive-reader';
import { DicomParseError, parseDicom, renderPreview, type DicomSummary } from './dicom-image';
import { platformIdOf } from './fhir-ingestor';
import type { IngestJob, Lineage, RejectedItem } from './ingest-job';
import { fileIdOf, IngestJobs, FILES_INGESTED_TOGETHER, jobLineageOf, MAX_TRANSACTION_WRITES, packTransactions, settled, wholeFile, type IngestSource, type JobBase } from './ingest-support';
import { localToUtc } from './local-time';

/** Version of the DICOM pipeline, recorded in lineage. */
export const DICOM_INGEST_VERSION = 'dicom-ingest/1.0.0';

/** Content types of a zipped study (or any zip of DICOM Part 10 files). */
export const ZIP_CONTENT_TYPES = ['application/zip', 'application/x-zip-compressed'] as const;

/**
 * Zip bomb limits of a study archive (R-ING-5): a CT study is a few hundred to a few thousand
 * instances of well under 64 MiB each; DICOM compresses moderately, so ratios over 100:1 on
 * entries over 1 MiB are not a real study.
 */
export const STUDY_ZIP_LIMITS: ArchiveLimits = { maxEntries: 5000, maxEntryBytes: 64 * 1024 * 1024, maxTotalBytes: 1024 * 1024 * 1024, maxRatio: 100 };

/** Archive entries parsed and matched together (one patient lookup and one read of new studies each). */
const ARCHIVE_MATCH_CHUNK = 100;

/**
 * What the instances of one job share (one instance for a single file, every entry of a study
 * archive): patient lookups and study records are read once, merged in memory, and written once
 * at the end with the job report; objects of one SOP instance are written one after another.
 */
interface InstanceBatch {
  studies: Map<string, StudyState>;
  /** Metadata of the objects stored, by file id (a repeated instance: the object written last). */
  files: Map<string, StoredFile>;
  /** The object writes of each SOP instance, chained so its object and metadata always agree. */
  objectWrites: Map<string, Promise<unknown>>;
  /** The instances this job stored, by SOP instance UID (the bytes the archive or file already holds). */
  instances: Map<string, BatchInstance>;
  /** SOP instances whose preview an earlier attempt of this job stored (kept, so no object is left without metadata). */
  previewedBefore: ReadonlySet<string>;
}

interface BatchInstance {
  studyKey: string;
  seriesInstanceUid: string;
  instanceNumber?: number;
  bytes: Uint8Array;
  patientId: string;
  eventId: string;
  label: string;
}

/** An instance parsed and matched to its patient: what `storeInstance` stores and merges into its study. */
interface MatchedInstance {
  bytes: Uint8Array;
  /** Index of the archive entry; 0 for a single file. */
  entry: number;
  summary: DicomSummary;
  patientId: string;
  studyId: string;
  studyKey: string;
  eventId: string;
  occurredAt?: string;
}

interface StudyState {
  patientId: string;
  studyId: string;
  /** The study record, its instances (SOP UID → series UID) and event as stored before this job, read with the job's other studies. */
  stored: Promise<{ record: ImagingStudyRecord | undefined; version: RecordVersion; event: TimelineEvent | undefined; /** A staged write's marker is there (see `ResearchRecords.studiesForUpdate`). */ staged: boolean; instances: Map<string, string>; /** Instances listed inline in an older record (no items of their own): written as items when the record is rewritten without them. */ inline: StudyInstance[] }>;
  /** The instances this job brings to the study, by SOP instance UID (the last one of a repeated UID). */
  added: Map<string, StudyInstance>;
  /** Every instance of the study after this job: SOP instance UID → series instance UID. */
  all?: Map<string, string>;
  merged: boolean;
  record?: ImagingStudyRecord;
  event?: TimelineEvent;
  existedBefore: boolean;
  lineage?: Lineage;
}

/** An accepted single file of a queue batch: its index among the batch's files, and its instance. */
interface WaveFile {
  i: number;
  match: MatchedInstance;
}

/**
 * A queue batch's accepted files in waves of whole studies, in the order their studies first
 * appear, each wave as large as one transaction can commit: per study, file metadata and an
 * instance item per instance, a preview per series, its record, event and marker removal, and a
 * report and content marker per file; one write left for the dataset's counts. A study too large
 * for one transaction is a wave of its own (committed in stages). A SOP instance UID found in two
 * studies (a malformed export) keeps all files in one wave, where its object writes are chained.
 */
function wavesOf(files: WaveFile[]): WaveFile[][] {
  const byStudy = new Map<string, WaveFile[]>();
  const studyOfSop = new Map<string, string>();
  for (const f of files) {
    const { studyKey, summary } = f.match;
    if ((studyOfSop.get(summary.sopInstanceUid) ?? studyKey) !== studyKey) return [files];
    studyOfSop.set(summary.sopInstanceUid, studyKey);
    const members = byStudy.get(studyKey);
    if (members) members.push(f);
    else byStudy.set(studyKey, [f]);
  }
  const waves: WaveFile[][] = [];
  let writes = 0;
  for (const members of byStudy.values()) {
    const count = (key: (s: DicomSummary) => string) => new Set(members.map((f) => key(f.match.summary))).size;
    const study = 2 * count((s) => s.sopInstanceUid) + count((s) => s.seriesInstanceUid) + 3 + 2 * members.length;
    if (waves.length === 0 || writes + study >= MAX_TRANSACTION_WRITES) {
      waves.push([]);
      writes = 0;
    }
    waves.at(-1)!.push(...members);
    writes += study;
  }
  return waves;
}

const newBatch = (previewedBefore: ReadonlySet<string>): InstanceBatch => ({ studies: new Map(), files: new Map(), objectWrites: new Map(), instances: new Map(), previewedBefore });

/**
 * Attempts of a job that keeps losing the study-record race: one per job that can run beside it
 * (an SQS batch holds at most 10); past that the error returns the event to its queue.
 */
const MAX_MERGE_ATTEMPTS = 10;

/** Files a zip tool adds beside the study: skipped, not rejected. */
const ZIP_NOISE = /(^|\/)(__MACOSX\/|\.DS_Store$|Thumbs\.db$|DICOMDIR$)/i;

/** One instance of a study, stored as its own item beside the study record (no patient attributes). */
export interface StudyInstance {
  sopInstanceUid: string;
  seriesInstanceUid: string;
  sopClassUid: string;
  instanceNumber?: number;
  rows: number;
  columns: number;
  frames: number;
  bitsAllocated: number;
  bitsStored: number;
  photometricInterpretation: string;
  transferSyntaxUid: string;
  fileId: string;
}

/** A series as the study record lists it: its instances are counted here and stored as items of their own. */
interface StudySeries {
  seriesInstanceUid: string;
  modality: string;
  number?: number;
  description?: string;
  bodySite?: string;
  numberOfInstances: number;
  /** The series' preview (a PNG of its representative instance's middle frame). */
  previewFileId?: string;
}

/** The research record of a study: an ImagingStudy-like summary, built up instance by instance. */
export interface ImagingStudyRecord {
  resourceType: 'ImagingStudy';
  id: string;
  status: 'available';
  subject: { reference: string };
  studyInstanceUid: string;
  started?: string;
  description?: string;
  modality: string[];
  numberOfSeries: number;
  numberOfInstances: number;
  series: StudySeries[];
}

/**
 * Ingestion of DICOM Part 10 instances (R-ING-1, -3, -4, -5, -6, -7):
 * - the file must be Part 10 with pixel data, else it is rejected with a reason;
 * - the patient is found by PatientID = MRN within the uploader's institution (keyed-hash match);
 *   DICOM never creates patients (its demographics are not trusted for the index);
 * - the original is stored envelope-encrypted; each series gets one server-rendered PNG preview of a
 *   representative instance (the middle one by InstanceNumber among those the job brings, the
 *   middle frame of it), as PACS series thumbnails do: researchers' viewers render any frame of
 *   the de-identified original on demand, so a preview per instance would only cost time;
 * - the study becomes one ImagingStudy-like record (no PatientName/PatientID/birth date) and one
 *   `imaging` timeline event at the study date, both merged instance by instance;
 * - idempotent: same bytes → the earlier report; same SOP instance → the same file ids.
 */
export class DicomIngestor {
  private readonly jobs: IngestJobs;

  constructor(
    private readonly store: ConstructorParameters<typeof IngestJobs>[0],
    private readonly index: PatientIndex,
    private readonly records: ResearchRecords,
    private readonly catalog: CatalogService,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly archives?: ArchiveReader,
    /** Archive entries parsed, rendered, encrypted and stored at once (CPU overlaps object writes). */
    private readonly instanceConcurrency = 4,
  ) {
    this.jobs = new IngestJobs(store, clock);
  }

  /**
   * Jobs of one study may run at once (single files of an SQS batch, two archives): each merges
   * its instances into the study record it read and writes it only if nobody wrote it since
   * (versioned record). The job that lost the race runs again from the top: its objects are
   * rewritten under the same keys, it reads the winner's record and merges into it.
   */
  async ingest(src: IngestSource): Promise<IngestJob> {
    const [result] = await this.ingestFiles([src]);
    if (result!.status === 'rejected') throw result!.reason;
    return result!.value;
  }

  /**
   * Several source files, one job and report each (R-ING-5), as a queue batch delivers them
   * (ARCHITECTURE D8): single Part 10 files of one institution and dataset, up to
   * `FILES_INGESTED_TOGETHER` at a time, share their patient lookups, their earlier-report
   * lookup and their study reads and writes, so a study's slices read and write its record once
   * instead of once each (a wave of whole studies commits in one transaction: 12 slices of one
   * study, or 6 studies of 3; a larger study in stages). A file already
   * ingested returns its earlier report; archives and empty files run on their own. Results are
   * in the order of `srcs`, each file's own: if a shared run fails, its files run one by one.
   */
  async ingestFiles(srcs: IngestSource[]): Promise<Array<PromiseSettledResult<IngestJob>>> {
    const out: Array<PromiseSettledResult<IngestJob>> = new Array(srcs.length);
    const groups = new Map<string, Array<{ at: number; sha256: string }>>();
    const alone: number[] = [];
    srcs.forEach((src, at) => {
      const bare = src.contentType.split(';')[0]!.trim().toLowerCase();
      if (src.bytes.byteLength === 0 || (ZIP_CONTENT_TYPES as readonly string[]).includes(bare)) return alone.push(at);
      const key = `${src.institution}|${src.datasetId}`;
      const group = groups.get(key) ?? [];
      group.push({ at, sha256: IngestJobs.sha256(src.bytes) });
      groups.set(key, group);
    });
    const together = (files: Array<{ at: number; sha256: string }>) => this.retryingConflicts((previewed) => this.ingestFilesOnce(files.map((f) => ({ src: srcs[f.at]!, sha256: f.sha256 })), previewed));
    for (const group of groups.values()) {
      // The same content twice can share no commit (one content marker per content): a repeat
      // waits for the chunk after, where it finds the earlier job's report.
      for (let rest = group; rest.length > 0; ) {
        const chunk: typeof group = [];
        const later: typeof group = [];
        const contents = new Set<string>();
        for (const f of rest) {
          const joins = chunk.length < FILES_INGESTED_TOGETHER && !contents.has(f.sha256);
          (joins ? chunk : later).push(f);
          if (joins) contents.add(f.sha256);
        }
        try {
          const jobs = await together(chunk);
          chunk.forEach((f, i) => (out[f.at] = { status: 'fulfilled', value: jobs[i]! }));
        } catch (reason) {
          // One bad file (an object that cannot be stored) fails only itself: each file of the
          // chunk on its own; what the shared run committed is found by its content marker.
          if (chunk.length === 1) out[chunk[0]!.at] = { status: 'rejected', reason };
          else for (const f of chunk) out[f.at] = await settled(async () => (await together([f]))[0]!);
        }
        rest = later;
      }
    }
    for (const at of alone) out[at] = await settled(() => this.retryingConflicts((previewed) => this.ingestWhole(srcs[at]!, previewed)));
    return out;
  }

  /** Runs `attempt` again while it loses a race (`ConflictError`), up to `MAX_MERGE_ATTEMPTS`; previews it stored are kept across attempts. */
  private async retryingConflicts<T>(attempt: (previewed: Set<string>) => Promise<T>): Promise<T> {
    const previewed = new Set<string>();
    for (let n = 1; ; n++) {
      try {
        return await attempt(previewed);
      } catch (e) {
        if (!(e instanceof ConflictError) || n >= MAX_MERGE_ATTEMPTS) throw e;
      }
    }
  }

  /** An empty file or an archive: one job of its own. */
  private async ingestWhole(src: IngestSource, previewed: Set<string>): Promise<IngestJob> {
    const base = { jobId: this.ids.next('job'), sha256: IngestJobs.sha256(src.bytes), startedAt: new Date(this.clock.now()).toISOString() };
    const previous = await this.jobs.previous(src.datasetId, base.sha256, src.institution);
    if (previous) return previous;
    if (src.bytes.byteLength === 0) return this.jobs.finish(src, base, {}, [wholeFile('EMPTY_FILE', 'the file is empty')]);
    return this.ingestArchive(src, base, previewed);
  }

  /**
   * Single files of one institution and dataset, distinct in content: their earlier reports looked
   * up while they are parsed and matched (nothing is written for a repeat), their studies read in
   * one round trip; then the accepted files in waves of whole studies (`wavesOf`), each wave's
   * objects stored up to `instanceConcurrency` at a time and then committed (`commitWave`) while
   * the next wave's objects are stored: the store's round trips overlap the object writes instead
   * of following them all. Commits run one at a time, in order; the rejected files' reports go
   * with the last. A failure stops the waves not yet begun and is thrown once the writes in flight
   * have settled; the rerun finds the committed waves' files by their content markers.
   */
  private async ingestFilesOnce(files: Array<{ src: IngestSource; sha256: string }>, previewed: Set<string>): Promise<IngestJob[]> {
    const src = files[0]!.src;
    // The files share institution and dataset: one lookup of earlier reports, one of patients.
    const [earlier, matches] = await Promise.all([
      this.jobs.previousOfMany(src.datasetId, files.map((f) => f.sha256), src.institution),
      this.match(src.institution, files.map((f) => ({ bytes: f.src.bytes, entry: 0 }))),
    ]);
    const runs = files.map(({ src, sha256 }, i) => ({ src, earlier: earlier[i], match: matches[i]!, base: { jobId: this.ids.next('job'), sha256, startedAt: new Date(this.clock.now()).toISOString() } }));
    const jobs: IngestJob[] = new Array(runs.length);
    const accepted: WaveFile[] = [];
    const rejections: Array<{ i: number; rejected: RejectedItem }> = [];
    for (const [i, run] of runs.entries()) {
      if (run.earlier) jobs[i] = run.earlier;
      else if ('rejected' in run.match) rejections.push({ i, rejected: run.match.rejected });
      else accepted.push({ i, match: run.match });
    }
    // No file accepted: one empty wave commits the rejected files' reports.
    const waves = (accepted.length ? wavesOf(accepted) : [[]]).map((files) => ({ files, batch: newBatch(new Set(previewed)) }));
    const waveOf = new Map(waves.flatMap((w) => w.files.map((f) => [f.match.studyKey, w.batch] as const)));
    this.readStudies(accepted.map((f) => f.match), (m) => waveOf.get(m.studyKey)!);
    let committed: Promise<void> = Promise.resolve();
    let commitFailed = false;
    for (const [w, wave] of waves.entries()) {
      if (commitFailed) break;
      try {
        await mapDrained(wave.files, ({ i, match }) => this.storeInstance(runs[i]!.src, match, runs[i]!.base, wave.batch), this.instanceConcurrency);
        await this.storeSeriesPreviews(src, wave.batch, previewed);
      } catch (e) {
        await committed.catch(() => undefined);
        throw e;
      }
      committed = committed.then(() => this.commitWave(runs, wave.files, wave.batch, w === waves.length - 1 ? rejections : [], jobs));
      committed.catch(() => {
        commitFailed = true;
      });
    }
    await committed;
    return jobs;
  }

  /**
   * One wave of `ingestFilesOnce`: what its instances share (file metadata, instance items, study
   * records and events, the dataset's counts), each accepted file's report and content marker and
   * each of `rejections`' reports (no marker: see `IngestJobs.finish`), in one transaction when
   * they fit, else in stages. The jobs are set in `jobs` once written.
   */
  private async commitWave(runs: Array<{ src: IngestSource; base: JobBase }>, files: WaveFile[], batch: InstanceBatch, rejections: Array<{ i: number; rejected: RejectedItem }>, jobs: IngestJob[]): Promise<void> {
    const src = runs[0]!.src;
    const { operations, newStudies, stages } = await this.sharedOperations(batch);
    // A new study's timeline event is counted by the first of the files that brought it.
    const counted = new Set<string>();
    // Rejected files' reports last: in stages, a run that fails before its last transaction has
    // written none of them, so its rerun writes each once (they have no marker to find).
    const reports = [
      ...files.map(({ i, match: { studyKey } }) => {
        const firstOfStudy = newStudies.has(studyKey) && !counted.has(studyKey);
        counted.add(studyKey);
        return { i, ...this.jobs.report(runs[i]!.src, runs[i]!.base, { accepted: 1, patients: 1, timelineEvents: firstOfStudy ? 1 : 0 }, []) };
      }),
      ...rejections.map(({ i, rejected }) => ({ i, ...this.jobs.report(runs[i]!.src, runs[i]!.base, {}, [rejected]) })),
    ];
    if (reports.length === 0) return;
    const catalogue = (n: number) => (n ? [this.catalog.ingestOperation(src.datasetId, { records: 0, files: n, at: new Date(this.clock.now()).toISOString() })] : []);
    const reportOps = reports.flatMap((r) => r.operations);
    if (operations.length + reportOps.length < MAX_TRANSACTION_WRITES) {
      // Rejected files' reports commit with the rest, so a rerun writes none of them twice. A
      // concurrent delivery of one of these files, or a job that wrote one of the studies first,
      // fails the whole transaction; the rerun returns that file's report and merges into the study.
      await this.store.transact([...operations, ...reportOps, ...catalogue(files.length)]);
    } else {
      // As an archive's commit (see `writeInStages`), then the reports, markers and counts, up to
      // 49 files a transaction: a crash between leaves files without a report, whose redelivery
      // finds their instances already in the study and counts them once.
      await this.writeInStages(stages);
      const acceptedReports = reports.slice(0, files.length);
      for (let k = 0; k < acceptedReports.length; k += 49) {
        const chunk = acceptedReports.slice(k, k + 49);
        await this.store.transact([...chunk.flatMap((r) => r.operations), ...catalogue(chunk.length)]);
      }
      // One write each, at most `FILES_INGESTED_TOGETHER` (100): one transaction.
      const rejectedReports = reports.slice(files.length);
      if (rejectedReports.length) await this.store.transact(rejectedReports.flatMap((r) => r.operations));
    }
    for (const r of reports) jobs[r.i] = r.job;
  }

  /**
   * A zipped study (R-ING-1): unpacked safely (path traversal, entry count, declared and actual
   * sizes, ratio and total checked first; any violation refuses the whole archive before anything
   * is written), then each entry runs through the same instance pipeline under one job, up to
   * `instanceConcurrency` at a time, its rejections reported by entry index (entry names may carry
   * patient names, so never them).
   */
  private async ingestArchive(src: IngestSource, base: JobBase, previewed: Set<string>): Promise<IngestJob> {
    if (!this.archives) return this.jobs.finish(src, base, {}, [wholeFile('UNSUPPORTED_CONTENT_TYPE', 'zip archives are not processed here')]);
    let entries;
    try {
      entries = await this.archives.readZip(src.bytes, STUDY_ZIP_LIMITS);
    } catch (e) {
      if (e instanceof ArchiveRejected) return this.jobs.finish(src, base, {}, [wholeFile(e.code, e.message)]);
      throw e;
    }
    const files = entries.filter((e) => !ZIP_NOISE.test(e.path));
    const batch = newBatch(new Set(previewed));
    const nonEmpty = files.filter((e) => e.bytes.byteLength > 0);
    const matches: Array<MatchedInstance | { rejected: RejectedItem }> = [];
    const matched = this.matchInChunks(src.institution, nonEmpty.map((e) => ({ bytes: e.bytes, entry: e.index })), batch, matches);
    await mapDrained(matched, (m) => this.storeInstance(src, m, base, batch), this.instanceConcurrency);
    const instances = matches.flatMap((m) => ('rejected' in m ? [] : [m]));
    const rejected: RejectedItem[] = [];
    for (const e of files) if (e.bytes.byteLength === 0) rejected.push({ line: e.index, resourceType: 'DICOM', code: 'EMPTY_FILE', issues: [`entry ${e.index}: the file is empty`] });
    matches.forEach((m, i) => {
      const index = nonEmpty[i]!.index;
      if ('rejected' in m) rejected.push({ ...m.rejected, line: index, issues: m.rejected.issues.map((x) => `entry ${index}: ${x}`) });
    });
    rejected.sort((a, b) => a.line - b.line);
    const accepted = instances.length;
    const patients = new Set(instances.map((m) => m.patientId));
    if (accepted === 0 && rejected.length === 0) rejected.push(wholeFile('EMPTY_FILE', 'the archive holds no files'));
    if (accepted === 0) return this.jobs.finish(src, base, { accepted, patients: 0 }, rejected);
    await this.storeSeriesPreviews(src, batch, previewed);
    return this.commit(src, base, batch, { accepted, patients: patients.size }, rejected);
  }

  /**
   * Writes what an archive's instances left in the batch, after all their objects are stored:
   * file metadata, each study's record with its event, then the job report, content marker and the
   * dataset's counts; in one transaction when they fit, else metadata and studies first and the
   * report, marker and counts together last.
   */
  private async commit(src: IngestSource, base: JobBase, batch: InstanceBatch, counts: { accepted: number; patients: number }, rejected: RejectedItem[]): Promise<IngestJob> {
    const { operations, newStudies, stages } = await this.sharedOperations(batch);
    const timelineEvents = newStudies.size;
    // DICOM never creates patients, so the patient count stands.
    const catalogue = this.catalog.ingestOperation(src.datasetId, { records: 0, files: counts.accepted, at: new Date(this.clock.now()).toISOString() });
    if (operations.length <= MAX_TRANSACTION_WRITES - 3) return this.jobs.finish(src, base, { ...counts, timelineEvents }, rejected, operations, catalogue);
    await this.writeInStages(stages);
    return this.jobs.finish(src, base, { ...counts, timelineEvents }, rejected, [], catalogue);
  }

  /**
   * What does not fit one transaction, before the report, in an order a crash cannot harm: the
   * markers of the new studies (see `ResearchRecords.studiesForUpdate`), instance items and file
   * metadata, then the study records with their events (and the removal of their markers),
   * versioned, as many to a transaction as fit. A crash in between leaves instances that a rerun
   * finds (and counts) when it reads the study.
   */
  private async writeInStages(stages: { markers: TransactOperation[]; puts: TransactOperation[]; studies: TransactOperation[][] }): Promise<void> {
    const pool = new WritePool(4);
    const itemsOf = (ops: TransactOperation[]) => ops.map((o) => (o as Extract<TransactOperation, { kind: 'put' }>).item);
    for (const stage of [stages.markers, stages.puts]) {
      for (let i = 0; i < stage.length; i += 25) await pool.add(() => this.store.batchPut('main', itemsOf(stage.slice(i, i + 25))));
      await pool.drain();
    }
    for (const studies of packTransactions(stages.studies.map((operations) => ({ operations })), 0)) await pool.add(() => this.store.transact(studies.flatMap((x) => x.operations)));
    await pool.drain();
  }

  /**
   * The writes the batch's instances share: file metadata, instance items, study records and
   * events, as one list and as stages (`writeInStages`); and the studies whose event is new.
   */
  private async sharedOperations(batch: InstanceBatch) {
    const studies = await Promise.all([...batch.studies.entries()].filter(([, s]) => s.record && s.lineage).map(async ([key, s]) => ({ key, s, stored: await s.stored })));
    const newStudies = new Set(studies.filter(({ s }) => s.event && !s.existedBefore).map(({ key }) => key));
    const fileOps = this.records.fileOperations([...batch.files.values()]);
    // A repeated instance is written once: the one this job brings wins over an older record's inline copy.
    const instanceOps = studies.flatMap(({ s, stored }) => [...stored.inline.filter((i) => !s.added.has(i.sopInstanceUid)), ...s.added.values()].map((i) => this.records.studyInstanceOperation(s.patientId, s.studyId, i)));
    // A study's marker is removed with its record: a marker found (an earlier staged write crashed
    // before the record) on either path; in stages, also the one written for a study without a record.
    const withRecord = ({ s, stored }: (typeof studies)[number], marked: boolean) => [
      ...this.records.recordOperations(s.patientId, s.record!, s.lineage!, s.event, stored.version),
      ...(marked ? [this.records.studyInstancesStagedRemoval(s.patientId, s.studyId)] : []),
    ];
    const studyOps = studies.map((x) => withRecord(x, x.stored.staged));
    const markers = studies.filter(({ stored }) => !stored.record).map(({ s }) => this.records.studyInstancesStagedOperation(s.patientId, s.studyId));
    const stagedStudies = studies.map((x) => withRecord(x, x.stored.staged || !x.stored.record));
    return { operations: [...fileOps, ...instanceOps, ...studyOps.flat()], newStudies, stages: { markers, puts: [...fileOps, ...instanceOps], studies: stagedStudies } };
  }

  /**
   * `match` and `readStudies` a chunk of archive entries at a time, yielding the matched ones, so
   * the first objects are stored while the rest of a large archive is parsed (parsing is
   * synchronous: 5,000 entries at once would hold every write back until the last was parsed).
   * Every result, matched or not, is also appended to `results`, in entry order.
   */
  private async *matchInChunks(institution: string, items: Array<{ bytes: Uint8Array; entry: number }>, batch: InstanceBatch, results: Array<MatchedInstance | { rejected: RejectedItem }>): AsyncGenerator<MatchedInstance> {
    for (let k = 0; k < items.length; k += ARCHIVE_MATCH_CHUNK) {
      const chunk = await this.match(institution, items.slice(k, k + ARCHIVE_MATCH_CHUNK));
      results.push(...chunk);
      const instances = chunk.flatMap((m) => ('rejected' in m ? [] : [m]));
      this.readStudies(instances, () => batch);
      yield* instances;
    }
  }

  /**
   * Parses instances and finds their patients (PatientID = MRN, one index read for all of them);
   * or the reason an instance is not taken. Parsed datasets are not kept, only their summaries.
   */
  private async match(institution: string, items: Array<{ bytes: Uint8Array; entry: number }>): Promise<Array<MatchedInstance | { rejected: RejectedItem }>> {
    const parsed = items.map(({ bytes }): { summary: DicomSummary; mrn: string } | { rejected: RejectedItem } => {
      try {
        const { summary, patientId } = parseDicom(bytes);
        return { summary, mrn: patientId };
      } catch (e) {
        if (e instanceof DicomParseError) return { rejected: { line: 0, resourceType: 'DICOM', code: e.code, issues: [e.message] } };
        throw e;
      }
    });
    const patients = await this.index.lookupMrns(institution, parsed.flatMap((p) => ('mrn' in p ? [p.mrn] : [])));
    return parsed.map((p, i) => {
      if ('rejected' in p) return p;
      const patientId = patients.get(p.mrn);
      if (!patientId) return { rejected: { line: 0, resourceType: 'DICOM', code: 'UNKNOWN_PATIENT', issues: ['PatientID (0010,0020) is not the MRN of a known patient of this institution'] } };
      const s = p.summary;
      const studyId = platformIdOf(institution, 'DicomStudy', s.studyInstanceUid);
      const occurredAt = s.studyDate ? (localToUtc(`${s.studyDate} ${timeOf(s.studyTime)}`) ?? localToUtc(s.studyDate)) : undefined;
      return {
        bytes: items[i]!.bytes,
        entry: items[i]!.entry,
        summary: s,
        patientId,
        studyId,
        studyKey: `${patientId}|${studyId}`,
        eventId: `ev-img-${studyId.slice(2)}`, // from the hashed id: never reveals the study UID
        ...(occurredAt ? { occurredAt } : {}),
      };
    });
  }

  /**
   * Starts reading the studies of these instances that the batch has not read yet, all in one
   * round trip (`ResearchRecords.studiesForUpdate`), while their objects are encrypted and stored.
   * The record (its version) is read before the instance items: an instance another job commits
   * in between also changes the version, so this job's write of the record fails and it runs
   * again; read the other way round, it could write a record that does not count that instance.
   */
  private readStudies(instances: MatchedInstance[], batchOf: (m: MatchedInstance) => InstanceBatch): void {
    const fresh: Array<{ state: StudyState; event?: { occurredAt: string; eventId: string } }> = [];
    for (const m of instances) {
      const { studies } = batchOf(m);
      if (studies.has(m.studyKey)) continue;
      const state: StudyState = { patientId: m.patientId, studyId: m.studyId, stored: undefined!, added: new Map(), merged: false, existedBefore: false };
      studies.set(m.studyKey, state);
      fresh.push({ state, ...(m.occurredAt ? { event: { occurredAt: m.occurredAt, eventId: m.eventId } } : {}) });
    }
    if (fresh.length === 0) return;
    const reads = this.records.studiesForUpdate<StudyInstance>(fresh.map(({ state, event }) => ({ patientId: state.patientId, studyId: state.studyId, ...(event ? { event } : {}) })));
    fresh.forEach(({ state }, i) => {
      state.stored = reads.then((all) => storedStudy(all[i]!.resource as LegacyStudyRecord | undefined, all[i]!.version, all[i]!.event, all[i]!.staged, all[i]!.instances));
      // Awaited by the study's instances; a job that fails first must not leave it unhandled.
      state.stored.catch(() => undefined);
    });
  }

  /** One matched instance: its object stored, then merged into its study (read by `readStudies`). */
  private async storeInstance(src: IngestSource, m: MatchedInstance, base: JobBase, batch: InstanceBatch): Promise<void> {
    const { bytes, entry, patientId, studyId, eventId, occurredAt, studyKey: key } = m;
    const sha256 = entry ? IngestJobs.sha256(bytes) : base.sha256;
    const study = batch.studies.get(key)!;
    const s = m.summary;
    const fileId = fileIdOf(src.institution, 'dicom', s.sopInstanceUid);
    const label = s.seriesDescription ?? s.studyDescription ?? s.modality;
    const objects = [{ meta: { fileId, patientId, kind: 'dicom', contentType: 'application/dicom', fileName: `${s.sopInstanceUid}.dcm`, eventId, description: { zh: label, en: label }, datasetId: src.datasetId }, bytes, sha256 }];
    batch.instances.set(s.sopInstanceUid, { studyKey: key, seriesInstanceUid: s.seriesInstanceUid, ...(s.instanceNumber !== undefined ? { instanceNumber: s.instanceNumber } : {}), bytes, patientId, eventId, label });
    // The same instance twice in one archive: the second write waits for the first, and the
    // metadata kept is always that of the object written last.
    const write = (batch.objectWrites.get(s.sopInstanceUid) ?? Promise.resolve())
      .catch(() => undefined)
      .then(async () => {
        for (const f of await this.records.storeObjects(objects)) batch.files.set(f.fileId, f);
      });
    batch.objectWrites.set(s.sopInstanceUid, write);
    const [, stored] = await Promise.all([write, study.stored]);

    // From here to the end nothing awaits: instances of one study merge one at a time.
    study.added.set(s.sopInstanceUid, instanceOf(s, fileId));
    study.all ??= new Map(stored.instances);
    study.all.set(s.sopInstanceUid, s.seriesInstanceUid);
    const record = mergeStudy(study.merged ? study.record : stored.record, studyId, patientId, s, occurredAt, study.all);
    const existing = study.merged ? study.event : stored.event;
    const title = s.studyDescription ?? `${s.modality} study`;
    const event: TimelineEvent | undefined = occurredAt
      ? {
          eventId,
          patientId,
          type: 'imaging',
          occurredAt,
          title: existing?.title ?? { zh: title, en: title },
          recordRefs: [`ImagingStudy/${studyId}`],
          fileIds: [...new Set([...(existing?.fileIds ?? []), fileId])],
          source: 'ingested',
          annotations: existing?.annotations ?? [],
        }
      : undefined;
    const transformations = [
      ...(entry ? [{ name: 'unzip-study-archive', version: DICOM_INGEST_VERSION }] : []),
      { name: 'parse-dicom-part10', version: DICOM_INGEST_VERSION },
      { name: 'match-patient-by-mrn', version: DICOM_INGEST_VERSION },
      { name: 'drop-patient-attributes', version: DICOM_INGEST_VERSION },
    ];
    // An archive entry is named by its index in the archive (entry names may carry patient names).
    const lineage: Lineage = { ...jobLineageOf(src, base, transformations, { name: entry ? `${src.fileName}#${entry}` : src.fileName, sha256 }), sourceId: `DicomInstance/${s.sopInstanceUid}` };
    if (!study.merged) study.existedBefore = Boolean(stored.event);
    Object.assign(study, { record, event, lineage, merged: true });
  }

  /**
   * One preview per series, after the job's instances are merged: a series that has none gets one
   * of the instances this job brings (the middle by InstanceNumber); a series whose preview
   * instance this job replaced gets it rendered again under the same id. A preview that an
   * earlier, conflicting attempt of this job stored is kept, so its object always has metadata.
   * Rendering is skipped where it cannot be done (compressed transfer syntaxes).
   */
  private async storeSeriesPreviews(src: IngestSource, batch: InstanceBatch, previewed: Set<string>): Promise<void> {
    const previewOf = (sop: string) => fileIdOf(src.institution, 'dicom-preview', sop);
    const bySeries = new Map<string, Array<[string, BatchInstance]>>();
    for (const entry of batch.instances) {
      const k = `${entry[1].studyKey}|${entry[1].seriesInstanceUid}`;
      const members = bySeries.get(k);
      if (members) members.push(entry);
      else bySeries.set(k, [entry]);
    }
    const chosen: Array<{ study: StudyState; sop: string; instance: BatchInstance }> = [];
    for (const [k, members] of bySeries) {
      const study = batch.studies.get(members[0]![1].studyKey)!;
      const series = study.record?.series.find((x) => `${members[0]![1].studyKey}|${x.seriesInstanceUid}` === k);
      if (!series) continue;
      const picks = new Set(members.map(([sop]) => sop).filter((sop) => previewOf(sop) === series.previewFileId || batch.previewedBefore.has(sop)));
      if (!series.previewFileId && picks.size === 0) {
        const ordered = [...members].sort((a, b) => (a[1].instanceNumber ?? 0) - (b[1].instanceNumber ?? 0));
        picks.add(ordered[Math.floor((ordered.length - 1) / 2)]![0]);
      }
      for (const sop of picks) chosen.push({ study, sop, instance: batch.instances.get(sop)! });
    }
    const objects = chosen.flatMap(({ sop, instance: i }) => {
      // Parsed again (one instance per series): keeping every parsed dataset of an archive would double its memory.
      const png = renderPreview(parseDicom(i.bytes));
      if (!png) return [];
      const fileId = previewOf(sop);
      const meta = { fileId, patientId: i.patientId, kind: 'dicom-preview', contentType: 'image/png', fileName: `${sop}.png`, eventId: i.eventId, description: { zh: `${i.label}（预览）`, en: `${i.label} (preview)` }, datasetId: src.datasetId };
      return [{ meta, bytes: png, sop }];
    });
    for (const o of objects) previewed.add(o.sop);
    for (const f of await this.records.storeObjects(objects.map(({ meta, bytes }) => ({ meta, bytes })))) batch.files.set(f.fileId, f);
    for (const o of objects) {
      const { study } = chosen.find((c) => c.sop === o.sop)!;
      const series = study.record!.series.find((x) => x.seriesInstanceUid === batch.instances.get(o.sop)!.seriesInstanceUid)!;
      series.previewFileId ??= o.meta.fileId;
      if (study.event && !study.event.fileIds.includes(o.meta.fileId)) study.event.fileIds.push(o.meta.fileId);
      const steps = study.lineage!.transformations;
      if (!steps.some((t) => t.name === 'render-preview-png')) steps.push({ name: 'render-preview-png', version: DICOM_INGEST_VERSION });
    }
  }

  getJob(jobId: string): Promise<IngestJob | undefined> {
    return this.jobs.get(jobId);
  }
}

/** HHMMSS(.ffffff) → HH:MM:SS (midnight when absent or malformed). */
function timeOf(t: string | undefined): string {
  const m = t ? /^(\d{2})(\d{2})?(\d{2})?/.exec(t) : null;
  return m ? `${m[1]}:${m[2] ?? '00'}:${m[3] ?? '00'}` : '00:00:00';
}

/** An instance's entry (its own item, see `ResearchRecords.studyInstances`). */
function instanceOf(s: DicomSummary, fileId: string): StudyInstance {
  return {
    sopInstanceUid: s.sopInstanceUid,
    seriesInstanceUid: s.seriesInstanceUid,
    sopClassUid: s.sopClassUid,
    ...(s.instanceNumber !== undefined ? { instanceNumber: s.instanceNumber } : {}),
    rows: s.rows,
    columns: s.columns,
    frames: s.frames,
    bitsAllocated: s.bitsAllocated,
    bitsStored: s.bitsStored,
    photometricInterpretation: s.photometricInterpretation,
    transferSyntaxUid: s.transferSyntaxUid,
    fileId,
  };
}

/** A study record written before instances had items of their own listed them inline. */
type LegacyStudyRecord = Omit<ImagingStudyRecord, 'series'> & { series: Array<StudySeries & { instances?: Array<Omit<StudyInstance, 'seriesInstanceUid'> & { previewFileId?: string }> }> };

/**
 * The stored study as the merge needs it. Inline instances of an older record count as stored
 * instances, and those without an item of their own are returned to be written as items: the
 * rewritten record no longer lists them, so without their items the next merge would lose them.
 */
function storedStudy(read: LegacyStudyRecord | undefined, version: RecordVersion, event: TimelineEvent | undefined, staged: boolean, items: StudyInstance[]) {
  const instances = new Map(items.map((i) => [i.sopInstanceUid, i.seriesInstanceUid]));
  const inline: StudyInstance[] = [];
  const record: ImagingStudyRecord | undefined = read && {
    ...read,
    series: read.series.map(({ instances: listed, ...x }) => {
      for (const { previewFileId: _preview, ...i } of listed ?? []) {
        if (instances.has(i.sopInstanceUid)) continue;
        instances.set(i.sopInstanceUid, x.seriesInstanceUid);
        inline.push({ ...i, seriesInstanceUid: x.seriesInstanceUid });
      }
      const preview = x.previewFileId ?? listed?.find((i) => i.previewFileId)?.previewFileId;
      return { ...x, ...(preview ? { previewFileId: preview } : {}) };
    }),
  };
  return { record, version, event, staged, instances, inline };
}

/** The study record with one more instance: its series added if new, counts from every instance the study has. */
function mergeStudy(existing: ImagingStudyRecord | undefined, id: string, patientId: string, s: DicomSummary, started: string | undefined, instances: ReadonlyMap<string, string>): ImagingStudyRecord {
  const series = (existing?.series ?? []).map((x) => ({ ...x }));
  if (!series.some((x) => x.seriesInstanceUid === s.seriesInstanceUid)) {
    series.push({ seriesInstanceUid: s.seriesInstanceUid, modality: s.modality, ...(s.seriesNumber !== undefined ? { number: s.seriesNumber } : {}), ...(s.seriesDescription ? { description: s.seriesDescription } : {}), ...(s.bodyPart ? { bodySite: s.bodyPart } : {}), numberOfInstances: 0 });
  }
  const counts = new Map<string, number>();
  for (const uid of instances.values()) counts.set(uid, (counts.get(uid) ?? 0) + 1);
  for (const x of series) x.numberOfInstances = counts.get(x.seriesInstanceUid) ?? 0;
  series.sort((a, b) => (a.number ?? 0) - (b.number ?? 0));
  return {
    resourceType: 'ImagingStudy',
    id,
    status: 'available',
    subject: { reference: `Patient/${patientId}` },
    studyInstanceUid: s.studyInstanceUid,
    ...(started ? { started } : {}),
    ...(s.studyDescription ? { description: s.studyDescription } : {}),
    modality: [...new Set(series.map((x) => x.modality))],
    numberOfSeries: series.length,
    numberOfInstances: instances.size,
    series,
  };
}

/** For tests and tools: the stable id of a study's record. */
export function studyRecordIdOf(institution: string, studyInstanceUid: string): string {
  return platformIdOf(institution, 'DicomStudy', studyInstanceUid);
}

