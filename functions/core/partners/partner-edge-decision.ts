import ipaddr from 'ipaddr.js';
import type { UsageResult } from './usage-meter';
import { PARTNER_EDGE, PARTNER_USAGE_PLANS, isPartnerPlan, type UsagePlanLimits } from './usage-plans';

/** The presented API key as the platform knows it (looked up by the SHA-256 of its value). */
export interface EdgeKeyFacts {
  keyId: string;
  partnerId: string;
  status: 'active' | 'retiring' | 'revoked';
  /** End of a rotated-out key's grace period (ISO time). */
  graceUntil?: string;
}

/** The key's partner record, as far as the edge needs it. */
export interface EdgePartnerFacts {
  partnerId: string;
  institution: string;
  status: 'active' | 'suspended';
  allowedCidrs: readonly string[];
  /** Scopes the partner was granted at onboarding (short names, e.g. `catalog.read`). */
  scopes: readonly string[];
  plan: string;
  /** The partner's OAuth 2.0 client: tokens of any other client are refused with this key. */
  oauthClientId?: string;
}

/** What verifying the bearer token (issuer, signature via JWKS, expiry) found. */
export type EdgeTokenFacts =
  | { kind: 'missing' }
  | { kind: 'invalid'; reason: 'expired' | 'malformed' | 'rejected' }
  | { kind: 'valid'; clientId: string; scopes: readonly string[] };

/** Everything the edge decision depends on; gathered by the caller (local front or Lambda authorizer). */
export interface PartnerEdgeFacts {
  apiKeyPresented: boolean;
  /** Absent when the presented key is unknown. */
  key?: EdgeKeyFacts;
  partner?: EdgePartnerFacts;
  /** The TCP peer address (never `X-Forwarded-For`, which a caller can forge). */
  sourceIp: string;
  token: EdgeTokenFacts;
  /** Scopes of which the token needs one for the route (`undefined`: no scope known → refused). */
  requiredScopes: readonly string[] | undefined;
  /** Epoch ms. */
  now: number;
}

/**
 * What API Gateway's authorizer hands the Lambda (`requestContext.authorizer`): flat strings,
 * read by `actorFromEvent` (partner Actor: kind `partner`, id = partnerId, scopes).
 */
export interface PartnerAuthorizerContext {
  partnerId: string;
  institution: string;
  client_id: string;
  /** Space-separated short scope names the call may use (token ∩ partner). */
  scope: string;
  apiKeyId: string;
}

/** Machine-readable reason of a refusal (`error.details.reason` in the response body). */
export type EdgeRefusalReason =
  | 'api-key-missing'
  | 'api-key-invalid'
  | 'api-key-revoked'
  | 'api-key-grace-ended'
  | 'partner-suspended'
  | 'ip-not-allowed'
  | 'rate-limited'
  | 'quota-exceeded'
  | 'token-missing'
  | 'token-expired'
  | 'token-invalid'
  | 'token-client-mismatch'
  | 'insufficient-scope';

export type PartnerEdgeDecision =
  | { allow: true; partnerId: string; keyId: string; context: PartnerAuthorizerContext }
  | {
      allow: false;
      status: 401 | 403 | 429;
      code: 'UNAUTHENTICATED' | 'FORBIDDEN' | 'RATE_LIMITED' | 'QUOTA_EXCEEDED';
      reason: EdgeRefusalReason;
      message: string;
      retryAfterSeconds?: number;
      /** Known once the key was recognised (for the audit event; never the key value). */
      partnerId?: string;
      keyId?: string;
    };

/** Meters one request of a key against its plan (the local front's {@link UsageMeter}; absent in AWS, where API Gateway meters). */
export type Meter = (keyId: string, limits: UsagePlanLimits) => UsageResult;

/**
 * The partner edge decision (R-SEC-7, R-SEC-6), the same for the local front and the AWS Lambda
 * authorizer, in the order API Gateway + WAF + authorizer apply them:
 * 1. API key present (401) and known, not revoked, within its grace period if rotated (403);
 * 2. partner not suspended, caller IP inside its allow-list (403);
 * 3. usage plan: token bucket and daily quota per key (429 + Retry-After), when a meter is given;
 * 4. bearer access token present and valid (401);
 * 5. token issued to the key's partner's client (403) and carrying a scope the route needs (403).
 *
 * @example
 * const d = decidePartnerEdge(facts, (k, l) => meter.take(k, l));
 * if (!d.allow) return reply(d.status, d.code, d.reason);
 */
