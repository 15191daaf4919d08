import { DomainError, type ErrorCode } from '../core/errors';

/** The one code → HTTP status table. */
export const STATUS_OF: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  GONE: 410,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  QUOTA_EXCEEDED: 429,
  DEPENDENCY_UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** Uniform error body: `{ error: { code, message, details, correlationId } }`. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details: Record<string, unknown>; correlationId: string };
}

/**
 * Maps any thrown value to a status and a safe body. Unknown errors become a 500 whose message
 * reveals nothing; the correlation id lets operators find the logged cause.
 */
export function toErrorResponse(e: unknown, correlationId: string): { status: number; body: ErrorBody } {
  if (e instanceof DomainError) {
    return { status: STATUS_OF[e.code], body: { error: { code: e.code, message: e.message, details: e.details, correlationId } } };
  }
  return {
    status: 500,
    body: { error: { code: 'INTERNAL', message: 'internal error', details: {}, correlationId } },
  };
}
