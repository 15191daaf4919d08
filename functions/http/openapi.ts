import { z } from 'zod';
import { FHIR_JSON, toOperationOutcome } from './fhir-error';
import { exampleFor } from './openapi-examples';
import type { RouteDefinition } from './route-definition';

const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().describe('Machine-readable error code, e.g. VALIDATION_FAILED, FORBIDDEN'),
      message: z.string(),
      details: z.record(z.string(), z.unknown()),
      correlationId: z.string(),
    }),
  })
  .meta({ id: 'Error' });

/** The OperationOutcome FHIR routes answer errors with (functions/http/fhir-error.ts). */
const FhirErrorOutcomeSchema = z
  .object({
    resourceType: z.literal('OperationOutcome'),
    issue: z.array(
      z.object({
        severity: z.enum(['fatal', 'error', 'warning', 'information']),
        code: z.string().describe('FHIR issue type, following the HTTP status (invalid, login, forbidden, not-found, too-long, throttled, ...)'),
        details: z.object({ coding: z.array(z.object({ system: z.string(), code: z.string() })), text: z.string() }),
        diagnostics: z.string(),
        expression: z.array(z.string()).optional().describe('The offending search parameter'),
      }),
    ),
  })
  .meta({ id: 'ErrorOperationOutcome' });

/** A realistic error body per status: the code, message and details the platform really answers. */
const ERROR_EXAMPLES: Record<string, { code: string; message: string; details: Record<string, unknown> }> = {
  '400': { code: 'VALIDATION_FAILED', message: 'invalid body', details: { in: 'body', issues: [{ path: 'purpose', message: 'Too small: expected string to have >=20 characters', code: 'too_small' }] } },
  '401': { code: 'UNAUTHENTICATED', message: 'a bearer access token is required (OAuth 2.0 client credentials)', details: { reason: 'token-missing' } },
  '403': { code: 'FORBIDDEN', message: 'access denied', details: { action: 'ReadCatalog', resourceType: 'Platform' } },
  '404': { code: 'NOT_FOUND', message: 'not found', details: {} },
  '409': { code: 'CONFLICT', message: 'the request was already decided', details: {} },
  '413': { code: 'PAYLOAD_TOO_LARGE', message: 'request body too large', details: { maxBytes: 8192 } },
  '429': { code: 'RATE_LIMITED', message: 'too many requests for the usage plan', details: { reason: 'rate-limited', retryAfterSeconds: 1 } },
  '503': { code: 'DEPENDENCY_UNAVAILABLE', message: 'the audit trail is unavailable; the call was not executed', details: {} },
};
const EXAMPLE_CORRELATION_ID = 'c0a8012e-6f1d-4b8e-9a3c-2d5e7f9a1b3c';

const ERROR_RESPONSES: Record<string, string> = {
  '400': 'Invalid input (VALIDATION_FAILED)',
  '401': 'Missing or invalid credentials (UNAUTHENTICATED)',
  '403': 'Denied by the authorization engine (FORBIDDEN)',
  '404': 'Not found (NOT_FOUND)',
  '409': 'Conflicting or repeated write (CONFLICT)',
  '413': 'Body too large (PAYLOAD_TOO_LARGE)',
  '429': 'Throttled or over quota (RATE_LIMITED, QUOTA_EXCEEDED)',
  '503': 'A dependency, e.g. the audit trail, is unavailable (DEPENDENCY_UNAVAILABLE)',
};

/**
 * Generates the OpenAPI 3.1 document from the route table and its zod schemas (JSON Schema
 * 2020-12, which OpenAPI 3.1 uses natively). Schemas without an id get one derived from their
 * operation so every schema is a named component.
 */
