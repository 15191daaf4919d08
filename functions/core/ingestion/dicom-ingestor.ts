import type { CatalogService } from '../catalog/catalog-service';
import type { PatientIndex } from '../patients/patient-index';
import type { ResearchRecords, TimelineEvent } from '../patients/research-records';
import type { Clock } from '../ports/clock';
import type { IdGenerator } from '../ports/id-generator';
import { DicomParseError, parseDicom, renderPreview, type DicomSummary } from './dicom-image';
import { platformIdOf } from './fhir-ingestor';
import type { IngestJob, Lineage } from './ingest-job';
import { fileIdOf, IngestJobs, wholeFile, type IngestSource } from './ingest-support';
import { localToUtc } from './local-time';

/** Version of the DICOM pipeline, recorded in lineage. */
export const DICOM_INGEST_VERSION = 'dicom-ingest/1.0.0';

/** One instance as listed in the study record (no patient attributes). */
interface StudyInstance {
  sopInstanceUid: string;
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
  series: Array<{ seriesInstanceUid: string; modality: string; number?: number; description?: string; bodySite?: string; instances: StudyInstance[] }>;
}

/**
 * Ingestion of DICOM Part 10 instances (R-ING-1, -3, -4, -5, -6, -7):
 * - the file must be Part 10 with pixel data, else it is rejected with a reason;
 * - the patient is found by PatientID = MRN within the uploader's institution (keyed-hash match);
 *   DICOM never creates patients (its demographics are not trusted for the index);
 * - the original is stored envelope-encrypted, with a server-rendered PNG preview beside it;
 * - the study becomes one ImagingStudy-like record (no PatientName/PatientID/birth date) and one
 *   `imaging` timeline event at the study date, both merged instance by instance;
 * - idempotent: same bytes → the earlier report; same SOP instance → the same file ids.
 */
export class DicomIngestor {
  private readonly jobs: IngestJobs;

