import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { DocumentStore } from '../ports/document-store';
import type { ObjectStore } from '../ports/object-store';
import {
  DIGEST_INDEX_PK,
  DIGEST_PREFIX,
  GENESIS_DIGEST_ID,
  GENESIS_SHA256,
  digestIdFor,
  digestSha256,
  eventSha256,
  periodEndOfObjectKey,
  unsignedDigestJson,
  type AuditDigest,
  type DigestIndexItem,
} from './audit-digest';
import { StoredAuditEventCursor, type StoredAuditItem } from './stored-audit-events';

/** Why a link of the chain is broken. */
export type ChainBreakReason = 'signature' | 'previous-hash' | 'event-missing' | 'event-modified' | 'event-extra' | 'order' | 'digest-missing';

export interface VerifyAuditChainInput {
  /** Check the digests whose period ends after this instant (ISO; default: from the genesis digest). */
  from?: string;
  /** … and starts at or before this one (ISO; default: through the newest digest). */
  to?: string;
}

export interface VerifyAuditChainResult {
  ok: boolean;
  digestsChecked: number;
  eventsChecked: number;
  /** End of the newest digest in the archive: events after it are not sealed yet. */
  sealedThrough?: string;
  /** The first broken link, in chain order. */
  firstBroken?: { digestId: string; reason: ChainBreakReason; eventId?: string };
}

/** Resolves a digest's `signingKeyId` to a trusted public key (SPKI PEM); undefined when not trusted. */
export type PublicKeyResolver = (keyId: string) => Promise<string | undefined>;

type Broken = NonNullable<VerifyAuditChainResult['firstBroken']>;

/**
 * Verifies the audit chain with the public key only (R-AUD-2): re-reads every digest from the
 * archive bucket and every event from the `audit` table, and checks, in chain order, each digest's
 * signature, its link to the previous digest (id, contiguous period, SHA-256), and that the stored
 * events of its period are exactly the hashed ones, in the same order. Stops at the first break.
 *
 * @example
 * const r = await new AuditChainVerifier(documents, objects, async () => publicKeyPem).verify({});
 * if (!r.ok) console.log(r.firstBroken);
 */
export class AuditChainVerifier {
  private readonly keys = new Map<string, KeyObject>();

  constructor(
    private readonly store: DocumentStore,
    private readonly objects: ObjectStore,
    private readonly publicKeys: PublicKeyResolver,
    private readonly options: { pageSize?: number } = {},
  ) {}

  async verify(input: VerifyAuditChainInput = {}): Promise<VerifyAuditChainResult> {
    // Every digest the archive or the index knows of, by period end. The archive is authoritative;
    // the index reveals an archived digest that has gone missing.
    const archived = new Map<string, string>();
    for (const key of await this.objects.list('archive', DIGEST_PREFIX)) {
      const end = periodEndOfObjectKey(key);
      if (end) archived.set(end, key);
    }
    const indexed = new Map<string, DigestIndexItem>();
    let cursor: string | undefined;
    do {
      const page = await this.store.query<DigestIndexItem>('audit', { pk: DIGEST_INDEX_PK, ascending: true, limit: 1000, cursor });
      for (const it of page.items) indexed.set(it.sk, it);
      cursor = page.cursor;
    } while (cursor);
    const ends = [...new Set([...archived.keys(), ...indexed.keys()])].sort();
    const sealedThrough = ends[ends.length - 1];
    const result: VerifyAuditChainResult = { ok: true, digestsChecked: 0, eventsChecked: 0, ...(sealedThrough ? { sealedThrough } : {}) };
    const fail = (b: Broken): VerifyAuditChainResult => ({ ...result, ok: false, firstBroken: b });

    const inRange = ends.filter((e) => !input.from || e > input.from);
    let prev: { digest: AuditDigest; sha: string } | undefined;
    let events: StoredAuditEventCursor | undefined;
    for (const end of inRange) {
      if (input.to && prev && prev.digest.periodEnd > input.to) break;
      const key = archived.get(end);
      if (!key) return fail({ digestId: indexed.get(end)?.digestId ?? digestIdFor(end), reason: 'digest-missing' });
      const digest = await this.readDigest(key);
      if (!digest || digest.periodEnd !== end) return fail({ digestId: digest?.digestId ?? digestIdFor(end), reason: 'signature' });
      if (!(await this.signatureValid(digest))) return fail({ digestId: digest.digestId, reason: 'signature' });

      // The link to the previous digest: inside the range the one just checked; at the start of a
      // partial range the archived digest ending where this one starts; otherwise the genesis.
      if (!prev && digest.previousDigestId !== GENESIS_DIGEST_ID) {
        const before = archived.get(digest.periodStart);
        const prevDigest = before ? await this.readDigest(before) : undefined;
        if (!prevDigest) return fail({ digestId: digest.previousDigestId, reason: 'digest-missing' });
        prev = { digest: prevDigest, sha: digestSha256(prevDigest) };
      }
      if (prev) {
        if (digest.previousDigestId !== prev.digest.digestId || digest.periodStart !== prev.digest.periodEnd) return fail({ digestId: digest.previousDigestId, reason: 'digest-missing' });
        if (digest.previousDigestSha256 !== prev.sha) return fail({ digestId: digest.digestId, reason: 'previous-hash' });
      } else if (digest.previousDigestSha256 !== GENESIS_SHA256) {
        return fail({ digestId: digest.digestId, reason: 'previous-hash' });
      }

      events ??= new StoredAuditEventCursor(this.store, digest.periodStart, inRange[inRange.length - 1]!, this.options.pageSize);
      const stored = await events.takeBefore(digest.periodEnd);
      const broken = compareEvents(digest, stored);
      result.eventsChecked += broken ? broken.checked : stored.length;
      if (broken) return fail({ digestId: digest.digestId, reason: broken.reason, eventId: broken.eventId });
      result.digestsChecked += 1;
      prev = { digest, sha: digestSha256(digest) };
    }
    return result;
  }

