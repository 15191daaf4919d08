import { NotFoundError, ValidationError } from '../errors';
import type { Actor } from '../identity/actor';
import type { Clock } from '../ports/clock';
import type { AccessRequest } from './access-request';
import { MAX_REQUEST_DAYS, type AccessRequestService } from './access-request-service';
import type { GrantService } from './grant-service';

export interface RenewalInput {
  /** The end the holder asks for (ISO date-time, after the grant's current end). */
  expiresAt: string;
  /** Why the access is still needed (progress, remaining work): the continuing-review statement. */
  justification: string;
  agreementVersion: string;
  agreementAccepted: boolean;
}

const DAY = 86_400_000;

/**
 * Continuing review (R-GOV-5, R-GOV-8): the grant holder asks to extend a grant. The renewal is
 * an access request of its own (kind renewal, `renewsGrantId`) with the grant's scope and
 * purpose, through the same workflow (ethics, then the approval chain). On approval the grant is
 * extended (`GrantService.renewFrom`); a rejection leaves the grant as it is.
 */
export class GrantRenewals {
  constructor(
    private readonly grants: GrantService,
    private readonly requests: AccessRequestService,
    private readonly clock: Clock,
  ) {}

  async request(actor: Actor, grantId: string, input: RenewalInput): Promise<AccessRequest> {
    const grant = await this.grants.get(grantId).catch(() => undefined);
    if (!grant || grant.holderId !== actor.id) throw new NotFoundError('grant', { grantId });
    const wanted = Date.parse(input.expiresAt);
    const from = Math.max(Date.parse(grant.expiresAt), this.clock.now());
    if (!Number.isFinite(wanted) || wanted <= from) throw new ValidationError('the new end must be after the grant\'s current end', { field: 'expiresAt', currentExpiresAt: grant.expiresAt });
    const days = Math.ceil((wanted - from) / DAY);
    if (days > MAX_REQUEST_DAYS) throw new ValidationError(`a renewal extends by at most ${MAX_REQUEST_DAYS} days`, { field: 'expiresAt', maxDays: MAX_REQUEST_DAYS });
    const original = await this.requests.getUnchecked(grant.requestId);
    return this.requests.submit(actor, {
      title: `Renewal: ${original.title}`.slice(0, 200),
      purposeCode: grant.purposeCode,
      purpose: original.purpose,
      academicStatement: input.justification,
      scope: grant.scope,
      requestedDurationDays: days,
      agreementVersion: input.agreementVersion,
      agreementAccepted: input.agreementAccepted,
      renewsGrantId: grantId,
    });
  }
}
