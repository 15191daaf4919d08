import { PNG } from 'pngjs';
import type { CatalogService } from '../catalog/catalog-service';
import type { PatientIndex } from '../patients/patient-index';
import type { ResearchRecords } from '../patients/research-records';
import type { Clock } from '../ports/clock';
import type { DocumentParser } from '../ports/document-parser';
import type { DocumentStore } from '../ports/document-store';
import type { IdGenerator } from '../ports/id-generator';
import { platformIdOf } from './fhir-ingestor';
import type { IngestJob, Lineage } from './ingest-job';
import { fileIdOf, IngestJobs, jobLineageOf, resolvePatient, wholeFile, type IngestSource } from './ingest-support';

/** Version of the document pipeline, recorded in lineage. */
export const DOCUMENT_INGEST_VERSION = 'document-ingest/1.0.0';

/** Content types of unstructured documents (R-ING-1). */
export const DOCUMENT_CONTENT_TYPES = ['application/pdf', 'text/plain', 'image/png', 'image/jpeg'] as const;

type Kind = 'pdf' | 'text' | 'image';

/** What was read from a document, before storage. */
interface Inspected {
  kind: Kind;
  contentType: string;
  pageCount?: number;
  /** Extracted text (PDF): PHI, stored only as an encrypted object. */
  text?: string;
  width?: number;
  height?: number;
}

/**
 * Ingestion of unstructured documents: PDF (page count and text via the {@link DocumentParser}
 * port), UTF-8 text reports, PNG and JPEG images (R-ING-1, -3, -5, -6).
 *
 * Patient link: documents carry no patient header, so the upload declares it — `patientRef` is
 * the source system's patient id or the institution's MRN, resolved through the master patient
 * index within the uploader's institution (never creating a patient). A document without it is
 * rejected (`MISSING_PATIENT_LINK`), one naming an unknown patient too (`UNKNOWN_PATIENT`).
 *
 * Everything that may hold PHI — the original, and the text extracted from a PDF — is stored
 * envelope-encrypted in the data bucket; the database record holds only sizes, page counts,
 * dimensions, hashes and file ids.
 */
export class DocumentIngestor {
  private readonly jobs: IngestJobs;

