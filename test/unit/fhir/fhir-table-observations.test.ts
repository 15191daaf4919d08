import { beforeAll, describe, expect, it } from 'vitest';
import { CURRENT_AGREEMENT_VERSION } from '../../../functions/core/access/access-request-service';
import { consentCovers } from '../../../functions/core/access/duo';
import { MedplumFhirValidator } from '../../../functions/adapters/shared/medplum-fhir-validator';
import { fhirServicesOf } from '../../../functions/composition/fhir-services';
import { EXT_SOURCE_LOCAL_TIME, LOINC_SYSTEM, sourceLocalTimeOf, TABLE_TARGET_SYSTEM, tableFieldOf } from '../../../functions/core/fhir/platform-extensions';
import type { FhirJson } from '../../../functions/core/fhir/fhir-search';
import type { Actor } from '../../../functions/core/identity/actor';
import type { DemoPatient } from '../../../infra/local/demo/demo-model';
import { COLUMN_MAPPING, NURSING_COLUMNS, VITAL_COLUMNS } from '../../../infra/local/demo/write-hospital-export';
import { containerWith, demoCohort, patientIdOf, source } from '../ingestion/multimodal-fixture';

const researcher: Actor = { kind: 'user', id: 'alice', displayName: 'Alice', roles: ['researcher'], institution: 'demo-hospital-1', mfa: true, scopes: [] };
const BASE = { base: 'https://api.example.org/fhir/R4' };
const enc = (s: string) => new TextEncoder().encode(s);
const csv = (rows: Array<Array<string | number>>) => `\uFEFF${rows.map((r) => r.map((x) => (/[",\n]/.test(String(x)) ? `"${String(x).replaceAll('"', '""')}"` : String(x))).join(',')).join('\r\n')}\r\n`;

/**
 * Table-ingested Observations (nursing records, vital-sign series) leave the platform through
 * the FHIR facade and Bulk Data export as valid FHIR R4 (R-INT-1, R-ING-2), de-identified
 * (R-DEID-1). Every row of a CSV ingested under its column mapping is found and validated.
 */
