/**
 * Portal calls for timeline curation (data managers, R-MPI-4) and inline previews (researchers,
 * R-ANA-2). Functions over the shared {@link ApiClient}; previews are binary, so they are fetched
 * with the same bearer token but read as a Blob. Nothing is cached (`no-store`) and nothing is
 * offered as a download.
 */
import { ApiError, toApiError, type ApiClient } from './api-client';
import { currentIdToken } from './auth';

/** Event types a data manager can choose (the API's `CURATED_EVENT_TYPES`). */
export const CURATED_EVENT_TYPES = ['first-visit', 'visit', 'diagnosis', 'surgery', 'procedure', 'chemotherapy-cycle', 'radiotherapy-cycle', 'medication', 'imaging', 'report', 'follow-up', 'recurrence', 'other'] as const;
export type CuratedEventType = (typeof CURATED_EVENT_TYPES)[number];

export interface TimelineAnnotation {
  annotationId: string;
  at: string;
  by: string;
  byName?: string;
  text: string;
}

/** An event as curation sees it (research side; pseudonymous ids only). */
export interface CuratedEvent {
  eventId: string;
  patientId: string;
  type: string;
  occurredAt: string;
  endedAt?: string;
  title: { zh: string; en: string };
  recordRefs: string[];
  fileIds: string[];
  source: 'ingested' | 'manual';
  version: number;
  annotations: TimelineAnnotation[];
  history: Array<{ version: number; at: string; by: string; change: 'created' | 'edited' | 'annotated'; fields: string[] }>;
  updatedAt?: string;
  updatedBy?: string;
}

export interface CurationFile {
  fileId: string;
  kind: string;
  contentType: string;
  description: { zh: string; en: string };
  eventId?: string;
}

export interface CuratedTimeline {
  patientId: string;
  events: CuratedEvent[];
  files: CurationFile[];
}

export interface NewTimelineEvent {
  type: CuratedEventType;
  occurredAt: string;
  endedAt?: string;
  title: { zh: string; en: string };
  recordRefs?: string[];
  fileIds?: string[];
}

export type TimelineEventEdit = Partial<Omit<NewTimelineEvent, 'endedAt'>> & { expectedVersion: number; endedAt?: string | null };

const patientPath = (patientId: string) => `/v1/patients/${encodeURIComponent(patientId)}/timeline`;

/** `GET /v1/patients/{id}/timeline`. */
export function getPatientTimeline(api: ApiClient, patientId: string): Promise<CuratedTimeline> {
  return api.request<CuratedTimeline>('GET', patientPath(patientId));
}

/** `POST /v1/patients/{id}/timeline/events`. */
export function addTimelineEvent(api: ApiClient, patientId: string, body: NewTimelineEvent): Promise<CuratedEvent> {
  return api.request<CuratedEvent>('POST', `${patientPath(patientId)}/events`, body);
}

/** `PATCH …/events/{eventId}`: 409 `CONFLICT` when `expectedVersion` is stale. */
export function editTimelineEvent(api: ApiClient, patientId: string, eventId: string, body: TimelineEventEdit): Promise<CuratedEvent> {
  return api.request<CuratedEvent>('PATCH', `${patientPath(patientId)}/events/${encodeURIComponent(eventId)}`, body);
}

/** `POST …/events/{eventId}/annotations`. */
export function annotateTimelineEvent(api: ApiClient, patientId: string, eventId: string, text: string): Promise<CuratedEvent> {
  return api.request<CuratedEvent>('POST', `${patientPath(patientId)}/events/${encodeURIComponent(eventId)}/annotations`, { text });
}

/** Whether an error is the API's stale-version refusal. */
export function isStaleVersion(err: unknown): boolean {
  return err instanceof ApiError && err.code === 'CONFLICT';
}

/** A fetched preview: the de-identified bytes and what the server said about them. */
export interface PreviewResponse {
  blob: Blob;
  contentType: string;
  rendition?: string;
  policy?: string;
  dicom?: { window?: { center: number; width: number }; defaultWindow?: { center: number; width: number }; frames?: number; range?: { min: number; max: number } };
}

const pair = (v: string | null): { center: number; width: number } | undefined => {
  const m = v ? /^(-?[\d.e+-]+)\/(-?[\d.e+-]+)$/.exec(v) : null;
  return m ? { center: Number(m[1]), width: Number(m[2]) } : undefined;
};

/** Query of a preview request (`wc`/`ww`: DICOM window centre/width). */
export function previewPath(grantId: string, token: string, fileId: string, q: { wc?: number; ww?: number; frame?: number } = {}): string {
  const qs = new URLSearchParams();
  if (q.wc !== undefined) qs.set('wc', String(Math.round(q.wc)));
  if (q.ww !== undefined) qs.set('ww', String(Math.max(1, Math.round(q.ww))));
  if (q.frame !== undefined) qs.set('frame', String(q.frame));
  const s = qs.toString();
  return `/v1/grants/${encodeURIComponent(grantId)}/patients/${encodeURIComponent(token)}/files/${encodeURIComponent(fileId)}/preview${s ? `?${s}` : ''}`;
}

/** `GET …/files/{fileId}/preview`: the de-identified rendition, as a Blob for in-page rendering only. */
export async function fetchPreview(apiUrl: string, path: string, accept: string, signal?: AbortSignal): Promise<PreviewResponse> {
  const session = await currentIdToken();
  // API Gateway returns binary bodies only when the first Accept type is a binary media type.
  const headers: Record<string, string> = { Accept: accept };
  if (session?.token) headers.Authorization = `Bearer ${session.token}`;
  let res: Response;
  try {
    res = await fetch(`${apiUrl}${path}`, { headers, credentials: 'omit', cache: 'no-store', ...(signal ? { signal } : {}) });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError(0, 'NETWORK_ERROR', err instanceof Error ? err.message : String(err));
  }
  if (!res.ok) throw await toApiError(res);
  const frames = res.headers.get('x-dicom-frames');
  const range = pair(res.headers.get('x-dicom-range'));
  const window = pair(res.headers.get('x-dicom-window'));
  const defaultWindow = pair(res.headers.get('x-dicom-default-window'));
  return {
    blob: await res.blob(),
    contentType: res.headers.get('content-type') ?? 'application/octet-stream',
    rendition: res.headers.get('x-mdrp-rendition') ?? undefined,
    policy: res.headers.get('x-mdrp-deid-policy') ?? undefined,
    ...(window || defaultWindow || frames
      ? { dicom: { ...(window ? { window } : {}), ...(defaultWindow ? { defaultWindow } : {}), ...(frames ? { frames: Number(frames) } : {}), ...(range ? { range: { min: range.center, max: range.width } } : {}) } }
      : {}),
  };
}

/** A patient a data manager may curate: pseudonymous id and research facts only. */
export interface CuratablePatient {
  patientId: string;
  datasetIds: string[];
  sex: string;
  diagnosis?: string;
  stage?: string;
  updatedAt: string;
}

/** `GET /v1/patients`: the caller's institution's patients. */
export function listCuratablePatients(api: ApiClient, q?: string, limit = 100): Promise<{ items: CuratablePatient[]; total: number }> {
  const qs = new URLSearchParams({ limit: String(limit) });
  if (q?.trim()) qs.set('q', q.trim());
  return api.request<{ items: CuratablePatient[]; total: number }>('GET', `/v1/patients?${qs.toString()}`);
}
