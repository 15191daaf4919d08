import { PNG } from 'pngjs';
import { deidentifyDicom } from '../deid/deidentify-dicom';
import { DomainError, NotFoundError, ValidationError } from '../errors';
import type { Actor } from '../identity/actor';
import { parseDicom } from '../ingestion/dicom-image';
import type { ResearchRecords, StoredFile } from '../patients/research-records';
import { patientFiles, readCuratedTimeline } from '../patients/timeline-curation';
import type { DocumentParser } from '../ports/document-parser';
import type { DocumentRenderer } from '../ports/document-renderer';
import type { DocumentStore } from '../ports/document-store';
import type { KeyProvider } from '../ports/key-provider';
import { renderDicomFrame } from '../preview/dicom-frame';
import { deidentifyDocumentText } from '../preview/document-redaction';
import { releasedFileId, releasedKind, type ReleasedFileKind } from './released-timeline';
import type { ResearchAccessService } from './research-access-service';

/** What the researcher asked to see: the de-identified object itself or a rendered DICOM frame. */
export interface PreviewRequest {
  /** `png` (default for DICOM: a rendered frame) or `dicom` (the de-identified Part 10 dataset). */
  format?: 'png' | 'dicom';
  frame?: number;
  /** Window centre and width (modality units, e.g. HU) for DICOM frames. */
  wc?: number;
  ww?: number;
}

/** A de-identified rendition ready to stream inline. */
export interface FilePreview {
  bytes: Uint8Array;
  contentType: string;
  /** Safe name for `Content-Disposition` (the grant-scoped file id, never the stored name). */
  fileName: string;
  kind: ReleasedFileKind;
  /** How the rendition was made (audited). */
  rendition: 'deidentified-dicom' | 'dicom-frame-png' | 'text-rendition-pdf' | 'scrubbed-text' | 'reencoded-png';
  policy: { id: string; version: string };
  /** DICOM frames: the window applied, the default window, frames and value range. */
  dicom?: { frame: number; frames: number; window?: { center: number; width: number }; defaultWindow?: { center: number; width: number }; range?: { min: number; max: number } };
  /** Count of PHI spans removed from document text (audited as a number, never the values). */
  removedSpans?: number;
}

/**
 * Inline previews of released files without download (R-ANA-2, R-DEID-1, R-SEC-4). The grant is
 * checked at decision time like every research read; the file must be one the released timeline
 * shows (granted modality, released kind). The stored object is decrypted and its SHA-256
 * verified, then only a de-identified rendition leaves the service:
 * - DICOM: the dataset through the grant policy's PS3.15 Annex E profile (PatientIdentityRemoved
 *   YES, UIDs and dates replaced), or one frame of that dataset rendered to PNG with window/level;
 * - PDF: never the original (it may carry printed identifiers): its text, with identifying form
 *   fields and free-text PHI removed and dates shifted, laid out into a new PDF;
 * - plain text: scrubbed the same way;
 * - PNG images (only under policies that release images): decoded and re-encoded, so no metadata
 *   chunk survives.
 */
export class FilePreviewService {
  constructor(
    private readonly store: DocumentStore,
    private readonly access: ResearchAccessService,
    private readonly research: ResearchRecords,
    private readonly keys: KeyProvider,
    private readonly parser: DocumentParser,
    private readonly renderer: DocumentRenderer,
  ) {}

