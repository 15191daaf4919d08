import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CURRENT_AGREEMENT_VERSION } from '../../../functions/core/access/access-request-service';
import { isDomainError } from '../../../functions/core/errors';
import type { Actor } from '../../../functions/core/identity/actor';
import { auditAlertFeedOf } from '../../../functions/handlers/audit-alerts.handler';
import { reidentificationOf } from '../../../functions/handlers/deid-operations';
import { operations as accessOps } from '../../../functions/handlers/access.handler';
import { makeApiHandler } from '../../../functions/http/make-api-handler';
import { generateDemoCohort } from '../../../infra/local/demo/generate-demo-cohort';
import type { DemoCohort } from '../../../infra/local/demo/demo-model';
import { testContainer } from '../../support/test-container';

const user = (id: string, roles: Actor['roles']): Actor => ({ kind: 'user', id, displayName: id, roles, institution: 'demo-hospital-1', mfa: true, scopes: [] });
const alice = user('alice', ['researcher']);
const bob = user('bob', ['researcher']);
const eve = user('eve', ['ethics-reviewer']);
const erin = user('erin', ['ethics-reviewer']);
const sam = user('sam', ['security-admin']);
const both = user('bo', ['ethics-reviewer', 'security-admin']);
const approver = user('ann', ['approver']);
const DAY = 86_400_000;
const JUSTIFICATION = 'Incidental finding: suspicious pulmonary nodule on the staging CT, the treating hospital must be told.';

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isDomainError(e) ? e.code : e).toBe(code);
}

type C = ReturnType<typeof testContainer>;