describe('Table-ingested Observations through the FHIR facade and $export (R-INT-1, R-ING-2, R-DEID-1)', () => {
  const validator = new MedplumFhirValidator();
  let c: Awaited<ReturnType<typeof containerWith>>;
  let patients: DemoPatient[];
  /** Patients whose consent covers the purpose: the grant releases them. */
  let released: DemoPatient[];
  let grantId: string;
  let secrets: string[];
  const VITALS = 3;
  const NURSING = 2;

  beforeAll(async () => {
    patients = demoCohort().patients;
    c = await containerWith(patients);
    const byInstitution = new Map<string, DemoPatient[]>();
    for (const p of patients) byInstitution.set(p.institutionId, [...(byInstitution.get(p.institutionId) ?? []), p]);
    for (const [, list] of byInstitution) {
      const p0 = list[0]!;
      expect((await c.ingestRouter.ingest(source(p0, 'column-mapping.json', 'application/vnd.mdrp.column-mapping+json', enc(JSON.stringify(COLUMN_MAPPING))))).rejected).toEqual([]);
      const vitals = [[...VITAL_COLUMNS], ...list.flatMap((p, i) => Array.from({ length: VITALS }, (_, k) => [`V${i}-${k}`, p.identity.mrn, `2024-10-0${k + 3} 07:05:00`, 65 + k, 103, 80, '36.9', 99, 17, k % 2 ? 'monitor' : 'manual']))];
      const nursing = [[...NURSING_COLUMNS], ...list.flatMap((p, i) => Array.from({ length: NURSING }, (_, k) => [`N${i}-${k}`, p.identity.mrn, `2024-10-0${k + 3} 11:10:00`, '乳腺外科病区', '入院评估', k, 100, 20, 20, `患者${p.identity.fullName}，神志清，电话${p.identity.mobilePhone}`, 'N0348']))];
      const v = await c.ingestRouter.ingest(source(p0, 'vital-signs.csv', 'text/csv; charset=utf-8', enc(csv(vitals))));
      const n = await c.ingestRouter.ingest(source(p0, 'nursing-records.csv', 'text/csv; charset=utf-8', enc(csv(nursing))));
      expect([v.rejected, n.rejected]).toEqual([[], []]);
      expect([v.counts.accepted, n.counts.accepted]).toEqual([list.length * VITALS, list.length * NURSING]);
    }
    const r = await c.accessRequests.submit(researcher, {
      title: 'Vital signs during neoadjuvant therapy',
      purposeCode: 'DUO:0000007',
      purpose: 'Disease-specific research on breast cancer nursing and vital signs',
      academicStatement: 'A detailed academic statement that is long enough to pass the fifty character rule.',
      scope: { datasetIds: ['bc-test'], modalities: [], fields: [] },
      requestedDurationDays: 30,
      agreementVersion: CURRENT_AGREEMENT_VERSION,
      agreementAccepted: true,
    });
    grantId = (await c.accessRequests.runWorkflowTask({ task: 'issueGrant', requestId: r.requestId })).grantId as string;
    released = [];
    for (const p of patients) if (consentCovers((await c.research.getProfile(await patientIdOf(c, p)))!.consent, 'DUO:0000007').covered) released.push(p);
    expect(released.length).toBeGreaterThan(0);
    secrets = patients.flatMap((p) => [p.identity.fullName, p.identity.residentId, p.identity.mobilePhone, p.identity.mrn, p.identity.insuranceNumber, 'N0348', '神志清']);
  }, 180_000);

  const search = (q: Record<string, string[]>) => fhirServicesOf(c).facade.search(researcher, 'Observation', q, BASE);
  /** Every match of a search, following `next` links. */
  const everything = async (q: Record<string, string[]>): Promise<FhirJson[]> => {
    const out: FhirJson[] = [];
    let query: Record<string, string[]> = { ...q, _count: ['50'] };
    for (;;) {
      const page = (await search(query)).bundle;
      out.push(...(page.entry ?? []).map((e) => e.resource));
      const next = page.link.find((l) => l.relation === 'next');
      if (!next) return out;
      const u = new URL(next.url);
      query = Object.fromEntries([...new Set(u.searchParams.keys())].map((k) => [k, u.searchParams.getAll(k)]));
    }
  };
  const check = (o: FhirJson) => {
    expect(validator.validate(o), `Observation/${o.id}`).toEqual([]);
    const text = JSON.stringify(o);
    for (const s of secrets) expect(text).not.toContain(s);
    expect(sourceLocalTimeOf(o)?.timeZone).toBe('Asia/Shanghai');
    expect((o.component as unknown[]).every((x) => tableFieldOf(x))).toBe(true);
  };

  it('R-INT-1/R-ING-2: facade search finds every table row by its table code and LOINC panel; each one validates (medplum) and is de-identified', async () => {
    expect((await fhirServicesOf(c).facade.search(researcher, 'Patient', {}, BASE)).bundle.total).toBe(released.length);
    const vitals = await everything({ code: [`${TABLE_TARGET_SYSTEM}|vital-sign-series`] });
    const nursing = await everything({ code: [`${TABLE_TARGET_SYSTEM}|nursing-record`] });
    expect(vitals).toHaveLength(released.length * VITALS);
    expect(nursing).toHaveLength(released.length * NURSING);
    expect((await search({ code: [`${LOINC_SYSTEM}|85353-1`], _summary: ['count'] })).bundle.total).toBeGreaterThanOrEqual(vitals.length);
    for (const o of [...vitals, ...nursing]) check(o);
    // Read by id returns the same valid resource.
    expect((await fhirServicesOf(c).facade.read(researcher, 'Observation', vitals[0]!.id!)).resource).toEqual(vitals[0]);
  });

  it('R-INT-1/R-ING-2: Group $export NDJSON holds every table row, each valid FHIR R4 and de-identified', async () => {
    const { exports } = fhirServicesOf(c);
    const job = await exports.start(researcher, grantId, { types: ['Observation'] }, `${BASE.base}/Group/${grantId}/$export`);
    const done = await exports.run(job.jobId);
    expect(done.status).toBe('completed');
    const rows: FhirJson[] = [];
    for (const f of done.output) {
      const { body } = await exports.download(researcher, job.jobId, f.name);
      for (const line of new TextDecoder().decode(body).trim().split('\n')) {
        const r = JSON.parse(line) as FhirJson;
        expect(validator.validate(r), `${r.resourceType}/${r.id}`).toEqual([]);
        if ((r.extension as Array<{ url: string }> | undefined)?.some((e) => e.url === EXT_SOURCE_LOCAL_TIME)) rows.push(r);
      }
    }
    expect(rows).toHaveLength(released.length * (VITALS + NURSING));
    for (const o of rows) check(o);
  });
});
