import { createHash } from 'node:crypto';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors';
import type { Actor } from '../identity/actor';
import type { Clock } from '../ports/clock';
import type { DocumentStore, Item } from '../ports/document-store';
import type { IdGenerator } from '../ports/id-generator';
import type { ResearchRecords, StoredFile, TimelineEvent } from './research-records';

/** Lifecycle event types a data manager may record (R-MPI-4), besides those ingestion derives. */
export const CURATED_EVENT_TYPES = [
  'first-visit',
  'visit',
  'diagnosis',
  'surgery',
  'procedure',
  'chemotherapy-cycle',
  'radiotherapy-cycle',
  'medication',
  'imaging',
  'report',
  'follow-up',
  'recurrence',
  'other',
] as const;

/** One of {@link CURATED_EVENT_TYPES}. */
export type CuratedEventType = (typeof CURATED_EVENT_TYPES)[number];

/** An annotation on an event: who wrote it and when are kept with the text. */
export interface TimelineAnnotation {
  annotationId: string;
  at: string;
  by: string;
  byName?: string;
  text: string;
}

/** One entry of an event's change history (field names, never values). */
export interface TimelineChange {
  version: number;
  at: string;
  by: string;
  change: 'created' | 'edited' | 'annotated';
  fields: string[];
}

/** An event as curation sees it: the ingested or manual event with its version, annotations and history. */
export interface CuratedEvent {
  eventId: string;
  patientId: string;
  type: string;
  occurredAt: string;
  endedAt?: string;
  title: { zh: string; en: string };
  recordRefs: string[];
  fileIds: string[];
  source: 'ingested' | 'manual';
  /** 0 for an ingested event nobody has curated yet; every change adds one. */
  version: number;
  annotations: TimelineAnnotation[];
  history: TimelineChange[];
  updatedAt?: string;
  updatedBy?: string;
}

/** Fields of a new event. */
export interface AddEventInput {
  type: CuratedEventType;
  occurredAt: string;
  endedAt?: string;
  title: { zh: string; en: string };
  recordRefs?: string[];
  fileIds?: string[];
}

/** An edit: the version it was based on (optimistic concurrency) and the fields to change. */
export interface EditEventInput {
  expectedVersion: number;
  type?: CuratedEventType;
  occurredAt?: string;
  /** `null` removes the end. */
  endedAt?: string | null;
  title?: { zh: string; en: string };
  recordRefs?: string[];
  fileIds?: string[];
}

/** An annotation; `expectedVersion` is optional (annotations append and rarely conflict). */
export interface AnnotateEventInput {
  text: string;
  expectedVersion?: number;
}

/** What the curation page needs beside the events: the patient's files (metadata only). */
export interface CurationFile {
  fileId: string;
  kind: string;
  contentType: string;
  description: { zh: string; en: string };
  eventId?: string;
}

/** The editable fields of an event (ingested types are not limited to the curated list). */
type EventFields = { type?: string; occurredAt?: string; endedAt?: string; title?: { zh: string; en: string }; recordRefs?: string[]; fileIds?: string[] };

/** A patient as the curation page lists it: pseudonymous id and research facts only. */
export interface CuratablePatient {
  patientId: string;
  datasetIds: string[];
  sex: string;
  diagnosis?: string;
  stage?: string;
  updatedAt: string;
}

type CurationItem = Item & { version: number; curated: CuratedEvent };
type SnapshotItem = Item & { snapshot: CuratedEvent };

const curKey = (patientId: string, eventId: string) => ({ pk: `PATIENT#${patientId}`, sk: `TLCUR#${eventId}` });

/**
 * The patient's timeline with curation applied: ingested events overlaid by their curated
 * version, plus the events data managers added. Sorted by time. Used by curation and by the
 * researcher release (which de-identifies it), so both see the same timeline.
 */
