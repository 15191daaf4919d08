import { z } from 'zod';
import { CURATED_EVENT_TYPES } from '../../core/patients/timeline-curation';
import type { RouteDefinition } from '../route-definition';

const PatientParams = z.object({ patientId: z.string().regex(/^PT-[A-Z0-9]{6,24}$/).describe('Internal pseudonymous patient id (never a vault value)') });
const EventParams = PatientParams.extend({ eventId: z.string().regex(/^[A-Za-z0-9_-]{3,80}$/) });
const Title = z.object({ zh: z.string().trim().max(200), en: z.string().trim().max(200) }).meta({ id: 'LocalizedTitle' });
const DateTime = z.iso.datetime({ offset: true });
const RecordRef = z.string().regex(/^[A-Z][A-Za-z]{1,40}\/[A-Za-z0-9_.-]{1,80}$/).describe('`<ResourceType>/<id>` of one of the patient’s records');
const FileId = z.string().regex(/^[A-Za-z0-9_-]{3,80}$/);

const CuratedEventSchema = z
  .object({
    eventId: z.string(),
    patientId: z.string(),
    type: z.string(),
    occurredAt: z.string(),
    endedAt: z.string().optional(),
    title: z.object({ zh: z.string(), en: z.string() }),
    recordRefs: z.array(z.string()),
    fileIds: z.array(z.string()),
    source: z.enum(['ingested', 'manual']),
    version: z.number().int().describe('Send it back as `expectedVersion` when editing (409 when stale)'),
    annotations: z.array(z.object({ annotationId: z.string(), at: z.string(), by: z.string(), byName: z.string().optional(), text: z.string() })),
    history: z.array(z.object({ version: z.number().int(), at: z.string(), by: z.string(), change: z.enum(['created', 'edited', 'annotated']), fields: z.array(z.string()) })),
    updatedAt: z.string().optional(),
    updatedBy: z.string().optional(),
  })
  .meta({ id: 'CuratedTimelineEvent' });

const ReleasedParams = z.object({
  grantId: z.string().regex(/^grt_[a-z0-9]{10,40}$/),
  token: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
  fileId: z.string().regex(/^[a-f0-9]{32}$/).describe('Grant-scoped file id from the released timeline'),
});

/**
 * Timeline curation for data managers (R-MPI-4, R-ANA-2) and inline previews for researchers
 * (R-ANA-2, R-DEID-1). Curation runs in the ingestion module (it writes the research store);
 * previews in the access module (grant checks, data-key decrypt, no identity vault).
 */
