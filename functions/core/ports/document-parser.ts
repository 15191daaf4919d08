/** What a document parser extracts from a PDF. */
export interface ParsedPdf {
  pageCount: number;
  /** The text layer, pages separated by form feeds; empty for scanned PDFs without one. */
  text: string;
}

/**
 * Port: text extraction from PDFs. Kept outside the core because the library (pdf.js) is heavy
 * and loads lazily; the core only needs page count and text.
 *
 * @example
 * const { pageCount, text } = await parser.parsePdf(bytes);
 */
export interface DocumentParser {
  /** Throws when the bytes are not a readable PDF. */
  parsePdf(bytes: Uint8Array): Promise<ParsedPdf>;
}
