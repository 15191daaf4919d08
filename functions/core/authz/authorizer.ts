import type { Actor } from '../identity/actor';

/** A resource as the authorization engine sees it: a type, an id and decision-relevant attributes. */
export interface AuthzResource {
  type: 'Platform' | 'Dataset' | 'AccessRequest' | 'Grant' | 'AuditLog' | 'Partner' | 'Upload' | 'Patient' | 'ReidentificationRequest';
  id: string;
  attributes?: Record<string, string | number | boolean | string[]>;
}

export interface AuthzRequest {
  actor: Actor;
  /** Cedar action id, e.g. `ReadCatalog`. */
  action: string;
  resource: AuthzResource;
  /** Small per-decision context (only the grants that concern this resource: ARCHITECTURE D3). */
  context?: Record<string, string | number | boolean | string[]>;
}

export interface AuthzDecision {
  effect: 'allow' | 'deny';
  /** Ids of the policies that determined the decision (empty for default deny). */
  policyIds: string[];
  /** Evaluation errors (a policy that errored counts as not satisfied). */
  errors: string[];
}

/** The authorization port: one engine decides every request, deny by default (R-GOV-7). */
export interface Authorizer {
  decide(request: AuthzRequest): AuthzDecision;
}