/** A container with 8 demo patients ingested in a level-3 dataset and a usable grant for `holder`. */
async function setup(cohort: DemoCohort, holder: Actor = alice): Promise<{ c: C; grantId: string; token: string }> {
  const c = testContainer();
  await c.catalog.saveDataset({ datasetId: 'bc-nrt-io', title: 't', description: 'd', disease: 'C50', institution: 'multi', securityLevel: 3, modalities: ['clinical', 'labs'], patientCount: 0, recordCount: 0, fileCount: 0, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' });
  for (const p of cohort.patients) {
    const bytes = new TextEncoder().encode(p.fhir.map((r) => JSON.stringify(r)).join('\n'));
    await c.ingest.ingest({ datasetId: 'bc-nrt-io', institution: p.institutionId, sourceSystem: 'EMR', fileName: 'x.ndjson', contentType: 'application/fhir+ndjson', bytes, operator: 'dm' });
  }
  const r = await c.accessRequests.submit(holder, {
    title: 'pCR predictors',
    purposeCode: 'DUO:0000007',
    purpose: 'Disease-specific research on breast cancer response',
    academicStatement: 'A detailed academic statement that is long enough to pass the fifty character rule.',
    scope: { datasetIds: ['bc-nrt-io'], modalities: ['clinical'], fields: [] },
    requestedDurationDays: 30,
    agreementVersion: CURRENT_AGREEMENT_VERSION,
    agreementAccepted: true,
  });
  const grantId = (await c.accessRequests.runWorkflowTask({ task: 'issueGrant', requestId: r.requestId })).grantId as string;
  const token = (await c.researchAccess.search(holder, grantId, undefined, 1)).items[0]!.token;
  return { c, grantId, token };
}

describe('controlled re-identification: service (R-DEID-3)', () => {
  let cohort: DemoCohort;
  let c: C;
  let grantId: string;
  let token: string;
  beforeAll(() => {
    cohort = generateDemoCohort({ patients: 8 });
  });
  beforeEach(async () => {
    ({ c, grantId, token } = await setup(cohort));
  }, 120_000);

  it('R-DEID-3: ethics reviewer + security admin approve, the requester sees institution and MRN once, the second view is 410 GONE', async () => {
    const svc = reidentificationOf(c);
    const r = await svc.request(alice, { grantId, token, reason: 'incidental-finding', justification: JUSTIFICATION });
    expect(r).toMatchObject({ status: 'pending', requesterId: 'alice', approvals: [] });
    // Queues: both approver roles see it, the requester does not.
    expect((await svc.list(eve, 'queue')).map((x) => x.requestId)).toEqual([r.requestId]);
    expect((await svc.list(sam, 'queue')).map((x) => x.requestId)).toEqual([r.requestId]);
    expect(await svc.list(alice, 'queue')).toEqual([]);
    expect((await svc.list(alice, 'mine')).map((x) => x.requestId)).toEqual([r.requestId]);
    // Not viewable before both approvals.
    await expectCode(svc.reveal(alice, r.requestId), 'CONFLICT');
    const afterEthics = await svc.decide(eve, r.requestId, { outcome: 'approved' });
    expect(afterEthics.status).toBe('pending');
    expect(await svc.list(eve, 'queue')).toEqual([]);
    await expectCode(svc.reveal(alice, r.requestId), 'CONFLICT');
    const approved = await svc.decide(sam, r.requestId, { outcome: 'approved', comment: 'checked the finding' });
    expect(approved).toMatchObject({ status: 'approved', approvals: [{ role: 'ethics-reviewer', decidedBy: 'eve' }, { role: 'security-admin', decidedBy: 'sam' }] });
    // Someone else cannot view it (not found, so its existence is not revealed).
    await expectCode(svc.reveal(bob, r.requestId), 'NOT_FOUND');

    const result = await svc.reveal(alice, r.requestId);
    const item = await c.documents.get<{ pk: string; sk: string; patientId: string }>('main', { pk: `RELEASE#${grantId}`, sk: `PT#${token}` });
    const vault = await c.patientIndex.identities(item!.patientId);
    expect(result.sources).toEqual(vault.map((v) => ({ institution: v.institution, sourcePatientReference: v.sourcePatientId, ...(v.identity.mrn ? { mrn: v.identity.mrn } : {}) })));
    expect(result.sources.some((s) => s.mrn)).toBe(true);
    // What is revealed is where to find the patient, never the identity itself.
    const shown = JSON.stringify(result);
    for (const v of vault) for (const secret of [v.identity.fullName, v.identity.residentId, v.identity.phone, v.identity.address].filter(Boolean)) expect(shown).not.toContain(secret);
    // The request never stores the result.
    expect(JSON.stringify(await c.documents.get('main', { pk: `REID#${r.requestId}`, sk: 'REQUEST' }))).not.toContain(result.sources[0]!.sourcePatientReference);

    await expectCode(svc.reveal(alice, r.requestId), 'GONE');
    expect((await svc.get(alice, r.requestId)).status).toBe('consumed');
  });

  it('R-DEID-3: a wrong approver is refused with 403 (approver role; a second ethics reviewer; one person filling both slots)', async () => {
    const svc = reidentificationOf(c);
    const r = await svc.request(alice, { grantId, token, reason: 'patient-safety', justification: JUSTIFICATION });
    await expectCode(svc.decide(approver, r.requestId, { outcome: 'approved' }), 'FORBIDDEN');
    await svc.decide(both, r.requestId, { outcome: 'approved' });
    // `bo` holds both roles but is one person: the second approval must come from someone else.
    await expectCode(svc.decide(both, r.requestId, { outcome: 'approved' }), 'FORBIDDEN');
    // The ethics slot (filled first by `bo`) is closed to other ethics reviewers.
    await expectCode(svc.decide(erin, r.requestId, { outcome: 'approved' }), 'FORBIDDEN');
    expect((await svc.get(alice, r.requestId)).status).toBe('pending');
    expect((await svc.decide(sam, r.requestId, { outcome: 'approved' })).status).toBe('approved');
  });

  it('R-DEID-3: self-approval is forbidden, whatever roles the requester holds (Cedar forbid)', async () => {
    const multi = user('alice', ['researcher', 'ethics-reviewer', 'security-admin']);
    const svc = reidentificationOf(c);
    const r = await svc.request(multi, { grantId, token, reason: 'incidental-finding', justification: JUSTIFICATION });
    await expectCode(svc.decide(multi, r.requestId, { outcome: 'approved' }), 'FORBIDDEN');
    expect(await svc.list(multi, 'queue')).toEqual([]);
  });

  it('R-DEID-3: a rejection closes the request (reason required) and nothing can be viewed', async () => {
    const svc = reidentificationOf(c);
    const r = await svc.request(alice, { grantId, token, reason: 'incidental-finding', justification: JUSTIFICATION });
    await expectCode(svc.decide(eve, r.requestId, { outcome: 'rejected' }), 'VALIDATION_FAILED');
    expect((await svc.decide(eve, r.requestId, { outcome: 'rejected', comment: 'not an incidental finding' })).status).toBe('rejected');
    await expectCode(svc.decide(sam, r.requestId, { outcome: 'approved' }), 'CONFLICT');
    await expectCode(svc.reveal(alice, r.requestId), 'CONFLICT');
  });

  it('R-DEID-3: only the holder of a usable grant may ask, and only for a pseudonym of its release', async () => {
    const svc = reidentificationOf(c);
    await expectCode(svc.request(bob, { grantId, token, reason: 'incidental-finding', justification: JUSTIFICATION }), 'NOT_FOUND');
    await expectCode(svc.request(alice, { grantId, token: '0123456789abcdef0123456789abcdef', reason: 'incidental-finding', justification: JUSTIFICATION }), 'NOT_FOUND');
    await expectCode(svc.request(alice, { grantId, token, reason: 'incidental-finding', justification: 'too short' }), 'VALIDATION_FAILED');
    c.clock.advance(31 * DAY);
    await expectCode(svc.request(alice, { grantId, token, reason: 'incidental-finding', justification: JUSTIFICATION }), 'FORBIDDEN');
  });

  it('R-DEID-3: a grant revoked after approval blocks the view (403); an approval not viewed within 7 days lapses (410)', async () => {
    const svc = reidentificationOf(c);
    const r1 = await svc.request(alice, { grantId, token, reason: 'incidental-finding', justification: JUSTIFICATION });
    const r2 = await svc.request(alice, { grantId, token, reason: 'patient-safety', justification: JUSTIFICATION });
    for (const r of [r1, r2]) {
      await svc.decide(eve, r.requestId, { outcome: 'approved' });
      await svc.decide(sam, r.requestId, { outcome: 'approved' });
    }
    c.clock.advance(8 * DAY);
    await expectCode(svc.reveal(alice, r1.requestId), 'GONE');
    expect((await svc.get(alice, r1.requestId)).status).toBe('expired');

    const r3 = await svc.request(alice, { grantId, token, reason: 'incidental-finding', justification: JUSTIFICATION });
    const r4 = await svc.request(alice, { grantId, token, reason: 'incidental-finding', justification: JUSTIFICATION });
    await svc.decide(eve, r3.requestId, { outcome: 'approved' });
    await svc.decide(sam, r3.requestId, { outcome: 'approved' });
    await c.grants.revoke(sam, grantId, 'study closed early');
    await expectCode(svc.reveal(alice, r3.requestId), 'FORBIDDEN');
    // Still not consumed: the refusal did not use up the one view.
    expect((await svc.get(alice, r3.requestId)).status).toBe('approved');
    // And nothing pending can be approved on a revoked grant.
    await expectCode(svc.decide(eve, r4.requestId, { outcome: 'approved' }), 'CONFLICT');
  });
});

const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
const lambdaCtx = { functionName: 'test', awsRequestId: 'req-1' } as unknown as Context;
const claims = (sub: string, groups: string[]) => ({ sub, 'cognito:username': sub, 'cognito:groups': groups, 'custom:institution': 'demo-hospital-1', name: sub, token_use: 'id' });
function event(method: string, resource: string, sub: string, groups: string[], opts: { params?: Record<string, string>; body?: unknown; query?: Record<string, string> } = {}): APIGatewayProxyEvent {
  const path = Object.entries(opts.params ?? {}).reduce((p, [k, v]) => p.replace(`{${k}}`, v), resource);
  return {
    resource,
    path,
    httpMethod: method,
    headers: opts.body ? { 'content-type': 'application/json' } : {},
    queryStringParameters: opts.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: opts.params ?? null,
    body: opts.body ? JSON.stringify(opts.body) : null,
    isBase64Encoded: false,
    requestContext: { requestId: `r-${Math.random().toString(36).slice(2, 12)}`, identity: { sourceIp: '127.0.0.1', userAgent: 'vitest' }, authorizer: { claims: claims(sub, groups) } },
  } as unknown as APIGatewayProxyEvent;
}

describe('controlled re-identification through the route pipeline (R-DEID-3)', () => {
  it('R-DEID-3: request → two approvals → one view → 410, every step audited and alerted; wrong roles get 403', async () => {
    const { c, grantId, token } = await setup(generateDemoCohort({ patients: 6 }));
    const api = makeApiHandler('access', accessOps, async () => c, { logger });
    const call = async (method: string, resource: string, sub: string, groups: string[], opts: Parameters<typeof event>[4] = {}) => {
      const res = await api(event(method, resource, sub, groups, opts), lambdaCtx);
      return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> & { error?: { code: string } } };
    };
    const created = await call('POST', '/v1/reidentification-requests', 'alice', ['researcher'], { body: { grantId, token, reason: 'incidental-finding', justification: JUSTIFICATION } });
    expect(created.status).toBe(201);
    const requestId = created.body.requestId as string;
    expect((await call('POST', '/v1/reidentification-requests', 'alice', ['researcher'], { body: { grantId, token, reason: 'curiosity', justification: JUSTIFICATION } })).status).toBe(400);

    const params = { requestId };
    expect((await call('POST', '/v1/reidentification-requests/{requestId}/decisions', 'ann', ['approver'], { params, body: { outcome: 'approved' } })).status).toBe(403);
    expect((await call('POST', '/v1/reidentification-requests/{requestId}/decisions', 'alice', ['researcher'], { params, body: { outcome: 'approved' } })).status).toBe(403);
    const queue = await call('GET', '/v1/reidentification-requests', 'eve', ['ethics-reviewer'], { query: { view: 'queue' } });
    expect((queue.body.items as Array<{ requestId: string }>).map((i) => i.requestId)).toEqual([requestId]);
    expect((await call('POST', '/v1/reidentification-requests/{requestId}/decisions', 'eve', ['ethics-reviewer'], { params, body: { outcome: 'approved' } })).status).toBe(200);
    expect((await call('POST', '/v1/reidentification-requests/{requestId}/decisions', 'eve', ['ethics-reviewer', 'security-admin'], { params, body: { outcome: 'approved' } })).status).toBe(403);
    const done = await call('POST', '/v1/reidentification-requests/{requestId}/decisions', 'sam', ['security-admin'], { params, body: { outcome: 'approved' } });
    expect(done.body.status).toBe('approved');

    expect((await call('POST', '/v1/reidentification-requests/{requestId}/result', 'bob', ['researcher'], { params })).status).toBe(404);
    const first = await call('POST', '/v1/reidentification-requests/{requestId}/result', 'alice', ['researcher'], { params });
    expect(first.status).toBe(200);
    const sources = first.body.sources as Array<{ institution: string; mrn?: string; sourcePatientReference: string }>;
    expect(sources.length).toBeGreaterThan(0);
    const second = await call('POST', '/v1/reidentification-requests/{requestId}/result', 'alice', ['researcher'], { params });
    expect(second.status).toBe(410);
    expect(second.body.error?.code).toBe('GONE');

    const events = (await c.audit.query({ limit: 100, to: '2026-11-24T23:59:59Z' })).items;
    const ours = events.filter((e) => e.operation.includes('Reidentification'));
    expect(ours.map((e) => `${e.operation}:${e.result.status}`).sort()).toEqual(
      [
        'requestReidentification:201',
        'requestReidentification:400',
        'decideReidentificationRequest:403',
        'decideReidentificationRequest:403',
        'listReidentificationRequests:200',
        'decideReidentificationRequest:200',
        'decideReidentificationRequest:403',
        'decideReidentificationRequest:200',
        'viewReidentificationResult:404',
        'viewReidentificationResult:200',
        'viewReidentificationResult:410',
      ].sort(),
    );
    const view = ours.find((e) => e.operation === 'viewReidentificationResult' && e.result.status === 200)!;
    expect(view.category).toBe('data-access');
    expect(view.resources).toEqual(expect.arrayContaining([{ type: 'ReidentificationRequest', id: requestId }, { type: 'Grant', id: grantId }, { type: 'Patient', id: token }]));
    expect(ours.find((e) => e.operation === 'decideReidentificationRequest' && e.result.status === 200)!.category).toBe('permission');
    // No revealed value reaches the audit trail.
    const trail = JSON.stringify(events);
    for (const s of sources) {
      expect(trail).not.toContain(s.sourcePatientReference);
      if (s.mrn) expect(trail).not.toContain(s.mrn);
    }
    // Privileged steps raise alerts for the security administrators (R-AUD-5).
    await auditAlertFeedOf(c).run();
    const alerts = (await c.audit.listAlerts({ limit: 100, to: '2026-11-24T23:59:59Z' })).items;
    expect(alerts.filter((a) => a.rule === 'permission-change').map((a) => a.operation).sort()).toEqual(['decideReidentificationRequest', 'decideReidentificationRequest', 'requestReidentification', 'viewReidentificationResult']);
  }, 120_000);
});
