import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AuditEvent } from '../../functions/core/audit/audit-event';
import type { Container } from '../../functions/composition/container';
import type { ApiHandler } from '../../functions/http/make-api-handler';
import type { RouteDefinition } from '../../functions/http/route-definition';
import type { PartnerEdgeGate } from '../../functions/core/partners/partner-edge-gate';
import type { PartnerAuthorizerContext } from '../../functions/core/partners/partner-edge-decision';
import { PARTNER_EDGE } from '../../functions/core/partners/usage-plans';
import { derivePartnerScopes } from '../../functions/http/partner-scopes';

/** Largest body the front accepts for any route (API Gateway's hard limit is 10 MB). */
const EDGE_MAX_BODY = 10 * 1024 * 1024;

export interface HttpFrontOptions {
  port: number;
  routes: readonly RouteDefinition[];
  /** Handler per module: the same `makeApiHandler` functions Lambda runs. */
  handlers: Record<string, ApiHandler>;
  container: Container;
  /** Cognito issuer (`<endpoint>/<poolId>`) and the portal app client id, for ID-token checks. */
  cognito: { issuer: string; jwksUrl: string; clientId: string };
  allowedOrigin: string;
  /**
   * Partner calls (`x-api-key` on a `partner` / `user-or-partner` route): the same decision the
   * AWS Lambda authorizer makes, plus the usage-plan metering API Gateway does (R-SEC-7).
   */
  partnerEdge?: PartnerEdgeGate;
}

/** Who a rejected call is attributed to in the audit trail (never a credential value). */
interface RejectionContext {
  partnerId?: string;
  keyId?: string;
  reason?: string;
  retryAfterSeconds?: number;
  wwwAuthenticate?: string;
}

/**
 * The local stand-in for API Gateway: matches the route table, answers CORS preflights, verifies
 * Cognito ID tokens like the Cognito authorizer (issuer, audience, signature, expiry, token_use),
 * enforces body limits, and invokes the module's Lambda handler with a REST-API proxy event.
 * Partner calls (API key + client-credentials token) go through the partner edge decision the
 * AWS Lambda authorizer also runs, with usage plans metered here as API Gateway meters them.
 * Calls rejected here never reach a handler and are audited here.
 */
