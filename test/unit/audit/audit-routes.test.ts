import { describe, expect, it } from 'vitest';
import { LocalDigestSigner } from '../../../functions/adapters/local/local-digest-signer';
import { AuditChain } from '../../../functions/core/audit/audit-chain';
import { operations } from '../../../functions/handlers/audit.handler';
import type { AuditNotes, OperationContext } from '../../../functions/http/operation';
import { routes } from '../../../functions/http/routes';
import { testContainer } from '../../support/test-container';
import { auditEvent, newSigningKeyPem } from './audit-fixtures';
import { MemoryObjectStore } from './memory-object-store';

function rig() {
  const objects = new MemoryObjectStore();
  const c = testContainer({ objects });
  const auditChain = new AuditChain({ store: c.documents, objects, signer: new LocalDigestSigner(newSigningKeyPem()), clock: c.clock, sealer: { chainStart: '2026-11-24T00:00:00.000Z' } });
  const container = Object.assign(c, { auditChain });
  const ctx = (query: Record<string, unknown>) => {
    const audit: AuditNotes = { resources: [], parameters: {} };
    return { audit, ctx: { container, query, audit } as unknown as OperationContext };
  };
  return { container, objects, ctx };
}

describe('audit API operations (verifyAuditChain, listAuditAlerts)', () => {
  it('R-AUD-2: the new routes are user routes of the audit module with their own Cedar actions', () => {
    // Act
    const byId = new Map(routes.map((r) => [r.operationId, r]));
    // Assess
    expect(byId.get('verifyAuditChain')).toMatchObject({ method: 'GET', path: '/v1/audit/verification', module: 'audit', auth: 'user', action: 'VerifyAuditChain', auditCategory: 'audit' });
    expect(byId.get('listAuditAlerts')).toMatchObject({ method: 'GET', path: '/v1/audit/alerts', module: 'audit', auth: 'user', action: 'ListAuditAlerts', auditCategory: 'audit' });
  });

  it('R-AUD-2: verifyAuditChain returns the verification and notes the outcome on the call\'s audit event', async () => {
    // Prepare
    const { container, ctx } = rig();
    const e = auditEvent('2026-11-24T08:00:30.000Z');
    await container.audit.write(e);
    container.clock.t = Date.parse('2026-11-24T08:07:00.000Z');
    await container.auditChain.seal();
    // Act
    const ok = ctx({});
    const good = await operations.verifyAuditChain!(ok.ctx);
    await container.documents.delete('audit', { pk: 'DAY#2026-11-24', sk: `${e.time}#${e.eventId}` });
    const bad = ctx({ from: '2026-11-24T00:00:00.000Z' });
    const broken = await operations.verifyAuditChain!(bad.ctx);
    // Assess
    expect(good).toEqual({ ok: true, digestsChecked: 1, eventsChecked: 1, sealedThrough: '2026-11-24T08:05:00.000Z' });
    expect(ok.audit).toMatchObject({ count: 1, parameters: { ok: true } });
    expect(broken).toMatchObject({ ok: false, firstBroken: { reason: 'event-missing', eventId: e.eventId, digestId: 'dig_20261124T080500Z' } });
    expect(bad.audit).toMatchObject({ parameters: { ok: false, brokenReason: 'event-missing', from: '2026-11-24T00:00:00.000Z' }, resources: [{ type: 'AuditDigest', id: 'dig_20261124T080500Z' }] });
  });

  it('R-AUD-5: listAuditAlerts pages the stored alerts newest first', async () => {
    // Prepare
    const { container, ctx } = rig();
    await container.documents.put('audit', { pk: 'ALERT#2026-11-24', sk: 'x', gsi1pk: 'ALERTS', gsi1sk: '2026-11-24T08:00:00.000Z#alr_1', alert: { alertId: 'alr_1', rule: 'export-download' } });
    await container.documents.put('audit', { pk: 'ALERT#2026-11-24', sk: 'y', gsi1pk: 'ALERTS', gsi1sk: '2026-11-24T09:00:00.000Z#alr_2', alert: { alertId: 'alr_2', rule: 'bulk-access' } });
    // Act
    const c = ctx({ limit: 1 });
    const page = (await operations.listAuditAlerts!(c.ctx)) as { items: Array<{ alertId: string }>; cursor?: string };
    // Assess
    expect(page.items.map((a) => a.alertId)).toEqual(['alr_2']);
    expect(page.cursor).toEqual(expect.any(String));
    expect(c.audit.count).toBe(1);
  });
});
