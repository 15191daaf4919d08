import { z } from 'zod';
import { INTEGRATION_EVENT_TYPES } from '../../core/integrations/integration-event';
import type { PartnerScope } from '../../core/partners/partner-service';
import type { RouteDefinition } from '../route-definition';
import { AccessRequestSchema, SubmitAccessRequestSchema } from './access.routes';

const OnBehalfOfSchema = z
  .object({
    name: z.string().trim().min(2).max(200).describe('The researcher of the partner institution the request is for'),
    email: z.email().max(254),
    reference: z.string().trim().min(1).max(128).optional().describe("The partner system's own id of the researcher"),
  })
  .meta({ id: 'OnBehalfOf' });

const PartnerAccessRequestSchema = AccessRequestSchema.extend({
  partnerId: z.string().optional(),
  onBehalfOf: OnBehalfOfSchema.optional(),
}).meta({ id: 'PartnerAccessRequest' });

const SyncedGrantSchema = z
  .object({
    grantId: z.string(),
    requestId: z.string(),
    holderId: z.string(),
    holderName: z.string(),
    institution: z.string(),
    viaPartner: z.boolean().describe('The grant came from a request this partner submitted'),
    datasetIds: z.array(z.string()),
    modalities: z.array(z.string()),
    purposeCode: z.string(),
    dataLevel: z.number().int(),
    status: z.enum(['active', 'revoked', 'expired']),
    startsAt: z.string(),
    expiresAt: z.string(),
    revokedAt: z.string().optional(),
  })
  .meta({ id: 'SyncedGrant' });

const EventType = z.enum(INTEGRATION_EVENT_TYPES);

const WebhookEndpointSchema = z
  .object({
    endpointId: z.string(),
    partnerId: z.string(),
    url: z.string(),
    eventTypes: z.array(EventType),
    description: z.string().optional(),
    status: z.enum(['active', 'disabled']),
    secretHint: z.string().describe('Last four characters of the signing secret'),
    createdAt: z.string(),
    createdBy: z.string(),
  })
  .meta({ id: 'WebhookEndpoint' });

const RegisterWebhookSchema = z
  .object({
    url: z.string().trim().max(2048).describe('https URL (plain http to 127.0.0.1 only on the local runtime)'),
    eventTypes: z.array(EventType).min(1).max(INTEGRATION_EVENT_TYPES.length),
    description: z.string().trim().max(200).optional(),
  })
  .meta({ id: 'RegisterWebhook' });

const RegisteredWebhookSchema = z
  .object({
    endpoint: WebhookEndpointSchema,
    secret: z.string().describe('Signing secret, shown once: verify `MDRP-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` with it'),
  })
  .meta({ id: 'RegisteredWebhook' });

const WebhookDeliverySchema = z
  .object({
    deliveryId: z.string(),
    endpointId: z.string(),
    eventId: z.string(),
    eventType: EventType,
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.array(z.object({ at: z.string(), statusCode: z.number().int().optional(), error: z.string().optional(), durationMs: z.number().int() })),
    nextAttemptAt: z.string().optional(),
    createdAt: z.string(),
    deliveredAt: z.string().optional(),
  })
  .meta({ id: 'WebhookDelivery' });

const WebhookEndpointList = z.object({ items: z.array(WebhookEndpointSchema) }).meta({ id: 'WebhookEndpointList' });
const WebhookDeliveryList = z.object({ items: z.array(WebhookDeliverySchema) }).meta({ id: 'WebhookDeliveryList' });

const RequestParams = z.object({ requestId: z.string().regex(/^AR-\d{4}-\d{6}$/) });
const EndpointParams = z.object({ endpointId: z.string().regex(/^whk_[A-Za-z0-9]{10,40}$/) });
const PartnerParams = z.object({ partnerId: z.string().regex(/^ptn_[A-Za-z0-9]{10,40}$/) });
const Deleted = z.object({ endpointId: z.string(), deleted: z.literal(true) }).meta({ id: 'WebhookDeleted' });
const DeliveriesQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) });

/**
 * A partner-only route. `partnerScopes` (one of which the client-credentials token must carry) is
 * read by the partner edge (`functions/http/partner-scopes.ts`); Cedar checks the same scopes again.
 */
const partnerRoute = (r: Omit<RouteDefinition, 'module' | 'auth' | 'tags'> & { tags?: string[]; partnerScopes: PartnerScope[] }): RouteDefinition => ({ module: 'integrations', auth: 'partner', tags: ['partner-operations'], ...r });
const WEBHOOK_SCOPES: PartnerScope[] = ['access-requests.read', 'grants.read'];
const adminRoute = (r: Omit<RouteDefinition, 'module' | 'auth' | 'tags' | 'action'>): RouteDefinition => ({ module: 'integrations', auth: 'user', tags: ['partners', 'webhooks'], action: 'ManagePartners', ...r });

/**
 * Partner business operations and integration events (R-INT-1): application review, permission
 * sync and webhooks for partner systems (API key + client-credentials token), and the security
 * administrators' view of each partner's webhooks.
 */
