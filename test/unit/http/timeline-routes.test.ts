import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { CURRENT_AGREEMENT_VERSION } from '../../../functions/core/access/access-request-service';
import type { Actor } from '../../../functions/core/identity/actor';
import { operations as accessOps } from '../../../functions/handlers/access.handler';
import { operations as ingestionOps } from '../../../functions/handlers/ingestion.handler';
import { makeApiHandler } from '../../../functions/http/make-api-handler';
import { containerWith, demoCohort, patientIdOf, source } from '../ingestion/multimodal-fixture';

const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
const lambdaCtx = { functionName: 'test', awsRequestId: 'req-1' } as unknown as Context;
const claims = (groups: string[], sub: string) => ({ sub, 'cognito:username': sub, 'cognito:groups': groups, 'custom:institution': 'demo-hospital-1', name: `${sub} name`, token_use: 'id' });

function event(method: string, resource: string, params: Record<string, string>, opts: { claims?: Record<string, unknown>; query?: Record<string, string>; body?: unknown } = {}): APIGatewayProxyEvent {
  let path = resource;
  for (const [k, v] of Object.entries(params)) path = path.replace(`{${k}}`, v);
  return {
    resource,
    path,
    httpMethod: method,
    headers: opts.body !== undefined ? { 'content-type': 'application/json' } : {},
    queryStringParameters: opts.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: params,
    body: opts.body !== undefined ? JSON.stringify(opts.body) : null,
    isBase64Encoded: false,
    requestContext: { requestId: 'r-123456789', identity: { sourceIp: '127.0.0.1', userAgent: 'vitest' }, authorizer: opts.claims ? { claims: opts.claims } : null },
  } as unknown as APIGatewayProxyEvent;
}

