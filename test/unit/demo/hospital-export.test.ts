import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExportManifest } from '../../../infra/local/demo/demo-model';
import { generateDemoCohort } from '../../../infra/local/demo/generate-demo-cohort';
import { writeHospitalExport } from '../../../infra/local/demo/write-hospital-export';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'mdrp-demo-export-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('hospital export', () => {
  it('R-ING-4: same seed → byte-identical export (identical sha256 manifest); another seed differs', async () => {
    const a = tmp();
    const b = tmp();
    const c = tmp();
    await writeHospitalExport(generateDemoCohort({ seed: 7, patients: 6 }), a);
    await writeHospitalExport(generateDemoCohort({ seed: 7, patients: 6 }), b);
    await writeHospitalExport(generateDemoCohort({ seed: 8, patients: 6 }), c);
    const ma = readFileSync(join(a, 'manifest.json'));
    expect(ma.equals(readFileSync(join(b, 'manifest.json')))).toBe(true);
    expect(ma.equals(readFileSync(join(c, 'manifest.json')))).toBe(false);
  }, 30_000);

  it('R-ING-1/R-ING-4: export layout (NDJSON, DICOM tree, documents, CSV + column mapping) with a correct sha256 for every file', async () => {
    const dir = tmp();
    const cohort = generateDemoCohort({ seed: 11, patients: 12 });
    const manifest = await writeHospitalExport(cohort, dir);
    const onDisk = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ExportManifest;
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(manifest)));
    expect(manifest.seed).toBe(11);
    expect(manifest.counts.patients).toBe(12);
    expect(manifest.probableDuplicatePairs.length).toBeGreaterThan(0);
    for (const f of manifest.files) {
      const bytes = readFileSync(join(dir, f.path));
      expect(bytes.byteLength).toBe(f.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
    }
    const paths = manifest.files.map((f) => f.path);
    expect(paths).toContain('fhir/Patient.ndjson');
    expect(paths).toContain('tables/nursing-records.csv');
    expect(paths).toContain('tables/vital-signs.csv');
    expect(paths).toContain('tables/column-mapping.json');
    expect(paths.some((p) => /^dicom\/demo-hospital-[12]\/2\.25\.\d+\/2\.25\.\d+\/2\.25\.\d+\.dcm$/.test(p))).toBe(true);
    expect(paths.some((p) => /^documents\/.+\.pdf$/.test(p))).toBe(true);
    const patients = readFileSync(join(dir, 'fhir/Patient.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { resourceType: string });
    expect(patients).toHaveLength(12);
    expect(patients.every((p) => p.resourceType === 'Patient')).toBe(true);
    const total = Object.values(manifest.counts.fhirResources).reduce((s, n) => s + n, 0);
    expect(total).toBe(cohort.patients.reduce((s, p) => s + p.fhir.length, 0));
    const csv = readFileSync(join(dir, 'tables/vital-signs.csv'), 'utf8');
    expect(csv.startsWith('\uFEFF记录号,病案号,测量时间,心率')).toBe(true);
    expect(csv.trim().split('\r\n')).toHaveLength(manifest.counts.vitalRows + 1);
    const mapping = JSON.parse(readFileSync(join(dir, 'tables/column-mapping.json'), 'utf8')) as { timeZone: string };
    expect(mapping.timeZone).toBe('Asia/Shanghai');
  }, 30_000);
});
