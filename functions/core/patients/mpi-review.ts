import { createHash } from 'node:crypto';
import { CatalogService } from '../catalog/catalog-service';
import { ConflictError, isDomainError, NotFoundError, ValidationError } from '../errors';
import type { Clock } from '../ports/clock';
import type { DocumentStore, Item, ItemKey, TableName } from '../ports/document-store';
import type { IdGenerator } from '../ports/id-generator';
import type { KeyProvider } from '../ports/key-provider';
import type { ObjectStore } from '../ports/object-store';
import type { PatientIdentity, PatientIndex } from './patient-index';
import type { PatientProfile } from './research-records';

/**
 * What a data manager sees of one source record of a patient to decide whether two patients are
 * the same person (R-MPI-2). Deliberately minimal: a masked name (first character only), the birth
 * year, sex, institution and which kinds of identifier the source supplied — never the resident
 * ID, MRN, phone, address, full name or full birth date.
 */
export interface MaskedSource {
  institution: string;
  maskedName: string;
  birthYear?: number;
  sex: PatientIdentity['sex'];
  identifierKinds: Array<'residentId' | 'mrn' | 'phone' | 'address' | 'insuranceNumber'>;
}

/** One side of a review case: the pseudonymous id, its masked sources and research-side counts. */
export interface ReviewPatient {
  patientId: string;
  sources: MaskedSource[];
  datasets: string[];
  records: number;
  timelineEvents: number;
  files: number;
  /** Set when this patient was merged into another since the case was opened. */
  mergedInto?: string;
}

export interface MpiReviewCase {
  reviewId: string;
  reason: string;
  openedAt: string;
  status: 'open' | 'merged' | 'dismissed';
  patient: ReviewPatient;
  candidate: ReviewPatient;
}

export interface PatientMerge {
  mergeId: string;
  survivorId: string;
  mergedId: string;
  reviewId?: string;
  status: 'merging' | 'merged' | 'unmerging' | 'unmerged';
  mergedAt: string;
  mergedBy: string;
  unmergedAt?: string;
  unmergedBy?: string;
  counts: { records: number; timelineEvents: number; files: number; datasets: number; sources: number; otherItems: number; conflicts: number };
  /** SHA-256 of the encrypted-at-rest snapshot plaintext, checked before an unmerge replays it. */
  snapshotSha256: string;
}

/** A stored item and the table it lives in. */
interface TableItem {
  table: TableName;
  item: Item;
}

/**
 * The before and after images of a merge. Applying it (merge) puts `after` and deletes what
 * `before` holds that `after` does not overwrite; reverting it (unmerge) deletes what `after` created
 * and puts `before` back. Both are idempotent, so a crash mid-way is repaired by running again.
 */
interface MergeSnapshot {
  before: TableItem[];
  after: TableItem[];
}

type ReviewItem = Item & { patientId: string; candidateId: string; reason: string; status: 'open' | 'merged' | 'dismissed'; mergeId?: string; decidedBy?: string; decidedAt?: string };
type MergeItem = Item & { merge: PatientMerge; version: number };
type VaultItem = Item & { identity: string; institution: string; contextPatientId?: string };

const REVIEW_PK = 'MPI#REVIEW';
const MERGE_PK = 'MPI#MERGE';
const keyOf = (t: TableItem) => `${t.table}\u0000${t.item.pk}\u0000${t.item.sk}`;
const b64url = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

/**
 * Operator review of probable duplicates in the master patient index (R-MPI-2, R-MPI-3):
 * list the queue with masked demographics, merge two patients (records, timeline, files, dataset
 * membership, vault entries and identifier keys move to the surviving pseudonymous id), undo a
 * merge exactly, or dismiss a case ("not the same person").
 *
 * A merge touches more items than one DynamoDB transaction holds, so it is made idempotent
 * instead: the complete before/after images are stored first (envelope-encrypted under the vault
 * key, they hold vault entries), then applied; re-running a merge or unmerge that stopped half-way
 * finishes it. Records ingested for either patient after the merge stay with the survivor on unmerge.
 */
