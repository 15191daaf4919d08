import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalKeyProvider } from '../../../functions/adapters/local/local-key-provider';
import { CatalogService } from '../../../functions/core/catalog/catalog-service';
import { tableDescriptionOf, tablesFromColumnMapping, type TableDescription } from '../../../functions/core/catalog/table-columns';
import { MemoryDocumentStore } from '../../../functions/adapters/memory/memory-document-store';
import { getPolicy } from '../../../functions/core/deid/deid-policy';
import { deidentifyTable, generalizeCell, shiftTableDate } from '../../../functions/core/deid/deidentify-table';
import { readCsvRows, writeCsvRows } from '../../../functions/core/deid/table-csv';
import { GrantWatermark, TABLE_RECORD_TYPE } from '../../../functions/core/deid/watermark';
import { testKeys } from '../../support/test-container';

const keys = new LocalKeyProvider(testKeys());
const policy = getPolicy('l2-research');

/** A hospital's outpatient table as the metadata catalogue describes it. */
const TABLE: TableDescription = {
  table: 'outpatient-visits',
  patientColumn: 'mrn',
  columns: [
    { column: 'patient_name', action: 'remove', description: 'direct identifier' },
    { column: 'phone', action: 'mask' },
    { column: 'insurance_no', action: 'pseudonymize' },
    { column: 'age', action: 'generalize', generalize: 'age-band' },
    { column: 'birth_date', action: 'generalize', generalize: 'year' },
    { column: 'address', action: 'generalize', generalize: 'region' },
    { column: 'diagnosis', action: 'generalize', generalize: 'icd10-category' },
    { column: 'visit_time', action: 'shift' },
    { column: 'complaint', action: 'scrub' },
    { column: 'heart_rate', action: 'keep' },
  ],
};

const CSV = [
  'mrn,patient_name,phone,insurance_no,age,birth_date,address,diagnosis,visit_time,complaint,heart_rate,remark,residentId',
  'MRN0001,张云,13912345678,INS-778812,47,1977-03-14,浙江省杭州市西湖区文三路100号,C50.912,2024-03-05 08:30,患者张云诉右乳肿物2月,72,家属电话13800001111,110101197703140029',
  'MRN0001,张云,13912345678,INS-778812,47,1977-03-14,浙江省杭州市西湖区文三路100号,C50.912,2024-03-19 09:10,复诊,75,,110101197703140029',
  'MRN0002,李娜,13698765432,INS-100200,91,1933-11-02,上海市浦东新区张江路1号,D05.1,2024/04/01,无特殊,80,ok,',
].join('\n');