export async function readCuratedTimeline(store: DocumentStore, research: ResearchRecords, patientId: string): Promise<CuratedEvent[]> {
  const [ingested, curatedPage] = await Promise.all([
    research.timeline(patientId),
    store.query<CurationItem>('main', { pk: `PATIENT#${patientId}`, skPrefix: 'TLCUR#', limit: 1000 }),
  ]);
  const curated = new Map(curatedPage.items.map((i) => [i.curated.eventId, i.curated]));
  const out: CuratedEvent[] = ingested.map((e) => curated.get(e.eventId) ?? fromIngested(e));
  const seen = new Set(ingested.map((e) => e.eventId));
  for (const c of curated.values()) if (!seen.has(c.eventId)) out.push(c);
  return out.sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt) || a.eventId.localeCompare(b.eventId));
}

/** Metadata of every stored file of a patient (no bytes). */
export async function patientFiles(store: DocumentStore, patientId: string): Promise<StoredFile[]> {
  const out: StoredFile[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.query<Item & { file: StoredFile }>('main', { pk: `PATIENT#${patientId}`, skPrefix: 'FILE#', limit: 1000, cursor });
    out.push(...page.items.map((i) => i.file));
    cursor = page.cursor;
  } while (cursor);
  return out;
}

function fromIngested(e: TimelineEvent): CuratedEvent {
  return {
    eventId: e.eventId,
    patientId: e.patientId,
    type: e.type,
    occurredAt: e.occurredAt,
    ...(e.endedAt ? { endedAt: e.endedAt } : {}),
    title: e.title,
    recordRefs: e.recordRefs,
    fileIds: e.fileIds,
    source: e.source ?? 'ingested',
    version: 0,
    annotations: (e.annotations ?? []).map((a, i) => ({ annotationId: `an-ingested-${i}`, ...a })),
    history: [],
  };
}

/**
 * Timeline curation by data managers (R-MPI-4, R-ANA-2): add lifecycle events (first visit,
 * surgery, radiotherapy or chemotherapy cycle, follow-up …), edit them and annotate them.
 *
 * - Works on the research side only: patients are addressed by their internal pseudonymous id;
 *   the identity vault is never read.
 * - A data manager curates only patients of their own institution.
 * - Every change is versioned: the event keeps a version number and a change history, each
 *   version is also kept as a snapshot item; an edit based on a stale version is refused with
 *   `CONFLICT` (HTTP 409) and the current version, so no concurrent change is silently lost.
 * - Linked records and files must belong to the patient.
 */
