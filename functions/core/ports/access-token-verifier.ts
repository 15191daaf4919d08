import type { EdgeTokenFacts } from '../partners/partner-edge-decision';

/**
 * Verifies a partner's bearer access token: issuer, signature against the issuer's JWKS, expiry,
 * `token_use` when present. Cognito's token in AWS, the local OIDC provider's locally.
 * Never throws for a bad token: the result says what is wrong.
 */
export interface AccessTokenVerifier {
  verify(token: string | undefined): Promise<EdgeTokenFacts>;
}
