import type { WebhookTransport } from '../../core/ports/webhook-transport';

/**
 * Webhook POSTs with the runtime's fetch (undici): redirects are not followed (a 3xx counts as a
 * failed attempt, so an endpoint cannot bounce deliveries to another host), the answer body is
 * discarded, and each attempt is bounded by a timeout.
 */
export class FetchWebhookTransport implements WebhookTransport {
  async post(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<{ status: number }> {
    const res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel().catch(() => undefined);
    return { status: res.status };
  }
}
