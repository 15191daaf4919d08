import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../../functions/http/openapi';
import { routes } from '../../../functions/http/routes';

type Media = { schema: Record<string, unknown>; example?: unknown };
type Operation = {
  operationId: string;
  parameters?: Array<{ name: string; in: string; schema: Record<string, unknown>; example?: unknown }>;
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media> }>;
};

const doc = buildOpenApiDocument(routes, { version: '0.0.0' }) as { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };
const operations = Object.values(doc.paths).flatMap((p) => Object.values(p));

/** The document's own schemas, with `#/components/schemas/...` references resolvable. */
function validator() {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: 'https://mdrp.example.org/openapi.json', components: doc.components });
  const at = (schema: Record<string, unknown>) =>
    typeof schema.$ref === 'string' ? { $ref: `https://mdrp.example.org/openapi.json${schema.$ref}` } : schema;
  return (schema: Record<string, unknown>, value: unknown): string | undefined => {
    const validate = ajv.compile(at(schema));
    return validate(value) ? undefined : ajv.errorsText(validate.errors);
  };
}

describe('OpenAPI examples (R-INT-2)', () => {
  const check = validator();

  it('R-INT-2: every operation has an example for each parameter, its request body and every response', () => {
    expect(operations.length).toBe(routes.length);
    const missing: string[] = [];
    for (const op of operations) {
      for (const p of op.parameters ?? []) if (p.example === undefined) missing.push(`${op.operationId} ${p.in} ${p.name}`);
      for (const [mt, m] of Object.entries(op.requestBody?.content ?? {})) if (m.example === undefined) missing.push(`${op.operationId} request ${mt}`);
      for (const [status, r] of Object.entries(op.responses)) for (const [mt, m] of Object.entries(r.content ?? {})) if (m.example === undefined) missing.push(`${op.operationId} ${status} ${mt}`);
    }
    expect(missing).toEqual([]);
  });

  it('R-INT-2: every example validates against its own schema (ajv, JSON Schema 2020-12)', () => {
    const invalid: string[] = [];
    let checked = 0;
    for (const op of operations) {
      for (const p of op.parameters ?? []) {
        const e = check(p.schema, p.example);
        checked++;
        if (e) invalid.push(`${op.operationId} ${p.in} ${p.name}: ${e}`);
      }
      const media = [
        ...Object.entries(op.requestBody?.content ?? {}).map(([mt, m]) => [`request ${mt}`, m] as const),
        ...Object.entries(op.responses).flatMap(([status, r]) => Object.entries(r.content ?? {}).map(([mt, m]) => [`${status} ${mt}`, m] as const)),
      ];
      for (const [where, m] of media) {
        const e = check(m.schema, m.example);
        checked++;
        if (e) invalid.push(`${op.operationId} ${where}: ${e}`);
      }
    }
    expect(invalid).toEqual([]);
    expect(checked).toBeGreaterThan(routes.length * 8);
  });

  it('R-INT-2: a wrong example is caught (the check can fail)', () => {
    const op = operations.find((o) => o.operationId === 'onboardPartner')!;
    const body = op.requestBody!.content['application/json']!;
    expect(check(body.schema, body.example)).toBeUndefined();
    expect(check(body.schema, { ...(body.example as object), allowedCidrs: ['not-a-cidr'] })).toMatch(/pattern/);
  });

  it('R-INT-2: error examples are the bodies the platform answers (Error, or OperationOutcome on FHIR routes)', () => {
    const listDatasets = operations.find((o) => o.operationId === 'listDatasets')!;
    expect(listDatasets.responses['429']!.content!['application/json']!.example).toMatchObject({ error: { code: 'RATE_LIMITED', details: { reason: 'rate-limited' } } });
    const search = operations.find((o) => o.operationId === 'searchFhirResources')!;
    expect(search.responses['400']!.content!['application/fhir+json']!.example).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'invalid' }] });
  });
});
