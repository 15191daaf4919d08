import type { IntegrationEventType } from './integration-event';

/** A partner's webhook endpoint (its secret is stored encrypted and shown once, at registration). */
export interface WebhookEndpoint {
  endpointId: string;
  partnerId: string;
  url: string;
  eventTypes: IntegrationEventType[];
  description?: string;
  status: 'active' | 'disabled';
  /** Last four characters of the secret, so a partner can tell which secret is configured. */
  secretHint: string;
  createdAt: string;
  /** Who registered it: the partner itself, or a security administrator (user id). */
  createdBy: string;
}

/** One attempt to deliver an event to an endpoint. */
export interface DeliveryAttempt {
  at: string;
  /** HTTP status answered by the endpoint (absent when no answer came). */
  statusCode?: number;
  /** Why no usable answer came: `timeout`, `network-error`, `endpoint-removed`, `url-refused`. */
  error?: string;
  durationMs: number;
}

/** The delivery log entry of one event to one endpoint (R-AUD: what was sent, when, with what answer). */
export interface WebhookDelivery {
  deliveryId: string;
  endpointId: string;
  partnerId: string;
  eventId: string;
  eventType: IntegrationEventType;
  status: 'pending' | 'delivered' | 'failed';
  attempts: DeliveryAttempt[];
  /** When the next attempt is due (pending deliveries only). */
  nextAttemptAt?: string;
  createdAt: string;
  deliveredAt?: string;
}
