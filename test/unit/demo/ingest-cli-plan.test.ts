import ExcelJS from 'exceljs';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExcelJsSpreadsheetReader } from '../../../functions/adapters/shared/exceljs-spreadsheet-reader';
import { XLSX_CONTENT_TYPE } from '../../../functions/core/ingestion/table-ingestor';
import { COLUMN_MAPPING, VITAL_COLUMNS } from '../../../infra/local/demo/write-hospital-export';
import { planExport } from '../../../infra/local/ingest-cli';

const patient = (id: string, institution: string, mrn: string) => ({ resourceType: 'Patient', id, identifier: [{ system: `https://mdrp.example.org/fhir/sid/mrn/${institution}`, value: mrn, type: { coding: [{ code: 'MR' }] } }] });
const vitals = (recordId: string, mrn: string) => [recordId, mrn, '2024-10-03 07:05:00', 65, 103, 80, 36.9, 99, 17, 'manual'];

async function exportDir(rows: Array<Array<string | number>>): Promise<{ dir: string; workbook: Uint8Array }> {
  const dir = mkdtempSync(join(tmpdir(), 'mdrp-cli-plan-'));
  mkdirSync(join(dir, 'fhir'));
  mkdirSync(join(dir, 'tables'));
  writeFileSync(join(dir, 'fhir', 'Patient.ndjson'), [patient('pa', 'hosp-a', 'MRN-A'), patient('pb', 'hosp-b', 'MRN-B')].map((p) => JSON.stringify(p)).join('\n'));
  writeFileSync(join(dir, 'tables', 'column-mapping.json'), JSON.stringify(COLUMN_MAPPING));
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('vitals');
  ws.addRow([...VITAL_COLUMNS]);
  for (const r of rows) ws.addRow(r);
  const workbook = new Uint8Array(await wb.xlsx.writeBuffer());
  writeFileSync(join(dir, 'tables', 'vital-signs.xlsx'), workbook);
  return { dir, workbook };
}

describe('npm run ingest: upload plan of a hospital export (R-ING-1)', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('R-ING-1: an XLSX table is uploaded as a workbook, split per institution by the MRN column of its mapping', async () => {
    // Prepare
    const { dir } = await exportDir([vitals('V1', 'MRN-A'), vitals('V2', 'MRN-B'), vitals('V3', 'MRN-A')]);
    dirs.push(dir);
    // Act
    const plan = (await planExport(dir)).filter((p) => p.fileName === 'vital-signs.xlsx');
    // Assess
    expect(plan.map((p) => [p.institution, p.contentType, p.phase])).toEqual([
      ['hosp-a', XLSX_CONTENT_TYPE, 'tables'],
      ['hosp-b', XLSX_CONTENT_TYPE, 'tables'],
    ]);
    const reader = new ExcelJsSpreadsheetReader();
    const [a, b] = await Promise.all(plan.map((p) => reader.readFirstSheet(p.bytes, { maxRows: 100, maxColumns: 20 })));
    expect(a![0]).toEqual([...VITAL_COLUMNS]);
    expect(a!.slice(1).map((r) => r[0])).toEqual(['V1', 'V3']);
    expect(b!.slice(1).map((r) => [r[0], r[1]])).toEqual([['V2', 'MRN-B']]);
    // The report labels name the file and the institution, never a patient.
    expect(plan.map((p) => p.label).join(' ')).not.toMatch(/MRN-/);
    // The column mapping is planned before the workbook of each institution.
    const all = await planExport(dir, 'hosp-b');
    expect(all.filter((p) => p.phase === 'tables').map((p) => p.fileName)).toEqual(['column-mapping.json', 'vital-signs.xlsx']);
  });

  it('R-ING-1: a workbook of one institution is uploaded byte for byte', async () => {
    // Prepare
    const { dir, workbook } = await exportDir([vitals('V1', 'MRN-B'), vitals('V2', 'MRN-B')]);
    dirs.push(dir);
    // Act
    const plan = (await planExport(dir)).filter((p) => p.fileName === 'vital-signs.xlsx');
    // Assess
    expect(plan).toHaveLength(1);
    expect(plan[0]!.institution).toBe('hosp-b');
    expect(Buffer.from(plan[0]!.bytes).equals(Buffer.from(workbook))).toBe(true);
  });
});
