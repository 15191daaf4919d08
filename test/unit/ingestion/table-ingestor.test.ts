import { beforeAll, describe, expect, it } from 'vitest';
import { COLUMN_MAPPING, NURSING_COLUMNS, VITAL_COLUMNS } from '../../../infra/local/demo/write-hospital-export';
import type { DemoPatient } from '../../../infra/local/demo/demo-model';
import { localToUtc } from '../../../functions/core/ingestion/local-time';
import { MedplumFhirValidator } from '../../../functions/adapters/shared/medplum-fhir-validator';
import { EXT_SOURCE_LOCAL_TIME, LOINC_SYSTEM, sourceLocalTimeOf, sourceValueOf, TABLE_FIELD_SYSTEM, TABLE_TARGET_SYSTEM, tableFieldOf, tableFreeTextOf } from '../../../functions/core/fhir/platform-extensions';
import { containerWith, demoCohort, patientIdOf, source } from './multimodal-fixture';

const enc = (s: string) => new TextEncoder().encode(s);
const csv = (rows: Array<Array<string | number>>) => `\uFEFF${rows.map((r) => r.map((x) => (/[",\n]/.test(String(x)) ? `"${String(x).replaceAll('"', '""')}"` : String(x))).join(',')).join('\r\n')}\r\n`;

