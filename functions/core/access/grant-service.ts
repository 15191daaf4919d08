import { ConflictError, NotFoundError, ValidationError } from '../errors';
import type { Actor } from '../identity/actor';
import type { Clock } from '../ports/clock';
import type { DocumentStore, Item } from '../ports/document-store';
import type { IdGenerator } from '../ports/id-generator';
import type { Notifier } from '../ports/notifier';
import type { Scheduler } from '../ports/scheduler';
import type { AccessRequest } from './access-request';
import { DEFAULT_GRANT_DAYS, isGrantUsable, REMINDER_DAYS, type Grant } from './grant';

type GrantItem = Item & { grant: Grant };
const DAY = 86_400_000;

/**
 * Grants: issued once per approved request, expire by schedule AND at decision time, revocable
 * early by admins (R-GOV-5). Every change is a versioned conditional write.
 */
export class GrantService {
  constructor(
    private readonly store: DocumentStore,
    private readonly scheduler: Scheduler,
    private readonly notifier: Notifier,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  /** Issues the grant of an approved request (idempotent: a second call returns the same grant). */
  async issueFor(request: AccessRequest): Promise<Grant> {
    const existing = await this.store.get<Item & { grantId: string }>('main', { pk: `REQUEST#${request.requestId}`, sk: 'GRANT' });
    if (existing) return this.get(existing.grantId);
    const now = this.clock.now();
    const days = Math.min(DEFAULT_GRANT_DAYS, request.requestedDurationDays);
    const grant: Grant = {
      grantId: this.ids.next('grt'),
      requestId: request.requestId,
      holderId: request.applicantId,
      holderName: request.applicantName,
      ...(request.partnerId && request.partnerId === request.applicantId ? { holderKind: 'partner' as const } : {}),
      institution: request.institution,
      scope: request.scope,
      purposeCode: request.purposeCode,
      dataLevel: request.securityLevel,
      agreementVersion: request.agreement.version,
      startsAt: new Date(now).toISOString(),
      expiresAt: new Date(now + days * DAY).toISOString(),
      status: 'active',
      issuedAt: new Date(now).toISOString(),
      approvals: request.history.filter((h) => h.action === 'approved' && h.step).map((h) => ({ step: h.step!, decidedBy: h.actorId, at: h.at })),
      remindersSent: [],
      version: 1,
    };
    // The request→grant link and the grant are written together: a retry cannot issue twice.
    await this.store.transact([
      { kind: 'put', table: 'main', item: { pk: `REQUEST#${request.requestId}`, sk: 'GRANT', grantId: grant.grantId }, options: { ifNotExists: true } },
      { kind: 'put', table: 'main', item: this.item(grant), options: { ifNotExists: true } },
    ]);
    const expiresAt = Date.parse(grant.expiresAt);
    await this.scheduler.schedule({ name: `grant-expiry-${grant.grantId}`, type: 'grant-expiry', runAt: expiresAt, payload: { grantId: grant.grantId } });
    for (const d of REMINDER_DAYS) {
      const at = expiresAt - d * DAY;
      if (at > now) await this.scheduler.schedule({ name: `grant-reminder-${d}d-${grant.grantId}`, type: 'grant-reminder', runAt: at, payload: { grantId: grant.grantId, days: d } });
    }
    await this.notifier.notify({ to: grant.holderId, category: 'grant', subject: 'Access granted', body: `Your access request ${request.requestId} was approved until ${grant.expiresAt}.`, refs: { requestId: request.requestId, grantId: grant.grantId } });
    return grant;
  }

  /**
   * Applies an approved renewal (continuing review, R-GOV-5/R-GOV-8): the grant's end moves by
   * the approved duration (capped like a new grant: never longer than requested, at most
   * `DEFAULT_GRANT_DAYS`), counted from the current end, or from now if the grant lapsed while
   * the renewal was reviewed. The renewal is recorded in the grant's history; the reminder and
   * expiry schedules are replaced. Idempotent per request; a revoked grant is never revived.
   */
  async renewFrom(request: AccessRequest): Promise<Grant> {
    const grantId = request.renewsGrantId;
    if (!grantId) throw new ValidationError('not a renewal request', { requestId: request.requestId });
    const grant = await this.get(grantId);
    if (grant.renewals?.some((r) => r.requestId === request.requestId)) return grant;
    if (grant.holderId !== request.applicantId) throw new ConflictError('the renewal was not requested by the grant holder', { grantId });
    if (grant.status === 'revoked') throw new ConflictError('a revoked grant cannot be renewed', { grantId });
    const now = this.clock.now();
    const from = Math.max(Date.parse(grant.expiresAt), now);
    const days = Math.min(DEFAULT_GRANT_DAYS, request.requestedDurationDays);
    const expiresAt = new Date(from + days * DAY).toISOString();
    const renewal = {
      requestId: request.requestId,
      previousExpiresAt: grant.expiresAt,
      expiresAt,
      renewedAt: new Date(now).toISOString(),
      approvals: request.history.filter((h) => h.action === 'approved' && h.step).map((h) => ({ step: h.step!, decidedBy: h.actorId, at: h.at })),
    };
    const next: Grant = { ...grant, status: 'active', expiresAt, remindersSent: [], renewals: [...(grant.renewals ?? []), renewal], version: grant.version + 1 };
    await this.store.put('main', this.item(next), { expectedVersion: grant.version });
    // The old schedules are replaced (an old expiry firing late would be ignored anyway: expire()
    // checks the end at run time; old reminders would tell a wrong date).
    await this.scheduler.cancel(`grant-expiry-${grantId}`);
    for (const d of REMINDER_DAYS) await this.scheduler.cancel(`grant-reminder-${d}d-${grantId}`);
    await this.schedule(next, now);
    await this.notifier.notify({ to: grant.holderId, category: 'grant', subject: 'Access renewed', body: `Your renewal ${request.requestId} was approved: grant ${grantId} now ends at ${expiresAt}.`, refs: { requestId: request.requestId, grantId } });
    return next;
  }

  private async schedule(grant: Grant, now: number): Promise<void> {
    const expiresAt = Date.parse(grant.expiresAt);
    await this.scheduler.schedule({ name: `grant-expiry-${grant.grantId}`, type: 'grant-expiry', runAt: expiresAt, payload: { grantId: grant.grantId } });
    for (const d of REMINDER_DAYS) {
      const at = expiresAt - d * DAY;
      if (at > now) await this.scheduler.schedule({ name: `grant-reminder-${d}d-${grant.grantId}`, type: 'grant-reminder', runAt: at, payload: { grantId: grant.grantId, days: d } });
    }
  }

  async get(grantId: string): Promise<Grant> {
    const item = await this.store.get<GrantItem>('main', { pk: `GRANT#${grantId}`, sk: 'GRANT' });
    if (!item) throw new NotFoundError('grant', { grantId });
    return item.grant;
  }

  /** Grants of one holder (newest first), with their status as of now. */
  async listForHolder(holderId: string): Promise<Grant[]> {
    const page = await this.store.query<GrantItem>('main', { index: 'gsi1', pk: `HOLDER#${holderId}`, ascending: false, limit: 1000 });
    return page.items.map((i) => this.withStatus(i.grant));
  }

  /** Every grant (permission audit, R-GOV-6), newest first. */
  async listAll(): Promise<Grant[]> {
    const page = await this.store.query<GrantItem>('main', { index: 'gsi2', pk: 'GRANTS', ascending: false, limit: 1000 });
    return page.items.map((i) => this.withStatus(i.grant));
  }

  /** The holder's grants usable right now (decision-time expiry check). */
  async usableGrants(holderId: string): Promise<Grant[]> {
    const now = this.clock.now();
    return (await this.listForHolder(holderId)).filter((g) => isGrantUsable(g, now));
  }

  async revoke(actor: Actor, grantId: string, reason: string): Promise<Grant> {
    if (!reason.trim()) throw new ValidationError('a reason is required', { field: 'reason' });
    const grant = await this.get(grantId);
    if (grant.status !== 'active') throw new ConflictError(`grant is already ${grant.status}`, { grantId });
    const next: Grant = { ...grant, status: 'revoked', revokedAt: new Date(this.clock.now()).toISOString(), revokedBy: actor.id, revokeReason: reason, version: grant.version + 1 };
    await this.store.put('main', this.item(next), { expectedVersion: grant.version });
    await this.scheduler.cancel(`grant-expiry-${grantId}`);
    await this.notifier.notify({ to: grant.holderId, category: 'grant', subject: 'Access revoked', body: `Grant ${grantId} was revoked.`, refs: { grantId } });
    return next;
  }

  /** Scheduled job: marks the grant expired (idempotent; decision-time checks already deny). */
  async expire(grantId: string): Promise<Grant> {
    const grant = await this.get(grantId);
    if (grant.status !== 'active') return grant;
    if (this.clock.now() < Date.parse(grant.expiresAt)) return grant; // a schedule fired early: ignore
    const next: Grant = { ...grant, status: 'expired', version: grant.version + 1 };
    await this.store.put('main', this.item(next), { expectedVersion: grant.version });
    await this.notifier.notify({ to: grant.holderId, category: 'grant', subject: 'Access expired', body: `Grant ${grantId} has expired.`, refs: { grantId } });
    return next;
  }

  /** Scheduled job: reminds the holder `days` before expiry (once per reminder). */
  async remind(grantId: string, days: number): Promise<void> {
    const grant = await this.get(grantId);
    if (grant.status !== 'active' || grant.remindersSent.includes(days)) return;
    await this.store.put('main', this.item({ ...grant, remindersSent: [...grant.remindersSent, days], version: grant.version + 1 }), { expectedVersion: grant.version });
    await this.notifier.notify({ to: grant.holderId, category: 'grant', subject: `Access expires in ${days} days`, body: `Grant ${grantId} expires at ${grant.expiresAt}. Request a renewal if you still need it.`, refs: { grantId } });
  }

  private withStatus(g: Grant): Grant {
    return g.status === 'active' && this.clock.now() >= Date.parse(g.expiresAt) ? { ...g, status: 'expired' } : g;
  }

  private item(g: Grant): GrantItem {
    return { pk: `GRANT#${g.grantId}`, sk: 'GRANT', gsi1pk: `HOLDER#${g.holderId}`, gsi1sk: g.issuedAt, gsi2pk: 'GRANTS', gsi2sk: g.issuedAt, version: g.version, grant: g };
  }
}
