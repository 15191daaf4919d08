import { shiftFhirDate } from '../deid/date-shift';
import type { DeidPolicy } from '../deid/deid-policy';
import type { Pseudonymizer } from '../deid/pseudonym';
import { scrubText } from '../deid/text-scrubber';
import type { CuratedEvent } from '../patients/timeline-curation';
import type { StoredFile } from '../patients/research-records';

/** How a released file can be previewed (R-ANA-2). */
export type ReleasedFileKind = 'dicom' | 'pdf' | 'image' | 'text';

/** A file as a researcher sees it: a grant-scoped id, its kind and a scrubbed title. Never its name or internal id. */
export interface ReleasedFile {
  fileId: string;
  kind: ReleasedFileKind;
  title: { zh: string; en: string };
}

/** A de-identified timeline event (R-DEID-1): dates shifted, annotations scrubbed, ids grant-scoped. */
export interface ReleasedTimelineEvent {
  eventId: string;
  type: string;
  occurredAt: string;
  endedAt?: string;
  title: { zh: string; en: string };
  recordRefs: string[];
  fileIds: string[];
  files: ReleasedFile[];
  source: 'ingested' | 'manual';
  annotations: Array<{ at: string; byName?: string; text: string }>;
}

/**
 * Policies under which plain images (PNG/JPEG photos, screenshots, dose maps) are released. An
 * image has no header to clean and may show burned-in text or a face; the strict wide-sharing
 * policy releases none, the research and project policies release re-encoded PNGs (metadata
 * chunks dropped). DICOM is released through the Annex E profile under every policy.
 */
export const IMAGE_RELEASE_POLICIES: ReadonlySet<string> = new Set(['l2-research', 'l3-project']);

/** What the release needs to map events: the grant's pseudonymizer, the patient's date shift, the policy and the granted modalities. */
export interface ReleaseContext {
  policy: DeidPolicy;
  pseudonymizer: Pseudonymizer;
  shiftDays: number;
  /** Granted modalities; empty means every modality. */
  modalities: readonly string[];
  /** The internal pseudonymous patient id, removed from titles (researchers only know the grant token). */
  patientId: string;
  /** The grant-scoped patient token, shown instead. */
  patientToken: string;
}

/** Released kind of a stored file under a policy and grant, or undefined when it is not released. */
export function releasedKind(file: Pick<StoredFile, 'kind' | 'contentType'>, ctx: Pick<ReleaseContext, 'policy' | 'modalities'>): ReleasedFileKind | undefined {
  const granted = (m: string) => ctx.modalities.length === 0 || ctx.modalities.includes(m);
  const type = file.contentType.split(';')[0]!.trim().toLowerCase();
  // DICOM previews rendered at ingest are not released: frames are rendered from the de-identified dataset instead.
  if (file.kind === 'dicom' || type === 'application/dicom') return granted('imaging') ? 'dicom' : undefined;
  if (!granted('documents')) return undefined;
  if (type === 'application/pdf') return 'pdf';
  // Text extracted from a PDF is released through the PDF's rendition, not a second time.
  if (file.kind === 'document-text') return undefined;
  if (type === 'text/plain') return 'text';
  if (type === 'image/png' && file.kind !== 'dicom-preview' && IMAGE_RELEASE_POLICIES.has(ctx.policy.id)) return 'image';
  return undefined;
}

/** The grant-scoped id of a file (stable within a grant, unlinkable across grants). */
export function releasedFileId(pseudonymizer: Pseudonymizer, fileId: string): Promise<string> {
  return pseudonymizer.token('file', fileId);
}

/** A file title without the internal patient id and with free-text PHI scrubbed. */
export function releasedTitle(description: { zh: string; en: string }, ctx: Pick<ReleaseContext, 'patientId' | 'patientToken' | 'policy' | 'shiftDays'>): { zh: string; en: string } {
  const clean = (s: string) => scrubText(s.split(ctx.patientId).join('…'), { policy: ctx.policy, dateShiftDays: ctx.shiftDays }).text;
  return { zh: clean(description.zh), en: clean(description.en) };
}

/**
 * Maps the curated timeline to what a researcher sees: event times shifted by the patient's
 * offset like every other date of the release, record references and file ids replaced by their
 * grant-scoped tokens, only files the grant and policy release, annotation text through the
 * free-text scrubber (annotations are written by staff and may quote identifiers).
 */
export async function releaseTimeline(events: readonly CuratedEvent[], files: readonly StoredFile[], ctx: ReleaseContext): Promise<ReleasedTimelineEvent[]> {
  const byId = new Map(files.map((f) => [f.fileId, f]));
  const releasedRef = async (ref: string) => {
    const [type, id] = ref.split('/');
    return `${type}/${await ctx.pseudonymizer.token(`res:${type}`, id ?? '')}`;
  };
  const shift = (iso: string) => shiftFhirDate(iso, ctx.shiftDays);
  return Promise.all(
    events.map(async (e) => {
      const recordRefs = await Promise.all(e.recordRefs.map(releasedRef));
      const released: ReleasedFile[] = [];
      for (const id of e.fileIds) {
        const f = byId.get(id);
        const kind = f ? releasedKind(f, ctx) : undefined;
        if (!f || !kind) continue;
        released.push({ fileId: await releasedFileId(ctx.pseudonymizer, id), kind, title: releasedTitle(f.description, ctx) });
      }
      // Ingested events keep the id derived from their first record (stable links); manual ones get a grant-scoped token.
      const eventId = e.source === 'manual' ? `ev-${await ctx.pseudonymizer.token('timeline-event', e.eventId)}` : `ev-${(recordRefs[0] ?? e.eventId).replace('/', '-')}`;
      return {
        eventId,
        type: e.type,
        occurredAt: shift(e.occurredAt),
        ...(e.endedAt ? { endedAt: shift(e.endedAt) } : {}),
        // Titles typed by staff are free text; ingested titles come from coded displays.
        title: e.source === 'manual' ? { zh: scrubText(e.title.zh, { policy: ctx.policy, dateShiftDays: ctx.shiftDays }).text, en: scrubText(e.title.en, { policy: ctx.policy, dateShiftDays: ctx.shiftDays }).text } : e.title,
        recordRefs,
        fileIds: released.map((f) => f.fileId),
        files: released,
        source: e.source,
        annotations: e.annotations.map((a) => ({ at: a.at, ...(a.byName ? { byName: a.byName } : {}), text: scrubText(a.text, { policy: ctx.policy, dateShiftDays: ctx.shiftDays }).text })),
      };
    }),
  );
}
