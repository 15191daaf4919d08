import { SpreadsheetRejected, type SpreadsheetReader } from '../../core/ports/spreadsheet-reader';

type ExcelJs = typeof import('exceljs');

/** Excel dates carry no zone: exceljs hands them over as UTC instants of the wall-clock value. */
function wallClock(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const date = `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}`;
  return d.getUTCHours() || d.getUTCMinutes() || d.getUTCSeconds() ? `${date} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}` : date;
}

/** One cell as the text a CSV export of the sheet would hold. */
function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return wallClock(v);
  if (typeof v === 'object') {
    const o = v as { result?: unknown; richText?: Array<{ text: string }>; text?: unknown; error?: string };
    if ('result' in o) return cellText(o.result); // formula: its cached result
    if (o.richText) return o.richText.map((r) => r.text).join('');
    if ('text' in o) return cellText(o.text); // hyperlink
    if (o.error) return '';
  }
  return String(v);
}

/**
 * XLSX reading with exceljs (imported on first use). Only the first worksheet is read; formulas
 * are taken at their cached result, never evaluated.
 */
export class ExcelJsSpreadsheetReader implements SpreadsheetReader {
  private lib?: Promise<ExcelJs>;

  async readFirstSheet(bytes: Uint8Array, limits: { maxRows: number; maxColumns: number }): Promise<string[][]> {
    this.lib ??= import('exceljs');
    const mod = await this.lib;
    const ExcelJS = ((mod as unknown as { default?: ExcelJs }).default ?? mod) as ExcelJs;
    const wb = new ExcelJS.Workbook();
    try {
      await wb.xlsx.load(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as unknown as Parameters<typeof wb.xlsx.load>[0]);
    } catch {
      throw new SpreadsheetRejected('the file is not a readable XLSX workbook');
    }
    const sheet = wb.worksheets[0];
    if (!sheet) throw new SpreadsheetRejected('the workbook has no worksheet');
    if (sheet.actualRowCount > limits.maxRows) throw new SpreadsheetRejected(`more than ${limits.maxRows} rows`);
    if (sheet.actualColumnCount > limits.maxColumns) throw new SpreadsheetRejected(`more than ${limits.maxColumns} columns`);
    const width = sheet.actualColumnCount;
    const rows: string[][] = [];
    sheet.eachRow({ includeEmpty: true }, (row) => {
      const cells: string[] = [];
      for (let c = 1; c <= width; c++) cells.push(cellText(row.getCell(c).value));
      rows.push(cells);
    });
    return rows;
  }
}
