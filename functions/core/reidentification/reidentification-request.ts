/**
 * Controlled re-identification (R-DEID-3): a grant holder asks for one released pseudonym to be
 * resolved back to where the patient can be found, for a documented reason (typically an
 * incidental finding the treating hospital must act on). Two distinct people approve — an ethics
 * reviewer and a security administrator, neither of them the requester — and the requester may
 * then view the result exactly once.
 *
 * What is revealed is deliberately NOT the identity (no name, resident ID, phone or address): only
 * what lets the treating hospital act — the source institution, the source system's patient
 * reference and the hospital's medical record number (MRN). The hospital already holds the
 * identity under that MRN.
 */

/** The reasons a re-identification may be asked for (the justification text gives details). */
export const REIDENTIFICATION_REASONS = ['incidental-finding', 'patient-safety', 'consent-follow-up', 'data-correction'] as const;
export type ReidentificationReason = (typeof REIDENTIFICATION_REASONS)[number];

/** The two approval slots; each is filled by a different person holding the slot's role. */
export const REIDENTIFICATION_APPROVER_ROLES = ['ethics-reviewer', 'security-admin'] as const;
export type ReidentificationApproverRole = (typeof REIDENTIFICATION_APPROVER_ROLES)[number];

export type ReidentificationStatus = 'pending' | 'approved' | 'rejected' | 'consumed' | 'expired';

/** One re-identification request. Holds ids only: the revealed data is never stored. */
export interface ReidentificationRequest {
  requestId: string;
  grantId: string;
  /** The grant-scoped pseudonym to resolve. */
  token: string;
  requesterId: string;
  requesterName: string;
  reason: ReidentificationReason;
  justification: string;
  status: ReidentificationStatus;
  approvals: Array<{ role: ReidentificationApproverRole; decidedBy: string; decidedByName?: string; at: string; comment?: string }>;
  rejection?: { role: ReidentificationApproverRole; decidedBy: string; decidedByName?: string; at: string; comment: string };
  createdAt: string;
  updatedAt: string;
  approvedAt?: string;
  /** After approval the result must be viewed before this time, or the request expires. */
  viewableUntil?: string;
  consumedAt?: string;
  version: number;
}

/** What the requester sees, once: where the patient is known, not who they are. */
export interface ReidentificationResult {
  requestId: string;
  grantId: string;
  token: string;
  /** One entry per source record of the patient (a patient may be known at several hospitals). */
  sources: Array<{ institution: string; sourcePatientReference: string; mrn?: string }>;
  revealedAt: string;
  notice: string;
}

/** How long an approved request stays viewable (days). */
export const REIDENTIFICATION_VIEW_DAYS = 7;