  async preview(actor: Actor, grantId: string, token: string, fileToken: string, req: PreviewRequest = {}): Promise<FilePreview> {
    const ctx = await this.access.releasedContext(actor, grantId, token);
    const { file, kind } = await this.releasedFile(ctx, fileToken);
    if (req.format === 'dicom' && kind !== 'dicom') throw new ValidationError('format=dicom applies to DICOM files only', { in: 'query', field: 'format' });
    const stored = await this.research.readFile(ctx.patientId, file.fileId);
    if (!stored) throw new NotFoundError('file', { fileId: fileToken });
    const policy = { id: ctx.policy.id, version: ctx.policy.version };
    const base = { fileName: fileToken, kind, policy };

    if (kind === 'dicom') {
      const out = await deidentifyDicom(stored.bytes, { policy: ctx.policy, projectId: grantId, patientToken: token, keys: this.keys, pseudonymizer: ctx.pseudonymizer });
      // Refused by the profile (e.g. burned-in annotation the policy cannot clean): not shown at all.
      if (!out.bytes) throw new DomainError('PRECONDITION_FAILED', 'this image cannot be released under the grant’s de-identification policy', { fileId: fileToken, policy: policy.id });
      if (req.format === 'dicom') return { ...base, bytes: out.bytes, contentType: 'application/dicom', fileName: `${fileToken}.dcm`, rendition: 'deidentified-dicom' };
      const frame = renderDicomFrame(parseDicom(out.bytes), { ...(req.frame !== undefined ? { frame: req.frame } : {}), ...(req.wc !== undefined ? { center: req.wc } : {}), ...(req.ww !== undefined ? { width: req.ww } : {}) });
      return {
        ...base,
        bytes: frame.png,
        contentType: 'image/png',
        fileName: `${fileToken}.png`,
        rendition: 'dicom-frame-png',
        dicom: { frame: frame.frame, frames: frame.frames, ...(frame.window ? { window: frame.window } : {}), ...(frame.defaultWindow ? { defaultWindow: frame.defaultWindow } : {}), ...(frame.range ? { range: frame.range } : {}) },
      };
    }
    if (kind === 'pdf') {
      const parsed = await this.parser.parsePdf(stored.bytes);
      const clean = deidentifyDocumentText(parsed.text, ctx.policy, ctx.shiftDays);
      const pdf = await this.renderer.renderTextPdf({
        banner: `De-identified text rendition (policy ${policy.id}@${policy.version}) · 去标识化文本版本 — the original layout, images and signatures are not reproduced`,
        title: `${fileToken.slice(0, 8)} · ${parsed.pageCount} page(s)`,
        pages: clean.text.split('\f'),
      });
      return { ...base, bytes: pdf, contentType: 'application/pdf', fileName: `${fileToken}.pdf`, rendition: 'text-rendition-pdf', removedSpans: clean.spans };
    }
    if (kind === 'text') {
      const clean = deidentifyDocumentText(new TextDecoder().decode(stored.bytes), ctx.policy, ctx.shiftDays);
      return { ...base, bytes: new TextEncoder().encode(clean.text), contentType: 'text/plain; charset=utf-8', fileName: `${fileToken}.txt`, rendition: 'scrubbed-text', removedSpans: clean.spans };
    }
    // kind === 'image': pixels only; tEXt/iTXt/eXIf chunks are dropped by decoding and re-encoding.
    let png: PNG;
    try {
      png = PNG.sync.read(Buffer.from(stored.bytes));
    } catch {
      throw new DomainError('UNSUPPORTED_MEDIA_TYPE', 'the image cannot be decoded for a preview', { fileId: fileToken });
    }
    return { ...base, bytes: new Uint8Array(PNG.sync.write(png)), contentType: 'image/png', fileName: `${fileToken}.png`, rendition: 'reencoded-png' };
  }

  /** The stored file behind a grant-scoped file id, if the released timeline shows it. */
  private async releasedFile(ctx: Awaited<ReturnType<ResearchAccessService['releasedContext']>>, fileToken: string): Promise<{ file: StoredFile; kind: ReleasedFileKind }> {
    const [events, files] = await Promise.all([readCuratedTimeline(this.store, this.research, ctx.patientId), patientFiles(this.store, ctx.patientId)]);
    const linked = new Set(events.flatMap((e) => e.fileIds));
    for (const f of files) {
      if (!linked.has(f.fileId)) continue;
      const kind = releasedKind(f, ctx);
      if (kind && (await releasedFileId(ctx.pseudonymizer, f.fileId)) === fileToken) return { file: f, kind };
    }
    throw new NotFoundError('file', { fileId: fileToken });
  }
}
