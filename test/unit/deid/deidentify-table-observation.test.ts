import type { Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { MedplumFhirValidator } from '../../../functions/adapters/shared/medplum-fhir-validator';
import { getPolicy } from '../../../functions/core/deid/deid-policy';
import { deidentifyResource, patientPseudonym } from '../../../functions/core/deid/deidentify-resource';
import { Pseudonymizer } from '../../../functions/core/deid/pseudonym';
import { EXT_TABLE_FREE_TEXT, sourceLocalTimeOf, sourceValueOf, tableFieldOf, tableFreeTextOf } from '../../../functions/core/fhir/platform-extensions';
import type { DemoPatient } from '../../../infra/local/demo/demo-model';
import { COLUMN_MAPPING, NURSING_COLUMNS, VITAL_COLUMNS } from '../../../infra/local/demo/write-hospital-export';
import { containerWith, demoCohort, patientIdOf, source } from '../ingestion/multimodal-fixture';
import { localKeys, vaultHints, vaultValues } from './deid-fixtures';

const enc = (s: string) => new TextEncoder().encode(s);
const csv = (rows: Array<Array<string | number>>) => `\uFEFF${rows.map((r) => r.map((x) => (/[",\n]/.test(String(x)) ? `"${String(x).replaceAll('"', '""')}"` : String(x))).join(',')).join('\r\n')}\r\n`;
type Obs = Record<string, unknown> & { effectiveDateTime: string; component: Array<Record<string, unknown>> };
const DAY = 86_400_000;

/**
 * Table rows as the ingestion pipeline stores them (FHIR R4 Observations with the platform's
 * extensions), de-identified by the FHIR engine: every cell gets the treatment it gets in a
 * released table (R-DEID-2, R-DEID-4).
 */
describe('De-identification of table-row Observations (R-DEID-2, R-DEID-4)', () => {
  const keys = localKeys();
  const validator = new MedplumFhirValidator();
  let p: DemoPatient;
  let stored: Obs[];
  let released: Obs[];
  let reports: Array<Awaited<ReturnType<typeof deidentifyResource>>['report']>;

  beforeAll(async () => {
    p = demoCohort().patients[0]!;
    const c = await containerWith([p]);
    await c.ingestRouter.ingest(source(p, 'column-mapping.json', 'application/vnd.mdrp.column-mapping+json', enc(JSON.stringify(COLUMN_MAPPING))));
    // A ward cell naming the patient (not declared as PHI), a note naming the patient (PHI, encrypted).
    const nursing = [[...NURSING_COLUMNS], ['N1', p.identity.mrn, '2024-10-03 11:10:00', `${p.identity.fullName}床旁`, '入院评估', 2, 100, 20, 20, `患者${p.identity.fullName}，神志清`, 'N0348']];
    const vitals = [[...VITAL_COLUMNS], ['V1', p.identity.mrn, '2024-10-03 07:05:00', 65, 103, 80, '36.9', 99, 17, 'manual']];
    expect((await c.ingestRouter.ingest(source(p, 'nursing-records.csv', 'text/csv', enc(csv(nursing))))).counts.accepted).toBe(1);
    expect((await c.ingestRouter.ingest(source(p, 'vital-signs.csv', 'text/csv', enc(csv(vitals))))).counts.accepted).toBe(1);
    const patientId = await patientIdOf(c, p);
    stored = (await c.research.records(patientId, 'Observation')).filter((r) => sourceLocalTimeOf(r)) as unknown as Obs[];
    expect(stored).toHaveLength(2);
    const token = await patientPseudonym(keys, 'proj-t', patientId);
    const pseudonymizer = new Pseudonymizer(keys, 'proj-t');
    const out = await Promise.all(stored.map((r) => deidentifyResource(r as unknown as Resource, { policy: getPolicy('l2-research'), projectId: 'proj-t', patientToken: token, keys, pseudonymizer, ...vaultHints(p) })));
    released = out.map((o) => o.resource as unknown as Obs);
    reports = out.map((o) => o.report);
  }, 120_000);

  const component = (o: Obs, field: string) => o.component.find((x) => tableFieldOf(x) === field);
  const nursingOf = (list: Obs[]) => list.find((o) => component(o, 'ward'))!;
  const vitalsOf = (list: Obs[]) => list.find((o) => component(o, 'heartRate'))!;

  it('R-DEID-4: stored and released table rows validate as FHIR R4 (medplum)', () => {
    for (const o of [...stored, ...released]) expect(validator.validate(o), String(o.id)).toEqual([]);
  });

  it('R-DEID-2: the source wall-clock time is shifted by the same offset as effectiveDateTime', () => {
    for (const [before, after] of stored.map((s, i) => [s, released[i]!] as const)) {
      const shift = Date.parse(after.effectiveDateTime) - Date.parse(before.effectiveDateTime);
      expect(Math.abs(shift % DAY)).toBe(0);
      expect(shift).not.toBe(0);
      const local = (o: Obs) => Date.parse(`${sourceLocalTimeOf(o)!.localDateTime.replace(' ', 'T')}Z`);
      expect(local(after) - local(before)).toBe(shift);
      expect(sourceLocalTimeOf(after)!.timeZone).toBe('Asia/Shanghai');
    }
  });

  it('R-DEID-2: table column rules apply to components: nurseId pseudonymized, categorical text scrubbed, measurements and their source cells kept', () => {
    const before = nursingOf(stored);
    const after = nursingOf(released);
    const nurse = component(after, 'nurseId')!;
    expect(nurse.valueString).toMatch(/^[a-z0-9]{8,}$/i);
    expect(nurse.valueString).not.toBe('N0348');
    expect(String(component(before, 'ward')!.valueString)).toContain(p.identity.fullName);
    expect(String(component(after, 'ward')!.valueString)).not.toContain(p.identity.fullName);
    expect(component(after, 'category')!.valueString).toBe('入院评估');
    const temp = component(vitalsOf(released), 'temperature')!;
    expect(temp.valueQuantity).toMatchObject({ value: 36.9, unit: 'Cel' });
    expect(sourceValueOf(temp)).toEqual({ value: '36.9', unit: 'Cel' });
    expect(component(vitalsOf(released), 'source')!.valueCodeableConcept).toMatchObject({ coding: [{ code: 'manual' }] });
    expect(reports.flatMap((r) => r.entries.map((e) => e.action))).toContain('pseudonymize');
  });

  it('R-DEID-2: the pointer to the encrypted free text never leaves; no vault value survives', () => {
    expect(tableFreeTextOf(nursingOf(stored))).toBeDefined();
    for (const o of released) {
      expect(tableFreeTextOf(o)).toBeUndefined();
      const text = JSON.stringify(o);
      expect(text).not.toContain(EXT_TABLE_FREE_TEXT);
      expect(text).not.toContain(tableFreeTextOf(nursingOf(stored))!.fileId);
      for (const v of vaultValues(p)) expect(text).not.toContain(v);
    }
  });
});
