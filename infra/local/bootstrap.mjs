#!/usr/bin/env node
// Entry point of `npm start` and `npm test`: makes sure what they need is installed, then runs them.
// Plain JavaScript with no dependencies, because it runs before node_modules exists.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const mode = process.argv[2] ?? 'start';
const extra = process.argv.slice(3);
process.env.NEXT_TELEMETRY_DISABLED = '1';
process.env.CDK_DISABLE_VERSION_CHECK = '1';

function run(cmd, args, opts = {}) {
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
}

function has(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** node_modules is (re)installed when missing or older than the lockfile. */
function ensureNodeModules() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  console.log('[mdrp] installing npm dependencies…');
  // Exactly the lockfile's versions; `npm ci` is not usable here (see .ci/run).
  run('npm', ['install', '--no-save', '--no-audit', '--no-fund']);
}

/** Debian packages: Java for DynamoDB Local; Chromium and a CJK font for the browser tests; dicom3tools (dciodvfy). */
function ensureSystemPackages(needBrowser) {
  const missing = [];
  if (!has('java')) missing.push('openjdk-17-jre-headless');
  if (needBrowser && !existsSync('/usr/bin/chromium')) missing.push('chromium');
  if (needBrowser && !existsSync('/usr/share/fonts/truetype/wqy/wqy-microhei.ttc')) missing.push('fonts-wqy-microhei');
  // dicom3tools' dciodvfy checks that de-identified DICOM still validates (R-DEID-4 test).
  if (needBrowser && !existsSync('/usr/bin/dciodvfy')) missing.push('dicom3tools');
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0 || !has('apt-get')) {
    console.error(`[mdrp] missing system packages: ${missing.join(' ')} — install them with your package manager`);
    process.exit(1);
  }
  console.log(`[mdrp] installing ${missing.join(' ')} (apt-get)…`);
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

/** The portal is rebuilt only when its sources changed (hash of web/ sources and messages). */
function ensurePortalBuilt() {
  const hash = createHash('sha256');
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      if (['node_modules', '.next', 'out'].includes(name)) continue;
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else hash.update(p).update(readFileSync(p));
    }
  };
  walk(join(root, 'web'));
  hash.update(readFileSync(join(root, 'package-lock.json')));
  const digest = hash.digest('hex');
  const stamp = join(root, 'web', 'out', '.build-hash');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return;
  console.log('[mdrp] building the portal (next build)…');
  run('npx', ['next', 'build', 'web']);
  mkdirSync(dirname(stamp), { recursive: true });
  writeFileSync(stamp, digest);
}

ensureNodeModules();
ensureSystemPackages(mode === 'test');
if (mode !== 'reset') ensurePortalBuilt();

const tsx = join(root, 'node_modules', '.bin', 'tsx');
const vitest = join(root, 'node_modules', '.bin', 'vitest');
const [cmd, args] = mode === 'test' ? [vitest, ['run', ...extra]] : [tsx, [join(root, 'infra', 'local', 'start.ts'), ...extra]];
const child = spawn(cmd, args, { cwd: root, stdio: 'inherit' });
// Ctrl-C reaches the whole foreground process group; forward SIGTERM explicitly.
process.on('SIGTERM', () => child.kill('SIGTERM'));
process.on('SIGINT', () => undefined);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
