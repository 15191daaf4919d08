import { createHash, hash } from 'node:crypto';
import type { AuditEvent } from './audit-event';
import { canonicalAuditEventJson } from './canonical-audit-event';
import { canonicalJson } from './canonical-json';

/** `previousDigestSha256` of the first digest of a chain. */
export const GENESIS_SHA256 = '0'.repeat(64);
/** `previousDigestId` of the first digest of a chain. */
export const GENESIS_DIGEST_ID = 'genesis';
/** Archive-bucket prefix of the digest files. */
export const DIGEST_PREFIX = 'audit-digests/';
/** Partition of the digest index items in the `audit` table (one item per digest, never updated). */
export const DIGEST_INDEX_PK = 'DIGEST';

/**
 * One signed digest of the audit trail (ARCHITECTURE D6, after CloudTrail's digest files). It
 * covers every event whose stored sort key (`<time>#<eventId>`) lies in [periodStart, periodEnd),
 * lists their SHA-256 in stored order, and holds the SHA-256 of the previous digest, so deleting,
 * inserting, editing or reordering an event, or removing a digest, breaks the chain.
 * Consecutive digests are contiguous: `periodStart` equals the previous `periodEnd`.
 */
export interface AuditDigest {
  version: 1;
  digestId: string;
  /** ISO-8601 UTC, inclusive. */
  periodStart: string;
  /** ISO-8601 UTC, exclusive. */
  periodEnd: string;
  eventCount: number;
  /** SHA-256 (hex) of each event's canonical JSON, in stored order. */
  eventHashes: Array<{ eventId: string; sha256: string }>;
  previousDigestId: string;
  /** `digestSha256` of the previous digest ({@link GENESIS_SHA256} for the first). */
  previousDigestSha256: string;
  hashAlgorithm: 'SHA-256';
  signatureAlgorithm: 'ECDSA_P256_SHA256';
  signingKeyId: string;
  /** Base64 DER ECDSA signature over SHA-256 of {@link unsignedDigestJson}; absent only while signing. */
  signature: string;
}

/** The digest index item in the `audit` table: where the digest file is, and its hash. */
export interface DigestIndexItem {
  pk: typeof DIGEST_INDEX_PK;
  /** = periodEnd, so the latest digest is the last item of the partition. */
  sk: string;
  digestId: string;
  periodStart: string;
  periodEnd: string;
  eventCount: number;
  objectKey: string;
  digestSha256: string;
  previousDigestSha256: string;
  signingKeyId: string;
  sealedAt: string;
  [k: string]: unknown;
}

/** SHA-256 (hex) of an event's canonical JSON. */
export function eventSha256(event: AuditEvent): string {
  // One-shot `crypto.hash` (Node ≥ 20.12) avoids a Hash object per event: verification's hot path.
  return hash('sha256', canonicalAuditEventJson(event), 'hex');
}

/** The bytes that are signed and hashed: the canonical JSON of the digest without `signature`. */
export function unsignedDigestJson(digest: Omit<AuditDigest, 'signature'> & { signature?: string }): string {
  const { signature: _signature, ...unsigned } = digest;
  return canonicalJson(unsigned);
}

/** SHA-256 (hex) of a digest's unsigned canonical JSON: the value the next digest chains to. */
export function digestSha256(digest: Omit<AuditDigest, 'signature'> & { signature?: string }): string {
  return createHash('sha256').update(unsignedDigestJson(digest), 'utf8').digest('hex');
}

/** `2026-11-24T08:05:00.000Z` → `20261124T080500Z` (boundaries are whole seconds). */
function compact(iso: string): string {
  return iso.replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** Deterministic id of the digest ending at `periodEnd` (racing sealers produce the same digest). */
export function digestIdFor(periodEnd: string): string {
  return `dig_${compact(periodEnd)}`;
}

/** Archive key `audit-digests/<yyyy>/<mm>/<dd>/<periodEnd>.json` of the digest ending at `periodEnd`. */
export function digestObjectKey(periodEnd: string): string {
  return `${DIGEST_PREFIX}${periodEnd.slice(0, 4)}/${periodEnd.slice(5, 7)}/${periodEnd.slice(8, 10)}/${compact(periodEnd)}.json`;
}

/** Inverse of {@link digestObjectKey}'s file name: the ISO periodEnd, or undefined for other keys. */
export function periodEndOfObjectKey(key: string): string | undefined {
  const m = /(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\.json$/.exec(key);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.000Z` : undefined;
}
