import type { DeidAction } from '../deid/deid-policy';

/**
 * How a `generalize` rule coarsens a column: age → 5-year band, a date → its year or year-month,
 * an address → province (and city), an ICD-10 code → its 3-character category, a postal code →
 * its first 3 digits (R-DEID-2).
 */
export type ColumnGeneralization = 'age-band' | 'year' | 'year-month' | 'region' | 'icd10-category' | 'postal-prefix';

/** The metadata catalogue's de-identification rule of one table column (R-DEID-2, R-DEID-4). */
export interface ColumnRule {
  column: string;
  /** Explicit action; when absent the policy's rule for `field` (or the column name) applies. */
  action?: DeidAction;
  /** The platform field the column maps to (`recordedAt`, `note`, `patient.mrn` …), as in a column mapping. */
  field?: string;
  /** The source marks the column as holding PHI: never kept as is (pseudonymized unless a rule says otherwise). */
  phi?: boolean;
  /** For `generalize`; inferred from the column's values when absent. */
  generalize?: ColumnGeneralization;
  /** What the column holds (documentation; shown with the policy). */
  description?: string;
}

/** A table of a dataset as the catalogue describes it: its patient key and per-column rules. */
export interface TableDescription {
  /** Table name, e.g. `nursing_records` (file name without extension for CSV exports). */
  table: string;
  /** The column identifying the patient (always pseudonymized to the patient token unless removed). */
  patientColumn?: string;
  columns: ColumnRule[];
}

/** The rules of one table of a dataset's catalogue entry, if the catalogue describes it. */
export function tableDescriptionOf(dataset: { tables?: TableDescription[] }, table: string): TableDescription | undefined {
  return dataset.tables?.find((t) => t.table === table);
}

/**
 * A table description from an ingestion column mapping (`tables/column-mapping.json`, R-ING-2):
 * the patient key, each column's platform field and PHI flag. Keyed by file name without `.csv`.
 */
export function tablesFromColumnMapping(mapping: { tables: Record<string, { patientKey: { column: string }; columns: Array<{ column: string; target: string; phi?: boolean | string }> }> }): TableDescription[] {
  return Object.entries(mapping.tables).map(([file, t]) => ({
    table: file.replace(/\.csv$/i, ''),
    patientColumn: t.patientKey.column,
    columns: t.columns.map((c) => ({ column: c.column, field: c.target.replace(/^patient\./, ''), ...(c.phi === true ? { phi: true } : {}) })),
  }));
}