  private async readDigest(key: string): Promise<AuditDigest | undefined> {
    const obj = await this.objects.get('archive', key);
    if (!obj) return undefined;
    try {
      return JSON.parse(Buffer.from(obj.body).toString('utf8')) as AuditDigest;
    } catch {
      return undefined;
    }
  }

  private async signatureValid(digest: AuditDigest): Promise<boolean> {
    if (typeof digest.signature !== 'string' || typeof digest.signingKeyId !== 'string') return false;
    const pem = await this.publicKeys(digest.signingKeyId);
    if (!pem) return false;
    let key = this.keys.get(pem);
    if (!key) {
      key = createPublicKey(pem);
      this.keys.set(pem, key);
    }
    try {
      return verify('sha256', Buffer.from(unsignedDigestJson(digest), 'utf8'), key, Buffer.from(digest.signature, 'base64'));
    } catch {
      return false;
    }
  }
}

/**
 * Walks the digest's list and the stored events side by side; the first difference, by position,
 * is the broken link. Ids present on one side only are missing/extra; the same ids in another
 * order are `order`; the same id with another hash, or index keys that no longer match the event
 * (which would hide it from actor or resource queries), is `event-modified`.
 */
function compareEvents(digest: AuditDigest, stored: StoredAuditItem[]): { reason: ChainBreakReason; eventId: string; checked: number } | undefined {
  const listed = Array.isArray(digest.eventHashes) ? digest.eventHashes : [];
  let listedIds: Set<string> | undefined;
  let storedIds: Set<string> | undefined;
  let i = 0;
  let j = 0;
  while (i < listed.length && j < stored.length) {
    const want = listed[i]!;
    const item = stored[j]!;
    const got = item.event;
    // An item whose event was stripped or mangled is a modification of the event its key names.
    if (typeof got?.eventId !== 'string' || typeof got.time !== 'string' || typeof got.actor?.id !== 'string' || !Array.isArray(got.resources)) {
      return { reason: 'event-modified', eventId: item.sk.slice(item.sk.indexOf('#') + 1), checked: j };
    }
    if (want.eventId === got.eventId) {
      if (want.sha256 !== eventSha256(got) || !keysMatch(item)) return { reason: 'event-modified', eventId: got.eventId, checked: j };
      i++;
      j++;
      continue;
    }
    listedIds ??= new Set(listed.map((h) => h.eventId));
    storedIds ??= new Set(stored.map((s) => s.event?.eventId));
    if (!storedIds.has(want.eventId)) return { reason: 'event-missing', eventId: want.eventId, checked: j };
    if (!listedIds.has(got.eventId)) return { reason: 'event-extra', eventId: got.eventId, checked: j };
    return { reason: 'order', eventId: got.eventId, checked: j };
  }
  if (i < listed.length) return { reason: 'event-missing', eventId: listed[i]!.eventId, checked: j };
  if (j < stored.length) return { reason: 'event-extra', eventId: stored[j]!.event?.eventId ?? stored[j]!.sk.slice(stored[j]!.sk.indexOf('#') + 1), checked: j };
  return undefined;
}

/** The item's keys are the ones `AuditTrail.write` derives from its event. */
function keysMatch(item: StoredAuditItem): boolean {
  const e = item.event;
  const order = `${e.time}#${e.eventId}`;
  if (item.sk !== order || item.pk !== `DAY#${e.time.slice(0, 10)}`) return false;
  if (item.gsi1pk !== `ACTOR#${e.actor.id}` || item.gsi1sk !== order) return false;
  const first = e.resources[0];
  if (!first) return item.gsi2pk === undefined && item.gsi2sk === undefined;
  return item.gsi2pk === `RES#${first.type}#${first.id}` && item.gsi2sk === order;
}
