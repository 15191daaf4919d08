import { loadPolicyBundle } from '../../functions/adapters/shared/load-policies';
import { CedarAuthorizer } from '../../functions/core/authz/cedar-authorizer';
import type { Actor } from '../../functions/core/identity/actor';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run bench:authz`: one authorization decision with the platform's policy set padded to 100
 * policies, for a researcher holding 1,000 active grants (ARCHITECTURE D3, issue 5 target
 * p99 ≤ 0.5 ms). Two designs measured in the same run:
 * - small context (the platform's): the decision carries only what concerns the resource, the
 *   grant check itself is an index lookup before the engine;
 * - naive baseline: all 1,000 grants serialized into the Cedar context and checked by a policy.
 * The platform authorizer decides with the slice of the request's action (CedarAuthorizer, policy
 * slicing); the same authorizer without slicing (all 100 policies per decision) is measured too.
 * Reports p50/p99 of each and their ratios; each design runs REPEATS times (interleaved) and the
 * median of the repetitions' percentiles is reported, as p99 on a shared machine is noisy.
 *
 * Writes bench/results/authz.json. Usage: `npm run bench:authz [iterations=20000] [repeats=5]` (the baseline runs a tenth of the
 * iterations: it is ~20× slower per decision).
 */
const ITERATIONS = Number(process.argv[2] ?? 20_000);
const REPEATS = Number(process.argv[3] ?? 5);
// Not imported from ./platform: that module loads the whole local runtime.
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const bundle = loadPolicyBundle(join(REPO_ROOT, 'policies'));
const existing = Object.values(bundle.policies).join('\n').match(/@id\(/g)?.length ?? 0;
// Pad to 100 policies with realistic, non-matching permits (other roles/actions with conditions).
const padding = Array.from({ length: 100 - existing }, (_, i) => `@id("padding-${i}")\npermit (principal in MDRP::Role::"auditor", action == MDRP::Action::"QueryAudit", resource) when { principal.institution == "inst-${i}" };`).join('\n');
const padded = { ...bundle, policies: { ...bundle.policies, 'padding.cedar': padding }, version: 'bench-small' };
const small = new CedarAuthorizer(padded, () => Date.now());
const unsliced = new CedarAuthorizer(padded, () => Date.now(), { slicing: false });
const sliceSize = CedarAuthorizer.slices(padded.schema, CedarAuthorizer.policiesById(padded.policies)).get('ReadResearchData')!.length;

// The naive design: a policy that scans the grants serialized into the context.
// (Inserted after `now`, whatever other optional attributes the context declares.)
const naiveSchema = bundle.schema.replace('type RequestContext = {\n    now: Long,\n', 'type RequestContext = {\n    now: Long,\n    grants?: Set<{ datasetId: String, expiresAt: Long }>,\n');
const naivePolicy = `@id("naive-grant-scan")\npermit (principal in MDRP::Role::"researcher", action == MDRP::Action::"ReadResearchData", resource is MDRP::Grant)\nwhen { context has grants && context.grants.contains({ datasetId: "ds-0500", expiresAt: 4102444800 }) };`;
const naive = new CedarAuthorizer({ schema: naiveSchema, policies: { ...bundle.policies, 'padding.cedar': padding, 'naive.cedar': naivePolicy }, version: 'bench-naive' }, () => Date.now());

const actor: Actor = { kind: 'user', id: 'u-bench', roles: ['researcher'], institution: 'demo-hospital-1', mfa: true, scopes: [] };
const grants = Array.from({ length: 1000 }, (_, i) => ({ datasetId: `ds-${String(i).padStart(4, '0')}`, expiresAt: 4102444800 }));
const resource = { type: 'Grant' as const, id: 'grt_bench', attributes: { holder: 'user:u-bench', institution: 'demo-hospital-1' } };
// Small context: the grant index is a Map lookup (what the service does) plus one engine call.
const grantIndex = new Map(grants.map((g) => [g.datasetId, g]));

function measure(fn: () => boolean, iterations: number): { p50: number; p99: number } {
  for (let i = 0; i < 500; i++) fn();
  const t = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const s = process.hrtime.bigint();
    if (!fn()) throw new Error('benchmark decision was not allow');
    t[i] = Number(process.hrtime.bigint() - s) / 1e6;
  }
  t.sort();
  return { p50: t[Math.floor(iterations * 0.5)]!, p99: t[Math.floor(iterations * 0.99)]! };
}

const designs = {
  platform: () => grantIndex.has('ds-0500') && small.decide({ actor, action: 'ReadResearchData', resource }).effect === 'allow',
  unsliced: () => grantIndex.has('ds-0500') && unsliced.decide({ actor, action: 'ReadResearchData', resource }).effect === 'allow',
  baseline: () => naive.decide({ actor, action: 'ReadResearchData', resource, context: { grants: grants as never } }).effect === 'allow',
};
const loadBefore = loadavg()[0]!;
const runs: Record<keyof typeof designs, { p50: number; p99: number }[]> = { platform: [], unsliced: [], baseline: [] };
for (let r = 0; r < REPEATS; r++) {
  for (const name of Object.keys(designs) as (keyof typeof designs)[]) runs[name].push(measure(designs[name], name === 'baseline' ? Math.max(1000, Math.floor(ITERATIONS / 10)) : ITERATIONS));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summary = (name: keyof typeof designs) => ({ p50: median(runs[name].map((x) => x.p50)), p99: median(runs[name].map((x) => x.p99)) });
const ours = summary('platform');
const full = summary('unsliced');
const baseline = summary('baseline');
const fmt = (x: number) => x.toFixed(3);
console.log(`policies: 100 (+1 in the baseline), ${sliceSize} in the ReadResearchData slice; grants held: ${grants.length}; iterations: ${ITERATIONS} × ${REPEATS} repetitions (baseline ${Math.max(1000, Math.floor(ITERATIONS / 10))})`);
console.log(`platform p99 per repetition: ${runs.platform.map((x) => fmt(x.p99)).join(' ')} ms`);
console.log(`small context, sliced (platform): p50 ${fmt(ours.p50)} ms  p99 ${fmt(ours.p99)} ms`);
console.log(`small context, all 100 policies: p50 ${fmt(full.p50)} ms  p99 ${fmt(full.p99)} ms`);
console.log(`all grants in context (baseline): p50 ${fmt(baseline.p50)} ms  p99 ${fmt(baseline.p99)} ms`);
console.log(`ratio platform/unsliced: p50 ${(ours.p50 / full.p50).toFixed(3)}  p99 ${(ours.p99 / full.p99).toFixed(3)}`);
console.log(`ratio platform/baseline: p50 ${(ours.p50 / baseline.p50).toFixed(3)}  p99 ${(ours.p99 / baseline.p99).toFixed(3)}`);
console.log(`target p99 ≤ 0.5 ms (median of repetitions): ${ours.p99 <= 0.5 ? 'met' : 'NOT met'}`);
mkdirSync(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
const round = (x: { p50: number; p99: number }) => ({ p50: Number(x.p50.toFixed(4)), p99: Number(x.p99.toFixed(4)) });
writeFileSync(
  join(REPO_ROOT, 'bench', 'results', 'authz.json'),
  `${JSON.stringify(
    {
      authz: {
        measuredAt: new Date().toISOString(),
        node: process.version,
        machine: 'this machine (2 cores, shared)',
        loadAverage1m: { before: Number(loadBefore.toFixed(2)), after: Number(loadavg()[0]!.toFixed(2)) },
        policies: 100,
        sliceSize,
        grantsHeld: grants.length,
        iterations: ITERATIONS,
        repeats: REPEATS,
        platform: { ...round(ours), perRepetition: runs.platform.map(round), description: 'CedarAuthorizer with policy slicing (the ReadResearchData slice), small context, grant index lookup' },
        unsliced: { ...round(full), perRepetition: runs.unsliced.map(round), description: 'the same CedarAuthorizer deciding with all 100 policies' },
        baseline: { ...round(baseline), perRepetition: runs.baseline.map(round), description: 'all 1,000 grants serialized into the Cedar context, checked by a policy' },
        target: { p99Ms: 0.5, met: ours.p99 <= 0.5 },
      },
    },
    null,
    2,
  )}\n`,
);
