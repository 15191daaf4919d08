import type { AuditEvent } from '../audit/audit-event';

/**
 * Audit sink port: writes one append-only structured event per call or system action.
 * A write that fails must surface as an error (the platform fails closed rather than act unaudited).
 */
export interface AuditSink {
  write(event: AuditEvent): Promise<void>;
}
