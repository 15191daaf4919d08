import { createHash } from 'node:crypto';
import { ConflictError } from '../errors';
import type { PatientIndex } from '../patients/patient-index';
import type { Clock } from '../ports/clock';
import type { DocumentStore, Item, ItemKey, TransactOperation } from '../ports/document-store';
import type { IngestJob, JobLineage, RejectedItem, Transformation } from './ingest-job';

/** One source file handed to an ingestor (by the staged-upload processor or a test). */
export interface IngestSource {
  datasetId: string;
  institution: string;
  sourceSystem: string;
  fileName: string;
  contentType: string;
  bytes: Uint8Array;
  uploadId?: string;
  operator: string;
  /**
   * Files without a patient header (documents) name their patient here: the source system's
   * patient id or the institution's MRN. It is an identifier, so it travels encrypted in the
   * upload item and is only ever used to look the patient up in the index.
   */
  patientRef?: string;
}

type JobItem = Item & { job: IngestJob };

/**
 * Single DICOM files ingested together, one job and report each (the ingest queue's batch size):
 * the files of a study share their reads and writes of its record. Up to 10 (about 7 writes
 * each) commit in one transaction; more commit in stages (see `DicomIngestor.ingestFiles`).
 */
export const FILES_INGESTED_TOGETHER = 100;

/** Bytes of staged files held in memory at once to be ingested together (the Lambda has 2 GiB). */
export const BYTES_INGESTED_TOGETHER = 128 * 1024 * 1024;

/** Writes one TransactWriteItems call holds. */
export const MAX_TRANSACTION_WRITES = 100;

/** Bytes of items put in one transaction, under DynamoDB's 4 MB (JSON is a fair estimate of item size). */
const MAX_TRANSACTION_BYTES = 3.5 * 1024 * 1024;

/**
 * Consecutive groups of writes (one file's, one study's) in transactions of at most 100 writes
 * (`reserved` of them kept for the caller, e.g. the dataset's counts) and about 3.5 MB (DynamoDB
 * takes 4 MB a transaction; reports of many rejections are large); a group is never split.
 */
export function packTransactions<T extends { operations: TransactOperation[] }>(groups: T[], reserved = 1): T[][] {
  const out: T[][] = [];
  let writes = 0;
  let bytes = 0;
  for (const g of groups) {
    const size = Buffer.byteLength(JSON.stringify(g.operations));
    if (out.length === 0 || writes + g.operations.length + reserved > MAX_TRANSACTION_WRITES || bytes + size > MAX_TRANSACTION_BYTES) {
      out.push([]);
      writes = 0;
      bytes = 0;
    }
    out.at(-1)!.push(g);
    writes += g.operations.length;
    bytes += size;
  }
  return out;
}

/** What a job knows from its start: its id, the source's SHA-256 and when it started. */
export interface JobBase {
  jobId: string;
  sha256: string;
  startedAt: string;
}

/** Job bookkeeping shared by every ingestor: content-hash idempotency and the job report (R-ING-5). */
export class IngestJobs {
  constructor(
    private readonly store: DocumentStore,
    private readonly clock: Clock,
  ) {}

  static sha256(bytes: Uint8Array): string {
    return createHash('sha256').update(bytes).digest('hex');
  }

  /**
   * The earlier report of the same content in the same dataset from the same institution, if the
   * file was ingested before (the same bytes from another institution — a shared column mapping —
   * are that institution's own file).
   */
  async previous(datasetId: string, sha256: string, institution?: string): Promise<IngestJob | undefined> {
    return (await this.previousOfMany(datasetId, [sha256], institution))[0];
  }

  /** `previous` of several contents of one dataset, in two round trips whatever their number (markers, then their jobs). */
  async previousOfMany(datasetId: string, sha256s: string[], institution?: string): Promise<Array<IngestJob | undefined>> {
    return (await this.previousOfManyAnd(datasetId, sha256s, institution, []))[0];
  }

  /** `previousOfMany`, and the items at `alsoRead` read in the same round trip as the content markers. */
  async previousOfManyAnd<T extends Item>(datasetId: string, sha256s: string[], institution: string | undefined, alsoRead: ItemKey[]): Promise<[Array<IngestJob | undefined>, Array<T | undefined>]> {
    const found = await this.store.getMany<Item>('main', [...sha256s.map((sha256) => ({ pk: `CONTENT#${datasetId}#${sha256}`, sk: 'CONTENT' })), ...alsoRead]);
    const markers = found.slice(0, sha256s.length) as Array<(Item & { jobId: string }) | undefined>;
    return [await this.jobsOf(markers, institution), found.slice(sha256s.length) as Array<T | undefined>];
  }

  /** The jobs content markers name (one round trip), those of another institution left out. */
  private async jobsOf(seen: Array<(Item & { jobId: string }) | undefined>, institution?: string): Promise<Array<IngestJob | undefined>> {
    const jobIds = [...new Set(seen.flatMap((m) => (m ? [m.jobId] : [])))];
    if (jobIds.length === 0) return seen.map(() => undefined);
    const jobs = new Map((await this.store.getMany<JobItem>('main', jobIds.map((jobId) => ({ pk: `JOB#${jobId}`, sk: 'JOB' })))).flatMap((i) => (i ? [[i.job.jobId, i.job] as const] : [])));
    return seen.map((m) => {
      const job = m && jobs.get(m.jobId);
      return job && (!institution || job.institution === institution) ? job : undefined;
    });
  }