export class TimelineCuration {
  constructor(
    private readonly store: DocumentStore,
    private readonly research: ResearchRecords,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  /**
   * The caller's institution's patients in the given datasets, by pseudonymous id with research
   * facts only (no vault value): how a data manager finds the patient to curate.
   */
  async patients(actor: Actor, datasetIds: readonly string[], q?: string): Promise<CuratablePatient[]> {
    const seen = new Map<string, CuratablePatient>();
    for (const datasetId of datasetIds) {
      for (const p of await this.research.profilesOf(datasetId)) {
        if (seen.has(p.patientId)) continue;
        if (actor.kind !== 'system' && (!actor.institution || !p.institutions.includes(actor.institution))) continue;
        seen.set(p.patientId, { patientId: p.patientId, datasetIds: p.datasetIds, sex: p.sex, ...(p.diagnosis ? { diagnosis: `${p.diagnosis.code} ${p.diagnosis.display}`.trim() } : {}), ...(p.stage ? { stage: p.stage } : {}), updatedAt: p.updatedAt });
      }
    }
    const needle = q?.trim().toLowerCase();
    const all = [...seen.values()].sort((a, b) => a.patientId.localeCompare(b.patientId));
    return needle ? all.filter((p) => [p.patientId, p.diagnosis ?? '', p.stage ?? ''].some((v) => v.toLowerCase().includes(needle))) : all;
  }

  /** The curated timeline of one patient and the patient's files (for linking). */
  async timeline(actor: Actor, patientId: string): Promise<{ patientId: string; events: CuratedEvent[]; files: CurationFile[] }> {
    await this.patientOf(actor, patientId);
    const [events, files] = await Promise.all([readCuratedTimeline(this.store, this.research, patientId), this.files(patientId)]);
    return { patientId, events, files: files.map((f) => ({ fileId: f.fileId, kind: f.kind, contentType: f.contentType, description: f.description, ...(f.eventId ? { eventId: f.eventId } : {}) })) };
  }

  /** Adds a manual event (version 1). */
  async add(actor: Actor, patientId: string, input: AddEventInput): Promise<CuratedEvent> {
    await this.patientOf(actor, patientId);
    const fields = await this.checked(patientId, input);
    const now = this.now();
    const event: CuratedEvent = {
      eventId: `tle-${this.ids.next('e').replace(/[^A-Za-z0-9]/g, '').slice(-16).toLowerCase()}`,
      patientId,
      type: fields.type!,
      occurredAt: fields.occurredAt!,
      ...(fields.endedAt ? { endedAt: fields.endedAt } : {}),
      title: fields.title!,
      recordRefs: fields.recordRefs ?? [],
      fileIds: fields.fileIds ?? [],
      source: 'manual',
      version: 1,
      annotations: [],
      history: [{ version: 1, at: now, by: actor.id, change: 'created', fields: Object.keys(input).sort() }],
      updatedAt: now,
      updatedBy: actor.id,
    };
    await this.write(event, 0);
    return event;
  }

  /** Edits an event (ingested or manual); refused with CONFLICT when `expectedVersion` is stale. */
  async edit(actor: Actor, patientId: string, eventId: string, input: EditEventInput): Promise<CuratedEvent> {
    await this.patientOf(actor, patientId);
    const current = await this.current(patientId, eventId);
    if (current.version !== input.expectedVersion) throw stale(eventId, current.version, input.expectedVersion);
    const { expectedVersion: _v, ...changes } = input;
    const changed = Object.keys(changes).filter((k) => (changes as Record<string, unknown>)[k] !== undefined);
    if (changed.length === 0) throw new ValidationError('nothing to change', { in: 'body' });
    const fields = await this.checked(patientId, { ...current, ...changes, endedAt: changes.endedAt === null ? undefined : (changes.endedAt ?? current.endedAt) });
    const now = this.now();
    const version = current.version + 1;
    const { endedAt: _e, ...rest } = current;
    const next: CuratedEvent = {
      ...rest,
      type: fields.type!,
      occurredAt: fields.occurredAt!,
      ...(fields.endedAt ? { endedAt: fields.endedAt } : {}),
      title: fields.title!,
      recordRefs: fields.recordRefs ?? [],
      fileIds: fields.fileIds ?? [],
      version,
      history: [...current.history, { version, at: now, by: actor.id, change: 'edited', fields: changed.sort() }],
      updatedAt: now,
      updatedBy: actor.id,
    };
    await this.write(next, current.version);
    return next;
  }

  /** Adds an annotation (author and time kept). Retries a lost race unless the caller pinned a version. */
  async annotate(actor: Actor, patientId: string, eventId: string, input: AnnotateEventInput): Promise<CuratedEvent> {
    await this.patientOf(actor, patientId);
    const text = input.text.trim();
    if (!text) throw new ValidationError('the annotation is empty', { in: 'body', field: 'text' });
    for (let attempt = 0; ; attempt++) {
      const current = await this.current(patientId, eventId);
      if (input.expectedVersion !== undefined && current.version !== input.expectedVersion) throw stale(eventId, current.version, input.expectedVersion);
      const now = this.now();
      const version = current.version + 1;
      const next: CuratedEvent = {
        ...current,
        version,
        annotations: [...current.annotations, { annotationId: `an-${this.ids.next('a').replace(/[^A-Za-z0-9]/g, '').slice(-16).toLowerCase()}`, at: now, by: actor.id, ...(actor.displayName ? { byName: actor.displayName } : {}), text }],
        history: [...current.history, { version, at: now, by: actor.id, change: 'annotated', fields: ['annotations'] }],
        updatedAt: now,
        updatedBy: actor.id,
      };
      try {
        await this.write(next, current.version);
        return next;
      } catch (e) {
        if (!(e instanceof ConflictError) || input.expectedVersion !== undefined || attempt >= 2) throw e;
      }
    }
  }

  /**
   * Links ingested document files (PDF, images, text reports) to the timeline event of the
   * encounter their FHIR DocumentReference names (R-MPI-5: an event shows its files beside its
   * records). A file matches a DocumentReference attachment when its name and size agree and,
   * when the attachment carries one, its SHA-1 `hash` too (verified on the decrypted bytes). The
   * DocumentReference is linked as a record of the event. Each change is an ordinary versioned
   * edit by `actor`; repeating the call changes nothing.
   */
  async linkDocuments(actor: Actor, patientId: string): Promise<{ linked: number }> {
    await this.patientOf(actor, patientId);
    const [docs, files] = await Promise.all([this.research.records(patientId, 'DocumentReference'), this.files(patientId)]);
    const plan = new Map<string, { refs: Set<string>; files: Set<string> }>();
    for (const d of docs) {
      const encounter = ((d.context as { encounter?: Array<{ reference?: string }> } | undefined)?.encounter ?? [])[0]?.reference;
      if (!encounter?.startsWith('Encounter/')) continue;
      for (const c of (d.content as Array<{ attachment?: { url?: string; size?: number; hash?: string } }> | undefined) ?? []) {
        const a = c.attachment;
        const name = a?.url?.split('/').pop();
        if (!a || !name) continue;
        const candidates = files.filter((f) => f.fileName === name && (a.size === undefined || f.sizeBytes === a.size) && f.kind !== 'document-text');
        for (const f of candidates) {
          if (a.hash) {
            const read = await this.research.readFile(patientId, f.fileId);
            if (!read || createHash('sha1').update(read.bytes).digest('base64') !== a.hash) continue;
          }
          const p = plan.get(encounter) ?? { refs: new Set<string>(), files: new Set<string>() };
          p.refs.add(`DocumentReference/${String(d.id)}`);
          p.files.add(f.fileId);
          plan.set(encounter, p);
        }
      }
    }
    if (plan.size === 0) return { linked: 0 };
    const events = await readCuratedTimeline(this.store, this.research, patientId);
    let linked = 0;
    for (const [encounter, p] of plan) {
      const event = events.find((e) => e.recordRefs.includes(encounter));
      if (!event) continue;
      const fileIds = [...new Set([...event.fileIds, ...p.files])];
      const recordRefs = [...new Set([...event.recordRefs, ...p.refs])];
      if (fileIds.length === event.fileIds.length && recordRefs.length === event.recordRefs.length) continue;
      await this.edit(actor, patientId, event.eventId, { expectedVersion: event.version, fileIds, recordRefs });
      linked += fileIds.length - event.fileIds.length;
    }
    return { linked };
  }

  /** Every stored version of an event, oldest first (R-ANA-2: edits are versioned). */
  async versions(actor: Actor, patientId: string, eventId: string): Promise<CuratedEvent[]> {
    await this.patientOf(actor, patientId);
    const page = await this.store.query<SnapshotItem>('main', { pk: `PATIENT#${patientId}`, skPrefix: `TLVER#${eventId}#`, limit: 1000 });
    if (page.items.length === 0) await this.current(patientId, eventId);
    return page.items.map((i) => i.snapshot);
  }

  /** The event as it stands (curated version, or the ingested event at version 0). */
  private async current(patientId: string, eventId: string): Promise<CuratedEvent> {
    const item = await this.store.get<CurationItem>('main', curKey(patientId, eventId));
    if (item) return item.curated;
    const ingested = (await this.research.timeline(patientId)).find((e) => e.eventId === eventId);
    if (!ingested) throw new NotFoundError('timeline event', { eventId });
    return fromIngested(ingested);
  }

  /** Current state and the snapshot of this version, in one transaction (conditional on the version read). */
  private async write(event: CuratedEvent, expectedVersion: number): Promise<void> {
    try {
      await this.store.transact([
        { kind: 'put', table: 'main', item: { ...curKey(event.patientId, event.eventId), version: event.version, curated: event }, options: { expectedVersion } },
        { kind: 'put', table: 'main', item: { pk: `PATIENT#${event.patientId}`, sk: `TLVER#${event.eventId}#${String(event.version).padStart(6, '0')}`, snapshot: event }, options: { ifNotExists: true } },
      ]);
    } catch (e) {
      if (e instanceof ConflictError) {
        const now = (await this.store.get<CurationItem>('main', curKey(event.patientId, event.eventId)))?.version ?? 0;
        throw stale(event.eventId, now, expectedVersion);
      }
      throw e;
    }
  }

  /** Validates times, types and that linked records and files are the patient's own. */
  private async checked(patientId: string, f: EventFields): Promise<EventFields> {
    const at = Date.parse(f.occurredAt ?? '');
    if (!Number.isFinite(at)) throw new ValidationError('occurredAt is not a date-time', { in: 'body', field: 'occurredAt' });
    if (f.endedAt !== undefined) {
      const end = Date.parse(f.endedAt);
      if (!Number.isFinite(end)) throw new ValidationError('endedAt is not a date-time', { in: 'body', field: 'endedAt' });
      if (end < at) throw new ValidationError('endedAt is before occurredAt', { in: 'body', field: 'endedAt' });
    }
    if (!f.title || (!f.title.zh.trim() && !f.title.en.trim())) throw new ValidationError('a title is required (zh or en)', { in: 'body', field: 'title' });
    const refs = [...new Set(f.recordRefs ?? [])];
    for (const ref of refs) {
      const [type, id] = ref.split('/');
      if (!type || !id || !(await this.research.getRecord(patientId, type, id))) throw new ValidationError('a linked record is not one of the patient’s records', { in: 'body', field: 'recordRefs', ref });
    }
    const files = [...new Set(f.fileIds ?? [])];
    for (const fileId of files) {
      if (!(await this.research.getFile(patientId, fileId))) throw new ValidationError('a linked file is not one of the patient’s files', { in: 'body', field: 'fileIds', fileId });
    }
    return { type: f.type, occurredAt: new Date(at).toISOString(), ...(f.endedAt !== undefined ? { endedAt: new Date(Date.parse(f.endedAt)).toISOString() } : {}), title: { zh: f.title.zh.trim(), en: f.title.en.trim() }, recordRefs: refs, fileIds: files };
  }

  /** The patient, if it exists and belongs to the caller's institution (data managers curate their own). */
  private async patientOf(actor: Actor, patientId: string) {
    const profile = await this.research.getProfile(patientId);
    if (!profile) throw new NotFoundError('patient', { patientId });
    if (actor.kind !== 'system' && (!actor.institution || !profile.institutions.includes(actor.institution))) throw new ForbiddenError('the patient is not one of your institution’s patients', { patientId });
    return profile;
  }

  private files(patientId: string): Promise<StoredFile[]> {
    return patientFiles(this.store, patientId);
  }

  private now(): string {
    return new Date(this.clock.now()).toISOString();
  }
}

function stale(eventId: string, currentVersion: number, expectedVersion: number | undefined): ConflictError {
  return new ConflictError('the event was changed since you read it: reload and apply your change again', { eventId, currentVersion, ...(expectedVersion !== undefined ? { expectedVersion } : {}) });
}
