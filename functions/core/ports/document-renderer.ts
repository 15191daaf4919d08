/** A text document to lay out as a new PDF (a de-identified rendition, R-ANA-2). */
export interface TextRendition {
  /** Heading printed on every rendition (what this is and under which policy). */
  banner: string;
  title: string;
  /** Pages of plain text (form feeds in extracted text become page breaks). */
  pages: string[];
}

/**
 * Port: renders plain text into a new PDF. Kept outside the core because the PDF library reads
 * font files (CJK fonts) from disk.
 *
 * @example
 * const pdf = await renderer.renderTextPdf({ banner: 'De-identified rendition', title: 'Report', pages: [text] });
 */
export interface DocumentRenderer {
  renderTextPdf(doc: TextRendition): Promise<Uint8Array>;
}
