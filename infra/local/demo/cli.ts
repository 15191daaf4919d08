/**
 * CLI: `tsx infra/local/demo/cli.ts --out <dir> [--seed N] [--patients N]`
 * Generates the synthetic cohort and writes it as a hospital export folder. Prints counts only
 * (no identifiers: the output is PHI-shaped even though it is synthetic).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DEMO_PATIENTS, DEFAULT_DEMO_SEED, generateDemoCohort } from './generate-demo-cohort';
import { writeHospitalExport } from './write-hospital-export';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, seed: { type: 'string' }, patients: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help || !values.out) {
    process.stdout.write('usage: tsx infra/local/demo/cli.ts --out <dir> [--seed N] [--patients N]\n');
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const seed = values.seed === undefined ? DEFAULT_DEMO_SEED : Number(values.seed);
  const patients = values.patients === undefined ? DEFAULT_DEMO_PATIENTS : Number(values.patients);
  if (!Number.isInteger(seed) || !Number.isInteger(patients) || patients < 4) throw new Error('--seed and --patients must be integers (patients >= 4)');
  const t0 = performance.now();
  const cohort = generateDemoCohort({ seed, patients });
  const t1 = performance.now();
  const manifest = await writeHospitalExport(cohort, resolve(values.out));
  const t2 = performance.now();
  process.stdout.write(
    `${JSON.stringify({ out: resolve(values.out), seed, patients: manifest.counts.patients, files: manifest.files.length, counts: manifest.counts, pdfText: manifest.pdfText.cjkFont ? 'zh+en' : 'en-only', generateMs: Math.round(t1 - t0), writeMs: Math.round(t2 - t1) }, null, 2)}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
