import middy from '@middy/core';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AuditEvent } from '../core/audit/audit-event';
import type { AuthzDecision, AuthzResource } from '../core/authz/authorizer';
import { DomainError, ForbiddenError, UnauthenticatedError, ValidationError } from '../core/errors';
import type { Container } from '../composition/container';
import { actorFromEvent } from './actor-from-event';
import { toErrorResponse } from './error-response';
import { errorCodeOfOutcome, FHIR_JSON, toOperationOutcome } from './fhir-error';
import { HttpResult, type AuditNotes, type OperationContext, type OperationMap } from './operation';
import { PLATFORM_RESOURCE, type HandlerModule, type RouteDefinition } from './route-definition';
import { routesOf } from './routes';

export interface Observability {
  logger: Logger;
  tracer?: Tracer;
  metrics?: Metrics;
}

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const CORRELATION_ID = /^[A-Za-z0-9._-]{8,64}$/;

/**
 * Builds the Lambda handler of one module. Every request goes through the same steps, in this
 * order, whichever route it is: correlation id → actor (from the authorizer's verified claims) →
 * input validation → route-level authorization (Cedar) → operation → response validation →
 * audit (allow and deny alike; a failed audit write fails the request: fail closed).
 *
 * The local HTTP front calls the very same function, so local behaviour is Lambda behaviour.
 */
export function makeApiHandler(module: HandlerModule, operations: OperationMap, getContainer: () => Promise<Container>, obs: Observability): ApiHandler {
  const table = new Map(routesOf(module).map((r) => [`${r.method} ${r.path}`, r]));
  for (const r of table.values()) if (!operations[r.operationId]) throw new Error(`no implementation for ${r.operationId}`);

  const base = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const container = await getContainer();
    const started = container.clock.now();
    const header = lowerKeys(event.headers ?? {});
    const correlationId = CORRELATION_ID.test(header['x-correlation-id'] ?? '') ? header['x-correlation-id']! : (event.requestContext?.requestId ?? randomUUID());
    obs.logger.appendKeys({ correlationId });
    const route = table.get(`${event.httpMethod} ${event.resource}`);
    const actor = actorFromEvent(event);
    const notes: AuditNotes = { resources: [], parameters: {} };
    const decisions: AuthzDecision[] = [];
    let status = 500;
    let payload: APIGatewayProxyResult;

    try {
      if (!route) throw new DomainError('NOT_FOUND', 'no such operation');
      if (route.auth !== 'none' && actor.kind === 'anonymous') throw new UnauthenticatedError();
      if (route.auth === 'user' && actor.kind !== 'user') throw new ForbiddenError('this operation is for signed-in users');
      if (route.auth === 'partner' && actor.kind !== 'partner') throw new ForbiddenError('this operation is for partner systems');
      const input = parseInput(route, event, header);
      // Runtime policy changes (R-GOV-7): pick up a new stored policy version (TTL-bounded check).
      await container.authorizer.refresh();
      const decide = (action: string, resource: AuthzResource) => {
        const d = container.authorizer.decide({ actor, action, resource });
        decisions.push(d);
        if (d.effect !== 'allow') throw new ForbiddenError('access denied', { action, resourceType: resource.type });
      };
      decide(route.action, route.resource ? route.resource({ params: input.params, query: event.multiValueQueryStringParameters ?? {} }) : PLATFORM_RESOURCE);
      const ctx: OperationContext = { actor, ...input, correlationId, container, authorize: decide, audit: notes, headers: withoutCredentials(header), multiQuery: multiQueryOf(event) };
      const result = await operations[route.operationId]!(ctx);
      payload = render(route, result, correlationId, container.config.allowedOrigin);
      status = payload.statusCode;
    } catch (e) {
      const { status: s, body } = toErrorResponse(e, correlationId);
      status = s;
      if (s >= 500) obs.logger.error('operation failed', { operationId: route?.operationId, error: e as Error });
      else obs.logger.info('operation refused', { operationId: route?.operationId, code: body.error.code });
      // FHIR routes answer errors as an OperationOutcome (R-INT-1); the code stays machine-readable.
      payload = route?.contentType === FHIR_JSON ? json(s, toOperationOutcome(s, body), correlationId, container.config.allowedOrigin, FHIR_JSON) : json(s, body, correlationId, container.config.allowedOrigin);
    }

    const event_: AuditEvent = {
      eventId: container.ids.next('evt'),
      time: new Date(container.clock.now()).toISOString(),
      correlationId,
      category: route?.auditCategory ?? 'security',
      operation: route?.operationId ?? `${event.httpMethod} ${event.path}`,
      actor: { kind: actor.kind, id: actor.id, roles: actor.roles, ...(actor.institution ? { institution: actor.institution } : {}), ...(actor.apiKeyId ? { apiKeyId: actor.apiKeyId } : {}) },
      source: { ...(actor.sourceIp ? { ip: actor.sourceIp } : {}), ...(actor.userAgent ? { userAgent: actor.userAgent.slice(0, 256) } : {}) },
      resources: notes.resources,
      parameters: notes.parameters,
      ...(decisions.length ? { decision: summarize(decisions) } : {}),
      result: {
        outcome: status < 400 ? 'success' : status === 401 || status === 403 ? 'denied' : 'failure',
        status,
        ...(status >= 400 ? { errorCode: errorCodeOf(payload) } : {}),
        ...(notes.count !== undefined ? { count: notes.count } : {}),
      },
    };
    try {
      await container.audit.write(event_);
    } catch (e) {
      // Fail closed: an unaudited answer is not given (R-AUD-1, issue "audit never silently drops").
      obs.logger.error('audit write failed', { operationId: route?.operationId, error: e as Error });
      const { body } = toErrorResponse(new DomainError('DEPENDENCY_UNAVAILABLE', 'audit trail unavailable'), correlationId);
      return json(503, body, correlationId, container.config.allowedOrigin);
    }
    obs.metrics?.addMetric(status < 400 ? 'RequestSucceeded' : 'RequestFailed', MetricUnit.Count, 1);
    obs.metrics?.addMetric('Latency', MetricUnit.Milliseconds, container.clock.now() - started);
    obs.logger.info('request', { operationId: route?.operationId, status, ms: container.clock.now() - started });
    return payload;
  };

  const handler = middy(base).use(injectLambdaContext(obs.logger, { resetKeys: true }));
  if (obs.tracer) handler.use(captureLambdaHandler(obs.tracer));
  if (obs.metrics) handler.use(logMetrics(obs.metrics));
  return handler as unknown as ApiHandler;
}

