import { ConflictError, NotFoundError, ValidationError } from '../errors';
import type { Actor } from '../identity/actor';
import type { ApiKeyIssuer } from '../ports/api-key-issuer';
import type { Clock } from '../ports/clock';
import type { DocumentStore, Item } from '../ports/document-store';
import type { IdGenerator } from '../ports/id-generator';

/** Scopes a partner system may be granted (OAuth 2.0 client-credentials scopes, R-INT-1). */
export const PARTNER_SCOPES = ['catalog.read', 'access-requests.write', 'access-requests.read', 'grants.read', 'fhir.read', 'ingest.write'] as const;
export type PartnerScope = (typeof PARTNER_SCOPES)[number];

export interface PartnerKey {
  keyId: string;
  plan: string;
  status: 'active' | 'revoked';
  issuedAt: string;
  revokedAt?: string;
}

/** A partner system onboarded by a platform administrator (R-INT-1, R-SEC-7). */
export interface Partner {
  partnerId: string;
  name: string;
  institution: string;
  contactEmail: string;
  /** Source IP ranges (CIDR) the partner may call from (WAF IP set in AWS). */
  allowedCidrs: string[];
  scopes: PartnerScope[];
  plan: string;
  status: 'active' | 'suspended';
  keys: PartnerKey[];
  createdAt: string;
  createdBy: string;
  version: number;
}

export interface OnboardPartnerInput {
  name: string;
  institution: string;
  contactEmail: string;
  allowedCidrs: string[];
  scopes: PartnerScope[];
  plan?: string;
}

type PartnerItem = Item & { partner: Partner };

/** Usage plans a partner can be put on (rate, burst and quota are configured with the plan). */
export const PARTNER_PLANS = ['default'] as const;

/**
 * Partner onboarding and API keys. Keys are issued through the port (API Gateway in AWS) and the
 * value is handed out once; the platform keeps only the key id.
 */
export class PartnerService {
  constructor(
    private readonly store: DocumentStore,
    private readonly keys: ApiKeyIssuer,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  async onboard(actor: Actor, input: OnboardPartnerInput): Promise<{ partner: Partner; apiKey: string }> {
    const plan = input.plan ?? 'default';
    if (!(PARTNER_PLANS as readonly string[]).includes(plan)) throw new ValidationError('unknown usage plan', { field: 'plan', allowed: PARTNER_PLANS });
    const partnerId = this.ids.next('ptn');
    const issued = await this.keys.issue(partnerId, plan);
    const now = new Date(this.clock.now()).toISOString();
    const partner: Partner = {
      partnerId,
      name: input.name,
      institution: input.institution,
      contactEmail: input.contactEmail,
      allowedCidrs: input.allowedCidrs,
      scopes: [...new Set(input.scopes)],
      plan,
      status: 'active',
      keys: [{ keyId: issued.keyId, plan, status: 'active', issuedAt: now }],
      createdAt: now,
      createdBy: actor.id,
      version: 1,
    };
    await this.store.put('main', this.item(partner), { ifNotExists: true });
    return { partner, apiKey: issued.value };
  }

  async list(): Promise<Partner[]> {
    const page = await this.store.query<PartnerItem>('main', { index: 'gsi1', pk: 'PARTNERS', limit: 1000 });
    return page.items.map((i) => i.partner);
  }

  async get(partnerId: string): Promise<Partner> {
    const item = await this.store.get<PartnerItem>('main', { pk: `PARTNER#${partnerId}`, sk: 'PARTNER' });
    if (!item) throw new NotFoundError('partner', { partnerId });
    return item.partner;
  }

  /** Revokes one of a partner's keys; the key stops working at the edge. */
  async revokeKey(partnerId: string, keyId: string): Promise<Partner> {
    const partner = await this.get(partnerId);
    const key = partner.keys.find((k) => k.keyId === keyId);
    if (!key) throw new NotFoundError('API key', { partnerId, keyId });
    if (key.status === 'revoked') throw new ConflictError('the key is already revoked', { keyId });
    await this.keys.revoke(keyId);
    const next: Partner = {
      ...partner,
      keys: partner.keys.map((k) => (k.keyId === keyId ? { ...k, status: 'revoked' as const, revokedAt: new Date(this.clock.now()).toISOString() } : k)),
      version: partner.version + 1,
    };
    await this.store.put('main', this.item(next), { expectedVersion: partner.version });
    return next;
  }

  private item(p: Partner): PartnerItem {
    return { pk: `PARTNER#${p.partnerId}`, sk: 'PARTNER', gsi1pk: 'PARTNERS', gsi1sk: p.createdAt, version: p.version, partner: p };
  }
}
