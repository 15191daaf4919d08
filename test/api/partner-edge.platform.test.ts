import { importJWK, SignJWT, decodeJwt } from 'jose';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { PARTNER_USAGE_PLANS } from '../../functions/core/partners/usage-plans';
import { apiAs, idTokenFor } from '../support/api-client';

const platform = inject('platform');
const oauth = platform.oauth!;

interface Onboarded {
  partnerId: string;
  apiKey: string;
  clientId: string;
  clientSecret: string;
  tokenEndpoint: string;
}

/** Client-credentials grant against the local OIDC provider (HTTP Basic client authentication). */
async function tokenRequest(clientId: string, clientSecret: string, scope?: string): Promise<{ status: number; json: Record<string, string> }> {
  const res = await fetch(oauth.tokenEndpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) }).toString(),
  });
  return { status: res.status, json: (await res.json()) as Record<string, string> };
}

async function accessToken(p: Onboarded, scope = 'mdrp/catalog.read'): Promise<string> {
  const r = await tokenRequest(p.clientId, p.clientSecret, scope);
  expect(r.status).toBe(200);
  return r.json.access_token!;
}

/** A partner call: API key + bearer token (either may be left out). */
async function partnerGet(path: string, creds: { apiKey?: string; token?: string; headers?: Record<string, string> }) {
  return apiAs(platform, creds.token).get(path, { ...(creds.apiKey ? { 'x-api-key': creds.apiKey } : {}), ...(creds.headers ?? {}) });
}

/** GET with a body (fetch cannot send one): the edge must refuse an oversized body before anything else. */
function rawGetWithBody(path: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; json: { error: { code: string; correlationId: string } } }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, platform.apiUrl);
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'GET', headers: { ...headers, 'content-type': 'application/json', 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'EPIPE' || (e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
    req.end(body);
  });
}

