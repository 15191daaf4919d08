import { z } from 'zod';
import { CURRENT_AGREEMENT_VERSION } from '../../core/access/access-request-service';
import { DOCUMENT_KINDS, DOCUMENT_TYPES, MAX_DOCUMENT_BYTES } from '../../core/access/request-documents';
import { MAX_POLICY_FILE_BYTES } from '../../core/authz/policy-administration';
import type { RouteDefinition } from '../route-definition';
import { AccessRequestSchema } from './access.routes';

const RequestParams = z.object({ requestId: z.string().regex(/^AR-\d{4}-\d{6}$/) });
const GrantParams = z.object({ grantId: z.string().regex(/^grt_[a-z0-9]{10,40}$/) });

export const RequestDocumentSchema = z
  .object({
    documentId: z.string(),
    requestId: z.string(),
    kind: z.enum(DOCUMENT_KINDS),
    version: z.number().int(),
    fileName: z.string(),
    contentType: z.enum(DOCUMENT_TYPES),
    sizeBytes: z.number().int(),
    sha256: z.string(),
    uploadedBy: z.string(),
    uploadedByName: z.string().optional(),
    uploadedAt: z.string(),
  })
  .meta({ id: 'RequestDocument' });

const PolicyVersionSchema = z
  .object({
    number: z.number().int(),
    label: z.string(),
    action: z.enum(['shipped', 'change', 'rollback']),
    changedFile: z.string().optional(),
    rolledBackTo: z.number().int().optional(),
    reason: z.string(),
    authorId: z.string(),
    authorName: z.string().optional(),
    at: z.string(),
    sha256: z.string(),
    overriddenFiles: z.array(z.string()),
  })
  .meta({ id: 'PolicyVersion' });

const PolicyFileName = z.string().regex(/^[a-z0-9-]+(\/[a-z0-9-]+)*\.cedar$/).describe('Policy file path under policies/, e.g. access/access.cedar');

/**
 * Governance additions (issue 5): request documents (R-GOV-9), grant renewal (R-GOV-5 continuing
 * review) and runtime policy administration (R-GOV-7). Served by the access module.
 */
