/** Platform roles (SPEC §1). Cognito groups carry the same names. */
export const ROLES = [
  'researcher',
  'data-manager',
  'data-provider',
  'reviewer',
  'ethics-reviewer',
  'approver',
  'data-owner',
  'security-admin',
  'auditor',
] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/**
 * Who is acting: a signed-in person, a partner system (API key + OAuth client), or the
 * platform itself (scheduled jobs, workflow steps). Built once per request from verified claims.
 */
export interface Actor {
  kind: 'user' | 'partner' | 'system' | 'anonymous';
  /** Stable id: Cognito `sub`, partner id, or `system:<job>`. */
  id: string;
  username?: string;
  displayName?: string;
  roles: Role[];
  institution?: string;
  mfa: boolean;
  /** OAuth scopes granted to a partner client. */
  scopes: string[];
  apiKeyId?: string;
  sourceIp?: string;
  userAgent?: string;
}

/** The actor of requests that carry no credentials (health, OpenAPI document). */
export function anonymousActor(sourceIp?: string, userAgent?: string): Actor {
  return { kind: 'anonymous', id: 'anonymous', roles: [], mfa: false, scopes: [], sourceIp, userAgent };
}

/** The actor of platform-initiated actions. */
export function systemActor(job: string): Actor {
  return { kind: 'system', id: `system:${job}`, roles: [], mfa: false, scopes: [] };
}
