import type { Authorizer } from '../authz/authorizer';
import type { CatalogService } from '../catalog/catalog-service';
import { ConflictError, DomainError, ForbiddenError, NotFoundError, ValidationError } from '../errors';
import type { Actor } from '../identity/actor';
import type { Clock } from '../ports/clock';
import type { DocumentStore, Item } from '../ports/document-store';
import type { Notifier } from '../ports/notifier';
import type { WorkflowEngine } from '../ports/workflow-engine';
import {
  approvalChainFor,
  OUTCOMES_BY_STEP,
  roleForStep,
  type AccessRequest,
  type Attachment,
  type OnBehalfOf,
  type PurposeCode,
  type RequestScope,
  type RequestStatus,
  type ReviewStep,
} from './access-request';
import type { Grant } from './grant';
import type { GrantService } from './grant-service';

export interface SubmitAccessRequestInput {
  title: string;
  purposeCode: PurposeCode;
  purpose: string;
  academicStatement: string;
  scope: RequestScope;
  requestedDurationDays: number;
  agreementVersion: string;
  agreementAccepted: boolean;
  reviewType?: 'expedited' | 'full-board';
  attachments?: Array<Omit<Attachment, 'attachmentId' | 'version' | 'uploadedAt'>>;
  /** Renewal of an existing grant (continuing review). */
  renewsGrantId?: string;
  /** Partner submissions only: the researcher the partner system acts for (R-INT-1). */
  onBehalfOf?: OnBehalfOf;
}

export interface DecisionInput {
  /** The step the reviewer is deciding, as shown to them: a stale or repeated decision is a conflict. */
  step: ReviewStep;
  outcome: string;
  comment?: string;
}

export interface ApplicantResponseInput {
  comment: string;
  amendments?: Partial<Pick<SubmitAccessRequestInput, 'title' | 'purpose' | 'academicStatement' | 'requestedDurationDays' | 'scope'>>;
}

/** Task payloads the access-request state machine sends (state-machines/access-request.asl.json). */
export interface WorkflowTaskPayload {
  task: 'openReviewStep' | 'escalateReviewStep' | 'awaitApplicant' | 'issueGrant' | 'closeRequest' | 'markFailed';
  requestId: string;
  step?: ReviewStep;
  stepIndex?: number;
  taskToken?: string;
  outcome?: string;
  error?: unknown;
}

/** The current data-sharing agreement version every applicant must accept (R-GOV-10). */
export const CURRENT_AGREEMENT_VERSION = 'DSA-2026.1';
/** Longest duration a request may ask for (policy). */
export const MAX_REQUEST_DAYS = 365;
/** A review step not done in this many seconds escalates (default 7 days). */
export const DEFAULT_REVIEW_TIMEOUT_SECONDS = 7 * 86_400;

type RequestItem = Item & { request: AccessRequest };
const ALL_STATUSES: RequestStatus[] = ['ethics-review', 'changes-requested', 'approval', 'more-info', 'approved', 'rejected', 'failed'];

/**
 * Access requests (R-GOV-2..4, R-GOV-8): submission, reviewer queues, decisions and the
 * applicant's answers. Request state lives here, in the document store; the Step Functions
 * execution only drives transitions (ARCHITECTURE D5). Each human step's task token is stored
 * with the request and used exactly once.
 */
export class AccessRequestService {
  constructor(
    private readonly store: DocumentStore,
    private readonly catalog: CatalogService,
    private readonly workflow: WorkflowEngine,
    private readonly grants: GrantService,
    private readonly notifier: Notifier,
    private readonly authorizer: Authorizer,
    private readonly clock: Clock,
    private readonly reviewTimeoutSeconds = DEFAULT_REVIEW_TIMEOUT_SECONDS,
    /** Materializes what a new grant exposes (the release); idempotent. */
    private readonly releases?: { buildRelease(grant: Grant): Promise<unknown> },
  ) {}

