import { existsSync, readFileSync } from 'node:fs';
import PDFDocument from 'pdfkit';
import type { DocumentRenderer, TextRendition } from '../../core/ports/document-renderer';

/** Debian `fonts-wqy-microhei` (the portal and the demo PDFs use the same font). */
export const DEFAULT_CJK_FONT = '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc';
const CJK_FAMILY = 'WenQuanYiMicroHei';

/**
 * Lays out plain text into a new A4 PDF with pdfkit (the de-identified rendition of a document,
 * R-ANA-2). Chinese needs a CJK font: the TrueType collection is parsed once per process; without
 * it characters outside Latin-1 are replaced by `?` rather than printed as garbage.
 */
export class PdfKitDocumentRenderer implements DocumentRenderer {
  private font: unknown | null | undefined;

  constructor(private readonly cjkFontPath: string | undefined = DEFAULT_CJK_FONT) {}

  async renderTextPdf(input: TextRendition): Promise<Uint8Array> {
    const font = this.cjkFont();
    const doc = new PDFDocument({
      ...(font !== null ? { font: font as unknown as string } : {}),
      size: 'A4',
      margin: 50,
      compress: true,
      // No dates or producer details that could tie the rendition to a time or a user.
      info: { Title: 'De-identified rendition', Creator: 'MDRP', Producer: 'MDRP' },
    });
    if (font !== null) {
      doc.registerFont('cjk', font as unknown as Buffer, CJK_FAMILY);
      doc.font('cjk');
    }
    const text = (s: string) => (font !== null ? s : s.replace(/[^\u0000-\u00ff]/g, '?'));
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    const done = new Promise<void>((resolve, reject) => {
      doc.on('end', () => resolve());
      doc.on('error', reject);
    });
    input.pages.forEach((page, i) => {
      if (i > 0) doc.addPage();
      doc.fontSize(8).fillColor('#8a1c1c').text(text(input.banner));
      doc.moveDown(0.5);
      if (i === 0) doc.fontSize(12).fillColor('#000000').text(text(input.title)).moveDown(0.5);
      doc.fontSize(10).fillColor('#000000').text(text(page.trim() || '—'), { lineGap: 2 });
    });
    doc.end();
    await done;
    return new Uint8Array(Buffer.concat(chunks));
  }

  private cjkFont(): unknown | null {
    if (this.font !== undefined) return this.font;
    if (!this.cjkFontPath || !existsSync(this.cjkFontPath)) return (this.font = null);
    // pdfkit accepts a parsed fontkit font; parse it once through a throw-away document.
    const probe = new PDFDocument({ autoFirstPage: false });
    probe.registerFont('cjk', readFileSync(this.cjkFontPath), CJK_FAMILY);
    probe.font('cjk');
    this.font = (probe as unknown as { _font: { font: unknown } })._font.font;
    return this.font;
  }
}
