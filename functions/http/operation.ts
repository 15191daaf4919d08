import type { AuthzResource } from '../core/authz/authorizer';
import type { Actor } from '../core/identity/actor';
import type { Container } from '../composition/container';

/** What an operation may add to its call's audit event (ids and filters only, never values). */
export interface AuditNotes {
  resources: Array<{ type: string; id: string }>;
  parameters: Record<string, string | number | boolean>;
  count?: number;
}

/** Everything an operation receives: the verified actor, validated input and the container. */
export interface OperationContext<P = Record<string, string>, Q = Record<string, unknown>, B = unknown> {
  actor: Actor;
  params: P;
  query: Q;
  body: B;
  correlationId: string;
  container: Container;
  /**
   * A fine-grained decision inside the operation (e.g. on the addressed request). Denial throws
   * `ForbiddenError`; every decision is recorded on the audit event.
   */
  authorize(action: string, resource: AuthzResource): void;
  audit: AuditNotes;
  /** Request headers, lower-cased names (e.g. FHIR `prefer`, `host`). */
  headers?: Record<string, string>;
  /** Every value of every query parameter, for operations that accept repeated parameters (FHIR search). */
  multiQuery?: Record<string, string[]>;
}

/** A non-JSON or non-default response (status, media type, binary bodies). */
export class HttpResult {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Operation = (ctx: OperationContext<any, any, any>) => Promise<unknown>;

/** operationId → implementation, one map per handler module. */
export type OperationMap = Record<string, Operation>;
