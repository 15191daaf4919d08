import type { ColumnGeneralization, ColumnRule, TableDescription } from '../catalog/table-columns';
import { PROVINCES } from './chinese-gazetteer';
import { addDaysYmd, ageBand, isValidYmd } from './date-shift';
import { findRule, type DeidAction, type DeidPolicy } from './deid-policy';
import { ReportBuilder, type DeidReport } from './deid-report';
import { maskValue, patientPseudonym } from './deidentify-resource';
import type { KeyProvider } from '../ports/key-provider';
import { Pseudonymizer } from './pseudonym';
import { scrubText } from './text-scrubber';
import { TABLE_RECORD_TYPE, type GrantWatermark } from './watermark';

/** Context of one table de-identification. */
export interface DeidTableContext {
  policy: DeidPolicy;
  /** Project (or grant) the rows are released to: pseudonyms and date offsets are scoped to it. */
  projectId: string;
  keys: KeyProvider;
  /** The catalogue's description of the table (per-column rules, patient key). */
  table?: TableDescription;
  /** Level-3 releases: the grant's keyed column order and marked pseudonyms (R-DEID-6). */
  watermark?: GrantWatermark;
  /** Names and identifiers from the identity vault, removed from free text wherever they occur. */
  knownNames?: readonly string[];
  knownIdentifiers?: readonly string[];
}

export interface DeidTableResult {
  /** Output columns, in output order. */
  columns: string[];
  rows: Array<Record<string, string>>;
  report: DeidReport;
}

/** Where a column's rule came from (shown in the report). */
type Resolved = { action: DeidAction; generalize?: ColumnGeneralization; source: 'catalogue' | 'policy' | 'patient-key' | 'default' };

/**
 * De-identifies table rows (CSV, XLSX sheets, JSON rows) column by column (R-DEID-2, R-DEID-4).
 * Each column's action comes from, in order: the metadata catalogue's rule for the column, the
 * policy's rule for that column name, and — for columns nobody described — `scrub` (the
 * free-text scrubber removes identifiers that hide in unexpected columns; a clean value passes
 * unchanged). The patient key column becomes the patient's project pseudonym, and the patient's
 * keyed date offset shifts every `shift` column (intervals within a patient preserved).
 * Input rows are never mutated; the report names columns and actions, never values.
 *
 * @example
 * const out = await deidentifyTable(rows, { policy: getPolicy('l2-research'), projectId: 'proj-1', keys, table });
 */
export async function deidentifyTable(rows: ReadonlyArray<Record<string, string>>, ctx: DeidTableContext): Promise<DeidTableResult> {
  const name = ctx.table?.table ?? 'table';
  const report = new ReportBuilder(ctx.policy, 'row');
  const p = new Pseudonymizer(ctx.keys, ctx.projectId);
  const inputColumns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const rules = new Map<string, Resolved>(inputColumns.map((c) => [c, resolve(c, ctx)]));
  for (const [c, r] of rules) if (r.action !== 'keep') report.add(`${name}.${c}`, r.action, `${r.source}${r.generalize ? `:${r.generalize}` : ''}`);
  let columns = inputColumns.filter((c) => rules.get(c)!.action !== 'remove');
  if (ctx.watermark) {
    if (ctx.watermark.grantId !== ctx.projectId) throw new Error('watermark belongs to another grant');
    columns = await ctx.watermark.order(TABLE_RECORD_TYPE, columns);
    report.add(`${name}.*`, 'watermark', 'column order');
  }
  const patientColumn = ctx.table?.patientColumn;
  const out: Array<Record<string, string>> = [];
  for (const row of rows) {
    const patientKey = patientColumn ? row[patientColumn] : undefined;
    const patientToken = patientKey ? await patientPseudonym(ctx.keys, ctx.projectId, `patient-key:${patientKey.trim()}`) : undefined;
    const offset = patientToken ? await p.dateOffsetDays(patientToken, ctx.policy.dateShift) : undefined;
    const o: Record<string, string> = {};
    for (const c of columns) {
      const v = row[c];
      if (v === undefined) continue;
      o[c] = await apply(rules.get(c)!, c, v, { p, ctx, name, patientToken, offset, report });
    }
    out.push(o);
  }
  return { columns, rows: out, report: report.report };
}

function resolve(column: string, ctx: DeidTableContext): Resolved {
  const described: ColumnRule | undefined = ctx.table?.columns.find((c) => c.column === column);
  const generalize = described?.generalize ? { generalize: described.generalize } : {};
  if (described?.action) return { action: described.action, ...generalize, source: 'catalogue' };
  if (column === ctx.table?.patientColumn) return { action: 'pseudonymize', source: 'patient-key' };
  const fromPolicy = findRule(ctx.policy, undefined, column) ?? (described?.field ? findRule(ctx.policy, undefined, described.field) : undefined);
  // A column the source flags as PHI is never kept as is, whatever a generic rule says.
  if (fromPolicy && !(described?.phi && fromPolicy.action === 'keep')) return { action: fromPolicy.action, ...generalize, source: 'policy' };
  if (described?.phi) return { action: 'pseudonymize', source: 'catalogue' };
  return { action: 'scrub', source: 'default' };
}

interface CellContext {
  p: Pseudonymizer;
  ctx: DeidTableContext;
  name: string;
  patientToken?: string;
  offset?: number;
  report: ReportBuilder;
}

async function apply(rule: Resolved, column: string, v: string, cc: CellContext): Promise<string> {
  if (v.trim() === '') return v;
  switch (rule.action) {
    case 'remove':
      return '';
    case 'keep':
      return v;
    case 'mask':
      return maskValue(v);
    case 'pseudonymize': {
      const t = column === cc.ctx.table?.patientColumn && cc.patientToken ? cc.patientToken : await cc.p.token(`column:${cc.name}.${column}`, v.trim());
      return cc.ctx.watermark ? cc.ctx.watermark.markToken(t) : t;
    }
    case 'shift': {
      if (cc.offset === undefined) {
        // No patient key: a date cannot be shifted consistently, so it is coarsened to its year.
        const y = /^(\d{4})/.exec(v.trim());
        return y ? y[1]! : '';
      }
      return shiftTableDate(v, cc.offset) ?? scrubText(v, { policy: cc.ctx.policy, dateShiftDays: cc.offset }).text;
    }
    case 'scrub':
      return scrubText(v, { policy: cc.ctx.policy, knownNames: cc.ctx.knownNames, knownIdentifiers: cc.ctx.knownIdentifiers, ...(cc.offset !== undefined ? { dateShiftDays: cc.offset } : {}) }).text;
    case 'generalize':
      return generalizeCell(v, rule.generalize ?? inferGeneralization(column, v));
  }
}

/** Picks a generalization for a column that did not name one. */
function inferGeneralization(column: string, v: string): ColumnGeneralization {
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