  async submit(actor: Actor, input: SubmitAccessRequestInput): Promise<AccessRequest> {
    if (!input.agreementAccepted) throw new ValidationError('the data sharing agreement must be accepted', { field: 'agreementAccepted' });
    if (input.agreementVersion !== CURRENT_AGREEMENT_VERSION) {
      throw new ValidationError('the agreement version is not the current one', { field: 'agreementVersion', current: CURRENT_AGREEMENT_VERSION });
    }
    if (input.requestedDurationDays > MAX_REQUEST_DAYS) throw new ValidationError(`duration beyond policy (max ${MAX_REQUEST_DAYS} days)`, { field: 'requestedDurationDays', max: MAX_REQUEST_DAYS });
    if (input.renewsGrantId) await this.checkRenewable(actor, input);
    const datasets = await Promise.all(
      [...new Set(input.scope.datasetIds)].map((id) =>
        this.catalog.getDataset(id).catch((e: unknown) => {
          if (e instanceof NotFoundError) throw new ValidationError('scope names a dataset that does not exist', { field: 'scope.datasetIds', datasetId: id });
          throw e;
        }),
      ),
    );
    for (const m of input.scope.modalities) {
      if (!datasets.some((d) => d.modalities.includes(m))) throw new ValidationError('scope names a modality the datasets do not have', { field: 'scope.modalities', modality: m });
    }
    const securityLevel = Math.max(...datasets.map((d) => d.securityLevel));
    if (actor.kind === 'partner') this.checkPartnerMayHold(actor, securityLevel);
    const patientCount = datasets.reduce((n, d) => n + d.patientCount, 0);
    const now = new Date(this.clock.now()).toISOString();
    const requestId = await this.nextRequestNumber();
    const request: AccessRequest = {
      requestId,
      applicantId: actor.id,
      applicantName: actor.displayName ?? actor.username ?? actor.id,
      institution: actor.institution ?? '',
      title: input.title,
      purposeCode: input.purposeCode,
      purpose: input.purpose,
      academicStatement: input.academicStatement,
      scope: { datasetIds: [...new Set(input.scope.datasetIds)], modalities: input.scope.modalities, fields: input.scope.fields },
      requestedDurationDays: input.requestedDurationDays,
      agreement: { version: input.agreementVersion, acceptedAt: now },
      attachments: (input.attachments ?? []).map((a, i) => ({ ...a, attachmentId: `${requestId}-att-${i + 1}`, version: 1, uploadedAt: now })),
      securityLevel,
      patientCount,
      approvalChain: approvalChainFor(securityLevel, patientCount),
      reviewType: input.reviewType ?? (securityLevel >= 4 ? 'full-board' : 'expedited'),
      status: 'ethics-review',
      history: [{ at: now, actorId: actor.id, actorName: actor.displayName, action: input.renewsGrantId ? 'submitted-renewal' : 'submitted' }],
      ...(input.renewsGrantId ? { renewsGrantId: input.renewsGrantId } : {}),
      ...(actor.kind === 'partner' ? { partnerId: actor.id, ...(input.onBehalfOf ? { onBehalfOf: input.onBehalfOf } : {}) } : {}),
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    await this.store.put('main', this.item(request), { ifNotExists: true });
    try {
      await this.workflow.start('access-request', requestId, { requestId, approvalChain: request.approvalChain, reviewTimeoutSeconds: this.reviewTimeoutSeconds });
    } catch (e) {
      await this.mutate(requestId, (r) => ({ ...r, status: 'failed', history: [...r.history, { at: now, actorId: 'system', action: 'workflow-start-failed' }] }));
      throw new DomainError('DEPENDENCY_UNAVAILABLE', 'the approval workflow could not be started', { requestId }, { cause: e });
    }
    return request;
  }

  /**
   * R-SEC-3/R-SEC-6: a partner system holds the grants of the requests it submits, and the policy
   * set forbids some data levels to partner systems (`sensitive-data-never-to-partner-systems`:
   * level 4-5 is read only by a person in an MFA session). Such a request could only produce a
   * grant its holder can never use, so it is refused up front; the same Cedar decision as at read
   * time is asked, so a runtime policy change moves both.
   */
  private checkPartnerMayHold(actor: Actor, securityLevel: number): void {
    const d = this.authorizer.decide({ actor, action: 'ReadResearchData', resource: { type: 'Grant', id: 'grt_requested', attributes: { partner: `partner:${actor.id}`, institution: actor.institution ?? '' } }, context: { dataLevel: securityLevel } });
    const forbids = d.policyIds.filter((id) => id.startsWith('sensitive-data-never-to-partner'));
    if (d.effect !== 'allow' && forbids.length) {
      throw new ForbiddenError(`data of level ${securityLevel} is never released to partner systems; the researcher requests it in the portal`, { reason: 'NOT_FOR_PARTNER_SYSTEMS', securityLevel, policyIds: forbids });
    }
  }

  /** A request, if the caller may read it (applicant, or a governance role). */
  async get(actor: Actor, requestId: string): Promise<AccessRequest> {
    const request = await this.load(requestId);
    const d = this.authorizer.decide({ actor, action: 'ReadAccessRequest', resource: this.resource(request) });
    // Not-found rather than forbidden: do not reveal that someone else's request exists.
    if (d.effect !== 'allow') throw new NotFoundError('access request', { requestId });
    return request;
  }

  /**
   * `mine`: the caller's own requests; `queue`: requests waiting for a decision by one of the
   * caller's roles; `all`: every request (governance roles only).
   */
  async list(actor: Actor, view: 'mine' | 'queue' | 'all'): Promise<AccessRequest[]> {
    if (view === 'mine') {
      const page = await this.store.query<RequestItem>('main', { index: 'gsi1', pk: `APPLICANT#${actor.id}`, ascending: false, limit: 500 });
      return page.items.map((i) => i.request);
    }
    if (view === 'queue') {
      const roles = actor.roles.filter((r) => ['ethics-reviewer', 'approver', 'data-owner', 'security-admin'].includes(r));
      const pages = await Promise.all(roles.map((r) => this.store.query<RequestItem>('main', { index: 'gsi2', pk: `QUEUE#${r}`, limit: 500 })));
      // Reviewers never see their own request in their queue (no self-approval).
      return pages.flatMap((p) => p.items.map((i) => i.request)).filter((r) => r.applicantId !== actor.id);
    }
    if (!actor.roles.some((r) => ['auditor', 'security-admin', 'approver', 'ethics-reviewer'].includes(r))) throw new ForbiddenError('only governance roles list all requests');
    const keys = [...ALL_STATUSES.map((s) => `STATUS#${s}`), ...['ethics-reviewer', 'approver', 'data-owner', 'security-admin'].map((r) => `QUEUE#${r}`)];
    const pages = await Promise.all(keys.map((pk) => this.store.query<RequestItem>('main', { index: 'gsi2', pk, limit: 1000 })));
    return pages.flatMap((p) => p.items.map((i) => i.request)).sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
  }

  /** A reviewer's decision on the pending step. Refused if not theirs to take, or already taken. */
  async decide(actor: Actor, requestId: string, input: DecisionInput): Promise<AccessRequest> {
    const request = await this.load(requestId);
    const d = this.authorizer.decide({ actor, action: 'DecideAccessRequest', resource: this.resource(request) });
    if (d.effect !== 'allow') throw new ForbiddenError('you may not decide this request', { requestId, policyIds: d.policyIds });
    const pending = request.pending;
    if (!pending || pending.kind !== 'review') throw new ConflictError('the request is not waiting for a review decision', { requestId, status: request.status });
    if (pending.step !== input.step) throw new ConflictError(`the ${input.step} step is not open (open: ${pending.step})`, { requestId, step: input.step, openStep: pending.step });
    if (!actor.roles.includes(roleForStep(pending.step) as never)) throw new ForbiddenError(`this step is decided by the ${roleForStep(pending.step)} role`, { requestId, step: pending.step });
    // R-SEC-6: the step is part of the decision's context (the security admin's step needs MFA).
    const stepDecision = this.authorizer.decide({ actor, action: 'DecideAccessRequest', resource: this.resource(request), context: { step: pending.step } });
    if (stepDecision.effect !== 'allow') {
      const mfa = stepDecision.policyIds.some((id) => id.startsWith('mfa-required'));
      throw new ForbiddenError(mfa ? 'this decision needs a multi-factor authenticated session' : 'you may not decide this step', { requestId, step: pending.step, policyIds: stepDecision.policyIds, ...(mfa ? { reason: 'MFA_REQUIRED' } : {}) });
    }
    if (!OUTCOMES_BY_STEP[pending.step].includes(input.outcome)) {
      throw new ValidationError('outcome not allowed at this step', { field: 'outcome', allowed: OUTCOMES_BY_STEP[pending.step] });
    }
    if (input.outcome !== 'approved' && !input.comment?.trim()) throw new ValidationError('a reason is required', { field: 'comment' });
    if (pending.decision) {
      // The same decision sent again (e.g. after a timeout) is re-delivered; any other is a conflict.
      if (pending.decision.decidedBy !== actor.id || pending.decision.outcome !== input.outcome) throw new ConflictError('this step was already decided', { requestId });
    }
    const now = new Date(this.clock.now()).toISOString();
    const decision = { outcome: input.outcome, decidedBy: actor.id, ...(input.comment ? { comment: input.comment } : {}), at: now };
    const updated: AccessRequest = {
      ...request,
      pending: { ...pending, decision },
      history: pending.decision ? request.history : [...request.history, { at: now, actorId: actor.id, actorName: actor.displayName, action: input.outcome, step: pending.step, ...(input.comment ? { comment: input.comment } : {}) }],
      updatedAt: now,
      version: request.version + 1,
    };
    await this.store.put('main', this.item(updated), { expectedVersion: request.version });
    try {
      await this.workflow.sendTaskSuccess(pending.taskToken, { outcome: input.outcome, decidedBy: actor.id, comment: input.comment ?? '' });
    } catch (e) {
      if (e instanceof ConflictError || e instanceof NotFoundError) {
        // The token is spent or timed out: the decision did not count. Undo it.
        await this.mutate(requestId, (r) => (r.pending?.taskToken === pending.taskToken ? { ...r, pending: { ...pending }, history: r.history.slice(0, -1) } : r));
        throw new ConflictError('the review step is no longer open', { requestId }, { cause: e });
      }
      throw e;
    }
    return updated;
  }

  /** The applicant answers a changes-requested / more-info step (optionally amending the request). */
  async respond(actor: Actor, requestId: string, input: ApplicantResponseInput): Promise<AccessRequest> {
    const request = await this.load(requestId);
    if (request.applicantId !== actor.id) throw new NotFoundError('access request', { requestId });
    const pending = request.pending;
    if (!pending || pending.kind !== 'applicant' || pending.decision) throw new ConflictError('the request is not waiting for your answer', { requestId, status: request.status });
    const a = input.amendments ?? {};
    if (a.requestedDurationDays !== undefined && a.requestedDurationDays > MAX_REQUEST_DAYS) throw new ValidationError(`duration beyond policy (max ${MAX_REQUEST_DAYS} days)`, { field: 'amendments.requestedDurationDays' });
    if (a.scope && pending.step !== 'ethics') throw new ValidationError('the scope can only be amended during ethics review', { field: 'amendments.scope' });
    const now = new Date(this.clock.now()).toISOString();
    const updated: AccessRequest = {
      ...request,
      ...(a.title ? { title: a.title } : {}),
      ...(a.purpose ? { purpose: a.purpose } : {}),
      ...(a.academicStatement ? { academicStatement: a.academicStatement } : {}),
      ...(a.requestedDurationDays ? { requestedDurationDays: a.requestedDurationDays } : {}),
      ...(a.scope ? { scope: a.scope } : {}),
      pending: { ...pending, decision: { outcome: 'answered', decidedBy: actor.id, comment: input.comment, at: now } },
      history: [...request.history, { at: now, actorId: actor.id, actorName: actor.displayName, action: Object.keys(a).length ? 'amended' : 'answered', step: pending.step, comment: input.comment }],
      updatedAt: now,
      version: request.version + 1,
    };
    await this.store.put('main', this.item(updated), { expectedVersion: request.version });
    await this.workflow.sendTaskSuccess(pending.taskToken, { outcome: 'answered', decidedBy: actor.id, comment: input.comment });
    return updated;
  }

  /** Runs one task of the state machine (the workflow-tasks Lambda, or the local runner). */
  async runWorkflowTask(p: WorkflowTaskPayload): Promise<Record<string, unknown>> {
    const now = new Date(this.clock.now()).toISOString();
    switch (p.task) {
      case 'openReviewStep':
      case 'awaitApplicant': {
        const step = p.step ?? 'ethics';
        const kind = p.task === 'openReviewStep' ? 'review' : 'applicant';
        const role = kind === 'review' ? roleForStep(step) : 'applicant';
        const status: RequestStatus = kind === 'review' ? (step === 'ethics' ? 'ethics-review' : 'approval') : step === 'ethics' ? 'changes-requested' : 'more-info';
        const r = await this.mutate(p.requestId, (r) => ({
          ...r,
          status,
          pending: { kind, step, stepIndex: p.stepIndex ?? -1, role, taskToken: requireToken(p), openedAt: now, escalations: r.pending?.step === step && r.pending.kind === kind ? r.pending.escalations : 0 },
        }));
        await this.notifier.notify(
          kind === 'review'
            ? { to: `role:${role}`, category: 'review-task', subject: `Review needed: ${r.requestId}`, body: `Access request ${r.requestId} waits for the ${step} decision.`, refs: { requestId: r.requestId } }
            : { to: r.applicantId, category: 'request-status', subject: `Your answer is needed: ${r.requestId}`, body: `The ${step} reviewer asked for ${step === 'ethics' ? 'changes' : 'more information'}.`, refs: { requestId: r.requestId } },
        );
        return { opened: step };
      }
      case 'escalateReviewStep': {
        const r = await this.mutate(p.requestId, (r) => ({
          ...r,
          ...(r.pending ? { pending: { ...r.pending, escalations: r.pending.escalations + 1 } } : {}),
          history: [...r.history, { at: now, actorId: 'system', action: 'escalated', ...(p.step ? { step: p.step } : {}) }],
        }));
        await this.notifier.notify({ to: 'role:security-admin', category: 'review-task', subject: `Overdue review: ${r.requestId}`, body: `The ${p.step ?? 'review'} step of ${r.requestId} is overdue.`, refs: { requestId: r.requestId } });
        return { escalated: true };
      }
      case 'issueGrant': {
        const request = await this.load(p.requestId);
        // Continuing review (R-GOV-5, R-GOV-8): an approved renewal extends the existing grant.
        const grant = request.renewsGrantId ? await this.grants.renewFrom(request) : await this.grants.issueFor(request);
        if (!request.renewsGrantId) await this.releases?.buildRelease(grant);
        await this.mutate(p.requestId, (r) => ({ ...r, status: 'approved', grantId: grant.grantId, pending: undefined, history: r.grantId ? r.history : [...r.history, { at: now, actorId: 'system', action: 'grant-issued' }] }));
        return { grantId: grant.grantId };
      }
      case 'closeRequest': {
        const r = await this.mutate(p.requestId, (r) => ({ ...r, status: 'rejected', pending: undefined, history: r.status === 'rejected' ? r.history : [...r.history, { at: now, actorId: 'system', action: 'closed-rejected' }] }));
        const reason = [...r.history].reverse().find((h) => h.action === 'rejected')?.comment;
        await this.notifier.notify({ to: r.applicantId, category: 'request-status', subject: `Request ${r.requestId} rejected`, body: reason ? `Reason: ${reason}` : 'Your request was rejected.', refs: { requestId: r.requestId } });
        return { closed: 'rejected' };
      }
      case 'markFailed': {
        await this.mutate(p.requestId, (r) => ({ ...r, status: 'failed', pending: undefined, history: [...r.history, { at: now, actorId: 'system', action: 'failed', comment: errorName(p.error) }] }));
        return { failed: true };
      }
    }
  }

  /**
   * A renewal (continuing review) is asked by the grant's holder, for a grant not revoked, with
   * the grant's own scope and purpose, and only one at a time per grant.
   */
  private async checkRenewable(actor: Actor, input: SubmitAccessRequestInput): Promise<void> {
    const grantId = input.renewsGrantId!;
    const grant = await this.grants.get(grantId).catch(() => undefined);
    if (!grant || grant.holderId !== actor.id) throw new NotFoundError('grant', { grantId });
    if (grant.status === 'revoked') throw new ConflictError('a revoked grant cannot be renewed', { grantId });
    const same = (a: string[], b: string[]) => a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
    if (!same(input.scope.datasetIds, grant.scope.datasetIds) || !same(input.scope.modalities, grant.scope.modalities) || !same(input.scope.fields, grant.scope.fields) || input.purposeCode !== grant.purposeCode) {
      throw new ValidationError('a renewal keeps the grant\'s scope and purpose (submit a new request to change them)', { field: 'scope', grantId });
    }
    const open = (await this.list(actor, 'mine')).find((r) => r.renewsGrantId === grantId && !['approved', 'rejected', 'failed'].includes(r.status));
    if (open) throw new ConflictError('a renewal of this grant is already under review', { grantId, requestId: open.requestId });
  }

  /** A request without an authorization check: for services that decide access themselves. */
  async getUnchecked(requestId: string): Promise<AccessRequest> {
    return this.load(requestId);
  }

  /** Lists a stored document (R-GOV-9) on the request and in its history. */
  async recordAttachment(requestId: string, actor: Actor, attachment: Attachment): Promise<AccessRequest> {
    const now = new Date(this.clock.now()).toISOString();
    return this.mutate(requestId, (r) => ({
      ...r,
      attachments: [...r.attachments.filter((a) => a.attachmentId !== attachment.attachmentId), attachment],
      history: [...r.history, { at: now, actorId: actor.id, actorName: actor.displayName, action: 'document-attached', comment: `${attachment.kind} v${attachment.version}: ${attachment.fileName}` }],
    }));
  }

  private async load(requestId: string): Promise<AccessRequest> {
    const item = await this.store.get<RequestItem>('main', { pk: `REQUEST#${requestId}`, sk: 'REQUEST' });
    if (!item) throw new NotFoundError('access request', { requestId });
    return item.request;
  }

  /** Read-modify-write with optimistic locking, retried on concurrent change (system tasks only). */
  private async mutate(requestId: string, fn: (r: AccessRequest) => AccessRequest): Promise<AccessRequest> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.load(requestId);
      const next = { ...fn(current), updatedAt: new Date(this.clock.now()).toISOString(), version: current.version + 1 };
      try {
        await this.store.put('main', this.item(next), { expectedVersion: current.version });
        return next;
      } catch (e) {
        if (!(e instanceof ConflictError) || attempt >= 4) throw e;
      }
    }
  }

  private resource(r: AccessRequest) {
    return { type: 'AccessRequest' as const, id: r.requestId, attributes: { applicant: `user:${r.applicantId}`, institution: r.institution, ...(r.partnerId ? { partner: `partner:${r.partnerId}` } : {}) } };
  }

  private item(r: AccessRequest): RequestItem {
    const waitingReview = r.pending && r.pending.kind === 'review' && !r.pending.decision;
    return {
      pk: `REQUEST#${r.requestId}`,
      sk: 'REQUEST',
      gsi1pk: `APPLICANT#${r.applicantId}`,
      gsi1sk: r.createdAt,
      gsi2pk: waitingReview ? `QUEUE#${r.pending!.role}` : `STATUS#${r.status}`,
      gsi2sk: r.createdAt,
      version: r.version,
      request: r,
    };
  }

  /** Unique, human-readable request numbers: AR-<year>-<6-digit sequence>. */
  private async nextRequestNumber(): Promise<string> {
    const year = new Date(this.clock.now()).getUTCFullYear();
    for (let attempt = 0; attempt < 20; attempt++) {
      const key = { pk: 'COUNTER', sk: `access-request-${year}` };
      const current = await this.store.get<Item & { value: number; version: number }>('main', key);
      const value = (current?.value ?? 0) + 1;
      try {
        await this.store.put('main', { ...key, value, version: value }, { expectedVersion: current?.version ?? 0 });
        return `AR-${year}-${String(value).padStart(6, '0')}`;
      } catch (e) {
        if (!(e instanceof ConflictError)) throw e;
      }
    }
    throw new ConflictError('could not allocate a request number');
  }
}

function requireToken(p: WorkflowTaskPayload): string {
  if (!p.taskToken) throw new ValidationError('task token missing', { task: p.task });
  return p.taskToken;
}

function errorName(e: unknown): string {
  if (e && typeof e === 'object' && 'Error' in e) return String((e as { Error: unknown }).Error);
  return 'unknown';
}
