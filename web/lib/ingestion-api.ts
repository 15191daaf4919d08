/**
 * Portal calls for ingestion (R-ING-4, R-ING-5) and master patient index review (R-MPI-2):
 * functions over the shared {@link ApiClient}. The file itself goes from the browser straight to
 * the presigned staging URL (never through the API), after its SHA-256 is computed locally.
 */
import type { ApiClient } from './api-client';
import type { components } from './api-schema';

/** What the upload form offers, by the pipeline the API routes each content type to. */
export const UPLOAD_KINDS = [
  { id: 'fhir-ndjson', contentType: 'application/fhir+ndjson', pattern: /\.ndjson$/i },
  { id: 'fhir-json', contentType: 'application/fhir+json', pattern: /\.json$/i },
  { id: 'dicom', contentType: 'application/dicom', pattern: /\.dcm$/i },
  { id: 'zip', contentType: 'application/zip', pattern: /\.zip$/i },
  { id: 'pdf', contentType: 'application/pdf', pattern: /\.pdf$/i },
  { id: 'text', contentType: 'text/plain; charset=utf-8', pattern: /\.txt$/i },
  { id: 'png', contentType: 'image/png', pattern: /\.png$/i },
  { id: 'jpeg', contentType: 'image/jpeg', pattern: /\.jpe?g$/i },
  { id: 'csv', contentType: 'text/csv; charset=utf-8', pattern: /\.csv$/i },
  { id: 'xlsx', contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', pattern: /\.xlsx$/i },
  { id: 'mapping', contentType: 'application/vnd.mdrp.column-mapping+json', pattern: /column-mapping\.json$/i },
] as const;
export type UploadKindId = (typeof UPLOAD_KINDS)[number]['id'];

/** Kinds whose files carry no patient header: the form asks for the patient reference. */
export const KINDS_NEEDING_PATIENT_REF: readonly UploadKindId[] = ['pdf', 'text', 'png', 'jpeg'];

/** The kind a file name suggests (the column mapping before generic JSON). */
export function guessKind(fileName: string): UploadKindId | undefined {
  const mapping = UPLOAD_KINDS.find((k) => k.id === 'mapping')!;
  if (mapping.pattern.test(fileName)) return 'mapping';
  return UPLOAD_KINDS.find((k) => k.id !== 'mapping' && k.pattern.test(fileName))?.id;
}

export function contentTypeOf(kind: UploadKindId): string {
  return UPLOAD_KINDS.find((k) => k.id === kind)!.contentType;
}

export interface Upload {
  uploadId: string;
  datasetId: string;
  fileName: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  status: 'awaiting-upload' | 'received' | 'accepted' | 'rejected';
  rejection?: { code: string; detail: string };
  jobId?: string;
}

export interface UploadTicket {
  upload: Upload;
  method: 'PUT';
  url: string;
  headers: Record<string, string>;
  expiresAt: string;
}

export interface IngestJob {
  jobId: string;
  fileName: string;
  status: 'completed' | 'failed';
  counts: { accepted: number; rejected: number; patients: number; newPatients: number; probableDuplicates: number; timelineEvents: number };
  rejected: Array<{ line: number; resourceType?: string; code: string; issues: string[] }>;
}

export interface CreateUploadBody {
  datasetId: string;
  fileName: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  sourceSystem?: string;
  patientRef?: string;
  institution?: string;
}

/** Lower-case hex SHA-256 of a file, computed in the browser (WebCrypto). */
export async function sha256Hex(file: Blob): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function createUpload(api: ApiClient, body: CreateUploadBody): Promise<UploadTicket> {
  return api.request<UploadTicket>('POST', '/v1/ingest/uploads', body);
}

export function getUpload(api: ApiClient, uploadId: string): Promise<Upload> {
  return api.request<Upload>('GET', `/v1/ingest/uploads/${encodeURIComponent(uploadId)}`);
}

export function getJob(api: ApiClient, jobId: string): Promise<IngestJob> {
  return api.request<IngestJob>('GET', `/v1/ingest/jobs/${encodeURIComponent(jobId)}`);
}

/** R-ING-6: where a record came from and what was done to it (generated from the API's schema). */
export type Lineage = components['schemas']['Lineage'];
/** A record an ingest job wrote (internal pseudonymous patient id). */
export type JobRecord = components['schemas']['IngestJobRecords']['records'][number];

/** One page of the records a job wrote, with its report (lineage per job). */
export function jobRecords(api: ApiClient, jobId: string, cursor?: string): Promise<components['schemas']['IngestJobRecords']> {
  const query = new URLSearchParams({ limit: '50', ...(cursor ? { cursor } : {}) });
  return api.request('GET', `/v1/ingest/jobs/${encodeURIComponent(jobId)}/records?${query}`);
}

export function recordLineage(api: ApiClient, r: JobRecord): Promise<Lineage> {
  return api.request<Lineage>('GET', `/v1/ingest/records/${encodeURIComponent(r.patientId)}/${encodeURIComponent(r.resourceType)}/${encodeURIComponent(r.id)}/lineage`);
}

/**
 * PUTs the file to the presigned staging URL with the signed headers, reporting progress.
 * XMLHttpRequest, because fetch has no upload progress.
 */
export function putToStaging(ticket: UploadTicket, file: Blob, onProgress: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', ticket.url);
    for (const [k, v] of Object.entries(ticket.headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new Error(`STAGING_PUT_${xhr.status}`)));
    xhr.onerror = () => reject(new Error('STAGING_PUT_NETWORK'));
    xhr.send(file);
  });
}