export const timelineRoutes: RouteDefinition[] = [
  {
    operationId: 'listCuratablePatients',
    method: 'GET',
    path: '/v1/patients',
    module: 'ingestion',
    auth: 'user',
    action: 'ReadPatientTimeline',
    summary: "The caller's institution's patients (pseudonymous ids and research facts, never vault values), to choose one to curate",
    tags: ['timeline'],
    auditCategory: 'data-access',
    request: { query: z.object({ q: z.string().trim().max(100).optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }) },
    response: z
      .object({
        items: z.array(z.object({ patientId: z.string(), datasetIds: z.array(z.string()), sex: z.string(), diagnosis: z.string().optional(), stage: z.string().optional(), updatedAt: z.string() })),
        total: z.number().int(),
      })
      .meta({ id: 'CuratablePatientPage' }),
  },
  {
    operationId: 'getPatientTimeline',
    method: 'GET',
    path: '/v1/patients/{patientId}/timeline',
    module: 'ingestion',
    auth: 'user',
    action: 'ReadPatientTimeline',
    resource: ({ params }) => ({ type: 'Patient', id: params.patientId ?? 'unknown' }),
    summary: "A patient's curated timeline (ingested and added events, versions, annotations) and file list, by pseudonymous id",
    tags: ['timeline'],
    auditCategory: 'data-access',
    request: { params: PatientParams },
    response: z
      .object({
        patientId: z.string(),
        events: z.array(CuratedEventSchema),
        files: z.array(z.object({ fileId: z.string(), kind: z.string(), contentType: z.string(), description: z.object({ zh: z.string(), en: z.string() }), eventId: z.string().optional() })),
      })
      .meta({ id: 'CuratedTimeline' }),
  },
  {
    operationId: 'addTimelineEvent',
    method: 'POST',
    path: '/v1/patients/{patientId}/timeline/events',
    module: 'ingestion',
    auth: 'user',
    action: 'CurateTimeline',
    resource: ({ params }) => ({ type: 'Patient', id: params.patientId ?? 'unknown' }),
    summary: 'Add a lifecycle event (first visit, surgery, radiotherapy or chemotherapy cycle, follow-up …) with linked records and files',
    tags: ['timeline'],
    auditCategory: 'data-change',
    request: {
      params: PatientParams,
      body: z
        .object({
          type: z.enum(CURATED_EVENT_TYPES),
          occurredAt: DateTime,
          endedAt: DateTime.optional(),
          title: Title,
          recordRefs: z.array(RecordRef).max(50).default([]),
          fileIds: z.array(FileId).max(50).default([]),
        })
        .meta({ id: 'NewTimelineEvent' }),
      maxBodyBytes: 16 * 1024,
    },
    response: CuratedEventSchema,
    successStatus: 201,
  },
  {
    operationId: 'editTimelineEvent',
    method: 'PATCH',
    path: '/v1/patients/{patientId}/timeline/events/{eventId}',
    module: 'ingestion',
    auth: 'user',
    action: 'CurateTimeline',
    resource: ({ params }) => ({ type: 'Patient', id: params.patientId ?? 'unknown' }),
    summary: 'Edit an event; `expectedVersion` must be the version you read (409 CONFLICT otherwise). Every version is kept',
    tags: ['timeline'],
    auditCategory: 'data-change',
    request: {
      params: EventParams,
      body: z
        .object({
          expectedVersion: z.number().int().min(0),
          type: z.enum(CURATED_EVENT_TYPES).optional(),
          occurredAt: DateTime.optional(),
          endedAt: DateTime.nullable().optional().describe('null removes the end'),
          title: Title.optional(),
          recordRefs: z.array(RecordRef).max(50).optional(),
          fileIds: z.array(FileId).max(50).optional(),
        })
        .meta({ id: 'TimelineEventEdit' }),
      maxBodyBytes: 16 * 1024,
    },
    response: CuratedEventSchema,
  },
  {
    operationId: 'annotateTimelineEvent',
    method: 'POST',
    path: '/v1/patients/{patientId}/timeline/events/{eventId}/annotations',
    module: 'ingestion',
    auth: 'user',
    action: 'CurateTimeline',
    resource: ({ params }) => ({ type: 'Patient', id: params.patientId ?? 'unknown' }),
    summary: 'Annotate an event (author and time kept; researchers see the text through the free-text scrubber)',
    tags: ['timeline'],
    auditCategory: 'data-change',
    request: {
      params: EventParams,
      body: z.object({ text: z.string().trim().min(1).max(4000), expectedVersion: z.number().int().min(0).optional() }).meta({ id: 'TimelineAnnotation' }),
      maxBodyBytes: 16 * 1024,
    },
    response: CuratedEventSchema,
    successStatus: 201,
  },
  {
    operationId: 'listTimelineEventVersions',
    method: 'GET',
    path: '/v1/patients/{patientId}/timeline/events/{eventId}/versions',
    module: 'ingestion',
    auth: 'user',
    action: 'ReadPatientTimeline',
    resource: ({ params }) => ({ type: 'Patient', id: params.patientId ?? 'unknown' }),
    summary: 'Every stored version of a curated event, oldest first',
    tags: ['timeline'],
    auditCategory: 'data-access',
    request: { params: EventParams },
    response: z.object({ items: z.array(CuratedEventSchema) }).meta({ id: 'TimelineEventVersions' }),
  },
  {
    operationId: 'previewReleasedFile',
    method: 'GET',
    path: '/v1/grants/{grantId}/patients/{token}/files/{fileId}/preview',
    module: 'access',
    auth: 'user',
    action: 'ReadResearchData',
    summary: 'Stream a released file de-identified for inline viewing: DICOM frame as PNG (window/level) or the de-identified DICOM, PDF as a de-identified text rendition, PNG re-encoded. Never the original',
    description:
      'Responses carry `Content-Disposition: inline` and `Cache-Control: no-store`. DICOM frames report the applied and default window in `X-Dicom-Window` / `X-Dicom-Default-Window` (`center/width`) and the frame count in `X-Dicom-Frames`.',
    tags: ['research'],
    auditCategory: 'data-access',
    request: {
      params: ReleasedParams,
      query: z.object({
        format: z.enum(['png', 'dicom']).optional(),
        frame: z.coerce.number().int().min(0).max(10_000).optional(),
        wc: z.coerce.number().min(-100_000).max(100_000).optional().describe('Window centre'),
        ww: z.coerce.number().min(1).max(200_000).optional().describe('Window width'),
      }),
    },
    response: z.string().meta({ format: 'binary' }).describe('application/pdf, image/png, application/dicom or text/plain'),
    examples: { query: { format: 'png', frame: 0, wc: 40, ww: 400 }, response: '\u0089PNG … (DICOM frame 0 rendered with window 40/400, binary)' },
    contentType: 'application/octet-stream',
  },
];
