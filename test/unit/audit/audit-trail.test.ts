import { describe, expect, it } from 'vitest';
import { MemoryDocumentStore } from '../../../functions/adapters/memory/memory-document-store';
import { AuditTrail } from '../../../functions/core/audit/audit-trail';
import { TestClock } from '../../support/test-container';
import { auditEvent } from './audit-fixtures';

describe('AuditTrail.query without `to`', () => {
  it("R-AUD-4: the platform-wide stream reads the injected clock's day, not the wall clock's", async () => {
    // Prepare: events on two days; the clock (not the wall clock) sits on the first of them.
    const documents = new MemoryDocumentStore();
    const clock = new TestClock(Date.parse('2026-11-24T08:00:00.000Z'));
    const trail = new AuditTrail(documents, clock);
    const onThe24th = auditEvent('2026-11-24T07:00:00.000Z');
    const onThe25th = auditEvent('2026-11-25T07:00:00.000Z');
    await trail.write(onThe24th);
    await trail.write(onThe25th);

    // Act
    const first = await trail.query({ limit: 10 });
    clock.advance(86_400_000);
    const second = await trail.query({ limit: 10 });

    // Assess
    expect(first.items.map((e) => e.eventId)).toEqual([onThe24th.eventId]);
    expect(second.items.map((e) => e.eventId)).toEqual([onThe25th.eventId]);
  });
});
