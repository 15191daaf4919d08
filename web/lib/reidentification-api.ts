/**
 * Portal calls for controlled re-identification (R-DEID-3): a grant holder asks for one released
 * pseudonym to be resolved; an ethics reviewer and a security administrator approve; the requester
 * views the result once. Functions take the shared `ApiClient`.
 */
import type { ApiClient } from './api-client';

/** Reasons a re-identification may be asked for (API enum order). */
export const REID_REASONS = ['incidental-finding', 'patient-safety', 'consent-follow-up', 'data-correction'] as const;
export type ReidReason = (typeof REID_REASONS)[number];

/** Roles that approve, one person each. */
export const REID_APPROVER_ROLES = ['ethics-reviewer', 'security-admin'] as const;

export type ReidStatus = 'pending' | 'approved' | 'rejected' | 'consumed' | 'expired';

export interface ReidDecision {
  role: (typeof REID_APPROVER_ROLES)[number];
  decidedBy: string;
  decidedByName?: string;
  at: string;
  comment?: string;
}

export interface ReidRequest {
  requestId: string;
  grantId: string;
  token: string;
  requesterId: string;
  requesterName: string;
  reason: ReidReason;
  justification: string;
  status: ReidStatus;
  approvals: ReidDecision[];
  rejection?: ReidDecision & { comment: string };
  createdAt: string;
  updatedAt: string;
  approvedAt?: string;
  viewableUntil?: string;
  consumedAt?: string;
}

/** The one-time result: where the patient is known, not who they are. */
export interface ReidResult {
  requestId: string;
  grantId: string;
  token: string;
  sources: Array<{ institution: string; sourcePatientReference: string; mrn?: string }>;
  revealedAt: string;
  notice: string;
}

/** Smallest justification the API accepts. */
export const MIN_JUSTIFICATION = 20;

export function requestReidentification(api: ApiClient, input: { grantId: string; token: string; reason: ReidReason; justification: string }): Promise<ReidRequest> {
  return api.request<ReidRequest>('POST', '/v1/reidentification-requests', input);
}

export async function listReidentificationRequests(api: ApiClient, view: 'mine' | 'queue'): Promise<ReidRequest[]> {
  return (await api.request<{ items: ReidRequest[] }>('GET', `/v1/reidentification-requests?view=${view}`)).items;
}

export function decideReidentification(api: ApiClient, requestId: string, outcome: 'approved' | 'rejected', comment?: string): Promise<ReidRequest> {
  return api.request<ReidRequest>('POST', `/v1/reidentification-requests/${encodeURIComponent(requestId)}/decisions`, { outcome, ...(comment?.trim() ? { comment: comment.trim() } : {}) });
}

/** Consumes the result: a second call fails with 410 GONE. */
export function viewReidentificationResult(api: ApiClient, requestId: string): Promise<ReidResult> {
  return api.request<ReidResult>('POST', `/v1/reidentification-requests/${encodeURIComponent(requestId)}/result`);
}

/** The approval slots still open on a request (for status display). */
export function openApprovalRoles(r: Pick<ReidRequest, 'approvals' | 'status'>): Array<(typeof REID_APPROVER_ROLES)[number]> {
  if (r.status !== 'pending') return [];
  return REID_APPROVER_ROLES.filter((role) => !r.approvals.some((a) => a.role === role));
}
