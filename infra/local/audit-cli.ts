import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LocalDigestSigner } from '../../functions/adapters/local/local-digest-signer';
import { AuditChainVerifier } from '../../functions/core/audit/audit-chain-verifier';
import { AuditSealer } from '../../functions/core/audit/audit-sealer';
import { systemClock } from '../../functions/core/ports/clock';
import { localConnection, localStores, readLocalKeys } from './local-connection';

const USAGE = `usage: tsx infra/local/audit-cli.ts <command> [options]
  verify [--from ISO] [--to ISO] [--public-key FILE.pem]
         checks the audit chain of the running local platform with the public key only
         (default: the public half of the local signing key); exit code 1 when broken
  --data-dir DIR  the platform's data folder (default .mdrp; ports from MDRP_DYNAMO_PORT, MDRP_S3_PORT)
  seal   seals every period that may be sealed now (what the scheduled sealer does)
  public-key
         prints the public key (PEM) that verifies the local chain`;

/** `npm run audit:verify`: the audit-chain verifier (and sealer) against the running local platform. */
async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { from: { type: 'string' }, to: { type: 'string' }, 'public-key': { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean' } },
  });
  const [command] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const conn = values['data-dir'] ? localConnection(values['data-dir']) : localConnection();
  const publicPem = () =>
    values['public-key']
      ? readFileSync(values['public-key'], 'utf8')
      : createPublicKey(createPrivateKey(readLocalKeys(conn).auditSigningKeyPem)).export({ type: 'spki', format: 'pem' }).toString();

  if (command === 'public-key') {
    process.stdout.write(publicPem());
    return 0;
  }
  const { documents, objects } = localStores(conn);
  if (command === 'seal') {
    const r = await new AuditSealer(documents, objects, new LocalDigestSigner(readLocalKeys(conn).auditSigningKeyPem), systemClock).seal();
    console.log(`sealed ${r.digests.length} digest(s), ${r.digests.reduce((s, d) => s + d.eventCount, 0)} event(s); chain sealed through ${r.sealedThrough ?? '(nothing yet)'}`);
    return 0;
  }
  if (command !== 'verify') {
    console.error(USAGE);
    return 2;
  }
  const pem = publicPem();
  const t0 = performance.now();
  const r = await new AuditChainVerifier(documents, objects, async () => pem).verify({ from: values.from, to: values.to });
  const took = `${((performance.now() - t0) / 1000).toFixed(2)} s`;
  if (r.ok) {
    const scope = r.digestsChecked ? `sealed through ${r.sealedThrough}` : 'no digests yet: run `tsx infra/local/audit-cli.ts seal` or wait for the sealer';
    console.log(`OK: ${r.digestsChecked} digest(s), ${r.eventsChecked} event(s) verified (${scope}) in ${took}`);
    return 0;
  }
  const b = r.firstBroken!;
  console.log(`BROKEN: first broken link at digest ${b.digestId}: ${b.reason}${b.eventId ? ` (event ${b.eventId})` : ''}`);
  console.log(`  verified before it: ${r.digestsChecked} digest(s), ${r.eventsChecked} event(s)`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  },
);
