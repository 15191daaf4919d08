import { z } from 'zod';
import type { RouteDefinition } from '../route-definition';

export const AuditEventSchema = z
  .object({
    eventId: z.string(),
    time: z.string(),
    correlationId: z.string(),
    category: z.string(),
    operation: z.string(),
    actor: z.object({
      kind: z.string(),
      id: z.string(),
      roles: z.array(z.string()),
      institution: z.string().optional(),
      apiKeyId: z.string().optional(),
    }),
    source: z.object({ ip: z.string().optional(), userAgent: z.string().optional() }),
    resources: z.array(z.object({ type: z.string(), id: z.string() })),
    parameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
    decision: z.object({ effect: z.enum(['allow', 'deny']), policyIds: z.array(z.string()) }).optional(),
    result: z.object({
      outcome: z.enum(['success', 'failure', 'denied']),
      status: z.number().int(),
      errorCode: z.string().optional(),
      count: z.number().int().optional(),
    }),
  })
  .meta({ id: 'AuditEvent' });

export const AuditQuerySchema = z
  .object({
    actorId: z.string().max(128).optional(),
    resourceType: z.string().max(32).optional(),
    resourceId: z.string().max(128).optional(),
    from: z.iso.datetime().optional(),
    to: z.iso.datetime().optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().max(2048).optional(),
  })
  .refine((q) => !(q.actorId && q.resourceId), { message: 'query by actor or by resource, not both' })
  .refine((q) => !q.resourceId || q.resourceType, { message: 'resourceType is required with resourceId' });

export const AuditVerificationQuerySchema = z
  .object({
    from: z.iso.datetime().optional(),
    to: z.iso.datetime().optional(),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'from must not be after to' });

export const AuditChainVerificationSchema = z
  .object({
    ok: z.boolean(),
    digestsChecked: z.number().int(),
    eventsChecked: z.number().int(),
    sealedThrough: z.string().optional(),
    firstBroken: z
      .object({
        digestId: z.string(),
        reason: z.enum(['signature', 'previous-hash', 'event-missing', 'event-modified', 'event-extra', 'order', 'digest-missing']),
        eventId: z.string().optional(),
      })
      .optional(),
  })
  .meta({ id: 'AuditChainVerification' });

export const AuditAlertsQuerySchema = z.object({
  from: z.iso.datetime().optional(),
  to: z.iso.datetime().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(2048).optional(),
});

export const AuditAlertSchema = z
  .object({
    alertId: z.string(),
    rule: z.enum(['failed-logins', 'high-frequency-access', 'bulk-access', 'export-download', 'permission-change', 'off-hours-privileged']),
    severity: z.enum(['low', 'medium', 'high']),
    time: z.string(),
    windowStart: z.string(),
    actorId: z.string(),
    sourceIp: z.string().optional(),
    operation: z.string(),
    eventId: z.string(),
    count: z.number().int().optional(),
    summary: z.string(),
  })
  .meta({ id: 'AuditAlert' });

/** R-AUD-4: who did what, and what happened to an item. Only auditors and security admins. */
const auditTrailRoutes: RouteDefinition[] = [
  {
    operationId: 'queryAuditEvents',
    method: 'GET',
    path: '/v1/audit/events',
    module: 'audit',
    auth: 'user',
    action: 'QueryAudit',
    resource: () => ({ type: 'AuditLog', id: 'platform' }),
    summary: 'Query audit events by actor or by data item over a time range',
    tags: ['audit'],
    auditCategory: 'audit',
    request: { query: AuditQuerySchema as unknown as z.ZodObject },
    response: z.object({ items: z.array(AuditEventSchema), cursor: z.string().optional() }).meta({ id: 'AuditEventPage' }),
  },
  {
    operationId: 'verifyAuditChain',
    method: 'GET',
    path: '/v1/audit/verification',
    module: 'audit',
    auth: 'user',
    action: 'VerifyAuditChain',
    resource: () => ({ type: 'AuditLog', id: 'platform' }),
    summary: 'Verify the signed digest chain of the audit trail',
    description:
      'R-AUD-2: re-reads every digest (archive bucket) and every event (audit table) in the range, checks signatures with the public key, the hash links, and that the events are exactly the sealed ones in order. Reports the first broken link.',
    tags: ['audit'],
    auditCategory: 'audit',
    request: { query: AuditVerificationQuerySchema as unknown as z.ZodObject },
    response: AuditChainVerificationSchema,
  },
  {
    operationId: 'listAuditAlerts',
    method: 'GET',
    path: '/v1/audit/alerts',
    module: 'audit',
    auth: 'user',
    action: 'ListAuditAlerts',
    resource: () => ({ type: 'AuditLog', id: 'platform' }),
    summary: 'List security alerts raised from the audit trail, newest first',
    description: 'R-AUD-5: failed logins, bulk or high-frequency access, exports/downloads, permission changes, privileged actions outside office hours.',
    tags: ['audit'],
    auditCategory: 'audit',
    request: { query: AuditAlertsQuerySchema },
    response: z.object({ items: z.array(AuditAlertSchema), cursor: z.string().optional() }).meta({ id: 'AuditAlertPage' }),
  },
];

export const InstitutionDataAccessQuerySchema = z
  .object({
    from: z.iso.datetime().optional(),
    to: z.iso.datetime().optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(2048).optional(),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'from must not be after to' });

