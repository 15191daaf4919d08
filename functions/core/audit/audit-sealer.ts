import { ConflictError, isDomainError } from '../errors';
import type { Clock } from '../ports/clock';
import type { DigestSigner } from '../ports/digest-signer';
import type { DocumentStore } from '../ports/document-store';
import type { ObjectStore } from '../ports/object-store';
import {
  DIGEST_INDEX_PK,
  GENESIS_DIGEST_ID,
  GENESIS_SHA256,
  digestIdFor,
  digestObjectKey,
  digestSha256,
  eventSha256,
  unsignedDigestJson,
  type AuditDigest,
  type DigestIndexItem,
} from './audit-digest';
import { storedAuditEventPages } from './stored-audit-events';

export interface AuditSealerOptions {
  /** Length of a sealing period (default 5 minutes; must divide a day). */
  periodMs?: number;
  /**
   * A period is sealed only once it ended at least this long ago (default 60 s), so events
   * still in flight (clock skew between Lambdas, retried writes) land before their period is sealed.
   */
  settleMs?: number;
  /** Start of the chain when no digest exists yet (ISO). Default: midnight UTC `genesisLookbackMs` before now. */
  chainStart?: string;
  /** See `chainStart` (default 31 days). Events before the chain start are never sealed. */
  genesisLookbackMs?: number;
  /** Bound on the work of one run (default 288 = one day of 5-minute periods); the next run continues. */
  maxDigestsPerRun?: number;
  /** Query page size (default 1000). */
  pageSize?: number;
}

/** A digest written by one run. */
export interface SealedDigest {
  digestId: string;
  periodStart: string;
  periodEnd: string;
  eventCount: number;
  objectKey: string;
  digestSha256: string;
}

export interface SealResult {
  digests: SealedDigest[];
  /** End of the last sealed period (after this run), if any. */
  sealedThrough?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Seals the audit trail into a signed hash chain (ARCHITECTURE D6, R-AUD-2), after CloudTrail's
 * log-file integrity validation. Each run continues from the latest digest: the events of every
 * period that ended at least `settleMs` ago are hashed in stored order into one digest per
 * non-empty period (empty periods are folded into the next digest, and a run that finds no events
 * writes one empty "heartbeat" digest), each digest holds the hash of the previous one, and is
 * signed by the {@link DigestSigner}. The digest goes to the archive bucket (Object Lock in AWS)
 * and a never-updated index item to the `audit` table.
 *
 * Digests are deterministic functions of the events (ids and keys derive from the period end), so
 * two sealers racing over the same period write the same content and the chain stays single.
 *
 * @example
 * await new AuditSealer(documents, objects, signer, clock).seal();
 */
export class AuditSealer {
  private readonly periodMs: number;
  private readonly settleMs: number;
  private readonly maxDigests: number;

  constructor(
    private readonly store: DocumentStore,
    private readonly objects: ObjectStore,
    private readonly signer: DigestSigner,
    private readonly clock: Clock,
    private readonly options: AuditSealerOptions = {},
  ) {
    this.periodMs = options.periodMs ?? 5 * 60_000;
    this.settleMs = options.settleMs ?? 60_000;
    this.maxDigests = options.maxDigestsPerRun ?? 288;
    if (this.periodMs < 1000 || this.periodMs % 1000 !== 0 || 86_400_000 % this.periodMs !== 0) throw new Error('periodMs must be whole seconds dividing a day');
  }

  /** End of the latest period that may be sealed now. */
  sealableUntil(now = this.clock.now()): number {
    return Math.floor((now - this.settleMs) / this.periodMs) * this.periodMs;
  }

  /** The newest digest index item, if any. */
  async head(): Promise<DigestIndexItem | undefined> {
    const page = await this.store.query<DigestIndexItem>('audit', { pk: DIGEST_INDEX_PK, ascending: false, limit: 1 });
    return page.items[0];
  }

