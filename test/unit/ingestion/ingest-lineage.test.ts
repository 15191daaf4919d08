import { describe, expect, it } from 'vitest';
import type { Actor, Role } from '../../../functions/core/identity/actor';
import { generateDemoCohort } from '../../../infra/local/demo/generate-demo-cohort';
import { testContainer } from '../../support/test-container';

const enc = (lines: unknown[]) => new TextEncoder().encode(lines.map((l) => JSON.stringify(l)).join('\n'));
const user = (role: Role, institution?: string): Actor => ({ kind: 'user', id: `u-${role}-${institution ?? 'none'}`, roles: [role], ...(institution ? { institution } : {}), mfa: true, scopes: [] });

/** Ingest reports and lineage as data managers and providers read them (R-ING-6). */
describe('ingest lineage', () => {
  const setup = async () => {
    const c = testContainer();
    await c.catalog.saveDataset({ datasetId: 'bc-nrt-io', title: 't', description: 'd', disease: 'C50', institution: 'multi', securityLevel: 3, modalities: ['clinical'], patientCount: 0, recordCount: 0, fileCount: 0, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' });
    const p = generateDemoCohort({ patients: 2 }).patients[0]!;
    const job = await c.ingest.ingest({ datasetId: 'bc-nrt-io', institution: p.institutionId, sourceSystem: 'EMR', fileName: 'emr.ndjson', contentType: 'application/fhir+ndjson', bytes: enc(p.fhir), operator: 'dm-1' });
    return { c, p, job };
  };

  it('R-ING-6: a job lists the records it wrote page by page, and each record gives its full lineage', async () => {
    const { c, p, job } = await setup();
    const manager = user('data-manager');
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await c.ingestLineage.recordsOfJob(manager, job.jobId, { limit: 40, ...(cursor ? { cursor } : {}) });
      expect(page.job.jobId).toBe(job.jobId);
      expect(page.records.length).toBeLessThanOrEqual(40);
      seen.push(...page.records.map((r) => `${r.resourceType}/${r.id}`));
      cursor = page.cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(p.fhir.length - 1);
    const first = (await c.ingestLineage.recordsOfJob(manager, job.jobId, { limit: 1 })).records[0]!;
    const lineage = await c.ingestLineage.lineageOf(manager, first.patientId, first.resourceType, first.id);
    expect(lineage).toMatchObject({ institution: p.institutionId, sourceSystem: 'EMR', fileName: 'emr.ndjson', jobId: job.jobId, operator: 'dm-1', fileSha256: job.sha256 });
  });

  it("R-ING-6/R-GOV-7: a data provider reads its own institution's reports and lineage only; others' are not found", async () => {
    const { c, p, job } = await setup();
    const own = user('data-provider', p.institutionId);
    const other = user('data-provider', p.institutionId === 'demo-hospital-1' ? 'demo-hospital-2' : 'demo-hospital-1');
    const first = (await c.ingestLineage.recordsOfJob(own, job.jobId, { limit: 1 })).records[0]!;
    expect((await c.ingestLineage.job(own, job.jobId)).counts.accepted).toBe(p.fhir.length);
    expect((await c.ingestLineage.lineageOf(own, first.patientId, first.resourceType, first.id)).jobId).toBe(job.jobId);
    await expect(c.ingestLineage.job(other, job.jobId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(c.ingestLineage.recordsOfJob(other, job.jobId, { limit: 10 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(c.ingestLineage.lineageOf(other, first.patientId, first.resourceType, first.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(c.ingestLineage.lineageOf(user('data-provider'), first.patientId, first.resourceType, first.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(c.ingestLineage.job(user('data-manager'), 'job_nosuchjob0000')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(c.ingestLineage.lineageOf(user('data-manager'), first.patientId, first.resourceType, 'no-such-record')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