export const DataAccessEntrySchema = z
  .object({
    eventId: z.string(),
    time: z.string(),
    operation: z.string(),
    category: z.string(),
    actor: z.object({ kind: z.string(), id: z.string(), roles: z.array(z.string()), institution: z.string().optional() }),
    outcome: z.enum(['success', 'failure', 'denied']),
    status: z.number().int(),
    count: z.number().int().optional(),
    via: z.enum(['dataset', 'grant', 'patient']),
    grantId: z.string().optional(),
    requestId: z.string().optional(),
    datasetIds: z.array(z.string()),
    patientToken: z.string().optional(),
  })
  .meta({ id: 'DataAccessEntry' });

export const CoveringGrantSchema = z
  .object({
    grantId: z.string(),
    requestId: z.string(),
    holderId: z.string(),
    holderName: z.string(),
    holderInstitution: z.string(),
    status: z.enum(['active', 'revoked', 'expired']),
    startsAt: z.string(),
    expiresAt: z.string(),
    datasetIds: z.array(z.string()),
  })
  .meta({ id: 'CoveringGrant' });

export const AuditReportRequestSchema = z
  .object({ period: z.string().regex(/^\d{4}-Q[1-4]$/, 'a quarter such as 2026-Q4') })
  .strict()
  .meta({ id: 'AuditReportRequest' });

export const AuditReportRecordSchema = z
  .object({
    reportId: z.string(),
    period: z.string(),
    periodStart: z.string(),
    periodEnd: z.string(),
    generatedAt: z.string(),
    generatedBy: z.string(),
    objectKey: z.string(),
    bytes: z.number().int(),
    sha256: z.string(),
    totals: z.object({ events: z.number().int(), actors: z.number().int(), success: z.number().int(), failure: z.number().int(), denied: z.number().int() }),
    alertCount: z.number().int(),
  })
  .meta({ id: 'AuditReportRecord' });

const ReportIdParams = z.object({ reportId: z.string().regex(/^rpt_[A-Za-z0-9_-]{4,64}$/, 'a report id') });

/**
 * R-AUD-4 / R-GOV-6 "who accessed my data" for data providers and owners, and the R-AUD-6
 * quarterly report (auditors, security admins).
 */
export const auditInsightRoutes: RouteDefinition[] = [
  {
    operationId: 'listInstitutionDataAccess',
    method: 'GET',
    path: '/v1/audit/data-access',
    module: 'audit',
    auth: 'user',
    action: 'ReadInstitutionDataAccess',
    resource: () => ({ type: 'AuditLog', id: 'institution' }),
    summary: "Who accessed my institution's data: datasets, grants over them and released patients",
    description:
      "R-AUD-4, R-GOV-6: audit events that name the caller's institution's datasets, or a grant covering them (a patient read only when the patient is the institution's), newest first, with the grants that cover its datasets. Never another institution's data.",
    tags: ['audit'],
    auditCategory: 'audit',
    request: { query: InstitutionDataAccessQuerySchema as unknown as z.ZodObject },
    response: z.object({ items: z.array(DataAccessEntrySchema), grants: z.array(CoveringGrantSchema), cursor: z.string().optional() }).meta({ id: 'DataAccessPage' }),
  },
  {
    operationId: 'createAuditReport',
    method: 'POST',
    path: '/v1/audit/reports',
    module: 'audit',
    auth: 'user',
    action: 'GenerateAuditReport',
    resource: () => ({ type: 'AuditLog', id: 'platform' }),
    summary: 'Generate the quarterly audit report of a period and archive it (PDF, SHA-256)',
    description: 'R-AUD-6: scope, process (chain verification), counts by category/outcome/operation, alert findings, risky users and data items, recommendations left to the auditor.',
    tags: ['audit'],
    auditCategory: 'audit',
    request: { body: AuditReportRequestSchema, maxBodyBytes: 1024 },
    response: AuditReportRecordSchema,
    successStatus: 201,
  },
  {
    operationId: 'listAuditReports',
    method: 'GET',
    path: '/v1/audit/reports',
    module: 'audit',
    auth: 'user',
    action: 'ListAuditReports',
    resource: () => ({ type: 'AuditLog', id: 'platform' }),
    summary: 'List the archived audit reports, newest first',
    tags: ['audit'],
    auditCategory: 'audit',
    request: { query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20), cursor: z.string().max(2048).optional() }) },
    response: z.object({ items: z.array(AuditReportRecordSchema), cursor: z.string().optional() }).meta({ id: 'AuditReportPage' }),
  },
  {
    operationId: 'downloadAuditReport',
    method: 'GET',
    path: '/v1/audit/reports/{reportId}/pdf',
    module: 'audit',
    auth: 'user',
    action: 'ExportAuditReport',
    resource: () => ({ type: 'AuditLog', id: 'platform' }),
    summary: 'Download an archived audit report (PDF, as an attachment)',
    description: 'The file is checked against its recorded SHA-256 before it is served; the download is audited as an export (R-AUD-5 export rule).',
    tags: ['audit'],
    auditCategory: 'audit',
    request: { params: ReportIdParams },
    response: z.string().meta({ id: 'AuditReportPdf', format: 'binary', contentMediaType: 'application/pdf' }),
    examples: { response: '%PDF-1.7 … (the archived audit report, binary)' },
    contentType: 'application/pdf',
  },
];

/** Every audit route (the route table spreads this). */
export const auditRoutes: RouteDefinition[] = [...auditTrailRoutes, ...auditInsightRoutes];
