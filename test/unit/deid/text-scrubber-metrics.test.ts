import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPhi, PHI_TYPES, type PhiSpan, type PhiType } from '../../../functions/core/deid/text-scrubber';

interface Example {
  text: string;
  spans: PhiSpan[];
  lang: 'zh' | 'en';
  knownNames: string[];
}

const corpus: Example[] = readFileSync(join(import.meta.dirname, 'corpus', 'clinical-phi.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as Example);

/** Span-level match: same type and overlapping offsets (a found span must cover the gold span's core). */
function overlaps(a: PhiSpan, b: PhiSpan): boolean {
  return a.start < b.end && b.start < a.end;
}

/**
 * Per-type true/false positives and false negatives over the corpus. `withVault`: the deployed
 * configuration, where the identity vault passes the patient's and contact's names (never the
 * clinicians'); otherwise pattern detectors only.
 */
function evaluate(withVault: boolean): { table: Record<PhiType, { tp: number; fp: number; fn: number }>; errors: string[] } {
  const table = Object.fromEntries(PHI_TYPES.map((t) => [t, { tp: 0, fp: 0, fn: 0 }])) as Record<PhiType, { tp: number; fp: number; fn: number }>;
  const errors: string[] = [];
  for (const ex of corpus) {
    const found = findPhi(ex.text, withVault ? { knownNames: ex.knownNames } : {});
    for (const g of ex.spans) {
      if (found.some((f) => f.type === g.type && overlaps(f, g))) table[g.type].tp++;
      else {
        table[g.type].fn++;
        errors.push(`FN ${g.type} «${ex.text.slice(g.start, g.end)}» in: ${ex.text}`);
      }
    }
    for (const f of found) {
      if (!ex.spans.some((g) => g.type === f.type && overlaps(f, g))) {
        table[f.type].fp++;
        errors.push(`FP ${f.type} «${ex.text.slice(f.start, f.end)}» in: ${ex.text}`);
      }
    }
  }
  return { table, errors };
}

describe('free-text scrubber on the labelled corpus (R-DEID-4)', () => {
  it('R-DEID-4: the corpus has ≥ 200 annotated Chinese and English sentences', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(200);
    expect(corpus.filter((e) => e.lang === 'zh').length).toBeGreaterThanOrEqual(80);
    expect(corpus.filter((e) => e.lang === 'en').length).toBeGreaterThanOrEqual(80);
    for (const e of corpus) for (const s of e.spans) expect(s.end).toBeLessThanOrEqual(e.text.length);
  });

  it('R-DEID-4: per-type precision/recall meet the targets (IDs, phones, e-mails ≥ 0.98 recall; names, addresses ≥ 0.90; precision ≥ 0.90)', () => {
    const patternsOnly = evaluate(false);
    const { table, errors } = evaluate(true);
    const pr = (t: { tp: number; fp: number; fn: number }) => `P ${(t.tp / Math.max(1, t.tp + t.fp)).toFixed(3)} R ${(t.tp / Math.max(1, t.tp + t.fn)).toFixed(3)}`;
    console.log(`patterns only (no vault names): NAME ${pr(patternsOnly.table.NAME)}; ${patternsOnly.errors.length} errors in total`);
    const rows = PHI_TYPES.map((t) => {
      const { tp, fp, fn } = table[t];
      return { type: t, gold: tp + fn, tp, fp, fn, precision: tp + fp ? +(tp / (tp + fp)).toFixed(3) : 1, recall: tp + fn ? +(tp / (tp + fn)).toFixed(3) : 1 };
    });
    const all = rows.reduce((a, r) => ({ tp: a.tp + r.tp, fp: a.fp + r.fp, fn: a.fn + r.fn }), { tp: 0, fp: 0, fn: 0 });
    const overall = { precision: +(all.tp / (all.tp + all.fp)).toFixed(3), recall: +(all.tp / (all.tp + all.fn)).toFixed(3) };
    console.table(rows);
    console.log(`with vault names — overall: precision ${overall.precision}, recall ${overall.recall}, ${corpus.length} sentences`);
    if (errors.length) console.log(errors.slice(0, 40).join('\n'));
    const r = (t: PhiType) => rows.find((x) => x.type === t)!.recall;
    expect(r('RESIDENT_ID')).toBeGreaterThanOrEqual(0.98);
    expect(r('PHONE')).toBeGreaterThanOrEqual(0.98);
    expect(r('EMAIL')).toBeGreaterThanOrEqual(0.98);
    expect(r('NAME')).toBeGreaterThanOrEqual(0.9);
    expect(r('ADDRESS')).toBeGreaterThanOrEqual(0.9);
    expect(overall.precision).toBeGreaterThanOrEqual(0.9);
  });
});
