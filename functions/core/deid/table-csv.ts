import { parseCsv } from '../ingestion/table-ingestor';

/**
 * CSV in and out of the table engine (RFC 4180: comma, double-quote escaping, CRLF or LF). The
 * reader is the ingestion pipeline's; rows become objects keyed by the header.
 */
export function readCsvRows(text: string): { columns: string[]; rows: Array<Record<string, string>> } {
  const lines = parseCsv(text.replace(/^\uFEFF/, '')).filter((l) => l.cells.some((c) => c !== ''));
  const columns = (lines[0]?.cells ?? []).map((c) => c.trim());
  const rows = lines.slice(1).map((l) => Object.fromEntries(columns.map((c, i) => [c, l.cells[i] ?? ''])));
  return { columns, rows };
}

/** Writes rows as CSV with a header, quoting cells that need it. */
export function writeCsvRows(columns: readonly string[], rows: ReadonlyArray<Record<string, string>>): string {
  const cell = (v: string) => (/[",\r\n]/.test(v) || /^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [columns.map(cell).join(','), ...rows.map((r) => columns.map((c) => cell(r[c] ?? '')).join(','))].join('\n') + '\n';
}
