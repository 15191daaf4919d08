import { describe, expect, it } from 'vitest';
import { decidePartnerEdge, ipInCidrs, shortScope, type PartnerEdgeFacts } from '../../../functions/core/partners/partner-edge-decision';
import { UsageMeter } from '../../../functions/core/partners/usage-meter';
import { PARTNER_USAGE_PLANS, type UsagePlanLimits } from '../../../functions/core/partners/usage-plans';
import { TestClock } from '../../support/test-container';

const NOW = Date.parse('2026-11-24T08:00:00Z');

/** A partner call that passes every check; each test breaks one thing. */
function facts(over: Partial<PartnerEdgeFacts> = {}): PartnerEdgeFacts {
  return {
    apiKeyPresented: true,
    key: { keyId: 'key_1', partnerId: 'ptn_1', status: 'active' },
    partner: { partnerId: 'ptn_1', institution: 'demo-hospital-2', status: 'active', allowedCidrs: ['127.0.0.1/32'], scopes: ['catalog.read', 'fhir.read'], plan: 'pilot', oauthClientId: 'client-1' },
    sourceIp: '127.0.0.1',
    token: { kind: 'valid', clientId: 'client-1', scopes: ['mdrp/catalog.read'] },
    requiredScopes: ['catalog.read'],
    now: NOW,
    ...over,
  };
}

describe('usage meter: token bucket and daily quota per key', () => {
  it('R-SEC-7: a full bucket allows the burst, then refuses with Retry-After until tokens refill at the plan rate', () => {
    // Prepare
    const clock = new TestClock(NOW);
    const meter = new UsageMeter(clock);
    const plan = { rateLimit: 2, burstLimit: 5, quotaPerDay: 1000, description: 't' };
    // Act
    const burst = Array.from({ length: 5 }, () => meter.take('k', plan).ok);
    const sixth = meter.take('k', plan);
    clock.advance(499);
    const tooEarly = meter.take('k', plan);
    clock.advance(1);
    const refilled = meter.take('k', plan);
    // Assess
    expect(burst).toEqual([true, true, true, true, true]);
    expect(sixth).toEqual({ ok: false, reason: 'rate', retryAfterSeconds: 1 });
    expect(tooEarly.ok).toBe(false);
    expect(refilled.ok).toBe(true);
    // Keys are metered separately.
    expect(meter.take('other', plan).ok).toBe(true);
  });

  it('R-SEC-7: the bucket never holds more than the burst, however long the key was idle', () => {
    const clock = new TestClock(NOW);
    const meter = new UsageMeter(clock);
    const plan = { rateLimit: 10, burstLimit: 3, quotaPerDay: 1000, description: 't' };
    meter.take('k', plan);
    clock.advance(3_600_000);
    const results = Array.from({ length: 4 }, () => meter.take('k', plan).ok);
    expect(results).toEqual([true, true, true, false]);
  });

  it('R-SEC-7: the daily quota refuses until the next UTC day, then resets', () => {
    const clock = new TestClock(Date.parse('2026-11-24T23:00:00Z'));
    const meter = new UsageMeter(clock);
    const plan = { rateLimit: 100, burstLimit: 100, quotaPerDay: 3, description: 't' };
    expect([1, 2, 3].map(() => meter.take('k', plan))).toEqual([
      { ok: true, remainingToday: 2 },
      { ok: true, remainingToday: 1 },
      { ok: true, remainingToday: 0 },
    ]);
    expect(meter.take('k', plan)).toEqual({ ok: false, reason: 'quota', retryAfterSeconds: 3600 });
    clock.advance(3_600_000);
    expect(meter.take('k', plan)).toEqual({ ok: true, remainingToday: 2 });
  });

  it('R-SEC-7: a refused request consumes neither bucket tokens nor quota', () => {
    const clock = new TestClock(NOW);
    const meter = new UsageMeter(clock);
    const plan = { rateLimit: 1, burstLimit: 1, quotaPerDay: 2, description: 't' };
    expect(meter.take('k', plan).ok).toBe(true);
    for (let i = 0; i < 5; i++) expect(meter.take('k', plan).ok).toBe(false);
    clock.advance(1000);
    expect(meter.take('k', plan)).toEqual({ ok: true, remainingToday: 0 });
  });
});

describe('CIDR matching (IP allow-list)', () => {
  it('R-SEC-7: addresses match their ranges, IPv4-mapped IPv6 peers match as IPv4, garbage never matches', () => {
    expect(ipInCidrs('127.0.0.1', ['127.0.0.1/32'])).toBe(true);
    expect(ipInCidrs('::ffff:127.0.0.1', ['127.0.0.1/32'])).toBe(true);
    expect(ipInCidrs('127.0.0.2', ['127.0.0.1/32'])).toBe(false);
    expect(ipInCidrs('203.0.113.77', ['198.51.100.0/24', '203.0.113.0/24'])).toBe(true);
    expect(ipInCidrs('203.0.114.1', ['203.0.113.0/24'])).toBe(false);
    expect(ipInCidrs('127.0.0.1', ['203.0.113.0/24'])).toBe(false);
    expect(ipInCidrs('2001:db8::5', ['2001:db8::/32'])).toBe(true);
    expect(ipInCidrs('2001:db8::5', ['0.0.0.0/0'])).toBe(false);
    expect(ipInCidrs('not-an-ip', ['0.0.0.0/0'])).toBe(false);
    expect(ipInCidrs('10.0.0.1', ['not-a-cidr'])).toBe(false);
    expect(ipInCidrs('', ['0.0.0.0/0'])).toBe(false);
  });
});

