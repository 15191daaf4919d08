/**
 * OAuth 2.0 client registry port (R-SEC-6): one confidential client per partner, allowed only
 * the client-credentials grant and the partner's scopes. In AWS a Cognito app client on the
 * user pool's resource server; on one machine a client of the local OIDC provider.
 */
export interface OAuthClientCredentials {
  clientId: string;
  /** Shown once to the partner administrator; the platform does not keep it in its records. */
  clientSecret: string;
}

export interface OAuthClientRegistry {
  /** Where partners exchange client id + secret for an access token (`grant_type=client_credentials`). */
  readonly tokenEndpoint?: string;
  /** Creates the partner's client with exactly these scopes (short names, e.g. `catalog.read`). */
  createClient(partnerId: string, scopes: readonly string[]): Promise<OAuthClientCredentials>;
  /** Deletes a client (idempotent): its secret stops working at the token endpoint. */
  deleteClient(clientId: string): Promise<void>;
}
