import { z } from 'zod';
import { derivePartnerScopes as deriveRouteScopes } from '../../functions/http/partner-scopes';
import type { RouteDefinition } from '../../functions/http/route-definition';
import type { PartnerScope } from './identity';

/**
 * OAuth scopes a partner token must carry for a route (R-SEC-6). Taken from the route when it
 * declares `partnerScopes`; otherwise derived from the module and method. Synth fails for a
 * partner route whose scope cannot be derived, so no route is ever exposed without one.
 */
export function partnerScopesFor(route: RouteDefinition): PartnerScope[] {
  const scopes = derivePartnerScopes(route);
  if (!scopes) {
    throw new Error(
      `route ${route.operationId} (${route.module}) is reachable by partners but no OAuth scope is known for it: add \`partnerScopes\` to the route or a rule in infra/constructs/route-mapping.ts`,
    );
  }
  return scopes;
}

/** Like {@link partnerScopesFor}, `undefined` when no scope can be derived (one rule shared with the partner edge). */
export function derivePartnerScopes(route: RouteDefinition): PartnerScope[] | undefined {
  return deriveRouteScopes(route);
}

/** Logical-id-safe name for an operation (`createIngestUpload` → `CreateIngestUpload`). */
export function pascal(operationId: string): string {
  return operationId.replace(/(^|[^A-Za-z0-9]+)([A-Za-z0-9])/g, (_m, _s, c: string) => c.toUpperCase());
}

type Json = Record<string, unknown>;

/** Resolves local `#/definitions/…` references: API Gateway models accept only one self-contained schema. */
function inlineRefs(node: unknown, defs: Record<string, unknown>, seen: string[] = []): unknown {
  if (Array.isArray(node)) return node.map((n) => inlineRefs(n, defs, seen));
  if (!node || typeof node !== 'object') return node;
  const obj = node as Json;
  const ref = obj.$ref;
  if (typeof ref === 'string' && ref.startsWith('#/definitions/')) {
    const name = ref.slice('#/definitions/'.length);
    if (seen.includes(name)) return {}; // recursive schema: accept anything below this level
    return inlineRefs(defs[name] ?? {}, defs, [...seen, name]);
  }
  const out: Json = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'definitions' || k === '$schema' || k === 'id' || k === '$id') continue;
    // Regex dialects differ between zod (ECMAScript) and API Gateway's validator, and `format`
    // support varies: keep those checks in the handler only, so a valid request is never
    // rejected at the edge and no model fails to deploy.
    if ((k === 'pattern' || k === 'format') && typeof v === 'string') continue;
    out[k] = inlineRefs(v, defs, seen);
  }
  return out;
}

/**
 * JSON Schema (draft 4, what API Gateway models accept) of a route's request body, so API
 * Gateway rejects malformed bodies before any Lambda runs. Refinements that JSON Schema cannot
 * express are checked again by the handler (zod is the authority).
 */
export function bodySchema(route: RouteDefinition): Json | undefined {
  const body = route.request?.body;
  if (!body) return undefined;
  let raw: Json;
  try {
    raw = z.toJSONSchema(body, { target: 'draft-4', io: 'input', unrepresentable: 'any' }) as Json;
  } catch {
    return undefined; // not expressible as JSON Schema: the handler validates alone
  }
  const defs = (raw.definitions ?? {}) as Record<string, unknown>;
  return inlineRefs(raw, defs) as Json;
}

/** `method.request.querystring.x` → required? for every declared query parameter. */
export function queryParameters(route: RouteDefinition): Record<string, boolean> {
  const shape = (route.request?.query as unknown as { shape?: Record<string, z.ZodType> } | undefined)?.shape ?? {};
  return Object.fromEntries(Object.entries(shape).map(([k, v]) => [`method.request.querystring.${k}`, !v.safeParse(undefined).success]));
}

/** `method.request.path.x` → true for every `{x}` of the path. */
export function pathParameters(route: RouteDefinition): Record<string, boolean> {
  return Object.fromEntries([...route.path.matchAll(/\{([^}+]+)\+?\}/g)].map((m) => [`method.request.path.${m[1]}`, true]));
}

/** Anchored regex matching the route's path on a stage URL (`/<stage>/v1/…`) or a custom domain (`/v1/…`). */
export function pathRegex(route: RouteDefinition): string {
  const body = route.path
    .split('/')
    .map((seg) => (/^\{.+\}$/.test(seg) ? '[^/]+' : seg.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
    .join('/');
  return `^(/[^/]+)?${body}/?$`;
}