describe('timeline and preview routes through the API pipeline (R-ANA-2, R-MPI-4, R-AUD-3)', () => {
  let c: Awaited<ReturnType<typeof containerWith>>;
  let patientId: string;
  let grantId: string;
  let token: string;
  const ingestion = () => makeApiHandler('ingestion', ingestionOps, async () => c, { logger });
  const access = () => makeApiHandler('access', accessOps, async () => c, { logger });
  const lastAudit = async () => (await c.audit.query({ limit: 100, to: new Date(c.clock.now()).toISOString() })).items.at(0)!;
  const dm = claims(['data-manager'], 'dm-1');
  const researcherClaims = claims(['researcher'], 'alice');

  beforeAll(async () => {
    const p = demoCohort().patients.find((x) => x.institutionId === 'demo-hospital-1')!;
    c = await containerWith([p]);
    await c.catalog.saveDataset({ ...(await c.catalog.getDataset('bc-test')), modalities: ['clinical', 'imaging', 'documents'] });
    for (const f of p.files.filter((f) => f.kind === 'pdf' || f.kind === 'dicom').slice(0, 4)) {
      await c.ingestRouter.ingest(source(p, f.fileName, f.contentType, f.bytes, f.kind === 'dicom' ? {} : { patientRef: p.identity.mrn }));
    }
    patientId = await patientIdOf(c, p);
    await c.timeline.linkDocuments({ kind: 'system', id: 'system:test', roles: [], mfa: false, scopes: [] }, patientId);
    const alice: Actor = { kind: 'user', id: 'alice', displayName: 'Alice', roles: ['researcher'], institution: 'demo-hospital-1', mfa: true, scopes: [] };
    const r = await c.accessRequests.submit(alice, {
      title: 'Dose and response',
      purposeCode: 'DUO:0000007',
      purpose: 'Disease-specific research on breast cancer radiotherapy',
      academicStatement: 'A detailed academic statement that is long enough to pass the fifty character rule.',
      scope: { datasetIds: ['bc-test'], modalities: ['clinical', 'imaging', 'documents'], fields: [] },
      requestedDurationDays: 30,
      agreementVersion: CURRENT_AGREEMENT_VERSION,
      agreementAccepted: true,
    });
    grantId = (await c.accessRequests.runWorkflowTask({ task: 'issueGrant', requestId: r.requestId })).grantId as string;
    token = (await c.researchAccess.search(alice, grantId, undefined, 1)).items[0]!.token;
  }, 180_000);

  it('R-MPI-4: add → edit → stale edit is 409 with a machine-readable code; every call is audited without titles or text', async () => {
    const added = await ingestion()(event('POST', '/v1/patients/{patientId}/timeline/events', { patientId }, { claims: dm, body: { type: 'surgery', occurredAt: '2024-04-15T01:00:00+08:00', title: { zh: '保乳手术', en: 'Breast-conserving surgery' } } }), lambdaCtx);
    expect(added.statusCode).toBe(201);
    const ev = JSON.parse(added.body) as { eventId: string; version: number; occurredAt: string };
    expect(ev).toMatchObject({ version: 1, occurredAt: '2024-04-14T17:00:00.000Z' });
    expect(await lastAudit()).toMatchObject({ operation: 'addTimelineEvent', category: 'data-change', parameters: { type: 'surgery', version: 1 }, result: { status: 201 } });
    expect(JSON.stringify(await lastAudit())).not.toContain('保乳手术');

    const path = '/v1/patients/{patientId}/timeline/events/{eventId}';
    const ok = await ingestion()(event('PATCH', path, { patientId, eventId: ev.eventId }, { claims: dm, body: { expectedVersion: 1, title: { zh: '保乳手术+前哨', en: 'BCS + SLNB' } } }), lambdaCtx);
    expect(ok.statusCode).toBe(200);
    const stale = await ingestion()(event('PATCH', path, { patientId, eventId: ev.eventId }, { claims: dm, body: { expectedVersion: 1, title: { zh: 'x', en: 'y' } } }), lambdaCtx);
    expect(stale.statusCode).toBe(409);
    expect(JSON.parse(stale.body).error).toMatchObject({ code: 'CONFLICT', details: { currentVersion: 2 } });
    expect(await lastAudit()).toMatchObject({ operation: 'editTimelineEvent', result: { outcome: 'failure', status: 409, errorCode: 'CONFLICT' } });

    const note = await ingestion()(event('POST', `${path}/annotations`, { patientId, eventId: ev.eventId }, { claims: dm, body: { text: 'Margins clear.' } }), lambdaCtx);
    expect(note.statusCode).toBe(201);
    expect(JSON.stringify(await lastAudit())).not.toContain('Margins clear');

    const bad = await ingestion()(event('POST', '/v1/patients/{patientId}/timeline/events', { patientId }, { claims: dm, body: { type: 'party', occurredAt: 'yesterday', title: { zh: '', en: '' } } }), lambdaCtx);
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body).error.code).toBe('VALIDATION_FAILED');
  });

  it('R-GOV-7: researchers cannot curate and data managers cannot preview; denials are audited', async () => {
    const denied = await ingestion()(event('GET', '/v1/patients/{patientId}/timeline', { patientId }, { claims: researcherClaims }), lambdaCtx);
    expect(denied.statusCode).toBe(403);
    expect(await lastAudit()).toMatchObject({ operation: 'getPatientTimeline', result: { outcome: 'denied' } });
    const preview = await access()(event('GET', '/v1/grants/{grantId}/patients/{token}/files/{fileId}/preview', { grantId, token, fileId: '0'.repeat(32) }, { claims: dm }), lambdaCtx);
    expect(preview.statusCode).toBe(403);
  });

  it('R-ANA-2, R-SEC-4: a preview streams inline, uncached, with its content type, and is audited as data access', async () => {
    const patient = await access()(event('GET', '/v1/grants/{grantId}/patients/{token}', { grantId, token }, { claims: researcherClaims }), lambdaCtx);
    expect(patient.statusCode).toBe(200);
    const files = (JSON.parse(patient.body) as { timeline: Array<{ files: Array<{ fileId: string; kind: string }> }> }).timeline.flatMap((e) => e.files);
    const pdf = files.find((f) => f.kind === 'pdf')!;
    const dicom = files.find((f) => f.kind === 'dicom')!;
    const route = '/v1/grants/{grantId}/patients/{token}/files/{fileId}/preview';

    const res = await access()(event('GET', route, { grantId, token, fileId: pdf.fileId }, { claims: researcherClaims }), lambdaCtx);
    expect(res.statusCode).toBe(200);
    expect(res.isBase64Encoded).toBe(true);
    expect(res.headers).toMatchObject({ 'content-type': 'application/pdf', 'content-disposition': `inline; filename="${pdf.fileId}.pdf"`, 'cache-control': 'no-store, max-age=0' });
    expect(Buffer.from(res.body, 'base64').subarray(0, 5).toString()).toBe('%PDF-');
    expect(await lastAudit()).toMatchObject({ operation: 'previewReleasedFile', category: 'data-access', parameters: { rendition: 'text-rendition-pdf' }, resources: expect.arrayContaining([{ type: 'File', id: pdf.fileId }]) });

    const frame = await access()(event('GET', route, { grantId, token, fileId: dicom.fileId }, { claims: researcherClaims, query: { wc: '100', ww: '300' } }), lambdaCtx);
    expect(frame.statusCode).toBe(200);
    expect(frame.headers).toMatchObject({ 'content-type': 'image/png', 'x-dicom-window': '100/300' });
    expect(frame.headers?.['access-control-expose-headers']).toContain('x-dicom-default-window');

    const badQuery = await access()(event('GET', route, { grantId, token, fileId: dicom.fileId }, { claims: researcherClaims, query: { ww: '0' } }), lambdaCtx);
    expect(badQuery.statusCode).toBe(400);
  });
});
