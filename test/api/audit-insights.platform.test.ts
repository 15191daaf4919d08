import { createHash, randomInt } from 'node:crypto';
import { request } from 'node:http';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { hashedUsername } from '../../functions/core/audit/auth-event';
import { apiAs, eventually, idTokenFor } from '../support/api-client';

const platform = inject('platform');
/** The browser-facing proxy in front of cognito-local (cognitoPort + 1, see platform-setup). */
const proxyPort = Number(new URL(platform.cognito.endpoint).port) + 1;

/** One Cognito call through the proxy, from a chosen loopback address (so the source IP is ours alone). */
function cognitoCall(target: string, body: unknown, localAddress: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: proxyPort,
        method: 'POST',
        path: '/',
        localAddress,
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityProviderService.${target}`, 'content-length': data.length, 'user-agent': 'mdrp-audit-test' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown> }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const quarterOf = (d: Date) => `${d.getUTCFullYear()}-Q${Math.floor(d.getUTCMonth() / 3) + 1}`;

describe('audit: sign-in events, who accessed my data, quarterly report (local platform)', () => {
  let auditor: string;
  let researcher: string;
  let provider: string;
  beforeAll(async () => {
    [auditor, researcher, provider] = await Promise.all([idTokenFor(platform, 'auditor'), idTokenFor(platform, 'researcher'), idTokenFor(platform, 'data-provider')]);
  });

  it('R-AUD-1, R-AUD-5: failed sign-ins through the Cognito proxy are audited (hashed user name, source IP, no password) and raise the failed-logins alert; a good sign-in and sign-out (token revocation) are audited under the user id', async () => {
    // Prepare: a loopback address of our own, so the alert's source is this test's alone.
    const ip = `127.${randomInt(1, 250)}.${randomInt(1, 250)}.${randomInt(2, 250)}`;
    const account = platform.accounts.find((a) => a.username === 'data-manager')!;
    const started = new Date().toISOString();
    const wrong = 'Wrong-Password-123!';
    // Act
    for (let i = 0; i < 6; i++) {
      const r = await cognitoCall('InitiateAuth', { AuthFlow: 'USER_PASSWORD_AUTH', ClientId: platform.cognito.userPoolClientId, AuthParameters: { USERNAME: account.username, PASSWORD: wrong } }, ip);
      expect(r.status).toBe(400);
      // Cognito answers NotAuthorizedException; cognito-local InvalidPasswordException.
      expect(r.json.__type).toMatch(/NotAuthorized|InvalidPassword/);
    }
    const good = await cognitoCall('InitiateAuth', { AuthFlow: 'USER_PASSWORD_AUTH', ClientId: platform.cognito.userPoolClientId, AuthParameters: { USERNAME: account.username, PASSWORD: account.password } }, ip);
    const tokens = good.json.AuthenticationResult as { AccessToken: string; IdToken: string; RefreshToken: string };
    // The portal signs out with RevokeToken (Amplify; cognito-local has no GlobalSignOut).
    const out = await cognitoCall('RevokeToken', { Token: tokens.RefreshToken, ClientId: platform.cognito.userPoolClientId }, ip);
    const sub = JSON.parse(Buffer.from(tokens.IdToken.split('.')[1]!, 'base64url').toString('utf8')).sub as string;
    // Assess
    expect(good.status).toBe(200);
    expect(out.status).toBe(200);
    const api = apiAs(platform, auditor);
    const failed = await api.get(`/v1/audit/events?actorId=${encodeURIComponent(hashedUsername(account.username))}&from=${started}`);
    expect(failed.status).toBe(200);
    const mine = (failed.json.items as Array<Record<string, any>>).filter((e) => e.source.ip === ip); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(mine).toHaveLength(6);
    expect(mine[0]).toMatchObject({ category: 'auth', operation: 'auth.signIn', actor: { kind: 'user', id: hashedUsername(account.username) }, source: { ip, userAgent: 'mdrp-audit-test' }, parameters: { flow: 'USER_PASSWORD_AUTH', observedBy: 'local-cognito-proxy' }, result: { outcome: 'failure', status: 400 } });
    expect(JSON.stringify(failed.json)).not.toContain(wrong);
    expect(JSON.stringify(failed.json)).not.toContain(account.username);
    const ok = await api.get(`/v1/audit/events?actorId=${sub}&from=${started}`);
    const ops = (ok.json.items as Array<{ operation: string; result: { outcome: string }; source: { ip?: string } }>).filter((e) => e.source.ip === ip).map((e) => `${e.operation}:${e.result.outcome}`);
    expect(ops).toEqual(['auth.signOut:success', 'auth.signIn:success']);
    expect(JSON.stringify(ok.json)).not.toContain(tokens.AccessToken.slice(-20));
    expect(JSON.stringify(ok.json)).not.toContain(tokens.RefreshToken.slice(-20));
    const alerts = await eventually(async () => {
      const a = await api.get(`/v1/audit/alerts?from=${started}`);
      return (a.json.items as Array<{ rule: string; sourceIp?: string; actorId: string }>).find((x) => x.rule === 'failed-logins' && x.sourceIp === ip);
    });
    expect(alerts).toMatchObject({ actorId: hashedUsername(account.username), operation: 'auth.signIn' });
  });

  it("R-AUD-4, R-GOV-6: a data provider sees who read its institution's datasets, and nothing of another institution's; other roles are refused", async () => {
    // Prepare: the researcher reads one dataset of each hospital.
    const datasets = (await apiAs(platform, researcher).get('/v1/datasets')).json.items as Array<{ datasetId: string; institution: string }>;
    const h2 = datasets.find((d) => d.institution === 'demo-hospital-2')!;
    const h1 = datasets.find((d) => d.institution === 'demo-hospital-1')!;
    const started = new Date().toISOString();
    const read2 = await apiAs(platform, researcher).get(`/v1/datasets/${h2.datasetId}`);
    const read1 = await apiAs(platform, researcher).get(`/v1/datasets/${h1.datasetId}`);
    expect([read2.status, read1.status]).toEqual([200, 200]);
    // Act
    const page = await apiAs(platform, provider).get(`/v1/audit/data-access?from=${started}&limit=50`);
    const asResearcher = await apiAs(platform, researcher).get('/v1/audit/data-access');
    const asAuditor = await apiAs(platform, auditor).get('/v1/audit/data-access');
    const bad = await apiAs(platform, provider).get('/v1/audit/data-access?cursor=zzz');
    // Assess
    expect(page.status).toBe(200);
    const items = page.json.items as Array<{ operation: string; datasetIds: string[]; actor: { id: string; institution?: string }; via: string }>;
    const researcherId = JSON.parse(Buffer.from(researcher.split('.')[1]!, 'base64url').toString('utf8')).sub as string;
    expect(items).toContainEqual(expect.objectContaining({ operation: 'getDataset', datasetIds: [h2.datasetId], via: 'dataset', actor: expect.objectContaining({ id: researcherId }) }));
    expect(JSON.stringify(page.json)).not.toContain(h1.datasetId);
    expect(asResearcher.status).toBe(403);
    expect(asAuditor.status).toBe(403);
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('VALIDATION_FAILED');
    // The provider's own query is audited (with its institution, never the results).
    const audited = await apiAs(platform, auditor).get(`/v1/audit/events?from=${started}&limit=200`);
    expect((audited.json.items as Array<{ operation: string; parameters: Record<string, unknown> }>).find((e) => e.operation === 'listInstitutionDataAccess' && e.parameters.institution === 'demo-hospital-2')).toBeTruthy();
  });

  it('R-AUD-6: the auditor generates the quarterly report, it is archived with its SHA-256, listed, and downloaded as an audited PDF attachment; a researcher is refused', async () => {
    // Act
    const period = quarterOf(new Date());
    const created = await apiAs(platform, auditor).post('/v1/audit/reports', { period });
    const refused = await apiAs(platform, researcher).post('/v1/audit/reports', { period });
    const badPeriod = await apiAs(platform, auditor).post('/v1/audit/reports', { period: '2026-Q7' });
    const list = await apiAs(platform, auditor).get('/v1/audit/reports');
    const res = await fetch(`${platform.apiUrl}/v1/audit/reports/${created.json.reportId}/pdf`, { headers: { authorization: `Bearer ${auditor}` } });
    const pdf = new Uint8Array(await res.arrayBuffer());
    // Assess
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ period, objectKey: expect.stringMatching(new RegExp(`^audit-reports/${period}/rpt_`)), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(created.json.totals.events).toBeGreaterThan(0);
    expect(refused.status).toBe(403);
    expect(badPeriod.status).toBe(400);
    expect((list.json.items as Array<{ reportId: string }>).map((r) => r.reportId)).toContain(created.json.reportId);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="mdrp-audit-report-/);
    expect(createHash('sha256').update(pdf).digest('hex')).toBe(created.json.sha256);
    expect(Buffer.from(pdf.subarray(0, 5)).toString('latin1')).toBe('%PDF-');
    const events = await apiAs(platform, auditor).get(`/v1/audit/events?resourceType=AuditReport&resourceId=${created.json.reportId}`);
    expect((events.json.items as Array<{ operation: string }>).map((e) => e.operation).sort()).toEqual(['createAuditReport', 'downloadAuditReport']);
  });
});
