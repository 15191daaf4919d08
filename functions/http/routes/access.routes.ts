import { z } from 'zod';
import { MAX_REQUEST_DAYS } from '../../core/access/access-request-service';
import { PURPOSE_CODES } from '../../core/access/access-request';
import type { RouteDefinition } from '../route-definition';

const ReviewStep = z.enum(['ethics', 'approver', 'data-owner', 'security-admin']);
const Scope = z
  .object({
    datasetIds: z.array(z.string().regex(/^[a-z0-9-]{3,64}$/)).min(1).max(20),
    modalities: z.array(z.enum(['clinical', 'imaging', 'documents', 'nursing', 'vital-signs', 'labs'])).max(10).default([]),
    fields: z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/)).max(200).default([]),
  })
  .meta({ id: 'RequestScope' });

export const SubmitAccessRequestSchema = z
  .object({
    title: z.string().trim().min(5).max(200),
    purposeCode: z.enum(Object.keys(PURPOSE_CODES) as [keyof typeof PURPOSE_CODES]).describe('GA4GH DUO code of the purpose'),
    purpose: z.string().trim().min(10).max(2000),
    academicStatement: z.string().trim().min(50).max(10_000).describe('Detailed academic-use statement (R-GOV-2)'),
    scope: Scope,
    requestedDurationDays: z.number().int().min(1).max(MAX_REQUEST_DAYS),
    agreementVersion: z.string().max(32),
    agreementAccepted: z.literal(true, 'the data sharing agreement must be accepted'),
    reviewType: z.enum(['expedited', 'full-board']).optional(),
    attachments: z
      .array(
        z.object({
          kind: z.enum(['protocol', 'ethics-approval', 'consent-form', 'other']),
          fileName: z.string().min(1).max(255),
          sha256: z.string().regex(/^[0-9a-f]{64}$/),
        }),
      )
      .max(20)
      .optional(),
    renewsGrantId: z.string().max(64).optional(),
  })
  .meta({ id: 'SubmitAccessRequest' });

export const AccessRequestSchema = z
  .object({
    requestId: z.string(),
    applicantId: z.string(),
    applicantName: z.string(),
    institution: z.string(),
    title: z.string(),
    purposeCode: z.string(),
    purpose: z.string(),
    academicStatement: z.string(),
    scope: Scope,
    requestedDurationDays: z.number().int(),
    agreement: z.object({ version: z.string(), acceptedAt: z.string() }),
    attachments: z.array(z.object({ attachmentId: z.string(), kind: z.string(), fileName: z.string(), sha256: z.string(), version: z.number().int(), uploadedAt: z.string(), sizeBytes: z.number().int().optional(), contentType: z.string().optional() })),
    securityLevel: z.number().int(),
    patientCount: z.number().int(),
    approvalChain: z.array(ReviewStep),
    reviewType: z.enum(['expedited', 'full-board']),
    status: z.enum(['ethics-review', 'changes-requested', 'approval', 'more-info', 'approved', 'rejected', 'failed']),
    pending: z
      .object({ kind: z.enum(['review', 'applicant']), step: ReviewStep, stepIndex: z.number().int(), role: z.string(), openedAt: z.string(), escalations: z.number().int() })
      .optional()
      .describe('The human step the workflow waits on (its task token is never exposed)'),
    history: z.array(z.object({ at: z.string(), actorId: z.string(), actorName: z.string().optional(), action: z.string(), step: ReviewStep.optional(), comment: z.string().optional() })),
    grantId: z.string().optional(),
    renewsGrantId: z.string().optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'AccessRequest' });

export const GrantSchema = z
  .object({
    grantId: z.string(),
    requestId: z.string(),
    holderId: z.string(),
    holderName: z.string(),
    institution: z.string(),
    scope: Scope,
    purposeCode: z.string(),
    dataLevel: z.number().int(),
    agreementVersion: z.string(),
    startsAt: z.string(),
    expiresAt: z.string(),
    status: z.enum(['active', 'revoked', 'expired']),
    issuedAt: z.string(),
    approvals: z.array(z.object({ step: z.string(), decidedBy: z.string(), at: z.string() })),
    revokedAt: z.string().optional(),
    revokedBy: z.string().optional(),
    revokeReason: z.string().optional(),
    renewals: z
      .array(z.object({ requestId: z.string(), previousExpiresAt: z.string(), expiresAt: z.string(), renewedAt: z.string(), approvals: z.array(z.object({ step: z.string(), decidedBy: z.string(), at: z.string() })) }))
      .optional()
      .describe('Approved renewals (continuing review, R-GOV-5), oldest first'),
  })
  .meta({ id: 'Grant' });

