import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { routes } from '../../../functions/http/routes';
import { API_SCHEMA_FILE, generateApiSchema } from '../../../infra/local/api-schema';

describe('generated API types (web/lib/api-schema.ts)', () => {
  it('R-INT-2: the checked-in file is what the current route table generates (else run `npm run gen:api`)', async () => {
    const expected = await generateApiSchema();
    const actual = readFileSync(API_SCHEMA_FILE, 'utf8');
    // Not toBe(): a 300 kB diff helps nobody; the message says what to do.
    expect(actual === expected, `${API_SCHEMA_FILE} is stale: run \`npm run gen:api\` and commit the result`).toBe(true);
  }, 60_000);

  it('R-INT-2: every route of the table is a typed path and method, with the operation id', async () => {
    const generated = await generateApiSchema();
    for (const r of routes) {
      expect(generated, r.operationId).toContain(`"${r.path}": {`);
      expect(generated, r.operationId).toContain(`    ${r.operationId}: {`);
    }
  }, 60_000);
});
