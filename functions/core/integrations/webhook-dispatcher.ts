import { ConflictError, NotFoundError, ValidationError } from '../errors';
import type { Clock } from '../ports/clock';
import type { DocumentStore } from '../ports/document-store';
import type { WebhookTransport } from '../ports/webhook-transport';
import type { DeliveryAttempt, WebhookDelivery } from './webhook-endpoint';
import { SIGNATURE_HEADER, signWebhook } from './webhook-signature';
import { webhookKeys, type DeliveryItem, type WebhookService } from './webhook-service';
import { assertWebhookUrl, type WebhookUrlPolicy } from './webhook-url-policy';

export interface DispatcherOptions {
  /** Delay before the first retry; doubles per attempt up to `maxDelayMs` (default 30 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Attempts before a delivery is marked failed (default 8: about an hour of retries). */
  maxAttempts?: number;
  /** Per-attempt timeout (default 10 s). */
  timeoutMs?: number;
  /** How long a claimed delivery is hidden from other dispatchers (default 60 s). */
  leaseMs?: number;
  /** Called after each recorded attempt (the composition root audits it as a system action). */
  onAttempt?: (delivery: WebhookDelivery, attempt: DeliveryAttempt) => Promise<void>;
}

export interface DispatchSummary {
  attempted: number;
  delivered: number;
  retrying: number;
  failed: number;
}

/**
 * Delivers due webhook deliveries from the outbox (the delivery Lambda on a schedule in AWS; an
 * interval timer locally). Each delivery is claimed with a conditional write (a lease), POSTed
 * with a fresh `MDRP-Signature`, and its attempt recorded: 2xx → delivered; anything else →
 * retried with exponential backoff until `maxAttempts`, then failed. At least once: receivers
 * de-duplicate on the event id.
 */
export class WebhookDispatcher {
  private readonly o: Required<Omit<DispatcherOptions, 'onAttempt'>> & Pick<DispatcherOptions, 'onAttempt'>;

  constructor(
    private readonly store: DocumentStore,
    private readonly webhooks: Pick<WebhookService, 'get' | 'secret'>,
    private readonly transport: WebhookTransport,
    private readonly clock: Clock,
    private readonly urlPolicy: WebhookUrlPolicy,
    options: DispatcherOptions = {},
  ) {
    this.o = { baseDelayMs: 30_000, maxDelayMs: 3_600_000, maxAttempts: 8, timeoutMs: 10_000, leaseMs: 60_000, ...options };
  }

  /** Attempts every delivery due now (at most `limit`). */
  async deliverDue(limit = 25): Promise<DispatchSummary> {
    const now = this.clock.now();
    // DynamoDB rejects an empty string as a key-condition value: the lower bound is the smallest
    // ISO timestamp character instead.
    const page = await this.store.query<DeliveryItem>('main', { index: 'gsi2', pk: webhookKeys.outbox, skBetween: ['0', `${iso(now)}~`], limit });
    const summary: DispatchSummary = { attempted: 0, delivered: 0, retrying: 0, failed: 0 };
    for (const item of page.items) {
      const claimed = await this.claim(item);
      if (!claimed) continue;
      const outcome = await this.attempt(claimed);
      summary.attempted += 1;
      summary[outcome] += 1;
    }
    return summary;
  }

  /** Hides the delivery from other dispatchers for the lease; false if someone else got it. */
  private async claim(item: DeliveryItem): Promise<DeliveryItem | undefined> {
    const leased: DeliveryItem = { ...item, gsi2sk: `${iso(this.clock.now() + this.o.leaseMs)}#${item.delivery.deliveryId}`, version: (item.version as number) + 1 };
    try {
      await this.store.put('main', leased, { expectedVersion: item.version as number });
      return leased;
    } catch (e) {
      if (e instanceof ConflictError) return undefined;
      throw e;
    }
  }

  private async attempt(item: DeliveryItem): Promise<'delivered' | 'retrying' | 'failed'> {
    const d = item.delivery;
    const started = this.clock.now();
    let attempt: DeliveryAttempt;
    let permanent = false;
    try {
      const endpoint = await this.webhooks.get(d.partnerId, d.endpointId);
      assertWebhookUrl(endpoint.url, this.urlPolicy);
      const secret = await this.webhooks.secret(d.partnerId, d.endpointId);
      const t = Math.floor(this.clock.now() / 1000);
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'MDRP-Webhooks/1',
        [SIGNATURE_HEADER]: signWebhook(secret, item.body, t),
        'MDRP-Event-Id': d.eventId,
        'MDRP-Event-Type': d.eventType,
        'MDRP-Delivery-Id': d.deliveryId,
      };
      const res = await this.transport.post(endpoint.url, headers, item.body, this.o.timeoutMs);
      attempt = { at: iso(started), statusCode: res.status, durationMs: this.clock.now() - started };
    } catch (e) {
      permanent = e instanceof NotFoundError || e instanceof ValidationError;
      const error = e instanceof NotFoundError ? 'endpoint-removed' : permanent ? 'url-refused' : e instanceof Error && /timeout|abort/i.test(e.name + e.message) ? 'timeout' : 'network-error';
      attempt = { at: iso(started), error, durationMs: this.clock.now() - started };
    }
    const attempts = [...d.attempts, attempt];
    const ok = attempt.statusCode !== undefined && attempt.statusCode >= 200 && attempt.statusCode < 300;
    const exhausted = permanent || attempts.length >= this.o.maxAttempts;
    const status: WebhookDelivery['status'] = ok ? 'delivered' : exhausted ? 'failed' : 'pending';
    const { nextAttemptAt: _prev, ...rest } = d;
    const next: WebhookDelivery = { ...rest, attempts, status, ...(ok ? { deliveredAt: iso(this.clock.now()) } : {}) };
    const { gsi2pk: _pk, gsi2sk: _sk, ...base } = item;
    let updated: DeliveryItem = { ...base, delivery: next, version: (item.version as number) + 1 };
    if (status === 'pending') {
      const due = iso(this.clock.now() + Math.min(this.o.baseDelayMs * 2 ** (attempts.length - 1), this.o.maxDelayMs));
      updated = { ...updated, delivery: { ...next, nextAttemptAt: due }, gsi2pk: webhookKeys.outbox, gsi2sk: `${due}#${d.deliveryId}` };
    }
    await this.store.put('main', updated, { expectedVersion: item.version as number });
    await this.o.onAttempt?.(updated.delivery, attempt);
    return ok ? 'delivered' : status === 'failed' ? 'failed' : 'retrying';
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
