import { beforeAll, describe, expect, it } from 'vitest';
import { CURRENT_AGREEMENT_VERSION } from '../../../functions/core/access/access-request-service';
import { consentCovers } from '../../../functions/core/access/duo';
import type { Actor } from '../../../functions/core/identity/actor';
import { generateDemoCohort } from '../../../infra/local/demo/generate-demo-cohort';
import type { DemoCohort } from '../../../infra/local/demo/demo-model';
import { testContainer } from '../../support/test-container';

const researcher: Actor = { kind: 'user', id: 'alice', displayName: 'Alice', roles: ['researcher'], institution: 'demo-hospital-1', mfa: true, scopes: [] };
const other: Actor = { ...researcher, id: 'bob' };

describe('what a grant releases (R-DEID-1, R-GOV-5, R-DSR-2, R-ANA-1)', () => {
  let cohort: DemoCohort;
  let c: ReturnType<typeof testContainer>;
  let grantId: string;

  beforeAll(async () => {
    cohort = generateDemoCohort({ patients: 8 });
    c = testContainer();
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
      scope: { datasetIds: ['bc-nrt-io'], modalities: ['clinical', 'labs'], fields: [] },
      requestedDurationDays: 30,
      agreementVersion: CURRENT_AGREEMENT_VERSION,
      agreementAccepted: true,
    });
    grantId = (await c.accessRequests.runWorkflowTask({ task: 'issueGrant', requestId: r.requestId })).grantId as string;
  }, 120_000);

  it('R-DSR-2: DUO matching — general consent covers any research, disease-specific only disease-specific, withdrawn nothing', () => {
    expect(consentCovers({ duoCode: 'DUO:0000042', status: 'active' }, 'DUO:0000007').covered).toBe(true);
    expect(consentCovers({ duoCode: 'DUO:0000007', status: 'active' }, 'DUO:0000042').covered).toBe(false);
    expect(consentCovers({ duoCode: 'DUO:0000007', status: 'withdrawn' }, 'DUO:0000007')).toEqual({ covered: false, reason: 'consent withdrawn' });
  });

  it('R-DSR-2: the release leaves out patients whose consent does not cover the purpose, and says why', async () => {
    const summary = await c.researchAccess.releaseSummary(researcher, grantId);
    const excludedByConsent = cohort.patients.filter((p) => p.consent.status !== 'active').length;
    expect(summary.included + Object.values(summary.excluded).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(Object.values(summary.excluded).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(excludedByConsent ? 1 : 0);
    expect(summary.policyId).toBe('l3-project');
  });

  it('R-ANA-1: search finds released patients by diagnosis and stage, under grant-scoped pseudonyms', async () => {
    const all = await c.researchAccess.search(researcher, grantId, undefined, 100);
    expect(all.total).toBeGreaterThan(0);
    const withCode = all.items.filter((p) => p.diagnosis?.includes('C50'));
    const byCode = await c.researchAccess.search(researcher, grantId, 'C50', 100);
    expect(byCode.items.map((p) => p.token).sort()).toEqual(withCode.map((p) => p.token).sort());
    expect(byCode.total).toBeGreaterThan(0);
    // A short code matches exactly (as a prefix), never fuzzily an age band such as "50-54".
    expect((await c.researchAccess.search(researcher, grantId, 'C50', 100)).items.every((p) => p.diagnosis?.includes('C50'))).toBe(true);
    const none = await c.researchAccess.search(researcher, grantId, 'glioblastoma', 100);
    expect(none.total).toBe(0);
    expect(all.items.every((p) => !p.token.startsWith('PT-'))).toBe(true);
    await expect(c.researchAccess.search(other, grantId, undefined, 10)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('R-DEID-1: a released patient comes back de-identified, with only the granted modalities; no vault value survives', async () => {
    const { items } = await c.researchAccess.search(researcher, grantId, undefined, 100);
    const secrets = cohort.patients.flatMap((p) => [p.identity.fullName, p.identity.residentId, p.identity.mobilePhone, p.identity.mrn, p.identity.insuranceNumber, p.identity.address.street, p.identity.emergencyContact.name]);
    for (const p of items) {
      const view = await c.researchAccess.patient(researcher, grantId, p.token);
      const text = JSON.stringify(view);
      for (const s of secrets) expect(text).not.toContain(s);
      expect(new Set(view.records.map((r) => r.resourceType))).not.toContain('ImagingStudy');
      expect(view.records.every((r) => r.meta?.security?.some((s) => s.code === 'PSEUDED'))).toBe(true);
      // R-MPI-5: every timeline event points at released records by their released ids.
      const ids = new Set(view.records.map((r) => `${r.resourceType}/${r.id}`));
      const linked = view.timeline.filter((e) => e.recordRefs.length > 0);
      expect(linked.every((e) => e.recordRefs.every((ref) => ids.has(ref) || !['Condition', 'Encounter', 'Procedure', 'MedicationAdministration', 'Observation'].includes(ref.split('/')[0]!)))).toBe(true);
    }
  });

  it('R-GOV-5: at expiry the grant stops working at decision time, whatever the scheduler did', async () => {
    const { items } = await c.researchAccess.search(researcher, grantId, undefined, 1);
    c.clock.advance(31 * 86_400_000);
    await expect(c.researchAccess.search(researcher, grantId, undefined, 1)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(c.researchAccess.patient(researcher, grantId, items[0]!.token)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
