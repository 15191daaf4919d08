import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { createHmac } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { integrationServices, useWebhookTransport } from '../../../functions/composition/integration-services';
import type { Actor, Role } from '../../../functions/core/identity/actor';
import type { IntegrationEvent } from '../../../functions/core/integrations/integration-event';
import { signWebhook, verifyWebhookSignature } from '../../../functions/core/integrations/webhook-signature';
import { assertWebhookUrl } from '../../../functions/core/integrations/webhook-url-policy';
import type { WebhookTransport } from '../../../functions/core/ports/webhook-transport';
import { operations as integrationOps } from '../../../functions/handlers/integrations.handler';
import { runWebhookDelivery } from '../../../functions/handlers/webhook-delivery.handler';
import { makeApiHandler } from '../../../functions/http/make-api-handler';
import { testContainer } from '../../support/test-container';
import { PARTNER_A, PARTNER_B, partnerActor, partnerEvent, partnerInput, registerPartners, saveDataset, userEvent } from './integration-fixtures';

const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
const ctx = { functionName: 'test', awsRequestId: 'req-1' } as unknown as Context;
const person = (id: string, ...roles: Role[]): Actor => ({ kind: 'user', id, displayName: id, roles, institution: 'demo-hospital-1', mfa: true, scopes: [] });
const ethics = person('erin', 'ethics-reviewer');
const approver = person('adam', 'approver');
const admin = person('sam', 'security-admin');
const RW = ['access-requests.write', 'access-requests.read', 'grants.read'];
const HOOK = 'https://partner-a.example.org/mdrp/events';

/** Records every POST and answers with the next scripted status (or throws a network error). */
class ScriptedTransport implements WebhookTransport {
  calls: Array<{ url: string; headers: Record<string, string>; body: string }> = [];
  constructor(public script: Array<number | 'network-error'> = []) {}
  async post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number }> {
    this.calls.push({ url, headers, body });
    const next = this.script.shift() ?? 200;
    if (next === 'network-error') throw new TypeError('fetch failed');
    return { status: next };
  }
}

