import { beforeAll, describe, expect, it } from 'vitest';
import { COLUMN_MAPPING, NURSING_COLUMNS, VITAL_COLUMNS } from '../../../infra/local/demo/write-hospital-export';
import type { DemoPatient } from '../../../infra/local/demo/demo-model';
import { localToUtc } from '../../../functions/core/ingestion/local-time';
import { containerWith, demoCohort, patientIdOf, source } from './multimodal-fixture';

const enc = (s: string) => new TextEncoder().encode(s);
const csv = (rows: Array<Array<string | number>>) => `\uFEFF${rows.map((r) => r.map((x) => (/[",\n]/.test(String(x)) ? `"${String(x).replaceAll('"', '""')}"` : String(x))).join(',')).join('\r\n')}\r\n`;

describe('Table ingestion (R-ING-2, R-ING-5, R-ING-7)', () => {
  let p: DemoPatient;
  beforeAll(() => {
    p = demoCohort().patients[0]!;
  });
  const mapping = enc(JSON.stringify(COLUMN_MAPPING));

  it('R-ING-2: vital signs become observations with UCUM units, source value and unit kept, Shanghai time → UTC; one event per day', async () => {
    const c = await containerWith([p]);
    expect((await c.ingestRouter.ingest(source(p, 'column-mapping.json', 'application/vnd.mdrp.column-mapping+json', mapping))).counts.accepted).toBe(2);
    const rows = [[...VITAL_COLUMNS], ['V1', p.identity.mrn, '2024-10-03 07:05:00', 65, 103, 80, '36.9', 99, 17, 'manual']];
    const job = await c.ingestRouter.ingest(source(p, 'vital-signs.csv', 'text/csv; charset=utf-8', enc(csv(rows))));
    expect(job.counts).toMatchObject({ accepted: 1, rejected: 0, timelineEvents: 1 });
    const patientId = await patientIdOf(c, p);
    const [obs] = (await c.research.records(patientId, 'Observation')).filter((r) => r.effectiveSource);
    expect(obs!.effectiveDateTime).toBe('2024-10-02T23:05:00.000Z');
    const temp = (obs!.component as Array<{ field: string; valueQuantity: { value: number; unit: string }; source: { value: string; unit: string } }>).find((x) => x.field === 'temperature')!;
    expect(temp).toMatchObject({ valueQuantity: { value: 36.9, unit: 'Cel' }, source: { value: '36.9', unit: 'Cel' } });
    expect(JSON.stringify(obs)).not.toContain(p.identity.mrn);
    expect((await c.research.timeline(patientId)).some((e) => e.type === 'vital-signs')).toBe(true);
    expect(localToUtc('2024-02-30 10:00:00')).toBeUndefined();
  });

  it('R-ING-2: free-text nursing notes never reach the database; they are kept encrypted per patient', async () => {
    const c = await containerWith([p]);
    await c.ingestRouter.ingest(source(p, 'column-mapping.json', 'application/vnd.mdrp.column-mapping+json', mapping));
    const note = `患者${p.identity.fullName}，神志清`;
    const rows = [[...NURSING_COLUMNS], ['N1', p.identity.mrn, '2024-10-03 11:10:00', '病区', '入院评估', 2, 100, 20, 20, note, 'N0348']];
    const job = await c.ingestRouter.ingest(source(p, 'nursing-records.csv', 'text/csv', enc(csv(rows))));
    expect(job.counts.accepted).toBe(1);
    const patientId = await patientIdOf(c, p);
    const [obs] = (await c.research.records(patientId, 'Observation')).filter((r) => r.freeText);
    expect(JSON.stringify(obs)).not.toContain(p.identity.fullName);
    const file = await c.research.readFile(patientId, (obs!.freeText as { fileId: string }).fileId);
    expect(new TextDecoder().decode(file!.bytes)).toContain(note);
  });

  it('R-ING-5: unmapped or malformed columns, unknown patients and missing mappings are rejected with line and column', async () => {
    const c = await containerWith([p]);
    const table = (rows: Array<Array<string | number>>) => c.ingestRouter.ingest(source(p, 'vital-signs.csv', 'text/csv', enc(csv(rows))));
    expect((await table([[...VITAL_COLUMNS]])).rejected[0]?.code).toBe('MISSING_COLUMN_MAPPING');
    await c.ingestRouter.ingest(source(p, 'column-mapping.json', 'application/vnd.mdrp.column-mapping+json', mapping));
    const unmapped = await table([[...VITAL_COLUMNS, '备注'], ['V1', p.identity.mrn, '2024-10-03 07:05:00', 65, 103, 80, '36.9', 99, 17, 'manual', 'x']]);
    expect(unmapped.rejected[0]).toMatchObject({ line: 1, code: 'INVALID_ROW', column: '备注' });
    const job = await table([
      [...VITAL_COLUMNS],
      ['V1', p.identity.mrn, '2024-10-03 07:05:00', 65, 103, 80, '36.9', 99, 17, 'manual'],
      ['V2', p.identity.mrn, '2024-13-03 07:05:00', 65, 103, 80, '36.9', 99, 17, 'manual'],
      ['V3', p.identity.mrn, '2024-10-03 07:05:00', 'abc', 103, 80, '36.9', 99, 17, 'manual'],
      ['V4', '999999', '2024-10-03 07:05:00', 65, 103, 80, '36.9', 99, 17, 'manual'],
      ['V5', p.identity.mrn, '2024-10-03 07:05:00', 65, 103, 80, '36.9', 99, 17, 'manual', 'extra'],
    ]);
    expect(job.counts.accepted).toBe(1);
    expect(job.rejected.map((r) => [r.line, r.code, r.column])).toEqual([
      [3, 'INVALID_ROW', '测量时间'],
      [4, 'INVALID_ROW', '心率'],
      [5, 'UNKNOWN_PATIENT', '病案号'],
      [6, 'INVALID_ROW', '#11'],
    ]);
    expect((await table([])).rejected[0]?.code).toBe('EMPTY_FILE');
  });
});
