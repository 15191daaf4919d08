/**
 * Domain errors. Every error carries a literal machine-readable `code` and safe `details`
 * (never PHI). `name` equals the code so Step Functions `Catch`/`Retry` can match it.
 * The code → HTTP status table lives in one place: `functions/http/error-response.ts`.
 */
export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'GONE'
  | 'PRECONDITION_FAILED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED'
  | 'QUOTA_EXCEEDED'
  | 'DEPENDENCY_UNAVAILABLE'
  | 'INTERNAL';

/** Safe, serialisable details attached to an error (ids, field names, limits — never values). */
export type ErrorDetails = Record<string, unknown>;

/**
 * Base class of every expected failure.
 *
 * @example
 * throw new DomainError('NOT_FOUND', 'dataset not found', { datasetId });
 */
export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = code;
    this.details = details;
  }
}

/** Input did not match the operation's schema or a business rule on its fields. */
export class ValidationError extends DomainError {
  constructor(message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super('VALIDATION_FAILED', message, details, options);
  }
}

/** The caller is not (or no longer) authenticated. */
export class UnauthenticatedError extends DomainError {
  constructor(message = 'authentication required', details: ErrorDetails = {}) {
    super('UNAUTHENTICATED', message, details);
  }
}

/** The authorization engine denied the request. */
export class ForbiddenError extends DomainError {
  constructor(message = 'access denied', details: ErrorDetails = {}) {
    super('FORBIDDEN', message, details);
  }
}

/** The addressed item does not exist (or is not visible to the caller). */
export class NotFoundError extends DomainError {
  constructor(what: string, details: ErrorDetails = {}) {
    super('NOT_FOUND', `${what} not found`, details);
  }
}

/** A concurrent or repeated write lost a condition (double decision, duplicate id, stale version). */
export class ConflictError extends DomainError {
  constructor(message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super('CONFLICT', message, details, options);
  }
}

/** The addressed item existed but is used up for good (e.g. a one-time re-identification result already viewed). */
export class GoneError extends DomainError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('GONE', message, details);
  }
}

/** A store or service the operation depends on is unreachable; the operation did not happen. */
export class DependencyUnavailableError extends DomainError {
  constructor(dependency: string, options?: { cause?: unknown }) {
    super('DEPENDENCY_UNAVAILABLE', `${dependency} is unavailable`, { dependency }, options);
  }
}

/** True when `e` is a DomainError with the given code. */
export function isDomainError(e: unknown, code?: ErrorCode): e is DomainError {
  return e instanceof DomainError && (code === undefined || e.code === code);
}
