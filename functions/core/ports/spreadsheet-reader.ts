/** A spreadsheet that cannot be read (machine-readable reason in the job report). */
export class SpreadsheetRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpreadsheetRejected';
  }
}

/**
 * Reads the first worksheet of an XLSX workbook as rows of display strings (dates as ISO-like
 * local wall-clock text, numbers as written), so the table pipeline treats it like a CSV.
 */
export interface SpreadsheetReader {
  /** Throws `SpreadsheetRejected` when the bytes are not a readable workbook. */
  readFirstSheet(bytes: Uint8Array, limits: { maxRows: number; maxColumns: number }): Promise<string[][]>;
}
