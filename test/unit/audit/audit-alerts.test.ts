import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryDocumentStore } from '../../../functions/adapters/memory/memory-document-store';
import { AuditAlertEvaluator } from '../../../functions/core/audit/audit-alert-evaluator';
import { AuditTrail } from '../../../functions/core/audit/audit-trail';
import type { Notification } from '../../../functions/core/ports/notifier';
import { auditEvent } from './audit-fixtures';

/** 2026-11-24 is a Tuesday; 02:00Z is 10:00 in Asia/Shanghai (office hours), 14:00Z is 22:00. */
const at = (hhmmss: string) => `2026-11-24T${hhmmss}.000Z`;

describe('audit alert rules (R-AUD-5)', () => {
  let documents: MemoryDocumentStore;
  let sent: Notification[];
  let trail: AuditTrail;
  const alerts = async () => (await trail.listAlerts({ limit: 100 })).items;

  beforeEach(() => {
    documents = new MemoryDocumentStore();
    sent = [];
    const evaluator = new AuditAlertEvaluator(documents, { notify: async (n) => void sent.push(n) }, { highFrequency: { threshold: 10, windowMs: 60_000 } });
    trail = new AuditTrail(documents, { alerts: evaluator });
  });

  it('R-AUD-5: five 401s from one source within 5 minutes raise one high alert, notified to security admins once', async () => {
    // Prepare + Act
    for (let i = 0; i < 7; i++) {
      await trail.write(auditEvent(at(`02:00:0${i}`), { category: 'auth', operation: 'listDatasets', actor: { kind: 'anonymous', id: 'anonymous', roles: [] }, source: { ip: '203.0.113.9' }, resources: [], decision: undefined, result: { outcome: 'denied', status: 401, errorCode: 'UNAUTHENTICATED' } }));
    }
    // Assess
    const list = await alerts();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ rule: 'failed-logins', severity: 'high', sourceIp: '203.0.113.9', count: 5 });
    expect(sent).toEqual([expect.objectContaining({ to: 'role:security-admin', category: 'security-alert', refs: expect.objectContaining({ alertId: list[0]!.alertId }) })]);
  });

  it('R-AUD-5: 401s from different sources do not add up', async () => {
    // Act
    for (let i = 0; i < 6; i++) await trail.write(auditEvent(at(`02:00:0${i}`), { actor: { kind: 'anonymous', id: 'anonymous', roles: [] }, source: { ip: `198.51.100.${i}` }, result: { outcome: 'denied', status: 401 } }));
    // Assess
    expect(await alerts()).toEqual([]);
  });

  it('R-AUD-5: more than N data-access calls per minute by one actor raise high-frequency-access', async () => {
    // Act
    for (let i = 0; i < 12; i++) await trail.write(auditEvent(at(`02:00:${String(i * 2).padStart(2, '0')}`)));
    // Assess
    expect(await alerts()).toEqual([expect.objectContaining({ rule: 'high-frequency-access', actorId: 'user-1', count: 11 })]);
  });

  it('R-AUD-5: a call touching more than 1000 items raises bulk-access', async () => {
    // Act
    await trail.write(auditEvent(at('02:00:00'), { operation: 'listPatients', result: { outcome: 'success', status: 200, count: 5000 } }));
    // Assess
    expect(await alerts()).toEqual([expect.objectContaining({ rule: 'bulk-access', count: 5000 })]);
  });

  it('R-AUD-5: an export or download raises export-download', async () => {
    // Act
    await trail.write(auditEvent(at('02:00:00'), { operation: 'createDownloadLink' }));
    // Assess
    expect(await alerts()).toEqual([expect.objectContaining({ rule: 'export-download', severity: 'low', operation: 'createDownloadLink' })]);
  });

  it('R-AUD-5: a grant revocation and a partner onboarding raise permission-change; a refused one does not', async () => {
    // Act
    const admin = { kind: 'user', id: 'admin-1', roles: ['approver'] };
    await trail.write(auditEvent(at('02:00:00'), { category: 'permission', operation: 'revokeGrant', actor: admin }));
    await trail.write(auditEvent(at('02:01:00'), { category: 'permission', operation: 'onboardPartner', actor: admin }));
    await trail.write(auditEvent(at('02:02:00'), { category: 'permission', operation: 'revokeGrant', actor: admin, result: { outcome: 'denied', status: 403 } }));
    // Assess
    expect((await alerts()).map((a) => [a.rule, a.operation])).toEqual([
      ['permission-change', 'onboardPartner'],
      ['permission-change', 'revokeGrant'],
    ]);
  });

  it('R-AUD-5: a privileged account acting outside office hours (Asia/Shanghai) raises one alert per hour', async () => {
    // Prepare
    const admin = { kind: 'user', id: 'sec-1', roles: ['security-admin'] };
    // Act: 10:00 Shanghai (no alert), 22:00 and 22:30 Shanghai (one alert), Saturday 10:00 Shanghai (alert).
    await trail.write(auditEvent(at('02:00:00'), { category: 'system', operation: 'listPartners', actor: admin }));
    await trail.write(auditEvent(at('14:00:00'), { category: 'system', operation: 'listPartners', actor: admin }));
    await trail.write(auditEvent(at('14:30:00'), { category: 'system', operation: 'listPartners', actor: admin }));
    await trail.write(auditEvent('2026-11-28T02:00:00.000Z', { category: 'system', operation: 'listPartners', actor: admin }));
    // Assess
    expect((await alerts()).map((a) => [a.rule, a.time])).toEqual([
      ['off-hours-privileged', '2026-11-28T02:00:00.000Z'],
      ['off-hours-privileged', at('14:00:00')],
    ]);
  });

  it('R-AUD-1: a failing alert evaluation never undoes or refuses the audit write', async () => {
    // Prepare
    const errors: unknown[] = [];
    const t = new AuditTrail(documents, { alerts: { evaluate: () => Promise.reject(new Error('boom')) }, onAlertError: (e) => errors.push(e) });
    const e = auditEvent(at('02:00:00'));
    // Act
    await t.write(e);
    // Assess
    expect((await t.query({ actorId: 'user-1', limit: 10 })).items.map((x) => x.eventId)).toEqual([e.eventId]);
    expect(errors).toHaveLength(1);
  });
});
