import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { apiAs, eventually, idTokenFor } from '../support/api-client';

const platform = inject('platform');
const DAY = 86_400_000;

const request = {
  title: 'Continuing review of radiotherapy response models',
  purposeCode: 'DUO:0000007',
  purpose: 'Validate imaging predictors of response to neoadjuvant radiotherapy plus immunotherapy',
  academicStatement: 'Retrospective analysis of de-identified cohort data inside the platform; only aggregate statistics are exported and published.',
  scope: { datasetIds: ['bc-nrt-io'], modalities: ['clinical'], fields: [] },
  requestedDurationDays: 30,
  agreementVersion: 'DSA-2026.1',
  agreementAccepted: true,
};

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

describe('governance on the local runtime: documents, renewal through the workflow, runtime policy change', () => {
  const api: Record<string, ReturnType<typeof apiAs>> = {};
  beforeAll(async () => {
    for (const u of ['researcher', 'ethics-reviewer', 'approver', 'data-owner', 'security-admin', 'auditor', 'data-provider', 'reviewer']) api[u] = apiAs(platform, await idTokenFor(platform, u));
  });

  const waitForStep = (user: string, requestId: string) =>
    eventually(async () => {
      const q = await api[user]!.get('/v1/access-requests?view=queue');
      return q.json.items.find((r: { requestId: string }) => r.requestId === requestId);
    });
  const approveAll = async (id: string) => {
    await waitForStep('ethics-reviewer', id);
    expect((await api['ethics-reviewer']!.post(`/v1/access-requests/${id}/decisions`, { step: 'ethics', outcome: 'approved' })).status).toBe(200);
    await waitForStep('approver', id);
    expect((await api.approver!.post(`/v1/access-requests/${id}/decisions`, { step: 'approver', outcome: 'approved' })).status).toBe(200);
    await waitForStep('data-owner', id);
    expect((await api['data-owner']!.post(`/v1/access-requests/${id}/decisions`, { step: 'data-owner', outcome: 'approved' })).status).toBe(200);
    return eventually(async () => {
      const r = (await api.researcher!.get(`/v1/access-requests/${id}`)).json;
      return r.status === 'approved' ? r : undefined;
    });
  };

  it('R-GOV-9: versioned request documents, stored encrypted, viewable inline by the applicant, the request\'s own reviewers and auditors only', async () => {
    const id = (await api.researcher!.post('/v1/access-requests', { ...request, title: 'Request with documents attached' })).json.requestId as string;
    const protocol = '%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n';
    const up = (body: object) => api.researcher!.post(`/v1/access-requests/${id}/documents`, body);
    const v1 = await up({ kind: 'protocol', fileName: 'protocol.pdf', contentType: 'application/pdf', sha256: sha(protocol), contentBase64: Buffer.from(protocol).toString('base64') });
    expect(v1.status).toBe(201);
    const protocol2 = '%PDF-1.4\n% amended: adds external validation\n%%EOF\n';
    expect((await up({ kind: 'protocol', fileName: 'protocol-v2.pdf', contentType: 'application/pdf', sha256: sha(protocol2), contentBase64: Buffer.from(protocol2).toString('base64') })).json).toMatchObject({ version: 2 });
    const approval = '伦理委员会批件 EC-2026-118：同意开展本研究。\n';
    expect((await up({ kind: 'ethics-approval', fileName: '伦理批件.txt', contentType: 'text/plain', sha256: sha(approval), contentBase64: Buffer.from(approval).toString('base64') })).status).toBe(201);
    expect((await up({ kind: 'other', fileName: 'x.pdf', contentType: 'application/pdf', sha256: sha('MZ\x90\x00'), contentBase64: Buffer.from('MZ\x90\x00').toString('base64') })).status).toBe(415);

    const list = await api['ethics-reviewer']!.get(`/v1/access-requests/${id}/documents`);
    expect(list.json.items.map((d: { documentId: string }) => d.documentId)).toEqual([`${id}-protocol-v2`, `${id}-protocol-v1`, `${id}-ethics-approval-v1`]);
    const view = await api['data-owner']!.get(`/v1/access-requests/${id}/documents/${id}-ethics-approval-v1`);
    expect(view.status).toBe(200);
    expect(view.text).toBe(approval);
    expect(view.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(view.headers.get('cache-control')).toBe('no-store');
    expect(view.headers.get('content-disposition')).toBe(`inline; filename="document"; filename*=UTF-8''${encodeURIComponent('伦理批件.txt')}`);
    const pdf = await api.researcher!.get(`/v1/access-requests/${id}/documents/${id}-protocol-v1`);
    expect([pdf.status, pdf.headers.get('content-type'), pdf.text]).toEqual([200, 'application/pdf', protocol]);
    expect((await api['data-provider']!.get(`/v1/access-requests/${id}/documents/${id}-protocol-v1`)).status).toBe(404);
    expect((await api['data-provider']!.get(`/v1/access-requests/${id}/documents`)).status).toBe(404);
    // Only reviewers of this request's steps (L3: ethics → approver → data owner) and auditors read;
    // the security admin has no step on an L3 request, the generic reviewer role none at all.
    expect((await api.approver!.get(`/v1/access-requests/${id}/documents/${id}-protocol-v1`)).status).toBe(200);
    expect((await api.auditor!.get(`/v1/access-requests/${id}/documents`)).status).toBe(200);
    for (const other of ['security-admin', 'reviewer']) {
      expect((await api[other]!.get(`/v1/access-requests/${id}/documents/${id}-protocol-v1`)).status, other).toBe(404);
      expect((await api[other]!.get(`/v1/access-requests/${id}/documents`)).status, other).toBe(404);
    }
    // The request lists its documents; every view is in the audit trail.
    expect((await api.researcher!.get(`/v1/access-requests/${id}`)).json.attachments).toHaveLength(3);
    const events = await eventually(async () => {
      const r = await api.auditor!.get(`/v1/audit/events?resourceType=RequestDocument&resourceId=${encodeURIComponent(`${id}-protocol-v1`)}`);
      return r.status === 200 && r.json.items.length >= 3 ? r.json.items : undefined;
    });
    expect(events.map((e: { operation: string }) => e.operation).sort()).toEqual(['getRequestDocumentContent', 'getRequestDocumentContent', 'getRequestDocumentContent', 'getRequestDocumentContent', 'getRequestDocumentContent', 'uploadRequestDocument']);
  });

  it('R-GOV-5: a renewal goes through ethics and the approval chain and extends the grant; a rejected renewal changes nothing', async () => {
    const first = (await api.researcher!.post('/v1/access-requests', request)).json.requestId as string;
    const approved = await approveAll(first);
    const grantId = approved.grantId as string;
    const grant = (await api.researcher!.get('/v1/grants')).json.items.find((g: { grantId: string }) => g.grantId === grantId);
    const wanted = new Date(Date.parse(grant.expiresAt) + 45 * DAY).toISOString();

    expect((await api.approver!.post(`/v1/grants/${grantId}/renewals`, { expiresAt: wanted, justification: 'x'.repeat(60), agreementVersion: 'DSA-2026.1', agreementAccepted: true })).status).toBe(403);
    const renewal = await api.researcher!.post(`/v1/grants/${grantId}/renewals`, { expiresAt: wanted, justification: 'The external validation cohort arrived late; 45 more days are needed to finish the analysis.', agreementVersion: 'DSA-2026.1', agreementAccepted: true });
    expect(renewal.status).toBe(201);
    expect(renewal.json).toMatchObject({ renewsGrantId: grantId, requestedDurationDays: 45, status: 'ethics-review', approvalChain: ['approver', 'data-owner'] });
    const done = await approveAll(renewal.json.requestId);
    expect(done).toMatchObject({ status: 'approved', grantId, renewsGrantId: grantId });
    expect(done.history.map((h: { action: string }) => h.action)).toEqual(['submitted-renewal', 'approved', 'approved', 'approved', 'grant-issued']);
    const extended = (await api.researcher!.get('/v1/grants')).json.items.find((g: { grantId: string }) => g.grantId === grantId);
    expect(extended.expiresAt).toBe(wanted);
    expect(extended.renewals).toEqual([expect.objectContaining({ requestId: renewal.json.requestId, previousExpiresAt: grant.expiresAt, expiresAt: wanted })]);
    // Still one grant, still usable.
    expect((await api.researcher!.get(`/v1/grants/${grantId}/release`)).status).toBe(200);

    const second = await api.researcher!.post(`/v1/grants/${grantId}/renewals`, { expiresAt: new Date(Date.parse(wanted) + 30 * DAY).toISOString(), justification: 'Another month for the reviewers\u2019 requested sensitivity analyses, see attached progress report.', agreementVersion: 'DSA-2026.1', agreementAccepted: true });
    expect(second.status).toBe(201);
    await waitForStep('ethics-reviewer', second.json.requestId);
    await api['ethics-reviewer']!.post(`/v1/access-requests/${second.json.requestId}/decisions`, { step: 'ethics', outcome: 'rejected', comment: 'No progress report was attached.' });
    await eventually(async () => ((await api.researcher!.get(`/v1/access-requests/${second.json.requestId}`)).json.status === 'rejected' ? true : undefined));
    const after = (await api.researcher!.get('/v1/grants')).json.items.find((g: { grantId: string }) => g.grantId === grantId);
    expect(after.expiresAt).toBe(wanted);
    expect(after.renewals).toHaveLength(1);
  });

  it('R-GOV-7: a security admin changes a policy at run time, the decision changes, rollback restores it; invalid policies are refused', async () => {
    const admin = api['security-admin']!;
    expect((await api.reviewer!.get('/v1/datasets')).status).toBe(200);
    const set = (await admin.get('/v1/policies')).json;
    const platformFile = set.files.find((f: { file: string }) => f.file === 'platform.cedar');
    const maintenance = `${platformFile.text}\n// Temporary: reviewers are kept out of the catalogue during the data audit.\n@id("maintenance-reviewers-no-catalog")\nforbid (principal in MDRP::Role::"reviewer", action == MDRP::Action::"ReadCatalog", resource);\n`;
    const bad = await admin.post('/v1/policies/versions', { file: 'platform.cedar', text: maintenance.replace('"ReadCatalog", resource);\n', '"ReadCatalogs", resource);\n'), reason: 'typo in the action name' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.messages.join(' ')).toMatch(/ReadCatalogs/);
    expect((await api.approver!.post('/v1/policies/versions', { file: 'platform.cedar', text: maintenance, reason: 'not my job' })).status).toBe(403);

    const changed = await admin.post('/v1/policies/versions', { file: 'platform.cedar', text: maintenance, reason: 'data audit in progress', baseVersion: set.version.number });
    expect(changed.status).toBe(201);
    try {
      const denied = await api.reviewer!.get('/v1/datasets');
      expect(denied.status).toBe(403);
      expect((await api.researcher!.get('/v1/datasets')).status).toBe(200);
    } finally {
      const rb = await admin.post('/v1/policies/rollbacks', { toVersion: set.version.number, reason: 'data audit finished' });
      expect(rb.status).toBe(201);
    }
    expect((await api.reviewer!.get('/v1/datasets')).status).toBe(200);
    const versions = (await api.auditor!.get('/v1/policies/versions')).json;
    expect(versions.items[0]).toMatchObject({ action: 'rollback', rolledBackTo: set.version.number, authorId: expect.any(String) });
    expect(versions.items[1]).toMatchObject({ action: 'change', changedFile: 'platform.cedar', reason: 'data audit in progress' });
  });
});
