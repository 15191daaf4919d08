import { describe, expect, it } from 'vitest';
import en from '../../../web/messages/en.json' with { type: 'json' };
import zh from '../../../web/messages/zh-CN.json' with { type: 'json' };
import { AUDIT_ROLES, auditQueryString, defaultDraft, draftToQuery, isoToZonedLocal, validateAuditDraft, zonedLocalToIso } from '../../../web/lib/audit';
import { areasForRoles } from '../../../web/lib/roles';

const ZONE = 'Asia/Shanghai';
const NOW = Date.parse('2026-03-10T04:30:00Z');

describe('audit console helpers (R-AUD-4)', () => {
  it('R-AUD-4: converts institution wall time to UTC and back, ignoring the browser zone', () => {
    expect(zonedLocalToIso('2026-03-10T12:30', ZONE)).toBe('2026-03-10T04:30:00.000Z');
    expect(isoToZonedLocal(NOW, ZONE)).toBe('2026-03-10T12:30');
    // A zone with daylight saving time: both sides of the change.
    expect(zonedLocalToIso('2026-01-15T09:00', 'Europe/Berlin')).toBe('2026-01-15T08:00:00.000Z');
    expect(zonedLocalToIso('2026-07-15T09:00', 'Europe/Berlin')).toBe('2026-07-15T07:00:00.000Z');
    expect(zonedLocalToIso('not a time', ZONE)).toBeUndefined();
  });

  it('R-AUD-4: defaults to the last 7 days up to now', () => {
    const draft = defaultDraft(NOW, ZONE);
    expect(draft.by).toBe('actor');
    expect(draft.from).toBe('2026-03-03T12:30');
    expect(draft.to).toBe('2026-03-10T12:31');
  });

  it('R-AUD-4: needs a user id, or a data item type and id, and an ordered range', () => {
    const draft = defaultDraft(NOW, ZONE);
    expect(validateAuditDraft(draft, ZONE)).toEqual({ actorId: 'required' });
    expect(validateAuditDraft({ ...draft, by: 'resource' }, ZONE)).toEqual({ resourceType: 'required', resourceId: 'required' });
    expect(validateAuditDraft({ ...draft, actorId: 'u1', from: draft.to, to: draft.from }, ZONE)).toEqual({ to: 'toBeforeFrom' });
    expect(validateAuditDraft({ ...draft, actorId: 'x'.repeat(129) }, ZONE)).toEqual({ actorId: 'tooLong' });
  });

  it('R-AUD-4: builds the query by actor or by resource, never both', () => {
    const draft = { ...defaultDraft(NOW, ZONE), actorId: ' user-1 ', resourceType: 'Grant', resourceId: 'g1' };
    const byActor = draftToQuery(draft, ZONE, 25);
    expect(byActor).toEqual({ limit: 25, actorId: 'user-1', from: '2026-03-03T04:30:00.000Z', to: '2026-03-10T04:31:00.000Z' });
    const byResource = draftToQuery({ ...draft, by: 'resource', from: '', to: '' }, ZONE, 10);
    expect(byResource).toEqual({ limit: 10, resourceType: 'Grant', resourceId: 'g1' });
    expect(auditQueryString({ ...byResource, cursor: 'abc=' })).toBe('resourceType=Grant&resourceId=g1&limit=10&cursor=abc%3D');
  });

  it('R-AUD-2: the audit area is offered to the roles the API lets read the trail', () => {
    for (const role of AUDIT_ROLES) expect(areasForRoles([role]).map((a) => a.id)).toContain('audit');
  });

  it('has every alert rule, verification reason and outcome labelled in both languages', () => {
    for (const messages of [en, zh]) {
      expect(Object.keys(messages.audit.alerts.rules).sort()).toEqual(['bulk-access', 'export-download', 'failed-logins', 'high-frequency-access', 'off-hours-privileged', 'permission-change']);
      expect(Object.keys(messages.audit.verification.reasons).sort()).toEqual(['digest-missing', 'event-extra', 'event-missing', 'event-modified', 'order', 'previous-hash', 'signature']);
      expect(Object.keys(messages.audit.outcomes).sort()).toEqual(['denied', 'failure', 'success']);
    }
  });
});
