import { z } from 'zod';
import { LEAK_FORMATS } from '../../core/reidentification/leak-format';
import { REIDENTIFICATION_APPROVER_ROLES, REIDENTIFICATION_REASONS } from '../../core/reidentification/reidentification-request';
import type { RouteDefinition } from '../route-definition';

const GrantId = z.string().regex(/^grt_[a-z0-9]{10,40}$/);
const Token = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/);
const RequestParams = z.object({ requestId: z.string().regex(/^rid_[a-z0-9]{10,40}$/) });

const Decision = z.object({ role: z.enum(REIDENTIFICATION_APPROVER_ROLES), decidedBy: z.string(), decidedByName: z.string().optional(), at: z.string(), comment: z.string().optional() });

export const ReidentificationRequestSchema = z
  .object({
    requestId: z.string(),
    grantId: z.string(),
    token: z.string().describe('The grant-scoped pseudonym to resolve'),
    requesterId: z.string(),
    requesterName: z.string(),
    reason: z.enum(REIDENTIFICATION_REASONS),
    justification: z.string(),
    status: z.enum(['pending', 'approved', 'rejected', 'consumed', 'expired']),
    approvals: z.array(Decision),
    rejection: Decision.extend({ comment: z.string() }).optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
    approvedAt: z.string().optional(),
    viewableUntil: z.string().optional().describe('The approved result must be viewed before this time'),
    consumedAt: z.string().optional().describe('When the one-time result was viewed'),
  })
  .meta({ id: 'ReidentificationRequest' });

const TraceCandidateSchema = z.object({
  grantId: z.string(),
  holderId: z.string(),
  holderName: z.string(),
  watermarkTags: z.number().int(),
  pseudonymsMatched: z.number().int(),
  markedTokens: z.number().int(),
  tokensChecked: z.number().int(),
  keyOrderMatched: z.number().int(),
  keyOrderChecked: z.number().int(),
  evidenceBits: z.number(),
});

/**
 * De-identification governance (R-DEID-3, R-DEID-6): controlled re-identification of one released
 * pseudonym (ethics reviewer + security administrator, two people, shown once) and tracing a
 * leaked file back to its grant. Served by the access handler (grants and releases live there).
 */
export const deidRoutes: RouteDefinition[] = [
  {
    operationId: 'requestReidentification',
    method: 'POST',
    path: '/v1/reidentification-requests',
    module: 'access',
    auth: 'user',
    action: 'RequestReidentification',
    summary: 'Ask for one released pseudonym of your grant to be resolved to its source institution and record number (R-DEID-3)',
    tags: ['reidentification'],
    auditCategory: 'permission',
    request: {
      body: z
        .object({
          grantId: GrantId,
          token: Token,
          reason: z.enum(REIDENTIFICATION_REASONS),
          justification: z.string().trim().min(20).max(4000).describe('Why the patient must be found (e.g. the incidental finding to report); read by the approvers'),
        })
        .meta({ id: 'ReidentificationRequestInput' }),
      maxBodyBytes: 16 * 1024,
    },
    response: ReidentificationRequestSchema,
    successStatus: 201,
  },
  {
    operationId: 'listReidentificationRequests',
    method: 'GET',
    path: '/v1/reidentification-requests',
    module: 'access',
    auth: 'user',
    action: 'ListReidentificationRequests',
    summary: "The caller's re-identification requests, or the approval queue of an ethics reviewer / security administrator",
    tags: ['reidentification'],
    auditCategory: 'permission',
    request: { query: z.object({ view: z.enum(['mine', 'queue']).default('mine') }) },
    response: z.object({ items: z.array(ReidentificationRequestSchema) }).meta({ id: 'ReidentificationRequestList' }),
  },
  {
    operationId: 'getReidentificationRequest',
    method: 'GET',
    path: '/v1/reidentification-requests/{requestId}',
    module: 'access',
    auth: 'user',
    action: 'ListReidentificationRequests',
    summary: 'One re-identification request (its requester, approvers and auditors); never the result',
    tags: ['reidentification'],
    auditCategory: 'permission',
    request: { params: RequestParams },
    response: ReidentificationRequestSchema,
  },
  {
    operationId: 'decideReidentificationRequest',
    method: 'POST',
    path: '/v1/reidentification-requests/{requestId}/decisions',
    module: 'access',
    auth: 'user',
    action: 'DecideReidentification',
    summary: 'Approve or reject: one ethics reviewer and one security administrator, two different people, never the requester',
    tags: ['reidentification'],
    auditCategory: 'permission',
    request: {
      params: RequestParams,
      body: z.object({ outcome: z.enum(['approved', 'rejected']), comment: z.string().trim().max(4000).optional() }).meta({ id: 'ReidentificationDecision' }),
      maxBodyBytes: 16 * 1024,
    },
    response: ReidentificationRequestSchema,
  },
  {
    operationId: 'viewReidentificationResult',
    method: 'POST',
    path: '/v1/reidentification-requests/{requestId}/result',
    module: 'access',
    auth: 'user',
    action: 'ReadReidentificationResult',
    summary: 'The one-time view of an approved re-identification (requester only); a second call is 410 GONE',
    description:
      'Reveals where the patient can be found, not who they are: the source institution, its patient reference and the medical record number. POST because it consumes the result.',
    tags: ['reidentification'],
    auditCategory: 'data-access',
    request: { params: RequestParams },
    response: z
      .object({
        requestId: z.string(),
        grantId: z.string(),
        token: z.string(),
        sources: z.array(z.object({ institution: z.string(), sourcePatientReference: z.string(), mrn: z.string().optional() })),
        revealedAt: z.string(),
        notice: z.string(),
      })
      .meta({ id: 'ReidentificationResult' }),
  },
  {
    operationId: 'traceLeak',
    method: 'POST',
    path: '/v1/leak-traces',
    module: 'access',
    auth: 'user',
    action: 'TraceLeak',
    summary: 'Trace a leaked file (FHIR JSON/NDJSON, CSV of released rows or a DICOM file) to the grant it was released under, with a confidence (R-DEID-6)',
    tags: ['reidentification', 'security'],
    auditCategory: 'security',
    request: {
      body: z
        .object({
          content: z.string().min(1).max(4_000_000).optional().describe('The leaked file as text (FHIR JSON/NDJSON, CSV)'),
          contentBase64: z
            .string()
            .min(4)
            .max(4_000_000)
            .regex(/^[A-Za-z0-9+/]+={0,2}$/)
            .optional()
            .describe('The leaked file as base64 bytes: required for DICOM, accepted for the text formats'),
          format: z.enum(LEAK_FORMATS).optional().describe('Detected when omitted'),
        })
        .refine((b) => (b.content === undefined) !== (b.contentBase64 === undefined), { message: 'send exactly one of content and contentBase64' })
        .meta({ id: 'LeakTraceInput' }),
      maxBodyBytes: 5 * 1024 * 1024,
    },
    response: z
      .object({
        traced: z.boolean(),
        format: z.enum(LEAK_FORMATS),
        records: z.number().int(),
        grantsConsidered: z.number().int(),
        grantId: z.string().optional(),
        holderId: z.string().optional(),
        holderName: z.string().optional(),
        confidence: z.number().min(0).max(1),
        candidates: z.array(TraceCandidateSchema),
      })
      .meta({ id: 'LeakTraceResult' }),
  },
];
