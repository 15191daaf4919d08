import type { APIGatewayProxyEvent } from 'aws-lambda';
import { anonymousActor, isRole, type Actor } from '../core/identity/actor';
import { mfaFromClaims } from '../core/identity/mfa-claim';

/**
 * Builds the Actor from what API Gateway's authorizer verified (the local front fills the same
 * fields after verifying the same tokens). Handlers never parse tokens themselves.
 *
 * - Cognito user pool authorizer → `requestContext.authorizer.claims` of the ID token.
 * - Partners → the client-credentials token's claims (`client_id`, `scope`) plus the API key id,
 *   either as Cognito `claims` or as the partner authorizer's flat context (partnerId, institution).
 */
export function actorFromEvent(event: APIGatewayProxyEvent): Actor {
  const ip = event.requestContext?.identity?.sourceIp ?? undefined;
  const userAgent = event.requestContext?.identity?.userAgent ?? undefined;
  const authorizer = (event.requestContext?.authorizer ?? {}) as Record<string, unknown>;
  // Cognito authorizer: verified token claims under `claims`; the partner Lambda authorizer
  // (and the local front for partners): a flat context with `client_id`, `scope`, `partnerId`.
  const claims = (authorizer.claims ?? (typeof authorizer.client_id === 'string' ? authorizer : {})) as Record<string, unknown>;
  const apiKeyId = event.requestContext?.identity?.apiKeyId ?? undefined;

  if (typeof claims.client_id === 'string' && typeof claims.scope === 'string' && !claims['cognito:username']) {
    return {
      kind: 'partner',
      id: typeof authorizer.partnerId === 'string' ? authorizer.partnerId : claims.client_id,
      roles: [],
      institution: typeof authorizer.institution === 'string' ? authorizer.institution : undefined,
      mfa: false,
      scopes: claims.scope.split(' ').filter(Boolean),
      apiKeyId,
      sourceIp: ip,
      userAgent,
    };
  }
  if (typeof claims.sub === 'string') {
    const groups = parseGroups(claims['cognito:groups']);
    return {
      kind: 'user',
      id: claims.sub,
      username: str(claims['cognito:username']),
      displayName: str(claims.name),
      roles: groups.filter(isRole),
      institution: str(claims['custom:institution']),
      // User-pool ID tokens carry no `amr`: the pre-token-generation trigger writes `mdrp:mfa`
      // (functions/core/identity/mfa-claim.ts); the same claim, and only it, counts everywhere.
      mfa: mfaFromClaims(claims),
      scopes: [],
      sourceIp: ip,
      userAgent,
    };
  }
  return anonymousActor(ip, userAgent);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** API Gateway passes groups as an array (local) or as a string like "[a, b]" or "a,b". */
function parseGroups(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v !== 'string') return [];
  return v
    .replace(/^\[|\]$/g, '')
    .split(/[,\s]+/)
    .filter(Boolean);
}
