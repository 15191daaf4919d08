import { beforeAll, describe, expect, it } from 'vitest';
import { CURRENT_AGREEMENT_VERSION } from '../../../functions/core/access/access-request-service';
import { MedplumFhirValidator } from '../../../functions/adapters/shared/medplum-fhir-validator';
import { fhirServicesOf } from '../../../functions/composition/fhir-services';
import { grantFhirId } from '../../../functions/core/fhir/fhir-facade';
import type { FhirJson } from '../../../functions/core/fhir/fhir-search';
import type { Actor } from '../../../functions/core/identity/actor';
import { generateDemoCohort } from '../../../infra/local/demo/generate-demo-cohort';
import type { DemoCohort } from '../../../infra/local/demo/demo-model';
import { testContainer } from '../../support/test-container';
import { MemoryObjectStore } from '../audit/memory-object-store';

const researcher: Actor = { kind: 'user', id: 'alice', displayName: 'Alice', roles: ['researcher'], institution: 'demo-hospital-1', mfa: true, scopes: [] };
const other: Actor = { ...researcher, id: 'bob' };
const BASE = { base: 'https://api.example.org/fhir/R4' };
const TYPES = ['Patient', 'Observation', 'Condition', 'Procedure', 'DiagnosticReport', 'ImagingStudy', 'DocumentReference', 'Consent'] as const;

