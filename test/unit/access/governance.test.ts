import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { CURRENT_AGREEMENT_VERSION, type SubmitAccessRequestInput } from '../../../functions/core/access/access-request-service';
import { MAX_DOCUMENT_BYTES } from '../../../functions/core/access/request-documents';
import type { Actor, Role } from '../../../functions/core/identity/actor';
import { operations as accessOps } from '../../../functions/handlers/access.handler';
import { CedarAuthorizer } from '../../../functions/core/authz/cedar-authorizer';
import { ReloadingAuthorizer } from '../../../functions/core/authz/reloading-authorizer';
import { actorFromEvent } from '../../../functions/http/actor-from-event';
import { makeApiHandler } from '../../../functions/http/make-api-handler';
import { testContainer } from '../../support/test-container';
import { MemoryObjectStore } from '../audit/memory-object-store';

const DAY = 86_400_000;
const person = (id: string, roles: Role[], mfa = true): Actor => ({ kind: 'user', id, displayName: id, roles, institution: 'demo-hospital-1', mfa, scopes: [] });
const alice = person('alice', ['researcher']);
const bob = person('bob', ['researcher']);
const ethics = person('erin', ['ethics-reviewer']);
const approver = person('adam', ['approver']);
const owner = person('olga', ['data-owner']);
const secAdmin = person('sam', ['security-admin']);

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

