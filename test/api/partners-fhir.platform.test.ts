import { beforeAll, describe, expect, inject, it } from 'vitest';
import { apiAs, idTokenFor } from '../support/api-client';

const platform = inject('platform');

describe('partner onboarding and the FHIR facade metadata', () => {
  let admin: ReturnType<typeof apiAs>;
  let researcher: ReturnType<typeof apiAs>;
  beforeAll(async () => {
    admin = apiAs(platform, await idTokenFor(platform, 'security-admin'));
    researcher = apiAs(platform, await idTokenFor(platform, 'researcher'));
  });

  const partner = { name: 'Demo Cancer Hospital EMR bridge', institution: 'demo-hospital-2', contactEmail: 'it@demo-hospital-2.example', allowedCidrs: ['127.0.0.0/8'], scopes: ['catalog.read', 'fhir.read'] };

  it('R-SEC-7/R-INT-1: a security admin onboards a partner; the key is shown once and listed by id only', async () => {
    const res = await admin.post('/v1/partners', partner);
    expect(res.status).toBe(201);
    expect(res.json.apiKey).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(res.json.partner).toMatchObject({ name: partner.name, scopes: partner.scopes, plan: 'default', keys: [{ status: 'active' }] });
    const list = await admin.get('/v1/partners');
    const listed = list.json.items.find((p: { partnerId: string }) => p.partnerId === res.json.partner.partnerId);
    expect(listed).toBeDefined();
    expect(list.text).not.toContain(res.json.apiKey);

    const { partnerId } = res.json.partner;
    const keyId = res.json.partner.keys[0].keyId;
    const revoked = await admin.post(`/v1/partners/${partnerId}/api-keys/${keyId}/revocation`, {});
    expect(revoked.json.keys[0]).toMatchObject({ status: 'revoked', revokedAt: expect.any(String) });
    expect((await admin.post(`/v1/partners/${partnerId}/api-keys/${keyId}/revocation`, {})).status).toBe(409);
  });

  it('R-SEC-7: only security admins manage partners; bad input is refused', async () => {
    expect((await researcher.post('/v1/partners', partner)).status).toBe(403);
    expect((await researcher.get('/v1/partners')).status).toBe(403);
    const bad = await admin.post('/v1/partners', { ...partner, allowedCidrs: ['everyone'] });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.issues[0].path).toBe('allowedCidrs.0');
    expect((await admin.post('/v1/partners', { ...partner, scopes: ['root'] })).status).toBe(400);
  });

  it('R-INT-1: GET /fhir/R4/metadata is a public FHIR R4 CapabilityStatement', async () => {
    const res = await apiAs(platform).get('/fhir/R4/metadata');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/fhir+json');
    expect(res.json).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1', kind: 'instance', rest: [{ mode: 'server' }] });
  });
});
