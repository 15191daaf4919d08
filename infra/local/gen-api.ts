import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_SCHEMA_FILE, generateApiSchema } from './api-schema';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * `npm run gen:api`: regenerates web/lib/api-schema.ts from the route table.
 * `npm run gen:api -- --check`: exits 1 when the checked-in file is stale (CI).
 */
const target = join(REPO_ROOT, API_SCHEMA_FILE);
const next = await generateApiSchema();
let current = '';
try {
  current = readFileSync(target, 'utf8');
} catch {
  current = '';
}
if (process.argv.includes('--check')) {
  if (current !== next) {
    console.error(`${API_SCHEMA_FILE} is stale: run \`npm run gen:api\``);
    process.exit(1);
  }
  console.log(`${API_SCHEMA_FILE} is up to date`);
} else if (current === next) {
  console.log(`${API_SCHEMA_FILE} unchanged`);
} else {
  writeFileSync(target, next);
  console.log(`wrote ${API_SCHEMA_FILE} (${next.length} bytes)`);
}