const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
const lambdaCtx = { functionName: 'test', awsRequestId: 'req-1' } as unknown as Context;
const claims = (sub: string, groups: string[], extra: Record<string, unknown> = {}) => ({ sub, 'cognito:username': sub, 'cognito:groups': groups, 'custom:institution': 'demo-hospital-1', name: sub, token_use: 'id', ...extra });
function event(method: string, resource: string, opts: { claims?: Record<string, unknown>; params?: Record<string, string>; body?: unknown } = {}): APIGatewayProxyEvent {
  return {
    resource,
    path: resource,
    httpMethod: method,
    headers: opts.body !== undefined ? { 'content-type': 'application/json' } : {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: opts.params ?? null,
    body: opts.body !== undefined ? JSON.stringify(opts.body) : null,
    isBase64Encoded: false,
    requestContext: { requestId: 'r-123456789', identity: { sourceIp: '127.0.0.1', userAgent: 'vitest' }, authorizer: opts.claims ? { claims: opts.claims } : null },
  } as unknown as APIGatewayProxyEvent;
}

type C = ReturnType<typeof testContainer>;

async function setup(level: 1 | 2 | 3 | 4 | 5 = 3): Promise<C> {
  const c = testContainer({ objects: new MemoryObjectStore() });
  await c.catalog.saveDataset({ datasetId: 'bc-nrt-io', title: 't', description: 'd', disease: 'C50', institution: 'demo-hospital-1', securityLevel: level, modalities: ['clinical', 'imaging'], patientCount: 60, recordCount: 10, fileCount: 1, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' });
  return c;
}

/** Drives a request through ethics and its approval chain by hand (the ASL runs in test/workflow). */
async function approveAll(c: C, requestId: string): Promise<string> {
  let n = 0;
  const open = (step: 'ethics' | 'approver' | 'data-owner' | 'security-admin', i: number) => c.accessRequests.runWorkflowTask({ task: 'openReviewStep', requestId, step, stepIndex: i, taskToken: `tok-${requestId}-${n++}` });
  await open('ethics', -1);
  await c.accessRequests.decide(ethics, requestId, { step: 'ethics', outcome: 'approved' });
  const r = await c.accessRequests.get(alice, requestId).catch(() => c.accessRequests.getUnchecked(requestId));
  const who = { approver, 'data-owner': owner, 'security-admin': secAdmin } as const;
  for (const [i, step] of r.approvalChain.entries()) {
    await open(step, i);
    await c.accessRequests.decide(who[step as keyof typeof who], requestId, { step, outcome: 'approved' });
  }
  const { grantId } = await c.accessRequests.runWorkflowTask({ task: 'issueGrant', requestId });
  return grantId as string;
}

describe('R-GOV-5 grant renewal (continuing review)', () => {
  let c: C;
  beforeEach(async () => {
    c = await setup();
  });

  it('R-GOV-5: the holder asks for a renewal → a renewal request through ethics and approvals → the grant is extended with history and new schedules', async () => {
    const first = await c.accessRequests.submit(alice, input());
    const grantId = await approveAll(c, first.requestId);
    const before = await c.grants.get(grantId);
    expect(Date.parse(before.expiresAt) - Date.parse(before.startsAt)).toBe(60 * DAY);
    c.clock.advance(50 * DAY);
    await c.grants.remind(grantId, 14);
    expect((await c.grants.get(grantId)).remindersSent).toEqual([14]);

    const wanted = new Date(Date.parse(before.expiresAt) + 30 * DAY).toISOString();
    const renewal = await c.grantRenewals.request(alice, grantId, { expiresAt: wanted, justification: 'Model training is done; external validation on the remaining patients needs one more month of access.', agreementVersion: CURRENT_AGREEMENT_VERSION, agreementAccepted: true });
    expect(renewal).toMatchObject({ renewsGrantId: grantId, status: 'ethics-review', requestedDurationDays: 30, scope: before.scope, purposeCode: before.purposeCode, approvalChain: ['approver', 'data-owner'] });
    expect(renewal.history[0]!.action).toBe('submitted-renewal');
    expect(c.workflow.started.at(-1)).toMatchObject({ machine: 'access-request', name: renewal.requestId });
    // One renewal at a time per grant.
    await expect(c.grantRenewals.request(alice, grantId, { expiresAt: wanted, justification: 'x'.repeat(60), agreementVersion: CURRENT_AGREEMENT_VERSION, agreementAccepted: true })).rejects.toMatchObject({ code: 'CONFLICT' });

    const sameGrant = await approveAll(c, renewal.requestId);
    expect(sameGrant).toBe(grantId);
    const after = await c.grants.get(grantId);
    expect(after.expiresAt).toBe(wanted);
    expect(after.status).toBe('active');
    expect(after.remindersSent).toEqual([]);
    expect(after.renewals).toEqual([expect.objectContaining({ requestId: renewal.requestId, previousExpiresAt: before.expiresAt, expiresAt: wanted })]);
    expect(after.renewals![0]!.approvals.map((a) => a.step)).toEqual(['ethics', 'approver', 'data-owner']);
    // The schedules now point at the new end.
    expect(c.scheduler.jobs.get(`grant-expiry-${grantId}`)?.runAt).toBe(Date.parse(wanted));
    expect(c.scheduler.jobs.get(`grant-reminder-14d-${grantId}`)?.runAt).toBe(Date.parse(wanted) - 14 * DAY);
    expect((await c.accessRequests.getUnchecked(renewal.requestId))).toMatchObject({ status: 'approved', grantId });
    // The old end passes: the grant stays usable; the expiry job at the old end does nothing.
    c.clock.advance(20 * DAY);
    expect((await c.grants.expire(grantId)).status).toBe('active');
    expect((await c.grants.usableGrants('alice')).map((g) => g.grantId)).toEqual([grantId]);
  });

  it('R-GOV-5: the extension never exceeds what was approved (at most 90 days, never more than asked)', async () => {
    const first = await c.accessRequests.submit(alice, input());
    const grantId = await approveAll(c, first.requestId);
    const g = await c.grants.get(grantId);
    const renewal = await c.grantRenewals.request(alice, grantId, { expiresAt: new Date(Date.parse(g.expiresAt) + 200 * DAY).toISOString(), justification: 'A long follow-up study needs the data for the rest of the year, see the amended protocol.', agreementVersion: CURRENT_AGREEMENT_VERSION, agreementAccepted: true });
    await approveAll(c, renewal.requestId);
    expect(Date.parse((await c.grants.get(grantId)).expiresAt) - Date.parse(g.expiresAt)).toBe(90 * DAY);
  });

  it('R-GOV-5: a rejected renewal leaves the grant as it is', async () => {
    const first = await c.accessRequests.submit(alice, input());
    const grantId = await approveAll(c, first.requestId);
    const before = await c.grants.get(grantId);
    const renewal = await c.grantRenewals.request(alice, grantId, { expiresAt: new Date(Date.parse(before.expiresAt) + 30 * DAY).toISOString(), justification: 'We need thirty more days to finish the survival analysis and respond to reviewers.', agreementVersion: CURRENT_AGREEMENT_VERSION, agreementAccepted: true });
    await c.accessRequests.runWorkflowTask({ task: 'openReviewStep', requestId: renewal.requestId, step: 'ethics', stepIndex: -1, taskToken: 'tok-r' });
    await c.accessRequests.decide(ethics, renewal.requestId, { step: 'ethics', outcome: 'rejected', comment: 'No progress report attached.' });
    await c.accessRequests.runWorkflowTask({ task: 'closeRequest', requestId: renewal.requestId });
    expect(await c.grants.get(grantId)).toEqual(before);
    expect((await c.accessRequests.getUnchecked(renewal.requestId)).status).toBe('rejected');
  });

  it('R-GOV-5: only the holder renews; a revoked grant is not renewed; the scope cannot change through a renewal', async () => {
    const first = await c.accessRequests.submit(alice, input());
    const grantId = await approveAll(c, first.requestId);
    const g = await c.grants.get(grantId);
    const body = { expiresAt: new Date(Date.parse(g.expiresAt) + 10 * DAY).toISOString(), justification: 'Still needed for the validation cohort analysis described in the protocol.', agreementVersion: CURRENT_AGREEMENT_VERSION, agreementAccepted: true };
    await expect(c.grantRenewals.request(bob, grantId, body)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(c.grantRenewals.request(alice, grantId, { ...body, expiresAt: g.startsAt })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    // The plain submit route cannot be used to widen a grant under the renewal flag, nor by another user.
    await expect(c.accessRequests.submit(alice, input({ renewsGrantId: grantId, scope: { datasetIds: ['bc-nrt-io'], modalities: ['clinical', 'imaging'], fields: [] } }))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(c.accessRequests.submit(bob, input({ renewsGrantId: grantId }))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await c.grants.revoke(approver, grantId, 'protocol violation');
    await expect(c.grantRenewals.request(alice, grantId, body)).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});

describe('R-SEC-6 MFA for L4/L5 data and security-admin decisions', () => {
  it('R-SEC-6: reading data released under a level-4 grant needs an MFA session; the error says so', async () => {
    const c = await setup(4);
    const r = await c.accessRequests.submit(alice, input());
    expect(r.approvalChain).toEqual(['approver', 'data-owner', 'security-admin']);
    const grantId = await approveAll(c, r.requestId);
    await c.researchAccess.buildRelease(await c.grants.get(grantId));
    await expect(c.researchAccess.search(person('alice', ['researcher'], false), grantId, undefined, 10)).rejects.toMatchObject({ code: 'FORBIDDEN', details: { reason: 'MFA_REQUIRED', policyIds: ['mfa-required-for-sensitive-data'] } });
    await expect(c.researchAccess.search(alice, grantId, undefined, 10)).resolves.toMatchObject({ total: 0 });
  });

  it('R-SEC-3: level-3 data does not need MFA', async () => {
    const c = await setup(3);
    const r = await c.accessRequests.submit(alice, input());
    const grantId = await approveAll(c, r.requestId);
    await c.researchAccess.buildRelease(await c.grants.get(grantId));
    await expect(c.researchAccess.search(person('alice', ['researcher'], false), grantId, undefined, 10)).resolves.toMatchObject({ total: 0 });
  });

  it('R-SEC-6: the security admin decides the L4/L5 step only with MFA; other steps do not need it', async () => {
    const c = await setup(5);
    const r = await c.accessRequests.submit(alice, input());
    await c.accessRequests.runWorkflowTask({ task: 'openReviewStep', requestId: r.requestId, step: 'ethics', stepIndex: -1, taskToken: 't0' });
    await c.accessRequests.decide(person('erin', ['ethics-reviewer'], false), r.requestId, { step: 'ethics', outcome: 'approved' });
    await c.accessRequests.runWorkflowTask({ task: 'openReviewStep', requestId: r.requestId, step: 'security-admin', stepIndex: 2, taskToken: 't2' });
    await expect(c.accessRequests.decide(person('sam', ['security-admin'], false), r.requestId, { step: 'security-admin', outcome: 'approved' })).rejects.toMatchObject({ code: 'FORBIDDEN', details: { reason: 'MFA_REQUIRED' } });
    expect(c.workflow.sent.map((s) => s.token)).toEqual(['t0']);
    await c.accessRequests.decide(secAdmin, r.requestId, { step: 'security-admin', outcome: 'approved' });
    expect(c.workflow.sent.map((s) => s.token)).toEqual(['t0', 't2']);
  });

  it('R-SEC-6: the actor is MFA-authenticated only when the trigger-written mdrp:mfa claim says so', () => {
    expect(actorFromEvent(event('GET', '/v1/me', { claims: claims('sam', ['security-admin'], { 'mdrp:mfa': 'true' }) })).mfa).toBe(true);
    expect(actorFromEvent(event('GET', '/v1/me', { claims: claims('sam', ['security-admin'], { 'mdrp:mfa': 'false' }) })).mfa).toBe(false);
    expect(actorFromEvent(event('GET', '/v1/me', { claims: claims('sam', ['security-admin']) })).mfa).toBe(false);
    // Neither a user attribute nor an `amr` claim can stand in for the trigger's claim.
    expect(actorFromEvent(event('GET', '/v1/me', { claims: claims('sam', ['security-admin'], { 'custom:mfa': 'true', amr: ['pwd', 'mfa'] }) })).mfa).toBe(false);
  });
});

describe('R-GOV-9 request documents (versioned, encrypted, access-controlled, audited)', () => {
  let c: C;
  let api: ReturnType<typeof makeApiHandler>;
  let requestId: string;
  const pdf = new TextEncoder().encode('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  const upload = (who: Record<string, unknown>, body: Record<string, unknown>) => api(event('POST', '/v1/access-requests/{requestId}/documents', { claims: who, params: { requestId }, body }), lambdaCtx);
  const pdfBody = (bytes = pdf, kind = 'protocol', fileName = 'protocol v1.pdf') => ({ kind, fileName, contentType: 'application/pdf', sha256: sha(bytes), contentBase64: Buffer.from(bytes).toString('base64') });

  beforeEach(async () => {
    c = await setup();
    api = makeApiHandler('access', accessOps, async () => c, { logger });
    requestId = (await c.accessRequests.submit(alice, input())).requestId;
  });

  it('R-GOV-9: the applicant uploads; each upload of a kind is a new version; bytes are stored encrypted', async () => {
    const v1 = await upload(claims('alice', ['researcher']), pdfBody());
    expect(v1.statusCode).toBe(201);
    const pdf2 = new TextEncoder().encode('%PDF-1.4\n% amended protocol\n%%EOF\n');
    const v2 = await upload(claims('alice', ['researcher']), pdfBody(pdf2, 'protocol', 'protocol v2.pdf'));
    const text = new TextEncoder().encode('Ethics committee approval no. EC-2026-118, valid until 2027-06-30.\n');
    const e1 = await upload(claims('alice', ['researcher']), { kind: 'ethics-approval', fileName: 'approval.txt', contentType: 'text/plain', sha256: sha(text), contentBase64: Buffer.from(text).toString('base64') });
    expect([v2.statusCode, e1.statusCode]).toEqual([201, 201]);
    expect(JSON.parse(v2.body)).toMatchObject({ documentId: `${requestId}-protocol-v2`, version: 2, kind: 'protocol', sizeBytes: pdf2.byteLength, sha256: sha(pdf2) });
    expect(JSON.parse(v2.body)).not.toHaveProperty('objectKey');

    const list = await api(event('GET', '/v1/access-requests/{requestId}/documents', { claims: claims('alice', ['researcher']), params: { requestId } }), lambdaCtx);
    expect(JSON.parse(list.body).items.map((d: { documentId: string }) => d.documentId)).toEqual([`${requestId}-protocol-v2`, `${requestId}-protocol-v1`, `${requestId}-ethics-approval-v1`]);
    // Listed on the request too, and in its history.
    const r = await c.accessRequests.getUnchecked(requestId);
    expect(r.attachments.map((a) => [a.kind, a.version])).toEqual([['protocol', 1], ['protocol', 2], ['ethics-approval', 1]]);
    expect(r.history.filter((h) => h.action === 'document-attached')).toHaveLength(3);
    // At rest the object is ciphertext, not the PDF.
    const stored = await (c.objects as MemoryObjectStore).get('data', `request-documents/${requestId}/${requestId}-protocol-v1`);
    expect(Buffer.from(stored!.body).includes(Buffer.from('%PDF'))).toBe(false);
  });

  it('R-GOV-9: the applicant, reviewers and auditors view a version inline, uncached; other users get 404; every view is audited', async () => {
    await upload(claims('alice', ['researcher']), pdfBody());
    const get = (who: Record<string, unknown>) => api(event('GET', '/v1/access-requests/{requestId}/documents/{documentId}', { claims: who, params: { requestId, documentId: `${requestId}-protocol-v1` } }), lambdaCtx);
    for (const who of [claims('alice', ['researcher']), claims('erin', ['ethics-reviewer']), claims('olga', ['data-owner']), claims('audrey', ['auditor'])]) {
      const res = await get(who);
      expect(res.statusCode).toBe(200);
      expect(res.isBase64Encoded).toBe(true);
      expect(Buffer.from(res.body, 'base64')).toEqual(Buffer.from(pdf));
      expect(res.headers).toMatchObject({ 'content-type': 'application/pdf', 'cache-control': 'no-store' });
      expect(res.headers!['content-disposition']).toMatch(/^inline; .*filename\*=UTF-8''protocol%20v1\.pdf$/);
    }
    expect((await get(claims('bob', ['researcher']))).statusCode).toBe(404);
    expect((await get(claims('dm', ['data-manager']))).statusCode).toBe(404);
    const list = await api(event('GET', '/v1/access-requests/{requestId}/documents', { claims: claims('bob', ['researcher']), params: { requestId } }), lambdaCtx);
    expect(list.statusCode).toBe(404);
    const events = (await c.audit.query({ limit: 100, to: '2026-11-24T23:59:59Z' })).items.filter((e) => e.operation === 'getRequestDocumentContent');
    expect(events).toHaveLength(6);
    expect(events.filter((e) => e.result.status === 404)).toHaveLength(2);
    expect(events.every((e) => e.resources.some((r) => r.type === 'RequestDocument' && r.id === `${requestId}-protocol-v1`))).toBe(true);
  });

  it('R-GOV-9: only reviewers of the request\'s own steps (or who acted on one) read its documents; others get 404', async () => {
    // Prepare: an L2 request (ethics → approver only) with a document; the ethics step decided by erin.
    c = await setup(2);
    api = makeApiHandler('access', accessOps, async () => c, { logger });
    requestId = (await c.accessRequests.submit(alice, input())).requestId;
    expect((await upload(claims('alice', ['researcher']), pdfBody())).statusCode).toBe(201);
    await c.accessRequests.runWorkflowTask({ task: 'openReviewStep', requestId, step: 'ethics', stepIndex: -1, taskToken: 't0' });
    await c.accessRequests.decide(ethics, requestId, { step: 'ethics', outcome: 'approved' });
    const get = (who: Record<string, unknown>) => api(event('GET', '/v1/access-requests/{requestId}/documents/{documentId}', { claims: who, params: { requestId, documentId: `${requestId}-protocol-v1` } }), lambdaCtx);
    const list = (who: Record<string, unknown>) => api(event('GET', '/v1/access-requests/{requestId}/documents', { claims: who, params: { requestId } }), lambdaCtx);
    // Act + Assess: the chain's roles, the auditor, and erin (who acted, even after moving to another role) read.
    for (const who of [claims('adam', ['approver']), claims('erin2', ['ethics-reviewer']), claims('audrey', ['auditor']), claims('erin', ['researcher'])]) {
      expect((await get(who)).statusCode, String(who.sub)).toBe(200);
      expect((await list(who)).statusCode, String(who.sub)).toBe(200);
    }
    // A data owner and a security admin are not on this request's chain: not-found, not forbidden.
    for (const who of [claims('olga', ['data-owner']), claims('sam', ['security-admin']), claims('bob', ['researcher'])]) {
      expect((await get(who)).statusCode, String(who.sub)).toBe(404);
      expect((await list(who)).statusCode, String(who.sub)).toBe(404);
    }
  });

  it('R-GOV-9: refuses uploads by others, wrong checksums, types outside PDF/images/text, oversize files, and closed requests', async () => {
    expect((await upload(claims('bob', ['researcher']), pdfBody())).statusCode).toBe(404);
    // A reviewer sees the request but does not attach to it.
    expect((await upload(claims('erin', ['ethics-reviewer']), pdfBody())).statusCode).toBe(403);
    const bad = await upload(claims('alice', ['researcher']), { ...pdfBody(), sha256: 'a'.repeat(64) });
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body).error.details).toMatchObject({ reason: 'CHECKSUM_MISMATCH' });
    const exe = new Uint8Array([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00]);
    const r1 = await upload(claims('alice', ['researcher']), { kind: 'other', fileName: 'tool.pdf', contentType: 'application/pdf', sha256: sha(exe), contentBase64: Buffer.from(exe).toString('base64') });
    expect([r1.statusCode, JSON.parse(r1.body).error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');
    const mislabelled = await upload(claims('alice', ['researcher']), { kind: 'other', fileName: 'x.pdf', contentType: 'application/pdf', sha256: sha(png), contentBase64: png.toString('base64') });
    expect(mislabelled.statusCode).toBe(415);
    const big = new Uint8Array(MAX_DOCUMENT_BYTES + 1).fill(0x41);
    await expect(c.requestDocuments.upload(alice, requestId, { kind: 'other', fileName: 'big.txt', contentType: 'text/plain', sha256: sha(big), content: big })).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect((await c.requestDocuments.list(alice, requestId))).toEqual([]);
    await c.accessRequests.runWorkflowTask({ task: 'closeRequest', requestId });
    expect((await upload(claims('alice', ['researcher']), pdfBody())).statusCode).toBe(409);
  });
});

describe('R-GOV-7 runtime policy changes (stored, versioned, reloaded, rollback)', () => {
  let c: C;
  let api: ReturnType<typeof makeApiHandler>;
  const admin = claims('sam', ['security-admin']);
  const call = (method: string, resource: string, who: Record<string, unknown>, body?: unknown) => api(event(method, resource, { claims: who, ...(body !== undefined ? { body } : {}) }), lambdaCtx);
  const catalogRead = (cc: C) => cc.authorizer.decide({ actor: person('dm', ['data-manager']), action: 'ReadCatalog', resource: { type: 'Platform', id: 'mdrp' } }).effect;

  beforeEach(async () => {
    c = await setup();
    api = makeApiHandler('access', accessOps, async () => c, { logger });
  });

  it('R-GOV-7: a security admin changes a policy at run time; decisions change at once here and, within the TTL, in another instance; rollback restores', async () => {
    const set = JSON.parse((await call('GET', '/v1/policies', admin)).body);
    expect(set.version.number).toBe(0);
    expect(set.locked).toEqual(expect.arrayContaining(['no-self-approval', 'mfa-required-for-sensitive-data', 'security-admins-manage-policies']));
    const platform = set.files.find((f: { file: string }) => f.file === 'platform.cedar');
    expect(platform.policyIds).toContain('users-read-catalog');
    expect(catalogRead(c)).toBe('allow');

    // Another Lambda instance over the same table (its own authorizer, 5 s TTL).
    const otherAuthz = new ReloadingAuthorizer(c.policies, new CedarAuthorizer(c.policies.bundleOf(await c.policies.version(0)), () => c.clock.now()), () => c.clock.now(), 5_000);
    await otherAuthz.refresh();

    // Catalog reads narrowed to researchers (a tightening): every other role loses it.
    const narrowed = platform.text.replace(
      /@id\("users-read-catalog"\)\s*permit \(\s*principal is MDRP::User,/,
      '@id("users-read-catalog")\npermit (\n  principal in MDRP::Role::"researcher",',
    );
    expect(narrowed).not.toBe(platform.text);
    const res = await call('POST', '/v1/policies/versions', admin, { file: 'platform.cedar', text: narrowed, reason: 'catalog limited to researchers during the audit', baseVersion: 0 });
    expect(res.statusCode).toBe(201);
    expect(JSON.parse(res.body).version).toMatchObject({ number: 1, action: 'change', changedFile: 'platform.cedar', authorId: 'sam', overriddenFiles: ['platform.cedar'] });
    expect(catalogRead(c)).toBe('deny');
    expect(c.authorizer.version).toMatch(/\+r1$/);

    // The other instance keeps its loaded set until its TTL passes, then reloads.
    expect(otherAuthz.decide({ actor: person('dm', ['data-manager']), action: 'ReadCatalog', resource: { type: 'Platform', id: 'mdrp' } }).effect).toBe('allow');
    c.clock.advance(6_000);
    await otherAuthz.refresh();
    expect(otherAuthz.decide({ actor: person('dm', ['data-manager']), action: 'ReadCatalog', resource: { type: 'Platform', id: 'mdrp' } }).effect).toBe('deny');

    // A stale base version is a conflict.
    expect((await call('POST', '/v1/policies/versions', admin, { file: 'platform.cedar', text: platform.text, reason: 'stale edit', baseVersion: 0 })).statusCode).toBe(409);

    const rb = await call('POST', '/v1/policies/rollbacks', admin, { toVersion: 0, reason: 'audit finished' });
    expect(rb.statusCode).toBe(201);
    expect(JSON.parse(rb.body)).toMatchObject({ number: 2, action: 'rollback', rolledBackTo: 0, overriddenFiles: [] });
    expect(catalogRead(c)).toBe('allow');
    const versions = JSON.parse((await call('GET', '/v1/policies/versions', admin)).body);
    expect(versions.current).toBe(2);
    expect(versions.items.map((v: { number: number }) => v.number)).toEqual([2, 1, 0]);
    const audit = (await c.audit.query({ limit: 100, to: '2026-11-24T23:59:59Z' })).items.filter((e) => ['changePolicy', 'rollbackPolicies'].includes(e.operation));
    expect(audit.map((e) => [e.operation, e.category, e.result.status])).toEqual(expect.arrayContaining([['changePolicy', 'permission', 201], ['rollbackPolicies', 'permission', 201], ['changePolicy', 'permission', 409]]));
  });

  it('R-GOV-7: an invalid policy is refused with the validator messages and nothing changes', async () => {
    const set = JSON.parse((await call('GET', '/v1/policies', admin)).body);
    const platform = set.files.find((f: { file: string }) => f.file === 'platform.cedar').text as string;
    const typo = platform.replace('MDRP::Action::"ReadCatalog"', 'MDRP::Action::"ReadCatalogue"');
    const res = await call('POST', '/v1/policies/versions', admin, { file: 'platform.cedar', text: typo, reason: 'typo in action name' });
    expect(res.statusCode).toBe(400);
    const err = JSON.parse(res.body).error;
    expect(err).toMatchObject({ code: 'VALIDATION_FAILED', details: { code: 'POLICY_INVALID', file: 'platform.cedar' } });
    expect(err.details.messages.join(' ')).toMatch(/ReadCatalogue/);
    const syntax = await call('POST', '/v1/policies/versions', admin, { file: 'platform.cedar', text: 'permit (principal, action, resource', reason: 'broken syntax' });
    expect(syntax.statusCode).toBe(400);
    const noId = await call('POST', '/v1/policies/versions', admin, { file: 'platform.cedar', text: `${platform}\npermit (principal, action, resource);`, reason: 'policy without id' });
    expect(JSON.parse(noId.body).error.details.messages.join(' ')).toMatch(/@id/);
    const dry = await call('POST', '/v1/policies/versions', admin, { file: 'platform.cedar', text: typo, reason: 'check only', dryRun: true });
    expect([dry.statusCode, JSON.parse(dry.body).valid]).toEqual([200, false]);
    expect(await c.policies.currentNumber()).toBe(0);
  });

  it('R-GOV-7: deny by default stays: locked forbids cannot be removed or altered, and an allow-all is still bound by them', async () => {
    const set = JSON.parse((await call('GET', '/v1/policies', admin)).body);
    const access = set.files.find((f: { file: string }) => f.file === 'access/access.cedar').text as string;
    const withoutForbid = access.replace(/@id\("no-self-approval"\)[\s\S]*?when \{ resource\.applicant == principal \};/, '');
    expect(withoutForbid).not.toBe(access);
    const res = await call('POST', '/v1/policies/versions', admin, { file: 'access/access.cedar', text: withoutForbid, reason: 'remove self-approval guard' });
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body).error.details.messages).toContain('no-self-approval: locked policy cannot be removed');
    const gov = set.files.find((f: { file: string }) => f.file === 'governance/governance.cedar').text as string;
    const weakened = gov.replace('context.dataLevel >= 4', 'context.dataLevel >= 6');
    expect(JSON.parse((await call('POST', '/v1/policies/versions', admin, { file: 'governance/governance.cedar', text: weakened, reason: 'weaken MFA' })).body).error.details.messages).toContain('mfa-required-for-sensitive-data: locked policy cannot be changed');
    // Adding a broad permit is a valid change, but the locked forbid still wins.
    const broad = `${access}\n@id("everyone-decides")\npermit (principal, action == MDRP::Action::"DecideAccessRequest", resource);\n`;
    expect((await call('POST', '/v1/policies/versions', admin, { file: 'access/access.cedar', text: broad, reason: 'test a broad permit' })).statusCode).toBe(201);
    const own = c.authorizer.decide({ actor: person('x', ['researcher']), action: 'DecideAccessRequest', resource: { type: 'AccessRequest', id: 'AR-2026-000001', attributes: { applicant: 'user:x', institution: 'demo-hospital-1' } } });
    expect(own).toMatchObject({ effect: 'deny', policyIds: ['no-self-approval'] });
  });

  it('R-GOV-7: only security admins change policies; auditors read them; researchers neither', async () => {
    expect((await call('GET', '/v1/policies', claims('audrey', ['auditor']))).statusCode).toBe(200);
    expect((await call('GET', '/v1/policies', claims('alice', ['researcher']))).statusCode).toBe(403);
    expect((await call('POST', '/v1/policies/rollbacks', claims('audrey', ['auditor']), { toVersion: 0, reason: 'not allowed' })).statusCode).toBe(403);
    const denied = (await c.audit.query({ limit: 100, to: '2026-11-24T23:59:59Z' })).items.filter((e) => e.operation === 'rollbackPolicies');
    expect(denied[0]).toMatchObject({ category: 'permission', result: { outcome: 'denied', status: 403 } });
  });
});
