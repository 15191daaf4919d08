import { describe, expect, it } from 'vitest';
import { L2_RESEARCH } from '../../../functions/core/deid/deid-policy';
import { isResidentId } from '../../../functions/core/deid/resident-id';
import { findPhi, scrubText } from '../../../functions/core/deid/text-scrubber';
import { ageBand, shiftFhirDate } from '../../../functions/core/deid/date-shift';
import { demoCohort, vaultHints, vaultValues } from './deid-fixtures';

const types = (t: string) => findPhi(t).map((s) => `${t.slice(s.start, s.end)}:${s.type}`);

describe('free-text scrubber detectors (R-DEID-4)', () => {
  it('R-DEID-4: resident IDs need a valid GB 11643 check digit unless a cue says so; 15-digit IDs need a real birth date', () => {
    expect(isResidentId('420106199208048269')).toBe(true);
    expect(isResidentId('420106199208048268')).toBe(false);
    expect(types('编号420106199208048268')).toEqual([]);
    expect(types('身份证号：420106199208048268')).toEqual(['420106199208048268:RESIDENT_ID']);
    expect(types('旧证号码 310104850315123')).toEqual(['310104850315123:RESIDENT_ID']);
  });

  it('R-DEID-4: measurement values, doses, durations and stage codes are not PHI', () => {
    for (const t of ['HBV-DNA 13812345678 copies/mL', 'PLT 135×10^9/L，Ki-67 30%', '放疗50Gy/25次', '发现右乳肿物2月', 'cT2N1M0 IIB期', 'BP 120/80 mmHg', '患者89岁', '主任医师查房', 'Follow-up every 3 months']) {
      expect(types(t), t).toEqual([]);
    }
  });

  it('R-DEID-4: a Chinese name after a bilingual or English form label is found without a vault hint', () => {
    expect(types('姓名 Name: 谢燕   性别 Sex: 女')).toEqual(['谢燕:NAME']);
    expect(types('患者姓名 Patient name：欧阳明华')).toEqual(['欧阳明华:NAME']);
    expect(types('Contact: 何文斌 (spouse)')).toEqual(['何文斌:NAME']);
    // Labels that introduce no name, and English words before a colon that are not labels.
    expect(types('Name: 乳腺癌随访')).toEqual([]);
    expect(types('Diagnosis: 王牌方案')).toEqual([]);
  });

  it('R-DEID-4: replacements follow the text language; dates move by the patient offset', () => {
    expect(scrubText('患者王秀英于2024年10月7日入院', { dateShiftDays: 10, policy: L2_RESEARCH }).text).toBe('患者[姓名]于2024年10月17日入院');
    expect(scrubText('Seen by Dr. Chen on Oct 7, 2024.', { dateShiftDays: -7, policy: L2_RESEARCH }).text).toBe('Seen by Dr. [NAME] on September 30, 2024.');
    expect(scrubText('Seen on 2024-10-07.', { policy: { text: { replacement: 'placeholder', dates: 'redact' } } }).text).toBe('Seen on [DATE].');
    expect(shiftFhirDate('2024-02-28', 2)).toBe('2024-03-01');
    expect(ageBand(47)).toBe('45-49');
    expect(ageBand(93)).toBe('90+');
  });

  it('R-DEID-4: nursing notes of the demo cohort lose every vault value when the vault names are passed', () => {
    for (const p of demoCohort().patients) {
      for (const n of p.nursing) {
        const out = scrubText(n.note, { ...vaultHints(p), policy: L2_RESEARCH }).text;
        for (const v of vaultValues(p)) expect(out).not.toContain(v);
      }
    }
  });
});
