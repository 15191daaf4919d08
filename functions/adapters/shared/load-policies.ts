import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PolicyBundle } from '../../core/authz/cedar-authorizer';

/**
 * Reads the Cedar schema and policy files of `policies/` (copied into every Lambda bundle by CDK).
 * The version is a hash of the content, recorded with decisions so a decision can be traced to
 * the exact policy set.
 */
export function loadPolicyBundle(dir: string): PolicyBundle {
  // Policies may be grouped in one folder per domain (policies/access/*.cedar, …).
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.cedar')).sort();
  const policies: Record<string, string> = {};
  const hash = createHash('sha256');
  for (const f of files) {
    policies[f] = readFileSync(join(dir, f), 'utf8');
    hash.update(f).update('\0').update(policies[f]!);
  }
  const schema = readFileSync(join(dir, 'mdrp.cedarschema'), 'utf8');
  hash.update(schema);
  return { schema, policies, version: hash.digest('hex').slice(0, 12) };
}
