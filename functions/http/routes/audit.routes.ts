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
export const auditRoutes: RouteDefinition[] = [
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