describe('partner edge: API keys, usage plans, IP allow-list, OAuth 2.0 client credentials (local front)', () => {
  let admin: ReturnType<typeof apiAs>;
  let auditor: ReturnType<typeof apiAs>;
  const partners: Record<'main' | 'pilot' | 'remote' | 'rotating', Onboarded> = {} as never;

  const onboard = async (name: string, allowedCidrs: string[], plan: 'default' | 'pilot', scopes = ['catalog.read', 'fhir.read']): Promise<Onboarded> => {
    const res = await admin.post('/v1/partners', { name, institution: 'demo-hospital-2', contactEmail: 'edge@demo-hospital-2.example', allowedCidrs, scopes, plan });
    expect(res.status).toBe(201);
    return { partnerId: res.json.partner.partnerId, apiKey: res.json.apiKey, clientId: res.json.oauthClient.clientId, clientSecret: res.json.oauthClient.clientSecret, tokenEndpoint: res.json.oauthClient.tokenEndpoint };
  };

  /** The audit events of an actor, to prove each refusal was recorded at the edge (category security). */
  const auditOf = async (actorId: string) => {
    const res = await auditor.get(`/v1/audit/events?actorId=${encodeURIComponent(actorId)}&limit=500`);
    expect(res.status).toBe(200);
    return res.json.items as Array<{ correlationId: string; category: string; operation: string; actor: { kind: string; id: string }; resources: Array<{ type: string; id: string }>; result: { outcome: string; status: number; errorCode?: string } }>;
  };

  beforeAll(async () => {
    admin = apiAs(platform, await idTokenFor(platform, 'security-admin'));
    auditor = apiAs(platform, await idTokenFor(platform, 'auditor'));
    // One partner calling from here (127.0.0.1/32) and one allowed only from 203.0.113.0/24.
    partners.main = await onboard('Edge test: main partner', ['127.0.0.1/32'], 'default');
    partners.pilot = await onboard('Edge test: pilot plan partner', ['127.0.0.1/32'], 'pilot');
    partners.remote = await onboard('Edge test: remote partner', ['203.0.113.0/24'], 'default');
    partners.rotating = await onboard('Edge test: rotating partner', ['127.0.0.1/32'], 'default');
  }, 60_000);

  it('R-SEC-6, R-INT-1: onboarding returns an OAuth client; the partner gets a JWT access token by client credentials', async () => {
    const p = partners.main;
    expect(p.tokenEndpoint).toBe(oauth.tokenEndpoint);
    expect(p.clientSecret.length).toBeGreaterThanOrEqual(40);
    const listed = (await admin.get('/v1/partners')).json.items.find((x: { partnerId: string }) => x.partnerId === p.partnerId);
    expect(listed).toMatchObject({ oauthClientId: p.clientId, plan: 'default' });
    expect(JSON.stringify(listed)).not.toContain(p.clientSecret);

    const token = await accessToken(p);
    expect(decodeJwt(token)).toMatchObject({ iss: oauth.issuer, client_id: p.clientId, scope: 'mdrp/catalog.read' });
    expect((await tokenRequest(p.clientId, 'wrong-secret')).status).toBe(401);
    // Scopes outside the partner's are not granted.
    expect((await tokenRequest(p.clientId, p.clientSecret, 'mdrp/ingest.write')).status).toBe(400);
  });

  it('R-SEC-7, R-INT-1: a partner with key + token lists the catalogue within its plan; the call is audited as the partner', async () => {
    const p = partners.main;
    const res = await partnerGet('/v1/datasets', { apiKey: p.apiKey, token: await accessToken(p) });
    expect(res.status).toBe(200);
    expect(res.json.items.length).toBeGreaterThan(0);
    const events = await auditOf(p.partnerId);
    const ev = events.find((e) => e.correlationId === res.headers.get('x-correlation-id'));
    expect(ev).toMatchObject({ operation: 'listDatasets', actor: { kind: 'partner', id: p.partnerId }, result: { outcome: 'success' } });
  });

  it('R-SEC-7: past its burst the pilot plan answers 429 with Retry-After, audited', async () => {
    const p = partners.pilot;
    const token = await accessToken(p);
    const { burstLimit: burst, rateLimit: rate } = PARTNER_USAGE_PLANS.pilot;
    // Waves of parallel calls until the bucket runs dry (a slow machine refills it meanwhile).
    const t0 = Date.now();
    const results: Array<Awaited<ReturnType<typeof partnerGet>>> = [];
    for (let wave = 0; wave < 8 && !results.some((r) => r.status === 429); wave++) {
      results.push(...(await Promise.all(Array.from({ length: burst * 4 }, () => partnerGet('/v1/datasets', { apiKey: p.apiKey, token })))));
    }
    const elapsedSeconds = (Date.now() - t0) / 1000;
    const ok = results.filter((r) => r.status === 200);
    const throttled = results.filter((r) => r.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    expect(ok.length + throttled.length).toBe(results.length);
    // Never more than the bucket plus what the plan's rate refilled while the calls ran.
    expect(ok.length).toBeGreaterThanOrEqual(burst);
    expect(ok.length).toBeLessThanOrEqual(burst + Math.ceil(rate * elapsedSeconds) + 1);
    for (const r of throttled) {
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(r.json.error).toMatchObject({ code: 'RATE_LIMITED', details: { reason: 'rate-limited' } });
    }
    const events = await auditOf(p.partnerId);
    const refused = events.filter((e) => e.result.status === 429);
    expect(refused.length).toBe(throttled.length);
    expect(refused[0]).toMatchObject({ category: 'security', operation: 'listDatasets', resources: [{ type: 'ApiKey' }], result: { outcome: 'failure', errorCode: 'RATE_LIMITED' } });
  });

  it('R-SEC-7, R-SEC-6: bad keys, bad tokens, wrong IP and oversized bodies get the right status and error body, reach no handler, and are audited', async () => {
    const main = partners.main;
    const remote = partners.remote;
    const token = await accessToken(main);
    const otherToken = await accessToken(partners.rotating);
    const fhirOnly = await accessToken(main, 'mdrp/fhir.read');
    const key = JSON.parse(readFileSync(oauth.signingKeyFile, 'utf8')) as { kid: string };
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ client_id: main.clientId, scope: 'mdrp/catalog.read' })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'at+jwt' })
      .setIssuer(oauth.issuer)
      .setAudience('urn:mdrp:partner-api')
      .setSubject(main.clientId)
      .setIssuedAt(now - 3700)
      .setExpirationTime(now - 100)
      .sign(await importJWK(key, 'RS256'));

    const cases: Array<{ what: string; creds: Parameters<typeof partnerGet>[1]; status: number; code: string; reason: string; actor: string }> = [
      { what: 'missing key', creds: { token }, status: 401, code: 'UNAUTHENTICATED', reason: 'api-key-missing', actor: 'anonymous' },
      { what: 'invalid key', creds: { apiKey: 'x'.repeat(40), token }, status: 403, code: 'FORBIDDEN', reason: 'api-key-invalid', actor: 'anonymous' },
      { what: 'missing token', creds: { apiKey: main.apiKey }, status: 401, code: 'UNAUTHENTICATED', reason: 'token-missing', actor: main.partnerId },
      { what: 'garbage token', creds: { apiKey: main.apiKey, token: 'not.a.jwt' }, status: 401, code: 'UNAUTHENTICATED', reason: 'token-invalid', actor: main.partnerId },
      { what: 'expired token', creds: { apiKey: main.apiKey, token: expired }, status: 401, code: 'UNAUTHENTICATED', reason: 'token-expired', actor: main.partnerId },
      { what: "another partner's token with this key", creds: { apiKey: main.apiKey, token: otherToken }, status: 403, code: 'FORBIDDEN', reason: 'token-client-mismatch', actor: main.partnerId },
      { what: 'token without the route scope', creds: { apiKey: main.apiKey, token: fhirOnly }, status: 403, code: 'FORBIDDEN', reason: 'insufficient-scope', actor: main.partnerId },
      { what: 'caller outside the allow-list', creds: { apiKey: remote.apiKey, token: await accessToken(remote) }, status: 403, code: 'FORBIDDEN', reason: 'ip-not-allowed', actor: remote.partnerId },
      {
        what: 'forged X-Forwarded-For inside the allow-list',
        creds: { apiKey: remote.apiKey, token: await accessToken(remote), headers: { 'x-forwarded-for': '203.0.113.9', 'x-real-ip': '203.0.113.9' } },
        status: 403,
        code: 'FORBIDDEN',
        reason: 'ip-not-allowed',
        actor: remote.partnerId,
      },
    ];
    const seen: Array<{ what: string; correlationId: string; actor: string; status: number; code: string }> = [];
    for (const c of cases) {
      const res = await partnerGet('/v1/datasets', c.creds);
      expect({ what: c.what, status: res.status, code: res.json?.error?.code, reason: res.json?.error?.details?.reason }).toEqual({ what: c.what, status: c.status, code: c.code, reason: c.reason });
      if (c.status === 401 && c.reason.startsWith('token-')) expect(res.headers.get('www-authenticate')).toContain('Bearer');
      seen.push({ what: c.what, correlationId: res.json.error.correlationId, actor: c.actor, status: c.status, code: c.code });
    }

    // Oversized body (the partner limit, 256 KiB, applies even where the route would take more).
    const big = await rawGetWithBody('/v1/datasets', { 'x-api-key': main.apiKey, authorization: `Bearer ${token}` }, Buffer.alloc(300 * 1024, 0x20));
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe('PAYLOAD_TOO_LARGE');
    seen.push({ what: 'oversized body', correlationId: big.json.error.correlationId, actor: 'anonymous', status: 413, code: 'PAYLOAD_TOO_LARGE' });

    // Every refusal has exactly one audit event, written by the edge (category security), never a handler's.
    const byActor = new Map<string, Awaited<ReturnType<typeof auditOf>>>();
    for (const s of seen) {
      if (!byActor.has(s.actor)) byActor.set(s.actor, await auditOf(s.actor));
      const events = byActor.get(s.actor)!.filter((e) => e.correlationId === s.correlationId);
      expect({ what: s.what, n: events.length }).toEqual({ what: s.what, n: 1 });
      expect({ what: s.what, category: events[0]!.category, status: events[0]!.result.status, errorCode: events[0]!.result.errorCode }).toEqual({ what: s.what, category: 'security', status: s.status, errorCode: s.code });
    }
  });

  it('R-SEC-7: a rotated key works during its grace period and is refused after it; a revoked key and a suspended partner are refused', async () => {
    const p = partners.rotating;
    const token = await accessToken(p);
    const rotated = await admin.post(`/v1/partners/${p.partnerId}/api-keys`, { gracePeriodSeconds: 1 });
    expect(rotated.status).toBe(201);
    expect(rotated.json.partner.keys).toEqual([expect.objectContaining({ status: 'retiring', graceUntil: expect.any(String) }), expect.objectContaining({ keyId: rotated.json.keyId, status: 'active' })]);
    const newKey = rotated.json.apiKey as string;
    expect((await partnerGet('/v1/datasets', { apiKey: p.apiKey, token })).status).toBe(200);
    expect((await partnerGet('/v1/datasets', { apiKey: newKey, token })).status).toBe(200);

    await new Promise((r) => setTimeout(r, 1500));
    const old = await partnerGet('/v1/datasets', { apiKey: p.apiKey, token });
    expect(old.status).toBe(403);
    // Refused at decision time; the one-time schedule revokes it as well (whichever came first).
    expect(['api-key-grace-ended', 'api-key-revoked']).toContain(old.json.error.details.reason);
    expect((await partnerGet('/v1/datasets', { apiKey: newKey, token })).status).toBe(200);

    const suspended = await admin.call('PUT', `/v1/partners/${p.partnerId}/status`, { status: 'suspended' });
    expect(suspended.json.status).toBe('suspended');
    expect((await partnerGet('/v1/datasets', { apiKey: newKey, token })).json.error.details.reason).toBe('partner-suspended');
    await admin.call('PUT', `/v1/partners/${p.partnerId}/status`, { status: 'active' });
    expect((await partnerGet('/v1/datasets', { apiKey: newKey, token })).status).toBe(200);

    const revoked = await admin.post(`/v1/partners/${p.partnerId}/api-keys/${rotated.json.keyId}/revocation`, {});
    expect(revoked.status).toBe(200);
    const after = await partnerGet('/v1/datasets', { apiKey: newKey, token });
    expect({ status: after.status, reason: after.json.error.details.reason }).toEqual({ status: 403, reason: 'api-key-revoked' });

    // Bad rotation input is refused with a machine-readable 400; other roles are refused.
    expect((await admin.post(`/v1/partners/${p.partnerId}/api-keys`, { gracePeriodSeconds: -1 })).status).toBe(400);
    const researcher = apiAs(platform, await idTokenFor(platform, 'researcher'));
    expect((await researcher.post(`/v1/partners/${p.partnerId}/api-keys`, {})).status).toBe(403);
  });
});
