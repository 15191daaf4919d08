import type { KeyProvider } from '../ports/key-provider';

/**
 * Per-grant watermark of level-3 releases (R-DEID-6, R-SEC-3). Three independent, keyed marks,
 * all derived with HMAC-SHA-256 under the KMS `pseudonym` key so that nobody without the key can
 * forge, recognise or strip them selectively:
 *
 * 1. **Watermark tag** — `meta.tag {system: DEID_WATERMARK_TAG_SYSTEM, code: <16 hex>}` on every
 *    FHIR resource: explicit, easy to check, easy to strip.
 * 2. **Key-order fingerprint** — the order of a resource's (or table row's) elements after
 *    `resourceType`, `id` and `meta` is a keyed permutation of the grant, the resource type and
 *    the element names. FHIR JSON gives property order no meaning (and CSV consumers address
 *    columns by name), so nothing a reader relies on changes; yet the order survives copying,
 *    removing `meta`, replacing the pseudonyms and re-serialising with ordinary JSON/CSV tools
 *    (JavaScript and Python keep insertion order).
 * 3. **Grant-scoped pseudonyms** — patient tokens differ per grant (D2) and the release records
 *    them, so any token found in a file names its grant.
 * 4. **Marked tokens** (tables) — each pseudonym written into a released table keeps 112 bits of
 *    its keyed token and ends with a 16-bit keyed check of them: still a stable, unique pseudonym
 *    (joins within the grant work), but every copied row carries 16 bits of grant evidence per
 *    token, even with the header gone or the columns reordered.
 * 5. **DICOM** — the code as a second value of DeidentificationMethod (0012,0063)
 *    (`MDRP watermark <code>`, a descriptor no analysis reads), and every replacement `2.25.` UID
 *    marked like a table token (its 128-bit integer ends with the 16-bit check), so the UIDs of a
 *    leaked file still name the grant after (0012,0063) was stripped. ImagingStudy UIDs of the
 *    same release are marked alike and keep matching the files.
 *
 * The trace (`LeakTracer`) weighs the three as evidence in bits; see its documentation.
 */

/** Tag system of the per-grant watermark code. */
export const DEID_WATERMARK_TAG_SYSTEM = 'https://mdrp.example.org/fhir/CodeSystem/deid-watermark';

/** Prefix of the DeidentificationMethod (0012,0063) value that carries the code in DICOM. */
export const DICOM_WATERMARK_PREFIX = 'MDRP watermark ';

/** The 32-hex body of a `2.25.` UID (its 128-bit integer), or undefined for any other UID. */
export function uidToken(uid: string): string | undefined {
  const m = /^2\.25\.(\d{1,39})$/.exec(uid.trim());
  if (!m) return undefined;
  const n = BigInt(m[1]!);
  return n < 1n << 128n ? n.toString(16).padStart(32, '0') : undefined;
}

/** Record type under which table rows (CSV columns) are ordered. */
export const TABLE_RECORD_TYPE = 'table';

const VERSION = 'mdrp-watermark-v1';
/** Elements that keep their conventional leading position. */
const FIXED_LEADING = ['resourceType', 'id', 'meta'] as const;

/** The keyed watermark of one grant (cache-friendly; one instance per grant and batch). */
export class GrantWatermark {
  private code_?: Promise<string>;
  private readonly orders = new Map<string, Promise<string[]>>();

  constructor(
    private readonly keys: KeyProvider,
    readonly grantId: string,
  ) {
    if (!grantId) throw new Error('grantId is required: watermarks are per grant');
  }

  /** The grant's watermark code (64 bits, hex). */
  code(): Promise<string> {
    this.code_ ??= this.keys.mac('pseudonym', `${VERSION}|code|${this.grantId}`).then((h) => h.slice(0, 16));
    return this.code_;
  }

  /**
   * The keyed order of a set of element names for a record type (resource type, or `table:<name>`).
   * Deterministic for (grant, type, set of names), whatever order the names come in.
   */
  order(recordType: string, names: readonly string[]): Promise<string[]> {
    const sorted = [...new Set(names)].sort();
    const cacheKey = `${recordType}|${sorted.join(',')}`;
    let hit = this.orders.get(cacheKey);
    if (!hit) {
      hit = this.seed(recordType, sorted).then((seed) => keyedPermutation(sorted, seed));
      this.orders.set(cacheKey, hit);
    }
    return hit;
  }

  /** Reorders an object's elements (after the fixed leading ones) by the keyed order. */
  async reorder<T extends Record<string, unknown>>(recordType: string, record: T): Promise<T> {
    const lead = FIXED_LEADING.filter((k) => k in record);
    const rest = Object.keys(record).filter((k) => !(FIXED_LEADING as readonly string[]).includes(k));
    const out: Record<string, unknown> = {};
    for (const k of lead) out[k] = record[k];
    for (const k of await this.order(recordType, rest)) out[k] = record[k];
    return out as T;
  }

  /** A 32-hex token with its last 4 hex digits replaced by the grant's keyed check of the rest. */
  async markToken(token: string): Promise<string> {
    const body = token.slice(0, 28);
    return body + (await this.check(body));
  }

  /** True if a 32-hex token ends with this grant's check (a random token does with p = 2^-16). */
  async isMarked(token: string): Promise<boolean> {
    return token.length === 32 && token.slice(28) === (await this.check(token.slice(0, 28)));
  }

  private async check(body: string): Promise<string> {
    return (await this.keys.mac('pseudonym', `${VERSION}|mark|${this.grantId}|${body}`)).slice(0, 4);
  }

  private async seed(recordType: string, sorted: readonly string[]): Promise<Uint8Array> {
    // Enough keyed bytes for one draw per position (chained HMACs for wide records).
    const bytes: number[] = [];
    for (let i = 0; bytes.length < sorted.length * 2; i++) {
      const h = await this.keys.mac('pseudonym', `${VERSION}|order|${i}|${this.grantId}|${recordType}|${sorted.join(',')}`);
      for (let j = 0; j < h.length; j += 2) bytes.push(Number.parseInt(h.slice(j, j + 2), 16));
    }
    return Uint8Array.from(bytes);
  }
}

/** Fisher–Yates driven by keyed bytes (two bytes per draw keep the modulo bias below 1/256). */
export function keyedPermutation<T>(items: readonly T[], seed: Uint8Array): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const r = ((seed[2 * i] ?? 0) << 8) | (seed[2 * i + 1] ?? 0);
    const j = r % (i + 1);
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

/** The elements whose order carries the fingerprint (everything after the fixed leading ones). */
export function orderedNames(record: Record<string, unknown>): string[] {
  return Object.keys(record).filter((k) => !(FIXED_LEADING as readonly string[]).includes(k));
}

/**
 * Bits of evidence that k of n distinct tokens carry a grant's 16-bit mark: −log2 of the chance
 * that at least k of n random tokens would (≈ C(n,k)·2^(−16k)), never below 0.
 */
export function markedTokenBits(k: number, n: number): number {
  if (k <= 0) return 0;
  let log2Choose = 0;
  for (let i = 0; i < k; i++) log2Choose += Math.log2(n - i) - Math.log2(i + 1);
  return Math.max(0, 16 * k - log2Choose);
}

/** log2(n!): the bits of evidence a matching order of n names carries. */
export function log2Factorial(n: number): number {
  let s = 0;
  for (let i = 2; i <= n; i++) s += Math.log2(i);
  return s;
}
