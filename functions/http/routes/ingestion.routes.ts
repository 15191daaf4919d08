import { z } from 'zod';
import { ACCEPTED_CONTENT_TYPES } from '../../core/ingestion/ingest-router';
import type { RouteDefinition } from '../route-definition';

/** Largest single object accepted into staging (R-ING-4); larger studies are uploaded per file. */
export const MAX_UPLOAD_BYTES = 512 * 1024 * 1024;

export const CreateUploadSchema = z
  .object({
    datasetId: z.string().regex(/^[a-z0-9-]{3,64}$/),
    fileName: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[^/\\\0]+$/, 'a file name, not a path'),
    // FHIR JSON/NDJSON, DICOM Part 10, documents (PDF, UTF-8 text, PNG, JPEG), CSV tables and their column mapping.
    contentType: z.enum(ACCEPTED_CONTENT_TYPES),
    sizeBytes: z.number().int().positive().max(MAX_UPLOAD_BYTES),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'lower-case hex SHA-256 of the file'),
    sourceSystem: z.string().max(64).optional(),
    patientRef: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9._-]+$/)
      .optional()
      .describe('Documents only: the source patient id or MRN of the patient the file belongs to (stored encrypted)'),
    institution: z.string().regex(/^[a-z0-9-]{3,64}$/).optional().describe('Institution the file comes from; data managers only, others upload for their own'),
  })
  .meta({ id: 'CreateUpload' });

export const UploadSchema = z
  .object({
    uploadId: z.string(),
    datasetId: z.string(),
    fileName: z.string(),
    contentType: z.string(),
    sizeBytes: z.number().int(),
    sha256: z.string(),
    status: z.enum(['awaiting-upload', 'received', 'accepted', 'rejected']),
    rejection: z.object({ code: z.enum(['CHECKSUM_MISMATCH', 'SIZE_MISMATCH', 'EMPTY_FILE', 'MISSING_OBJECT', 'INVALID_CONTENT']), detail: z.string() }).optional(),
    jobId: z.string().optional(),
    receivedAt: z.string().optional(),
    createdAt: z.string(),
    createdBy: z.string(),
  })
  .meta({ id: 'Upload' });

export const UploadTicketSchema = z
  .object({
    upload: UploadSchema,
    method: z.literal('PUT'),
    url: z.string().describe('Presigned S3 PUT URL into the staging prefix'),
    headers: z.record(z.string(), z.string()).describe('Headers the PUT must carry, including the SHA-256 checksum'),
    expiresAt: z.string(),
  })
  .meta({ id: 'UploadTicket' });

export const IngestJobSchema = z
  .object({
    jobId: z.string(),
    datasetId: z.string(),
    institution: z.string(),
    sourceSystem: z.string(),
    uploadId: z.string().optional(),
    fileName: z.string(),
    contentType: z.string(),
    sha256: z.string(),
    status: z.enum(['completed', 'failed']),
    startedAt: z.string(),
    finishedAt: z.string(),
    operator: z.string(),
    counts: z.object({ accepted: z.number().int(), rejected: z.number().int(), patients: z.number().int(), newPatients: z.number().int(), probableDuplicates: z.number().int(), timelineEvents: z.number().int() }),
    rejected: z.array(z.object({ line: z.number().int(), resourceType: z.string().optional(), code: z.string(), issues: z.array(z.string()) })),
  })
  .meta({ id: 'IngestJob' });

export const LineageSchema = z
  .object({
    sourceSystem: z.string(),
    institution: z.string(),
    sourceId: z.string().describe('`<type>/<id>` of the record in the source system'),
    fileName: z.string(),
    fileSha256: z.string(),
    uploadId: z.string().optional(),
    jobId: z.string(),
    transformations: z.array(z.object({ name: z.string(), version: z.string() })),
    operator: z.string(),
    at: z.string(),
  })
  .meta({ id: 'Lineage' });

export const IngestJobRecordsSchema = z
  .object({
    job: IngestJobSchema,
    records: z.array(z.object({ patientId: z.string(), resourceType: z.string(), id: z.string() })),
    cursor: z.string().optional(),
  })
  .meta({ id: 'IngestJobRecords' });

/** R-ING-4: uploads go through a staging area with a mandatory SHA-256 checksum. */
export const ingestionRoutes: RouteDefinition[] = [
  {
    operationId: 'createIngestUpload',
    method: 'POST',
    path: '/v1/ingest/uploads',
    module: 'ingestion',
    auth: 'user-or-partner',
    action: 'CreateUpload',
    summary: 'Reserve an upload into staging and get a presigned PUT URL',
    description:
      'The client PUTs the file to the returned URL with the returned headers; S3 rejects a body whose SHA-256 differs. The object is validated after upload before anything is accepted.',
    tags: ['ingestion'],
    auditCategory: 'data-change',
    request: { body: CreateUploadSchema, maxBodyBytes: 4096 },
    response: UploadTicketSchema,
    successStatus: 201,
  },
  {
    operationId: 'getIngestUpload',
    method: 'GET',
    path: '/v1/ingest/uploads/{uploadId}',
    module: 'ingestion',
    auth: 'user-or-partner',
    action: 'CreateUpload',
    summary: 'Status of an upload',
    tags: ['ingestion'],
    auditCategory: 'data-access',
    request: { params: z.object({ uploadId: z.string().regex(/^upl_[A-Za-z0-9]{10,40}$/) }) },
    response: UploadSchema,
  },
  {
    operationId: 'getIngestJob',
    method: 'GET',
    path: '/v1/ingest/jobs/{jobId}',
    module: 'ingestion',
    auth: 'user-or-partner',
    action: 'CreateUpload',
    summary: 'The report of one ingest job: counts, and every rejected item with its reason',
    tags: ['ingestion'],
    auditCategory: 'data-access',
    request: { params: z.object({ jobId: z.string().regex(/^job_[A-Za-z0-9]{10,40}$/) }) },
    response: IngestJobSchema,
  },
  {
    operationId: 'listIngestJobRecords',
    method: 'GET',
    path: '/v1/ingest/jobs/{jobId}/records',
    module: 'ingestion',
    auth: 'user-or-partner',
    action: 'CreateUpload',
    summary: 'Lineage per job (R-ING-6): the records whose current version the job wrote, with its report',
    tags: ['ingestion'],
    auditCategory: 'data-access',
    request: {
      params: z.object({ jobId: z.string().regex(/^job_[A-Za-z0-9]{10,40}$/) }),
      query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100), cursor: z.string().max(2048).optional() }),
    },
    response: IngestJobRecordsSchema,
  },
  {
    operationId: 'getRecordLineage',
    method: 'GET',
    path: '/v1/ingest/records/{patientId}/{resourceType}/{recordId}/lineage',
    module: 'ingestion',
    auth: 'user-or-partner',
    action: 'CreateUpload',
    summary: 'Lineage per record (R-ING-6): source system, file, job, transformations with versions, operator and time',
    tags: ['ingestion'],
    auditCategory: 'data-access',
    request: {
      params: z.object({
        patientId: z.string().regex(/^PT-[A-Z0-9]{6,24}$/).describe('Internal pseudonymous patient id'),
        resourceType: z.string().regex(/^[A-Z][A-Za-z]{1,63}$/),
        recordId: z.string().regex(/^[A-Za-z0-9.-]{1,64}$/),
      }),
    },
    response: LineageSchema,
  },
];
