import { createHash } from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import type { Actor } from '../identity/actor';
import type { ApiKeyIssuer } from '../ports/api-key-issuer';
import type { Clock } from '../ports/clock';
import type { DocumentStore, Item } from '../ports/document-store';
import type { IdGenerator } from '../ports/id-generator';
import type { OAuthClientRegistry } from '../ports/oauth-client-registry';
import type { Scheduler } from '../ports/scheduler';
import type { EdgeKeyFacts, EdgePartnerFacts } from './partner-edge-decision';
import { PARTNER_EDGE, PARTNER_PLANS, isPartnerPlan } from './usage-plans';

export { PARTNER_PLANS } from './usage-plans';

/** Scopes a partner system may be granted (OAuth 2.0 client-credentials scopes, R-INT-1). */
export const PARTNER_SCOPES = ['catalog.read', 'access-requests.write', 'access-requests.read', 'grants.read', 'fhir.read', 'ingest.write'] as const;
export type PartnerScope = (typeof PARTNER_SCOPES)[number];

/**
 * One API key of a partner. `retiring`: replaced by a rotation, still accepted until
 * `graceUntil`, then revoked by a one-time schedule (and refused at the edge at decision time).
 */
export interface PartnerKey {
  keyId: string;
  plan: string;
  status: 'active' | 'retiring' | 'revoked';
  issuedAt: string;
  graceUntil?: string;
  revokedAt?: string;
}

