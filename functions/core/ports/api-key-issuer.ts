/**
 * API key issuer port: API Gateway API keys bound to a usage plan in AWS; on one machine, keys
 * the local front checks against the same usage-plan configuration. The key value is returned
 * once, at issue time, and never stored in clear by the platform.
 */
export interface IssuedApiKey {
  keyId: string;
  /** Shown once to the partner administrator. */
  value: string;
  plan: string;
}

export interface ApiKeyIssuer {
  issue(partnerId: string, plan: string): Promise<IssuedApiKey>;
  /** Disables a key (idempotent). */
  revoke(keyId: string): Promise<void>;
}