export const governanceRoutes: RouteDefinition[] = [
  {
    operationId: 'uploadRequestDocument',
    method: 'POST',
    path: '/v1/access-requests/{requestId}/documents',
    module: 'access',
    auth: 'user',
    action: 'AttachRequestDocument',
    summary: 'Attach a document (protocol, ethics approval, DSA, consent form, other) to your request; each upload of a kind is a new version',
    description: `PDF, PNG, JPEG or plain text, at most ${MAX_DOCUMENT_BYTES} bytes, sent base64-encoded with its SHA-256; stored encrypted.`,
    tags: ['access'],
    auditCategory: 'data-change',
    request: {
      params: RequestParams,
      body: z
        .object({
          kind: z.enum(DOCUMENT_KINDS),
          fileName: z.string().trim().min(1).max(255),
          contentType: z.enum(DOCUMENT_TYPES),
          sha256: z.string().regex(/^[0-9a-f]{64}$/).describe('Hex SHA-256 of the decoded content'),
          contentBase64: z.string().min(1).max(Math.ceil(MAX_DOCUMENT_BYTES / 3) * 4 + 4).regex(/^[A-Za-z0-9+/]+={0,2}$/),
        })
        .meta({ id: 'RequestDocumentUpload' }),
      maxBodyBytes: Math.ceil(MAX_DOCUMENT_BYTES / 3) * 4 + 4096,
    },
    response: RequestDocumentSchema,
    successStatus: 201,
  },
  {
    operationId: 'listRequestDocuments',
    method: 'GET',
    path: '/v1/access-requests/{requestId}/documents',
    module: 'access',
    auth: 'user',
    action: 'ReadRequestDocument',
    summary: "Every version of the request's documents (applicant, reviewers, auditors)",
    tags: ['access', 'review'],
    auditCategory: 'data-access',
    request: { params: RequestParams },
    response: z.object({ items: z.array(RequestDocumentSchema) }).meta({ id: 'RequestDocumentList' }),
  },
  {
    operationId: 'getRequestDocumentContent',
    method: 'GET',
    path: '/v1/access-requests/{requestId}/documents/{documentId}',
    module: 'access',
    auth: 'user',
    action: 'ReadRequestDocument',
    summary: 'The bytes of one document version, for viewing inline (never cached)',
    tags: ['access', 'review'],
    auditCategory: 'data-access',
    request: { params: RequestParams.extend({ documentId: z.string().regex(/^AR-\d{4}-\d{6}-[a-z-]+-v\d{1,4}$/) }) },
    response: z.string().describe('The document (application/pdf, image/png, image/jpeg or text/plain)'),
    examples: { response: '%PDF-1.7 … (the stored bytes of the document version, binary)' },
    contentType: 'application/octet-stream',
  },
  {
    operationId: 'requestGrantRenewal',
    method: 'POST',
    path: '/v1/grants/{grantId}/renewals',
    module: 'access',
    auth: 'user',
    action: 'SubmitAccessRequest',
    summary: 'Ask to extend your grant (continuing review): a renewal request through ethics and the approval chain',
    tags: ['grants', 'access'],
    auditCategory: 'permission',
    request: {
      params: GrantParams,
      body: z
        .object({
          expiresAt: z.iso.datetime({ offset: true }).describe("The end asked for; the approved extension is at most the grant default (90 days) and never more than asked"),
          justification: z.string().trim().min(50).max(10_000).describe('Continuing-review statement: progress so far and why access is still needed'),
          agreementVersion: z.string().max(32).describe(`Current: ${CURRENT_AGREEMENT_VERSION}`),
          agreementAccepted: z.literal(true, 'the data sharing agreement must be accepted'),
        })
        .meta({ id: 'GrantRenewalRequest' }),
      maxBodyBytes: 32 * 1024,
    },
    response: AccessRequestSchema,
    successStatus: 201,
  },
  {
    operationId: 'getPolicySet',
    method: 'GET',
    path: '/v1/policies',
    module: 'access',
    auth: 'user',
    action: 'ReadPolicies',
    summary: 'The Cedar policy set in force: files, the current version, and the locked policies',
    tags: ['policies'],
    auditCategory: 'permission',
    response: z
      .object({
        version: PolicyVersionSchema,
        loadedVersion: z.string().describe('The version label this instance decides with'),
        locked: z.array(z.string()).describe('Policy ids a runtime change can neither alter nor remove'),
        files: z.array(z.object({ file: z.string(), text: z.string(), overridden: z.boolean(), policyIds: z.array(z.string()) })),
      })
      .meta({ id: 'PolicySet' }),
  },
  {
    operationId: 'listPolicyVersions',
    method: 'GET',
    path: '/v1/policies/versions',
    module: 'access',
    auth: 'user',
    action: 'ReadPolicies',
    summary: 'Every version of the policy set (who, when, why), newest first',
    tags: ['policies'],
    auditCategory: 'permission',
    response: z.object({ current: z.number().int(), items: z.array(PolicyVersionSchema) }).meta({ id: 'PolicyVersionList' }),
  },
  {
    operationId: 'changePolicy',
    method: 'POST',
    path: '/v1/policies/versions',
    module: 'access',
    auth: 'user',
    action: 'ManagePolicies',
    summary: 'Replace one policy file; validated against the schema and the locked policies, stored as a new version, in force at once',
    description: 'Invalid changes are refused with 400 VALIDATION_FAILED and `details.messages` from the Cedar validator. `dryRun` only validates.',
    tags: ['policies'],
    auditCategory: 'permission',
    request: {
      body: z
        .object({
          file: PolicyFileName,
          text: z.string().max(MAX_POLICY_FILE_BYTES),
          reason: z.string().trim().min(5).max(2000),
          baseVersion: z.number().int().min(0).optional().describe('The version the change was made on (409 if another change came first)'),
          dryRun: z.boolean().default(false),
        })
        .meta({ id: 'PolicyChange' }),
      maxBodyBytes: MAX_POLICY_FILE_BYTES + 8 * 1024,
    },
    response: z.object({ valid: z.boolean(), messages: z.array(z.string()), version: PolicyVersionSchema.optional() }).meta({ id: 'PolicyChangeResult' }),
    successStatus: 201,
  },
  {
    operationId: 'rollbackPolicies',
    method: 'POST',
    path: '/v1/policies/rollbacks',
    module: 'access',
    auth: 'user',
    action: 'ManagePolicies',
    summary: 'Make an earlier version of the policy set current again (stored as a new version)',
    tags: ['policies'],
    auditCategory: 'permission',
    request: { body: z.object({ toVersion: z.number().int().min(0), reason: z.string().trim().min(5).max(2000) }).meta({ id: 'PolicyRollback' }), maxBodyBytes: 8 * 1024 },
    response: PolicyVersionSchema,
    successStatus: 201,
  },
];