  /**
   * Seals every unsealed period ending at or before `until` (epoch ms, default: now − settle;
   * never later than that). Returns the digests written by this run.
   */
  async seal(until?: number): Promise<SealResult> {
    const now = this.clock.now();
    const untilMs = Math.min(this.sealableUntil(now), until === undefined ? Infinity : Math.floor(until / this.periodMs) * this.periodMs);
    const head = await this.head();
    const startIso = head ? head.periodEnd : this.genesisStart(now);
    const written: SealedDigest[] = [];
    const untilIso = iso(untilMs);
    if (startIso >= untilIso) return { digests: written, ...(head ? { sealedThrough: head.periodEnd } : {}) };

    let prev = head ? { id: head.digestId, sha: head.digestSha256 } : { id: GENESIS_DIGEST_ID, sha: GENESIS_SHA256 };
    let periodStart = startIso;
    let pending: Array<{ eventId: string; sha256: string }> = [];
    let pendingEnd = 0;
    const flush = async (periodEnd: string, hashes: Array<{ eventId: string; sha256: string }>) => {
      const d = await this.writeDigest(periodStart, periodEnd, hashes, prev);
      written.push(d);
      prev = { id: d.digestId, sha: d.digestSha256 };
      periodStart = periodEnd;
    };

    outer: for await (const items of storedAuditEventPages(this.store, startIso, untilIso, this.options.pageSize)) {
      for (const item of items) {
        const end = this.slotEnd(item.sk, pending.length ? pendingEnd : Math.floor(Date.parse(periodStart) / this.periodMs) * this.periodMs + this.periodMs, untilMs);
        if (pending.length && end !== pendingEnd) {
          await flush(iso(pendingEnd), pending);
          pending = [];
          if (written.length >= this.maxDigests) break outer;
        }
        pendingEnd = end;
        pending.push({ eventId: item.event.eventId, sha256: eventSha256(item.event) });
      }
    }
    if (written.length < this.maxDigests) {
      if (pending.length) await flush(iso(pendingEnd), pending);
      // Heartbeat: the chain reaches `until` even through quiet periods, so a sealer that stopped
      // (or a removed tail) shows as a stale chain head rather than as silence.
      if (written.length < this.maxDigests && periodStart < untilIso) await flush(untilIso, []);
    }
    return { digests: written, sealedThrough: written.length ? written[written.length - 1]!.periodEnd : head?.periodEnd };
  }

  private genesisStart(now: number): string {
    if (this.options.chainStart) return iso(Date.parse(this.options.chainStart));
    const t = now - this.settleMs - (this.options.genesisLookbackMs ?? 31 * 86_400_000);
    return iso(Math.floor(t / 86_400_000) * 86_400_000);
  }

  /**
   * End of the period an event belongs to: the boundary after its time, but never before the
   * pending period's end, and always sorting after its stored key (so membership by key range,
   * which the verifier uses, matches even for an unusually formatted time).
   */
  private slotEnd(sk: string, minEnd: number, untilMs: number): number {
    const t = Date.parse(sk.slice(0, sk.indexOf('#')));
    let e = Number.isFinite(t) ? Math.floor(t / this.periodMs) * this.periodMs + this.periodMs : minEnd;
    if (e < minEnd) e = minEnd;
    while (e < untilMs && iso(e) <= sk) e += this.periodMs;
    return Math.min(e, untilMs);
  }

  private async writeDigest(periodStart: string, periodEnd: string, eventHashes: Array<{ eventId: string; sha256: string }>, prev: { id: string; sha: string }): Promise<SealedDigest> {
    const unsigned: Omit<AuditDigest, 'signature'> = {
      version: 1,
      digestId: digestIdFor(periodEnd),
      periodStart,
      periodEnd,
      eventCount: eventHashes.length,
      eventHashes,
      previousDigestId: prev.id,
      previousDigestSha256: prev.sha,
      hashAlgorithm: 'SHA-256',
      signatureAlgorithm: 'ECDSA_P256_SHA256',
      signingKeyId: this.signer.keyId,
    };
    const json = unsignedDigestJson(unsigned);
    const sha = digestSha256(unsigned);
    const objectKey = digestObjectKey(periodEnd);

    // Never replace a digest with different content (the archive is write-once; in AWS Object
    // Lock would keep the old version anyway). The same content means a racing or retried run.
    const existing = await this.objects.get('archive', objectKey);
    if (existing) {
      const stored = JSON.parse(Buffer.from(existing.body).toString('utf8')) as AuditDigest;
      if (digestSha256(stored) !== sha) throw new ConflictError('a different audit digest already exists for this period', { digestId: unsigned.digestId, objectKey });
    } else {
      const { signature } = await this.signer.sign(Buffer.from(json, 'utf8'));
      const digest: AuditDigest = { ...unsigned, signature };
      await this.objects.put('archive', objectKey, Buffer.from(JSON.stringify(digest), 'utf8'), {
        contentType: 'application/json',
        metadata: { 'digest-sha256': sha, 'signing-key-id': this.signer.keyId },
      });
    }

    const index: DigestIndexItem = {
      pk: DIGEST_INDEX_PK,
      sk: periodEnd,
      digestId: unsigned.digestId,
      periodStart,
      periodEnd,
      eventCount: eventHashes.length,
      objectKey,
      digestSha256: sha,
      previousDigestSha256: prev.sha,
      signingKeyId: this.signer.keyId,
      sealedAt: iso(this.clock.now()),
    };
    try {
      await this.store.put('audit', index, { ifNotExists: true });
    } catch (e) {
      if (!isDomainError(e, 'CONFLICT')) throw e;
      const other = await this.store.get<DigestIndexItem>('audit', { pk: DIGEST_INDEX_PK, sk: periodEnd });
      if (other?.digestSha256 !== sha) throw new ConflictError('a different audit digest index item exists for this period', { digestId: unsigned.digestId }, { cause: e });
    }
    return { digestId: unsigned.digestId, periodStart, periodEnd, eventCount: eventHashes.length, objectKey, digestSha256: sha };
  }
}
