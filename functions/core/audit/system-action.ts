import type { AuditSink } from '../ports/audit-sink';
import type { Clock } from '../ports/clock';
import type { IdGenerator } from '../ports/id-generator';
import type { AuditEvent } from './audit-event';

/** A platform-initiated action (workflow step, scheduled job, ingest event) to record. */
export interface SystemAction {
  /** `system:<component>` */
  actorId: string;
  operation: string;
  category: AuditEvent['category'];
  correlationId: string;
  resources: AuditEvent['resources'];
  parameters?: AuditEvent['parameters'];
  outcome: 'success' | 'failure';
  /** HTTP-like status for uniform queries (default 200 / 500). */
  status?: number;
}

/** Writes the audit event of a system action (R-AUD-1: system actions are audited like API calls). */
export async function auditSystemAction(deps: { audit: AuditSink; clock: Clock; ids: IdGenerator }, a: SystemAction): Promise<void> {
  await deps.audit.write({
    eventId: deps.ids.next('evt'),
    time: new Date(deps.clock.now()).toISOString(),
    correlationId: a.correlationId,
    category: a.category,
    operation: a.operation,
    actor: { kind: 'system', id: a.actorId, roles: [] },
    source: {},
    resources: a.resources,
    parameters: a.parameters ?? {},
    result: { outcome: a.outcome, status: a.status ?? (a.outcome === 'success' ? 200 : 500) },
  });
}
