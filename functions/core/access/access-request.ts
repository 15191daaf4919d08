/** GA4GH Data Use Ontology codes a request's purpose can carry (R-GOV-2; matched against consent). */
export const PURPOSE_CODES = {
  'DUO:0000042': 'General research use',
  'DUO:0000007': 'Disease-specific research',
  'DUO:0000006': 'Health or medical or biomedical research',
  'DUO:0000011': 'Population origins or ancestry research only',
} as const;
export type PurposeCode = keyof typeof PURPOSE_CODES;

/** Steps of the review: ethics first (R-GOV-3), then the approval chain (R-GOV-4). */
export type ReviewStep = 'ethics' | 'approver' | 'data-owner' | 'security-admin';

/** Outcomes a reviewer may give at a step. Ethics may ask for changes; approvers for more information. */
export const OUTCOMES_BY_STEP: Record<ReviewStep, readonly string[]> = {
  ethics: ['approved', 'rejected', 'changes-requested'],
  approver: ['approved', 'rejected', 'more-info'],
  'data-owner': ['approved', 'rejected', 'more-info'],
  'security-admin': ['approved', 'rejected', 'more-info'],
};

/** The role that decides a step (the ethics committee for `ethics`). */
export function roleForStep(step: ReviewStep): string {
  return step === 'ethics' ? 'ethics-reviewer' : step;
}

/**
 * R-GOV-4, R-SEC-3: the approval chain after ethics, by the data's security level and volume.
 * L1–L2: one approver; L3: project lead (approver) then data owner; L4–L5: plus the security admin.
 * Large requests (more than `bulkThreshold` patients) at L2 also need the data owner.
 */
export function approvalChainFor(securityLevel: number, patientCount: number, bulkThreshold = 1000): ReviewStep[] {
  if (securityLevel >= 4) return ['approver', 'data-owner', 'security-admin'];
  if (securityLevel === 3) return ['approver', 'data-owner'];
  return patientCount > bulkThreshold ? ['approver', 'data-owner'] : ['approver'];
}

export type RequestStatus =
  | 'ethics-review'
  | 'changes-requested'
  | 'approval'
  | 'more-info'
  | 'approved'
  | 'rejected'
  | 'failed';

export interface RequestScope {
  datasetIds: string[];
  /** Modalities requested (e.g. clinical, imaging, nursing, documents); empty = all of the datasets'. */
  modalities: string[];
  /** Fields requested; empty = the datasets' default research fields. */
  fields: string[];
}

export interface Attachment {
  attachmentId: string;
  kind: 'protocol' | 'ethics-approval' | 'data-sharing-agreement' | 'consent-form' | 'other';
  fileName: string;
  sha256: string;
  version: number;
  uploadedAt: string;
  /** Set for documents stored with the request (R-GOV-9, request-documents.ts). */
  sizeBytes?: number;
  contentType?: string;
}

/** A human step the workflow is waiting on. */
export interface PendingStep {
  kind: 'review' | 'applicant';
  step: ReviewStep;
  stepIndex: number;
  /** Role that must act (for `applicant` steps: the applicant). */
  role: string;
  taskToken: string;
  openedAt: string;
  escalations: number;
  /** Set when the decision is recorded and being handed to the workflow. */
  decision?: { outcome: string; decidedBy: string; comment?: string; at: string };
}

export interface HistoryEntry {
  at: string;
  actorId: string;
  actorName?: string;
  action: string;
  step?: ReviewStep;
  comment?: string;
}

/** The researcher of its institution a partner system submits a request for (R-INT-1). */
export interface OnBehalfOf {
  name: string;
  email: string;
  /** The partner system's own id of the researcher, echoed back for its records. */
  reference?: string;
}

export interface AccessRequest {
  requestId: string;
  applicantId: string;
  applicantName: string;
  institution: string;
  title: string;
  purposeCode: PurposeCode;
  purpose: string;
  academicStatement: string;
  scope: RequestScope;
  requestedDurationDays: number;
  agreement: { version: string; acceptedAt: string };
  attachments: Attachment[];
  securityLevel: number;
  patientCount: number;
  approvalChain: ReviewStep[];
  reviewType: 'expedited' | 'full-board';
  status: RequestStatus;
  pending?: PendingStep;
  history: HistoryEntry[];
  grantId?: string;
  /** Renewal of this grant (continuing review, R-GOV-8). */
  renewsGrantId?: string;
  /** Submitted by a partner system (R-INT-1): the applicant is the partner, acting for `onBehalfOf`. */
  partnerId?: string;
  onBehalfOf?: OnBehalfOf;
  createdAt: string;
  updatedAt: string;
  version: number;
}
