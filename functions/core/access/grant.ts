import type { PurposeCode, RequestScope } from './access-request';

/** A time-limited permission issued on final approval (R-GOV-5). */
export interface Grant {
  grantId: string;
  requestId: string;
  holderId: string;
  holderName: string;
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

/** Decision-time validity: a grant is usable only while active AND not past its end (ARCHITECTURE D3/D4). */
export function isGrantUsable(grant: Grant, now: number): boolean {
  return grant.status === 'active' && Date.parse(grant.startsAt) <= now && now < Date.parse(grant.expiresAt);
}
