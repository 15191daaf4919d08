import { randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import type { Actor } from '../identity/actor';
import type { Clock } from '../ports/clock';
import type { DocumentStore, Item } from '../ports/document-store';
import type { IdGenerator } from '../ports/id-generator';
import type { KeyProvider } from '../ports/key-provider';
import { INTEGRATION_EVENT_TYPES, type IntegrationEventType } from './integration-event';
import type { WebhookDelivery, WebhookEndpoint } from './webhook-endpoint';
import { assertWebhookUrl, type WebhookUrlPolicy } from './webhook-url-policy';

/** At most this many endpoints per partner. */
export const MAX_ENDPOINTS_PER_PARTNER = 10;

export interface RegisterWebhookInput {
  url: string;
  eventTypes: IntegrationEventType[];
  description?: string;
}

type EndpointItem = Item & { endpoint: WebhookEndpoint; secretCiphertext: string };
export type DeliveryItem = Item & { delivery: WebhookDelivery; body: string };

/** Store keys of webhook items (shared with the outbox and the dispatcher). */
export const webhookKeys = {
  endpoint: (partnerId: string, endpointId: string) => ({ pk: `PARTNER#${partnerId}`, sk: `WEBHOOK#${endpointId}` }),
  delivery: (deliveryId: string) => ({ pk: `WEBHOOK_DELIVERY#${deliveryId}`, sk: 'DELIVERY' }),
  /** gsi1 partition of an endpoint's delivery log. */
  log: (endpointId: string) => `WEBHOOK#${endpointId}`,
  /** gsi2 partition of deliveries waiting for an attempt (sparse: delivered/failed leave it). */
  outbox: 'WEBHOOK_OUTBOX',
};

/**
 * Webhook endpoints of partner systems (R-INT-1 business integration): registration with a
 * per-endpoint signing secret (random 256 bits, envelope-encrypted at rest, shown once), listing,
 * removal, and the delivery log a partner reads to see what was sent and how its endpoint answered.
 */
export class WebhookService {
  constructor(
    private readonly store: DocumentStore,
    private readonly keys: KeyProvider,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly urlPolicy: WebhookUrlPolicy,
  ) {}

  async register(actor: Actor, partnerId: string, input: RegisterWebhookInput): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const url = assertWebhookUrl(input.url, this.urlPolicy);
    const eventTypes = [...new Set(input.eventTypes)];
    const unknown = eventTypes.filter((t) => !(INTEGRATION_EVENT_TYPES as readonly string[]).includes(t));
    if (eventTypes.length === 0 || unknown.length) throw new ValidationError('unknown or missing event types', { field: 'eventTypes', allowed: INTEGRATION_EVENT_TYPES });
    const existing = await this.list(partnerId);
    if (existing.length >= MAX_ENDPOINTS_PER_PARTNER) throw new ConflictError(`a partner may register at most ${MAX_ENDPOINTS_PER_PARTNER} endpoints`, { partnerId, max: MAX_ENDPOINTS_PER_PARTNER });
    const endpointId = this.ids.next('whk');
    const secret = `whsec_${randomBytes(32).toString('base64url')}`;
    const { ciphertext } = await this.keys.encrypt('data', new TextEncoder().encode(secret), secretContext(partnerId, endpointId));
    const endpoint: WebhookEndpoint = {
      endpointId,
      partnerId,
      url: url.toString(),
      eventTypes,
      ...(input.description ? { description: input.description } : {}),
      status: 'active',
      secretHint: secret.slice(-4),
      createdAt: new Date(this.clock.now()).toISOString(),
      createdBy: actor.id,
    };
    const item: EndpointItem = { ...webhookKeys.endpoint(partnerId, endpointId), version: 1, endpoint, secretCiphertext: Buffer.from(ciphertext).toString('base64') };
    await this.store.put('main', item, { ifNotExists: true });
    return { endpoint, secret };
  }

  async list(partnerId: string): Promise<WebhookEndpoint[]> {
    const page = await this.store.query<EndpointItem>('main', { pk: `PARTNER#${partnerId}`, skPrefix: 'WEBHOOK#', limit: 100 });
    return page.items.map((i) => i.endpoint);
  }

  async get(partnerId: string, endpointId: string): Promise<WebhookEndpoint> {
    return (await this.load(partnerId, endpointId)).endpoint;
  }

  /** Removes an endpoint; pending deliveries to it fail on their next attempt (`endpoint-removed`). */
  async remove(partnerId: string, endpointId: string): Promise<void> {
    await this.load(partnerId, endpointId);
    await this.store.delete('main', webhookKeys.endpoint(partnerId, endpointId));
  }

  /** Active endpoints of a partner subscribed to an event type (used by the outbox). */
  async subscribers(partnerId: string, type: IntegrationEventType): Promise<WebhookEndpoint[]> {
    return (await this.list(partnerId)).filter((e) => e.status === 'active' && e.eventTypes.includes(type));
  }

  /** The endpoint's signing secret (dispatcher only; never returned by the API after registration). */
  async secret(partnerId: string, endpointId: string): Promise<string> {
    const item = await this.load(partnerId, endpointId);
    const plain = await this.keys.decrypt('data', Buffer.from(item.secretCiphertext, 'base64'), secretContext(partnerId, endpointId));
    return new TextDecoder().decode(plain);
  }

  /** An endpoint's delivery log, newest first. */
  async deliveries(partnerId: string, endpointId: string, limit = 50): Promise<WebhookDelivery[]> {
    await this.load(partnerId, endpointId);
    const page = await this.store.query<DeliveryItem>('main', { index: 'gsi1', pk: webhookKeys.log(endpointId), ascending: false, limit });
    return page.items.map((i) => i.delivery);
  }

  private async load(partnerId: string, endpointId: string): Promise<EndpointItem> {
    const item = await this.store.get<EndpointItem>('main', webhookKeys.endpoint(partnerId, endpointId));
    // Another partner's endpoint is indistinguishable from a missing one.
    if (!item) throw new NotFoundError('webhook endpoint', { endpointId });
    return item;
  }
}

function secretContext(partnerId: string, endpointId: string): Record<string, string> {
  return { purpose: 'webhook-secret', partnerId, endpointId };
}