/** A partner system onboarded by a platform administrator (R-INT-1, R-SEC-7). */
export interface Partner {
  partnerId: string;
  name: string;
  institution: string;
  contactEmail: string;
  /** Source IP ranges (CIDR) the partner may call from (WAF IP set in AWS, the local front locally). */
  allowedCidrs: string[];
  scopes: PartnerScope[];
  plan: string;
  status: 'active' | 'suspended';
  keys: PartnerKey[];
  /** The partner's OAuth 2.0 client (client-credentials flow); its secret is never stored here. */
  oauthClientId?: string;
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

/** Credentials handed out once: the API key (meters) and the OAuth client (authenticates). */
export interface PartnerCredentials {
  partner: Partner;
  apiKey: string;
  oauthClient: { clientId: string; clientSecret: string; tokenEndpoint?: string };
}

type PartnerItem = Item & { partner: Partner };
type KeyIndexItem = Item & { partnerId: string; keyId: string };

/** Job that revokes a rotated-out key when its grace period ends. */
export const KEY_REVOCATION_JOB = 'partner-key-revocation';

/**
 * Partner onboarding, API keys and OAuth clients. Key and client secret values are handed out
 * once; the platform keeps the key id and the SHA-256 of the key value (for the edge lookup),
 * never the values.
 */
export class PartnerService {
  constructor(
    private readonly store: DocumentStore,
    private readonly keys: ApiKeyIssuer,
    private readonly oauth: OAuthClientRegistry,
    private readonly scheduler: Scheduler,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  /** Creates the partner record, its OAuth client and its first API key (R-INT-1, R-SEC-6/7). */
  async onboard(actor: Actor, input: OnboardPartnerInput): Promise<PartnerCredentials> {
    const plan = input.plan ?? 'default';
    if (!isPartnerPlan(plan)) throw new ValidationError('unknown usage plan', { field: 'plan', allowed: PARTNER_PLANS });
    const partnerId = this.ids.next('ptn');
    const scopes = [...new Set(input.scopes)];
    const client = await this.oauth.createClient(partnerId, scopes);
    let issued: { keyId: string; value: string } | undefined;
    try {
      issued = await this.keys.issue(partnerId, plan);
      const now = this.iso();
      const partner: Partner = {
        partnerId,
        name: input.name,
        institution: input.institution,
        contactEmail: input.contactEmail,
        allowedCidrs: input.allowedCidrs,
        scopes,
        plan,
        status: 'active',
        keys: [{ keyId: issued.keyId, plan, status: 'active', issuedAt: now }],
        oauthClientId: client.clientId,
        createdAt: now,
        createdBy: actor.id,
        version: 1,
      };
      await this.store.transact([
        { kind: 'put', table: 'main', item: this.item(partner), options: { ifNotExists: true } },
        { kind: 'put', table: 'main', item: this.keyIndex(issued.value, partnerId, issued.keyId), options: { ifNotExists: true } },
      ]);
      return { partner, apiKey: issued.value, oauthClient: { ...client, ...(this.oauth.tokenEndpoint ? { tokenEndpoint: this.oauth.tokenEndpoint } : {}) } };
    } catch (e) {
      // Nothing half-made: a partner without its record must not keep working credentials.
      if (issued) await this.keys.revoke(issued.keyId).catch(() => undefined);
      await this.oauth.deleteClient(client.clientId).catch(() => undefined);
      throw e;
    }
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

  /**
   * Issues a new key and puts every active key into its grace period (R-SEC-7): the old key
   * keeps working for `gracePeriodSeconds` (0 = revoked now), then a one-time schedule revokes it.
   */
  async rotateKey(partnerId: string, gracePeriodSeconds: number = PARTNER_EDGE.defaultKeyGraceSeconds): Promise<{ partner: Partner; apiKey: string; keyId: string }> {
    if (!Number.isInteger(gracePeriodSeconds) || gracePeriodSeconds < 0 || gracePeriodSeconds > PARTNER_EDGE.maxKeyGraceSeconds) {
      throw new ValidationError('grace period out of range', { field: 'gracePeriodSeconds', min: 0, max: PARTNER_EDGE.maxKeyGraceSeconds });
    }
    const partner = await this.get(partnerId);
    if (partner.status !== 'active') throw new ConflictError('the partner is suspended', { partnerId });
    const issued = await this.keys.issue(partnerId, partner.plan);
    const nowMs = this.clock.now();
    const now = new Date(nowMs).toISOString();
    const graceUntilMs = nowMs + gracePeriodSeconds * 1000;
    const retiring = partner.keys.filter((k) => k.status === 'active');
    const next: Partner = {
      ...partner,
      keys: [
        ...partner.keys.map((k) =>
          k.status !== 'active'
            ? k
            : gracePeriodSeconds === 0
              ? { ...k, status: 'revoked' as const, revokedAt: now }
              : { ...k, status: 'retiring' as const, graceUntil: new Date(graceUntilMs).toISOString() },
        ),
        { keyId: issued.keyId, plan: partner.plan, status: 'active', issuedAt: now },
      ],
      version: partner.version + 1,
    };
    try {
      await this.store.transact([
        { kind: 'put', table: 'main', item: this.item(next), options: { expectedVersion: partner.version } },
        { kind: 'put', table: 'main', item: this.keyIndex(issued.value, partnerId, issued.keyId), options: { ifNotExists: true } },
      ]);
    } catch (e) {
      await this.keys.revoke(issued.keyId).catch(() => undefined);
      throw e;
    }
    for (const k of retiring) {
      if (gracePeriodSeconds === 0) await this.keys.revoke(k.keyId);
      else await this.scheduler.schedule({ name: `${KEY_REVOCATION_JOB}-${k.keyId}`, type: KEY_REVOCATION_JOB, runAt: graceUntilMs, payload: { partnerId, keyId: k.keyId } });
    }
    return { partner: next, apiKey: issued.value, keyId: issued.keyId };
  }

  /** Revokes one of a partner's keys; the key stops working at the edge. */
  async revokeKey(partnerId: string, keyId: string): Promise<Partner> {
    const partner = await this.get(partnerId);
    const key = partner.keys.find((k) => k.keyId === keyId);
    if (!key) throw new NotFoundError('API key', { partnerId, keyId });
    if (key.status === 'revoked') throw new ConflictError('the key is already revoked', { keyId });
    return this.markRevoked(partner, keyId);
  }

  /** Scheduled end of a rotation grace period (idempotent: at-least-once delivery). */
  async endKeyGrace(partnerId: string, keyId: string): Promise<void> {
    const partner = await this.get(partnerId);
    const key = partner.keys.find((k) => k.keyId === keyId);
    if (!key || key.status !== 'retiring') return;
    await this.markRevoked(partner, keyId);
  }

  /** Suspends (every call refused at the edge) or reactivates a partner. */
  async setStatus(partnerId: string, status: Partner['status']): Promise<Partner> {
    const partner = await this.get(partnerId);
    if (partner.status === status) return partner;
    const next: Partner = { ...partner, status, version: partner.version + 1 };
    await this.store.put('main', this.item(next), { expectedVersion: partner.version });
    return next;
  }

  /** What the edge needs about a presented key value (looked up by its SHA-256). */
  async edgeFacts(apiKeyValue: string): Promise<{ key?: EdgeKeyFacts; partner?: EdgePartnerFacts }> {
    const ref = await this.store.get<KeyIndexItem>('main', { pk: `PARTNERKEY#${hashKey(apiKeyValue)}`, sk: 'PARTNERKEY' });
    if (!ref) return {};
    const item = await this.store.get<PartnerItem>('main', { pk: `PARTNER#${ref.partnerId}`, sk: 'PARTNER' });
    const p = item?.partner;
    const k = p?.keys.find((x) => x.keyId === ref.keyId);
    if (!p || !k) return {};
    return {
      key: { keyId: k.keyId, partnerId: p.partnerId, status: k.status, ...(k.graceUntil ? { graceUntil: k.graceUntil } : {}) },
      partner: { partnerId: p.partnerId, institution: p.institution, status: p.status, allowedCidrs: p.allowedCidrs, scopes: p.scopes, plan: p.plan, ...(p.oauthClientId ? { oauthClientId: p.oauthClientId } : {}) },
    };
  }

  private async markRevoked(partner: Partner, keyId: string): Promise<Partner> {
    await this.keys.revoke(keyId);
    const next: Partner = {
      ...partner,
      keys: partner.keys.map((k) => (k.keyId === keyId ? { ...k, status: 'revoked' as const, revokedAt: this.iso() } : k)),
      version: partner.version + 1,
    };
    await this.store.put('main', this.item(next), { expectedVersion: partner.version });
    await this.scheduler.cancel(`${KEY_REVOCATION_JOB}-${keyId}`);
    return next;
  }

  private iso(): string {
    return new Date(this.clock.now()).toISOString();
  }

  private item(p: Partner): PartnerItem {
    return { pk: `PARTNER#${p.partnerId}`, sk: 'PARTNER', gsi1pk: 'PARTNERS', gsi1sk: p.createdAt, version: p.version, partner: p };
  }

  private keyIndex(value: string, partnerId: string, keyId: string): KeyIndexItem {
    return { pk: `PARTNERKEY#${hashKey(value)}`, sk: 'PARTNERKEY', partnerId, keyId };
  }
}

/** SHA-256 of an API key value: what the platform stores instead of the value. */
function hashKey(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}