describe('partner edge decision', () => {
  it('R-SEC-7, R-SEC-6: a valid call is allowed with the authorizer context (partner, client, short scopes, key id)', () => {
    const d = decidePartnerEdge(facts({ token: { kind: 'valid', clientId: 'client-1', scopes: ['mdrp/catalog.read', 'mdrp/fhir.read', 'mdrp/ingest.write'] } }));
    // ingest.write is not among the partner's scopes, so it never reaches the handler.
    expect(d).toEqual({ allow: true, partnerId: 'ptn_1', keyId: 'key_1', context: { partnerId: 'ptn_1', institution: 'demo-hospital-2', client_id: 'client-1', scope: 'catalog.read fhir.read', apiKeyId: 'key_1' } });
    expect(shortScope('mdrp/fhir.read')).toBe('fhir.read');
  });

  const cases: Array<[string, Partial<PartnerEdgeFacts>, number, string]> = [
    ['missing API key', { apiKeyPresented: false, key: undefined, partner: undefined }, 401, 'api-key-missing'],
    ['unknown API key', { key: undefined, partner: undefined }, 403, 'api-key-invalid'],
    ['revoked API key', { key: { keyId: 'key_1', partnerId: 'ptn_1', status: 'revoked' } }, 403, 'api-key-revoked'],
    ['rotated key after its grace period', { key: { keyId: 'key_1', partnerId: 'ptn_1', status: 'retiring', graceUntil: new Date(NOW).toISOString() } }, 403, 'api-key-grace-ended'],
    ['suspended partner', { partner: { ...facts().partner!, status: 'suspended' } }, 403, 'partner-suspended'],
    ['caller outside the allow-list', { sourceIp: '198.51.100.9' }, 403, 'ip-not-allowed'],
    ['missing token', { token: { kind: 'missing' } }, 401, 'token-missing'],
    ['expired token', { token: { kind: 'invalid', reason: 'expired' } }, 401, 'token-expired'],
    ['garbage token', { token: { kind: 'invalid', reason: 'malformed' } }, 401, 'token-invalid'],
    ["another partner's token with this key", { token: { kind: 'valid', clientId: 'client-2', scopes: ['mdrp/catalog.read'] } }, 403, 'token-client-mismatch'],
    ['token without the route scope', { token: { kind: 'valid', clientId: 'client-1', scopes: ['mdrp/fhir.read'] } }, 403, 'insufficient-scope'],
    ['route with no known partner scope', { requiredScopes: undefined }, 403, 'insufficient-scope'],
  ];
  for (const [what, over, status, reason] of cases) {
    it(`R-SEC-7, R-SEC-6: ${what} → ${status} ${reason}`, () => {
      const d = decidePartnerEdge(facts(over));
      expect(d).toMatchObject({ allow: false, status, reason });
    });
  }

  it('R-SEC-7: a rotated key keeps working until the end of its grace period (decision time, not the schedule)', () => {
    const retiring = { keyId: 'key_1', partnerId: 'ptn_1', status: 'retiring' as const, graceUntil: new Date(NOW + 1).toISOString() };
    expect(decidePartnerEdge(facts({ key: retiring })).allow).toBe(true);
    expect(decidePartnerEdge(facts({ key: retiring, now: NOW + 1 }))).toMatchObject({ allow: false, status: 403, reason: 'api-key-grace-ended', keyId: 'key_1', partnerId: 'ptn_1' });
  });

  it('R-SEC-7: a key of another partner record is refused (key and partner must belong together)', () => {
    expect(decidePartnerEdge(facts({ key: { keyId: 'key_9', partnerId: 'ptn_9', status: 'active' } }))).toMatchObject({ status: 403, reason: 'api-key-invalid' });
  });

  it('R-SEC-7: checks run in edge order: key, then IP, then usage plan, then token; refused calls are not metered', () => {
    const clock = new TestClock(NOW);
    const meter = new UsageMeter(clock);
    let metered = 0;
    const counting = (k: string, l: UsagePlanLimits) => {
      metered += 1;
      return meter.take(k, l);
    };
    // Wrong IP and bad key are refused before metering.
    expect(decidePartnerEdge(facts({ sourceIp: '203.0.113.1', token: { kind: 'missing' } }), counting)).toMatchObject({ reason: 'ip-not-allowed' });
    expect(decidePartnerEdge(facts({ key: undefined }), counting)).toMatchObject({ reason: 'api-key-invalid' });
    expect(metered).toBe(0);
    // The pilot plan's burst (5) passes, the sixth call is throttled before its token is looked at.
    for (let i = 0; i < PARTNER_USAGE_PLANS.pilot.burstLimit; i++) expect(decidePartnerEdge(facts(), counting).allow).toBe(true);
    expect(decidePartnerEdge(facts({ token: { kind: 'missing' } }), counting)).toMatchObject({ allow: false, status: 429, code: 'RATE_LIMITED', reason: 'rate-limited', retryAfterSeconds: 1 });
  });

  it('R-SEC-7: an exhausted daily quota answers 429 QUOTA_EXCEEDED with the seconds until the quota resets', () => {
    const d = decidePartnerEdge(facts(), () => ({ ok: false, reason: 'quota', retryAfterSeconds: 57_600 }));
    expect(d).toMatchObject({ allow: false, status: 429, code: 'QUOTA_EXCEEDED', reason: 'quota-exceeded', retryAfterSeconds: 57_600 });
  });
});
