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
];
