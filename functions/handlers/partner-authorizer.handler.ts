import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { JoseAccessTokenVerifier } from '../adapters/shared/jose-access-token-verifier';
import type { Container } from '../composition/container';
import type { AuditEvent } from '../core/audit/audit-event';
import { PartnerEdgeGate } from '../core/partners/partner-edge-gate';
import { PARTNER_EDGE } from '../core/partners/usage-plans';
import type { AccessTokenVerifier } from '../core/ports/access-token-verifier';
import { derivePartnerScopes } from '../http/partner-scopes';
import { routes } from '../http/routes';
import { lambdaContainer } from './lambda-runtime';

/**
 * API Gateway Lambda REQUEST authorizer of the partner API (R-SEC-6, R-SEC-7): the same
 * {@link PartnerEdgeGate} decision the local front makes (key status and grace period, partner
 * suspension, per-partner IP allow-list, Cognito access token, token client = key's partner,
 * route scope). API Gateway itself meters the key with its usage plan (429) and WAF enforces
 * body limits, so no meter here. Results are not cached (the source IP and the route matter).
 *
 * - refused with 401 → throws `Unauthorized` (API Gateway answers 401);
 * - refused with 403 → a Deny policy (API Gateway answers 403);
 * - allowed → an Allow policy for this method only, with the flat context `actorFromEvent` reads.
 * Every refusal is audited here (category security); allowed calls are audited by the handler.
 */
export function makePartnerAuthorizer(deps: () => Promise<{ container: Container; tokens: AccessTokenVerifier }>) {
  let gate: PartnerEdgeGate | undefined;
  return async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const { container, tokens } = await deps();
    gate ??= new PartnerEdgeGate(container.partners, tokens, container.clock);
    const route = routes.find((r) => r.method === event.httpMethod && r.path === event.resource);
    const sourceIp = event.requestContext?.identity?.sourceIp ?? '';
    const decision = await gate.check({
      apiKey: headerOf(event, PARTNER_EDGE.apiKeyHeader),
      authorization: headerOf(event, 'authorization'),
      sourceIp,
      requiredScopes: route && route.auth !== 'none' && route.auth !== 'user' ? derivePartnerScopes(route) : undefined,
    });
    if (decision.allow) {
      return { principalId: decision.partnerId, policyDocument: policy('Allow', event.methodArn), context: { ...decision.context } };
    }
    const audit: AuditEvent = {
      eventId: container.ids.next('evt'),
      time: new Date(container.clock.now()).toISOString(),
      correlationId: event.requestContext?.requestId ?? container.ids.next('cor'),
      category: 'security',
      operation: route?.operationId ?? `${event.httpMethod} ${event.resource}`,
      actor: decision.partnerId ? { kind: 'partner', id: decision.partnerId, roles: [] } : { kind: 'anonymous', id: 'anonymous', roles: [] },
      source: { ip: sourceIp || undefined, userAgent: event.requestContext?.identity?.userAgent?.slice(0, 256) || undefined },
      resources: decision.keyId ? [{ type: 'ApiKey', id: decision.keyId }] : [],
      parameters: { path: event.path.slice(0, 256), reason: decision.reason },
      result: { outcome: 'denied', status: decision.status, errorCode: decision.code },
    };
    // Fail closed: an unaudited refusal must not pass either (API Gateway answers 500).
    await container.audit.write(audit);
    if (decision.status === 401) throw new Error('Unauthorized');
    return { principalId: decision.partnerId ?? 'anonymous', policyDocument: policy('Deny', event.methodArn), context: { reason: decision.reason } };
  };
}

function headerOf(event: APIGatewayRequestAuthorizerEvent, name: string): string | undefined {
  for (const [k, v] of Object.entries(event.headers ?? {})) if (k.toLowerCase() === name && typeof v === 'string') return v;
  return undefined;
}

function policy(effect: 'Allow' | 'Deny', methodArn: string): APIGatewayAuthorizerResult['policyDocument'] {
  return { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: methodArn }] };
}

let verifier: AccessTokenVerifier | undefined;

/** Lambda entry point: Cognito access tokens of the platform's user pool (JWKS cached per instance). */
export const handler = makePartnerAuthorizer(async () => {
  const container = await lambdaContainer();
  const issuer = container.config.identity.issuer;
  verifier ??= new JoseAccessTokenVerifier({ issuer, jwksUrl: `${issuer}/.well-known/jwks.json` });
  return { container, tokens: verifier };
});
