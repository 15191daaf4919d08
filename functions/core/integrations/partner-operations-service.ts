import type { AccessRequest, OnBehalfOf } from '../access/access-request';
import type { AccessRequestService, SubmitAccessRequestInput } from '../access/access-request-service';
import type { Grant } from '../access/grant';
import type { GrantService } from '../access/grant-service';
import { ForbiddenError } from '../errors';
import type { Actor } from '../identity/actor';
import type { Partner } from '../partners/partner-service';

/** A partner's submission: a request like a researcher's, plus the researcher it is for. */
export type PartnerAccessRequestInput = SubmitAccessRequestInput & { onBehalfOf: OnBehalfOf };

/** One grant as a partner system mirrors it (permission sync): who, what, status and validity. */
export interface SyncedGrant {
  grantId: string;
  requestId: string;
  holderId: string;
  holderName: string;
  institution: string;
  /** True when the grant came from a request this partner submitted. */
  viaPartner: boolean;
  datasetIds: string[];
  modalities: string[];
  purposeCode: string;
  dataLevel: number;
  status: Grant['status'];
  startsAt: string;
  expiresAt: string;
  revokedAt?: string;
}

/**
 * Partner business operations (R-INT-1): application review (submit and track access requests
 * for a named researcher of the partner's institution) and permission sync (the grants that apply
 * to the institution, with status and expiry). The edge has verified the API key and token; here
 * the partner record must exist and be active, and its institution — not anything the caller
 * sends — is the institution of what it submits and sees.
 */
export class PartnerOperationsService {
  constructor(
    private readonly partners: { get(partnerId: string): Promise<Partner> },
    private readonly requests: Pick<AccessRequestService, 'submit' | 'list' | 'get'>,
    private readonly grants: Pick<GrantService, 'listAll'>,
  ) {}

  /** Submits a request; the partner is the applicant, the researcher is named on the request. */
  async submit(actor: Actor, input: PartnerAccessRequestInput): Promise<AccessRequest> {
    const caller = await this.caller(actor);
    return this.requests.submit({ ...caller, displayName: input.onBehalfOf.name }, input);
  }

  /** The requests this partner submitted, newest first. */
  async listRequests(actor: Actor): Promise<AccessRequest[]> {
    return this.requests.list(await this.caller(actor), 'mine');
  }

  /** One of this partner's requests (another partner's, or a researcher's, is not found). */
  async getRequest(actor: Actor, requestId: string): Promise<AccessRequest> {
    return this.requests.get(await this.caller(actor), requestId);
  }

  /** Grants of the partner's institution, optionally by status, newest first (status as of now). */
  async syncGrants(actor: Actor, filter: { status?: Grant['status'] } = {}): Promise<SyncedGrant[]> {
    const caller = await this.caller(actor);
    const all = await this.grants.listAll();
    return all
      .filter((g) => g.institution === caller.institution && (!filter.status || g.status === filter.status))
      .map((g) => ({
        grantId: g.grantId,
        requestId: g.requestId,
        holderId: g.holderId,
        holderName: g.holderName,
        institution: g.institution,
        viaPartner: g.holderId === caller.id,
        datasetIds: g.scope.datasetIds,
        modalities: g.scope.modalities,
        purposeCode: g.purposeCode,
        dataLevel: g.dataLevel,
        status: g.status,
        startsAt: g.startsAt,
        expiresAt: g.expiresAt,
        ...(g.revokedAt ? { revokedAt: g.revokedAt } : {}),
      }));
  }

  /** The partner actor with its institution from the partner record (refused if not active). */
  private async caller(actor: Actor): Promise<Actor & { institution: string }> {
    if (actor.kind !== 'partner') throw new ForbiddenError('this operation is for partner systems');
    const partner = await this.partners.get(actor.id).catch(() => undefined);
    if (!partner || partner.status !== 'active') throw new ForbiddenError('the partner system is not active', { partnerId: actor.id });
    return { ...actor, institution: partner.institution };
  }
}
