import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header carrying the signature of a webhook delivery. */
export const SIGNATURE_HEADER = 'MDRP-Signature';
/** Receivers should refuse deliveries signed more than this long ago (replay protection). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * Signs a webhook body: HMAC-SHA256 over `<timestamp>.<body>` with the endpoint's secret, sent as
 * `MDRP-Signature: t=<unix seconds>,v1=<hex>`. The timestamp is part of the signed text, so an
 * old delivery cannot be replayed with a fresh timestamp.
 *
 * @example
 * signWebhook('whsec_…', '{"id":"…"}', 1764000000) // → 't=1764000000,v1=5f2b…'
 */
export function signWebhook(secret: string, body: string, timestampSeconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`, 'utf8').digest('hex');
  return `t=${timestampSeconds},v1=${v1}`;
}

/**
 * Verifies a signature header as a receiver should: parse `t` and every `v1`, recompute the HMAC
 * over the raw body, compare in constant time, and refuse timestamps outside the tolerance.
 * Returns why it failed, or `ok`.
 */
export function verifyWebhookSignature(
  secret: string,
  body: string,
  header: string | undefined,
  nowSeconds: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): 'ok' | 'missing' | 'malformed' | 'stale' | 'mismatch' {
  if (!header) return 'missing';
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  const candidates = parts.filter(([k, v]) => k === 'v1' && v && /^[0-9a-f]{64}$/.test(v)).map(([, v]) => v!);
  if (!Number.isInteger(t) || candidates.length === 0) return 'malformed';
  if (Math.abs(nowSeconds - t) > toleranceSeconds) return 'stale';
  const expected = Buffer.from(signWebhook(secret, body, t).split('v1=')[1]!, 'hex');
  return candidates.some((c) => timingSafeEqual(Buffer.from(c, 'hex'), expected)) ? 'ok' : 'mismatch';
}
