/**
 * The ID-token claim that says "this session was established with a second factor" (R-SEC-6).
 *
 * Namespaced (`mdrp:`) on purpose: Cognito user attributes are either standard or `custom:`/`dev:`,
 * so no user or administrator can ever set this claim through an attribute (a `custom:mfa`
 * attribute could be made client-writable by mistake). Only the pre-token-generation trigger
 * writes it, on every token it issues, so no stale or forged value survives a refresh.
 */
export const MFA_CLAIM = 'mdrp:mfa';

/** The only second factor the user pool offers (TOTP; SMS is disabled, see infra/constructs/identity.ts). */
export const TOTP_FACTOR = 'SOFTWARE_TOKEN_MFA';

export interface MfaClaimInput {
  /** Cognito's `triggerSource` of the pre-token-generation event. */
  triggerSource: string;
  /** The user's active factors, or `undefined` when they could not be read. */
  activeFactors: readonly string[] | undefined;
}

export interface MfaClaimResult {
  mfa: boolean;
  /** Why, for the (PHI-free) log line. */
  reason: 'totp-challenged' | 'no-totp' | 'lookup-failed' | 'mfa-not-guaranteed';
}

/**
 * Decides the MFA claim of a token Cognito is about to issue. Cognito's user-pool ID tokens carry
 * no `amr`, and the trigger event does not say which challenges were answered, so the decision
 * rests on an invariant the infrastructure guarantees (infra/constructs/identity.ts):
 *
 * - pool MFA is OPTIONAL, TOTP only, no device remembering, and the adaptive-authentication risk
 *   actions are `MFA_IF_CONFIGURED`/`MFA_REQUIRED` at every level: so a user with an active TOTP
 *   factor is challenged for it at *every* password sign-in — Cognito issues no token otherwise;
 * - `TokenGeneration_Authentication` / `_HostedAuth` (a completed sign-in) → MFA iff TOTP is active;
 * - `TokenGeneration_RefreshTokens` → the same: the session began with a sign-in, and a TOTP factor
 *   that became active during the session was verified with a code from that authenticator
 *   (`VerifySoftwareToken`) in that session. An administrator removing the factor drops the claim at
 *   the next refresh (ID tokens live 1 hour);
 * - `TokenGeneration_NewPasswordChallenge` and `_AuthenticateDevice` (a remembered device may skip
 *   MFA), an unknown source, or a failed lookup → no MFA (fail closed: sign-in still works for
 *   everything that does not need MFA).
 *
 * Limits: this is "the account has TOTP and Cognito enforces it", not a per-session proof; a user
 * who enrols their own TOTP after a password-only sign-in is trusted from then on (enrolment of
 * sensitive roles should be done under administrator supervision), and turning on device
 * remembering or relaxing the risk actions would break the invariant (test/infra asserts both).
 *
 * @example
 * decideMfaClaim({ triggerSource: 'TokenGeneration_Authentication', activeFactors: ['SOFTWARE_TOKEN_MFA'] }); // { mfa: true, … }
 */
export function decideMfaClaim(input: MfaClaimInput): MfaClaimResult {
  if (!MFA_ENFORCING_SOURCES.has(input.triggerSource)) return { mfa: false, reason: 'mfa-not-guaranteed' };
  if (input.activeFactors === undefined) return { mfa: false, reason: 'lookup-failed' };
  return input.activeFactors.includes(TOTP_FACTOR) ? { mfa: true, reason: 'totp-challenged' } : { mfa: false, reason: 'no-totp' };
}

/** Token-generation sources after which Cognito has enforced the user's active TOTP factor. */
const MFA_ENFORCING_SOURCES = new Set(['TokenGeneration_Authentication', 'TokenGeneration_HostedAuth', 'TokenGeneration_RefreshTokens']);

/**
 * Reads the claim back from verified token claims: only the exact value the trigger writes counts.
 * API Gateway's Cognito authorizer passes claims as strings; a local front may pass a boolean.
 */
export function mfaFromClaims(claims: Readonly<Record<string, unknown>>): boolean {
  const v = claims[MFA_CLAIM];
  return v === 'true' || v === true;
}