describe('webhook signatures and URLs (R-INT-1)', () => {
  it('R-INT-1: the signature is HMAC-SHA256 over "<t>.<body>" and verifies only for that body, secret and time window', () => {
    const body = '{"id":"evt_1","type":"access-request.approved"}';
    const header = signWebhook('whsec_test', body, 1_764_000_000);
    // Independent recomputation, as a receiver in any language would do it.
    expect(header).toBe(`t=1764000000,v1=${createHmac('sha256', 'whsec_test').update(`1764000000.${body}`).digest('hex')}`);
    expect(verifyWebhookSignature('whsec_test', body, header, 1_764_000_100)).toBe('ok');
    expect(verifyWebhookSignature('whsec_test', body.replace('approved', 'rejected'), header, 1_764_000_100)).toBe('mismatch');
    expect(verifyWebhookSignature('whsec_other', body, header, 1_764_000_100)).toBe('mismatch');
    expect(verifyWebhookSignature('whsec_test', body, header, 1_764_000_000 + 301)).toBe('stale');
    expect(verifyWebhookSignature('whsec_test', body, 'v1=abc', 1_764_000_000)).toBe('malformed');
    expect(verifyWebhookSignature('whsec_test', body, undefined, 1_764_000_000)).toBe('missing');
  });

  it('R-SEC-5: https only (loopback http only when configured); no credentials in URLs; no internal targets', () => {
    const aws = { allowHttpLoopback: false };
    const local = { allowHttpLoopback: true };
    expect(assertWebhookUrl(HOOK, aws).hostname).toBe('partner-a.example.org');
    expect(() => assertWebhookUrl('http://partner-a.example.org/hook', aws)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED', details: expect.objectContaining({ reason: 'https-required' }) }));
    expect(() => assertWebhookUrl('http://127.0.0.1:9999/hook', aws)).toThrow(/https/);
    expect(assertWebhookUrl('http://127.0.0.1:9999/hook', local).port).toBe('9999');
    expect(() => assertWebhookUrl('http://10.0.0.5/hook', local)).toThrow(/https/);
    for (const internal of ['https://169.254.169.254/latest', 'https://10.1.2.3/x', 'https://192.168.1.1/', 'https://localhost/x', 'https://[::1]/x', 'https://[::ffff:127.0.0.1]/']) {
      expect(() => assertWebhookUrl(internal, aws), internal).toThrow(expect.objectContaining({ details: expect.objectContaining({ reason: 'internal-host' }) }));
    }
    expect(() => assertWebhookUrl('https://user:pw@partner-a.example.org/x', aws)).toThrow(/credentials/);
    expect(() => assertWebhookUrl('ftp://partner-a.example.org/x', aws)).toThrow(/https/);
    expect(() => assertWebhookUrl('not a url', aws)).toThrow(/valid URL/);
  });
});

describe('webhook outbox and delivery (R-INT-1)', () => {
  let c: ReturnType<typeof testContainer>;
  let transport: ScriptedTransport;
  const svc = () => integrationServices(c);
  const deliveries = async (endpointId: string, partnerId = PARTNER_A) => svc().webhooks.deliveries(partnerId, endpointId);
  const drive = async (requestId: string, finalOutcome: 'approved' | 'rejected' = 'approved') => {
    c.clock.advance(1_000);
    await c.accessRequests.runWorkflowTask({ task: 'openReviewStep', requestId, step: 'ethics', stepIndex: -1, taskToken: 't-e' });
    await c.accessRequests.decide(ethics, requestId, { step: 'ethics', outcome: 'approved' });
    c.clock.advance(1_000);
    await c.accessRequests.runWorkflowTask({ task: 'openReviewStep', requestId, step: 'approver', stepIndex: 0, taskToken: 't-a' });
    if (finalOutcome === 'rejected') {
      await c.accessRequests.decide(approver, requestId, { step: 'approver', outcome: 'rejected', comment: 'Out of scope for this cohort' });
      await c.accessRequests.runWorkflowTask({ task: 'closeRequest', requestId, outcome: 'rejected' });
      return undefined;
    }
    await c.accessRequests.decide(approver, requestId, { step: 'approver', outcome: 'approved' });
    c.clock.advance(1_000);
    return (await c.accessRequests.runWorkflowTask({ task: 'issueGrant', requestId })).grantId as string;
  };

  beforeEach(async () => {
    c = testContainer();
    transport = new ScriptedTransport();
    useWebhookTransport(c, transport);
    await saveDataset(c);
    registerPartners(c, [
      { partnerId: PARTNER_A, institution: 'demo-hospital-2' },
      { partnerId: PARTNER_B, institution: 'demo-hospital-3' },
    ]);
  });

  it('R-INT-1: registration returns the secret once; it is stored encrypted and only a hint is listed', async () => {
    const { endpoint, secret } = await svc().webhooks.register(partnerActor(PARTNER_A, RW), PARTNER_A, { url: HOOK, eventTypes: ['access-request.approved', 'access-request.approved'] });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(endpoint).toMatchObject({ partnerId: PARTNER_A, url: HOOK, eventTypes: ['access-request.approved'], status: 'active', secretHint: secret.slice(-4) });
    expect(JSON.stringify(await svc().webhooks.list(PARTNER_A))).not.toContain(secret);
    const stored = await c.documents.get('main', { pk: `PARTNER#${PARTNER_A}`, sk: `WEBHOOK#${endpoint.endpointId}` });
    expect(JSON.stringify(stored)).not.toContain(secret.slice(6));
    expect(await svc().webhooks.secret(PARTNER_A, endpoint.endpointId)).toBe(secret);
    await expect(svc().webhooks.register(partnerActor(PARTNER_A, RW), PARTNER_A, { url: 'http://partner-a.example.org/x', eventTypes: ['grant.revoked'] })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('R-INT-1: a partner request through approval and revocation produces signed, ordered events; only subscribed types are sent', async () => {
    const all = await svc().webhooks.register(partnerActor(PARTNER_A, RW), PARTNER_A, { url: HOOK, eventTypes: ['access-request.submitted', 'access-request.decision', 'access-request.approved', 'access-request.rejected', 'grant.revoked', 'grant.expired'] });
    const approvals = await svc().webhooks.register(partnerActor(PARTNER_A, RW), PARTNER_A, { url: `${HOOK}/approvals`, eventTypes: ['access-request.approved'] });
    const r = await svc().partnerOperations.submit(partnerActor(PARTNER_A, RW), partnerInput());
    // A researcher's own request concerns no partner: nothing is queued for it.
    await c.accessRequests.submit(person('alice', 'researcher'), partnerInput());
    const grantId = await drive(r.requestId);
    c.clock.advance(1_000);
    await c.grants.revoke(admin, grantId!, 'ethics approval withdrawn');

    const summary = await runWebhookDelivery(c);
    expect(summary).toEqual({ attempted: 6, delivered: 6, retrying: 0, failed: 0 });
    const sent = transport.calls.filter((x) => x.url === HOOK).map((x) => JSON.parse(x.body) as IntegrationEvent);
    expect(sent.map((e) => [e.type, e.data.status, e.data.step ?? '', e.data.outcome ?? ''])).toEqual([
      ['access-request.submitted', 'ethics-review', '', ''],
      ['access-request.decision', 'ethics-review', 'ethics', 'approved'],
      ['access-request.decision', 'approval', 'approver', 'approved'],
      ['access-request.approved', 'approved', '', ''],
      ['grant.revoked', 'revoked', '', ''],
    ]);
    const grant = await c.grants.get(grantId!);
    expect(sent[3]!.data).toEqual({ requestId: r.requestId, status: 'approved', grantId, expiresAt: grant.expiresAt });
    expect(new Set(sent.map((e) => e.id)).size).toBe(5);
    expect(transport.calls.filter((x) => x.url === `${HOOK}/approvals`).map((x) => (JSON.parse(x.body) as IntegrationEvent).type)).toEqual(['access-request.approved']);

    // Every delivery verifies with its endpoint's secret, and carries the event id and type headers.
    const secret = await svc().webhooks.secret(PARTNER_A, all.endpoint.endpointId);
    for (const call of transport.calls.filter((x) => x.url === HOOK)) {
      expect(verifyWebhookSignature(secret, call.body, call.headers['MDRP-Signature'], Math.floor(c.clock.now() / 1000))).toBe('ok');
      expect(call.headers['MDRP-Event-Id']).toBe((JSON.parse(call.body) as IntegrationEvent).id);
      expect(call.headers['content-type']).toBe('application/json');
    }
    expect(verifyWebhookSignature(secret, transport.calls.find((x) => x.url !== HOOK)!.body, transport.calls.find((x) => x.url !== HOOK)!.headers['MDRP-Signature'], Math.floor(c.clock.now() / 1000))).toBe('mismatch');
    // Nothing is sent twice, and payloads carry no researcher identity.
    expect(await runWebhookDelivery(c)).toEqual({ attempted: 0, delivered: 0, retrying: 0, failed: 0 });
    expect(transport.calls.map((x) => x.body).join()).not.toMatch(/Li Wei|li\.wei/);
    expect((await deliveries(approvals.endpoint.endpointId))[0]).toMatchObject({ status: 'delivered', eventType: 'access-request.approved', attempts: [{ statusCode: 200 }] });
  });

  it('R-INT-1: a rejection and an expiry are announced too', async () => {
    const hook = await svc().webhooks.register(partnerActor(PARTNER_A, RW), PARTNER_A, { url: HOOK, eventTypes: ['access-request.rejected', 'grant.expired'] });
    const rejected = await svc().partnerOperations.submit(partnerActor(PARTNER_A, RW), partnerInput());
    await drive(rejected.requestId, 'rejected');
    const approved = await svc().partnerOperations.submit(partnerActor(PARTNER_A, RW), partnerInput({ requestedDurationDays: 5 }));
    const grantId = await drive(approved.requestId);
    c.clock.advance(6 * 86_400_000);
    await c.grants.expire(grantId!);
    await runWebhookDelivery(c);
    expect(transport.calls.map((x) => JSON.parse(x.body) as IntegrationEvent).map((e) => [e.type, e.data.requestId])).toEqual([
      ['access-request.rejected', rejected.requestId],
      ['grant.expired', approved.requestId],
    ]);
    expect((await deliveries(hook.endpoint.endpointId)).map((d) => d.status)).toEqual(['delivered', 'delivered']);
  });

  it('R-INT-1: failed attempts are retried with exponential backoff and logged with their status codes; the delivery gives up after the last attempt', async () => {
    const hook = await svc().webhooks.register(partnerActor(PARTNER_A, RW), PARTNER_A, { url: HOOK, eventTypes: ['access-request.submitted'] });
    transport.script = [500, 'network-error', 200];
    await svc().partnerOperations.submit(partnerActor(PARTNER_A, RW), partnerInput());
    expect(await runWebhookDelivery(c)).toMatchObject({ attempted: 1, retrying: 1 });
    let [d] = await deliveries(hook.endpoint.endpointId);
    expect(d).toMatchObject({ status: 'pending', attempts: [{ statusCode: 500 }], nextAttemptAt: new Date(c.clock.now() + 30_000).toISOString() });
    c.clock.advance(29_000);
    expect((await runWebhookDelivery(c)).attempted).toBe(0); // not due yet
    c.clock.advance(1_000);
    expect(await runWebhookDelivery(c)).toMatchObject({ attempted: 1, retrying: 1 });
    [d] = await deliveries(hook.endpoint.endpointId);
    expect(d).toMatchObject({ attempts: [{ statusCode: 500 }, { error: 'network-error' }], nextAttemptAt: new Date(c.clock.now() + 60_000).toISOString() });
    c.clock.advance(60_000);
    expect(await runWebhookDelivery(c)).toMatchObject({ attempted: 1, delivered: 1 });
    [d] = await deliveries(hook.endpoint.endpointId);
    expect(d).toMatchObject({ status: 'delivered', attempts: [{ statusCode: 500 }, { error: 'network-error' }, { statusCode: 200 }] });
    expect(d!.nextAttemptAt).toBeUndefined();
    // The same event id was sent each time (receivers de-duplicate on it).
    expect(new Set(transport.calls.map((x) => x.headers['MDRP-Event-Id'])).size).toBe(1);

    // An endpoint that keeps failing: 8 attempts, then failed.
    transport.script = Array.from({ length: 20 }, () => 503);
    await svc().partnerOperations.submit(partnerActor(PARTNER_A, RW), partnerInput());
    for (let i = 0; i < 10; i++) {
      await runWebhookDelivery(c);
      c.clock.advance(3_600_000);
    }
    const [failed] = await deliveries(hook.endpoint.endpointId);
    expect(failed).toMatchObject({ status: 'failed' });
    expect(failed!.attempts).toHaveLength(8);
    expect(failed!.attempts.every((a) => a.statusCode === 503)).toBe(true);
  });

  it('R-INT-1: a delivery to a removed endpoint fails at once; each attempt is audited as a system action', async () => {
    const hook = await svc().webhooks.register(partnerActor(PARTNER_A, RW), PARTNER_A, { url: HOOK, eventTypes: ['access-request.submitted'] });
    await svc().partnerOperations.submit(partnerActor(PARTNER_A, RW), partnerInput());
    const [pending] = await deliveries(hook.endpoint.endpointId);
    await svc().webhooks.remove(PARTNER_A, hook.endpoint.endpointId);
    expect(await runWebhookDelivery(c)).toMatchObject({ attempted: 1, failed: 1 });
    expect(transport.calls).toHaveLength(0);
    const stored = await c.documents.get<{ pk: string; sk: string; delivery: { status: string; attempts: Array<{ error?: string }> } }>('main', { pk: `WEBHOOK_DELIVERY#${pending!.deliveryId}`, sk: 'DELIVERY' });
    expect(stored!.delivery).toMatchObject({ status: 'failed', attempts: [{ error: 'endpoint-removed' }] });
    const events = (await c.audit.query({ limit: 100, to: '2026-11-24T23:59:59Z' })).items.filter((e) => e.operation === 'webhook.deliver');
    expect(events).toEqual([expect.objectContaining({ actor: expect.objectContaining({ kind: 'system', id: 'system:webhook-delivery' }), resources: [{ type: 'Partner', id: PARTNER_A }, { type: 'WebhookEndpoint', id: hook.endpoint.endpointId }], result: expect.objectContaining({ outcome: 'failure' }) })]);
  });
});

describe('webhook API (in-process HTTP pipeline)', () => {
  let c: ReturnType<typeof testContainer>;
  const api = () => makeApiHandler('integrations', integrationOps, async () => c, { logger });

  beforeEach(async () => {
    c = testContainer();
    useWebhookTransport(c, new ScriptedTransport());
    await saveDataset(c);
    registerPartners(c, [
      { partnerId: PARTNER_A, institution: 'demo-hospital-2' },
      { partnerId: PARTNER_B, institution: 'demo-hospital-3' },
    ]);
  });

  it("R-INT-1: a partner registers, lists and removes its endpoints and reads their delivery log; another partner's endpoint is 404", async () => {
    const created = await api()(partnerEvent('POST', '/v1/partner/webhooks', PARTNER_A, RW, { body: { url: HOOK, eventTypes: ['access-request.submitted'] } }), ctx);
    expect(created.statusCode).toBe(201);
    const { endpoint, secret } = JSON.parse(created.body);
    expect(secret).toMatch(/^whsec_/);
    const listed = JSON.parse((await api()(partnerEvent('GET', '/v1/partner/webhooks', PARTNER_A, RW), ctx)).body);
    expect(listed.items).toEqual([endpoint]);
    expect(JSON.stringify(listed)).not.toContain(secret);

    await api()(partnerEvent('POST', '/v1/partner/access-requests', PARTNER_A, RW, { body: partnerInput() }), ctx);
    await runWebhookDelivery(c);
    const log = await api()(partnerEvent('GET', '/v1/partner/webhooks/{endpointId}/deliveries', PARTNER_A, RW, { params: { endpointId: endpoint.endpointId } }), ctx);
    expect(JSON.parse(log.body).items).toEqual([expect.objectContaining({ eventType: 'access-request.submitted', status: 'delivered', attempts: [expect.objectContaining({ statusCode: 200 })] })]);
    expect((await api()(partnerEvent('GET', '/v1/partner/webhooks/{endpointId}/deliveries', PARTNER_B, RW, { params: { endpointId: endpoint.endpointId } }), ctx)).statusCode).toBe(404);
    expect((await api()(partnerEvent('DELETE', '/v1/partner/webhooks/{endpointId}', PARTNER_B, RW, { params: { endpointId: endpoint.endpointId } }), ctx)).statusCode).toBe(404);
    const removed = await api()(partnerEvent('DELETE', '/v1/partner/webhooks/{endpointId}', PARTNER_A, RW, { params: { endpointId: endpoint.endpointId } }), ctx);
    expect(JSON.parse(removed.body)).toEqual({ endpointId: endpoint.endpointId, deleted: true });
    expect(JSON.parse((await api()(partnerEvent('GET', '/v1/partner/webhooks', PARTNER_A, RW), ctx)).body).items).toEqual([]);
  });

  it('R-INT-1: http URLs and unknown event types are refused with 400; a partner without a read scope gets 403', async () => {
    const http = await api()(partnerEvent('POST', '/v1/partner/webhooks', PARTNER_A, RW, { body: { url: 'http://partner-a.example.org/hook', eventTypes: ['grant.revoked'] } }), ctx);
    expect(http.statusCode).toBe(400);
    expect(JSON.parse(http.body).error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'url', reason: 'https-required' } });
    expect((await api()(partnerEvent('POST', '/v1/partner/webhooks', PARTNER_A, RW, { body: { url: HOOK, eventTypes: ['everything'] } }), ctx)).statusCode).toBe(400);
    expect((await api()(partnerEvent('GET', '/v1/partner/webhooks', PARTNER_A, ['catalog.read']), ctx)).statusCode).toBe(403);
  });

  it("R-INT-1: a security admin manages a partner's endpoints; other roles are refused", async () => {
    const created = await api()(userEvent('POST', '/v1/partners/{partnerId}/webhooks', ['security-admin'], { params: { partnerId: PARTNER_A }, body: { url: HOOK, eventTypes: ['grant.revoked'] } }), ctx);
    expect(created.statusCode).toBe(201);
    const { endpoint } = JSON.parse(created.body);
    expect(endpoint).toMatchObject({ partnerId: PARTNER_A, createdBy: 'admin-1' });
    const listed = JSON.parse((await api()(userEvent('GET', '/v1/partners/{partnerId}/webhooks', ['security-admin'], { params: { partnerId: PARTNER_A } }), ctx)).body);
    expect(listed.items.map((e: { endpointId: string }) => e.endpointId)).toEqual([endpoint.endpointId]);
    expect((await api()(userEvent('GET', '/v1/partners/{partnerId}/webhooks', ['researcher'], { params: { partnerId: PARTNER_A } }), ctx)).statusCode).toBe(403);
    expect((await api()(userEvent('GET', '/v1/partners/{partnerId}/webhooks', ['security-admin'], { params: { partnerId: 'ptn_0000000nope1' } }), ctx)).statusCode).toBe(404);
    const removed = await api()(userEvent('DELETE', '/v1/partners/{partnerId}/webhooks/{endpointId}', ['security-admin'], { params: { partnerId: PARTNER_A, endpointId: endpoint.endpointId } }), ctx);
    expect(removed.statusCode).toBe(200);
  });
});
