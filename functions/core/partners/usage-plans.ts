/**
 * The partner edge configuration (R-SEC-7): ONE source read by CDK (API Gateway usage plans,
 * WAF) and by the local HTTP front, so tests prove locally the limits that AWS enforces.
 */

/** Limits of one usage plan: steady rate (requests/s), burst (token-bucket size), daily quota. */
export interface UsagePlanLimits {
  /** Steady-state requests per second (API Gateway `throttle.rateLimit`). */
  readonly rateLimit: number;
  /** Largest burst (API Gateway `throttle.burstLimit`: the token bucket's capacity). */
  readonly burstLimit: number;
  /** Requests per UTC day (API Gateway `quota` with period `DAY`). */
  readonly quotaPerDay: number;
  readonly description: string;
}

/**
 * Usage plans partners can be put on. `default` is for production integrations; `pilot` is a
 * small plan for trials and sandboxes (its small burst also lets tests prove throttling fast);
 * `evaluation` is for evaluation keys that may try the API a few dozen times a day (its small
 * daily quota also lets tests prove the quota end to end).
 */
export const PARTNER_USAGE_PLANS = {
  default: { rateLimit: 20, burstLimit: 40, quotaPerDay: 50_000, description: 'Production partner integrations' },
  pilot: { rateLimit: 2, burstLimit: 5, quotaPerDay: 2_000, description: 'Pilots and sandboxes: small rate, small burst' },
  evaluation: { rateLimit: 5, burstLimit: 10, quotaPerDay: 40, description: 'Evaluation keys: 40 calls a day' },
} as const satisfies Record<string, UsagePlanLimits>;

export type PartnerPlan = keyof typeof PARTNER_USAGE_PLANS;

/** Plan names, in a stable order. */
export const PARTNER_PLANS = Object.keys(PARTNER_USAGE_PLANS) as PartnerPlan[];

/** Edge settings shared by the local front, the Lambda authorizer and CDK. */
export const PARTNER_EDGE = {
  /** Largest request body a partner may send (routes may set a tighter `maxBodyBytes`). */
  maxBodyBytes: 256 * 1024,
  /** How long a rotated-out key keeps working unless the rotation says otherwise. */
  defaultKeyGraceSeconds: 24 * 3600,
  /** Upper bound of a rotation grace period. */
  maxKeyGraceSeconds: 30 * 24 * 3600,
  /** Cognito resource server identifier: full scope names are `mdrp/<scope>` (AWS and local alike). */
  resourceServerId: 'mdrp',
  /** Header carrying the API key (API Gateway `apiKeySourceType: HEADER`). */
  apiKeyHeader: 'x-api-key',
} as const;

/** Name of the API Gateway usage plan of a partner plan (the key issuer looks plans up by name). */
export function usagePlanName(stage: string, plan: string): string {
  return `mdrp-${stage}-partners-${plan}`;
}

export function isPartnerPlan(plan: string): plan is PartnerPlan {
  return Object.hasOwn(PARTNER_USAGE_PLANS, plan);
}
