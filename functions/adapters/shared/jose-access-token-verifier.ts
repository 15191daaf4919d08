import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { EdgeTokenFacts } from '../../core/partners/partner-edge-decision';
import type { AccessTokenVerifier } from '../../core/ports/access-token-verifier';

export interface JoseAccessTokenVerifierOptions {
  /** Expected `iss` (Cognito: `https://cognito-idp.<region>.amazonaws.com/<poolId>`; locally the OIDC provider). */
  issuer: string;
  /** The issuer's JWKS (fetched and cached by jose). */
  jwksUrl: string;
  /** Expected `aud` when the issuer sets one (the local provider does; Cognito access tokens carry none). */
  audience?: string;
}

/**
 * Verifies client-credentials access tokens with `jose` (signature against the issuer's JWKS,
 * `iss`, `exp`/`nbf`, `aud` when configured), the way API Gateway's authorizer would: the same
 * class serves the local OIDC provider and Cognito. ID tokens are refused (`token_use`).
 */
export class JoseAccessTokenVerifier implements AccessTokenVerifier {
  private readonly jwks: JWTVerifyGetKey;

  constructor(private readonly opts: JoseAccessTokenVerifierOptions) {
    this.jwks = createRemoteJWKSet(new URL(opts.jwksUrl));
  }

  async verify(token: string | undefined): Promise<EdgeTokenFacts> {
    if (!token) return { kind: 'missing' };
    try {
      const { payload } = await jwtVerify(token, this.jwks, {
        issuer: this.opts.issuer,
        ...(this.opts.audience ? { audience: this.opts.audience } : {}),
        algorithms: ['RS256', 'ES256', 'PS256'],
        requiredClaims: ['exp'],
      });
      if (payload.token_use !== undefined && payload.token_use !== 'access') return { kind: 'invalid', reason: 'rejected' };
      const clientId = payload.client_id;
      const scope = payload.scope;
      if (typeof clientId !== 'string' || typeof scope !== 'string') return { kind: 'invalid', reason: 'rejected' };
      return { kind: 'valid', clientId, scopes: scope.split(' ').filter(Boolean) };
    } catch (e) {
      if (e instanceof errors.JWTExpired) return { kind: 'invalid', reason: 'expired' };
      if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid || e instanceof errors.JOSENotSupported) return { kind: 'invalid', reason: 'malformed' };
      return { kind: 'invalid', reason: 'rejected' };
    }
  }
}
