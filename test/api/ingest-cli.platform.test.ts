import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateDemoCohort } from '../../infra/local/demo/generate-demo-cohort';
import { writeHospitalExport } from '../../infra/local/demo/write-hospital-export';
import { ingestExport } from '../../infra/local/ingest-cli';
import { idTokenFor } from '../support/api-client';

const platform = inject('platform');

describe('npm run ingest: a hospital export through the API (R-ING-1, R-ING-4, R-ING-5)', () => {
  let dir: string;
  let token: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mdrp-export-'));
    // A seed other than the platform's own demo data: these patients are new to it.
    await writeHospitalExport(generateDemoCohort({ patients: 2, seed: 9090 }), dir);
    token = await idTokenFor(platform, 'data-manager');
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('R-ING-1: FHIR, DICOM, documents and tables of every institution are accepted; the report names no patient', async () => {
    const lines: string[] = [];
    const result = await ingestExport({ dir, apiUrl: platform.apiUrl, token, datasetId: 'bc-nrt-io', log: (l) => lines.push(l) });
    expect(result.files.filter((f) => f.status !== 'accepted' || f.rejected > 0)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.files.some((f) => f.label.startsWith('dicom'))).toBe(true);
    expect(result.files.some((f) => f.label.includes('application/pdf'))).toBe(true);
    expect(result.files.some((f) => f.label.startsWith('tables/vital-signs.csv'))).toBe(true);
    expect(lines.join('\n')).not.toMatch(/_\d{8,10}_/); // document file names carry MRNs
  }, 300_000);

  it('R-ING-5: a bad DICOM file and a CSV with an unmapped column are rejected with reasons; ok is false', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'mdrp-bad-'));
    try {
      await writeHospitalExport(generateDemoCohort({ patients: 1, seed: 9191 }), bad);
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(bad, 'dicom', 'demo-hospital-1', 'x', 'y'), { recursive: true });
      writeFileSync(join(bad, 'dicom', 'demo-hospital-1', 'x', 'y', 'broken.dcm'), Buffer.alloc(400, 1));
      writeFileSync(join(bad, 'tables', 'vital-signs.csv'), '\uFEFF记录号,未知列\r\nV1,1\r\n');
      const result = await ingestExport({ dir: bad, apiUrl: platform.apiUrl, token, datasetId: 'bc-nrt-io', institution: 'demo-hospital-1' });
      expect(result.ok).toBe(false);
      const codes = result.files.flatMap((f) => f.codes);
      expect(codes).toContain('INVALID_DICOM');
      expect(codes).toContain('INVALID_ROW');
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  }, 300_000);
});
