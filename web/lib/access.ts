/**
 * Access-governance helpers for the portal (R-GOV-2..5): the constants the forms offer and
 * client-side validation that mirrors the API's zod schemas (functions/http/routes/access.routes.ts),
 * so users see problems before submitting. The server stays the authority: its errors are mapped
 * back to the same fields by {@link fieldErrorsFromApi}.
 */
import { ApiError, type DatasetSummary, type DecisionOutcome, type RequestScope, type ReviewStep, type SubmitAccessRequest } from './api-client';

/** GA4GH DUO purpose codes the API accepts; labels live in messages under `access.purposes`. */
export const PURPOSE_CODES = ['DUO:0000007', 'DUO:0000042', 'DUO:0000006', 'DUO:0000011'] as const;

/** Modalities a request scope may name (API enum order). */
export const MODALITIES = ['clinical', 'imaging', 'documents', 'nursing', 'vital-signs', 'labs'] as const;

/** The data sharing agreement version the API currently requires (R-GOV-10). */
export const AGREEMENT_VERSION = 'DSA-2026.1';

/** Longest duration a request may ask for (API policy). */
export const MAX_DURATION_DAYS = 365;

/** Outcomes a reviewer may give at each step: ethics may ask for changes, approvers for more information. */
export const OUTCOMES_BY_STEP: Readonly<Record<ReviewStep, readonly DecisionOutcome[]>> = {
  ethics: ['approved', 'rejected', 'changes-requested'],
  approver: ['approved', 'rejected', 'more-info'],
  'data-owner': ['approved', 'rejected', 'more-info'],
  'security-admin': ['approved', 'rejected', 'more-info'],
};

/** The role that decides a step. */
export function roleForStep(step: ReviewStep): string {
  return step === 'ethics' ? 'ethics-reviewer' : step;
}

/** Roles that take review decisions on access requests. */
export const DECIDING_ROLES = ['ethics-reviewer', 'approver', 'data-owner', 'security-admin'] as const;

/** Roles allowed to list every request (`view=all`). */
export const GOVERNANCE_ROLES = ['ethics-reviewer', 'approver', 'security-admin', 'auditor'] as const;

/** Roles that see every grant (`GET /v1/grants?view=all`). */
export const GRANT_OVERSIGHT_ROLES = ['approver', 'security-admin', 'auditor'] as const;

/** Roles that may revoke a grant early. */
export const GRANT_REVOKER_ROLES = ['approver', 'security-admin'] as const;

/** True when `roles` contains any of `wanted`. */
export function hasAnyRole(roles: readonly string[] | undefined, wanted: readonly string[]): boolean {
  return (roles ?? []).some((r) => wanted.includes(r));
}

/** A validation problem: a message key under `access.validation` and its ICU values. */
export interface FieldProblem {
  key: string;
  values?: Record<string, number | string>;
  /** A server message shown as-is (with its code) when the server found the problem. */
  serverMessage?: string;
  code?: string;
}

/** Field path (as the API names it) → problem. */
export type FieldErrors = Partial<Record<string, FieldProblem>>;

/** The editable state of the new-request form. */
export interface RequestDraft {
  title: string;
  purposeCode: string;
  purpose: string;
  academicStatement: string;
  datasetIds: string[];
  modalities: string[];
  /** Free text: field names separated by commas, spaces or new lines. */
  fields: string;
  durationDays: string;
  reviewType: '' | 'expedited' | 'full-board';
  agreementAccepted: boolean;
}

/** An empty draft, optionally with datasets pre-selected (the catalogue's "apply" links, R-GOV-1). */
export function emptyDraft(datasetIds: string[] = []): RequestDraft {
  return {
    title: '',
    purposeCode: '',
    purpose: '',
    academicStatement: '',
    datasetIds,
    modalities: [],
    fields: '',
    durationDays: '90',
    reviewType: '',
    agreementAccepted: false,
  };
}

const DATASET_ID = /^[a-z0-9-]{3,64}$/;
const FIELD_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Splits the free-text field list. */
export function parseFieldList(text: string): string[] {
  return [...new Set(text.split(/[\s,，;；]+/).map((f) => f.trim()).filter((f) => f !== ''))];
}

