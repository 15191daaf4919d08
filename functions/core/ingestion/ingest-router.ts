import { ZIP_CONTENT_TYPES, type DicomIngestor } from './dicom-ingestor';
import { DOCUMENT_CONTENT_TYPES, type DocumentIngestor } from './document-ingestor';
import type { FhirIngestor } from './fhir-ingestor';
import type { IngestJob } from './ingest-job';
import { IngestJobs, type IngestSource } from './ingest-support';
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
    const type = src.contentType.toLowerCase();
    const bare = type.split(';')[0]!.trim();
    const is = (list: readonly string[]) => list.includes(type) || list.includes(bare);
    if (is(INGEST_CONTENT_TYPES.fhir)) return this.pipelines.fhir.ingest(src);
    if (is(INGEST_CONTENT_TYPES.dicom)) return this.pipelines.dicom.ingest(src);
    if (is(INGEST_CONTENT_TYPES.document)) return this.pipelines.document.ingest(src);
    if (is(INGEST_CONTENT_TYPES.table)) return this.pipelines.table.ingest(src);
    const startedAt = this.now();
    return this.jobs.finish(src, { jobId: this.ids.next('job'), sha256: IngestJobs.sha256(src.bytes), startedAt }, {}, [
      { line: 0, code: 'UNSUPPORTED_CONTENT_TYPE', issues: [`contentType: ${bare.slice(0, 64)} is not processed`] },
    ]);
  }
}
