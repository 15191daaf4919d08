import { createHash } from 'node:crypto';

/**
 * Small seeded pseudo-random generator (sfc32 seeded through splitmix32) used
 * everywhere in the demo generator instead of `Math.random`, so that the same
 * seed always yields byte-identical output.
 */
export class DemoRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** @param seed - any 32-bit integer; a string label may be mixed in to derive independent streams. */
  constructor(seed: number, label = '') {
    // Mix the label into the seed so that sub-streams (per patient, per file) stay
    // stable even when an unrelated part of the generator draws more numbers.
    const h = createHash('sha256').update(`${seed}:${label}`).digest();
    this.a = h.readUInt32LE(0);
    this.b = h.readUInt32LE(4);
    this.c = h.readUInt32LE(8);
    this.d = h.readUInt32LE(12);
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform float in [0, 1). */
  next(): number {
    this.a >>>= 0;
    this.b >>>= 0;
    this.c >>>= 0;
    this.d >>>= 0;
    let t = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    t = (t + this.d) | 0;
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** Uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** Uniform float in [min, max). */
  float(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  /** Normal variate (Box–Muller), clamped to [min, max] when given. */
  normal(mean: number, sd: number, min = -Infinity, max = Infinity): number {
    const u = Math.max(this.next(), 1e-12);
    const v = this.next();
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return Math.min(max, Math.max(min, mean + sd * z));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from empty array');
    return item;
  }

  /** One element chosen by weight (`[value, weight]` pairs). */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [v, w] of items) {
      r -= w;
      if (r < 0) return v;
    }
    const last = items[items.length - 1];
    if (!last) throw new Error('weighted pick from empty array');
    return last[0];
  }

  /** String of `n` random decimal digits. */
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(this.int(0, 9));
    return s;
  }
}

/**
 * Deterministic DICOM UID in the `2.25.` (UUID-derived) root: the decimal value of
 * the first 128 bits of SHA-256(seed, label). Same seed + label → same UID; at most
 * 44 characters, well below the 64-character limit of the UI value representation.
 */
export function deterministicUid(seed: number, label: string): string {
  const h = createHash('sha256').update(`mdrp-demo-uid:${seed}:${label}`).digest('hex').slice(0, 32);
  return `2.25.${BigInt(`0x${h}`).toString(10)}`;
}

/** Deterministic RFC 4122 v4-shaped UUID derived from seed + label (used for FHIR ids). */
export function deterministicUuid(seed: number, label: string): string {
  const h = createHash('sha256').update(`mdrp-demo-uuid:${seed}:${label}`).digest('hex');
  const variant = ((parseInt(h.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