export async function startHttpFront(opts: HttpFrontOptions): Promise<{ url: string; close(): Promise<void> }> {
  const jwks = createRemoteJWKSet(new URL(opts.cognito.jwksUrl));
  const matchers = opts.routes.map((r) => ({
    route: r,
    re: pathPattern(r.path),
  }));

  const cors = {
    'access-control-allow-origin': opts.allowedOrigin,
    'access-control-allow-headers': 'authorization,content-type,x-api-key,x-correlation-id',
    'access-control-allow-methods': 'GET,POST,PUT,PATCH,DELETE,OPTIONS',
    'access-control-max-age': '600',
    vary: 'Origin',
  };

  const reject = async (req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string, operation: string, ctx: RejectionContext = {}) => {
    const correlationId = randomUUID();
    const event: AuditEvent = {
      eventId: opts.container.ids.next('evt'),
      time: new Date(opts.container.clock.now()).toISOString(),
      correlationId,
      category: 'security',
      operation,
      actor: ctx.partnerId ? { kind: 'partner', id: ctx.partnerId, roles: [] } : { kind: 'anonymous', id: 'anonymous', roles: [] },
      source: { ip: req.socket.remoteAddress ?? undefined, userAgent: String(req.headers['user-agent'] ?? '').slice(0, 256) || undefined },
      resources: ctx.keyId ? [{ type: 'ApiKey', id: ctx.keyId }] : [],
      parameters: { path: (req.url ?? '').split('?')[0]!.slice(0, 256), ...(ctx.reason ? { reason: ctx.reason } : {}) },
      result: { outcome: status === 401 || status === 403 ? 'denied' : 'failure', status, errorCode: code },
    };
    try {
      await opts.container.audit.write(event);
    } catch {
      status = 503;
      code = 'DEPENDENCY_UNAVAILABLE';
      message = 'audit trail unavailable';
    }
    const extra: Record<string, string> = {};
    if (status === 429 && ctx.retryAfterSeconds) extra['retry-after'] = String(ctx.retryAfterSeconds);
    if (status === 401 && ctx.wwwAuthenticate) extra['www-authenticate'] = ctx.wwwAuthenticate;
    res.writeHead(status, { ...cors, ...extra, 'content-type': 'application/json; charset=utf-8', 'x-correlation-id': correlationId, 'cache-control': 'no-store' });
    res.end(JSON.stringify({ error: { code, message, details: ctx.reason ? { reason: ctx.reason } : {}, correlationId } }));
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, cors);
        return res.end();
      }
      const found = matchers.map((m) => ({ m, hit: m.re.exec(url.pathname) })).filter((x) => x.hit);
      const match = found.find((x) => x.m.route.method === req.method);
      if (!match) {
        const status = found.length ? 405 : 404;
        return reject(req, res, status, found.length ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND', found.length ? 'method not allowed' : 'no such resource', `${req.method} ${url.pathname}`);
      }
      const route = match.m.route;

      // A partner call: an API key on a route partners may use (in AWS: the partner API).
      const apiKey = header(req, PARTNER_EDGE.apiKeyHeader);
      // Locally one port serves both APIs, so a call is a partner's when it carries an API key or
      // a client-credentials access token (which a partner sending no key must be told it lacks).
      const partnerCall = route.auth === 'partner' || (route.auth === 'user-or-partner' && (apiKey !== undefined || isClientCredentialsToken(req.headers.authorization)));
      const routeMax = route.request?.maxBodyBytes ?? EDGE_MAX_BODY;
      const body = await readBody(req, partnerCall ? Math.min(routeMax, PARTNER_EDGE.maxBodyBytes) : routeMax);
      if (body === 'too-large') return reject(req, res, 413, 'PAYLOAD_TOO_LARGE', 'request body too large', route.operationId, partnerCall ? { reason: 'body-too-large' } : {});

      let claims: JWTPayload | undefined;
      let partner: PartnerAuthorizerContext | undefined;
      const auth = req.headers.authorization;
      if (partnerCall) {
        if (!opts.partnerEdge) return reject(req, res, 403, 'FORBIDDEN', 'partner access is not configured', route.operationId);
        // The TCP peer, never X-Forwarded-For (a caller could forge it to pass the allow-list).
        const decision = await opts.partnerEdge.check({ apiKey, authorization: auth, sourceIp: req.socket.remoteAddress ?? '', requiredScopes: derivePartnerScopes(route) });
        if (!decision.allow) {
          const tokenProblem = decision.reason.startsWith('token-');
          return reject(req, res, decision.status, decision.code, decision.message, route.operationId, {
            partnerId: decision.partnerId,
            keyId: decision.keyId,
            reason: decision.reason,
            retryAfterSeconds: decision.retryAfterSeconds,
            wwwAuthenticate: tokenProblem ? `Bearer error="invalid_token"` : undefined,
          });
        }
        partner = decision.context;
      } else if (route.auth !== 'none' && auth) {
        const token = /^Bearer (.+)$/i.exec(auth)?.[1];
        try {
          if (!token) throw new Error('not a bearer token');
          const verified = await jwtVerify(token, jwks, { issuer: opts.cognito.issuer, audience: opts.cognito.clientId });
          if (verified.payload.token_use !== 'id') throw new Error('not an ID token');
          claims = verified.payload;
        } catch {
          return reject(req, res, 401, 'UNAUTHENTICATED', 'invalid or expired token', route.operationId);
        }
      }
      if ((route.auth === 'user' || route.auth === 'user-or-partner') && !claims && !partner) {
        return reject(req, res, 401, 'UNAUTHENTICATED', 'authentication required', route.operationId);
      }

      const query: Record<string, string> = {};
      const multiQuery: Record<string, string[]> = {};
      for (const [k, v] of url.searchParams) {
        query[k] = v;
        (multiQuery[k] ??= []).push(v);
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const requestId = randomUUID();
      const event = {
        resource: route.path,
        path: url.pathname,
        httpMethod: route.method,
        headers,
        multiValueHeaders: {},
        queryStringParameters: Object.keys(query).length ? query : null,
        multiValueQueryStringParameters: Object.keys(multiQuery).length ? multiQuery : null,
        pathParameters: match.hit!.groups ? Object.fromEntries(Object.entries(match.hit!.groups).map(([k, v]) => [k, decodeURIComponent(v)])) : null,
        stageVariables: null,
        body: body.length ? body.toString('utf8') : null,
        isBase64Encoded: false,
        requestContext: {
          requestId,
          resourcePath: route.path,
          httpMethod: route.method,
          stage: 'local',
          identity: { sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: req.headers['user-agent'] ?? null, apiKeyId: partner?.apiKeyId ?? null },
          // A Lambda authorizer's context is flat strings (partners); the Cognito authorizer's is `claims`.
          authorizer: partner ? { principalId: partner.partnerId, ...partner } : claims ? { claims } : null,
        },
      } as unknown as APIGatewayProxyEvent;
      const context = { functionName: `mdrp-${route.module}`, awsRequestId: requestId, functionVersion: '$LATEST', memoryLimitInMB: '512', invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:mdrp-${route.module}`, getRemainingTimeInMillis: () => 29_000 } as unknown as Context;
      const handler = opts.handlers[route.module];
      if (!handler) return reject(req, res, 502, 'INTERNAL', 'no handler', route.operationId);
      const out = await handler(event, context);
      res.writeHead(out.statusCode, { ...(out.headers as Record<string, string>) });
      res.end(out.isBase64Encoded ? Buffer.from(out.body, 'base64') : out.body);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'INTERNAL', message: 'bad gateway', details: {} } }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${opts.port}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** An (unverified) peek at a bearer token: a client-credentials access token has `client_id` and is no ID token. */
function isClientCredentialsToken(authorization: string | undefined): boolean {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (!token) return false;
  try {
    const claims = decodeJwt(token);
    return typeof claims.client_id === 'string' && claims.token_use !== 'id';
  } catch {
    return false;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) {
      req.resume();
      return resolve('too-large');
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.destroy();
        resolve('too-large');
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** `/v1/datasets/{datasetId}` → a regex with a named group per path parameter. */
function pathPattern(path: string): RegExp {
  const parts = path.split('/').map((seg) => {
    const param = /^\{(\w+)\}$/.exec(seg)?.[1];
    return param ? `(?<${param}>[^/]+)` : seg.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^${parts.join('/')}$`);
}
