/**
 * Outbound HTTP for webhook deliveries (fetch in Lambda and locally). One POST, no redirects
 * followed, bounded time; the answer's status is all the platform keeps.
 */
export interface WebhookTransport {
  post(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<{ status: number }>;
}