/** Length limits shared by the request and the amendment forms (API schema). */
export const LIMITS = {
  title: { min: 5, max: 200 },
  purpose: { min: 10, max: 2000 },
  academicStatement: { min: 50, max: 10_000 },
  comment: { min: 1, max: 4000 },
  revokeReason: { min: 5, max: 2000 },
} as const;

/** Checks a trimmed text against `LIMITS[name]`. */
export function checkLength(value: string, limits: { min: number; max: number }): FieldProblem | undefined {
  const n = value.trim().length;
  if (n === 0) return { key: 'required' };
  if (n < limits.min) return { key: 'tooShort', values: { min: limits.min, count: n } };
  if (n > limits.max) return { key: 'tooLong', values: { max: limits.max } };
  return undefined;
}

/** Validates a duration in days (integer 1..365). */
export function checkDuration(text: string): FieldProblem | undefined {
  if (text.trim() === '') return { key: 'required' };
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_DURATION_DAYS) return { key: 'duration', values: { max: MAX_DURATION_DAYS } };
  return undefined;
}

/** Client-side validation mirroring `SubmitAccessRequestSchema`; empty object when valid. */
export function validateDraft(draft: RequestDraft, catalogue: readonly DatasetSummary[] = []): FieldErrors {
  const errors: FieldErrors = {};
  const title = checkLength(draft.title, LIMITS.title);
  if (title) errors.title = title;
  if (!(PURPOSE_CODES as readonly string[]).includes(draft.purposeCode)) errors.purposeCode = { key: 'choosePurpose' };
  const purpose = checkLength(draft.purpose, LIMITS.purpose);
  if (purpose) errors.purpose = purpose;
  const statement = checkLength(draft.academicStatement, LIMITS.academicStatement);
  if (statement) errors.academicStatement = statement;
  if (draft.datasetIds.length === 0) errors['scope.datasetIds'] = { key: 'chooseDataset' };
  else if (draft.datasetIds.length > 20 || draft.datasetIds.some((id) => !DATASET_ID.test(id))) errors['scope.datasetIds'] = { key: 'invalidDataset' };
  if (catalogue.length > 0) {
    const available = availableModalities(catalogue, draft.datasetIds);
    if (draft.modalities.some((m) => !available.includes(m))) errors['scope.modalities'] = { key: 'modalityNotInDatasets' };
  }
  const fields = parseFieldList(draft.fields);
  const badField = fields.find((f) => !FIELD_NAME.test(f));
  if (badField) errors['scope.fields'] = { key: 'invalidField', values: { field: badField } };
  else if (fields.length > 200) errors['scope.fields'] = { key: 'tooManyFields', values: { max: 200 } };
  const duration = checkDuration(draft.durationDays);
  if (duration) errors.requestedDurationDays = duration;
  if (!draft.agreementAccepted) errors.agreementAccepted = { key: 'acceptAgreement' };
  return errors;
}

/** The request body for a valid draft. */
export function draftToBody(draft: RequestDraft) {
  // validateDraft() has checked the codes against the API's enums (the generated body type).
  const scope: RequestScope = { datasetIds: draft.datasetIds, modalities: draft.modalities as RequestScope['modalities'], fields: parseFieldList(draft.fields) };
  return {
    title: draft.title.trim(),
    purposeCode: draft.purposeCode as SubmitAccessRequest['purposeCode'],
    purpose: draft.purpose.trim(),
    academicStatement: draft.academicStatement.trim(),
    scope,
    requestedDurationDays: Number(draft.durationDays),
    agreementVersion: AGREEMENT_VERSION,
    agreementAccepted: true as const,
    ...(draft.reviewType ? { reviewType: draft.reviewType } : {}),
  };
}

/** Modalities the chosen datasets hold (API enum order); only these can be requested. */
export function availableModalities(catalogue: readonly DatasetSummary[], datasetIds: readonly string[]): string[] {
  const held = new Set(catalogue.filter((d) => datasetIds.includes(d.datasetId)).flatMap((d) => d.modalities));
  return MODALITIES.filter((m) => held.has(m));
}

