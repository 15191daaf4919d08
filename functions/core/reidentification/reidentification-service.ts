import { isGrantUsable, type Grant } from '../access/grant';
import type { GrantService } from '../access/grant-service';
import type { Authorizer, AuthzResource } from '../authz/authorizer';
import { ConflictError, ForbiddenError, GoneError, NotFoundError, ValidationError } from '../errors';
import type { Actor } from '../identity/actor';
import type { PatientIdentity } from '../patients/patient-index';
import type { Clock } from '../ports/clock';
import type { DocumentStore, Item } from '../ports/document-store';
import type { IdGenerator } from '../ports/id-generator';
import type { Notifier } from '../ports/notifier';
import {
  REIDENTIFICATION_APPROVER_ROLES,
  REIDENTIFICATION_VIEW_DAYS,
  type ReidentificationApproverRole,
  type ReidentificationReason,
  type ReidentificationRequest,
  type ReidentificationResult,
} from './reidentification-request';

/** The part of the identity vault re-identification reads (PatientIndex implements it). */
export interface IdentityVault {
  identities(patientId: string): Promise<Array<{ sourcePatientId: string; institution: string; identity: PatientIdentity }>>;
}

export interface ReidentificationRequestInput {
  grantId: string;
  token: string;
  reason: ReidentificationReason;
  justification: string;
}

export interface ReidentificationDecisionInput {
  outcome: 'approved' | 'rejected';
  comment?: string;
}

type RequestItem = Item & { request: ReidentificationRequest };
const DAY = 86_400_000;
const NOTICE =
  'Shown once. Pass it only to the treating institution named here, through its clinical channel; do not copy it into research data. This view is audited.';

/**
 * The controlled re-identification procedure (R-DEID-3). State lives in the document store
 * (`REID#<id>`), every transition is a versioned conditional write, and the revealed data is read
 * from the identity vault at view time only — it is never stored with the request.
 *
 * Rules: only the holder of a usable grant may ask, for a pseudonym of that grant's release; an
 * ethics reviewer AND a security administrator approve, two distinct people, neither the
 * requester (also enforced by a Cedar `forbid`); one rejection closes the request; the requester
 * views the result once within {@link REIDENTIFICATION_VIEW_DAYS} days of approval, while the
 * grant is still usable; a second view is refused as gone (410).
 */
