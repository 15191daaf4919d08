import type { PurposeCode, RequestScope } from './access-request';

/** A time-limited permission issued on final approval (R-GOV-5). */
export interface Grant {
  grantId: string;
  requestId: string;
  holderId: string;
  holderName: string;
  /**
   * `partner` when the holder is a partner system: the grant was issued on a request the partner
   * submitted for a named researcher (R-INT-1; `holderName` is the researcher's name). Absent for
   * a person. Decides how the holder appears to the authorization engine (fail closed: a grant
   * without it is never a partner's).
   */
  holderKind?: 'partner';
  institution: string;
  scope: RequestScope;
  purposeCode: PurposeCode;
  /** R-SEC-2 level of the data the grant exposes. */
  dataLevel: number;
  agreementVersion: string;
  startsAt: string;
  expiresAt: string;
  status: 'active' | 'revoked' | 'expired';
  issuedAt: string;
  /** Who approved what, copied from the request's history at issue time. */
  approvals: Array<{ step: string; decidedBy: string; at: string }>;
  revokedAt?: string;
  revokedBy?: string;
  revokeReason?: string;
  remindersSent: number[];
  /** Continuing reviews that extended the grant (R-GOV-5), oldest first. */
  renewals?: GrantRenewal[];
  version: number;
}

/** One approved renewal: which request, and the end before and after. */
export interface GrantRenewal {
  requestId: string;
  previousExpiresAt: string;
  expiresAt: string;
  renewedAt: string;
  approvals: Array<{ step: string; decidedBy: string; at: string }>;
}

/** Default grant length (R-GOV-5: e.g. 3 months); never longer than requested. */
export const DEFAULT_GRANT_DAYS = 90;
/** Reminders before expiry, in days. */
export const REMINDER_DAYS = [14, 3] as const;

/**
 * The grant as the authorization engine sees it (R-GOV-7): held by a person (`holder`) or by a
 * partner system (`partner`), and its institution.
 */
export function grantResource(grant: Grant): { type: 'Grant'; id: string; attributes: Record<string, string> } {
  const attributes: Record<string, string> = { institution: grant.institution };
  if (grant.holderKind === 'partner') attributes.partner = `partner:${grant.holderId}`;
  else attributes.holder = `user:${grant.holderId}`;
  return { type: 'Grant', id: grant.grantId, attributes };
}

/** Decision-time validity: a grant is usable only while active AND not past its end (ARCHITECTURE D3/D4). */
export function isGrantUsable(grant: Grant, now: number): boolean {
  return grant.status === 'active' && Date.parse(grant.startsAt) <= now && now < Date.parse(grant.expiresAt);
}