/**
 * Maps an API validation error to form fields: `details.field` names one field, and
 * `details.issues[].path` (zod, dotted) names several. `knownFields` are the form's field paths;
 * an issue under `scope.datasetIds.0` lands on `scope.datasetIds`. Returns `undefined` when the
 * error names no known field (then it is shown as a form-level error).
 */
export function fieldErrorsFromApi(err: unknown, knownFields: readonly string[], prefix = ''): FieldErrors | undefined {
  if (!(err instanceof ApiError)) return undefined;
  const details = (err.details ?? {}) as { field?: unknown; issues?: unknown };
  const found: FieldErrors = {};
  const place = (path: string, message: string) => {
    const bare = prefix && path.startsWith(prefix) ? path.slice(prefix.length) : path;
    const field = knownFields
      .filter((f) => bare === f || bare.startsWith(`${f}.`))
      .sort((a, b) => b.length - a.length)[0];
    if (field && !found[field]) found[field] = { key: 'server', serverMessage: message, code: err.code };
  };
  if (typeof details.field === 'string') place(details.field, err.message);
  if (Array.isArray(details.issues)) {
    for (const issue of details.issues as Array<{ path?: unknown; message?: unknown }>) {
      const path = Array.isArray(issue.path) ? issue.path.join('.') : typeof issue.path === 'string' ? issue.path : '';
      place(path, typeof issue.message === 'string' ? issue.message : err.message);
    }
  }
  return Object.keys(found).length > 0 ? found : undefined;
}

/** Whole days (rounded up) from `now` until `iso`; negative once past. */
export function daysUntil(iso: string, now: number): number {
  return Math.ceil((Date.parse(iso) - now) / 86_400_000);
}

/** Where a request currently waits: the pending step, or nothing once closed. */
export function currentStep(request: { pending?: { step: ReviewStep; kind: 'review' | 'applicant' } }): { step: ReviewStep; kind: 'review' | 'applicant' } | undefined {
  return request.pending ? { step: request.pending.step, kind: request.pending.kind } : undefined;
}

/** The full review path of a request: ethics then its approval chain. */
export function reviewPath(approvalChain: readonly ReviewStep[]): ReviewStep[] {
  return ['ethics', ...approvalChain.filter((s) => s !== 'ethics')];
}

/**
 * State of each step of the review path, for the approval-chain display: `done` (approved),
 * `current` (open, for a reviewer or the applicant), `rejected`, or `upcoming`.
 */
export function stepStates(
  request: { approvalChain: readonly ReviewStep[]; status: string; pending?: { step: ReviewStep }; history: ReadonlyArray<{ action: string; step?: ReviewStep }> },
): Array<{ step: ReviewStep; state: 'done' | 'current' | 'rejected' | 'upcoming' }> {
  const path = reviewPath(request.approvalChain);
  return path.map((step) => {
    if (request.pending?.step === step) return { step, state: 'current' as const };
    const last = [...request.history].reverse().find((h) => h.step === step && ['approved', 'rejected'].includes(h.action));
    if (last?.action === 'rejected') return { step, state: 'rejected' as const };
    if (last?.action === 'approved') return { step, state: 'done' as const };
    if (request.status === 'approved') return { step, state: 'done' as const };
    return { step, state: 'upcoming' as const };
  });
}

/** Statuses after which nothing more will happen to a request. */
export const FINAL_STATUSES = ['approved', 'rejected', 'failed'] as const;

/** True once a request's workflow has ended. */
export function isFinal(status: string): boolean {
  return (FINAL_STATUSES as readonly string[]).includes(status);
}

/**
 * Re-reads something until `done` says the asynchronous workflow has moved on, or the attempts
 * run out (then the last value is returned: the page shows what it has and offers a refresh).
 */
export async function pollUntil<T>(
  load: () => Promise<T>,
  done: (value: T) => boolean,
  { attempts = 20, intervalMs = 400, sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) } = {},
): Promise<T> {
  let value = await load();
  for (let i = 1; i < attempts && !done(value); i++) {
    await sleep(intervalMs);
    value = await load();
  }
  return value;
}

/** Message key for a purpose code (`DUO:0000007` → `DUO_0000007`): next-intl keys avoid punctuation. */
export function purposeKey(code: string): string {
  return code.replace(/[^A-Za-z0-9]/g, '_');
}