describe('table column rules (R-DEID-2, R-DEID-4)', () => {
  it('R-DEID-2: catalogue column actions — remove, mask, pseudonymize, generalize, date shift, scrub, keep', async () => {
    const { rows } = readCsvRows(CSV);
    const out = await deidentifyTable(rows, { policy, projectId: 'proj-a', keys, table: TABLE });
    expect(out.columns).not.toContain('patient_name');
    // Not in the catalogue: the policy's column rule applies (resident ID removed).
    expect(out.columns).not.toContain('residentId');
    const [a, b, c] = out.rows as [Record<string, string>, Record<string, string>, Record<string, string>];
    expect(a.phone).toBe('139******78');
    expect(a.insurance_no).toMatch(/^[0-9a-f]{32}$/);
    expect(a.mrn).toMatch(/^[0-9a-f]{32}$/);
    expect(b.mrn).toBe(a.mrn);
    expect(c.mrn).not.toBe(a.mrn);
    expect([a.age, c.age]).toEqual(['45-49', '90+']);
    expect(a.birth_date).toBe('1977');
    expect(a.address).toBe('浙江省杭州市');
    expect(c.address).toBe('上海市');
    expect([a.diagnosis, c.diagnosis]).toEqual(['C50', 'D05']);
    expect(a.heart_rate).toBe('72');
    expect(a.complaint).not.toContain('张云');
    // Undescribed column: scrubbed by default, so a phone number hiding there goes.
    expect(a.remark).not.toContain('13800001111');
    expect(c.remark).toBe('ok');
    // Dates shifted by the patient's keyed offset, in their own format; intervals kept.
    const day = (s: string) => Date.parse(s.replace(' ', 'T').replace(/\//g, '-').slice(0, 10));
    expect(a.visit_time).toMatch(/^\d{4}-\d{2}-\d{2} 08:30$/);
    expect(a.visit_time).not.toBe('2024-03-05 08:30');
    expect(day(b.visit_time!) - day(a.visit_time!)).toBe(14 * 86_400_000);
    expect(c.visit_time).toMatch(/^\d{4}\/\d{2}\/\d{2}$/);
    const shift = (day(a.visit_time!) - Date.parse('2024-03-05')) / 86_400_000;
    expect(Math.abs(shift)).toBeGreaterThanOrEqual(policy.dateShift.minDays);
    expect(Math.abs(shift)).toBeLessThanOrEqual(policy.dateShift.maxDays);
    // No source identifier survives anywhere in the output.
    const text = writeCsvRows(out.columns, out.rows);
    for (const secret of ['张云', '李娜', '13912345678', 'INS-778812', 'MRN0001', '110101197703140029', '文三路', '1977-03-14']) expect(text).not.toContain(secret);
    // The report names columns and actions, never values.
    expect(out.report.entries).toContainEqual({ path: 'outpatient-visits.patient_name', action: 'remove', detail: 'catalogue' });
    expect(out.report.entries).toContainEqual({ path: 'outpatient-visits.residentId', action: 'remove', detail: 'policy' });
    expect(out.report.entries).toContainEqual({ path: 'outpatient-visits.remark', action: 'scrub', detail: 'default' });
    expect(JSON.stringify(out.report)).not.toContain('MRN0001');
  });

  it('R-DEID-2: pseudonyms are stable within a project and differ between projects; input rows are not mutated', async () => {
    const { rows } = readCsvRows(CSV);
    const copy = JSON.parse(JSON.stringify(rows));
    const a1 = await deidentifyTable(rows, { policy, projectId: 'proj-a', keys, table: TABLE });
    const a2 = await deidentifyTable(rows, { policy, projectId: 'proj-a', keys, table: TABLE });
    const b = await deidentifyTable(rows, { policy, projectId: 'proj-b', keys, table: TABLE });
    expect(a2.rows).toEqual(a1.rows);
    expect(b.rows[0]!.mrn).not.toBe(a1.rows[0]!.mrn);
    expect(b.rows[0]!.insurance_no).not.toBe(a1.rows[0]!.insurance_no);
    expect(rows).toEqual(copy);
  });

  it('R-DEID-2: generalization and date-shift helpers suppress what they cannot coarsen', () => {
    expect(generalizeCell('abc', 'age-band')).toBe('');
    expect(generalizeCell('2024-03-05', 'year-month')).toBe('2024-03');
    expect(generalizeCell('310000', 'postal-prefix')).toBe('310***');
    expect(generalizeCell('某地某街', 'region')).toBe('');
    expect(generalizeCell('广东省深圳市南山区', 'region')).toBe('广东省深圳市');
    expect(shiftTableDate('20240229', 1)).toBe('20240301');
    expect(shiftTableDate('2024-03-05T08:30:00+08:00', -5)).toBe('2024-02-29T08:30:00+08:00');
    expect(shiftTableDate('2024-13-45', 3)).toBeUndefined();
    expect(shiftTableDate('2024-03-05 and more', 3)).toBeUndefined();
  });

  it('R-DEID-2: the catalogue stores table descriptions with the dataset; ingestion column mappings become descriptions', async () => {
    const catalog = new CatalogService(new MemoryDocumentStore());
    await catalog.saveDataset({ datasetId: 'ds-1', title: 't', description: 'd', disease: 'C50', institution: 'h1', securityLevel: 2, modalities: ['nursing'], patientCount: 0, recordCount: 0, fileCount: 0, tables: [TABLE], createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' });
    expect(tableDescriptionOf(await catalog.getDataset('ds-1'), 'outpatient-visits')).toEqual(TABLE);
    const mapped = tablesFromColumnMapping({ tables: { 'vital-signs.csv': { patientKey: { column: '病案号' }, columns: [{ column: '病案号', target: 'patient.mrn', phi: true }, { column: '测量时间', target: 'measuredAt' }, { column: '记录号', target: 'recordId' }] } } });
    expect(mapped).toEqual([{ table: 'vital-signs', patientColumn: '病案号', columns: [{ column: '病案号', field: 'mrn', phi: true }, { column: '测量时间', field: 'measuredAt' }, { column: '记录号', field: 'recordId' }] }]);
    const out = await deidentifyTable([{ 病案号: '1040352567', 测量时间: '2024-09-25 10:25:00', 记录号: '1040352567-V0001', 心率: '64' }], { policy, projectId: 'p', keys, table: mapped[0]! });
    expect(out.rows[0]!['病案号']).toMatch(/^[0-9a-f]{32}$/);
    expect(out.rows[0]!['记录号']).toMatch(/^[0-9a-f]{32}$/);
    expect(out.rows[0]!['测量时间']).not.toBe('2024-09-25 10:25:00');
    expect(out.rows[0]!['心率']).toBe('64');
  });

  it('R-DEID-6: level-3 table releases carry the grant\'s keyed column order and marked pseudonyms, nothing else changes', async () => {
    const { rows } = readCsvRows(CSV);
    const w = new GrantWatermark(keys, 'grt_000000000001');
    const other = new GrantWatermark(keys, 'grt_000000000002');
    const out = await deidentifyTable(rows, { policy: getPolicy('l3-project'), projectId: 'grt_000000000001', keys, table: TABLE, watermark: w });
    const plain = await deidentifyTable(rows, { policy: getPolicy('l3-project'), projectId: 'grt_000000000001', keys, table: TABLE });
    expect(out.columns).toEqual(await w.order(TABLE_RECORD_TYPE, plain.columns));
    expect([...out.columns].sort()).toEqual([...plain.columns].sort());
    for (const [i, row] of out.rows.entries()) {
      const before = plain.rows[i]!;
      for (const col of plain.columns) {
        if (col === 'mrn' || col === 'insurance_no') {
          // Same 112-bit keyed body, a 16-bit grant check at the end: still a stable pseudonym.
          expect(row[col]!.slice(0, 28)).toBe(before[col]!.slice(0, 28));
          expect(await w.isMarked(row[col]!)).toBe(true);
          expect(await other.isMarked(row[col]!)).toBe(false);
        } else expect(row[col]).toBe(before[col]);
      }
    }
    expect(out.rows[0]!.mrn).toBe(out.rows[1]!.mrn);
  });

  it('R-DEID-4: npm run deid de-identifies CSV tables with --columns rules and never writes the identifiers', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'mdrp-deid-table-'));
    try {
      mkdirSync(join(tmp, 'in'));
      writeFileSync(join(tmp, 'in', 'outpatient-visits.csv'), CSV);
      writeFileSync(join(tmp, 'tables.json'), JSON.stringify([TABLE]));
      const stdout = execFileSync('npx', ['tsx', 'infra/local/deid-cli.ts', '--policy', 'l2-research', '--project', 'proj-cli', '--key-file', join(tmp, 'keys.json'), '--columns', join(tmp, 'tables.json'), join(tmp, 'in'), join(tmp, 'out')], { cwd: join(import.meta.dirname, '../../..'), encoding: 'utf8' });
      expect(stdout).toContain('"csv":1');
      expect(stdout).toContain('errors: 0');
      const files = readdirSync(join(tmp, 'out'));
      expect(files).toHaveLength(1);
      const written = readFileSync(join(tmp, 'out', files[0]!), 'utf8');
      const { columns, rows } = readCsvRows(written);
      expect(columns).not.toContain('patient_name');
      expect(rows[0]!.age).toBe('45-49');
      for (const secret of ['张云', '13912345678', 'MRN0001', '110101197703140029']) {
        expect(written).not.toContain(secret);
        expect(stdout).not.toContain(secret);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 120_000);
});
