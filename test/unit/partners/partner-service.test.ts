import { describe, expect, it } from 'vitest';
import { MemoryDocumentStore } from '../../../functions/adapters/memory/memory-document-store';
import { systemActor } from '../../../functions/core/identity/actor';
import { KEY_REVOCATION_JOB, PartnerService } from '../../../functions/core/partners/partner-service';
import type { ApiKeyIssuer } from '../../../functions/core/ports/api-key-issuer';
import type { OAuthClientRegistry } from '../../../functions/core/ports/oauth-client-registry';
import { RecordingScheduler, SequenceIds, TestClock } from '../../support/test-container';

class FakeKeys implements ApiKeyIssuer {
  n = 0;
  revoked: string[] = [];
  failNext = false;
  async issue(_partnerId: string, plan: string) {
    if (this.failNext) throw new Error('issuer down');
    this.n += 1;
    return { keyId: `key_${this.n}`, value: `value-${this.n}-${'x'.repeat(30)}`, plan };
  }
  async revoke(keyId: string) {
    this.revoked.push(keyId);
  }
}

class FakeClients implements OAuthClientRegistry {
  readonly tokenEndpoint = 'http://127.0.0.1:9240/token';
  clients = new Map<string, string[]>();
  async createClient(partnerId: string, scopes: readonly string[]) {
    this.clients.set(`client-${partnerId}`, [...scopes]);
    return { clientId: `client-${partnerId}`, clientSecret: 'secret' };
  }
  async deleteClient(clientId: string) {
    this.clients.delete(clientId);
  }
}

function setup() {
  const store = new MemoryDocumentStore();
  const keys = new FakeKeys();
  const clients = new FakeClients();
  const scheduler = new RecordingScheduler();
  const clock = new TestClock();
  const service = new PartnerService(store, keys, clients, scheduler, clock, new SequenceIds());
  const onboard = () =>
    service.onboard(systemActor('test'), { name: 'Partner A', institution: 'demo-hospital-2', contactEmail: 'a@example.org', allowedCidrs: ['127.0.0.1/32'], scopes: ['catalog.read', 'catalog.read', 'fhir.read'], plan: 'pilot' });
  return { store, keys, clients, scheduler, clock, service, onboard };
}

describe('partner onboarding and keys', () => {
  it('R-INT-1, R-SEC-6: onboarding creates the OAuth client (partner scopes) and the API key; the edge finds the key by its value', async () => {
    const { service, clients, onboard } = setup();
    const out = await onboard();
    expect(out.oauthClient).toEqual({ clientId: `client-${out.partner.partnerId}`, clientSecret: 'secret', tokenEndpoint: 'http://127.0.0.1:9240/token' });
    expect(clients.clients.get(out.oauthClient.clientId)).toEqual(['catalog.read', 'fhir.read']);
    expect(out.partner).toMatchObject({ plan: 'pilot', status: 'active', oauthClientId: out.oauthClient.clientId, keys: [{ keyId: 'key_1', status: 'active' }] });
    const facts = await service.edgeFacts(out.apiKey);
    expect(facts.key).toEqual({ keyId: 'key_1', partnerId: out.partner.partnerId, status: 'active' });
    expect(facts.partner).toMatchObject({ partnerId: out.partner.partnerId, oauthClientId: out.oauthClient.clientId, allowedCidrs: ['127.0.0.1/32'], plan: 'pilot' });
    expect(await service.edgeFacts('some-other-value')).toEqual({});
  });

  it('R-SEC-7: no half-onboarded partner: when the key cannot be issued the OAuth client is deleted', async () => {
    const { keys, clients, onboard } = setup();
    keys.failNext = true;
    await expect(onboard()).rejects.toThrow('issuer down');
    expect(clients.clients.size).toBe(0);
  });

  it('R-SEC-7: an unknown usage plan is refused with VALIDATION_FAILED', async () => {
    const { service } = setup();
    await expect(service.onboard(systemActor('t'), { name: 'P', institution: 'i', contactEmail: 'a@b.c', allowedCidrs: ['127.0.0.1/32'], scopes: ['catalog.read'], plan: 'gold' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('R-SEC-7: rotation issues a new key, keeps the old one for the grace period and schedules its revocation', async () => {
    const { service, scheduler, clock, keys, onboard } = setup();
    const first = await onboard();
    const rotated = await service.rotateKey(first.partner.partnerId, 600);
    expect(rotated.keyId).toBe('key_2');
    const graceUntil = new Date(clock.now() + 600_000).toISOString();
    expect(rotated.partner.keys).toEqual([
      expect.objectContaining({ keyId: 'key_1', status: 'retiring', graceUntil }),
      expect.objectContaining({ keyId: 'key_2', status: 'active' }),
    ]);
    expect(scheduler.jobs.get(`${KEY_REVOCATION_JOB}-key_1`)).toEqual({ name: `${KEY_REVOCATION_JOB}-key_1`, type: KEY_REVOCATION_JOB, runAt: clock.now() + 600_000, payload: { partnerId: first.partner.partnerId, keyId: 'key_1' } });
    expect((await service.edgeFacts(first.apiKey)).key).toEqual({ keyId: 'key_1', partnerId: first.partner.partnerId, status: 'retiring', graceUntil });
    expect((await service.edgeFacts(rotated.apiKey)).key?.status).toBe('active');
    expect(keys.revoked).toEqual([]);

    // The schedule fires (at least once): the old key is revoked, idempotently.
    await service.endKeyGrace(first.partner.partnerId, 'key_1');
    await service.endKeyGrace(first.partner.partnerId, 'key_1');
    expect(keys.revoked).toEqual(['key_1']);
    expect((await service.edgeFacts(first.apiKey)).key?.status).toBe('revoked');
    expect(scheduler.jobs.size).toBe(0);
  });

  it('R-SEC-7: a zero grace period revokes the replaced key at once; grace beyond 30 days is refused', async () => {
    const { service, keys, scheduler, onboard } = setup();
    const first = await onboard();
    await service.rotateKey(first.partner.partnerId, 0);
    expect(keys.revoked).toEqual(['key_1']);
    expect(scheduler.jobs.size).toBe(0);
    expect((await service.edgeFacts(first.apiKey)).key?.status).toBe('revoked');
    await expect(service.rotateKey(first.partner.partnerId, 31 * 86_400)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('R-SEC-7: revoking a retiring key cancels its schedule; a suspended partner cannot rotate', async () => {
    const { service, scheduler, onboard } = setup();
    const first = await onboard();
    await service.rotateKey(first.partner.partnerId, 60);
    await service.revokeKey(first.partner.partnerId, 'key_1');
    expect(scheduler.jobs.size).toBe(0);
    await expect(service.revokeKey(first.partner.partnerId, 'key_1')).rejects.toMatchObject({ code: 'CONFLICT' });
    const suspended = await service.setStatus(first.partner.partnerId, 'suspended');
    expect((await service.edgeFacts(first.apiKey)).partner?.status).toBe('suspended');
    expect(suspended.status).toBe('suspended');
    await expect(service.rotateKey(first.partner.partnerId)).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});
