import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryDocumentStore } from '../../functions/adapters/memory/memory-document-store';
import { loadPolicyBundle } from '../../functions/adapters/shared/load-policies';
import type { AccessRequest } from '../../functions/core/access/access-request';
import { GrantService } from '../../functions/core/access/grant-service';
import { ReleaseSearchIndex, type SearchablePatient } from '../../functions/core/access/release-search-index';
import { ResearchAccessService } from '../../functions/core/access/research-access-service';
import { CedarAuthorizer } from '../../functions/core/authz/cedar-authorizer';
import type { Actor } from '../../functions/core/identity/actor';
import { InboxNotifier } from '../../functions/core/notifications/inbox-notifier';
import type { ResearchRecords } from '../../functions/core/patients/research-records';
import type { KeyProvider } from '../../functions/core/ports/key-provider';
import { REPO_ROOT } from './platform';

/**
 * `npm run bench:search` (issue 5, ARCHITECTURE D7): permission-filtered fuzzy patient search
 * for a researcher whose grant releases 5 % of N synthetic released patients, N = 100,000 and
 * 1,000,000 (`npm run bench:search -- 100000` for one size). The platform path is
 * `ResearchAccessService.search` (decision-time grant check, Cedar decision, the grant's cached
 * partition index) over an in-memory document store. Measured in the same run:
 * - baseline: an unfiltered search of one unpartitioned index over all N patients (issue 5's
 *   reference), and that search filtered to the permitted patients afterwards;
 * - before the cache: the partition index rebuilt on every query (the previous code path).
 * Writes bench/results/search.json; target p95 ≤ 150 ms at 100,000.
 */
const SIZES = process.argv.slice(2).map(Number).filter((n) => n > 0);
/** `--platform-only`: skip the unpartitioned baselines (minutes to build at 1M on a loaded machine). */
const PLATFORM_ONLY = process.argv.includes('--platform-only');
const sizes = SIZES.length ? SIZES : [100_000, 1_000_000];
const SHARE = 0.05;
const QUERIES = ['C50', 'breast', 'invasive ductal', 'stage II', 'IIIA', 'HER2', 'triple negative', 'lumnal', 'luminal B', 'female 50', 'carcinoma in situ', 'C50 IIB HER2'];

