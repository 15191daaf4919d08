import { FetchWebhookTransport } from '../adapters/shared/fetch-webhook-transport';
import { auditSystemAction } from '../core/audit/system-action';
import { PartnerOperationsService } from '../core/integrations/partner-operations-service';
import { WebhookDispatcher } from '../core/integrations/webhook-dispatcher';
import { WebhookOutboxStore } from '../core/integrations/webhook-outbox-store';
import { WebhookService } from '../core/integrations/webhook-service';
import type { WebhookUrlPolicy } from '../core/integrations/webhook-url-policy';
import type { Clock } from '../core/ports/clock';
import type { DocumentStore } from '../core/ports/document-store';
import type { IdGenerator } from '../core/ports/id-generator';
import type { KeyProvider } from '../core/ports/key-provider';
import type { WebhookTransport } from '../core/ports/webhook-transport';
import type { PlatformConfig } from './config';
import type { Container } from './container';

interface IntegrationServices {
  webhooks: WebhookService;
  partnerOperations: PartnerOperationsService;
  dispatcher: WebhookDispatcher;
}

const built = new WeakMap<Container, IntegrationServices>();
const transports = new WeakMap<Container, WebhookTransport>();

/** https only, unless the configuration allows plain http to loopback (the local runtime). */
export function webhookUrlPolicy(config: PlatformConfig): WebhookUrlPolicy {
  return { allowHttpLoopback: config.webhooks?.allowHttpLoopback === true };
}

/**
 * The document store the access services write through: request and grant changes of partners
 * with webhook endpoints put their deliveries in the outbox in the same transaction (R-INT-1).
 */
export function withWebhookOutbox(documents: DocumentStore, keys: KeyProvider, clock: Clock, ids: IdGenerator, config: PlatformConfig): DocumentStore {
  return new WebhookOutboxStore(documents, new WebhookService(documents, keys, clock, ids, webhookUrlPolicy(config)), clock);
}

/** Tests replace the outbound HTTP of one container (before its services are first built). */
export function useWebhookTransport(c: Container, transport: WebhookTransport): void {
  transports.set(c, transport);
  built.delete(c);
}

/**
 * Partner operations and webhooks (R-INT-1), built once per container from its ports. Kept beside
 * the composition root so the shared container stays small.
 */
export function integrationServices(c: Container): IntegrationServices {
  let s = built.get(c);
  if (!s) {
    const policy = webhookUrlPolicy(c.config);
    const webhooks = new WebhookService(c.documents, c.keys, c.clock, c.ids, policy);
    s = {
      webhooks,
      partnerOperations: new PartnerOperationsService(c.partners, c.accessRequests, c.grants),
      dispatcher: new WebhookDispatcher(c.documents, webhooks, transports.get(c) ?? new FetchWebhookTransport(), c.clock, policy, {
        ...(c.config.webhooks?.retryBaseMs ? { baseDelayMs: c.config.webhooks.retryBaseMs } : {}),
        // R-AUD-1: every delivery attempt is a system action in the audit trail (ids and status codes only).
        onAttempt: (d, a) =>
          auditSystemAction(c, {
            actorId: 'system:webhook-delivery',
            operation: 'webhook.deliver',
            category: 'system',
            correlationId: d.deliveryId,
            resources: [{ type: 'Partner', id: d.partnerId }, { type: 'WebhookEndpoint', id: d.endpointId }],
            parameters: { eventId: d.eventId, eventType: d.eventType, attempt: d.attempts.length, status: d.status, ...(a.statusCode ? { statusCode: a.statusCode } : {}), ...(a.error ? { error: a.error } : {}) },
            outcome: d.status === 'failed' ? 'failure' : 'success',
            status: a.statusCode ?? 502,
          }),
      }),
    };
    built.set(c, s);
  }
  return s;
}