  /**
   * Writes the report with the content marker. A file rejected as a whole gets no marker: once the
   * cause is fixed (the patient indexed, the mapping declared) the same bytes can be ingested again.
   * `alsoWrite` (at most 97 writes) commits in the same transaction: what the job wrote last lands
   * with its report and marker, or none of it does; so does `catalogue` (the dataset's counts), and
   * only when the marker is new: the same content committed by a concurrent run of the same job
   * (a redelivered event) fails this one, which then returns that run's report, counted once.
   */
  async finish(src: IngestSource, base: JobBase, counts: Partial<IngestJob['counts']>, rejected: RejectedItem[], alsoWrite: TransactOperation[] = [], catalogue?: TransactOperation): Promise<IngestJob> {
    const { job, operations } = this.report(src, base, counts, rejected);
    const marked = job.counts.accepted > 0;
    try {
      await this.store.transact([...alsoWrite, ...operations, ...(marked && catalogue ? [catalogue] : [])]);
    } catch (e) {
      const earlier = marked && e instanceof ConflictError ? await this.previous(src.datasetId, job.sha256, src.institution) : undefined;
      if (earlier) return earlier;
      throw e;
    }
    return job;
  }

  /**
   * A job's report and, when something was accepted, its content marker, as writes for the
   * caller's transaction (see `finish`): several jobs that share writes commit them together.
   */
  report(src: IngestSource, base: JobBase, counts: Partial<IngestJob['counts']>, rejected: RejectedItem[]): { job: IngestJob; operations: TransactOperation[] } {
    const job: IngestJob = {
      jobId: base.jobId,
      datasetId: src.datasetId,
      institution: src.institution,
      sourceSystem: src.sourceSystem,
      ...(src.uploadId ? { uploadId: src.uploadId } : {}),
      fileName: src.fileName,
      contentType: src.contentType,
      sha256: base.sha256,
      status: 'completed',
      startedAt: base.startedAt,
      finishedAt: new Date(this.clock.now()).toISOString(),
      operator: src.operator,
      counts: { accepted: 0, rejected: rejected.length, patients: 0, newPatients: 0, probableDuplicates: 0, timelineEvents: 0, ...counts },
      rejected: rejected.slice(0, 1000),
    };
    const marked = job.counts.accepted > 0;
    return {
      job,
      operations: [
        { kind: 'put', table: 'main', item: { pk: `JOB#${job.jobId}`, sk: 'JOB', gsi1pk: `JOBS#${src.datasetId}`, gsi1sk: job.startedAt, job } },
        // The marker of another institution's identical file is replaced (see `previous`); this
        // institution's is not.
        ...(marked ? [{ kind: 'put' as const, table: 'main' as const, item: { pk: `CONTENT#${src.datasetId}#${job.sha256}`, sk: 'CONTENT', jobId: job.jobId, institution: src.institution }, options: { unlessStored: { attribute: 'institution', equals: src.institution } } }] : []),
      ],
    };
  }

  async get(jobId: string): Promise<IngestJob | undefined> {
    return (await this.store.get<JobItem>('main', { pk: `JOB#${jobId}`, sk: 'JOB' }))?.job;
  }
}

/** A patient of the institution by source patient id first, then by MRN; never creates one. */
export async function resolvePatient(index: PatientIndex, institution: string, ref: string | undefined): Promise<string | undefined> {
  const r = ref?.trim();
  if (!r) return undefined;
  return (await index.lookupSource(`${institution}/${r}`)) ?? (await index.lookupMrn(institution, r));
}

/** Stable file id of a source object: the same content of the same institution maps to the same id. */
export function fileIdOf(institution: string, kind: string, key: string): string {
  return `f-${createHash('sha256').update(`${institution}|${kind}|${key}`).digest('hex').slice(0, 24)}`;
}

/**
 * The lineage a job's records share (R-ING-6): the source, the job, its operator and start, the
 * pipeline's transformations. `file` names what a record came from when it is not the whole
 * source (an archive entry).
 */
export function jobLineageOf(src: Pick<IngestSource, 'sourceSystem' | 'institution' | 'fileName' | 'uploadId' | 'operator'>, base: JobBase, transformations: Transformation[], file: { name: string; sha256: string } = { name: src.fileName, sha256: base.sha256 }): JobLineage {
  return {
    sourceSystem: src.sourceSystem,
    institution: src.institution,
    fileName: file.name,
    fileSha256: file.sha256,
    ...(src.uploadId ? { uploadId: src.uploadId } : {}),
    jobId: base.jobId,
    transformations,
    operator: src.operator,
    at: base.startedAt,
  };
}

/** The outcome of `run` as `Promise.allSettled` reports it: in a batch, one file's failure is its own result. */
export async function settled<T>(run: () => Promise<T>): Promise<PromiseSettledResult<T>> {
  try {
    return { status: 'fulfilled', value: await run() };
  } catch (reason) {
    return { status: 'rejected', reason };
  }
}

/** A one-item rejection of the whole file. */
export function wholeFile(code: RejectedItem['code'], issue: string): RejectedItem {
  return { line: 0, code, issues: [issue] };
}