describe('FHIR R4 facade over grants (R-INT-1, R-DEID-1)', () => {
  let cohort: DemoCohort;
  let c: ReturnType<typeof testContainer>;
  let objects: MemoryObjectStore;
  let grantId: string;
  let secrets: string[];
  const validator = new MedplumFhirValidator();

  beforeAll(async () => {
    cohort = generateDemoCohort({ patients: 6 });
    objects = new MemoryObjectStore();
    c = testContainer({ objects });
    await c.catalog.saveDataset({ datasetId: 'bc-nrt-io', title: 't', description: 'd', disease: 'C50', institution: 'multi', securityLevel: 3, modalities: ['clinical', 'labs', 'imaging', 'documents'], patientCount: 0, recordCount: 0, fileCount: 0, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' });
    for (const p of cohort.patients) {
      const bytes = new TextEncoder().encode(p.fhir.map((r) => JSON.stringify(r)).join('\n'));
      await c.ingest.ingest({ datasetId: 'bc-nrt-io', institution: p.institutionId, sourceSystem: 'EMR', fileName: 'x.ndjson', contentType: 'application/fhir+ndjson', bytes, operator: 'dm' });
    }
    const r = await c.accessRequests.submit(researcher, {
      title: 'pCR predictors',
      purposeCode: 'DUO:0000007',
      purpose: 'Disease-specific research on breast cancer response',
      academicStatement: 'A detailed academic statement that is long enough to pass the fifty character rule.',
      scope: { datasetIds: ['bc-nrt-io'], modalities: [], fields: [] },
      requestedDurationDays: 30,
      agreementVersion: CURRENT_AGREEMENT_VERSION,
      agreementAccepted: true,
    });
    grantId = (await c.accessRequests.runWorkflowTask({ task: 'issueGrant', requestId: r.requestId })).grantId as string;
    secrets = cohort.patients.flatMap((p) => [p.identity.fullName, p.identity.residentId, p.identity.mobilePhone, p.identity.mrn, p.identity.insuranceNumber, p.identity.address.street, p.identity.emergencyContact.name]);
  }, 120_000);

  const search = (type: string, q: Record<string, string[]> = {}, actor = researcher) => fhirServicesOf(c).facade.search(actor, type, q, BASE);
  /** Every match of a search, following `next` links. */
  const everything = async (type: string, q: Record<string, string[]> = {}): Promise<FhirJson[]> => {
    const out: FhirJson[] = [];
    let query: Record<string, string[]> = { ...q, _count: ['100'] };
    for (;;) {
      const page = (await search(type, query)).bundle;
      out.push(...(page.entry ?? []).filter((e) => e.search.mode === 'match').map((e) => e.resource));
      const next = page.link.find((l) => l.relation === 'next');
      if (!next) return out;
      const u = new URL(next.url);
      query = Object.fromEntries([...new Set(u.searchParams.keys())].map((k) => [k, u.searchParams.getAll(k)]));
    }
  };

  it('R-INT-1/R-DEID-1: every served type is searchable, valid FHIR R4, de-identified and free of vault values', async () => {
    let seen = 0;
    for (const type of [...TYPES, 'ResearchStudy', 'Group']) {
      const { bundle } = await search(type, { _count: ['5'] });
      expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
      const resources = await everything(type);
      expect(resources).toHaveLength(bundle.total);
      expect(new Set(resources.map((r) => r.id)).size).toBe(resources.length);
      for (const resource of resources) {
        expect(resource.resourceType).toBe(type);
        expect(validator.validate(resource), `${type}/${resource.id}`).toEqual([]);
        const text = JSON.stringify(resource);
        for (const s of secrets) expect(text).not.toContain(s);
        expect(text).not.toMatch(/PT-[A-Za-z0-9]/);
        const tags = (resource.meta as { tag?: Array<{ code: string }> } | undefined)?.tag?.map((t) => t.code) ?? [];
        expect(tags).toContain('l3-project@' + tags.find((t) => t.startsWith('l3-project@'))!.split('@')[1]);
        seen += 1;
      }
      if (type !== 'ImagingStudy' && type !== 'DocumentReference') expect(bundle.total, type).toBeGreaterThan(0);
    }
    expect(seen).toBeGreaterThan(20);
  });

  it('R-DEID-1: patient ids are grant pseudonyms and every reference points at a served patient', async () => {
    const patients = (await everything('Patient')).map((r) => r.id!);
    const group = (await fhirServicesOf(c).facade.read(researcher, 'Group', grantFhirId(grantId))).resource as FhirJson & { member: Array<{ entity: { reference: string } }>; quantity: number };
    expect(group.member.map((m) => m.entity.reference.slice('Patient/'.length)).sort()).toEqual([...patients].sort());
    expect(group.quantity).toBe(patients.length);
    const study = (await fhirServicesOf(c).facade.read(researcher, 'ResearchStudy', grantFhirId(grantId))).resource;
    expect(study).toMatchObject({ status: 'active', title: 'pCR predictors', enrollment: [{ reference: `Group/${grantFhirId(grantId)}` }] });
    const obs = await everything('Observation');
    expect(obs.every((o) => patients.includes((o.subject as { reference: string }).reference.slice('Patient/'.length)))).toBe(true);
  });

  it('R-INT-1: read, _id, patient, code, date, paging, _include and _summary=count', async () => {
    const all = await everything('Observation');
    const first = all[0]!;
    expect((await fhirServicesOf(c).facade.read(researcher, 'Observation', first.id!)).resource).toEqual(first);
    expect((await search('Observation', { _id: [first.id!] })).bundle.total).toBe(1);
    const pid = (first.subject as { reference: string }).reference.slice('Patient/'.length);
    const mine = await everything('Observation', { patient: [`Patient/${pid}`] });
    expect(mine.every((r) => (r.subject as { reference: string }).reference === `Patient/${pid}`)).toBe(true);
    expect(mine.length).toBe(all.filter((r) => (r.subject as { reference: string }).reference === `Patient/${pid}`).length);
    expect(mine.length).toBeGreaterThan(0);
    const coding = (first.code as { coding: Array<{ system: string; code: string }> }).coding[0]!;
    const byCode = await everything('Observation', { code: [`${coding.system}|${coding.code}`] });
    expect(byCode.length).toBe(all.filter((r) => (r.code as { coding: Array<{ system: string; code: string }> }).coding.some((x) => x.code === coding.code && x.system === coding.system)).length);
    const when = String(first.effectiveDateTime ?? (first.effectivePeriod as { start: string }).start).slice(0, 10);
    const sameDay = await everything('Observation', { date: [when] });
    expect(sameDay.map((r) => r.id)).toContain(first.id);
    const before = await everything('Observation', { date: [`lt${when}`] });
    expect(before.map((r) => r.id)).not.toContain(first.id);
    const range = await everything('Observation', { date: [`ge${when}`, `le${when}`] });
    expect(range.map((r) => r.id).sort()).toEqual(sameDay.map((r) => r.id).sort());

    // Paging: pages of 3 in a stable order, the next link carries an opaque cursor; together they are the whole result.
    const ids: string[] = [];
    let q: Record<string, string[]> = { _count: ['3'] };
    for (let i = 0; i < 10; i++) {
      const page = (await search('Observation', q)).bundle;
      ids.push(...page.entry!.map((e) => e.resource.id!));
      const next = page.link.find((l) => l.relation === 'next');
      if (!next) break;
      expect(next.url.startsWith(`${BASE.base}/Observation?`)).toBe(true);
      q = Object.fromEntries([...new URL(next.url).searchParams.keys()].map((k) => [k, new URL(next.url).searchParams.getAll(k)]));
    }
    expect(ids.slice(0, 30)).toEqual(all.slice(0, 30).map((r) => r.id));

    const inc = (await search('Observation', { patient: [pid], _include: ['Observation:patient'], _count: ['2'] })).bundle;
    expect(inc.entry!.filter((e) => e.search.mode === 'include').map((e) => e.resource.id)).toEqual([pid]);
    expect(inc.entry!.filter((e) => e.search.mode === 'match')).toHaveLength(2);
    const count = (await search('Observation', { _summary: ['count'] })).bundle;
    expect(count).toMatchObject({ total: all.length });
    expect(count.entry).toBeUndefined();
  });

  it('R-INT-1: unknown types and ids are refused; someone without a grant sees nothing', async () => {
    await expect(search('Practitioner')).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { parameter: 'resourceType' } });
    await expect(fhirServicesOf(c).facade.read(researcher, 'Observation', 'nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    for (const type of [...TYPES, 'ResearchStudy', 'Group']) expect((await search(type, {}, other)).bundle.total).toBe(0);
    await expect(fhirServicesOf(c).facade.read(other, 'Group', grantFhirId(grantId))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('R-INT-1/R-DEID-1: Group $export writes encrypted NDJSON per type, valid and de-identified, with the policy recorded; only the holder reads it', async () => {
    const { exports } = fhirServicesOf(c);
    await expect(exports.start(other, grantId, { types: ['Patient'] }, 'x')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const job = await exports.start(researcher, grantId, { types: [...TYPES] }, `${BASE.base}/Group/${grantId}/$export`);
    expect(c.scheduler.jobs.get(`fhir-export-${job.jobId}`)).toMatchObject({ type: 'fhir-export', payload: { jobId: job.jobId } });
    expect((await exports.status(researcher, job.jobId)).status).toBe('queued');
    const done = await exports.run(job.jobId);
    expect(done.status).toBe('completed');
    expect(done.policy.id).toBe('l3-project');
    await expect(exports.status(other, job.jobId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const searched = (await search('Observation', { _summary: ['count'] })).bundle.total;
    for (const f of done.output) {
      const stored = objects.buckets.get('data')!.get(f.objectKey)!;
      // Envelope-encrypted at rest: the object is not the NDJSON.
      expect(new TextDecoder().decode(stored.body)).not.toContain('"resourceType"');
      const { body } = await exports.download(researcher, job.jobId, f.name);
      const lines = new TextDecoder().decode(body).trim().split('\n');
      expect(lines).toHaveLength(f.count);
      for (const line of lines) {
        const r = JSON.parse(line) as FhirJson;
        expect(r.resourceType).toBe(f.type);
        expect(validator.validate(r)).toEqual([]);
        for (const s of secrets) expect(line).not.toContain(s);
      }
      if (f.type === 'Observation') expect(f.count).toBe(searched);
    }
    expect(done.output.map((f) => f.type)).toEqual(expect.arrayContaining(['Patient', 'Observation', 'Condition']));
    await expect(exports.download(other, job.jobId, done.output[0]!.name)).rejects.toMatchObject({ code: 'NOT_FOUND' });

    // _since after every ingestion: nothing changed since, so nothing is exported.
    const later = await exports.start(researcher, grantId, { types: ['Observation'], since: new Date(c.clock.now() + 1000).toISOString() }, 'x');
    expect((await exports.run(later.jobId)).output).toEqual([]);
  });

  it('R-GOV-5: after the grant expires, search shows nothing and downloads are refused', async () => {
    const { exports } = fhirServicesOf(c);
    const job = await exports.start(researcher, grantId, { types: ['Patient'] }, 'x');
    const done = await exports.run(job.jobId);
    c.clock.advance(31 * 86_400_000);
    expect((await search('Patient')).bundle.total).toBe(0);
    await expect(exports.download(researcher, job.jobId, done.output[0]!.name)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
