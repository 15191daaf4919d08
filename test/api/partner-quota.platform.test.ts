import { describe, expect, inject, it } from 'vitest';
import { PARTNER_USAGE_PLANS } from '../../functions/core/partners/usage-plans';
import { apiAs, idTokenFor } from '../support/api-client';

const platform = inject('platform');
const oauth = platform.oauth!;
const PLAN = PARTNER_USAGE_PLANS.evaluation;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * R-SEC-7: the daily quota of a usage plan, end to end through the local front. The partner is on
 * the `evaluation` plan of PARTNER_USAGE_PLANS, the configuration CDK deploys as API Gateway usage
 * plans (quota period DAY) and the front meters per key.
 */
describe('partner usage plan: daily quota (local front)', () => {
  it('R-SEC-7, R-INT-1: exactly quotaPerDay calls succeed; then 429 QUOTA_EXCEEDED with Retry-After until the next UTC day, also after the burst refills; every call audited', async () => {
    const admin = apiAs(platform, await idTokenFor(platform, 'security-admin'));
    const auditor = apiAs(platform, await idTokenFor(platform, 'auditor'));
    const onboarded = await admin.post('/v1/partners', { name: 'Quota test: evaluation partner', institution: 'demo-hospital-2', contactEmail: 'quota@demo-hospital-2.example', allowedCidrs: ['127.0.0.1/32'], scopes: ['catalog.read'], plan: 'evaluation' });
    expect(onboarded.status).toBe(201);
    const { partner, apiKey, oauthClient } = onboarded.json as { partner: { partnerId: string; plan: string }; apiKey: string; oauthClient: { clientId: string; clientSecret: string } };
    expect(partner.plan).toBe('evaluation');
    const tokenRes = await fetch(oauth.tokenEndpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${oauthClient.clientId}:${oauthClient.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'mdrp/catalog.read' }).toString(),
    });
    expect(tokenRes.status).toBe(200);
    const partnerApi = apiAs(platform, ((await tokenRes.json()) as { access_token: string }).access_token);
    const call = () => partnerApi.get('/v1/datasets', { 'x-api-key': apiKey });

    // Sequential calls; a rate refusal (the bucket of the plan) is waited out as Retry-After says.
    let ok = 0;
    let rateLimited = 0;
    let quotaRefusal: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < PLAN.quotaPerDay * 3 && !quotaRefusal; i++) {
      const res = await call();
      if (res.status === 200) ok++;
      else if (res.status === 429 && res.json.error.code === 'RATE_LIMITED') {
        rateLimited++;
        await sleep(Number(res.headers.get('retry-after')) * 1000);
      } else quotaRefusal = res;
    }
    expect(ok).toBe(PLAN.quotaPerDay);
    expect(quotaRefusal?.status).toBe(429);
    expect(quotaRefusal!.json.error).toMatchObject({ code: 'QUOTA_EXCEEDED', message: 'daily quota of the usage plan exhausted', details: { reason: 'quota-exceeded' } });
    // Retry-After: the seconds until the quota resets at the next UTC midnight (API Gateway's DAY period).
    const untilMidnight = (Math.floor(Date.now() / 86_400_000) + 1) * 86_400_000 - Date.now();
    const retryAfter = Number(quotaRefusal!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(Math.abs(retryAfter * 1000 - untilMidnight)).toBeLessThan(10_000);

    // Waiting for the bucket to refill does not help: the quota, not the rate, refuses.
    await sleep(Math.ceil((PLAN.burstLimit / PLAN.rateLimit) * 1000));
    const again = await call();
    expect(again.status).toBe(429);
    expect(again.json.error.code).toBe('QUOTA_EXCEEDED');

    // Audited: every successful call as the partner, each refusal at the edge with its code.
    const res = await auditor.get(`/v1/audit/events?actorId=${encodeURIComponent(partner.partnerId)}&limit=500`);
    expect(res.status).toBe(200);
    const events = res.json.items as Array<{ category: string; operation: string; resources: Array<{ type: string }>; result: { outcome: string; status: number; errorCode?: string } }>;
    expect(events.filter((e) => e.operation === 'listDatasets' && e.result.status === 200)).toHaveLength(PLAN.quotaPerDay);
    expect(events.filter((e) => e.result.errorCode === 'RATE_LIMITED')).toHaveLength(rateLimited);
    const quota = events.filter((e) => e.result.errorCode === 'QUOTA_EXCEEDED');
    expect(quota).toHaveLength(2);
    for (const e of quota) expect(e).toMatchObject({ category: 'security', operation: 'listDatasets', resources: [{ type: 'ApiKey' }], result: { outcome: 'failure', status: 429 } });
  }, 120_000);
});
