/**
 * Portal calls for partner administration (R-INT-1, R-SEC-7): onboarding, API keys and the
 * partners' webhook endpoints. Types come from the generated OpenAPI schema (`api-schema.ts`,
 * `npm run gen:api`), so they cannot drift from the API.
 */
import type { ApiClient } from './api-client';
import type { components } from './api-schema';

type Schemas = components['schemas'];
export type Partner = Schemas['Partner'];
export type PartnerKey = Partner['keys'][number];
export type OnboardPartner = Schemas['OnboardPartner'];
export type OnboardedPartner = Schemas['OnboardedPartner'];
export type RotatedPartnerApiKey = Schemas['RotatedPartnerApiKey'];
export type WebhookEndpoint = Schemas['WebhookEndpoint'];
export type RegisterWebhook = Schemas['RegisterWebhook'];
export type RegisteredWebhook = Schemas['RegisteredWebhook'];
export type WebhookDelivery = Schemas['WebhookDelivery'];
export type PartnerScope = OnboardPartner['scopes'][number];
export type WebhookEventType = RegisterWebhook['eventTypes'][number];
export type PartnerPlan = NonNullable<OnboardPartner['plan']>;

/** Every scope a partner client may be given (the API's enum; the compiler checks the list is complete). */
export const PARTNER_SCOPES = ['catalog.read', 'access-requests.write', 'access-requests.read', 'grants.read', 'fhir.read', 'ingest.write'] as const satisfies readonly PartnerScope[];
/** Integration events a webhook can subscribe to. */
export const WEBHOOK_EVENT_TYPES = ['access-request.submitted', 'access-request.decision', 'access-request.approved', 'access-request.rejected', 'grant.revoked', 'grant.expired'] as const satisfies readonly WebhookEventType[];

const enc = encodeURIComponent;

/** `GET /v1/partners`: every partner with its keys (ids and status only). */
export async function listPartners(api: ApiClient): Promise<Partner[]> {
  return (await api.request<Schemas['PartnerList']>('GET', '/v1/partners')).items;
}

/** `POST /v1/partners`: the partner, its API key and OAuth client secret (both shown once). */
export function onboardPartner(api: ApiClient, body: OnboardPartner): Promise<OnboardedPartner> {
  return api.request<OnboardedPartner>('POST', '/v1/partners', body);
}

/** `POST /v1/partners/{id}/api-keys/{keyId}/revocation`. */
export function revokePartnerKey(api: ApiClient, partnerId: string, keyId: string): Promise<Partner> {
  return api.request<Partner>('POST', `/v1/partners/${enc(partnerId)}/api-keys/${enc(keyId)}/revocation`, {});
}

/** `POST /v1/partners/{id}/api-keys`: a new key (shown once); the old ones retire after the grace period. */
export function rotatePartnerKey(api: ApiClient, partnerId: string, gracePeriodSeconds?: number): Promise<RotatedPartnerApiKey> {
  return api.request<RotatedPartnerApiKey>('POST', `/v1/partners/${enc(partnerId)}/api-keys`, gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds });
}

/** `GET /v1/partners/{id}/webhooks`. */
export async function listPartnerWebhooks(api: ApiClient, partnerId: string): Promise<WebhookEndpoint[]> {
  return (await api.request<Schemas['WebhookEndpointList']>('GET', `/v1/partners/${enc(partnerId)}/webhooks`)).items;
}

/** `POST /v1/partners/{id}/webhooks`: the endpoint and its signing secret (shown once). */
export function registerPartnerWebhook(api: ApiClient, partnerId: string, body: RegisterWebhook): Promise<RegisteredWebhook> {
  return api.request<RegisteredWebhook>('POST', `/v1/partners/${enc(partnerId)}/webhooks`, body);
}

/** `DELETE /v1/partners/{id}/webhooks/{endpointId}`. */
export function deletePartnerWebhook(api: ApiClient, partnerId: string, endpointId: string): Promise<Schemas['WebhookDeleted']> {
  return api.request<Schemas['WebhookDeleted']>('DELETE', `/v1/partners/${enc(partnerId)}/webhooks/${enc(endpointId)}`);
}

/** `GET /v1/partners/{id}/webhooks/{endpointId}/deliveries`: newest first. */
export async function listWebhookDeliveries(api: ApiClient, partnerId: string, endpointId: string, limit = 50): Promise<WebhookDelivery[]> {
  return (await api.request<Schemas['WebhookDeliveryList']>('GET', `/v1/partners/${enc(partnerId)}/webhooks/${enc(endpointId)}/deliveries?limit=${limit}`)).items;
}

/** Splits the CIDR field (commas, spaces or new lines) into entries. */
export function parseCidrs(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean))];
}

/** An IPv4 CIDR as the API accepts it (its own check is the authority). */
export function isCidr(value: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  return Boolean(m) && m!.slice(1, 5).every((o) => Number(o) <= 255) && Number(m![5]) <= 32;
}