  constructor(
    store: ConstructorParameters<typeof IngestJobs>[0],
    private readonly index: PatientIndex,
    private readonly records: ResearchRecords,
    private readonly catalog: CatalogService,
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

    let parsed;
    try {
      parsed = parseDicom(src.bytes);
    } catch (e) {
      if (e instanceof DicomParseError) return this.jobs.finish(src, base, {}, [{ line: 0, resourceType: 'DICOM', code: e.code, issues: [e.message] }]);
      throw e;
    }
    const patientId = await this.index.lookupMrn(src.institution, parsed.patientId);
    if (!patientId) return this.jobs.finish(src, base, {}, [{ line: 0, resourceType: 'DICOM', code: 'UNKNOWN_PATIENT', issues: ['PatientID (0010,0020) is not the MRN of a known patient of this institution'] }]);

    const s = parsed.summary;
    const studyId = platformIdOf(src.institution, 'DicomStudy', s.studyInstanceUid);
    const eventId = `ev-img-${studyId.slice(2)}`; // from the hashed id: never reveals the study UID
    const fileId = fileIdOf(src.institution, 'dicom', s.sopInstanceUid);
    const preview = renderPreview(parsed);
    const previewFileId = preview ? fileIdOf(src.institution, 'dicom-preview', s.sopInstanceUid) : undefined;
    const label = s.seriesDescription ?? s.studyDescription ?? s.modality;
    await this.records.saveFiles([
      { meta: { fileId, patientId, kind: 'dicom', contentType: 'application/dicom', fileName: `${s.sopInstanceUid}.dcm`, eventId, description: { zh: label, en: label }, datasetId: src.datasetId }, bytes: src.bytes },
      ...(preview && previewFileId
        ? [{ meta: { fileId: previewFileId, patientId, kind: 'dicom-preview', contentType: 'image/png', fileName: `${s.sopInstanceUid}.png`, eventId, description: { zh: `${label}（预览）`, en: `${label} (preview)` }, datasetId: src.datasetId }, bytes: preview }]
        : []),
    ]);

    const occurredAt = s.studyDate ? (localToUtc(`${s.studyDate} ${timeOf(s.studyTime)}`) ?? localToUtc(s.studyDate)) : undefined;
    const record = mergeStudy((await this.records.getRecord(patientId, 'ImagingStudy', studyId)) as ImagingStudyRecord | undefined, studyId, patientId, s, occurredAt, { fileId, ...(previewFileId ? { previewFileId } : {}) });
    const existing = occurredAt ? (await this.records.timeline(patientId)).find((e) => e.eventId === eventId) : undefined;
    const title = s.studyDescription ?? `${s.modality} study`;
    const event: TimelineEvent | undefined = occurredAt
      ? {
          eventId,
          patientId,
          type: 'imaging',
          occurredAt,
          title: existing?.title ?? { zh: title, en: title },
          recordRefs: [`ImagingStudy/${studyId}`],
          fileIds: [...new Set([...(existing?.fileIds ?? []), fileId, ...(previewFileId ? [previewFileId] : [])])],
          source: 'ingested',
          annotations: existing?.annotations ?? [],
        }
      : undefined;
    const lineage: Lineage = {
      sourceSystem: src.sourceSystem,
      institution: src.institution,
      sourceId: `DicomInstance/${s.sopInstanceUid}`,
      fileName: src.fileName,
      fileSha256: sha256,
      ...(src.uploadId ? { uploadId: src.uploadId } : {}),
      jobId: base.jobId,
      transformations: [
        { name: 'parse-dicom-part10', version: DICOM_INGEST_VERSION },
        { name: 'match-patient-by-mrn', version: DICOM_INGEST_VERSION },
        { name: 'drop-patient-attributes', version: DICOM_INGEST_VERSION },
        ...(preview ? [{ name: 'render-preview-png', version: DICOM_INGEST_VERSION }] : []),
      ],
      operator: src.operator,
      at: base.startedAt,
    };
    await this.records.saveRecord(patientId, record, lineage, event);
    const job = await this.jobs.finish(src, base, { accepted: 1, patients: 1, timelineEvents: event && !existing ? 1 : 0 }, []);
    await this.catalog.recordIngest(src.datasetId, { records: 0, files: 1, patientCount: (await this.records.profilesOf(src.datasetId)).length, at: job.finishedAt });
    return job;
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

/** Adds (or replaces) one instance in the study record; series and counts follow. */
function mergeStudy(existing: ImagingStudyRecord | undefined, id: string, patientId: string, s: DicomSummary, started: string | undefined, files: { fileId: string; previewFileId?: string }): ImagingStudyRecord {
  const series = (existing?.series ?? []).map((x) => ({ ...x, instances: [...x.instances] }));
  let one = series.find((x) => x.seriesInstanceUid === s.seriesInstanceUid);
  if (!one) {
    one = { seriesInstanceUid: s.seriesInstanceUid, modality: s.modality, ...(s.seriesNumber !== undefined ? { number: s.seriesNumber } : {}), ...(s.seriesDescription ? { description: s.seriesDescription } : {}), ...(s.bodyPart ? { bodySite: s.bodyPart } : {}), instances: [] };
    series.push(one);
  }
  const instance: StudyInstance = {
    sopInstanceUid: s.sopInstanceUid,
    sopClassUid: s.sopClassUid,
    ...(s.instanceNumber !== undefined ? { instanceNumber: s.instanceNumber } : {}),
    rows: s.rows,
    columns: s.columns,
    frames: s.frames,
    bitsAllocated: s.bitsAllocated,
    bitsStored: s.bitsStored,
    photometricInterpretation: s.photometricInterpretation,
    transferSyntaxUid: s.transferSyntaxUid,
    ...files,
  };
  one.instances = [...one.instances.filter((i) => i.sopInstanceUid !== s.sopInstanceUid), instance].sort((a, b) => (a.instanceNumber ?? 0) - (b.instanceNumber ?? 0));
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
    numberOfInstances: series.reduce((n, x) => n + x.instances.length, 0),
    series,
  };
}

/** For tests and tools: the stable id of a study's record. */
export function studyRecordIdOf(institution: string, studyInstanceUid: string): string {
  return platformIdOf(institution, 'DicomStudy', studyInstanceUid);
}

