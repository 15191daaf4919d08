import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Actor, Role } from '../../../functions/core/identity/actor';
import { integrationServices } from '../../../functions/composition/integration-services';
import { operations as catalogOps } from '../../../functions/handlers/catalog.handler';
import { operations as integrationOps } from '../../../functions/handlers/integrations.handler';
import { makeApiHandler } from '../../../functions/http/make-api-handler';
import { testContainer } from '../../support/test-container';
import { PARTNER_A, PARTNER_B, partnerActor, partnerEvent, partnerInput, registerPartners, saveDataset, userEvent } from './integration-fixtures';

const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
const ctx = { functionName: 'test', awsRequestId: 'req-1' } as unknown as Context;
const person = (id: string, ...roles: Role[]): Actor => ({ kind: 'user', id, displayName: id, roles, institution: 'demo-hospital-1', mfa: true, scopes: [] });
const ethics = person('erin', 'ethics-reviewer');
const approver = person('adam', 'approver');
const admin = person('sam', 'security-admin');
const RW = ['access-requests.write', 'access-requests.read', 'grants.read'];

describe('partner business operations (R-INT-1), service level', () => {
  let c: ReturnType<typeof testContainer>;
  const ops = () => integrationServices(c).partnerOperations;
  /** Drives the L2 workflow (ethics, then one approver) to a grant, as the state machine would. */
  const approve = async (requestId: string) => {
    await c.accessRequests.runWorkflowTask({ task: 'openReviewStep', requestId, step: 'ethics', stepIndex: -1, taskToken: `t-e-${requestId}` });
    await c.accessRequests.decide(ethics, requestId, { step: 'ethics', outcome: 'approved' });
    await c.accessRequests.runWorkflowTask({ task: 'openReviewStep', requestId, step: 'approver', stepIndex: 0, taskToken: `t-a-${requestId}` });
    await c.accessRequests.decide(approver, requestId, { step: 'approver', outcome: 'approved' });
    return (await c.accessRequests.runWorkflowTask({ task: 'issueGrant', requestId })).grantId as string;
  };

  beforeEach(async () => {
    c = testContainer();
    await saveDataset(c);
    registerPartners(c, [
      { partnerId: PARTNER_A, institution: 'demo-hospital-2' },
      { partnerId: PARTNER_B, institution: 'demo-hospital-3' },
      { partnerId: 'ptn_00000000dead', institution: 'demo-hospital-2', status: 'suspended' },
    ]);
  });

  it('R-INT-1: a partner submits for a named researcher; the partner is the applicant and its record, not the token, sets the institution', async () => {
    const r = await ops().submit(partnerActor(PARTNER_A, RW, 'forged-institution'), partnerInput());
    expect(r).toMatchObject({
      applicantId: PARTNER_A,
      applicantName: 'Dr. Li Wei',
      institution: 'demo-hospital-2',
      partnerId: PARTNER_A,
      onBehalfOf: { name: 'Dr. Li Wei', email: 'li.wei@demo-hospital-2.example', reference: 'HIS-4711' },
      status: 'ethics-review',
      approvalChain: ['approver'],
    });
    expect(c.workflow.started.map((s) => s.name)).toEqual([r.requestId]);
  });

  it('R-INT-1: a partner tracks only its own requests; another partner\'s or a researcher\'s request is 404', async () => {
    const mine = await ops().submit(partnerActor(PARTNER_A, RW), partnerInput());
    const theirs = await ops().submit(partnerActor(PARTNER_B, RW), partnerInput({ title: 'Another partner study' }));
    const researchers = await c.accessRequests.submit(person('alice', 'researcher'), partnerInput());
    expect((await ops().listRequests(partnerActor(PARTNER_A, RW))).map((r) => r.requestId)).toEqual([mine.requestId]);
    expect((await ops().getRequest(partnerActor(PARTNER_A, RW), mine.requestId)).requestId).toBe(mine.requestId);
    await expect(ops().getRequest(partnerActor(PARTNER_A, RW), theirs.requestId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(ops().getRequest(partnerActor(PARTNER_A, RW), researchers.requestId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // Without the read scope even its own request is not readable (Cedar: partners-read-own-requests-with-scope).
    await expect(ops().getRequest(partnerActor(PARTNER_A, ['access-requests.write']), mine.requestId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('R-INT-1: a suspended or unknown partner is refused even with a valid token', async () => {
    await expect(ops().submit(partnerActor('ptn_00000000dead', RW), partnerInput())).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(ops().listRequests(partnerActor('ptn_000000unknown', RW))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(ops().listRequests(person('alice', 'researcher'))).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('R-INT-1: permission sync lists the grants of the partner institution with status and expiry, as they change', async () => {
    const r = await ops().submit(partnerActor(PARTNER_A, RW), partnerInput());
    const grantId = await approve(r.requestId);
    const other = await ops().submit(partnerActor(PARTNER_B, RW), partnerInput());
    await approve(other.requestId);

    const synced = await ops().syncGrants(partnerActor(PARTNER_A, RW));
    expect(synced).toHaveLength(1);
    const grant = await c.grants.get(grantId);
    expect(synced[0]).toEqual({
      grantId,
      requestId: r.requestId,
      holderId: PARTNER_A,
      holderName: 'Dr. Li Wei',
      institution: 'demo-hospital-2',
      viaPartner: true,
      datasetIds: ['bc-nrt-io'],
      modalities: ['clinical'],
      purposeCode: 'DUO:0000007',
      dataLevel: 2,
      status: 'active',
      startsAt: grant.startsAt,
      expiresAt: grant.expiresAt,
    });
    // Partner B sees its own institution's grant only.
    expect((await ops().syncGrants(partnerActor(PARTNER_B, RW))).map((g) => g.institution)).toEqual(['demo-hospital-3']);

    await c.grants.revoke(admin, grantId, 'ethics approval withdrawn');
    expect((await ops().syncGrants(partnerActor(PARTNER_A, RW)))[0]).toMatchObject({ grantId, status: 'revoked', revokedAt: expect.any(String) });
    expect(await ops().syncGrants(partnerActor(PARTNER_A, RW), { status: 'active' })).toEqual([]);
  });

  it('R-INT-1: a grant past its end syncs as expired before the expiry job has run (decision-time status)', async () => {
    const r = await ops().submit(partnerActor(PARTNER_A, RW), partnerInput({ requestedDurationDays: 10 }));
    await approve(r.requestId);
    c.clock.advance(11 * 86_400_000);
    expect((await ops().syncGrants(partnerActor(PARTNER_A, RW)))[0]!.status).toBe('expired');
  });
});

describe('partner business operations through the HTTP pipeline (in-process)', () => {
  let c: ReturnType<typeof testContainer>;
  const api = () => makeApiHandler('integrations', integrationOps, async () => c, { logger });
  const catalog = () => makeApiHandler('catalog', catalogOps, async () => c, { logger });
  const auditEvents = async () => (await c.audit.query({ limit: 100, to: '2026-11-24T23:59:59Z' })).items;

  beforeEach(async () => {
    c = testContainer();
    await saveDataset(c);
    registerPartners(c, [
      { partnerId: PARTNER_A, institution: 'demo-hospital-2' },
      { partnerId: PARTNER_B, institution: 'demo-hospital-3' },
    ]);
  });

  it('R-INT-1: the catalogue answers a partner with catalog.read and refuses one without it', async () => {
    const list = await catalog()(partnerEvent('GET', '/v1/datasets', PARTNER_A, ['catalog.read']), ctx);
    expect(list.statusCode).toBe(200);
    expect(JSON.parse(list.body).items.map((d: { datasetId: string }) => d.datasetId)).toEqual(['bc-nrt-io']);
    const one = await catalog()(partnerEvent('GET', '/v1/datasets/{datasetId}', PARTNER_A, ['catalog.read'], { params: { datasetId: 'bc-nrt-io' } }), ctx);
    expect(JSON.parse(one.body)).toMatchObject({ datasetId: 'bc-nrt-io', patientCount: 60, securityLevel: 2 });
    const refused = await catalog()(partnerEvent('GET', '/v1/datasets', PARTNER_A, ['fhir.read']), ctx);
    expect(refused.statusCode).toBe(403);
    const events = await auditEvents();
    expect(events.find((e) => e.result.status === 403)).toMatchObject({ operation: 'listDatasets', actor: { kind: 'partner', id: PARTNER_A, apiKeyId: 'key_test' }, decision: { effect: 'deny' } });
    expect(events.find((e) => e.result.status === 200 && e.operation === 'listDatasets')).toMatchObject({ decision: { effect: 'allow', policyIds: ['partners-read-catalog-with-scope'] } });
  });

  it('R-INT-1: submit → 201 with the named researcher; the audit event names ids, not the researcher', async () => {
    const res = await api()(partnerEvent('POST', '/v1/partner/access-requests', PARTNER_A, RW, { body: partnerInput() }), ctx);
    expect(res.statusCode).toBe(201);
    const body = JSON.parse(res.body);
    expect(body).toMatchObject({ applicantId: PARTNER_A, partnerId: PARTNER_A, onBehalfOf: { name: 'Dr. Li Wei', reference: 'HIS-4711' }, institution: 'demo-hospital-2' });
    expect(JSON.stringify(body)).not.toContain('taskToken');
    const [e] = await auditEvents();
    expect(e).toMatchObject({ operation: 'submitPartnerAccessRequest', actor: { kind: 'partner', id: PARTNER_A }, resources: [{ type: 'AccessRequest', id: body.requestId }, { type: 'Dataset', id: 'bc-nrt-io' }], decision: { effect: 'allow', policyIds: ['partners-submit-requests-with-scope'] } });
    expect(JSON.stringify(e)).not.toMatch(/li\.wei|Li Wei/);
  });

  it('R-INT-1: bad input and wrong callers get clear 4xx codes', async () => {
    const noResearcher = partnerInput() as Partial<ReturnType<typeof partnerInput>>;
    delete noResearcher.onBehalfOf;
    const bad = await api()(partnerEvent('POST', '/v1/partner/access-requests', PARTNER_A, RW, { body: noResearcher }), ctx);
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body).error).toMatchObject({ code: 'VALIDATION_FAILED', details: { in: 'body', issues: [expect.objectContaining({ path: 'onBehalfOf' })] } });
    const noScope = await api()(partnerEvent('POST', '/v1/partner/access-requests', PARTNER_A, ['access-requests.read'], { body: partnerInput() }), ctx);
    expect(noScope.statusCode).toBe(403);
    const user = await api()(userEvent('GET', '/v1/partner/access-requests', ['researcher']), ctx);
    expect(JSON.parse(user.body).error.code).toBe('FORBIDDEN');
  });

  it("R-INT-1: a partner reading another partner's request gets 404, its own 200, and the list holds only its own", async () => {
    const a = JSON.parse((await api()(partnerEvent('POST', '/v1/partner/access-requests', PARTNER_A, RW, { body: partnerInput() }), ctx)).body);
    const b = JSON.parse((await api()(partnerEvent('POST', '/v1/partner/access-requests', PARTNER_B, RW, { body: partnerInput() }), ctx)).body);
    const get = (pid: string, requestId: string) => api()(partnerEvent('GET', '/v1/partner/access-requests/{requestId}', pid, RW, { params: { requestId } }), ctx);
    expect((await get(PARTNER_A, a.requestId)).statusCode).toBe(200);
    const foreign = await get(PARTNER_A, b.requestId);
    expect(foreign.statusCode).toBe(404);
    expect(JSON.parse(foreign.body).error.code).toBe('NOT_FOUND');
    const list = JSON.parse((await api()(partnerEvent('GET', '/v1/partner/access-requests', PARTNER_A, RW), ctx)).body);
    expect(list.items.map((r: { requestId: string }) => r.requestId)).toEqual([a.requestId]);
  });

  it('R-INT-1: permission sync over HTTP needs grants.read and returns a sync timestamp', async () => {
    const ok = await api()(partnerEvent('GET', '/v1/partner/grants', PARTNER_A, ['grants.read'], { query: { status: 'active' } }), ctx);
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ items: [], syncedAt: '2026-11-24T08:00:00.000Z' });
    expect((await api()(partnerEvent('GET', '/v1/partner/grants', PARTNER_A, ['access-requests.read']), ctx)).statusCode).toBe(403);
    expect((await api()(partnerEvent('GET', '/v1/partner/grants', PARTNER_A, ['grants.read'], { query: { status: 'bogus' } }), ctx)).statusCode).toBe(400);
  });
});
