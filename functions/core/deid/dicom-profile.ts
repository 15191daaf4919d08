import table from './reference/annex-e-table.json';
import type { DicomPolicy } from './deid-policy';

/** Annex E action codes (PS3.15 E.1.1). */
export type AnnexEAction = 'D' | 'Z' | 'X' | 'K' | 'C' | 'U';

/** One row of the derived Table E.1-1. */
export interface AnnexERow {
  /** `GGGGEEEE` upper-case hex, or the pattern text for the four pattern rows. */
  tag: string;
  name: string;
  keyword?: string;
  vr?: string;
  /** Basic Profile action, possibly combined (`X/Z/D`). */
  basic: string;
  cleanDescOpt?: string;
  cleanStructContOpt?: string;
  cleanGraphOpt?: string;
  rtnLongFullDatesOpt?: string;
  rtnLongModifDatesOpt?: string;
  rtnUIDsOpt?: string;
  rtnPatCharsOpt?: string;
  rtnDevIdOpt?: string;
  rtnInstIdOpt?: string;
  rtnSafePrivOpt?: string;
}

/** The derived table (621 rows of the 2024b edition). */
export const ANNEX_E_TABLE: readonly AnnexERow[] = (table as { attributes: AnnexERow[] }).attributes;

/** Rows by tag (single-tag rows only). */
export const ANNEX_E_BY_TAG: ReadonlyMap<string, AnnexERow> = new Map(ANNEX_E_TABLE.filter((r) => /^[0-9A-F]{8}$/.test(r.tag)).map((r) => [r.tag, r]));

/** Deidentification Method Code Sequence codes (CID 7050). */
export const DEID_METHOD_CODES = {
  basic: { code: '113100', meaning: 'Basic Application Confidentiality Profile' },
  cleanPixelData: { code: '113101', meaning: 'Clean Pixel Data Option' },
  cleanDescriptors: { code: '113105', meaning: 'Clean Descriptors Option' },
  retainFullDates: { code: '113106', meaning: 'Retain Longitudinal Temporal Information Full Dates Option' },
  retainModifiedDates: { code: '113107', meaning: 'Retain Longitudinal Temporal Information Modified Dates Option' },
  retainPatientCharacteristics: { code: '113108', meaning: 'Retain Patient Characteristics Option' },
} as const;

/**
 * Resolves the single action for a row under the chosen options. Options override the Basic
 * Profile; for combined basic actions (E.3: the choice depends on the attribute's type in the
 * IOD, which a generic engine does not know) the choice is the one that is always valid:
 * `U` when offered, else `D` (a dummy keeps Type 1 attributes present), else `Z` (keeps Type 2).
 */
export function resolveAction(row: AnnexERow, options: DicomPolicy['options']): AnnexEAction {
  if (options.retainLongitudinalModifiedDates && row.rtnLongModifDatesOpt) return row.rtnLongModifDatesOpt as AnnexEAction;
  if (options.cleanDescriptors && row.cleanDescOpt) return row.cleanDescOpt as AnnexEAction;
  if (options.retainPatientCharacteristics && row.rtnPatCharsOpt) return row.rtnPatCharsOpt as AnnexEAction;
  const parts = row.basic.replace(/\*/g, '').split('/');
  if (parts.length === 1) return parts[0] as AnnexEAction;
  if (parts.includes('U')) return 'U';
  if (parts.includes('D')) return 'D';
  if (parts.includes('Z')) return 'Z';
  return 'X';
}