/** Deterministic PRNG (mulberry32) so every run searches the same cohort. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DIAGNOSES = [
  'C50.9 Malignant neoplasm of breast, unspecified',
  'C50.4 Malignant neoplasm of upper-outer quadrant of breast',
  'C50.2 Malignant neoplasm of upper-inner quadrant of breast',
  'D05.1 Intraductal carcinoma in situ of breast',
  'C50.8 Invasive ductal carcinoma of overlapping sites of breast',
  'C34.1 Malignant neoplasm of upper lobe, bronchus or lung',
  'C18.7 Malignant neoplasm of sigmoid colon',
  'C16.9 Malignant neoplasm of stomach, unspecified',
  'C22.0 Liver cell carcinoma',
  'C61 Malignant neoplasm of prostate',
];
const STAGES = ['0', 'IA', 'IB', 'IIA', 'IIB', 'IIIA', 'IIIB', 'IIIC', 'IV'];
const SUBTYPES = ['luminal A', 'luminal B', 'HER2-enriched', 'triple negative', 'normal-like'];
const AGE_BANDS = ['20-24', '25-29', '30-34', '35-39', '40-44', '45-49', '50-54', '55-59', '60-64', '65-69', '70-74', '75-79', '80+'];
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

function cohort(n: number, seed: number): SearchablePatient[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const out: SearchablePatient[] = new Array(n);
  for (let i = 0; i < n; i++) {
    let token = '';
    for (let k = 0; k < 16; k++) token += ALPHABET[Math.floor(r() * 32)];
    const dx = pick(DIAGNOSES);
    out[i] = { token, datasetId: `ds-${String(i % 20).padStart(2, '0')}`, sex: r() < 0.97 ? 'female' : 'male', ageBand: pick(AGE_BANDS), diagnosis: dx, stage: pick(STAGES), ...(dx.includes('breast') ? { molecularSubtype: pick(SUBTYPES) } : {}) };
  }
  return out;
}

interface Stats {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
}

function stats(ms: number[]): Stats {
  const t = [...ms].sort((a, b) => a - b);
  const at = (q: number) => Number(t[Math.min(t.length - 1, Math.floor(t.length * q))]!.toFixed(2));
  return { n: t.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), mean: Number((t.reduce((s, x) => s + x, 0) / t.length).toFixed(2)) };
}

async function time(iterations: number, fn: (q: string) => Promise<number> | number): Promise<{ stats: Stats; hits: number }> {
  const ms: number[] = [];
  let hits = 0;
  for (let i = 0; i < iterations; i++) {
    const q = QUERIES[i % QUERIES.length]!;
    const s = process.hrtime.bigint();
    hits += await fn(q);
    ms.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  return { stats: stats(ms), hits };
}

const unused = <T extends object>(what: string) => new Proxy({} as T, { get: (_t, p) => () => Promise.reject(new Error(`${what}.${String(p)} not used by search`)) });

async function runSize(n: number) {
  const started = Date.now();
  const all = cohort(n, 20261124);
  const pickGrant = rng(7);
  const granted = all.filter(() => pickGrant() < SHARE);
  const genMs = Date.now() - started;

  // The platform path: a usable grant, its materialized release, the service's search.
  const store = new MemoryDocumentStore();
  const clock = { now: () => Date.now() };
  let idn = 0;
  const ids = { next: (prefix: string) => `${prefix}_bench${String(++idn).padStart(10, '0')}` };
  const scheduler = { schedule: async () => undefined, cancel: async () => undefined };
  const grants = new GrantService(store, scheduler, new InboxNotifier(store, clock, ids), clock, ids);
  const request = { requestId: 'AR-2026-000001', applicantId: 'u-bench', applicantName: 'Bench', institution: 'demo-hospital-1', scope: { datasetIds: ['ds-00'], modalities: [], fields: [] }, purposeCode: 'DUO:0000007', securityLevel: 3, agreement: { version: 'DSA-2026.1', acceptedAt: new Date().toISOString() }, requestedDurationDays: 90, history: [] } as unknown as AccessRequest;
  const grant = await grants.issueFor(request);
  await store.batchPut('main', granted.map((p, i) => ({ pk: `RELEASE#${grant.grantId}`, sk: `PT#${p.token}`, patientId: `pt-${i}`, patient: p })));
  await store.put('main', { pk: `RELEASE#${grant.grantId}`, sk: 'SUMMARY', summary: { grantId: grant.grantId, included: granted.length, excluded: {}, policyId: 'l3-project', builtAt: new Date().toISOString() } });
  const authorizer = new CedarAuthorizer(loadPolicyBundle(join(REPO_ROOT, 'policies')), () => Date.now());
  const service = new ResearchAccessService(store, grants, unused<ResearchRecords>('research'), unused<KeyProvider>('keys'), clock, authorizer);
  const actor: Actor = { kind: 'user', id: 'u-bench', roles: ['researcher'], institution: 'demo-hospital-1', mfa: true, scopes: [] };

  const cold = process.hrtime.bigint();
  await service.search(actor, grant.grantId, QUERIES[0], 50);
  const coldMs = Number(process.hrtime.bigint() - cold) / 1e6;
  const iterations = n >= 1_000_000 ? 120 : 240;
  const platform = await time(iterations, async (q) => (await service.search(actor, grant.grantId, q, 50)).total);

  // Before the cache: the grant's partition index built on every query.
  const rebuild = await time(n >= 1_000_000 ? 12 : 24, (q) => new ReleaseSearchIndex(granted).search(q).length);

  if (PLATFORM_ONLY) {
    return {
      patients: n,
      permitted: granted.length,
      queries: QUERIES,
      generateMs: genMs,
      platform: { ...platform.stats, coldFirstQueryMs: Number(coldMs.toFixed(1)), description: 'ResearchAccessService.search: grant check + Cedar decision + cached partition index of the grant' },
      rebuildPerQuery: { ...rebuild.stats, description: 'previous path: partition index rebuilt on every query' },
      baselineUnfiltered: 'not measured in this run (--platform-only)',
      targetP95Ms: 150,
    };
  }
  // Baseline: one unpartitioned index over every released patient.
  const b0 = process.hrtime.bigint();
  const unpartitioned = new ReleaseSearchIndex(all);
  const buildUnpartitionedMs = Number(process.hrtime.bigint() - b0) / 1e6;
  const permitted = new Set(granted.map((p) => p.token));
  const unfiltered = await time(n >= 1_000_000 ? 36 : 120, (q) => unpartitioned.search(q).length);
  const filteredAfter = await time(n >= 1_000_000 ? 36 : 120, (q) => unpartitioned.search(q).filter((p) => permitted.has(p.token)).length);
  const ratio = (a: Stats, b: Stats) => ({ p50: Number((a.p50 / b.p50).toFixed(3)), p95: Number((a.p95 / b.p95).toFixed(3)), p99: Number((a.p99 / b.p99).toFixed(3)) });
  return {
    patients: n,
    permitted: granted.length,
    queries: QUERIES,
    generateMs: genMs,
    platform: { ...platform.stats, coldFirstQueryMs: Number(coldMs.toFixed(1)), description: 'ResearchAccessService.search: grant check + Cedar decision + cached partition index of the grant' },
    rebuildPerQuery: { ...rebuild.stats, description: 'previous path: partition index rebuilt on every query' },
    baselineUnfiltered: { ...unfiltered.stats, buildMs: Number(buildUnpartitionedMs.toFixed(0)), description: 'unfiltered search of one unpartitioned index over all patients' },
    baselineFilteredAfter: { ...filteredAfter.stats, description: 'unpartitioned search, then filtered to the permitted patients' },
    ratioPlatformToUnfiltered: ratio(platform.stats, unfiltered.stats),
    targetP95Ms: 150,
    withinTarget: n === 100_000 ? platform.stats.p95 <= 150 : undefined,
  };
}

const results = [];
for (const n of sizes) {
  const r = await runSize(n);
  results.push(r);
  console.log(`N=${n.toLocaleString('en')} permitted=${r.permitted.toLocaleString('en')}`);
  console.log(`  platform (cached partition): p50 ${r.platform.p50} ms  p95 ${r.platform.p95} ms  p99 ${r.platform.p99} ms  (first query, cold: ${r.platform.coldFirstQueryMs} ms)`);
  console.log(`  rebuild per query (before):  p50 ${r.rebuildPerQuery.p50} ms  p95 ${r.rebuildPerQuery.p95} ms  p99 ${r.rebuildPerQuery.p99} ms`);
  if (typeof r.baselineUnfiltered === 'string' || !r.baselineFilteredAfter || !r.ratioPlatformToUnfiltered) {
    console.log('  baselines: not measured (--platform-only)');
    continue;
  }
  console.log(`  unpartitioned, unfiltered:   p50 ${r.baselineUnfiltered.p50} ms  p95 ${r.baselineUnfiltered.p95} ms  p99 ${r.baselineUnfiltered.p99} ms  (build ${r.baselineUnfiltered.buildMs} ms)`);
  console.log(`  unpartitioned, then filter:  p50 ${r.baselineFilteredAfter.p50} ms  p95 ${r.baselineFilteredAfter.p95} ms  p99 ${r.baselineFilteredAfter.p99} ms`);
  console.log(`  ratio platform/unfiltered:   p50 ${r.ratioPlatformToUnfiltered.p50}  p95 ${r.ratioPlatformToUnfiltered.p95}  p99 ${r.ratioPlatformToUnfiltered.p99}`);
  if (r.withinTarget !== undefined) console.log(`  target p95 ≤ 150 ms at 100,000: ${r.withinTarget ? 'met' : 'NOT met'}`);
}

const out = join(REPO_ROOT, 'bench', 'results', 'search.json');
mkdirSync(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
let previous: Record<string, unknown> = {};
try {
  previous = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
} catch {
  previous = {};
}
const bySize = Object.fromEntries(results.map((r) => [String(r.patients), r]));
writeFileSync(out, `${JSON.stringify({ search: { measuredAt: new Date().toISOString(), node: process.version, machine: 'this machine (2 cores, shared)', share: SHARE, results: { ...((previous.search as { results?: object } | undefined)?.results ?? {}), ...bySize } } }, null, 2)}\n`);
console.log(`written ${out}`);