export function buildOpenApiDocument(routes: readonly RouteDefinition[], opts: { version: string; serverUrl?: string }): Record<string, unknown> {
  const name = (schema: z.ZodType, fallback: string): string => {
    const existing = z.globalRegistry.get(schema)?.id;
    if (existing) return existing;
    z.globalRegistry.add(schema, { id: fallback });
    return fallback;
  };
  const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
  const paths: Record<string, Record<string, unknown>> = {};
  /** Media type objects whose example is built once the components exist. */
  const pending: Array<{ media: Record<string, unknown>; id: string; example?: unknown }> = [];
  const withExample = (id: string, example?: unknown) => {
    const media: Record<string, unknown> = { schema: ref(id) };
    pending.push({ media, id, example });
    return media;
  };

  for (const r of routes) {
    const cap = r.operationId[0]!.toUpperCase() + r.operationId.slice(1);
    const parameters: unknown[] = [];
    for (const [where, schema] of [['path', r.request?.params], ['query', r.request?.query]] as const) {
      if (!schema) continue;
      const js = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [pname, pschema] of Object.entries(js.properties ?? {})) {
        const given = (where === 'path' ? r.examples?.params : r.examples?.query)?.[pname];
        const example = given ?? exampleFor(pschema as Parameters<typeof exampleFor>[0], {}, pname);
        parameters.push({ name: pname, in: where, required: where === 'path' || (js.required ?? []).includes(pname), schema: pschema, example });
      }
    }
    for (const m of r.path.matchAll(/\{(\w+)\}/g)) {
      if (!parameters.some((p) => (p as { name: string }).name === m[1])) parameters.push({ name: m[1], in: 'path', required: true, schema: { type: 'string' }, example: r.examples?.params?.[m[1]!] ?? exampleFor({ type: 'string' }, {}, m[1]) });
    }
    const media = r.contentType ?? 'application/json';
    const responses: Record<string, unknown> = {
      [String(r.successStatus ?? 200)]: { description: 'Success', content: { [media]: withExample(name(r.response, `${cap}Response`), r.examples?.response) } },
    };
    for (const [code, description] of Object.entries(ERROR_RESPONSES)) {
      if (code === '401' && r.auth === 'none') continue;
      const error = { error: { ...ERROR_EXAMPLES[code]!, correlationId: EXAMPLE_CORRELATION_ID } };
      // FHIR routes answer errors as an OperationOutcome (make-api-handler.ts), the others with the Error body.
      responses[code] =
        media === FHIR_JSON
          ? { description, content: { [FHIR_JSON]: { schema: ref('ErrorOperationOutcome'), example: toOperationOutcome(Number(code), error as Parameters<typeof toOperationOutcome>[1]) } } }
          : { description, content: { 'application/json': { schema: ref('Error'), example: error } } };
    }
    const security =
      r.auth === 'none' ? [] : r.auth === 'user' ? [{ cognitoUser: [] }] : r.auth === 'partner' ? [{ partnerApiKey: [], partnerOAuth: [] }] : [{ cognitoUser: [] }, { partnerApiKey: [], partnerOAuth: [] }];
    (paths[r.path] ??= {})[r.method.toLowerCase()] = {
      operationId: r.operationId,
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      tags: r.tags,
      security,
      'x-mdrp-action': r.action,
      ...(parameters.length ? { parameters } : {}),
      ...(r.request?.body
        ? { requestBody: { required: true, content: { 'application/json': withExample(name(r.request.body, `${cap}Request`), r.examples?.body) } } }
        : {}),
      responses,
    };
  }

  name(ErrorSchema, 'Error');
  name(FhirErrorOutcomeSchema, 'ErrorOperationOutcome');
  const registry = z.toJSONSchema(z.globalRegistry, { target: 'draft-2020-12', io: 'output', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` }) as {
    schemas: Record<string, Record<string, unknown>>;
  };
  const schemas: Record<string, unknown> = {};
  for (const [id, s] of Object.entries(registry.schemas)) {
    const { $schema: _s, $id: _i, ...rest } = s;
    schemas[id] = rest;
  }
  for (const p of pending) p.media.example = p.example ?? exampleFor({ $ref: `#/components/schemas/${p.id}` }, schemas as Parameters<typeof exampleFor>[1]);

  return {
    openapi: '3.1.0',
    info: {
      title: 'MDRP API',
      version: opts.version,
      description:
        'Multimodal disease-specific research data platform: ingestion, catalogue, access governance, audit, FHIR R4 facade and partner integration. Errors use { error: { code, message, details, correlationId } }.',
    },
    ...(opts.serverUrl ? { servers: [{ url: opts.serverUrl }] } : {}),
    tags: [...new Set(routes.flatMap((r) => r.tags))].map((t) => ({ name: t })),
    paths,
    components: {
      schemas,
      securitySchemes: {
        cognitoUser: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Cognito ID token of a signed-in user' },
        partnerApiKey: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'API key bound to the partner usage plan' },
        partnerOAuth: {
          type: 'oauth2',
          flows: {
            clientCredentials: {
              tokenUrl: '/oauth2/token',
              scopes: {
                'catalog.read': 'Read the dataset catalogue',
                'access-requests.write': 'Submit access requests',
                'access-requests.read': 'Track access requests',
                'grants.read': 'Read grants of the partner institution',
                'fhir.read': 'Read the FHIR R4 facade',
                'ingest.write': 'Upload data into staging',
              },
            },
          },
        },
      },
    },
  };
}
