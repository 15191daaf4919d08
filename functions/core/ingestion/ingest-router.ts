import { ZIP_CONTENT_TYPES, type DicomIngestor } from './dicom-ingestor';
import { DOCUMENT_CONTENT_TYPES, type DocumentIngestor } from './document-ingestor';
import type { FhirIngestor } from './fhir-ingestor';
import type { IngestJob } from './ingest-job';
import { IngestJobs, settled, type IngestSource } from './ingest-support';
import { COLUMN_MAPPING_CONTENT_TYPE, XLSX_CONTENT_TYPE, type TableIngestor } from './table-ingestor';

/** Every content type an upload may declare, by pipeline (the API's enum is built from this). */
export const INGEST_CONTENT_TYPES = {
  fhir: ['application/fhir+json', 'application/fhir+ndjson', 'application/x-ndjson', 'application/json'],
  // A zip is a study (or any set) of DICOM Part 10 files.
  dicom: ['application/dicom', ...ZIP_CONTENT_TYPES],
  document: [...DOCUMENT_CONTENT_TYPES, 'text/plain; charset=utf-8'],
  table: ['text/csv', 'text/csv; charset=utf-8', COLUMN_MAPPING_CONTENT_TYPE, XLSX_CONTENT_TYPE],
} as const;

/** The flat list of accepted content types. */
export const ACCEPTED_CONTENT_TYPES = Object.values(INGEST_CONTENT_TYPES).flat() as [string, ...string[]];

/**
 * Dispatches a source file to its pipeline by declared content type (R-ING-1). An unknown type is
 * a recorded rejection, not an exception, so the upload still gets a report.
 */
export class IngestRouter {
  constructor(
    private readonly pipelines: { fhir: FhirIngestor; dicom: DicomIngestor; document: DocumentIngestor; table: TableIngestor },
    private readonly jobs: IngestJobs,
    private readonly ids: { next(prefix: string): string },
    private readonly now: () => string,
  ) {}

  async ingest(src: IngestSource): Promise<IngestJob> {
    const pipeline = pipelineOf(src);
    if (pipeline) return this.pipelines[pipeline].ingest(src);
    const startedAt = this.now();
    return this.jobs.finish(src, { jobId: this.ids.next('job'), sha256: IngestJobs.sha256(src.bytes), startedAt }, {}, [
      { line: 0, code: 'UNSUPPORTED_CONTENT_TYPE', issues: [`contentType: ${src.contentType.split(';')[0]!.trim().toLowerCase().slice(0, 64)} is not processed`] },
    ]);
  }

  /**
   * Several source files as a queue batch delivers them, one job each, results in input order.
   * FHIR files go first, in delivery order: they index the patients that the other files (DICOM,
   * documents, tables) name, and never depend on them. Each pipeline's files then go to it
   * together (files share their lookups and commits; one bad file fails only itself, see
   * `FhirIngestor.ingestFiles` and `DicomIngestor.ingestFiles`); the others run one by one.
   */
  async ingestMany(srcs: IngestSource[]): Promise<Array<PromiseSettledResult<IngestJob>>> {
    const out: Array<PromiseSettledResult<IngestJob>> = new Array(srcs.length);
    for (const pipeline of ['fhir', 'dicom'] as const) {
      const mine = srcs.flatMap((src, at) => (pipelineOf(src) === pipeline ? [at] : []));
      if (mine.length > 0) (await this.pipelines[pipeline].ingestFiles(mine.map((at) => srcs[at]!))).forEach((result, i) => (out[mine[i]!] = result));
    }
    for (const [at, src] of srcs.entries()) {
      if (!out[at]) out[at] = await settled(() => this.ingest(src));
    }
    return out;
  }
}

function pipelineOf(src: IngestSource): keyof typeof INGEST_CONTENT_TYPES | undefined {
  const type = src.contentType.toLowerCase();
  const bare = type.split(';')[0]!.trim();
  return (Object.keys(INGEST_CONTENT_TYPES) as Array<keyof typeof INGEST_CONTENT_TYPES>).find((k) => (INGEST_CONTENT_TYPES[k] as readonly string[]).some((t) => t === type || t === bare));
}
