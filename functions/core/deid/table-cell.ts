import type { ColumnGeneralization } from '../catalog/table-columns';
import { PROVINCES } from './chinese-gazetteer';
import { addDaysYmd, ageBand, isValidYmd } from './date-shift';

/*
 * Operations on one table cell, shared by the table engine (`deidentify-table.ts`) and by the
 * FHIR engine for the components of table-row Observations (`deidentify-resource.ts`), so a
 * cell gets the same treatment whichever form it is released in.
 */

/** Picks a generalization for a column that did not name one. */
export function inferGeneralization(column: string, v: string): ColumnGeneralization {
  if (/age|年龄/i.test(column) && /^\d{1,3}$/.test(v.trim())) return 'age-band';
  if (/^\d{4}[-/]?\d{2}[-/]?\d{2}/.test(v.trim())) return 'year';
  if (/^[A-Z]\d{2}(\.\d+)?$/.test(v.trim())) return 'icd10-category';
  if (/^\d{6}$/.test(v.trim())) return 'postal-prefix';
  return 'region';
}

/**
 * Coarsens one value. Anything that does not fit the chosen generalization is suppressed
 * (empty), never passed through.
 */
export function generalizeCell(v: string, how: ColumnGeneralization): string {
  const s = v.trim();
  switch (how) {
    case 'age-band': {
      const n = Number(s);
      return /^\d{1,3}$/.test(s) ? ageBand(n) : '';
    }
    case 'year':
      return /^(\d{4})(?:[-/]?\d{2}){0,2}/.exec(s)?.[1] ?? '';
    case 'year-month': {
      const m = /^(\d{4})[-/]?(\d{2})/.exec(s);
      return m ? `${m[1]}-${m[2]}` : '';
    }
    case 'icd10-category':
      return /^([A-Z]\d{2})/.exec(s)?.[1] ?? '';
    case 'postal-prefix':
      return /^\d{6}$/.test(s) ? `${s.slice(0, 3)}***` : '';
    case 'region': {
      const province = PROVINCES.find((p) => s.startsWith(p) || s.startsWith(p.replace(/(省|市|自治区|特别行政区|壮族自治区|回族自治区|维吾尔自治区)$/, '')));
      if (!province) return '';
      // Municipalities are their own city; otherwise keep the prefecture-level city when it follows.
      const rest = s.slice(s.startsWith(province) ? province.length : province.replace(/(省|市|自治区|特别行政区|壮族自治区|回族自治区|维吾尔自治区)$/, '').length);
      const city = /^([\u4e00-\u9fa5]{2,6}?市)/.exec(rest)?.[1];
      return city && !province.endsWith('市') ? `${province}${city}` : province;
    }
  }
}

/**
 * Shifts a table date/datetime cell by whole days, keeping its format: `2024-03-05`,
 * `2024/03/05 08:30`, `20240305`, `2024-03-05T08:30:00+08:00`. Returns undefined if the cell is not
 * a date.
 */
export function shiftTableDate(v: string, days: number): string | undefined {
  const m = /^(\s*)(\d{4})([-/]?)(\d{2})\3(\d{2})(.*)$/s.exec(v);
  if (!m) return undefined;
  const [, lead, y, sep, mo, d, tail] = m;
  if (!isValidYmd(Number(y), Number(mo), Number(d))) return undefined;
  if (tail && !/^([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?\s*$/.test(tail)) return undefined;
  const r = addDaysYmd(Number(y), Number(mo), Number(d), days);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${lead}${String(r.y).padStart(4, '0')}${sep}${p2(r.m)}${sep}${p2(r.d)}${tail}`;
}
