import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryDocumentStore } from '../../../functions/adapters/memory/memory-document-store';
import { AuditAlertEvaluator } from '../../../functions/core/audit/audit-alert-evaluator';
import { AuditAlertFeed } from '../../../functions/core/audit/audit-alert-feed';
import type { AuditEvent } from '../../../functions/core/audit/audit-event';
import { AuditTrail } from '../../../functions/core/audit/audit-trail';
import type { Notification } from '../../../functions/core/ports/notifier';
import { TestClock } from '../../support/test-container';
import { auditEvent } from './audit-fixtures';

/** 2026-11-24 is a Tuesday; 02:00Z is 10:00 in Asia/Shanghai (office hours), 14:00Z is 22:00. */
const at = (hhmmss: string) => `2026-11-24T${hhmmss}.000Z`;

/** After every event of these tests; the feed looks back a week. */
const clock = new TestClock(Date.parse('2026-11-28T03:00:00.000Z'));
const WEEK = 7 * 86_400_000;

describe('audit alert rules (R-AUD-5), evaluated asynchronously by the alert feed', () => {
  let documents: MemoryDocumentStore;
  let sent: Notification[];
  let trail: AuditTrail;
  let evaluator: AuditAlertEvaluator;
  /** The alerts once the feed has caught up with the trail (the local runtime polls it every second). */
  const alerts = async () => {
    await new AuditAlertFeed(documents, evaluator, clock, { initialLookbackMs: WEEK }).run();
    return (await trail.listAlerts({ limit: 100 })).items;
  };

  beforeEach(() => {
    documents = new MemoryDocumentStore();
    sent = [];
    evaluator = new AuditAlertEvaluator(documents, { notify: async (n) => void sent.push(n) }, { highFrequency: { threshold: 10, windowMs: 60_000 } });
    trail = new AuditTrail(documents, clock);
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

  it('R-AUD-5: writing an event does not evaluate the rules (no extra round trip on the request path); the feed does', async () => {
    // Prepare
    for (let i = 0; i < 7; i++) await trail.write(auditEvent(at(`02:00:0${i}`), { category: 'auth', actor: { kind: 'anonymous', id: 'anonymous', roles: [] }, source: { ip: '203.0.113.7' }, resources: [], result: { outcome: 'denied', status: 401 } }));
    // Assess: nothing yet, then one alert once the feed ran
    expect((await trail.listAlerts({ limit: 100 })).items).toEqual([]);
    expect(sent).toEqual([]);
    expect(await alerts()).toEqual([expect.objectContaining({ rule: 'failed-logins', sourceIp: '203.0.113.7' })]);
  });

  it('R-AUD-1: a failing alert evaluation never undoes or refuses the audit write; it is retried, then set aside as a dead letter', async () => {
    // Prepare
    const errors: string[] = [];
    let calls = 0;
    const failing = { evaluate: async (e: AuditEvent) => { calls++; if (e.operation === 'poison') throw new Error('boom'); } };
    const feed = () => new AuditAlertFeed(documents, failing, clock, { initialLookbackMs: WEEK, maxAttempts: 3, onError: (_e, id) => errors.push(id) });
    const poison = auditEvent(at('02:00:00'), { operation: 'poison' });
    const next = auditEvent(at('02:00:01'));
    // Act
    await trail.write(poison);
    await trail.write(next);
    const r1 = await feed().run();
    const r2 = await feed().run();
    const r3 = await feed().run();
    const r4 = await feed().run();
    // Assess
    expect((await trail.query({ actorId: 'user-1', limit: 10 })).items.map((x) => x.eventId)).toEqual([next.eventId, poison.eventId]);
    expect([r1.blocked, r2.blocked, r3.blocked]).toEqual([expect.stringContaining(poison.eventId), expect.stringContaining(poison.eventId), undefined]);
    expect(r3).toMatchObject({ evaluated: 1, deadLettered: 1 });
    expect(r4).toMatchObject({ evaluated: 0, deadLettered: 0 });
    expect(errors).toEqual([poison.eventId, poison.eventId, poison.eventId]);
    expect(calls).toBe(4);
    expect((await documents.query('main', { pk: 'AUDIT-ALERT-FEED#DEAD' })).items).toEqual([expect.objectContaining({ eventId: poison.eventId, attempts: 3 })]);
  });

  it('R-AUD-5: the feed is durable — events written but not yet evaluated when it stopped are evaluated after a restart, each once', async () => {
    // Prepare
    const seenIds: string[] = [];
    const recording = { evaluate: async (e: AuditEvent) => { seenIds.push(e.eventId); return evaluator.evaluate(e); } };
    const written: string[] = [];
    for (let i = 0; i < 12; i++) {
      const e = auditEvent(at(`02:00:${String(i * 2).padStart(2, '0')}`));
      written.push(e.eventId);
      await trail.write(e);
    }
    // Act: a first process evaluates 5 events and stops; a new one (a restart) continues.
    const first = await new AuditAlertFeed(documents, recording, clock, { initialLookbackMs: WEEK, maxEventsPerRun: 5 }).run();
    const late = auditEvent(at('02:00:03'));
    await trail.write(late); // written behind the checkpoint, within the grace window
    const second = await new AuditAlertFeed(documents, recording, clock, { initialLookbackMs: WEEK }).run();
    const third = await new AuditAlertFeed(documents, recording, clock, { initialLookbackMs: WEEK }).run();
    // Assess
    expect(first.evaluated).toBe(5);
    expect(second.evaluated).toBe(8);
    expect(third.evaluated).toBe(0);
    expect([...seenIds].sort()).toEqual([...written, late.eventId].sort());
    expect((await trail.listAlerts({ limit: 100 })).items).toEqual([expect.objectContaining({ rule: 'high-frequency-access', actorId: 'user-1' })]);
    expect(sent).toHaveLength(1);
  });

  it('R-AUD-5: a failed notification is delivered when the raising event is retried, once; the burst\'s other events never re-send it', async () => {
    // Prepare: the first delivery fails (SNS or the inbox unavailable).
    let failNext = true;
    const flaky = new AuditAlertEvaluator(documents, { notify: async (n) => { if (failNext) { failNext = false; throw new Error('notifier unavailable'); } sent.push(n); } }, { highFrequency: { threshold: 10, windowMs: 60_000 } });
    const events = Array.from({ length: 13 }, (_, i) => auditEvent(at(`02:00:${String(i * 2).padStart(2, '0')}`)));
    for (const e of events) await trail.write(e);
    // Act: the 11th event raises the alert and its delivery throws; the retry of that event (the feed or
    // the stream retries a failed event) delivers it; a later event of the burst and a second retry do not.
    for (const e of events.slice(0, 10)) await flaky.evaluate(e);
    await expect(flaky.evaluate(events[10]!)).rejects.toThrow('notifier unavailable');
    expect(sent).toHaveLength(0);
    const retried = await flaky.evaluate(events[10]!);
    await flaky.evaluate(events[11]!);
    await flaky.evaluate(events[10]!);
    // Assess
    expect(retried).toEqual([expect.objectContaining({ rule: 'high-frequency-access', eventId: events[10]!.eventId })]);
    expect(sent).toEqual([expect.objectContaining({ category: 'security-alert', refs: expect.objectContaining({ eventId: events[10]!.eventId }) })]);
    expect((await trail.listAlerts({ limit: 100 })).items).toHaveLength(1);
  });
});
