import { describe, expect, it } from 'vitest';
import { assessRelease, type ReleaseRow } from '../../../functions/core/deid/assess-release';
import { ageBand } from '../../../functions/core/deid/date-shift';
import { demoCohort } from './deid-fixtures';

function table(): ReleaseRow[] {
  return demoCohort().patients.map((p) => ({
    age: p.clinical.ageAtDiagnosis,
    sex: p.identity.sex,
    city: p.identity.address.city,
    province: p.identity.address.province,
    diagnosis: p.clinical.icd10.code,
    subtype: p.clinical.molecularSubtype,
  }));
}

describe('release risk: k-anonymity and l-diversity (R-DEID-5)', () => {
  it('R-DEID-5: reports k, the violating classes and l-diversity of a table', () => {
    const rows: ReleaseRow[] = [
      ...Array.from({ length: 5 }, (_, i) => ({ ageBand: '45-49', sex: 'female', city: '上海市', diagnosis: i % 2 ? 'C50.4' : 'C50.9' })),
      ...Array.from({ length: 2 }, () => ({ ageBand: '70-74', sex: 'female', city: '杭州市', diagnosis: 'C50.4' })),
    ];
    const a = assessRelease(rows, { k: 5, quasiIdentifiers: ['ageBand', 'sex', 'city'], sensitive: ['diagnosis'] });
    expect(a.k).toBe(2);
    expect(a.satisfied).toBe(false);
    expect(a.classes).toBe(2);
    expect(a.violatingClasses).toEqual([{ quasiIdentifiers: { ageBand: '70-74', sex: 'female', city: '杭州市' }, size: 2 }]);
    expect(a.lDiversity.perAttribute.diagnosis).toBe(1);
    expect(a.lDiversity.violatingClasses).toBe(1);
  });

  it('R-DEID-5: enforcement generalizes quasi-identifiers, then suppresses what is left, and reports it', () => {
    const rows = table();
    const before = assessRelease(rows, { k: 5, quasiIdentifiers: ['age', 'sex', 'city'] });
    expect(before.satisfied).toBe(false);
    const a = assessRelease(rows, {
      k: 5,
      quasiIdentifiers: ['age', 'sex', 'city'],
      sensitive: ['subtype'],
      l: 1,
      enforce: true,
      maxSuppressionRate: 0.2,
      hierarchies: {
        age: [(v) => ageBand(Number(v)), (v) => ageBand(Number(String(v).split('-')[0]), 10), () => '*'],
        city: [() => '*'],
      },
    });
    expect(a.satisfied).toBe(true);
    expect(a.k).toBeGreaterThanOrEqual(5);
    expect(a.rows!.length + a.suppressedRows!.length).toBe(rows.length);
    expect(a.suppressedRows!.length).toBeLessThanOrEqual(Math.floor(0.2 * rows.length));
    expect(Object.values(a.generalizationLevels!).some((l) => l > 0)).toBe(true);
    // The input is untouched.
    expect(typeof rows[0]!.age).toBe('number');
  });
});
