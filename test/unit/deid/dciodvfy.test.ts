import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { L2_RESEARCH, L3_PROJECT } from '../../../functions/core/deid/deid-policy';
import { deidentifyDicom } from '../../../functions/core/deid/deidentify-dicom';
import { Pseudonymizer } from '../../../functions/core/deid/pseudonym';
import { demoCohort, localKeys } from './deid-fixtures';

/**
 * dicom3tools' `dciodvfy` validates a DICOM object against its IOD (PS3.3). De-identification
 * must not make a valid object invalid: every error it reports on the output must already be
 * reported on the input. The binary is installed by `npm test` (infra/local/bootstrap.mjs) and
 * by CI (.ci/run); only a developer machine without it skips, and CI never does.
 */
const DCIODVFY = '/usr/bin/dciodvfy';
const available = existsSync(DCIODVFY);
if (!available) {
  if (process.env.CI) throw new Error('dciodvfy is missing in CI: install the Debian package dicom3tools');
  console.warn('[dciodvfy.test] SKIPPED: /usr/bin/dciodvfy not found — install the Debian package dicom3tools (npm test does this as root)');
}

/** The error lines of dciodvfy on one file, with values blanked so input and output compare. */
function dciodvfyErrors(file: string): string[] {
  const r = spawnSync(DCIODVFY, [file], { encoding: 'utf8' });
  if (r.error) throw r.error;
  return `${r.stdout}\n${r.stderr}`
    .split('\n')
    .filter((l) => /^Error\b/.test(l))
    .map((l) => l.replace(/<[^>]*>/g, '<…>').trim());
}

describe.skipIf(!available)('de-identified DICOM still validates with dciodvfy (R-DEID-4)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mdrp-dciodvfy-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const keys = localKeys();
  // Every DICOM type the demo generator produces (MR T2/DCE, CT, secondary capture), a few of each.
  const files = demoCohort()
    .patients.slice(0, 3)
    .flatMap((p) => p.files.filter((f) => f.kind === 'dicom').map((f) => ({ f, patient: p.sourcePatientId })));
  const sample = [...new Map(files.map((x) => [`${x.f.dicom?.modality}-${x.patient}`, x])).values()];

  for (const policy of [L2_RESEARCH, L3_PROJECT]) {
    it(`R-DEID-4: ${policy.id} output has no dciodvfy error the input did not have (${sample.length} files)`, async () => {
      expect(sample.length).toBeGreaterThanOrEqual(3);
      const p = new Pseudonymizer(keys, 'proj-dciodvfy');
      let checked = 0;
      for (const [i, { f, patient }] of sample.entries()) {
        const inFile = join(tmp, `${policy.id}-${i}-in.dcm`);
        writeFileSync(inFile, f.bytes);
        const out = await deidentifyDicom(f.bytes, { policy, projectId: 'proj-dciodvfy', patientToken: await p.token('patient', patient), keys, pseudonymizer: p });
        if (!out.bytes) continue; // refused (burned-in annotation): nothing released, nothing to validate
        const outFile = join(tmp, `${policy.id}-${i}-out.dcm`);
        writeFileSync(outFile, out.bytes);
        const before = new Set(dciodvfyErrors(inFile));
        const added = dciodvfyErrors(outFile).filter((e) => !before.has(e));
        expect({ file: i, modality: f.dicom?.modality, newErrors: added }).toEqual({ file: i, modality: f.dicom?.modality, newErrors: [] });
        checked++;
      }
      expect(checked).toBeGreaterThanOrEqual(3);
    }, 120_000);
  }

  it('R-DEID-4: the check can fail — a broken object is reported by dciodvfy', () => {
    const { f } = sample[0]!;
    // Drop the SOP Class UID value: a type 1 attribute every IOD requires.
    const bytes = Buffer.from(f.bytes);
    const broken = join(tmp, 'broken.dcm');
    const idx = bytes.indexOf(Buffer.from([0x08, 0x00, 0x16, 0x00]), 132);
    expect(idx).toBeGreaterThan(0);
    // Overwrite the value with NUL bytes (no longer a valid UID).
    const len = bytes.readUInt16LE(idx + 6);
    bytes.fill(0x00, idx + 8, idx + 8 + len);
    writeFileSync(broken, bytes);
    expect(dciodvfyErrors(broken).length).toBeGreaterThan(0);
  });
});