  constructor(
    store: DocumentStore,
    private readonly index: PatientIndex,
    private readonly records: ResearchRecords,
    private readonly catalog: CatalogService,
    private readonly parser: DocumentParser,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {
    this.jobs = new IngestJobs(store, clock);
  }

  async ingest(src: IngestSource): Promise<IngestJob> {
    const sha256 = IngestJobs.sha256(src.bytes);
    const previous = await this.jobs.previous(src.datasetId, sha256, src.institution);
    if (previous) return previous;
    const base = { jobId: this.ids.next('job'), sha256, startedAt: new Date(this.clock.now()).toISOString() };
    if (src.bytes.byteLength === 0) return this.jobs.finish(src, base, {}, [wholeFile('EMPTY_FILE', 'the file is empty')]);

    let doc: Inspected;
    try {
      doc = await this.inspect(src);
    } catch (e) {
      return this.jobs.finish(src, base, {}, [{ line: 0, resourceType: 'Document', code: 'INVALID_DOCUMENT', issues: [e instanceof Error ? e.message.slice(0, 200) : 'unreadable document'] }]);
    }
    if (!src.patientRef?.trim()) return this.jobs.finish(src, base, {}, [wholeFile('MISSING_PATIENT_LINK', 'patientRef: the upload must name the patient (source patient id or MRN)')]);
    const patientId = await resolvePatient(this.index, src.institution, src.patientRef);
    if (!patientId) return this.jobs.finish(src, base, {}, [{ line: 0, resourceType: 'Document', code: 'UNKNOWN_PATIENT', issues: ['patientRef does not name a known patient of this institution'] }]);

    const recordId = platformIdOf(src.institution, 'DocumentFile', sha256);
    const fileId = fileIdOf(src.institution, 'document', sha256);
    const textFileId = doc.text !== undefined ? fileIdOf(src.institution, 'document-text', sha256) : undefined;
    // File names often carry the MRN (e.g. `<hospital>_<MRN>_…pdf`): it becomes the pseudonym.
    const fileName = src.fileName.split(src.patientRef.trim()).join(patientId);
    const description = { zh: fileName, en: fileName };
    await this.records.saveFiles([
      { meta: { fileId, patientId, kind: doc.kind, contentType: doc.contentType, fileName, description, datasetId: src.datasetId }, bytes: src.bytes },
      ...(textFileId ? [{ meta: { fileId: textFileId, patientId, kind: 'document-text', contentType: 'text/plain; charset=utf-8', fileName: `${fileName}.txt`, description, datasetId: src.datasetId }, bytes: new TextEncoder().encode(doc.text) }] : []),
    ]);
    const record = {
      resourceType: 'DocumentReference',
      id: recordId,
      status: 'current',
      subject: { reference: `Patient/${patientId}` },
      category: [{ text: doc.kind }],
      content: [
        {
          attachment: { contentType: doc.contentType, size: src.bytes.byteLength, sha256, fileId },
          ...(doc.pageCount !== undefined ? { pageCount: doc.pageCount } : {}),
          ...(doc.width !== undefined ? { width: doc.width, height: doc.height } : {}),
          ...(textFileId ? { extractedText: { fileId: textFileId, characters: doc.text!.length } } : {}),
        },
      ],
    };
    const transformations = [
      { name: `inspect-${doc.kind}`, version: DOCUMENT_INGEST_VERSION },
      { name: 'link-patient-by-declared-ref', version: DOCUMENT_INGEST_VERSION },
      ...(textFileId ? [{ name: 'extract-text-encrypted', version: DOCUMENT_INGEST_VERSION }] : []),
    ];
    const lineage: Lineage = { ...jobLineageOf(src, base, transformations, { name: fileName, sha256 }), sourceId: `Document/${sha256.slice(0, 16)}` };
    await this.records.saveRecord(patientId, record, lineage);
    const job = await this.jobs.finish(src, base, { accepted: 1, patients: 1 }, []);
    // A document links an indexed patient and never adds one to the dataset: the patient count stands.
    await this.catalog.recordIngest(src.datasetId, { records: 1, files: 1, at: job.finishedAt });
    return job;
  }

  getJob(jobId: string): Promise<IngestJob | undefined> {
    return this.jobs.get(jobId);
  }

  private async inspect(src: IngestSource): Promise<Inspected> {
    const type = src.contentType.split(';')[0]!.trim().toLowerCase();
    const b = src.bytes;
    if (type === 'application/pdf') {
      if (new TextDecoder().decode(b.subarray(0, 5)) !== '%PDF-') throw new Error('not a PDF (no %PDF- header)');
      const { pageCount, text } = await this.parser.parsePdf(b);
      return { kind: 'pdf', contentType: type, pageCount, text };
    }
    if (type === 'text/plain') {
      // Reports must be UTF-8 (GBK exports are converted at the source).
      new TextDecoder('utf-8', { fatal: true }).decode(b);
      return { kind: 'text', contentType: 'text/plain; charset=utf-8' };
    }
    if (type === 'image/png') {
      const png = PNG.sync.read(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
      return { kind: 'image', contentType: type, width: png.width, height: png.height };
    }
    if (type === 'image/jpeg') return { kind: 'image', contentType: type, ...jpegSize(b) };
    throw new Error(`unsupported document type ${type}`);
  }
}

/** Dimensions from the first SOF marker of a JPEG (baseline, progressive or lossless). */
export function jpegSize(b: Uint8Array): { width: number; height: number } {
  if (b[0] !== 0xff || b[1] !== 0xd8) throw new Error('not a JPEG (no SOI marker)');
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) throw new Error('malformed JPEG marker stream');
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i += 1;
      continue;
    }
    const len = (b[i + 2]! << 8) | b[i + 3]!;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const height = (b[i + 5]! << 8) | b[i + 6]!;
      const width = (b[i + 7]! << 8) | b[i + 8]!;
      if (!width || !height) throw new Error('JPEG without dimensions');
      return { width, height };
    }
    i += 2 + len;
  }
  throw new Error('JPEG without a frame header (truncated)');
}