const ReleasedPatientSchema = z
  .object({ token: z.string(), datasetId: z.string(), sex: z.string(), ageBand: z.string().optional(), diagnosis: z.string().optional(), stage: z.string().optional(), molecularSubtype: z.string().optional() })
  .meta({ id: 'ReleasedPatient' });

const RequestParams = z.object({ requestId: z.string().regex(/^AR-\d{4}-\d{6}$/) });
const GrantParams = z.object({ grantId: z.string().regex(/^grt_[a-z0-9]{10,40}$/) });

/** Access governance: requests, ethics review, approvals and grants (R-GOV-2..6). */
export const accessRoutes: RouteDefinition[] = [
  {
    operationId: 'submitAccessRequest',
    method: 'POST',
    path: '/v1/access-requests',
    module: 'access',
    auth: 'user',
    action: 'SubmitAccessRequest',
    summary: 'Submit an access request; starts ethics review and the approval workflow',
    tags: ['access'],
    auditCategory: 'permission',
    request: { body: SubmitAccessRequestSchema, maxBodyBytes: 64 * 1024 },
    response: AccessRequestSchema,
    successStatus: 201,
  },
  {
    operationId: 'listAccessRequests',
    method: 'GET',
    path: '/v1/access-requests',
    module: 'access',
    auth: 'user',
    action: 'ListAccessRequests',
    summary: "The caller's requests, review queue, or (governance roles) all requests",
    tags: ['access'],
    auditCategory: 'permission',
    request: { query: z.object({ view: z.enum(['mine', 'queue', 'all']).default('mine') }) },
    response: z.object({ items: z.array(AccessRequestSchema) }).meta({ id: 'AccessRequestList' }),
  },
  {
    operationId: 'getAccessRequest',
    method: 'GET',
    path: '/v1/access-requests/{requestId}',
    module: 'access',
    auth: 'user',
    action: 'ListAccessRequests',
    summary: 'One request with its full history',
    tags: ['access'],
    auditCategory: 'permission',
    request: { params: RequestParams },
    response: AccessRequestSchema,
  },
  {
    operationId: 'decideAccessRequest',
    method: 'POST',
    path: '/v1/access-requests/{requestId}/decisions',
    module: 'access',
    auth: 'user',
    action: 'DecideAccessRequest',
    summary: 'Record the decision of the pending review step (approve, reject, request changes or more information)',
    tags: ['access', 'review'],
    auditCategory: 'permission',
    request: { params: RequestParams, body: z.object({ step: ReviewStep.describe('The step being decided (stale decisions are refused with 409)'), outcome: z.enum(['approved', 'rejected', 'changes-requested', 'more-info']), comment: z.string().trim().max(4000).optional() }).meta({ id: 'Decision' }), maxBodyBytes: 16 * 1024 },
    response: AccessRequestSchema,
  },
  {
    operationId: 'respondToAccessRequest',
    method: 'POST',
    path: '/v1/access-requests/{requestId}/responses',
    module: 'access',
    auth: 'user',
    action: 'SubmitAccessRequest',
    summary: "The applicant's answer to requested changes or more information, optionally amending the request",
    tags: ['access'],
    auditCategory: 'permission',
    request: {
      params: RequestParams,
      body: z
        .object({
          comment: z.string().trim().min(1).max(4000),
          amendments: z
            .object({
              title: z.string().trim().min(5).max(200).optional(),
              purpose: z.string().trim().min(10).max(2000).optional(),
              academicStatement: z.string().trim().min(50).max(10_000).optional(),
              requestedDurationDays: z.number().int().min(1).max(MAX_REQUEST_DAYS).optional(),
              scope: Scope.optional(),
            })
            .optional(),
        })
        .meta({ id: 'ApplicantResponse' }),
      maxBodyBytes: 64 * 1024,
    },
    response: AccessRequestSchema,
  },
  {
    operationId: 'listGrants',
    method: 'GET',
    path: '/v1/grants',
    module: 'access',
    auth: 'user',
    action: 'ListGrants',
    summary: "The caller's grants, or (approvers, security admins, auditors) every grant",
    tags: ['grants'],
    auditCategory: 'permission',
    request: { query: z.object({ view: z.enum(['mine', 'all']).default('mine'), holderId: z.string().max(128).optional() }) },
    response: z.object({ items: z.array(GrantSchema) }).meta({ id: 'GrantList' }),
  },
  {
    operationId: 'revokeGrant',
    method: 'POST',
    path: '/v1/grants/{grantId}/revocation',
    module: 'access',
    auth: 'user',
    action: 'RevokeGrant',
    summary: 'Revoke a grant before its expiry',
    tags: ['grants'],
    auditCategory: 'permission',
    request: { params: GrantParams, body: z.object({ reason: z.string().trim().min(5).max(2000) }).meta({ id: 'Revocation' }), maxBodyBytes: 8 * 1024 },
    response: GrantSchema,
  },
  {
    operationId: 'getGrantRelease',
    method: 'GET',
    path: '/v1/grants/{grantId}/release',
    module: 'access',
    auth: 'user',
    action: 'ReadResearchData',
    summary: 'What a grant releases: included patients, and those excluded by consent (with the DUO reason)',
    tags: ['research'],
    auditCategory: 'data-access',
    request: { params: GrantParams },
    response: z.object({ grantId: z.string(), included: z.number().int(), excluded: z.record(z.string(), z.number().int()), policyId: z.string(), builtAt: z.string() }).meta({ id: 'ReleaseSummary' }),
  },
  {
    operationId: 'searchGrantedPatients',
    method: 'GET',
    path: '/v1/grants/{grantId}/patients',
    module: 'access',
    auth: 'user',
    action: 'ReadResearchData',
    summary: 'Fuzzy search over the de-identified patients a usable grant releases (pseudonym, diagnosis, stage, subtype)',
    tags: ['research'],
    auditCategory: 'data-access',
    request: { params: GrantParams, query: z.object({ q: z.string().max(200).optional(), limit: z.coerce.number().int().min(1).max(500).default(50) }) },
    response: z.object({ items: z.array(ReleasedPatientSchema), total: z.number().int() }).meta({ id: 'ReleasedPatientPage' }),
  },
  {
    operationId: 'getGrantedPatient',
    method: 'GET',
    path: '/v1/grants/{grantId}/patients/{token}',
    module: 'access',
    auth: 'user',
    action: 'ReadResearchData',
    summary: "One released patient: de-identified records of the granted modalities and the date-shifted timeline",
    tags: ['research'],
    auditCategory: 'data-access',
    request: { params: GrantParams.extend({ token: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/) }) },
    response: z
      .object({
        patient: ReleasedPatientSchema,
        policy: z.object({ id: z.string(), version: z.string() }),
        records: z.array(z.looseObject({ resourceType: z.string() })),
        timeline: z.array(
          z.object({ eventId: z.string(), type: z.string(), occurredAt: z.string(), endedAt: z.string().optional(), title: z.object({ zh: z.string(), en: z.string() }), recordRefs: z.array(z.string()).describe('`<Type>/<id>` of the released records the event stands for'), fileIds: z.array(z.string()).describe('Grant-scoped ids of the released files (see `files`)'),
            files: z.array(z.object({ fileId: z.string(), kind: z.enum(['dicom', 'pdf', 'image', 'text']), title: z.object({ zh: z.string(), en: z.string() }) })).describe('Files viewable inline through `previewReleasedFile` (R-ANA-2)'),
            source: z.enum(['ingested', 'manual']),
            annotations: z.array(z.object({ at: z.string(), byName: z.string().optional(), text: z.string().describe('Scrubbed of free-text PHI') })),
          }),
        ),
      })
      .meta({ id: 'ReleasedPatientRecord' }),
  },
];