describe('Table ingestion (R-ING-2, R-ING-5, R-ING-7)', () => {
  let p: DemoPatient;
  beforeAll(() => {
    p = demoCohort().patients[0]!;
  });
  const mapping = enc(JSON.stringify(COLUMN_MAPPING));
  const validator = new MedplumFhirValidator();
  type Component = { code: { coding: Array<{ system: string; code: string }>; text: string }; valueQuantity?: { value: number; unit: string }; valueString?: string; valueCodeableConcept?: { coding: Array<{ code: string }> } };
  const componentOf = (obs: Record<string, unknown>, field: string) => (obs.component as Component[]).find((x) => tableFieldOf(x) === field);

  it('R-ING-2/R-ING-1: vital signs become valid FHIR R4 Observations with UCUM units, source value and unit kept, Shanghai time → UTC; one event per day', async () => {
    const c = await containerWith([p]);
    expect((await c.ingestRouter.ingest(source(p, 'column-mapping.json', 'application/vnd.mdrp.column-mapping+json', mapping))).counts.accepted).toBe(2);
    const rows = [[...VITAL_COLUMNS], ['V1', p.identity.mrn, '2024-10-03 07:05:00', 65, 103, 80, '36.9', 99, 17, 'manual']];
    const job = await c.ingestRouter.ingest(source(p, 'vital-signs.csv', 'text/csv; charset=utf-8', enc(csv(rows))));
    expect(job.counts).toMatchObject({ accepted: 1, rejected: 0, timelineEvents: 1 });
    const patientId = await patientIdOf(c, p);
    const [obs] = (await c.research.records(patientId, 'Observation')).filter((r) => sourceLocalTimeOf(r));
    expect(validator.validate(obs)).toEqual([]);
    expect(obs!.effectiveDateTime).toBe('2024-10-02T23:05:00.000Z');
    expect(sourceLocalTimeOf(obs)).toEqual({ localDateTime: '2024-10-03 07:05:00', timeZone: 'Asia/Shanghai' });
    // The vital-signs panel, the platform's table code, and the vital-signs category.
    expect(obs!.code).toEqual({ coding: [expect.objectContaining({ system: LOINC_SYSTEM, code: '85353-1' }), { system: TABLE_TARGET_SYSTEM, code: 'vital-sign-series' }], text: 'Vital signs' });
    expect(obs!.category).toEqual([{ coding: [expect.objectContaining({ code: 'vital-signs' })], text: 'vital-sign-series' }]);
    const temp = componentOf(obs!, 'temperature')!;
    expect(temp.code).toEqual({ coding: [{ system: LOINC_SYSTEM, code: '8310-5' }, { system: TABLE_FIELD_SYSTEM, code: 'temperature' }], text: '体温' });
    expect(temp.valueQuantity).toMatchObject({ value: 36.9, unit: 'Cel' });
    expect(sourceValueOf(temp)).toEqual({ value: '36.9', unit: 'Cel' });
    // A declared enumeration is a coded value; no internal element is left.
    expect(componentOf(obs!, 'source')!.valueCodeableConcept!.coding[0]!.code).toBe('manual');
    for (const internal of ['effectiveSource', 'attributes', 'freeText']) expect(obs).not.toHaveProperty(internal);
    expect((obs!.component as Array<Record<string, unknown>>).every((x) => !('field' in x) && !('source' in x))).toBe(true);
    expect(JSON.stringify(obs)).not.toContain(p.identity.mrn);
    expect((await c.research.timeline(patientId)).some((e) => e.type === 'vital-signs')).toBe(true);
    expect(localToUtc('2024-02-30 10:00:00')).toBeUndefined();
    // R-ING-6: the row's lineage names its file, job, source row and the table pipeline's steps.
    const [row] = (await c.research.recordsOfJob(job.jobId)).items;
    const lineage = await c.research.lineageOf(row!.patientId, row!.resourceType, row!.id);
    expect(lineage).toMatchObject({ fileName: 'vital-signs.csv', jobId: job.jobId, fileSha256: job.sha256, sourceId: 'vital-sign-series/V1' });
    expect(lineage!.transformations.map((t) => t.name)).toEqual(expect.arrayContaining(['map-columns', 'normalize-units-ucum']));
  });

  it('R-ING-2: free-text nursing notes never reach the database; they are kept encrypted per patient', async () => {
    const c = await containerWith([p]);
    await c.ingestRouter.ingest(source(p, 'column-mapping.json', 'application/vnd.mdrp.column-mapping+json', mapping));
    const note = `患者${p.identity.fullName}，神志清`;
    const rows = [[...NURSING_COLUMNS], ['N1', p.identity.mrn, '2024-10-03 11:10:00', '病区', '入院评估', 2, 100, 20, 20, note, 'N0348']];
    const job = await c.ingestRouter.ingest(source(p, 'nursing-records.csv', 'text/csv', enc(csv(rows))));
    expect(job.counts.accepted).toBe(1);
    const patientId = await patientIdOf(c, p);
    const [obs] = (await c.research.records(patientId, 'Observation')).filter((r) => tableFreeTextOf(r));
    expect(validator.validate(obs)).toEqual([]);
    expect(JSON.stringify(obs)).not.toContain(p.identity.fullName);
    expect(JSON.stringify(obs)).not.toContain('神志清');
    const ref = tableFreeTextOf(obs)!;
    expect(ref.fields).toEqual(['note']);
    const file = await c.research.readFile(patientId, ref.fileId);
    expect(new TextDecoder().decode(file!.bytes)).toContain(note);
    // Categorical cells are components with strings; scores are quantities in {score}.
    expect(componentOf(obs!, 'ward')!.valueString).toBe('病区');
    expect(componentOf(obs!, 'nurseId')!.valueString).toBe('N0348');
    expect(componentOf(obs!, 'barthelIndex')!.valueQuantity).toMatchObject({ value: 100, unit: '{score}' });
    expect(obs!.code).toMatchObject({ coding: [{ system: TABLE_TARGET_SYSTEM, code: 'nursing-record' }] });
    expect((obs!.extension as Array<{ url: string }>)[0]!.url).toBe(EXT_SOURCE_LOCAL_TIME);
  });

  it('R-ING-2: a table may declare its LOINC panel and name; an unknown target still gets a valid code from the platform code system', async () => {
    const c = await containerWith([p]);
    const custom = {
      timeZone: 'Asia/Shanghai',
      tables: {
        'pain.csv': { target: 'pain-assessment', loinc: '38208-5', display: 'Pain severity', patientKey: { column: 'mrn' }, columns: [{ column: 'mrn', target: 'patient.mrn', phi: true }, { column: 'at', target: 'recordedAt', type: 'local-datetime' }, { column: 'nrs', target: 'painScore', loinc: '72514-3', unit: '{score}', range: [0, 10] }] },
        'misc.csv': { target: 'ward-round', patientKey: { column: 'mrn' }, columns: [{ column: 'mrn', target: 'patient.mrn', phi: true }, { column: 'at', target: 'recordedAt', type: 'local-datetime' }, { column: 'ward', target: 'ward' }] },
      },
    };
    await c.ingestRouter.ingest(source(p, 'column-mapping.json', 'application/vnd.mdrp.column-mapping+json', enc(JSON.stringify(custom))));
    expect((await c.ingestRouter.ingest(source(p, 'pain.csv', 'text/csv', enc(csv([['mrn', 'at', 'nrs'], [p.identity.mrn, '2024-10-03 08:00:00', 3]]))))).counts.accepted).toBe(1);
    expect((await c.ingestRouter.ingest(source(p, 'misc.csv', 'text/csv', enc(csv([['mrn', 'at', 'ward'], [p.identity.mrn, '2024-10-03 09:00:00', '3病区']]))))).counts.accepted).toBe(1);
    const rows = (await c.research.records(await patientIdOf(c, p), 'Observation')).filter((r) => sourceLocalTimeOf(r));
    const pain = rows.find((r) => componentOf(r, 'painScore'))!;
    expect(pain.code).toEqual({ coding: [{ system: LOINC_SYSTEM, code: '38208-5', display: 'Pain severity' }, { system: TABLE_TARGET_SYSTEM, code: 'pain-assessment' }], text: 'Pain severity' });
    const misc = rows.find((r) => componentOf(r, 'ward'))!;
    expect(misc.code).toEqual({ coding: [{ system: TABLE_TARGET_SYSTEM, code: 'ward-round' }], text: 'ward-round' });
    expect(misc.category).toEqual([{ text: 'ward-round' }]);
    for (const r of rows) expect(validator.validate(r)).toEqual([]);
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
