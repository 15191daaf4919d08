import { describe, expect, it } from 'vitest';
import { ApiClient, ApiError, toApiError } from '../../../web/lib/api-client';
import { matchLocale, pickLocale } from '../../../web/lib/locale';
import { areasForRoles, tasksForRoles } from '../../../web/lib/roles';
import { parseRuntimeConfig, RuntimeConfigError } from '../../../web/lib/runtime-config';

const validConfig = {
  apiUrl: 'http://127.0.0.1:4000/',
  region: 'us-east-1',
  userPoolId: 'local_abc',
  userPoolClientId: 'client',
  userPoolEndpoint: 'http://127.0.0.1:9230',
  institutionTimeZone: 'Asia/Shanghai',
  defaultLocale: 'zh-CN',
  environment: 'local',
};

describe('runtime config', () => {
  it('parses the deployment file and strips the trailing slash of apiUrl', () => {
    const config = parseRuntimeConfig(validConfig);
    expect(config.apiUrl).toBe('http://127.0.0.1:4000');
    expect(config.userPoolEndpoint).toBe('http://127.0.0.1:9230');
  });

  it('accepts a null userPoolEndpoint (AWS)', () => {
    expect(parseRuntimeConfig({ ...validConfig, userPoolEndpoint: null, environment: 'aws' }).userPoolEndpoint).toBeNull();
  });

  it('rejects relative endpoints, missing fields and unknown time zones', () => {
    expect(() => parseRuntimeConfig({ ...validConfig, userPoolEndpoint: '/cognito' })).toThrow(RuntimeConfigError);
    expect(() => parseRuntimeConfig({ ...validConfig, userPoolId: '' })).toThrow(/userPoolId/);
    expect(() => parseRuntimeConfig({ ...validConfig, institutionTimeZone: 'Mars/Base' })).toThrow(/time zone/);
    expect(() => parseRuntimeConfig([])).toThrow(RuntimeConfigError);
  });
});

describe('locale selection', () => {
  it('maps language tags to supported locales', () => {
    expect(matchLocale('zh-TW')).toBe('zh-CN');
    expect(matchLocale('zh')).toBe('zh-CN');
    expect(matchLocale('en-GB')).toBe('en');
    expect(matchLocale('fr-FR')).toBeUndefined();
  });

  it('prefers the stored choice, then browser languages, then the deployment default', () => {
    expect(pickLocale('en', ['zh-CN'], 'zh-CN')).toBe('en');
    expect(pickLocale(null, ['fr', 'en-US'], 'zh-CN')).toBe('en');
    expect(pickLocale('garbage', ['fr'], 'zh-CN')).toBe('zh-CN');
  });
});

describe('role-aware navigation (R-GOV-1)', () => {
  it('shows a researcher search and access requests but not the audit console', () => {
    const ids = areasForRoles(['researcher']).map((a) => a.id);
    expect(ids).toEqual(['home', 'patients', 'accessRequests', 'grants', 'reidentification']);
  });

  it('R-AUD-2: only auditors and security admins get the audit area', () => {
    expect(areasForRoles(['auditor']).map((a) => a.id)).toContain('audit');
    expect(areasForRoles(['security-admin']).map((a) => a.id)).toContain('audit');
    for (const role of ['researcher', 'data-manager', 'reviewer', 'ethics-reviewer', 'approver', 'data-provider']) {
      expect(areasForRoles([role]).map((a) => a.id)).not.toContain('audit');
    }
  });

  it('ignores unknown roles and groups tasks per role without duplicates', () => {
    expect(areasForRoles(['root']).map((a) => a.id)).toEqual(['home']);
    const groups = tasksForRoles(['ethics-reviewer', 'nope', 'ethics-reviewer', 'researcher']);
    expect(groups.map((g) => g.role)).toEqual(['ethics-reviewer', 'researcher']);
  });
});

describe('API client', () => {
  it('sends the ID token as a Bearer token and parses JSON', async () => {
    const calls: Array<{ url: string; init: RequestInit | undefined }> = [];
    const fakeFetch = (async (url: string, init?: RequestInit) => {
      calls.push({ url, init });
      return new Response(JSON.stringify({ items: [] }), { status: 200, headers: { 'Content-Type': 'application/json' } });
    }) as unknown as typeof fetch;
    const client = new ApiClient({ apiUrl: 'http://api' }, async () => 'id.token.jwt', fakeFetch);
    expect(await client.datasets()).toEqual([]);
    expect(calls[0]!.url).toBe('http://api/v1/datasets');
    expect((calls[0]!.init!.headers as Record<string, string>).Authorization).toBe('Bearer id.token.jwt');
  });

  it('turns the error envelope into an ApiError with code and message', async () => {
    const err = await toApiError(
      new Response(JSON.stringify({ error: { code: 'FORBIDDEN', message: 'no grant', details: { x: 1 } } }), { status: 403 }),
    );
    expect(err).toBeInstanceOf(ApiError);
    expect([err.status, err.code, err.message]).toEqual([403, 'FORBIDDEN', 'no grant']);
    const plain = await toApiError(new Response('<html>gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    expect([plain.code, plain.message]).toEqual(['HTTP_502', 'Bad Gateway']);
  });

  it('reports transport failures as NETWORK_ERROR', async () => {
    const failing = (async () => {
      throw new TypeError('Failed to fetch');
    }) as unknown as typeof fetch;
    const client = new ApiClient({ apiUrl: 'http://api' }, async () => undefined, failing);
    await expect(client.me()).rejects.toMatchObject({ code: 'NETWORK_ERROR', status: 0 });
  });
});