/** Polls the upload until processing has an outcome (or the time runs out). */
export async function waitForOutcome(api: ApiClient, uploadId: string, timeoutMs = 120_000): Promise<Upload> {
  const until = Date.now() + timeoutMs;
  let delay = 500;
  for (;;) {
    const u = await getUpload(api, uploadId);
    if (u.status === 'accepted' || u.status === 'rejected' || Date.now() > until) return u;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(3000, Math.round(delay * 1.5));
  }
}

/** One source of a patient in a review case, masked (R-MPI-2). */
export interface MaskedSource {
  institution: string;
  maskedName: string;
  birthYear?: number;
  sex: string;
  identifierKinds: string[];
}

export interface ReviewPatient {
  patientId: string;
  sources: MaskedSource[];
  datasets: string[];
  records: number;
  timelineEvents: number;
  files: number;
  mergedInto?: string;
}

export interface MpiReviewCase {
  reviewId: string;
  reason: string;
  openedAt: string;
  status: 'open' | 'merged' | 'dismissed';
  patient: ReviewPatient;
  candidate: ReviewPatient;
}

export interface PatientMerge {
  mergeId: string;
  survivorId: string;
  mergedId: string;
  status: 'merging' | 'merged' | 'unmerging' | 'unmerged';
  mergedAt: string;
  mergedBy: string;
  unmergedAt?: string;
  counts: { records: number; timelineEvents: number; files: number; datasets: number; sources: number };
}

export async function listReviews(api: ApiClient): Promise<MpiReviewCase[]> {
  return (await api.request<{ cases: MpiReviewCase[] }>('GET', '/v1/mpi/reviews?status=open')).cases;
}

export async function listMerges(api: ApiClient): Promise<PatientMerge[]> {
  return (await api.request<{ merges: PatientMerge[] }>('GET', '/v1/mpi/merges')).merges;
}

export function mergePatients(api: ApiClient, reviewId: string, survivorPatientId: string): Promise<PatientMerge> {
  return api.request<PatientMerge>('POST', '/v1/mpi/merges', { reviewId, survivorPatientId });
}

export function unmergePatients(api: ApiClient, mergeId: string): Promise<PatientMerge> {
  return api.request<PatientMerge>('POST', `/v1/mpi/merges/${encodeURIComponent(mergeId)}/unmerge`);
}

export function dismissReview(api: ApiClient, reviewId: string): Promise<MpiReviewCase> {
  return api.request<MpiReviewCase>('POST', `/v1/mpi/reviews/${encodeURIComponent(reviewId)}/dismissal`);
}
