/**
 * `npm run build:lambdas`: bundles every Lambda exactly as CDK does (esbuild, ESM, node22,
 * minified, cedar-wasm kept external and copied with its .wasm, policies/ and state-machines/
 * copied beside the bundle) into dist/lambdas/<module>/, and prints each bundle's size.
 * Modules come from the route table plus the non-API functions, like the CDK app.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { apiModules, NON_API_MODULES } from './constructs/compute';
import { BUNDLE_COPIED_DIRS, BUNDLE_NODE_MODULES, BUNDLE_SETTINGS, PROJECT_ROOT } from './constructs/lambda-function';
import { PRE_TOKEN_GENERATION_MODULE } from './constructs/mfa-claim-trigger';

const outRoot = path.join(PROJECT_ROOT, 'dist', 'lambdas');
const handlersDir = path.join(PROJECT_ROOT, process.env.MDRP_HANDLERS_DIR ?? 'functions/handlers');
const modules = [...apiModules(), ...NON_API_MODULES, PRE_TOKEN_GENERATION_MODULE];

function dirSize(p: string): number {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.size;
  return fs.readdirSync(p).reduce((n, f) => n + dirSize(path.join(p, f)), 0);
}
const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;

async function main(): Promise<void> {
  fs.rmSync(outRoot, { recursive: true, force: true });
  const rows: string[][] = [];
  let failed = 0;
  for (const module of modules) {
    const entry = path.join(handlersDir, `${module}.handler.ts`);
    const outDir = path.join(outRoot, module);
    if (!fs.existsSync(entry)) {
      rows.push([module, 'MISSING', path.relative(PROJECT_ROOT, entry), '']);
      failed++;
      continue;
    }
    await build({
      entryPoints: [entry],
      outfile: path.join(outDir, 'index.mjs'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: BUNDLE_SETTINGS.target,
      mainFields: [...BUNDLE_SETTINGS.mainFields],
      banner: { js: BUNDLE_SETTINGS.banner },
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      external: [...BUNDLE_NODE_MODULES],
      logLevel: 'warning',
    });
    for (const d of BUNDLE_COPIED_DIRS) {
      const src = path.join(PROJECT_ROOT, d);
      if (fs.existsSync(src)) fs.cpSync(src, path.join(outDir, d), { recursive: true });
    }
    // Same layout as NodejsFunction's `nodeModules`: the package installed beside the bundle.
    for (const pkg of BUNDLE_NODE_MODULES) {
      const src = path.join(PROJECT_ROOT, 'node_modules', pkg);
      const dst = path.join(outDir, 'node_modules', pkg);
      fs.mkdirSync(dst, { recursive: true });
      for (const f of ['package.json', 'nodejs']) if (fs.existsSync(path.join(src, f))) fs.cpSync(path.join(src, f), path.join(dst, f), { recursive: true });
    }
    const js = fs.statSync(path.join(outDir, 'index.mjs')).size;
    rows.push([module, kb(js), kb(dirSize(outDir)), path.relative(PROJECT_ROOT, outDir)]);
  }
  const header = ['function', 'index.mjs', 'bundle dir (incl. node_modules, policies)', 'output'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  if (failed) {
    console.error(`${failed} handler file(s) missing`);
    process.exit(1);
  }
}

await main();
