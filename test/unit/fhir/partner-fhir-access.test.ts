import { beforeAll, describe, expect, it } from 'vitest';
import { MedplumFhirValidator } from '../../../functions/adapters/shared/medplum-fhir-validator';
import { roleForStep, type ReviewStep } from '../../../functions/core/access/access-request';
import { fhirServicesOf } from '../../../functions/composition/fhir-services';
import { integrationServices } from '../../../functions/composition/integration-services';
import { grantFhirId } from '../../../functions/core/fhir/fhir-facade';
import type { FhirJson } from '../../../functions/core/fhir/fhir-search';
import type { Grant } from '../../../functions/core/access/grant';
import type { Item } from '../../../functions/core/ports/document-store';
import type { Actor, Role } from '../../../functions/core/identity/actor';
import { generateDemoCohort } from '../../../infra/local/demo/generate-demo-cohort';
import { testContainer } from '../../support/test-container';
import { MemoryObjectStore } from '../audit/memory-object-store';
import { PARTNER_A, PARTNER_B, partnerActor, partnerInput, registerPartners } from '../integrations/integration-fixtures';

const BASE = { base: 'https://api.example.org/fhir/R4' };
const person = (id: string, ...roles: Role[]): Actor => ({ kind: 'user', id, displayName: id, roles, institution: 'demo-hospital-1', mfa: true, scopes: [] });
const SCOPES = ['access-requests.write', 'fhir.read'];

/**
 * The partner data path (R-INT-1, R-DEID-1): a partner system reads through the FHIR facade the
 * grants it holds (issued on the requests it submitted for a named researcher), de-identified
 * exactly as for a researcher; nothing else, and never level 4-5 data.
 */
