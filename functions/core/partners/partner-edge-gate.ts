import type { AccessTokenVerifier } from '../ports/access-token-verifier';
import type { Clock } from '../ports/clock';
import { decidePartnerEdge, type EdgeTokenFacts, type PartnerEdgeDecision } from './partner-edge-decision';
import type { PartnerService } from './partner-service';
import type { UsageMeter } from './usage-meter';

/** The parts of a partner call the edge looks at. */
export interface PartnerEdgeRequest {
  /** Value of the `x-api-key` header. */
  apiKey?: string;
  /** Value of the `Authorization` header. */
  authorization?: string;
  /** TCP peer address (API Gateway `sourceIp`); never a forwarded-for header. */
  sourceIp: string;
  /** Scopes of which the route needs one (see `partnerScopesForRoute`). */
  requiredScopes: readonly string[] | undefined;
}

/**
 * Gathers the facts of a partner call (key record by hash, partner record, verified token) and
 * applies {@link decidePartnerEdge}. Used by the local HTTP front (with a {@link UsageMeter}) and
 * by the AWS Lambda REQUEST authorizer (without: API Gateway meters the key with its usage plan).
 */
export class PartnerEdgeGate {
  constructor(
    private readonly partners: PartnerService,
    private readonly tokens: AccessTokenVerifier,
    private readonly clock: Clock,
    private readonly meter?: UsageMeter,
  ) {}

  async check(req: PartnerEdgeRequest): Promise<PartnerEdgeDecision> {
    const apiKey = req.apiKey?.trim();
    const found = apiKey ? await this.partners.edgeFacts(apiKey) : {};
    const meter = this.meter;
    return decidePartnerEdge(
      {
        apiKeyPresented: Boolean(apiKey),
        ...found,
        sourceIp: req.sourceIp,
        token: await this.token(req.authorization),
        requiredScopes: req.requiredScopes,
        now: this.clock.now(),
      },
      meter ? (keyId, limits) => meter.take(keyId, limits) : undefined,
    );
  }

  private async token(authorization: string | undefined): Promise<EdgeTokenFacts> {
    if (!authorization) return { kind: 'missing' };
    const bearer = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
    if (!bearer) return { kind: 'invalid', reason: 'malformed' };
    return this.tokens.verify(bearer);
  }
}