export const integrationRoutes: RouteDefinition[] = [
  partnerRoute({
    operationId: 'submitPartnerAccessRequest',
    method: 'POST',
    path: '/v1/partner/access-requests',
    action: 'SubmitAccessRequest',
    partnerScopes: ['access-requests.write'],
    summary: 'Submit an access request for a named researcher of the partner institution (scope access-requests.write)',
    auditCategory: 'permission',
    request: { body: SubmitAccessRequestSchema.omit({ renewsGrantId: true }).extend({ onBehalfOf: OnBehalfOfSchema }).meta({ id: 'PartnerAccessRequestSubmission' }), maxBodyBytes: 64 * 1024 },
    response: PartnerAccessRequestSchema,
    successStatus: 201,
  }),
  partnerRoute({
    operationId: 'listPartnerAccessRequests',
    method: 'GET',
    path: '/v1/partner/access-requests',
    action: 'TrackAccessRequests',
    partnerScopes: ['access-requests.read'],
    summary: 'The access requests this partner submitted, with status and history (scope access-requests.read)',
    auditCategory: 'permission',
    response: z.object({ items: z.array(PartnerAccessRequestSchema) }).meta({ id: 'PartnerAccessRequestList' }),
  }),
  partnerRoute({
    operationId: 'getPartnerAccessRequest',
    method: 'GET',
    path: '/v1/partner/access-requests/{requestId}',
    action: 'TrackAccessRequests',
    partnerScopes: ['access-requests.read'],
    summary: "One of this partner's requests (another partner's request is 404)",
    auditCategory: 'permission',
    request: { params: RequestParams },
    response: PartnerAccessRequestSchema,
  }),
  partnerRoute({
    operationId: 'syncPartnerGrants',
    method: 'GET',
    path: '/v1/partner/grants',
    action: 'SyncGrants',
    partnerScopes: ['grants.read'],
    summary: "Permission sync: the grants that apply to the partner's institution, with status and expiry (scope grants.read)",
    auditCategory: 'permission',
    request: { query: z.object({ status: z.enum(['active', 'revoked', 'expired']).optional() }) },
    response: z.object({ items: z.array(SyncedGrantSchema), syncedAt: z.string() }).meta({ id: 'SyncedGrantList' }),
  }),
  partnerRoute({
    operationId: 'registerPartnerWebhook',
    method: 'POST',
    path: '/v1/partner/webhooks',
    action: 'ManageWebhooks',
    partnerScopes: WEBHOOK_SCOPES,
    summary: 'Register a webhook endpoint for integration events; the signing secret is shown once',
    tags: ['partner-operations', 'webhooks'],
    auditCategory: 'permission',
    request: { body: RegisterWebhookSchema, maxBodyBytes: 8 * 1024 },
    response: RegisteredWebhookSchema,
    successStatus: 201,
  }),
  partnerRoute({
    operationId: 'listPartnerWebhooks',
    method: 'GET',
    path: '/v1/partner/webhooks',
    action: 'ManageWebhooks',
    partnerScopes: WEBHOOK_SCOPES,
    summary: "This partner's webhook endpoints",
    tags: ['partner-operations', 'webhooks'],
    auditCategory: 'permission',
    response: WebhookEndpointList,
  }),
  partnerRoute({
    operationId: 'deletePartnerWebhook',
    method: 'DELETE',
    path: '/v1/partner/webhooks/{endpointId}',
    action: 'ManageWebhooks',
    partnerScopes: WEBHOOK_SCOPES,
    summary: 'Remove a webhook endpoint (pending deliveries to it fail)',
    tags: ['partner-operations', 'webhooks'],
    auditCategory: 'permission',
    request: { params: EndpointParams },
    response: Deleted,
  }),
  partnerRoute({
    operationId: 'listPartnerWebhookDeliveries',
    method: 'GET',
    path: '/v1/partner/webhooks/{endpointId}/deliveries',
    action: 'ManageWebhooks',
    partnerScopes: WEBHOOK_SCOPES,
    summary: 'Delivery log of an endpoint: events, attempts and the status codes it answered, newest first',
    tags: ['partner-operations', 'webhooks'],
    auditCategory: 'permission',
    request: { params: EndpointParams, query: DeliveriesQuery },
    response: WebhookDeliveryList,
  }),
  adminRoute({
    operationId: 'listWebhooksOfPartner',
    method: 'GET',
    path: '/v1/partners/{partnerId}/webhooks',
    summary: "A partner's webhook endpoints (security administrators)",
    auditCategory: 'permission',
    request: { params: PartnerParams },
    response: WebhookEndpointList,
  }),
  adminRoute({
    operationId: 'registerWebhookForPartner',
    method: 'POST',
    path: '/v1/partners/{partnerId}/webhooks',
    summary: 'Register a webhook endpoint on behalf of a partner (the secret is shown once, to hand to the partner)',
    auditCategory: 'permission',
    request: { params: PartnerParams, body: RegisterWebhookSchema, maxBodyBytes: 8 * 1024 },
    response: RegisteredWebhookSchema,
    successStatus: 201,
  }),
  adminRoute({
    operationId: 'deleteWebhookOfPartner',
    method: 'DELETE',
    path: '/v1/partners/{partnerId}/webhooks/{endpointId}',
    summary: "Remove one of a partner's webhook endpoints",
    auditCategory: 'permission',
    request: { params: PartnerParams.extend(EndpointParams.shape) },
    response: Deleted,
  }),
  adminRoute({
    operationId: 'listWebhookDeliveriesOfPartner',
    method: 'GET',
    path: '/v1/partners/{partnerId}/webhooks/{endpointId}/deliveries',
    summary: "Delivery log of one of a partner's endpoints",
    auditCategory: 'permission',
    request: { params: PartnerParams.extend(EndpointParams.shape), query: DeliveriesQuery },
    response: WebhookDeliveryList,
  }),
];
