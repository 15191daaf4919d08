import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { verifyWebhookSignature } from '../../functions/core/integrations/webhook-signature';
import { apiAs, eventually, idTokenFor, typedApiAs } from '../support/api-client';

const platform = inject('platform');
const oauth = platform.oauth!;
const SCOPES = ['catalog.read', 'access-requests.write', 'access-requests.read', 'grants.read'];

interface PartnerCreds {
  partnerId: string;
  apiKey: string;
  token: string;
}

/** A partner system's local webhook receiver: keeps each delivery and whether its signature verified. */
class Receiver {
  secret = '';
  received: Array<{ headers: Record<string, string | string[] | undefined>; body: string; verdict: string }> = [];
  private server?: Server;
  url = '';
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        // Verify exactly as the README tells partners: HMAC-SHA256 over "<t>.<raw body>", 5-minute window.
        const verdict = verifyWebhookSignature(this.secret, body, req.headers['mdrp-signature'] as string | undefined, Math.floor(Date.now() / 1000));
        this.received.push({ headers: req.headers, body, verdict });
        res.writeHead(verdict === 'ok' ? 204 : 401).end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/mdrp/events`;
  }
  events(): Array<{ type: string; data: Record<string, string> }> {
    return this.received.filter((r) => r.verdict === 'ok').map((r) => JSON.parse(r.body));
  }
  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

describe('partner business operations and signed webhooks on the local runtime (R-INT-1)', () => {
  const api: Record<string, ReturnType<typeof apiAs>> = {};
  const receiver = new Receiver();
  let a: PartnerCreds;
  let b: PartnerCreds;

  const onboard = async (name: string): Promise<PartnerCreds> => {
    const res = await api['security-admin']!.post('/v1/partners', { name, institution: 'demo-hospital-2', contactEmail: 'it@demo-hospital-2.example', allowedCidrs: ['127.0.0.0/8'], scopes: SCOPES });
    expect(res.status).toBe(201);
    const { clientId, clientSecret } = res.json.oauthClient;
    const tok = await fetch(oauth.tokenEndpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPES.map((s) => `mdrp/${s}`).join(' ') }).toString(),
    });
    expect(tok.status).toBe(200);
    return { partnerId: res.json.partner.partnerId, apiKey: res.json.apiKey, token: ((await tok.json()) as { access_token: string }).access_token };
  };
  const as = (p: PartnerCreds) => {
    const c = apiAs(platform, p.token);
    const h = { 'x-api-key': p.apiKey };
    return { get: (path: string) => c.get(path, h), post: (path: string, body: unknown) => c.post(path, body, h), del: (path: string) => c.call('DELETE', path, undefined, h) };
  };
  const waitForStep = (user: string, requestId: string) =>
    eventually(async () => (await api[user]!.get('/v1/access-requests?view=queue')).json.items.find((r: { requestId: string }) => r.requestId === requestId), 30_000);

  beforeAll(async () => {
    for (const u of ['ethics-reviewer', 'approver', 'data-owner', 'security-admin']) api[u] = apiAs(platform, await idTokenFor(platform, u));
    await receiver.start();
    a = await onboard('Partner A research portal');
    b = await onboard('Partner B research portal');
  });
  afterAll(() => receiver.stop());

  it('R-INT-1: a partner queries the catalogue, registers a webhook, submits for a researcher, and receives the signed approval event', async () => {
    const catalog = await as(a).get('/v1/datasets');
    expect(catalog.status).toBe(200);
    expect(catalog.json.items.map((d: { datasetId: string }) => d.datasetId)).toContain('bc-nrt-io');

    const hook = await as(a).post('/v1/partner/webhooks', { url: receiver.url, eventTypes: ['access-request.submitted', 'access-request.decision', 'access-request.approved'], description: 'research portal' });
    expect(hook.status).toBe(201);
    receiver.secret = hook.json.secret;
    expect((await as(a).get('/v1/partner/webhooks')).text).not.toContain(hook.json.secret);

    // The typed client (generated from the OpenAPI document) checks this body against the API's schema.
    const submitted = await typedApiAs(platform, a.token, { 'x-api-key': a.apiKey }).POST('/v1/partner/access-requests', {
      body: {
      title: 'Partner study: pCR predictors',
      purposeCode: 'DUO:0000007',
      purpose: 'Identify clinical predictors of pathological complete response in TNBC',
      academicStatement: 'Retrospective analysis of de-identified cohort data inside the platform; only aggregate results leave it.',
      scope: { datasetIds: ['bc-nrt-io'], modalities: ['clinical'], fields: [] },
      requestedDurationDays: 30,
      agreementVersion: 'DSA-2026.1',
      agreementAccepted: true,
      onBehalfOf: { name: 'Dr. Zhou Lan', email: 'zhou.lan@demo-hospital-2.example', reference: 'EMP-0042' },
      },
    });
    expect(submitted.response.status).toBe(201);
    const id = submitted.data!.requestId;
    expect(submitted.data).toMatchObject({ applicantId: a.partnerId, applicantName: 'Dr. Zhou Lan', institution: 'demo-hospital-2', onBehalfOf: { reference: 'EMP-0042' } });

    // Another partner cannot see it; the owner can.
    expect((await as(b).get(`/v1/partner/access-requests/${id}`)).status).toBe(404);
    expect((await as(a).get(`/v1/partner/access-requests/${id}`)).json.status).toBe('ethics-review');

    await waitForStep('ethics-reviewer', id);
    expect((await api['ethics-reviewer']!.post(`/v1/access-requests/${id}/decisions`, { step: 'ethics', outcome: 'approved' })).status).toBe(200);
    await waitForStep('approver', id);
    expect((await api.approver!.post(`/v1/access-requests/${id}/decisions`, { step: 'approver', outcome: 'approved' })).status).toBe(200);
    await waitForStep('data-owner', id);
    expect((await api['data-owner']!.post(`/v1/access-requests/${id}/decisions`, { step: 'data-owner', outcome: 'approved' })).status).toBe(200);

    const approved = await eventually(async () => receiver.events().find((e) => e.type === 'access-request.approved' && e.data.requestId === id), 60_000).catch(async (e: unknown) => {
      // Say what did happen: the request's state, what the receiver got, and the delivery log.
      const state = (await as(a).get(`/v1/partner/access-requests/${id}`)).json;
      const log = (await as(a).get(`/v1/partner/webhooks/${hook.json.endpoint.endpointId}/deliveries`)).json;
      throw new Error(`${String(e)}: request ${state.status} ${JSON.stringify(state.history?.map((h: { action: string }) => h.action))}; received ${JSON.stringify(receiver.received.map((r) => [r.verdict, JSON.parse(r.body).type]))}; log ${JSON.stringify(log.items?.map((d: { eventType: string; status: string; attempts: unknown[] }) => [d.eventType, d.status, d.attempts]))}`);
    });
    expect(approved.data).toMatchObject({ requestId: id, status: 'approved', grantId: expect.stringMatching(/^grt_/), expiresAt: expect.any(String) });
    expect(receiver.received.every((r) => r.verdict === 'ok')).toBe(true);
    expect(receiver.events().filter((e) => e.data.requestId === id).map((e) => e.type)).toEqual([
      'access-request.submitted',
      'access-request.decision',
      'access-request.decision',
      'access-request.decision',
      'access-request.approved',
    ]);

    // Permission sync mirrors the grant, with status and expiry.
    const sync = await typedApiAs(platform, a.token, { 'x-api-key': a.apiKey }).GET('/v1/partner/grants', { params: { query: { status: 'active' } } });
    expect(sync.response.status).toBe(200);
    expect(sync.data!.items.find((g) => g.grantId === approved.data.grantId)).toMatchObject({ requestId: id, holderId: a.partnerId, holderName: 'Dr. Zhou Lan', viaPartner: true, status: 'active', expiresAt: approved.data.expiresAt });

    // The delivery log shows each attempt with the receiver's status code.
    const log = await eventually(async () => {
      const r = await as(a).get(`/v1/partner/webhooks/${hook.json.endpoint.endpointId}/deliveries`);
      return r.json.items.length >= 5 && r.json.items.every((d: { status: string }) => d.status === 'delivered') ? r.json.items : undefined;
    });
    expect(log[0].attempts[0]).toMatchObject({ statusCode: 204 });
    // Partner B cannot read partner A's delivery log.
    expect((await as(b).get(`/v1/partner/webhooks/${hook.json.endpoint.endpointId}/deliveries`)).status).toBe(404);
  }, 240_000);

  it('R-INT-1: without the API key the partner routes are refused at the edge; a user token is not a partner', async () => {
    expect((await apiAs(platform, a.token).get('/v1/partner/access-requests')).status).toBeGreaterThanOrEqual(401);
    expect((await api.approver!.get('/v1/partner/access-requests')).status).toBeGreaterThanOrEqual(401);
  });
});
