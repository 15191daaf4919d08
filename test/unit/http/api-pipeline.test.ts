import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { operations as catalogOps } from '../../../functions/handlers/catalog.handler';
import { operations as auditOps } from '../../../functions/handlers/audit.handler';
import { operations as platformOps } from '../../../functions/handlers/platform.handler';
import { makeApiHandler } from '../../../functions/http/make-api-handler';
import { testContainer } from '../../support/test-container';

const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
const ctx = { functionName: 'test', awsRequestId: 'req-1' } as unknown as Context;

function event(method: string, resource: string, opts: { claims?: Record<string, unknown>; query?: Record<string, string>; params?: Record<string, string>; body?: string; headers?: Record<string, string> } = {}): APIGatewayProxyEvent {
  return {
    resource,
    path: resource,
    httpMethod: method,
    headers: opts.headers ?? {},
    queryStringParameters: opts.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: opts.params ?? null,
    body: opts.body ?? null,
    isBase64Encoded: false,
    requestContext: { requestId: 'r-123456789', identity: { sourceIp: '127.0.0.1', userAgent: 'vitest' }, authorizer: opts.claims ? { claims: opts.claims } : null },
  } as unknown as APIGatewayProxyEvent;
}

const claims = (groups: string[], sub = 'user-1') => ({ sub, 'cognito:username': sub, 'cognito:groups': groups, 'custom:institution': 'demo-hospital-1', name: 'Test User', token_use: 'id' });

describe('API pipeline (authenticate → validate → authorize → operate → audit)', () => {
  let c: ReturnType<typeof testContainer>;
  beforeEach(async () => {
    c = testContainer();
    await c.catalog.saveDataset({
      datasetId: 'bc-nrt-io',
      title: 'Breast cancer cohort',
      description: 'd',
      disease: 'C50',
      institution: 'demo-hospital-1',
      securityLevel: 3,
      modalities: ['clinical'],
      patientCount: 60,
      recordCount: 1000,
      fileCount: 10,
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:00Z',
    });
  });
  const catalog = () => makeApiHandler('catalog', catalogOps, async () => c, { logger });
  const audit = () => makeApiHandler('audit', auditOps, async () => c, { logger });
  const auditEvents = async () => (await c.audit.query({ limit: 100, to: '2026-11-24T23:59:59Z' })).items;

  it('R-AUD-3: a successful call returns data and writes one audit event with actor, operation, decision and result', async () => {
    const res = await catalog()(event('GET', '/v1/datasets', { claims: claims(['researcher']) }), ctx);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body).items).toHaveLength(1);
    expect(res.headers?.['cache-control']).toBe('no-store');
    const [e] = await auditEvents();
    expect(e).toMatchObject({ operation: 'listDatasets', actor: { id: 'user-1', roles: ['researcher'] }, decision: { effect: 'allow', policyIds: ['users-read-catalog'] }, result: { outcome: 'success', status: 200, count: 1 } });
  });

  it('R-SEC-6: no credentials on a user route → 401 UNAUTHENTICATED, audited as denied', async () => {
    const res = await catalog()(event('GET', '/v1/datasets'), ctx);
    expect(res.statusCode).toBe(401);
    expect(JSON.parse(res.body).error.code).toBe('UNAUTHENTICATED');
    expect((await auditEvents())[0]!.result).toMatchObject({ outcome: 'denied', status: 401 });
  });

  it('R-AUD-2: a researcher querying the audit trail → 403 FORBIDDEN with the deciding engine audited', async () => {
    const res = await audit()(event('GET', '/v1/audit/events', { claims: claims(['researcher']) }), ctx);
    expect(res.statusCode).toBe(403);
    const body = JSON.parse(res.body);
    expect(body.error).toMatchObject({ code: 'FORBIDDEN', correlationId: expect.any(String) });
    const [e] = await auditEvents();
    expect(e).toMatchObject({ operation: 'queryAuditEvents', decision: { effect: 'deny' }, result: { outcome: 'denied', status: 403, errorCode: 'FORBIDDEN' } });
  });

  it('R-AUD-4: an auditor can query, and the query is itself audited', async () => {
    await catalog()(event('GET', '/v1/datasets', { claims: claims(['researcher'], 'r-1') }), ctx);
    const res = await audit()(event('GET', '/v1/audit/events', { claims: claims(['auditor'], 'a-1'), query: { actorId: 'r-1' } }), ctx);
    expect(res.statusCode).toBe(200);
    const page = JSON.parse(res.body);
    expect(page.items.map((e: { operation: string }) => e.operation)).toEqual(['listDatasets']);
    expect((await c.audit.query({ actorId: 'a-1', limit: 10 })).items[0]!.parameters).toEqual({ actorId: 'r-1' });
  });

  it('bad input → 400 VALIDATION_FAILED naming the field, nothing else happens', async () => {
    const res = await catalog()(event('GET', '/v1/datasets/{datasetId}', { claims: claims(['researcher']), params: { datasetId: 'BAD ID!' } }), ctx);
    expect(res.statusCode).toBe(400);
    const body = JSON.parse(res.body);
    expect(body.error.code).toBe('VALIDATION_FAILED');
    expect(body.error.details.issues[0].path).toBe('datasetId');
  });

  it('unknown dataset → 404 NOT_FOUND', async () => {
    const res = await catalog()(event('GET', '/v1/datasets/{datasetId}', { claims: claims(['researcher']), params: { datasetId: 'nope-nope' } }), ctx);
    expect(res.statusCode).toBe(404);
    expect(JSON.parse(res.body).error.code).toBe('NOT_FOUND');
  });

  it('the caller-provided correlation id is echoed and recorded', async () => {
    const res = await catalog()(event('GET', '/v1/datasets', { claims: claims(['researcher']), headers: { 'X-Correlation-Id': 'corr-abcdef12' } }), ctx);
    expect(res.headers?.['x-correlation-id']).toBe('corr-abcdef12');
    expect((await auditEvents())[0]!.correlationId).toBe('corr-abcdef12');
  });

  it('R-AUD-1: if the audit trail cannot be written the call fails with 503 (fail closed)', async () => {
    c.audit.write = async () => {
      throw new Error('audit store down');
    };
    const res = await catalog()(event('GET', '/v1/datasets', { claims: claims(['researcher']) }), ctx);
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body).error.code).toBe('DEPENDENCY_UNAVAILABLE');
  });

  it('R-INT-2: the OpenAPI document lists every route with an operationId, schemas and security', async () => {
    const h = makeApiHandler('platform', platformOps, async () => c, { logger });
    const res = await h(event('GET', '/v1/openapi.json'), ctx);
    const doc = JSON.parse(res.body);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/v1/datasets'].get.operationId).toBe('listDatasets');
    expect(doc.paths['/v1/access-requests'].post.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/SubmitAccessRequest');
    expect(doc.components.schemas.SubmitAccessRequest.required).toContain('academicStatement');
    expect(doc.components.securitySchemes.cognitoUser.scheme).toBe('bearer');
  });
});
