/**
 * `npm run trace-leak -- <file> [--format fhir-json|fhir-ndjson|csv|dicom] [--data-dir DIR]`
 *
 * R-DEID-6: traces a leaked file (FHIR JSON/Bundle/NDJSON, CSV of released rows or a DICOM file) to the grant it
 * was released under, against the running local platform (`npm start`): the same `LeakTracer`
 * as `POST /v1/leak-traces`, with the platform's stores and keys. The trace is written to the
 * audit trail (category `security`, operator = the OS user), never the file's content. Prints
 * the grant, its holder, the confidence and the evidence; exit code 3 when not traced.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { LocalKeyProvider } from '../../functions/adapters/local/local-key-provider';
import { RandomIdGenerator } from '../../functions/adapters/shared/random-id-generator';
import { GrantService } from '../../functions/core/access/grant-service';
import { AuditTrail } from '../../functions/core/audit/audit-trail';
import { LEAK_FORMATS, LeakTracer, type LeakFormat } from '../../functions/core/reidentification/leak-tracer';
import { systemClock } from '../../functions/core/ports/clock';
import type { Scheduler } from '../../functions/core/ports/scheduler';
import { localConnection, localStores, readLocalKeys } from './local-connection';

const USAGE = `usage: npm run trace-leak -- <file> [--format ${LEAK_FORMATS.join('|')}] [--data-dir DIR]`;

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { format: { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean' } } });
  const file = positionals[0];
  if (values.help || !file) {
    console.log(USAGE);
    return file ? 0 : 2;
  }
  const format = values.format as LeakFormat | undefined;
  if (format && !(LEAK_FORMATS as readonly string[]).includes(format)) {
    console.error(USAGE);
    return 2;
  }
  const conn = values['data-dir'] ? localConnection(values['data-dir']) : localConnection();
  const { documents } = localStores(conn);
  const keys = new LocalKeyProvider(readLocalKeys(conn));
  // Only reads grants: scheduling and notifying are never reached.
  const unused: Scheduler = { schedule: async () => Promise.reject(new Error('not used')), cancel: async () => Promise.reject(new Error('not used')) };
  const grants = new GrantService(documents, unused, { notify: async () => undefined }, systemClock, new RandomIdGenerator());
  // Bytes: DICOM is binary; the tracer reads the text formats as UTF-8.
  const content = new Uint8Array(readFileSync(file));
  const started = Date.now();
  let status = 200;
  let errorCode: string | undefined;
  let result: Awaited<ReturnType<LeakTracer['trace']>> | undefined;
  try {
    result = await new LeakTracer(documents, grants, keys).trace(content, format ? { format } : {});
  } catch (e) {
    status = 400;
    errorCode = (e as { code?: string }).code ?? 'INTERNAL';
    console.error(`trace-leak: ${(e as Error).message}`);
  }
  // Every trace is audited like the API call (ids and figures only).
  await new AuditTrail(documents, systemClock).write({
    eventId: new RandomIdGenerator().next('evt'),
    time: new Date().toISOString(),
    correlationId: randomUUID(),
    category: 'security',
    operation: 'traceLeak',
    actor: { kind: 'system', id: `system:trace-leak-cli:${userInfo().username}`, roles: [] },
    source: { userAgent: 'npm run trace-leak' },
    resources: result?.grantId ? [{ type: 'Grant', id: result.grantId }] : [],
    parameters: { bytes: content.byteLength, traced: result?.traced ?? false, confidence: result?.confidence ?? 0, ms: Date.now() - started },
    result: { outcome: result ? 'success' : 'failure', status, ...(errorCode ? { errorCode } : {}), ...(result ? { count: result.records } : {}) },
  });
  if (!result) return 1;
  console.log(`format ${result.format}, ${result.records} records, ${result.grantsConsidered} grants considered`);
  if (result.traced) console.log(`TRACED to grant ${result.grantId} (holder ${result.holderName}, ${result.holderId}), confidence ${result.confidence.toFixed(6)}`);
  else console.log('NOT TRACED: no grant reaches the evidence threshold');
  for (const c of result.candidates) {
    console.log(`  ${c.grantId}: ${c.evidenceBits} bits — tags ${c.watermarkTags}, release pseudonyms ${c.pseudonymsMatched}, marked tokens ${c.markedTokens}/${c.tokensChecked}, key order ${c.keyOrderMatched}/${c.keyOrderChecked}`);
  }
  return result.traced ? 0 : 3;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`trace-leak: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
