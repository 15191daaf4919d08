import MiniSearch from 'minisearch';

/** The searchable facts of a released patient (pseudonymous; no identifiers). */
export interface SearchablePatient {
  token: string;
  datasetId: string;
  sex: string;
  ageBand?: string;
  diagnosis?: string;
  stage?: string;
  molecularSubtype?: string;
}

/**
 * The fuzzy index of one permission partition (one grant's release, ARCHITECTURE D7): pseudonym,
 * diagnosis, stage, subtype, sex, age band. Typos are tolerated only in words of 4+ characters
 * (a short code such as "C50" must not fuzzily match an age band "50-54"); prefixes match; all
 * terms must match.
 */
export class ReleaseSearchIndex<T extends SearchablePatient = SearchablePatient> {
  private readonly index: MiniSearch<T & { id: string }>;
  private readonly byToken = new Map<string, T>();

  constructor(readonly patients: readonly T[]) {
    this.index = new MiniSearch<T & { id: string }>({
      fields: ['token', 'diagnosis', 'stage', 'molecularSubtype', 'sex', 'ageBand'],
      idField: 'id',
      searchOptions: { fuzzy: (term: string) => (term.length >= 4 ? 0.2 : false), prefix: true, combineWith: 'AND' },
    });
    this.index.addAll(patients.map((p) => ({ ...p, id: p.token })));
    for (const p of patients) this.byToken.set(p.token, p);
  }

  get size(): number {
    return this.patients.length;
  }

  /** Matches in release order (stable paging), or everything when the query is empty. */
  search(q: string | undefined): T[] {
    if (!q?.trim()) return [...this.patients];
    const found = new Set(this.index.search(q).map((r) => r.id as string));
    return this.patients.filter((p) => found.has(p.token));
  }
}

/**
 * Per-instance cache of partition indexes (Lambda memory; the local process): a release is
 * immutable once built, so an index keyed by grant and build time stays valid. Least recently
 * used entries are dropped beyond `capacity`.
 */
export class ReleaseIndexCache {
  private readonly entries = new Map<string, { builtAt: string; index: ReleaseSearchIndex }>();

  constructor(private readonly capacity = 32) {}

  async get(grantId: string, builtAt: string, load: () => Promise<SearchablePatient[]>): Promise<ReleaseSearchIndex> {
    const hit = this.entries.get(grantId);
    if (hit && hit.builtAt === builtAt) {
      this.entries.delete(grantId);
      this.entries.set(grantId, hit);
      return hit.index;
    }
    const index = new ReleaseSearchIndex(await load());
    this.entries.delete(grantId);
    this.entries.set(grantId, { builtAt, index });
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return index;
  }
}
