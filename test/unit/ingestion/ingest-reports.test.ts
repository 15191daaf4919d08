import { describe, expect, it } from 'vitest';
import type { Actor, Role } from '../../../functions/core/identity/actor';
import { generateDemoCohort } from '../../../infra/local/demo/generate-demo-cohort';
import { testContainer } from '../../support/test-container';

const enc = (lines: unknown[]) => new TextEncoder().encode(lines.map((l) => JSON.stringify(l)).join('\n'));
const user = (role: Role, institution?: string): Actor => ({ kind: 'user', id: `u-${role}-${institution ?? 'none'}`, roles: [role], ...(institution ? { institution } : {}), mfa: true, scopes: [] });

describe('ingest job reports', () => {
  it("R-ING-5/R-GOV-7: data managers read every report; a data provider only its own institution's, others' are not found", async () => {
    const c = testContainer();
    await c.catalog.saveDataset({ datasetId: 'bc-nrt-io', title: 't', description: 'd', disease: 'C50', institution: 'multi', securityLevel: 3, modalities: ['clinical'], patientCount: 0, recordCount: 0, fileCount: 0, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' });
    const p = generateDemoCohort({ patients: 2 }).patients[0]!;
    const job = await c.ingest.ingest({ datasetId: 'bc-nrt-io', institution: p.institutionId, sourceSystem: 'EMR', fileName: 'emr.ndjson', contentType: 'application/fhir+ndjson', bytes: enc(p.fhir), operator: 'dm-1' });
    const other = p.institutionId === 'demo-hospital-1' ? 'demo-hospital-2' : 'demo-hospital-1';
    expect((await c.ingestReports.job(user('data-manager'), job.jobId)).jobId).toBe(job.jobId);
    expect((await c.ingestReports.job(user('data-provider', p.institutionId), job.jobId)).counts.accepted).toBe(p.fhir.length);
    await expect(c.ingestReports.job(user('data-provider', other), job.jobId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(c.ingestReports.job(user('data-provider'), job.jobId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(c.ingestReports.job(user('data-manager'), 'job_nosuchjob0000')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
