import type { ErrorBody } from './error-response';

/** Media type of FHIR R4 JSON: routes declaring it answer errors as OperationOutcome. */
export const FHIR_JSON = 'application/fhir+json';

/** Code system of the platform's machine-readable error codes inside an OperationOutcome. */
export const ERROR_CODE_SYSTEM = 'https://mdrp.example.org/fhir/CodeSystem/error';

const ISSUE_CODE: Record<number, string> = { 400: 'invalid', 401: 'login', 403: 'forbidden', 404: 'not-found', 405: 'not-supported', 409: 'conflict', 410: 'deleted', 412: 'conflict', 413: 'too-long', 415: 'not-supported', 429: 'throttled' };

/**
 * The platform error body as a FHIR R4 OperationOutcome (R-INT-1): the issue code follows the
 * HTTP status, `details.coding` carries the platform code (and the FHIR-specific one when the
 * core gave one), `expression` names the offending parameter, `diagnostics` the message and the
 * correlation id. Like the JSON body, it never holds data values.
 */
export function toOperationOutcome(status: number, body: ErrorBody): Record<string, unknown> {
  const { code, message, details, correlationId } = body.error;
  const fhirCode = typeof details.fhirCode === 'string' ? details.fhirCode : undefined;
  const parameter = typeof details.parameter === 'string' ? details.parameter : undefined;
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: status >= 500 ? 'fatal' : 'error',
        code: ISSUE_CODE[status] ?? (status >= 500 ? 'exception' : 'processing'),
        details: { coding: [{ system: ERROR_CODE_SYSTEM, code }, ...(fhirCode ? [{ system: ERROR_CODE_SYSTEM, code: fhirCode }] : [])], text: message },
        diagnostics: `${message} (correlation id ${correlationId})`,
        ...(parameter ? { expression: [parameter] } : {}),
      },
    ],
  };
}

/** The platform error code of an OperationOutcome written by {@link toOperationOutcome}. */
export function errorCodeOfOutcome(body: unknown): string | undefined {
  const issue = (body as { resourceType?: string; issue?: Array<{ details?: { coding?: Array<{ system?: string; code?: string }> } }> }).issue?.[0];
  return issue?.details?.coding?.find((c) => c.system === ERROR_CODE_SYSTEM)?.code;
}
