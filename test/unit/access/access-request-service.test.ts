import { beforeEach, describe, expect, it } from 'vitest';
import { CURRENT_AGREEMENT_VERSION, type SubmitAccessRequestInput } from '../../../functions/core/access/access-request-service';
import { isGrantUsable } from '../../../functions/core/access/grant';
import type { Actor, Role } from '../../../functions/core/identity/actor';
import { testContainer } from '../../support/test-container';

const person = (id: string, ...roles: Role[]): Actor => ({ kind: 'user', id, displayName: id, roles, institution: 'demo-hospital-1', mfa: true, scopes: [] });
const researcher = person('alice', 'researcher');
const ethics = person('erin', 'ethics-reviewer');
const approver = person('adam', 'approver');
const owner = person('olga', 'data-owner');

const input = (over: Partial<SubmitAccessRequestInput> = {}): SubmitAccessRequestInput => ({
  title: 'Immunotherapy response in TNBC',
  purposeCode: 'DUO:0000007',
  purpose: 'Study pathological complete response after neoadjuvant radiotherapy plus immunotherapy',
  academicStatement: 'We will analyse de-identified clinical and imaging data to model pCR predictors; results published in aggregate only.',
  scope: { datasetIds: ['bc-nrt-io'], modalities: ['clinical'], fields: [] },
  requestedDurationDays: 60,
  agreementVersion: CURRENT_AGREEMENT_VERSION,
  agreementAccepted: true,
  ...over,
});

