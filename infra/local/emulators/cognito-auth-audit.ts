import { createHash } from 'node:crypto';
import type { Container } from '../../../functions/composition/container';
import { authAuditEvent, isCognitoAuthCall, jwtSubject, type AuthCallObservation } from '../../../functions/core/audit/auth-event';

/** One proxied Cognito call, as the proxy saw it. */
export interface ProxiedCognitoCall {
  /** `X-Amz-Target`, e.g. `AWSCognitoIdentityProviderService.InitiateAuth`. */
  target: string;
  requestBody: Buffer;
  status: number;
  responseBody: Buffer;
  sourceIp?: string;
  userAgent?: string;
}

type Json = Record<string, unknown>;

/**
 * Which user a refresh token was issued to, so a later sign-out (`RevokeToken`) or refresh is
 * attributed to that user. Keyed by the token's SHA-256 (the token itself is never kept), bounded.
 */
export class RefreshTokenOwners {
  private readonly owners = new Map<string, string>();
  constructor(private readonly max = 10_000) {}
  private key(token: string): string {
    return createHash('sha256').update(token).digest('hex');
  }
  remember(token: string, sub: string): void {
    if (this.owners.size >= this.max) this.owners.delete(this.owners.keys().next().value!);
    this.owners.set(this.key(token), sub);
  }
  owner(token: string): string | undefined {
    return this.owners.get(this.key(token));
  }
}

function parse(b: Buffer): Json {
  try {
    const v = JSON.parse(b.toString('utf8')) as unknown;
    return v && typeof v === 'object' ? (v as Json) : {};
  } catch {
    return {};
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/**
 * Reads what the audit trail may keep of a sign-in/sign-out/password/MFA call to cognito-local
 * (R-AUD-1): the call, the flow or challenge, the user's `sub` (from the tokens Cognito issued or
 * the access token presented), the typed user name (hashed downstream), outcome and source.
 * Passwords, codes and tokens are read only to derive the `sub`, and never returned.
 * Returns undefined for calls that are not auth events (admin set-up, JWKS, user listing).
 */
export function observeCognitoCall(
  c: ProxiedCognitoCall,
  ids: { eventId: string; time: string; correlationId: string },
  refreshTokens?: RefreshTokenOwners,
): AuthCallObservation | undefined {
  const call = c.target.split('.').pop() ?? '';
  if (!isCognitoAuthCall(call)) return undefined;
  const req = parse(c.requestBody);
  const res = parse(c.responseBody);
  const ok = c.status < 400;
  const authParams = (req.AuthParameters ?? {}) as Json;
  const challengeResponses = (req.ChallengeResponses ?? {}) as Json;
  const result = (res.AuthenticationResult ?? {}) as Json;
  const issuedSub = ok ? (jwtSubject(result.IdToken) ?? jwtSubject(result.AccessToken)) : undefined;
  const presentedSub = jwtSubject(req.AccessToken);
  // Refresh tokens carry no usable subject (encrypted in Cognito): the owner learnt at sign-in.
  const presentedRefresh = str(req.Token) ?? str(authParams.REFRESH_TOKEN);
  const refreshOwner = presentedRefresh ? refreshTokens?.owner(presentedRefresh) : undefined;
  const sub = issuedSub ?? presentedSub ?? refreshOwner;
  if (issuedSub && str(result.RefreshToken)) refreshTokens?.remember(str(result.RefreshToken)!, issuedSub);
  const username = str(authParams.USERNAME) ?? str(challengeResponses.USERNAME) ?? str(req.Username);
  return {
    ...ids,
    call,
    ...(str(req.AuthFlow) ? { flow: str(req.AuthFlow) } : str(req.ChallengeName) ? { flow: str(req.ChallengeName) } : {}),
    ...(sub ? { sub, subVerified: ok } : {}),
    ...(username ? { username } : {}),
    ...(ok ? {} : { errorType: str(res.__type) ?? 'UnknownError' }),
    status: c.status,
    ...(ok && str(res.ChallengeName) ? { challenge: str(res.ChallengeName) } : {}),
    ...(c.sourceIp ? { sourceIp: c.sourceIp } : {}),
    ...(c.userAgent ? { userAgent: c.userAgent } : {}),
    observedBy: 'local-cognito-proxy',
  };
}

/**
 * The proxy's `onAuthCall`: writes the audit event of each auth call through the container's
 * trail (so the alert rules, e.g. repeated failed sign-ins, run on it). Throws when no container
 * is bound yet or the write fails: the proxy then refuses the call (fail closed).
 */
export function cognitoAuthAuditor(getContainer: () => Container | undefined): (call: ProxiedCognitoCall) => Promise<void> {
  const refreshTokens = new RefreshTokenOwners();
  return async (call) => {
    const container = getContainer();
    if (!container) throw new Error('audit trail not ready');
    const eventId = container.ids.next('evt');
    const obs = observeCognitoCall(call, { eventId, time: new Date(container.clock.now()).toISOString(), correlationId: eventId }, refreshTokens);
    if (obs) await container.audit.write(authAuditEvent(obs));
  };
}
