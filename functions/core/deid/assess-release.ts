/**
 * Re-identification risk of a released table (R-DEID-5): k-anonymity over declared
 * quasi-identifiers and distinct l-diversity of sensitive attributes, with optional
 * generalization (per-attribute hierarchies) and suppression to reach k.
 */

/** A released row: column → value. */
export type ReleaseRow = Record<string, string | number | boolean | null | undefined>;

/** One generalization step of a quasi-identifier (e.g. age → 5-year band → 10-year band). */
export type Generalizer = (value: ReleaseRow[string]) => string;

/** Options of {@link assessRelease}. */
export interface AssessReleaseOptions {
  /** Required minimum equivalence-class size (R-DEID-5 default 5). */
  k: number;
  quasiIdentifiers: readonly string[];
  /** Sensitive attributes checked for l-diversity. */
  sensitive?: readonly string[];
  /** Required distinct values of each sensitive attribute per class (default 2). */
  l?: number;
  /** Generalize (via `hierarchies`) then suppress rows of classes still smaller than k. */
  enforce?: boolean;
  /** Generalization ladders per quasi-identifier, applied one level at a time. */
  hierarchies?: Readonly<Record<string, readonly Generalizer[]>>;
  /** Generalize further while more than this share of rows would be suppressed (default 0.05). */
  maxSuppressionRate?: number;
}

/** A class that violates k (values are generalized quasi-identifiers, never direct identifiers). */
export interface ViolatingClass {
  quasiIdentifiers: Record<string, string>;
  size: number;
}

/** Result of {@link assessRelease}. */
export interface ReleaseAssessment {
  /** Achieved k: the smallest equivalence class of the (possibly enforced) release. */
  k: number;
  requiredK: number;
  satisfied: boolean;
  classes: number;
  /** Classes smaller than k in the INPUT (before enforcement). */
  violatingClasses: ViolatingClass[];
  /** With `enforce`: indexes of input rows suppressed. */
  suppressedRows?: number[];
  /** With `enforce`: generalization level applied per quasi-identifier. */
  generalizationLevels?: Record<string, number>;
  /** With `enforce`: the rows to release (generalized, suppressed rows left out). */
  rows?: ReleaseRow[];
  lDiversity: { requiredL: number; l: number; satisfied: boolean; perAttribute: Record<string, number>; violatingClasses: number };
}

const keyOf = (row: ReleaseRow, qis: readonly string[]): string => JSON.stringify(qis.map((q) => (row[q] === undefined || row[q] === null ? '*' : String(row[q]))));

function classes(rows: readonly ReleaseRow[], qis: readonly string[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const k = keyOf(r, qis);
    const list = m.get(k);
    if (list) list.push(i);
    else m.set(k, [i]);
  });
  return m;
}

function lDiversity(rows: readonly ReleaseRow[], groups: Map<string, number[]>, sensitive: readonly string[], requiredL: number): ReleaseAssessment['lDiversity'] {
  const perAttribute: Record<string, number> = {};
  let violating = 0;
  for (const s of sensitive) {
    let min = Number.POSITIVE_INFINITY;
    for (const idx of groups.values()) {
      const distinct = new Set(idx.map((i) => String(rows[i]?.[s]))).size;
      min = Math.min(min, distinct);
      if (distinct < requiredL) violating++;
    }
    perAttribute[s] = Number.isFinite(min) ? min : 0;
  }
  const l = sensitive.length ? Math.min(...Object.values(perAttribute)) : 0;
  return { requiredL, l, satisfied: sensitive.length === 0 || l >= requiredL, perAttribute, violatingClasses: violating };
}

/**
 * Measures (and optionally enforces) k-anonymity and l-diversity of a table to be released.
 *
 * @example
 * const a = assessRelease(rows, { k: 5, quasiIdentifiers: ['ageBand', 'sex', 'city'], sensitive: ['diagnosis'], enforce: true });
 * if (!a.satisfied) throw new Error('release blocked');
 */
export function assessRelease(rows: readonly ReleaseRow[], opts: AssessReleaseOptions): ReleaseAssessment {
  const qis = opts.quasiIdentifiers;
  const requiredL = opts.l ?? 2;
  const sensitive = opts.sensitive ?? [];
  const input = classes(rows, qis);
  const violatingClasses: ViolatingClass[] = [];
  for (const [key, idx] of input) {
    if (idx.length < opts.k) {
      const values = JSON.parse(key) as string[];
      violatingClasses.push({ quasiIdentifiers: Object.fromEntries(qis.map((q, i) => [q, values[i] ?? '*'])), size: idx.length });
    }
  }
  const minSize = (g: Map<string, number[]>): number => (g.size ? Math.min(...[...g.values()].map((v) => v.length)) : 0);

  if (!opts.enforce) {
    const k = minSize(input);
    const ld = lDiversity(rows, input, sensitive, requiredL);
    return { k, requiredK: opts.k, satisfied: k >= opts.k && ld.satisfied, classes: input.size, violatingClasses, lDiversity: ld };
  }

  // Generalize one level at a time (the attribute with the most distinct values first) until the
  // rows to suppress fall under the allowed rate, then suppress the rest.
  const levels: Record<string, number> = Object.fromEntries(qis.map((q) => [q, 0]));
  const maxRate = opts.maxSuppressionRate ?? 0.05;
  const apply = (): ReleaseRow[] =>
    rows.map((r) => {
      const out: ReleaseRow = { ...r };
      for (const q of qis) {
        const ladder = opts.hierarchies?.[q] ?? [];
        let v: ReleaseRow[string] = r[q];
        for (let i = 0; i < (levels[q] ?? 0); i++) v = ladder[i]?.(v) ?? v;
        out[q] = v;
      }
      return out;
    });
  let current = apply();
  let groups = classes(current, qis);
  const toSuppress = (g: Map<string, number[]>): number[] => [...g.values()].filter((v) => v.length < opts.k).flat();
  while (toSuppress(groups).length > maxRate * rows.length) {
    const candidates = qis.filter((q) => (levels[q] ?? 0) < (opts.hierarchies?.[q]?.length ?? 0));
    if (!candidates.length) break;
    const distinct = (q: string) => new Set(current.map((r) => String(r[q]))).size;
    const next = candidates.sort((a, b) => distinct(b) - distinct(a))[0]!;
    levels[next] = (levels[next] ?? 0) + 1;
    current = apply();
    groups = classes(current, qis);
  }
  const suppressed = toSuppress(groups).sort((a, b) => a - b);
  const suppressedSet = new Set(suppressed);
  const released = current.filter((_, i) => !suppressedSet.has(i));
  const finalGroups = classes(released, qis);
  const k = minSize(finalGroups);
  const ld = lDiversity(released, finalGroups, sensitive, requiredL);
  return {
    k,
    requiredK: opts.k,
    satisfied: (released.length === 0 || k >= opts.k) && ld.satisfied,
    classes: finalGroups.size,
    violatingClasses,
    suppressedRows: suppressed,
    generalizationLevels: levels,
    rows: released,
    lDiversity: ld,
  };
}
