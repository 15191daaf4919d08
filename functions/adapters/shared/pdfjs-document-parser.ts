import type { DocumentParser, ParsedPdf } from '../../core/ports/document-parser';

type PdfJs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');

/**
 * PDF text extraction with pdf.js (`pdfjs-dist` 5.x legacy build, the one that runs on Node 20).
 * The module is imported on first use, so cold starts that never see a PDF do not pay for it.
 * Fonts are not fetched and no worker thread is started (one process, one pdf.js).
 */
export class PdfJsDocumentParser implements DocumentParser {
  private lib?: Promise<PdfJs>;

  async parsePdf(bytes: Uint8Array): Promise<ParsedPdf> {
    this.lib ??= import('pdfjs-dist/legacy/build/pdf.mjs');
    const pdfjs = await this.lib;
    // pdf.js takes ownership of (and may detach) the buffer it is given: pass a copy.
    const doc = await pdfjs.getDocument({ data: new Uint8Array(bytes), isEvalSupported: false, useSystemFonts: false, disableFontFace: true, verbosity: 0 }).promise;
    try {
      const pages: string[] = [];
      for (let n = 1; n <= doc.numPages; n++) {
        const page = await doc.getPage(n);
        const content = await page.getTextContent();
        pages.push(content.items.map((i) => ('str' in i ? i.str + (i.hasEOL ? '\n' : '') : '')).join(''));
        page.cleanup();
      }
      return { pageCount: doc.numPages, text: pages.join('\f') };
    } finally {
      await doc.destroy();
    }
  }
}
