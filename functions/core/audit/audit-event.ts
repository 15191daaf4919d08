/**
 * One structured, PHI-free audit event (R-AUD-1, R-AUD-3). Written once, never updated.
 * `parameters` hold ids and filters only, never values of records or identities.
 */
export interface AuditEvent {
  eventId: string;
  /** ISO-8601 UTC. */
  time: string;
  correlationId: string;
  category: 'auth' | 'data-access' | 'data-change' | 'permission' | 'audit' | 'system' | 'security';
  /** The API operationId, or the system action's name. */
  operation: string;
  actor: {
    kind: string;
    id: string;
    roles: string[];
    institution?: string;
    apiKeyId?: string;
  };
  source: { ip?: string; userAgent?: string };
  resources: Array<{ type: string; id: string }>;
  parameters: Record<string, string | number | boolean>;
  decision?: { effect: 'allow' | 'deny'; policyIds: string[] };
  result: {
    outcome: 'success' | 'failure' | 'denied';
    status: number;
    errorCode?: string;
    /** Number of items returned or changed, where meaningful. */
    count?: number;
  };
}
