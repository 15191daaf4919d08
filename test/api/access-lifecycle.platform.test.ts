import { beforeAll, describe, expect, inject, it } from 'vitest';
import { generateDemoCohort } from '../../infra/local/demo/generate-demo-cohort';
import { apiAs, eventually, idTokenFor } from '../support/api-client';

const platform = inject('platform');

const request = {
  title: 'pCR predictors after neoadjuvant RT + immunotherapy',
  purposeCode: 'DUO:0000007',
  purpose: 'Identify clinical and imaging predictors of pathological complete response in TNBC',
  academicStatement: 'Retrospective analysis of de-identified cohort data; models trained in the platform; only aggregate results leave it.',
  scope: { datasetIds: ['bc-nrt-io'], modalities: ['clinical', 'imaging'], fields: [] },
  requestedDurationDays: 60,
  agreementVersion: 'DSA-2026.1',
  agreementAccepted: true,
};

describe('access governance end to end on the local runtime (the ASL runs in the local runner)', () => {
  const api: Record<string, ReturnType<typeof apiAs>> = {};
  beforeAll(async () => {
    for (const u of ['researcher', 'ethics-reviewer', 'approver', 'data-owner', 'security-admin', 'auditor']) api[u] = apiAs(platform, await idTokenFor(platform, u));
  });

  const waitForStep = (user: string, requestId: string) =>
    eventually(async () => {
      const q = await api[user]!.get('/v1/access-requests?view=queue');
      return q.json.items.find((r: { requestId: string }) => r.requestId === requestId);
    });

  it('R-GOV-2..5: submit → ethics → approver → data owner → grant issued; double and wrong-role decisions refused', async () => {
    const submitted = await api.researcher!.post('/v1/access-requests', request);
    expect(submitted.status).toBe(201);
    const id = submitted.json.requestId as string;
    expect(submitted.json).toMatchObject({ status: 'ethics-review', securityLevel: 3, approvalChain: ['approver', 'data-owner'], applicantName: '王敏 Wang Min' });
    expect(JSON.stringify(submitted.json)).not.toContain('taskToken');

    const inQueue = await waitForStep('ethics-reviewer', id);
    expect(inQueue.pending).toMatchObject({ kind: 'review', step: 'ethics' });
    // The approver cannot take the ethics step.
    const wrong = await api.approver!.post(`/v1/access-requests/${id}/decisions`, { step: 'ethics', outcome: 'approved' });
    expect(wrong.status).toBe(403);
    expect((await api['ethics-reviewer']!.post(`/v1/access-requests/${id}/decisions`, { step: 'ethics', outcome: 'approved', comment: 'Purpose and scope proportionate' })).status).toBe(200);
    const again = await api['ethics-reviewer']!.post(`/v1/access-requests/${id}/decisions`, { step: 'ethics', outcome: 'rejected', comment: 'second thoughts' });
    expect(again.status).toBe(409);

    await waitForStep('approver', id);
    expect((await api.approver!.post(`/v1/access-requests/${id}/decisions`, { step: 'approver', outcome: 'approved' })).status).toBe(200);
    await waitForStep('data-owner', id);
    expect((await api['data-owner']!.post(`/v1/access-requests/${id}/decisions`, { step: 'data-owner', outcome: 'approved' })).status).toBe(200);

    const done = await eventually(async () => {
      const r = await api.researcher!.get(`/v1/access-requests/${id}`);
      return r.json.status === 'approved' ? r.json : undefined;
    });
    expect(done.history.map((h: { action: string }) => h.action)).toEqual(['submitted', 'approved', 'approved', 'approved', 'grant-issued']);
    expect(done.history[1].actorName).toBe('孙丽 Sun Li');
    const grants = (await api.researcher!.get('/v1/grants')).json.items;
    const grant = grants.find((g: { grantId: string }) => g.grantId === done.grantId);
    expect(grant).toMatchObject({ status: 'active', dataLevel: 3, scope: { datasetIds: ['bc-nrt-io'], modalities: ['clinical', 'imaging'] } });
    expect(Date.parse(grant.expiresAt) - Date.parse(grant.startsAt)).toBe(60 * 86_400_000);

    // R-DEID-1/R-ANA-1: the researcher searches and reads the release, de-identified; nobody else can.
    const release = (await api.researcher!.get(`/v1/grants/${grant.grantId}/release`)).json;
    expect(release).toMatchObject({ policyId: 'l3-project', included: expect.any(Number) });
    const found = (await api.researcher!.get(`/v1/grants/${grant.grantId}/patients?q=C50`)).json;
    expect(found.total).toBeGreaterThan(0);
    const view = await api.researcher!.get(`/v1/grants/${grant.grantId}/patients/${found.items[0].token}`);
    expect(view.status).toBe(200);
    expect(view.json.records.length).toBeGreaterThan(0);
    const cohort = generateDemoCohort({ patients: 24 });
    for (const p of cohort.patients) for (const secret of [p.identity.fullName, p.identity.residentId, p.identity.mobilePhone, p.identity.mrn]) expect(view.text).not.toContain(secret);
    expect((await api.approver!.get(`/v1/grants/${grant.grantId}/patients`)).status).toBe(403);

    // R-GOV-6: the permission audit lists it; R-GOV-5: early revocation by the security admin.
    const all = (await api.auditor!.get('/v1/grants?view=all')).json.items;
    expect(all.some((g: { grantId: string }) => g.grantId === grant.grantId)).toBe(true);
    expect((await api.researcher!.get('/v1/grants?view=all')).status).toBe(403);
    expect((await api.researcher!.post(`/v1/grants/${grant.grantId}/revocation`, { reason: 'I want out' })).status).toBe(403);
    const revoked = await api['security-admin']!.post(`/v1/grants/${grant.grantId}/revocation`, { reason: 'Protocol deviation reported' });
    expect(revoked.json).toMatchObject({ status: 'revoked', revokeReason: 'Protocol deviation reported' });
    expect((await api['security-admin']!.post(`/v1/grants/${grant.grantId}/revocation`, { reason: 'again please' })).status).toBe(409);
    // Revoked: the release is closed at once.
    expect((await api.researcher!.get(`/v1/grants/${grant.grantId}/patients`)).status).toBe(403);
  });

  it('R-GOV-3: an ethics rejection ends the flow and the applicant sees the reason', async () => {
    const id = (await api.researcher!.post('/v1/access-requests', { ...request, title: 'Second request for rejection' })).json.requestId as string;
    await waitForStep('ethics-reviewer', id);
    const noReason = await api['ethics-reviewer']!.post(`/v1/access-requests/${id}/decisions`, { step: 'ethics', outcome: 'rejected' });
    expect(noReason.json.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'comment' } });
    await api['ethics-reviewer']!.post(`/v1/access-requests/${id}/decisions`, { step: 'ethics', outcome: 'rejected', comment: 'Consent of the cohort does not cover this use' });
    const r = await eventually(async () => {
      const x = (await api.researcher!.get(`/v1/access-requests/${id}`)).json;
      return x.status === 'rejected' ? x : undefined;
    });
    expect(r.history.find((h: { action: string }) => h.action === 'rejected').comment).toBe('Consent of the cohort does not cover this use');
    expect((await api.approver!.post(`/v1/access-requests/${id}/decisions`, { step: 'approver', outcome: 'approved' })).status).toBe(409);
  });

  it('R-GOV-2: bad requests are refused and nothing is created', async () => {
    const before = (await api.researcher!.get('/v1/access-requests')).json.items.length;
    expect((await api.researcher!.post('/v1/access-requests', { ...request, purpose: '' })).status).toBe(400);
    expect((await api.researcher!.post('/v1/access-requests', { ...request, requestedDurationDays: 4000 })).status).toBe(400);
    expect((await api.researcher!.post('/v1/access-requests', { ...request, scope: { ...request.scope, datasetIds: ['ghost-data'] } })).json.error.details.datasetId).toBe('ghost-data');
    expect((await api.researcher!.post('/v1/access-requests', { ...request, agreementAccepted: false })).status).toBe(400);
    expect((await api.approver!.post('/v1/access-requests', request)).status).toBe(403);
    expect((await api.researcher!.get('/v1/access-requests')).json.items.length).toBe(before);
  });
});
