import { isIP } from 'node:net';
import { ValidationError } from '../errors';

/** How webhook URLs are checked: https only in AWS; plain http to loopback only when configured (local runtime). */
export interface WebhookUrlPolicy {
  allowHttpLoopback: boolean;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Refuses URLs a partner must not point the platform at: not https (unless loopback http is
 * allowed locally), credentials in the URL, or an https target that is an internal address
 * (loopback, private, link-local — the instance metadata range): a webhook must not become a way
 * to reach the platform's own network (SSRF).
 */
export function assertWebhookUrl(raw: string, policy: WebhookUrlPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValidationError('not a valid URL', { field: 'url' });
  }
  if (url.username || url.password) throw new ValidationError('the URL must not carry credentials', { field: 'url' });
  if (url.protocol === 'http:') {
    if (policy.allowHttpLoopback && LOOPBACK_HOSTS.has(url.hostname)) return url;
    throw new ValidationError('webhook URLs must use https', { field: 'url', reason: 'https-required' });
  }
  if (url.protocol !== 'https:') throw new ValidationError('webhook URLs must use https', { field: 'url', reason: 'https-required' });
  if (isInternalHost(url.hostname)) throw new ValidationError('webhook URLs must not address internal hosts', { field: 'url', reason: 'internal-host' });
  return url;
}

function isInternalHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal')) return true;
  const v = isIP(host);
  if (v === 4) {
    const [a, b] = host.split('.').map(Number) as [number, number];
    return a === 10 || a === 127 || a === 0 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
  }
  if (v === 6) return host === '::1' || host === '::' || host.startsWith('fc') || host.startsWith('fd') || host.startsWith('fe80') || host.startsWith('::ffff:');
  return false;
}
