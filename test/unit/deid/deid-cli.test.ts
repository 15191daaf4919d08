import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDicom, writeDicom } from '../../../functions/core/deid/deidentify-dicom';
import { writeHospitalExport } from '../../../infra/local/demo/write-hospital-export';
import { demoCohort, vaultValues } from './deid-fixtures';

function tree(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tree(join(dir, e.name)) : [join(dir, e.name)]));
}
const digest = (dir: string) => createHash('sha256').update(tree(dir).sort().map((f) => `${f}:${createHash('sha256').update(readFileSync(f)).digest('hex')}`).join('\n')).digest('hex');

describe('npm run deid (R-DEID-4, R-SEC-8)', () => {
  let tmp = '';
  let stdout = '';
  let before = '';

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'mdrp-deid-'));
    const input = join(tmp, 'export');
    // Two patients keep the spawned CLI run short; the other tests cover the whole cohort.
    await writeHospitalExport({ ...demoCohort(), patients: demoCohort().patients.slice(0, 2) }, input);
    // One image that says it has burned-in text: the CLI must refuse it under l2-research.
    const dcm = tree(input).find((f) => f.endsWith('.dcm'))!;
    const { meta, dict } = readDicom(new Uint8Array(readFileSync(dcm)));
    dict['00280301'] = { vr: 'CS', Value: ['YES'] };
    writeFileSync(join(input, 'burned-in.dcm'), writeDicom(meta, dict));
    writeFileSync(join(input, 'notes.jsonl'), `${JSON.stringify({ id: 1, text: '患者王秀英，电话13912345678。' })}\n`);
    before = digest(input);
    stdout = execFileSync('npx', ['tsx', 'infra/local/deid-cli.ts', '--policy', 'l2-research', '--project', 'proj-cli', '--key-file', join(tmp, 'keys', 'deid-keys.json'), input, join(tmp, 'out')], {
      cwd: join(import.meta.dirname, '../../..'),
      encoding: 'utf8',
    });
  }, 120_000);

  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('R-SEC-8: the input is never modified and the key file is created with mode 0600', () => {
    expect(digest(join(tmp, 'export'))).toBe(before);
    expect(statSync(join(tmp, 'keys', 'deid-keys.json')).mode & 0o777).toBe(0o600);
  });

  it('R-DEID-4: no identity-vault value is in any output file, file name or the printed summary', () => {
    const outputs = tree(join(tmp, 'out'));
    expect(outputs.some((f) => f.endsWith('.dcm'))).toBe(true);
    expect(outputs.some((f) => f.endsWith('.ndjson'))).toBe(true);
    expect(outputs.some((f) => f.endsWith('.spans.json'))).toBe(true);
    const leaks: string[] = [];
    for (const p of demoCohort().patients.slice(0, 2)) {
      const values = vaultValues(p);
      for (const f of outputs) {
        const body = readFileSync(f).toString('utf8');
        for (const v of values) if (body.includes(v) || f.includes(v)) leaks.push(`${f.slice(tmp.length)}: ${v.length} chars`);
      }
      for (const v of values) if (stdout.includes(v)) leaks.push(`stdout: ${v.length} chars`);
    }
    expect(leaks).toEqual([]);
    expect(readFileSync(outputs.find((f) => f.endsWith('.jsonl'))!, 'utf8')).toContain('[姓名]');
  });

  it('R-DEID-4: the summary counts actions and reports the refused burned-in image', () => {
    expect(stdout).toMatch(/policy l2-research@1\.0\.0/);
    expect(stdout).toMatch(/actions: \{.*"replace-uid":\d+/);
    expect(stdout).toMatch(/refused: \{"BurnedInAnnotation is YES[^"]*":1\}/);
    expect(stdout).toMatch(/errors: 0/);
  });
});
