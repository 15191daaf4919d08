import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { Container } from '../../../functions/composition/container';
import { systemActor } from '../../../functions/core/identity/actor';
import type { EdgeTokenFacts } from '../../../functions/core/partners/partner-edge-decision';
import { PartnerService } from '../../../functions/core/partners/partner-service';
import { makePartnerAuthorizer } from '../../../functions/handlers/partner-authorizer.handler';
import { actorFromEvent } from '../../../functions/http/actor-from-event';
import { RecordingScheduler, SequenceIds, testContainer } from '../../support/test-container';

/** A partner setup over in-memory ports; tokens are "verified" by a table (the JWKS check is jose's, tested on the platform). */
async function setup() {
  const base = testContainer();
  let n = 0;
  const partners = new PartnerService(
    base.documents,
    { issue: async (_p, plan) => ({ keyId: `key_${++n}`, value: `key-value-${n}-${'k'.repeat(30)}`, plan }), revoke: async () => undefined },
    { createClient: async (partnerId) => ({ clientId: `client-${partnerId}`, clientSecret: 's' }), deleteClient: async () => undefined },
    new RecordingScheduler(),
    base.clock,
    new SequenceIds(),
  );
  const container = { ...base, partners } as Container;
  const out = await partners.onboard(systemActor('t'), { name: 'P', institution: 'demo-hospital-2', contactEmail: 'p@example.org', allowedCidrs: ['198.51.100.0/24'], scopes: ['catalog.read'] });
  const tokens: Record<string, EdgeTokenFacts> = {
    good: { kind: 'valid', clientId: out.oauthClient.clientId, scopes: ['mdrp/catalog.read'] },
    other: { kind: 'valid', clientId: 'client-someone-else', scopes: ['mdrp/catalog.read'] },
    expired: { kind: 'invalid', reason: 'expired' },
  };
  const authorize = makePartnerAuthorizer(async () => ({ container, tokens: { verify: async (t) => (t ? (tokens[t] ?? { kind: 'invalid', reason: 'malformed' }) : { kind: 'missing' }) } }));
  const event = (headers: Record<string, string>, sourceIp = '198.51.100.20'): APIGatewayRequestAuthorizerEvent =>
    ({
      type: 'REQUEST',
      methodArn: 'arn:aws:execute-api:ap-southeast-1:111111111111:abc/prod/GET/v1/datasets',
      resource: '/v1/datasets',
      path: '/v1/datasets',
      httpMethod: 'GET',
      headers,
      requestContext: { requestId: 'req-1', identity: { sourceIp, userAgent: 'test' } },
    }) as unknown as APIGatewayRequestAuthorizerEvent;
  return { container, out, authorize, event };
}

describe('partner Lambda authorizer (AWS)', () => {
  it('R-SEC-6, R-SEC-7: allows a valid key + token for this method only, with the context actorFromEvent turns into the partner Actor', async () => {
    const { out, authorize, event } = await setup();
    const res = await authorize(event({ 'X-Api-Key': out.apiKey, Authorization: 'Bearer good' }));
    expect(res.policyDocument.Statement).toEqual([{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: 'arn:aws:execute-api:ap-southeast-1:111111111111:abc/prod/GET/v1/datasets' }]);
    expect(res.principalId).toBe(out.partner.partnerId);
    // What API Gateway then hands the handler.
    const actor = actorFromEvent({ requestContext: { authorizer: { ...res.context, principalId: res.principalId }, identity: { sourceIp: '198.51.100.20', apiKeyId: out.partner.keys[0]!.keyId } } } as never);
    expect(actor).toMatchObject({ kind: 'partner', id: out.partner.partnerId, institution: 'demo-hospital-2', scopes: ['catalog.read'], apiKeyId: out.partner.keys[0]!.keyId });
  });

  it('R-SEC-6, R-SEC-7: 401 (Unauthorized) for token problems, a Deny policy (403) for key/IP/client problems; each refusal audited', async () => {
    const { container, out, authorize, event } = await setup();
    await expect(authorize(event({ 'x-api-key': out.apiKey, authorization: 'Bearer expired' }))).rejects.toThrow('Unauthorized');
    await expect(authorize(event({ 'x-api-key': out.apiKey }))).rejects.toThrow('Unauthorized');
    const wrongIp = await authorize(event({ 'x-api-key': out.apiKey, authorization: 'Bearer good' }, '127.0.0.1'));
    expect(wrongIp.policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny' });
    expect(wrongIp.context).toEqual({ reason: 'ip-not-allowed' });
    const other = await authorize(event({ 'x-api-key': out.apiKey, authorization: 'Bearer other' }));
    expect(other.context).toEqual({ reason: 'token-client-mismatch' });
    const unknown = await authorize(event({ 'x-api-key': 'nope', authorization: 'Bearer good' }));
    expect(unknown).toMatchObject({ principalId: 'anonymous', context: { reason: 'api-key-invalid' } });

    const partnerEvents = await container.audit.query({ actorId: out.partner.partnerId, limit: 10 });
    expect(partnerEvents.items.map((e) => [e.result.status, e.parameters.reason]).sort()).toEqual([
      [401, 'token-expired'],
      [401, 'token-missing'],
      [403, 'ip-not-allowed'],
      [403, 'token-client-mismatch'],
    ]);
    expect(partnerEvents.items[0]).toMatchObject({ category: 'security', operation: 'listDatasets', resources: [{ type: 'ApiKey', id: out.partner.keys[0]!.keyId }], result: { outcome: 'denied' } });
    const anonymous = await container.audit.query({ actorId: 'anonymous', limit: 10 });
    expect(anonymous.items.map((e) => e.parameters.reason)).toEqual(['api-key-invalid']);
    // Never the key or token values.
    expect(JSON.stringify([partnerEvents, anonymous])).not.toContain(out.apiKey);
  });
});
