/**
 * Integration events a partner system can subscribe to with a webhook endpoint (R-INT-1,
 * "business integration"): status changes of the access requests it submitted and of the grants
 * they produced. Payloads carry ids and statuses only (no research data, no PHI).
 */
export const INTEGRATION_EVENT_TYPES = [
  'access-request.submitted',
  'access-request.decision',
  'access-request.approved',
  'access-request.rejected',
  'grant.revoked',
  'grant.expired',
] as const;
export type IntegrationEventType = (typeof INTEGRATION_EVENT_TYPES)[number];

/** What an event says, by type. */
export interface IntegrationEventData {
  requestId: string;
  /** Request status after the change (request events), or the grant status (grant events). */
  status: string;
  /** `access-request.decision`: the review step decided and its outcome. */
  step?: string;
  outcome?: string;
  /** `access-request.approved` and grant events. */
  grantId?: string;
  expiresAt?: string;
}

/**
 * The JSON body POSTed to an endpoint. `id` is stable across retries (receivers de-duplicate on
 * it: delivery is at least once).
 */
export interface IntegrationEvent {
  id: string;
  type: IntegrationEventType;
  createdAt: string;
  /** The partner the event belongs to (the applicant/holder of the request or grant). */
  partnerId: string;
  data: IntegrationEventData;
}