export function decidePartnerEdge(facts: PartnerEdgeFacts, meter?: Meter): PartnerEdgeDecision {
  const refuse = (status: 401 | 403 | 429, reason: EdgeRefusalReason, message: string, extra: { retryAfterSeconds?: number } = {}): PartnerEdgeDecision => ({
    allow: false,
    status,
    code: status === 401 ? 'UNAUTHENTICATED' : status === 403 ? 'FORBIDDEN' : reason === 'quota-exceeded' ? 'QUOTA_EXCEEDED' : 'RATE_LIMITED',
    reason,
    message,
    ...extra,
    ...(facts.key ? { partnerId: facts.key.partnerId, keyId: facts.key.keyId } : {}),
  });

  if (!facts.apiKeyPresented) return refuse(401, 'api-key-missing', `an API key is required (${PARTNER_EDGE.apiKeyHeader} header)`);
  const { key, partner } = facts;
  if (!key || !partner || partner.partnerId !== key.partnerId) return refuse(403, 'api-key-invalid', 'invalid API key');
  if (key.status === 'revoked') return refuse(403, 'api-key-revoked', 'the API key was revoked');
  if (key.status === 'retiring' && !(key.graceUntil && Date.parse(key.graceUntil) > facts.now)) {
    // Decision-time check: a late or lost revocation schedule cannot extend the grace period.
    return refuse(403, 'api-key-grace-ended', 'the API key was rotated and its grace period has ended');
  }
  if (partner.status !== 'active') return refuse(403, 'partner-suspended', 'the partner is suspended');
  if (!ipInCidrs(facts.sourceIp, partner.allowedCidrs)) return refuse(403, 'ip-not-allowed', 'the caller address is not in the partner allow-list');

  if (meter) {
    const limits = isPartnerPlan(partner.plan) ? PARTNER_USAGE_PLANS[partner.plan] : PARTNER_USAGE_PLANS.default;
    const used = meter(key.keyId, limits);
    if (!used.ok) {
      return used.reason === 'quota'
        ? refuse(429, 'quota-exceeded', 'daily quota of the usage plan exhausted', { retryAfterSeconds: used.retryAfterSeconds })
        : refuse(429, 'rate-limited', 'too many requests for the usage plan', { retryAfterSeconds: used.retryAfterSeconds });
    }
  }

  const token = facts.token;
  if (token.kind === 'missing') return refuse(401, 'token-missing', 'a bearer access token is required (OAuth 2.0 client credentials)');
  if (token.kind === 'invalid') return refuse(401, token.reason === 'expired' ? 'token-expired' : 'token-invalid', token.reason === 'expired' ? 'the access token has expired' : 'invalid access token');
  if (!partner.oauthClientId || token.clientId !== partner.oauthClientId) return refuse(403, 'token-client-mismatch', 'the access token was not issued to the partner of this API key');

  const granted = token.scopes.map(shortScope).filter((s) => partner.scopes.includes(s));
  if (!facts.requiredScopes?.length || !facts.requiredScopes.some((s) => granted.includes(s))) {
    return refuse(403, 'insufficient-scope', 'the access token lacks the scope this operation needs');
  }
  return {
    allow: true,
    partnerId: partner.partnerId,
    keyId: key.keyId,
    context: { partnerId: partner.partnerId, institution: partner.institution, client_id: token.clientId, scope: [...new Set(granted)].join(' '), apiKeyId: key.keyId },
  };
}

/** `mdrp/catalog.read` (Cognito resource-server form) → `catalog.read`. */
export function shortScope(scope: string): string {
  const prefix = `${PARTNER_EDGE.resourceServerId}/`;
  return scope.startsWith(prefix) ? scope.slice(prefix.length) : scope;
}

/**
 * Whether an address lies in one of the CIDRs (IPv4 and IPv6; an IPv4-mapped IPv6 peer such as
 * `::ffff:127.0.0.1` is matched as IPv4). Unparseable input never matches.
 */
export function ipInCidrs(ip: string, cidrs: readonly string[]): boolean {
  if (!ipaddr.isValid(ip)) return false;
  const addr = ipaddr.process(ip);
  return cidrs.some((c) => {
    try {
      const range = ipaddr.parseCIDR(c);
      return addr.kind() === range[0].kind() && addr.match(range);
    } catch {
      return false;
    }
  });
}