describe('partner systems read FHIR data through the grants they hold (R-INT-1, R-DEID-1)', () => {
  let c: ReturnType<typeof testContainer>;
  let grantId: string;
  let requestId: string;
  let secrets: string[];
  const a = partnerActor(PARTNER_A, SCOPES);
  const b = partnerActor(PARTNER_B, SCOPES);
  const validator = new MedplumFhirValidator();

  /** Drives the request's review steps to a grant, as the state machine would. */
  const approve = async (requestId: string, chain: readonly ReviewStep[]) => {
    for (const [i, step] of (['ethics', ...chain] as ReviewStep[]).entries()) {
      await c.accessRequests.runWorkflowTask({ task: 'openReviewStep', requestId, step, stepIndex: i - 1, taskToken: `t-${step}-${requestId}` });
      await c.accessRequests.decide(person(`rev-${step}`, roleForStep(step) as Role), requestId, { step, outcome: 'approved' });
    }
    return (await c.accessRequests.runWorkflowTask({ task: 'issueGrant', requestId })).grantId as string;
  };

  beforeAll(async () => {
    const cohort = generateDemoCohort({ patients: 4 });
    c = testContainer({ objects: new MemoryObjectStore() });
    registerPartners(c, [
      { partnerId: PARTNER_A, institution: 'demo-hospital-2' },
      { partnerId: PARTNER_B, institution: 'demo-hospital-2' },
    ]);
    const dataset = { title: 't', description: 'd', disease: 'C50', institution: 'multi', modalities: ['clinical', 'labs', 'imaging', 'documents'], patientCount: 0, recordCount: 0, fileCount: 0, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' };
    await c.catalog.saveDataset({ ...dataset, datasetId: 'bc-nrt-io', securityLevel: 3 });
    await c.catalog.saveDataset({ ...dataset, datasetId: 'bc-genomics', securityLevel: 4 });
    for (const p of cohort.patients) {
      const bytes = new TextEncoder().encode(p.fhir.map((r) => JSON.stringify(r)).join('\n'));
      await c.ingest.ingest({ datasetId: 'bc-nrt-io', institution: p.institutionId, sourceSystem: 'EMR', fileName: 'x.ndjson', contentType: 'application/fhir+ndjson', bytes, operator: 'dm' });
    }
    const ops = integrationServices(c).partnerOperations;
    const r = await ops.submit(a, partnerInput({ scope: { datasetIds: ['bc-nrt-io'], modalities: [], fields: [] } }));
    grantId = await approve(r.requestId, r.approvalChain);
    requestId = r.requestId;
    secrets = cohort.patients.flatMap((p) => [p.identity.fullName, p.identity.residentId, p.identity.mobilePhone, p.identity.mrn, p.identity.insuranceNumber, p.identity.address.street, p.identity.emergencyContact.name]);
  }, 120_000);

  it('R-INT-1: a grant issued on a partner\'s request is held by the partner system', async () => {
    expect(await c.grants.get(grantId)).toMatchObject({ holderId: PARTNER_A, holderKind: 'partner', holderName: 'Dr. Li Wei', institution: 'demo-hospital-2', dataLevel: 3 });
  });

  it('R-INT-1/R-DEID-1: the partner searches and reads its grant\'s cohort, valid and de-identified like a researcher\'s', async () => {
    const { facade } = fhirServicesOf(c);
    const group = (await facade.read(a, 'Group', grantFhirId(grantId))).resource as FhirJson & { quantity: number; member: Array<{ entity: { reference: string } }> };
    expect(group.quantity).toBe((await c.researchAccess.releaseSummary(a, grantId)).included);
    expect(group.quantity).toBeGreaterThan(0);
    const pid = group.member[0]!.entity.reference.slice('Patient/'.length);
    const patient = await facade.read(a, 'Patient', pid);
    expect(patient.grantId).toBe(grantId);
    const obs = (await facade.search(a, 'Observation', { patient: [pid], _count: ['100'] }, BASE)).bundle;
    expect(obs.total).toBeGreaterThan(0);
    for (const e of obs.entry!) {
      expect(validator.validate(e.resource), `Observation/${e.resource.id}`).toEqual([]);
      expect((e.resource.meta as { tag: Array<{ code: string }> }).tag.map((t) => t.code)).toContain(grantId);
    }
    const text = JSON.stringify([patient, obs]);
    for (const s of secrets) expect(text).not.toContain(s);
    expect(text).not.toMatch(/PT-[A-Za-z0-9]/);
  });

  it('R-INT-1: another partner, the named researcher, and the partner without fhir.read see none of it', async () => {
    const { facade, exports } = fhirServicesOf(c);
    for (const type of ['Patient', 'Observation', 'Group']) expect((await facade.search(b, type, {}, BASE)).bundle.total).toBe(0);
    await expect(facade.read(b, 'Group', grantFhirId(grantId))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(exports.start(b, grantId, { types: ['Patient'] }, 'x')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // The researcher named on the request is not the holder: the partner is.
    expect((await facade.search(person('li-wei', 'researcher'), 'Group', {}, BASE)).bundle.total).toBe(0);
    // Without the scope the grant-level decision denies (the edge would already have refused the route).
    await expect(c.researchAccess.search(partnerActor(PARTNER_A, ['access-requests.write']), grantId, undefined, 10)).rejects.toMatchObject({ code: 'FORBIDDEN', details: { policyIds: [] } });
  });

  it('R-INT-1/R-DEID-1: the partner exports its Group as NDJSON; only it polls and downloads the job', async () => {
    const { exports } = fhirServicesOf(c);
    const job = await exports.start(a, grantFhirId(grantId), { types: ['Patient', 'Condition', 'Observation'] }, `${BASE.base}/Group/${grantFhirId(grantId)}/$export`);
    expect(job).toMatchObject({ grantId, holderId: PARTNER_A, actor: { kind: 'partner', scopes: SCOPES } });
    const done = await exports.run(job.jobId);
    expect(done.status).toBe('completed');
    expect(done.output.map((f) => f.type).sort()).toEqual(['Condition', 'Observation', 'Patient']);
    for (const f of done.output) {
      const { body } = await exports.download(a, job.jobId, f.name);
      const text = new TextDecoder().decode(body);
      for (const line of text.trim().split('\n')) expect(validator.validate(JSON.parse(line) as FhirJson)).toEqual([]);
      for (const s of secrets) expect(text).not.toContain(s);
    }
    await expect(exports.status(b, job.jobId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(exports.download(b, job.jobId, done.output[0]!.name)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('R-INT-1/R-SEC-6: a legacy partner grant stored without holderKind stays unreadable by the partner (deny by default, docs/partner-operations.md)', async () => {
    const key = { pk: `GRANT#${grantId}`, sk: 'GRANT' };
    const stored = (await c.documents.get<Item & { grant: Grant }>('main', key))!;
    const { holderKind: _dropped, ...legacy } = stored.grant;
    await c.documents.put('main', { ...stored, grant: legacy });
    try {
      const { facade } = fhirServicesOf(c);
      await expect(facade.read(a, 'Group', grantFhirId(grantId))).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(facade.search(a, 'Observation', {}, BASE)).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(c.researchAccess.search(a, grantId, undefined, 10)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    } finally {
      await c.documents.put('main', stored);
    }
    expect((await fhirServicesOf(c).facade.read(a, 'Group', grantFhirId(grantId))).resource.resourceType).toBe('Group');
  });

  it('R-SEC-3/R-SEC-6: a partner cannot request level-4 data; a level-4 grant held by a partner is refused (never to machine clients)', async () => {
    await expect(integrationServices(c).partnerOperations.submit(a, partnerInput({ title: 'Sensitive study', scope: { datasetIds: ['bc-nrt-io', 'bc-genomics'], modalities: [], fields: [] } }))).rejects.toMatchObject({
      code: 'FORBIDDEN',
      details: { reason: 'NOT_FOR_PARTNER_SYSTEMS', securityLevel: 4, policyIds: ['sensitive-data-never-to-partner-systems'] },
    });
    // The read-time forbid is the backstop for a grant that got a partner holder anyway (e.g.
    // issued before a policy or catalogue change): made here directly, as the grant service would.
    const sensitive = await c.grants.issueFor({ ...(await c.accessRequests.get(person('aud', 'auditor'), requestId)), requestId: 'AR-2026-999999', securityLevel: 4, scope: { datasetIds: ['bc-genomics'], modalities: [], fields: [] } });
    await c.researchAccess.buildRelease(sensitive);
    const sensitiveGrantId = sensitive.grantId;
    const { facade, exports } = fhirServicesOf(c);
    expect(await c.grants.get(sensitiveGrantId)).toMatchObject({ holderId: PARTNER_A, holderKind: 'partner', dataLevel: 4 });
    await expect(facade.read(a, 'Group', grantFhirId(sensitiveGrantId))).rejects.toMatchObject({ code: 'FORBIDDEN', details: { reason: 'NOT_FOR_PARTNER_SYSTEMS', dataLevel: 4, policyIds: ['sensitive-data-never-to-partner-systems'] } });
    await expect(c.researchAccess.search(a, sensitiveGrantId, undefined, 10)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // A search over all the partner's grants is refused with the reason, as for a researcher without MFA (never silently partial).
    await expect(facade.search(a, 'Patient', {}, BASE)).rejects.toMatchObject({ code: 'FORBIDDEN', details: { reason: 'NOT_FOR_PARTNER_SYSTEMS' } });
    // A job started through it fails when it runs, as the partner (a definite answer: not retried, nothing written).
    const job = await exports.start(a, sensitiveGrantId, { types: ['Patient'] }, 'x');
    expect(await exports.run(job.jobId)).toMatchObject({ status: 'failed', error: 'grant not readable by the caller (NOT_FOR_PARTNER_SYSTEMS)', output: [] });
  });
});
