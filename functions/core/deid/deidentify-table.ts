import type { ColumnGeneralization, ColumnRule, TableDescription } from '../catalog/table-columns';
import { findRule, type DeidAction, type DeidPolicy } from './deid-policy';
import { ReportBuilder, type DeidReport } from './deid-report';
import { maskValue, patientPseudonym } from './deidentify-resource';
import type { KeyProvider } from '../ports/key-provider';
import { Pseudonymizer } from './pseudonym';
import { generalizeCell, inferGeneralization, shiftTableDate } from './table-cell';
import { scrubText } from './text-scrubber';
import { TABLE_RECORD_TYPE, type GrantWatermark } from './watermark';

export { generalizeCell, shiftTableDate } from './table-cell';

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