function parseInput(route: RouteDefinition, event: APIGatewayProxyEvent, header: Record<string, string>) {
  const issues = (e: z.ZodError) => e.issues.map((i) => ({ path: i.path.join('.'), message: i.message, code: i.code }));
  const check = <T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T => {
    if (!schema) return value as T;
    const r = schema.safeParse(value);
    if (!r.success) throw new ValidationError(`invalid ${where}`, { in: where, issues: issues(r.error) });
    return r.data;
  };
  const params = check(route.request?.params, event.pathParameters ?? {}, 'path') as Record<string, string>;
  const query = check(route.request?.query, event.queryStringParameters ?? {}, 'query') as Record<string, unknown>;
  let body: unknown = undefined;
  if (route.request?.body) {
    const raw = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
    const max = route.request.maxBodyBytes ?? 1024 * 1024;
    if (Buffer.byteLength(raw, 'utf8') > max) throw new DomainError('PAYLOAD_TOO_LARGE', 'request body too large', { maxBytes: max });
    if (!/^application\/(json|fhir\+json)\b/.test(header['content-type'] ?? '')) throw new DomainError('UNSUPPORTED_MEDIA_TYPE', 'send application/json');
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new ValidationError('body is not valid JSON', { in: 'body' });
    }
    body = check(route.request.body, parsed, 'body');
  }
  return { params, query, body };
}

function render(route: RouteDefinition, result: unknown, correlationId: string, origin: string): APIGatewayProxyResult {
  if (result instanceof HttpResult) {
    const isBinary = result.body instanceof Uint8Array;
    return {
      statusCode: result.status,
      headers: { ...baseHeaders(correlationId, origin), 'content-type': route.contentType ?? 'application/json', ...result.headers },
      body: isBinary ? Buffer.from(result.body as Uint8Array).toString('base64') : typeof result.body === 'string' ? result.body : JSON.stringify(result.body),
      isBase64Encoded: isBinary,
    };
  }
  // The response schema is the contract: it is enforced, and unknown fields are stripped, so an
  // operation cannot leak a field the API does not declare.
  const checked = route.response.safeParse(result);
  if (!checked.success) throw new Error(`response of ${route.operationId} does not match its schema: ${checked.error.message}`);
  const res = json(route.successStatus ?? 200, checked.data, correlationId, origin);
  if (route.contentType) res.headers!['content-type'] = route.contentType;
  return res;
}

function json(status: number, body: unknown, correlationId: string, origin: string, contentType = 'application/json'): APIGatewayProxyResult {
  return { statusCode: status, headers: { ...baseHeaders(correlationId, origin), 'content-type': `${contentType}; charset=utf-8` }, body: JSON.stringify(body) };
}

/** Headers an operation may read: credentials stay in the pipeline (the actor is already verified). */
function withoutCredentials(h: Record<string, string>): Record<string, string> {
  const { authorization: _a, 'x-api-key': _k, cookie: _c, ...rest } = h;
  return rest;
}

/** Every value of every query parameter (FHIR search repeats parameters: `date=ge…&date=lt…`). */
function multiQueryOf(event: APIGatewayProxyEvent): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(event.multiValueQueryStringParameters ?? {})) if (v?.length) out[k] = [...v];
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) if (v !== undefined && !out[k]) out[k] = [v];
  return out;
}

function baseHeaders(correlationId: string, origin: string): Record<string, string> {
  return {
    'x-correlation-id': correlationId,
    // Responses may hold research data: never cached by browsers or proxies.
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'access-control-allow-origin': origin,
    'access-control-expose-headers': 'x-correlation-id,retry-after',
    vary: 'Origin',
  };
}

function summarize(decisions: AuthzDecision[]): { effect: 'allow' | 'deny'; policyIds: string[] } {
  const denied = decisions.find((d) => d.effect === 'deny');
  return { effect: denied ? 'deny' : 'allow', policyIds: [...new Set((denied ? [denied] : decisions).flatMap((d) => d.policyIds))] };
}

function errorCodeOf(res: APIGatewayProxyResult): string | undefined {
  try {
    const body = JSON.parse(res.body) as { error?: { code?: string }; resourceType?: string };
    return body.resourceType === 'OperationOutcome' ? errorCodeOfOutcome(body) : body.error?.code;
  } catch {
    return undefined;
  }
}

function lowerKeys(h: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k.toLowerCase()] = v;
  return out;
}