export class MpiReview {
  constructor(
    private readonly store: DocumentStore,
    private readonly objects: ObjectStore,
    private readonly keys: KeyProvider,
    private readonly index: PatientIndex,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  /** Review cases, open ones by default, each with both patients masked for comparison. */
  async cases(status: MpiReviewCase['status'] | 'all' = 'open'): Promise<MpiReviewCase[]> {
    const items = await this.all('identity', REVIEW_PK);
    const chosen = items.filter((i) => status === 'all' || (i.status ?? 'open') === status) as ReviewItem[];
    const cache = new Map<string, Promise<ReviewPatient>>();
    const side = (id: string) => {
      if (!cache.has(id)) cache.set(id, this.describe(id));
      return cache.get(id)!;
    };
    return Promise.all(
      chosen.map(async (i) => ({
        reviewId: b64url(i.sk),
        reason: i.reason,
        openedAt: i.sk.split('#')[0]!,
        status: i.status ?? 'open',
        patient: await side(i.patientId),
        candidate: await side(i.candidateId),
      })),
    );
  }

  /** Merges recorded so far, newest first. */
  async merges(): Promise<PatientMerge[]> {
    return ((await this.all('identity', MERGE_PK)) as MergeItem[]).map((i) => i.merge).sort((a, b) => b.mergedAt.localeCompare(a.mergedAt));
  }

  /** A case is "not the same person": it leaves the queue, nothing else changes. */
  async dismiss(actorId: string, reviewId: string): Promise<MpiReviewCase> {
    const item = await this.review(reviewId);
    if (item.status !== 'open') throw new ConflictError('the review case is already decided', { reviewId, status: item.status });
    await this.store.put('identity', { ...item, status: 'dismissed', decidedBy: actorId, decidedAt: this.now() });
    return (await this.cases('all')).find((c) => c.reviewId === reviewId)!;
  }

  /**
   * Merges the case's other patient into `survivorId` (one of the two). Returns the merge record;
   * calling again with the same case after a crash finishes the same merge.
   */
  async merge(actorId: string, reviewId: string, survivorId: string): Promise<PatientMerge> {
    const review = await this.review(reviewId);
    if (![review.patientId, review.candidateId].includes(survivorId)) throw new ValidationError('the survivor must be one of the two patients of the case', { field: 'survivorPatientId' });
    const mergedId = survivorId === review.patientId ? review.candidateId : review.patientId;
    if (review.status === 'merged' && review.mergeId) {
      const existing = await this.mergeItem(review.mergeId);
      if (existing.merge.survivorId !== survivorId) throw new ConflictError('the case was merged the other way', { reviewId, reason: 'ALREADY_MERGED' });
      if (existing.merge.status === 'merging') return this.apply(existing);
      return existing.merge;
    }
    if (review.status !== 'open') throw new ConflictError('the review case is already decided', { reviewId, status: review.status });
    const active = (await this.merges()).filter((m) => m.status === 'merged' || m.status === 'merging' || m.status === 'unmerging');
    // Chains would make unmerge order-dependent across patients: keep merges flat.
    if (active.some((m) => m.mergedId === survivorId || m.mergedId === mergedId)) throw new ConflictError('one of the patients was already merged into another', { reviewId, reason: 'ALREADY_MERGED' });
    if (active.some((m) => m.survivorId === mergedId)) throw new ConflictError('the patient to merge away has absorbed another patient; unmerge that first', { reviewId, reason: 'MERGE_CHAIN' });
    if (!(await this.hasVault(survivorId)) || !(await this.hasVault(mergedId))) throw new NotFoundError('patient', { reviewId });

    const mergeId = `mrg-${this.ids.next('m').slice(-12).toLowerCase()}`;
    const at = this.now();
    const { snapshot, counts } = await this.plan(survivorId, mergedId, review, mergeId, actorId, at);
    const plain = new TextEncoder().encode(JSON.stringify(snapshot));
    const snapshotSha256 = createHash('sha256').update(plain).digest('hex');
    const { ciphertext, keyId } = await this.keys.encrypt('identity', plain, { mergeId });
    await this.objects.put('data', this.snapshotKey(mergeId), ciphertext, { contentType: 'application/octet-stream', metadata: { sha256: snapshotSha256, 'key-id': keyId } });
    const merge: PatientMerge = { mergeId, survivorId, mergedId, reviewId, status: 'merging', mergedAt: at, mergedBy: actorId, counts, snapshotSha256 };
    // The case and the merge record change together; a concurrent merge of the same case fails here.
    await this.store.transact([
      { kind: 'put', table: 'identity', item: { pk: MERGE_PK, sk: mergeId, merge, version: 1 }, options: { ifNotExists: true } },
      { kind: 'put', table: 'identity', item: { pk: `MPI#MERGED#${mergedId}`, sk: 'LINK', survivorId, mergeId }, options: { ifNotExists: true } },
      // The opposite merge of the same pair, started concurrently, holds this link: one of the two fails.
      { kind: 'check', table: 'identity', key: { pk: `MPI#MERGED#${survivorId}`, sk: 'LINK' }, exists: false },
      { kind: 'put', table: 'identity', item: { ...review, status: 'merged', mergeId, decidedBy: actorId, decidedAt: at } },
    ]);
    return this.apply({ pk: MERGE_PK, sk: mergeId, merge, version: 1 });
  }

  /** Restores exactly the state before the merge (idempotent; finishes an interrupted unmerge). */
  async unmerge(actorId: string, mergeId: string): Promise<PatientMerge> {
    const item = await this.mergeItem(mergeId);
    const m = item.merge;
    if (m.status === 'unmerged') return m;
    if (m.status === 'merging') throw new ConflictError('the merge is still being applied', { mergeId });
    // Later merges into the same survivor rewrote its profile again: undo them first.
    const later = (await this.merges()).filter((x) => x.survivorId === m.survivorId && x.mergeId !== m.mergeId && x.mergedAt > m.mergedAt && x.status !== 'unmerged');
    if (later.length) throw new ConflictError('a later merge into the same patient must be undone first', { mergeId, reason: 'MERGE_ORDER' });
    const snapshot = await this.snapshot(m);
    let current = item;
    if (m.status === 'merged') {
      const next: PatientMerge = { ...m, status: 'unmerging', unmergedBy: actorId, unmergedAt: this.now() };
      await this.store.put('identity', { ...item, merge: next, version: item.version + 1 }, { expectedVersion: item.version });
      current = { ...item, merge: next, version: item.version + 1 };
    }
    const before = new Set(snapshot.before.map(keyOf));
    for (const t of snapshot.after) if (!before.has(keyOf(t))) await this.store.delete(t.table, { pk: t.item.pk, sk: t.item.sk });
    await this.putAll(snapshot.before);
    const done: PatientMerge = { ...current.merge, status: 'unmerged' };
    await this.store.transact([
      { kind: 'put', table: 'identity', item: { ...current, merge: done, version: current.version + 1 }, options: { expectedVersion: current.version } },
      { kind: 'delete', table: 'identity', key: { pk: `MPI#MERGED#${m.mergedId}`, sk: 'LINK' } },
    ]);
    await this.recountDatasets(snapshot);
    return done;
  }

  /** Applies a stored merge snapshot and marks the merge done. */
  private async apply(item: MergeItem): Promise<PatientMerge> {
    const snapshot = await this.snapshot(item.merge);
    await this.putAll(snapshot.after);
    const after = new Set(snapshot.after.map(keyOf));
    for (const t of snapshot.before) if (!after.has(keyOf(t))) await this.store.delete(t.table, { pk: t.item.pk, sk: t.item.sk });
    const done: PatientMerge = { ...item.merge, status: 'merged' };
    await this.store.put('identity', { ...item, merge: done, version: item.version + 1 }, { expectedVersion: item.version });
    await this.recountDatasets(snapshot);
    return done;
  }

  /**
   * The catalogue's patient counts of the datasets a merge touched, counted again from their
   * members (ingestion only adds the patients a file brings, so a merge or unmerge must correct them).
   */
  private async recountDatasets(snapshot: MergeSnapshot): Promise<void> {
    const datasets = new Set([...snapshot.before, ...snapshot.after].filter((t) => t.table === 'main' && t.item.pk.startsWith('DSMEMBER#')).map((t) => t.item.pk.slice('DSMEMBER#'.length)));
    const catalog = new CatalogService(this.store);
    const at = this.now();
    for (const datasetId of datasets) {
      let members = 0;
      let cursor: string | undefined;
      do {
        const page = await this.store.query('main', { pk: `DSMEMBER#${datasetId}`, limit: 1000, cursor });
        members += page.items.length;
        cursor = page.cursor;
      } while (cursor);
      await catalog.recordIngest(datasetId, { records: 0, patientCount: members, at }).catch((e: unknown) => {
        if (!isDomainError(e, 'NOT_FOUND')) throw e;
      });
    }
  }

  /** Builds the before/after images of merging `mergedId` into `survivorId`. */
  private async plan(survivorId: string, mergedId: string, review: ReviewItem, mergeId: string, actorId: string, at: string): Promise<{ snapshot: MergeSnapshot; counts: PatientMerge['counts'] }> {
    const before: TableItem[] = [];
    const after: TableItem[] = [];
    const counts: PatientMerge['counts'] = { records: 0, timelineEvents: 0, files: 0, datasets: 0, sources: 0, otherItems: 0, conflicts: 0 };
    const rewrite = <T>(v: T): T => JSON.parse(JSON.stringify(v).replaceAll(mergedId, survivorId)) as T;

    // Research side: every item of the merged patient's partition moves to the survivor's.
    const survivorItems = await this.all('main', `PATIENT#${survivorId}`);
    const survivorKeys = new Set(survivorItems.map((i) => i.sk));
    const mergedItems = await this.all('main', `PATIENT#${mergedId}`);
    const sProfile = survivorItems.find((i) => i.sk === 'PROFILE')?.profile as PatientProfile | undefined;
    const mProfile = mergedItems.find((i) => i.sk === 'PROFILE')?.profile as PatientProfile | undefined;
    for (const item of mergedItems) {
      before.push({ table: 'main', item });
      if (item.sk === 'PROFILE') continue;
      if (survivorKeys.has(item.sk)) {
        counts.conflicts += 1; // the survivor's own item wins; the merged one comes back on unmerge
        continue;
      }
      const moved = rewrite(item);
      if (item.file) {
        // The object stays where it is, encrypted under the original patient's context.
        const f = item.file as { objectKey: string; encryptedFor?: string };
        (moved.file as typeof f).objectKey = f.objectKey;
        (moved.file as typeof f).encryptedFor = f.encryptedFor ?? mergedId;
        counts.files += 1;
      } else if (item.sk.startsWith('REC#')) counts.records += 1;
      else if (item.sk.startsWith('EVT#')) counts.timelineEvents += 1;
      else counts.otherItems += 1;
      after.push({ table: 'main', item: moved });
    }
    const profile = combineProfiles(sProfile, mProfile, survivorId, at);
    if (profile) {
      const sp = survivorItems.find((i) => i.sk === 'PROFILE');
      if (sp) before.push({ table: 'main', item: sp });
      after.push({ table: 'main', item: { ...(sp ?? { pk: `PATIENT#${survivorId}`, sk: 'PROFILE' }), profile } });
      for (const d of sProfile?.datasetIds ?? []) {
        const m = await this.store.get('main', { pk: `DSMEMBER#${d}`, sk: survivorId });
        if (m) before.push({ table: 'main', item: m });
      }
      for (const d of mProfile?.datasetIds ?? []) {
        const m = await this.store.get('main', { pk: `DSMEMBER#${d}`, sk: mergedId });
        if (m) before.push({ table: 'main', item: m });
      }
      for (const d of profile.datasetIds) after.push({ table: 'main', item: { pk: `DSMEMBER#${d}`, sk: survivorId, profile } });
      counts.datasets = new Set(mProfile?.datasetIds ?? []).size;
    }

    // Identity side: vault entries, source links and identifier keys point at the survivor.
    const vault = (await this.all('identity', `VAULT#${mergedId}`)) as VaultItem[];
    const identities = await this.index.identities(mergedId);
    for (const v of vault) {
      before.push({ table: 'identity', item: v });
      after.push({ table: 'identity', item: { ...v, pk: `VAULT#${survivorId}`, contextPatientId: v.contextPatientId ?? mergedId } });
      counts.sources += 1;
    }
    const identityKeys: ItemKey[] = [];
    for (const { sourcePatientId, institution, identity } of identities) {
      identityKeys.push({ pk: `SRC#${sourcePatientId}`, sk: 'SRC' });
      for (const k of await this.index.matchKeysOf(institution, identity)) identityKeys.push({ pk: k, sk: 'MATCH' });
      const demo = await this.index.demographicKeyOf(identity);
      const d = await this.store.get('identity', { pk: demo, sk: mergedId });
      if (d) {
        before.push({ table: 'identity', item: d });
        after.push({ table: 'identity', item: { ...d, sk: survivorId, patientId: survivorId } });
      }
    }
    for (const key of identityKeys) {
      const it = await this.store.get<Item & { patientId: string }>('identity', key);
      if (it?.patientId !== mergedId) continue;
      before.push({ table: 'identity', item: it });
      after.push({ table: 'identity', item: { ...it, patientId: survivorId } });
    }
    // The case itself is written by the merge transaction; its pre-merge state comes back on unmerge.
    before.push({ table: 'identity', item: review });
    after.push({ table: 'identity', item: { ...review, status: 'merged', mergeId, decidedBy: actorId, decidedAt: at } });
    // Whatever an "after" image overwrites must come back on unmerge, whoever wrote it.
    const known = new Set(before.map(keyOf));
    for (const t of dedupe(after)) {
      if (known.has(keyOf(t))) continue;
      const existing = await this.store.get(t.table, { pk: t.item.pk, sk: t.item.sk });
      if (existing) before.push({ table: t.table, item: existing });
    }
    return { snapshot: { before: dedupe(before), after: dedupe(after) }, counts };
  }

  private async snapshot(m: PatientMerge): Promise<MergeSnapshot> {
    const obj = await this.objects.get('data', this.snapshotKey(m.mergeId));
    if (!obj) throw new NotFoundError('merge snapshot', { mergeId: m.mergeId });
    const plain = await this.keys.decrypt('identity', obj.body, { mergeId: m.mergeId });
    if (createHash('sha256').update(plain).digest('hex') !== m.snapshotSha256) throw new Error(`integrity check failed for merge ${m.mergeId}`);
    return JSON.parse(new TextDecoder().decode(plain)) as MergeSnapshot;
  }

  private snapshotKey(mergeId: string): string {
    return `mpi/merges/${mergeId}`;
  }

  private async putAll(items: TableItem[]): Promise<void> {
    for (const table of ['main', 'identity'] as const) {
      const list = items.filter((t) => t.table === table).map((t) => t.item);
      if (list.length) await this.store.batchPut(table, list);
    }
  }

  private async review(reviewId: string): Promise<ReviewItem> {
    let sk: string;
    try {
      sk = Buffer.from(reviewId, 'base64url').toString('utf8');
    } catch {
      throw new NotFoundError('review case', { reviewId });
    }
    const item = await this.store.get<ReviewItem>('identity', { pk: REVIEW_PK, sk });
    if (!item) throw new NotFoundError('review case', { reviewId });
    return { ...item, status: item.status ?? 'open' };
  }

  private async mergeItem(mergeId: string): Promise<MergeItem> {
    const item = await this.store.get<MergeItem>('identity', { pk: MERGE_PK, sk: mergeId });
    if (!item) throw new NotFoundError('merge', { mergeId });
    return item;
  }

  private async hasVault(patientId: string): Promise<boolean> {
    return (await this.store.query('identity', { pk: `VAULT#${patientId}`, limit: 1 })).items.length > 0;
  }

  /** The masked, research-side description of one patient. */
  private async describe(patientId: string): Promise<ReviewPatient> {
    const link = await this.store.get<Item & { survivorId: string }>('identity', { pk: `MPI#MERGED#${patientId}`, sk: 'LINK' });
    const ids = await this.index.identities(patientId);
    const items = await this.all('main', `PATIENT#${patientId}`);
    const profile = items.find((i) => i.sk === 'PROFILE')?.profile as PatientProfile | undefined;
    return {
      patientId,
      sources: ids.map(({ institution, identity }) => maskIdentity(institution, identity)),
      datasets: profile?.datasetIds ?? [],
      records: items.filter((i) => i.sk.startsWith('REC#')).length,
      timelineEvents: items.filter((i) => i.sk.startsWith('EVT#')).length,
      files: items.filter((i) => i.sk.startsWith('FILE#')).length,
      ...(link ? { mergedInto: link.survivorId } : {}),
    };
  }

  private async all(table: TableName, pk: string): Promise<Item[]> {
    const out: Item[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.query(table, { pk, limit: 1000, ...(cursor ? { cursor } : {}) });
      out.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    return out;
  }

  private now(): string {
    return new Date(this.clock.now()).toISOString();
  }
}

/** The masked view of one identity (see `MaskedSource`). */
export function maskIdentity(institution: string, identity: PatientIdentity): MaskedSource {
  const first = [...identity.fullName.trim()][0] ?? '?';
  const year = Number(identity.birthDate.slice(0, 4));
  const kinds = (['residentId', 'mrn', 'phone', 'address', 'insuranceNumber'] as const).filter((k) => Boolean(identity[k]));
  return { institution, maskedName: `${first}**`, ...(Number.isInteger(year) && year > 1800 ? { birthYear: year } : {}), sex: identity.sex, identifierKinds: kinds };
}

/**
 * The survivor's profile with the merged patient's dataset memberships and institutions added.
 * Clinical facts stay the survivor's, filled from the merged one where missing; a withdrawn or
 * rejected consent of either side wins (the more restrictive one).
 */
function combineProfiles(s: PatientProfile | undefined, m: PatientProfile | undefined, survivorId: string, at: string): PatientProfile | undefined {
  if (!s && !m) return undefined;
  const base = { ...(m ?? {}), ...(s ?? {}) } as PatientProfile;
  const consent = m && m.consent.status !== 'active' && s?.consent.status === 'active' ? m.consent : (s?.consent ?? m!.consent);
  return {
    ...base,
    patientId: survivorId,
    datasetIds: [...new Set([...(s?.datasetIds ?? []), ...(m?.datasetIds ?? [])])],
    institutions: [...new Set([...(s?.institutions ?? []), ...(m?.institutions ?? [])])],
    consent,
    updatedAt: at,
  };
}

/** The last image of each key wins (an item may be both moved and rewritten). */
function dedupe(list: TableItem[]): TableItem[] {
  const byKey = new Map<string, TableItem>();
  for (const t of list) byKey.set(keyOf(t), t);
  return [...byKey.values()];
}
