import { z } from 'zod';
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

  for (const r of routes) {
    const cap = r.operationId[0]!.toUpperCase() + r.operationId.slice(1);
    const parameters: unknown[] = [];
    for (const [where, schema] of [['path', r.request?.params], ['query', r.request?.query]] as const) {
      if (!schema) continue;
      const js = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [pname, pschema] of Object.entries(js.properties ?? {})) {
        parameters.push({ name: pname, in: where, required: where === 'path' || (js.required ?? []).includes(pname), schema: pschema });
      }
    }
    for (const m of r.path.matchAll(/\{(\w+)\}/g)) {
      if (!parameters.some((p) => (p as { name: string }).name === m[1])) parameters.push({ name: m[1], in: 'path', required: true, schema: { type: 'string' } });
    }
    const media = r.contentType ?? 'application/json';
    const responses: Record<string, unknown> = {
      [String(r.successStatus ?? 200)]: { description: 'Success', content: { [media]: { schema: ref(name(r.response, `${cap}Response`)) } } },
    };
    for (const [code, description] of Object.entries(ERROR_RESPONSES)) {
      if (code === '401' && r.auth === 'none') continue;
      responses[code] = { description, content: { 'application/json': { schema: ref('Error') } } };
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
        ? { requestBody: { required: true, content: { 'application/json': { schema: ref(name(r.request.body, `${cap}Request`)) } } } }
        : {}),
      responses,
    };
  }

  name(ErrorSchema, 'Error');
  const registry = z.toJSONSchema(z.globalRegistry, { target: 'draft-2020-12', io: 'output', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` }) as {
    schemas: Record<string, Record<string, unknown>>;
  };
  const schemas: Record<string, unknown> = {};
  for (const [id, s] of Object.entries(registry.schemas)) {
    const { $schema: _s, $id: _i, ...rest } = s;
    schemas[id] = rest;
  }

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