describe('access requests (service level, workflow driven by hand)', () => {
  let c: ReturnType<typeof testContainer>;
  const open = async (requestId: string, step: 'ethics' | 'approver' | 'data-owner', stepIndex: number, token: string) =>
    c.accessRequests.runWorkflowTask({ task: 'openReviewStep', requestId, step, stepIndex, taskToken: token });

  beforeEach(async () => {
    c = testContainer();
    await c.catalog.saveDataset({ datasetId: 'bc-nrt-io', title: 't', description: 'd', disease: 'C50', institution: 'demo-hospital-1', securityLevel: 3, modalities: ['clinical', 'imaging'], patientCount: 60, recordCount: 10, fileCount: 1, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' });
  });

  it('R-GOV-2: submit gives a unique request number, routes L3 to approver then data owner, and starts the workflow', async () => {
    const a = await c.accessRequests.submit(researcher, input());
    const b = await c.accessRequests.submit(researcher, input());
    expect(a.requestId).toMatch(/^AR-2026-\d{6}$/);
    expect(b.requestId).not.toBe(a.requestId);
    expect(a).toMatchObject({ status: 'ethics-review', securityLevel: 3, approvalChain: ['approver', 'data-owner'] });
    expect(c.workflow.started[0]).toMatchObject({ machine: 'access-request', name: a.requestId, input: { requestId: a.requestId, approvalChain: ['approver', 'data-owner'] } });
  });

  it('R-GOV-2: refuses missing agreement, unknown datasets, modalities the data lacks, and durations beyond policy', async () => {
    await expect(c.accessRequests.submit(researcher, input({ agreementAccepted: false }))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(c.accessRequests.submit(researcher, input({ scope: { datasetIds: ['no-such-data'], modalities: [], fields: [] } }))).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { datasetId: 'no-such-data' } });
    await expect(c.accessRequests.submit(researcher, input({ scope: { datasetIds: ['bc-nrt-io'], modalities: ['nursing'], fields: [] } }))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(c.accessRequests.submit(researcher, input({ requestedDurationDays: 9999 }))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(c.workflow.started).toHaveLength(0);
  });

  it('R-GOV-3/R-GOV-4: ethics first, then sequential approvers; each decision sends the stored task token once', async () => {
    const r = await c.accessRequests.submit(researcher, input());
    await open(r.requestId, 'ethics', -1, 'tok-ethics');
    expect((await c.accessRequests.list(ethics, 'queue')).map((x) => x.requestId)).toEqual([r.requestId]);
    expect(await c.accessRequests.list(approver, 'queue')).toEqual([]);
    await expect(c.accessRequests.decide(approver, r.requestId, { step: 'ethics', outcome: 'approved' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await c.accessRequests.decide(ethics, r.requestId, { step: 'ethics', outcome: 'approved' });
    expect(c.workflow.sent).toEqual([{ token: 'tok-ethics', output: { outcome: 'approved', decidedBy: 'erin', comment: '' } }]);
    await expect(c.accessRequests.decide(ethics, r.requestId, { step: 'ethics', outcome: 'rejected', comment: 'changed my mind' })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await c.accessRequests.list(ethics, 'queue')).toEqual([]);

    await open(r.requestId, 'approver', 0, 'tok-a');
    await c.accessRequests.decide(approver, r.requestId, { step: 'approver', outcome: 'approved' });
    await open(r.requestId, 'data-owner', 1, 'tok-o');
    await c.accessRequests.decide(owner, r.requestId, { step: 'data-owner', outcome: 'approved' });
    expect(c.workflow.sent.map((s) => s.token)).toEqual(['tok-ethics', 'tok-a', 'tok-o']);

    const { grantId } = await c.accessRequests.runWorkflowTask({ task: 'issueGrant', requestId: r.requestId });
    const grant = await c.grants.get(grantId as string);
    expect(grant).toMatchObject({ holderId: 'alice', dataLevel: 3, status: 'active', agreementVersion: CURRENT_AGREEMENT_VERSION, scope: { datasetIds: ['bc-nrt-io'] } });
    expect(grant.approvals.map((a) => a.step)).toEqual(['ethics', 'approver', 'data-owner']);
    const final = await c.accessRequests.get(researcher, r.requestId);
    expect(final).toMatchObject({ status: 'approved', grantId });
  });

  it('R-GOV-3: rejection needs a reason, ends the flow, and the applicant is told why', async () => {
    const r = await c.accessRequests.submit(researcher, input());
    await open(r.requestId, 'ethics', -1, 't1');
    await expect(c.accessRequests.decide(ethics, r.requestId, { step: 'ethics', outcome: 'rejected' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'comment' } });
    await c.accessRequests.decide(ethics, r.requestId, { step: 'ethics', outcome: 'rejected', comment: 'Consent does not cover this purpose' });
    await c.accessRequests.runWorkflowTask({ task: 'closeRequest', requestId: r.requestId, outcome: 'rejected' });
    expect((await c.accessRequests.get(researcher, r.requestId)).status).toBe('rejected');
    const inbox = await c.notifier.list(['alice']);
    expect(inbox[0]).toMatchObject({ subject: `Request ${r.requestId} rejected`, body: 'Reason: Consent does not cover this purpose' });
  });

  it('R-GOV-8: changes requested → the applicant amends → re-review', async () => {
    const r = await c.accessRequests.submit(researcher, input());
    await open(r.requestId, 'ethics', -1, 't1');
    await c.accessRequests.decide(ethics, r.requestId, { step: 'ethics', outcome: 'changes-requested', comment: 'Narrow the fields' });
    await c.accessRequests.runWorkflowTask({ task: 'awaitApplicant', requestId: r.requestId, step: 'ethics', stepIndex: -1, taskToken: 't2' });
    expect((await c.accessRequests.get(researcher, r.requestId)).status).toBe('changes-requested');
    await expect(c.accessRequests.respond(person('mallory', 'researcher'), r.requestId, { comment: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await c.accessRequests.respond(researcher, r.requestId, { comment: 'Narrowed', amendments: { scope: { datasetIds: ['bc-nrt-io'], modalities: ['clinical'], fields: ['age', 'stage'] } } });
    expect(c.workflow.sent.at(-1)).toEqual({ token: 't2', output: { outcome: 'answered', decidedBy: 'alice', comment: 'Narrowed' } });
    const after = await c.accessRequests.get(researcher, r.requestId);
    expect(after.scope.fields).toEqual(['age', 'stage']);
    expect(after.history.map((h) => h.action)).toEqual(['submitted', 'changes-requested', 'amended']);
  });

  it('R-GOV-3: an applicant who is also a reviewer cannot decide their own request', async () => {
    const dual = person('dora', 'researcher', 'ethics-reviewer');
    const r = await c.accessRequests.submit(dual, input());
    await open(r.requestId, 'ethics', -1, 't1');
    expect(await c.accessRequests.list(dual, 'queue')).toEqual([]);
    await expect(c.accessRequests.decide(dual, r.requestId, { step: 'ethics', outcome: 'approved' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(c.workflow.sent).toHaveLength(0);
  });

  it('R-GOV-2: others cannot see a request (404, not 403)', async () => {
    const r = await c.accessRequests.submit(researcher, input());
    await expect(c.accessRequests.get(person('bob', 'researcher'), r.requestId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('R-GOV-5: grants expire at decision time even if the scheduler is late, remind before expiry, and can be revoked', async () => {
    const r = await c.accessRequests.submit(researcher, input({ requestedDurationDays: 30 }));
    const { grantId } = await c.accessRequests.runWorkflowTask({ task: 'issueGrant', requestId: r.requestId });
    const grant = await c.grants.get(grantId as string);
    expect(Date.parse(grant.expiresAt) - Date.parse(grant.startsAt)).toBe(30 * 86_400_000);
    expect([...c.scheduler.jobs.keys()].sort()).toEqual([`grant-expiry-${grantId}`, `grant-reminder-14d-${grantId}`, `grant-reminder-3d-${grantId}`].sort());
    expect(await c.grants.usableGrants('alice')).toHaveLength(1);
    c.clock.advance(30 * 86_400_000 + 1);
    expect(isGrantUsable(grant, c.clock.now())).toBe(false);
    expect(await c.grants.usableGrants('alice')).toHaveLength(0);
    expect((await c.grants.listForHolder('alice'))[0]!.status).toBe('expired');
    await c.grants.expire(grantId as string);
    expect((await c.grants.get(grantId as string)).status).toBe('expired');
    await expect(c.grants.revoke(person('sam', 'security-admin'), grantId as string, 'breach suspected')).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('R-GOV-5: issuing twice returns the same grant (idempotent task)', async () => {
    const r = await c.accessRequests.submit(researcher, input());
    const a = await c.accessRequests.runWorkflowTask({ task: 'issueGrant', requestId: r.requestId });
    const b = await c.accessRequests.runWorkflowTask({ task: 'issueGrant', requestId: r.requestId });
    expect(b.grantId).toBe(a.grantId);
    expect(await c.grants.listAll()).toHaveLength(1);
  });

  it('R-GOV-5: early revocation by an admin cancels the expiry schedule and notifies the holder', async () => {
    const r = await c.accessRequests.submit(researcher, input());
    const { grantId } = await c.accessRequests.runWorkflowTask({ task: 'issueGrant', requestId: r.requestId });
    await c.grants.revoke(person('sam', 'security-admin'), grantId as string, 'project ended early');
    expect(c.scheduler.jobs.has(`grant-expiry-${grantId}`)).toBe(false);
    expect(await c.grants.usableGrants('alice')).toHaveLength(0);
    expect((await c.notifier.list(['alice']))[0]!.subject).toBe('Access revoked');
  });
});
