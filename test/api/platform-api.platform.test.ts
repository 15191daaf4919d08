import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { clinicalCtSeries } from '../../infra/local/demo/clinical-series';
import { generateDemoCohort } from '../../infra/local/demo/generate-demo-cohort';
import { apiAs, eventually, idTokenFor } from '../support/api-client';

const platform = inject('platform');

describe('local API front (same handlers as Lambda, API Gateway semantics)', () => {
  let researcher: string;
  let auditor: string;
  let dataManager: string;
  beforeAll(async () => {
    researcher = await idTokenFor(platform, 'researcher');
    auditor = await idTokenFor(platform, 'auditor');
    dataManager = await idTokenFor(platform, 'data-manager');
  });

  it('R-OPS-2: GET /v1/health reports the stores', async () => {
    const res = await apiAs(platform).get('/v1/health');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'ok', checks: { documentStore: 'ok', objectStore: 'ok' } });
  });

  it('R-INT-2: GET /v1/openapi.json is OpenAPI 3.1 and every operation has an operationId', async () => {
    const doc = (await apiAs(platform).get('/v1/openapi.json')).json;
    expect(doc.openapi).toBe('3.1.0');
    const ops = Object.values(doc.paths as Record<string, Record<string, { operationId?: string }>>).flatMap((p) => Object.values(p));
    expect(ops.length).toBeGreaterThan(10);
    expect(ops.every((o) => typeof o.operationId === 'string')).toBe(true);
  });

  it('R-SEC-6: no token → 401; a forged token → 401; both audited at the edge', async () => {
    expect((await apiAs(platform).get('/v1/datasets')).status).toBe(401);
    const forged = researcher.slice(0, -6) + 'AAAAAA';
    const res = await apiAs(platform, forged).get('/v1/datasets');
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('UNAUTHENTICATED');
  });

  it('unknown paths → 404 and wrong methods → 405, with machine-readable codes', async () => {
    expect((await apiAs(platform, researcher).get('/v1/nope')).json.error.code).toBe('NOT_FOUND');
    const res = await apiAs(platform, researcher).call('DELETE', '/v1/datasets');
    expect(res.status).toBe(405);
  });

  it('CORS: preflights and responses allow only the portal origin', async () => {
    const pre = await fetch(`${platform.apiUrl}/v1/datasets`, { method: 'OPTIONS', headers: { origin: platform.webUrl, 'access-control-request-method': 'GET' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(platform.webUrl);
    const res = await apiAs(platform).get('/v1/datasets');
    expect(res.headers.get('access-control-allow-origin')).toBe(platform.webUrl);
  });

  it('R-SEC-6: GET /v1/me returns the verified identity, roles and institution', async () => {
    const me = (await apiAs(platform, researcher).get('/v1/me')).json;
    expect(me).toMatchObject({ username: 'researcher', displayName: '王敏 Wang Min', roles: ['researcher'], institution: 'demo-hospital-1' });
  });

  it('R-GOV-1: every role sees the catalogue with aggregate counts only', async () => {
    const res = await apiAs(platform, researcher).get('/v1/datasets');
    expect(res.status).toBe(200);
    const pooled = res.json.items.find((d: { datasetId: string }) => d.datasetId === 'bc-nrt-io');
    expect(pooled).toMatchObject({ securityLevel: 3, disease: expect.stringContaining('C50') });
    expect(pooled.patientCount).toBeGreaterThan(0);
    expect(Object.keys(pooled).sort()).toEqual(['datasetId', 'description', 'disease', 'fileCount', 'institution', 'modalities', 'patientCount', 'recordCount', 'securityLevel', 'title', 'updatedAt'].sort());
  });

  it('R-ING-4/R-ING-1: a data manager uploads a FHIR export through staging; it is verified, ingested and reported; a researcher may not upload', async () => {
    const patient = { resourceType: 'Patient', id: 'p-1', name: [{ text: '测试患者' }], gender: 'female', birthDate: '1980-02-03', identifier: [{ system: 'https://mdrp.example.org/fhir/sid/cn-resident-id', value: '110101198002030021' }] };
    const obs = { resourceType: 'Observation', id: 'o-1', status: 'final', code: { text: 'Hemoglobin' }, subject: { reference: 'Patient/p-1' }, effectiveDateTime: '2026-01-02T03:04:05Z', valueQuantity: { value: 128, unit: 'g/L' } };
    const body = Buffer.from(`${JSON.stringify(patient)}\n${JSON.stringify(obs)}\n{"resourceType":"Spaceship","id":"x"}\n`);
    const sha256 = createHash('sha256').update(body).digest('hex');
    const req = { datasetId: 'bc-nrt-io', fileName: 'emr-export.ndjson', contentType: 'application/fhir+ndjson', sizeBytes: body.length, sha256 };
    expect((await apiAs(platform, researcher).post('/v1/ingest/uploads', req)).status).toBe(403);
    const res = await apiAs(platform, dataManager).post('/v1/ingest/uploads', req);
    expect(res.status).toBe(201);
    expect(res.json.headers['x-amz-checksum-sha256']).toBe(Buffer.from(sha256, 'hex').toString('base64'));
    const put = await fetch(res.json.url, { method: 'PUT', headers: res.json.headers, body });
    expect(put.status).toBe(200);
    // The object-created event verifies the staged bytes against the declared SHA-256, then ingests.
    const done = await eventually(async () => {
      const s = (await apiAs(platform, dataManager).get(`/v1/ingest/uploads/${res.json.upload.uploadId}`)).json;
      return s.status !== 'awaiting-upload' && s.status !== 'received' ? s : undefined;
    });
    expect(done).toMatchObject({ status: 'accepted', sha256, jobId: expect.stringMatching(/^job_/) });
    const job = (await apiAs(platform, dataManager).get(`/v1/ingest/jobs/${done.jobId}`)).json;
    expect(job).toMatchObject({ status: 'completed', counts: { accepted: 2, rejected: 1, newPatients: 1 }, rejected: [{ line: 3, code: 'UNSUPPORTED_RESOURCE_TYPE' }] });
    expect(JSON.stringify(job)).not.toContain('110101198002030021');
    // R-ING-6: lineage per job and per record, through the API; not for researchers.
    const perJob = await apiAs(platform, dataManager).get(`/v1/ingest/jobs/${done.jobId}/records`);
    expect(perJob.status).toBe(200);
    expect(perJob.json).toMatchObject({ job: { jobId: done.jobId }, records: [{ resourceType: 'Observation', patientId: expect.stringMatching(/^PT-/) }] });
    const rec = perJob.json.records[0] as { patientId: string; resourceType: string; id: string };
    const lineagePath = `/v1/ingest/records/${rec.patientId}/${rec.resourceType}/${rec.id}/lineage`;
    const lineage = await apiAs(platform, dataManager).get(lineagePath);
    expect(lineage.status).toBe(200);
    expect(lineage.json).toMatchObject({ sourceId: 'Observation/o-1', fileName: 'emr-export.ndjson', fileSha256: sha256, jobId: done.jobId, transformations: expect.arrayContaining([expect.objectContaining({ name: 'pseudonymize-patient-references' })]) });
    expect((await apiAs(platform, researcher).get(lineagePath)).status).toBe(403);
    expect((await apiAs(platform, dataManager).get(`/v1/ingest/records/${rec.patientId}/Observation/r-nosuchrecord/lineage`)).status).toBe(404);

    // s3rver does not check the signed checksum (AWS S3 does); the platform checks it anyway.
    const other = await apiAs(platform, dataManager).post('/v1/ingest/uploads', req);
    await fetch(other.json.url, { method: 'PUT', headers: other.json.headers, body: Buffer.from(body.toString().replace('Hemoglobin', 'Hemoglobim')) });
    const rejected = await eventually(async () => {
      const s = (await apiAs(platform, dataManager).get(`/v1/ingest/uploads/${other.json.upload.uploadId}`)).json;
      return s.status !== 'awaiting-upload' ? s : undefined;
    });
    expect(rejected).toMatchObject({ status: 'rejected', rejection: { code: 'CHECKSUM_MISMATCH' } });
    expect((await apiAs(platform, dataManager).post('/v1/ingest/uploads', { ...req, datasetId: 'no-such-set' })).json.error).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await apiAs(platform, dataManager).post('/v1/ingest/uploads', { ...req, sha256: 'abc' })).status).toBe(400);
    expect((await apiAs(platform, dataManager).post('/v1/ingest/uploads', { ...req, contentType: 'application/x-msdownload' })).status).toBe(400);
    expect((await apiAs(platform, dataManager).post('/v1/ingest/uploads', 'not json')).json.error.code).toBe('VALIDATION_FAILED');
    expect((await apiAs(platform, dataManager).post('/v1/ingest/uploads', JSON.stringify(req), { 'content-type': 'text/plain' })).status).toBe(415);
  });

  it('R-ING-5: the slices of a series uploaded together are each verified and reported, ingested through the queue in batches into one study', async () => {
    const p = generateDemoCohort({ patients: 24 }).patients[0]!;
    const slices = clinicalCtSeries(p, { seed: Date.now() % 1_000_000, slices: 12, size: 32 });
    const uploads = [];
    for (const [i, body] of slices.entries()) {
      const sha256 = createHash('sha256').update(body).digest('hex');
      const res = await apiAs(platform, dataManager).post('/v1/ingest/uploads', { datasetId: 'bc-nrt-io', fileName: `IM${i}.dcm`, contentType: 'application/dicom', sizeBytes: body.byteLength, sha256, institution: p.institutionId });
      expect(res.status).toBe(201);
      uploads.push(res.json);
    }
    // All staged at once, as a PACS export or the portal sends a series.
    await Promise.all(uploads.map(async (u, i) => expect((await fetch(u.url, { method: 'PUT', headers: u.headers, body: slices[i]! })).status).toBe(200)));
    const done = await Promise.all(
      uploads.map((u) =>
        eventually(async () => {
          const s = (await apiAs(platform, dataManager).get(`/v1/ingest/uploads/${u.upload.uploadId}`)).json;
          return s.status === 'accepted' || s.status === 'rejected' ? s : undefined;
        }, 60_000),
      ),
    );
    expect(done.map((d) => d.status)).toEqual(slices.map(() => 'accepted'));
    const jobs = await Promise.all(done.map(async (d) => (await apiAs(platform, dataManager).get(`/v1/ingest/jobs/${d.jobId}`)).json));
    expect(new Set(jobs.map((j) => j.jobId)).size).toBe(12);
    expect(jobs.map((j) => j.counts.accepted)).toEqual(slices.map(() => 1));
    // One study, one imaging event: counted by one of the twelve reports.
    expect(jobs.reduce((n, j) => n + j.counts.timelineEvents, 0)).toBe(1);
  });

  it('R-AUD-3/R-AUD-4: the auditor sees what the researcher did; the researcher may not read the audit trail', async () => {
    const me = (await apiAs(platform, researcher).get('/v1/me')).json;
    expect((await apiAs(platform, researcher).get(`/v1/audit/events?actorId=${me.userId}`)).status).toBe(403);
    const page = (await apiAs(platform, auditor).get(`/v1/audit/events?actorId=${me.userId}&limit=50`)).json;
    const ops = page.items.map((e: { operation: string }) => e.operation);
    expect(ops).toEqual(expect.arrayContaining(['getMyProfile', 'listDatasets', 'createIngestUpload', 'queryAuditEvents']));
    const denied = page.items.find((e: { operation: string }) => e.operation === 'queryAuditEvents');
    expect(denied).toMatchObject({ result: { outcome: 'denied', status: 403 }, decision: { effect: 'deny' }, source: { ip: expect.any(String) } });
    // PHI-free: parameters hold ids and filters only.
    for (const e of page.items) expect(JSON.stringify(e.parameters)).not.toMatch(/王敏/);
  });

  it('R-AUD-4: bad audit queries are refused with 400', async () => {
    const res = await apiAs(platform, auditor).get('/v1/audit/events?resourceId=x');
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('VALIDATION_FAILED');
  });
});