export class ReidentificationService {
  constructor(
    private readonly store: DocumentStore,
    private readonly grants: GrantService,
    private readonly vault: IdentityVault,
    private readonly notifier: Notifier,
    private readonly authorizer: Authorizer,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  /** A grant holder asks for one released pseudonym to be resolved. */
  async request(actor: Actor, input: ReidentificationRequestInput): Promise<ReidentificationRequest> {
    if (input.justification.trim().length < 20) throw new ValidationError('a justification of at least 20 characters is required', { field: 'justification' });
    await this.usableGrant(actor, input.grantId);
    await this.releasedPatientId(input.grantId, input.token);
    const now = new Date(this.clock.now()).toISOString();
    const request: ReidentificationRequest = {
      requestId: this.ids.next('rid'),
      grantId: input.grantId,
      token: input.token,
      requesterId: actor.id,
      requesterName: actor.displayName ?? actor.username ?? actor.id,
      reason: input.reason,
      justification: input.justification.trim(),
      status: 'pending',
      approvals: [],
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    await this.store.put('main', this.item(request), { ifNotExists: true });
    for (const role of REIDENTIFICATION_APPROVER_ROLES) {
      await this.notifier.notify({ to: `role:${role}`, category: 'review-task', subject: `Re-identification request ${request.requestId}`, body: `A re-identification request (${input.reason}) on grant ${input.grantId} waits for your decision.`, refs: { reidentificationRequestId: request.requestId, grantId: input.grantId } });
    }
    return request;
  }

  /** A request, for its requester or an approver role (others: not found; auditors read the audit trail). */
  async get(actor: Actor, requestId: string): Promise<ReidentificationRequest> {
    const r = await this.load(requestId);
    if (r.requesterId !== actor.id && !actor.roles.some((x) => (REIDENTIFICATION_APPROVER_ROLES as readonly string[]).includes(x))) throw new NotFoundError('re-identification request', { requestId });
    return this.withExpiry(r);
  }

  /**
   * `mine`: the caller's requests; `queue`: pending requests the caller may still decide (a role
   * whose slot is open, not their own, not already decided by them).
   */
  async list(actor: Actor, view: 'mine' | 'queue'): Promise<ReidentificationRequest[]> {
    if (view === 'mine') {
      const page = await this.store.query<RequestItem>('main', { index: 'gsi1', pk: `REIDREQUESTER#${actor.id}`, ascending: false, limit: 500 });
      return page.items.map((i) => this.withExpiry(i.request));
    }
    const page = await this.store.query<RequestItem>('main', { index: 'gsi2', pk: 'REIDQUEUE#pending', ascending: true, limit: 500 });
    return page.items.map((i) => i.request).filter((r) => r.status === 'pending' && this.openSlotFor(actor, r) !== undefined);
  }

  /** An approver's decision. Each slot (ethics, security) is filled once, by a distinct person. */
  async decide(actor: Actor, requestId: string, input: ReidentificationDecisionInput): Promise<ReidentificationRequest> {
    const r = await this.load(requestId);
    const d = this.authorizer.decide({ actor, action: 'DecideReidentification', resource: this.resource(r) });
    if (d.effect !== 'allow') throw new ForbiddenError('you may not decide this re-identification request', { requestId, policyIds: d.policyIds });
    if (r.status !== 'pending') throw new ConflictError(`the request is ${r.status}`, { requestId, status: r.status });
    if (r.approvals.some((a) => a.decidedBy === actor.id)) throw new ForbiddenError('the two approvals must come from two different people', { requestId });
    const role = this.openSlotFor(actor, r);
    if (!role) throw new ForbiddenError('no open approval step for your roles (ethics reviewer and security administrator each decide once)', { requestId });
    if (input.outcome === 'rejected' && !input.comment?.trim()) throw new ValidationError('a reason is required', { field: 'comment' });
    // A grant revoked or expired meanwhile cannot be the basis of an approval.
    const grant = await this.grants.get(r.grantId);
    if (input.outcome === 'approved' && !isGrantUsable(grant, this.clock.now())) throw new ConflictError('the grant is no longer usable', { requestId, grantId: r.grantId, grantStatus: grant.status });
    const now = new Date(this.clock.now()).toISOString();
    const who = { role, decidedBy: actor.id, ...(actor.displayName ? { decidedByName: actor.displayName } : {}), at: now };
    let next: ReidentificationRequest;
    if (input.outcome === 'rejected') {
      next = { ...r, status: 'rejected', rejection: { ...who, comment: input.comment!.trim() }, updatedAt: now, version: r.version + 1 };
    } else {
      const approvals = [...r.approvals, { ...who, ...(input.comment?.trim() ? { comment: input.comment.trim() } : {}) }];
      const done = REIDENTIFICATION_APPROVER_ROLES.every((x) => approvals.some((a) => a.role === x));
      next = {
        ...r,
        approvals,
        ...(done ? { status: 'approved' as const, approvedAt: now, viewableUntil: new Date(this.clock.now() + REIDENTIFICATION_VIEW_DAYS * DAY).toISOString() } : {}),
        updatedAt: now,
        version: r.version + 1,
      };
    }
    await this.save(next, r.version);
    if (next.status !== 'pending') {
      await this.notifier.notify({ to: r.requesterId, category: 'request-status', subject: `Re-identification ${next.status}`, body: next.status === 'approved' ? `Request ${r.requestId} was approved. The result can be viewed once, until ${next.viewableUntil}.` : `Request ${r.requestId} was rejected.`, refs: { reidentificationRequestId: r.requestId } });
    }
    return next;
  }

  /**
   * The one-time view of the result, by the requester only. The vault is read first, then the
   * request is marked consumed with a conditional write; only the winner of that write gets the
   * result, so two concurrent views cannot both succeed.
   */
  async reveal(actor: Actor, requestId: string): Promise<ReidentificationResult> {
    const stored = await this.load(requestId);
    if (stored.requesterId !== actor.id) throw new NotFoundError('re-identification request', { requestId });
    const r = this.withExpiry(stored);
    if (r.status === 'consumed') throw new GoneError('the result was already viewed; it is shown only once', { requestId, consumedAt: r.consumedAt });
    if (r.status === 'expired') {
      if (stored.status !== 'expired') await this.save({ ...r, version: stored.version + 1 }, stored.version).catch(() => undefined);
      throw new GoneError('the approval lapsed before the result was viewed', { requestId, viewableUntil: r.viewableUntil });
    }
    if (r.status !== 'approved') throw new ConflictError(`the request is ${r.status}`, { requestId, status: r.status });
    await this.usableGrant(actor, r.grantId);
    const patientId = await this.releasedPatientId(r.grantId, r.token);
    const sources = (await this.vault.identities(patientId)).map((s) => ({ institution: s.institution, sourcePatientReference: s.sourcePatientId, ...(s.identity.mrn ? { mrn: s.identity.mrn } : {}) }));
    const now = new Date(this.clock.now()).toISOString();
    try {
      await this.save({ ...r, status: 'consumed', consumedAt: now, updatedAt: now, version: r.version + 1 }, r.version);
    } catch (e) {
      if (e instanceof ConflictError) throw new GoneError('the result was already viewed; it is shown only once', { requestId });
      throw e;
    }
    return { requestId, grantId: r.grantId, token: r.token, sources, revealedAt: now, notice: NOTICE };
  }

  /** The first approval role of the actor whose slot is still open, unless the actor may not decide. */
  private openSlotFor(actor: Actor, r: ReidentificationRequest): ReidentificationApproverRole | undefined {
    if (r.requesterId === actor.id || r.approvals.some((a) => a.decidedBy === actor.id)) return undefined;
    return REIDENTIFICATION_APPROVER_ROLES.find((role) => actor.roles.includes(role) && !r.approvals.some((a) => a.role === role));
  }

  private withExpiry(r: ReidentificationRequest): ReidentificationRequest {
    return r.status === 'approved' && r.viewableUntil && this.clock.now() >= Date.parse(r.viewableUntil) ? { ...r, status: 'expired' } : r;
  }

  /** Decision-time grant check, as for research reads: the holder, active, within its period. */
  private async usableGrant(actor: Actor, grantId: string): Promise<Grant> {
    const grant = await this.grants.get(grantId).catch(() => undefined);
    if (!grant || grant.holderId !== actor.id) throw new NotFoundError('grant', { grantId });
    if (!isGrantUsable(grant, this.clock.now())) throw new ForbiddenError('the grant is not usable (expired, revoked or not started)', { grantId, status: grant.status });
    return grant;
  }

  /** The internal patient id behind a pseudonym of a grant's release (ResearchAccessService's `RELEASE#` items). */
  private async releasedPatientId(grantId: string, token: string): Promise<string> {
    const item = await this.store.get<Item & { patientId: string }>('main', { pk: `RELEASE#${grantId}`, sk: `PT#${token}` });
    if (!item) throw new NotFoundError('patient', { token });
    return item.patientId;
  }

  private resource(r: ReidentificationRequest): AuthzResource {
    return { type: 'ReidentificationRequest', id: r.requestId, attributes: { requester: `user:${r.requesterId}`, grantId: r.grantId } };
  }

  private async load(requestId: string): Promise<ReidentificationRequest> {
    const item = await this.store.get<RequestItem>('main', { pk: `REID#${requestId}`, sk: 'REQUEST' });
    if (!item) throw new NotFoundError('re-identification request', { requestId });
    return item.request;
  }

  private async save(r: ReidentificationRequest, expectedVersion: number): Promise<void> {
    await this.store.put('main', this.item(r), { expectedVersion });
  }

  private item(r: ReidentificationRequest): RequestItem {
    return { pk: `REID#${r.requestId}`, sk: 'REQUEST', gsi1pk: `REIDREQUESTER#${r.requesterId}`, gsi1sk: r.createdAt, gsi2pk: `REIDQUEUE#${r.status}`, gsi2sk: r.createdAt, version: r.version, request: r };
  }
}
