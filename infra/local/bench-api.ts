import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import autocannon from 'autocannon';
import { decodeJwt } from 'jose';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fhirServicesOf } from '../../functions/composition/fhir-services';
import type { Actor } from '../../functions/core/identity/actor';
import { operations as fhirOperations } from '../../functions/handlers/fhir.handler';
import { makeApiHandler } from '../../functions/http/make-api-handler';
import { REPO_ROOT, startPlatform, type RunningPlatform } from './platform';
import { freePort } from './emulators/process-utils';

/**
 * `npm run bench:api [-- --seconds 10 --connections 8]`: a FHIR search of 20 Observations
 * (`/fhir/R4/Observation?patient=<id>&_count=20`, one researcher holding a grant) measured three
 * ways in one run, on one private local platform (in-memory DynamoDB Local, s3rver, cognito-local):
 *
 * 1. `operation` — the facade's search called in-process (the handler's own work: grant checks,
 *    DynamoDB reads, de-identification, Bundle);
 * 2. `lambda` — the module's Lambda handler invoked in-process with an API Gateway event (adds the
 *    pipeline: validation, Cedar, response rendering, the audit write);
 * 3. `front` — autocannon through the local API Gateway front over HTTP (adds HTTP, ID token
 *    verification against the Cognito JWKS, routing).
 *
 * Latency (p50/p99) is measured with one request at a time; throughput (req/s) with `connections`
 * concurrent requests. The overhead ratio is (front p50 − operation p50) / operation p50, the
 * issue's target being ≤ 25 %. Results go to bench/results/api.json.
 */

interface Stats {
  requests: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  rps: number;
}

const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const SECONDS = arg('seconds', 10);
const CONNECTIONS = arg('connections', 8);

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summarize(samples: number[], wallMs: number): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const r = (n: number) => Math.round(n * 100) / 100;
  return { requests: s.length, p50: r(percentile(s, 50)), p90: r(percentile(s, 90)), p99: r(percentile(s, 99)), mean: r(s.reduce((a, b) => a + b, 0) / s.length), rps: r((s.length / wallMs) * 1000) };
}

/** Runs `fn` for `seconds` with `concurrency` workers; per-call latencies in ms. */
async function loop(seconds: number, concurrency: number, fn: () => Promise<void>): Promise<Stats> {
  const samples: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await fn();
        samples.push(performance.now() - t);
      }
    }),
  );
  return summarize(samples, performance.now() - start);
}

async function cannon(url: string, token: string, seconds: number, connections: number): Promise<Stats> {
  const r = await autocannon({ url, connections, duration: seconds, headers: { authorization: `Bearer ${token}` } });
  if (r.non2xx || r.errors) throw new Error(`front run had ${r.non2xx} non-2xx responses and ${r.errors} errors`);
  return { requests: r.requests.total, p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, mean: r.latency.mean, rps: r.requests.average };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mdrp-bench-api-'));
  let platform: RunningPlatform | undefined;
  try {
    const [apiPort, webPort, dynamoPort, s3Port, cognitoPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    console.log('starting a private local platform (24 demo patients)…');
    platform = await startPlatform({ dataDir: join(dir, 'data'), apiPort, webPort, dynamoPort, s3Port, cognitoPort, quiet: true, schedulerIntervalMs: 500, inMemoryDatabase: true, waitForSeed: true, demoPatients: 24, portal: false });
    const p = platform;
    const cognito = new CognitoIdentityProviderClient({ region: 'us-east-1', endpoint: p.cognito.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const token = async (username: string) => {
      const account = p.accounts.find((a) => a.username === username)!;
      const out = await cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: p.cognito.userPoolClientId, AuthParameters: { USERNAME: username, PASSWORD: account.password } }));
      return out.AuthenticationResult!.IdToken!;
    };
    const call = async (tok: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${p.apiUrl}${path}`, { method, headers: { authorization: `Bearer ${tok}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      return { status: res.status, json: (await res.json().catch(() => undefined)) as Record<string, unknown> & { [k: string]: any } }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };

    // A grant for the researcher, through the real review chain.
    const researcher = await token('researcher');
    const reviewers: Array<[string, string]> = [['ethics-reviewer', 'ethics'], ['approver', 'approver'], ['data-owner', 'data-owner']];
    const submitted = await call(researcher, 'POST', '/v1/access-requests', {
      title: 'API benchmark cohort',
      purposeCode: 'DUO:0000007',
      purpose: 'Benchmark of the FHIR facade on the disease-specific demo cohort',
      academicStatement: 'Synthetic demo data only; measures the platform API, no research conclusions are drawn.',
      scope: { datasetIds: ['bc-nrt-io'], modalities: [], fields: [] },
      requestedDurationDays: 30,
      agreementVersion: 'DSA-2026.1',
      agreementAccepted: true,
    });
    const requestId = submitted.json.requestId as string;
    for (const [user, step] of reviewers) {
      const tok = await token(user);
      for (let i = 0; ; i++) {
        const q = await call(tok, 'GET', '/v1/access-requests?view=queue');
        if ((q.json.items as Array<{ requestId: string }>).some((r) => r.requestId === requestId)) break;
        if (i > 300) throw new Error(`request never reached the ${step} step`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const d = await call(tok, 'POST', `/v1/access-requests/${requestId}/decisions`, { step, outcome: 'approved', comment: 'benchmark' });
      if (d.status !== 200) throw new Error(`decision ${step} failed: ${d.status}`);
    }
    for (let i = 0; ; i++) {
      if ((await call(researcher, 'GET', `/v1/access-requests/${requestId}`)).json.status === 'approved') break;
      if (i > 300) throw new Error('grant not issued');
      await new Promise((r) => setTimeout(r, 100));
    }

    // The released patient with the most Observations (at least 20 for a full page).
    const patients = (await call(researcher, 'GET', '/fhir/R4/Patient?_count=100')).json.entry as Array<{ resource: { id: string } }>;
    let best = { id: '', n: -1 };
    for (const e of patients) {
      const n = (await call(researcher, 'GET', `/fhir/R4/Observation?patient=${e.resource.id}&_summary=count`)).json.total as number;
      if (n > best.n) best = { id: e.resource.id, n };
    }
    if (best.n < 20) throw new Error(`no released patient has 20 Observations (most: ${best.n})`);
    const path = `/fhir/R4/Observation?patient=${best.id}&_count=20`;
    const page = await call(researcher, 'GET', path);
    if ((page.json.entry as unknown[]).length !== 20) throw new Error('the benchmark page does not hold 20 Observations');
    console.log(`search: ${path} (20 of ${best.n} Observations)`);

    // In-process: the operation itself, and the Lambda handler with an API Gateway event.
    const claims = decodeJwt(researcher) as Record<string, unknown>;
    const actor: Actor = { kind: 'user', id: String(claims.sub), username: 'researcher', roles: ['researcher'], institution: String(claims['custom:institution'] ?? 'demo-hospital-1'), mfa: false, scopes: [] };
    const facade = fhirServicesOf(p.container).facade;
    const query = { patient: [best.id], _count: ['20'] };
    const operation = async () => {
      const r = await facade.search(actor, 'Observation', query, { base: `${p.apiUrl}/fhir/R4` });
      if (r.bundle.entry?.length !== 20) throw new Error('operation returned a different page');
    };
    const lambda = makeApiHandler('fhir', fhirOperations, async () => p.container, { logger: new Logger({ serviceName: 'fhir', logLevel: 'ERROR' }) });
    const event = (): APIGatewayProxyEvent =>
      ({
        resource: '/fhir/R4/{resourceType}',
        path: '/fhir/R4/Observation',
        httpMethod: 'GET',
        headers: { host: new URL(p.apiUrl).host },
        multiValueHeaders: {},
        queryStringParameters: { patient: best.id, _count: '20' },
        multiValueQueryStringParameters: { patient: [best.id], _count: ['20'] },
        pathParameters: { resourceType: 'Observation' },
        stageVariables: null,
        body: null,
        isBase64Encoded: false,
        requestContext: { requestId: `bench-${Math.random().toString(36).slice(2)}`, resourcePath: '/fhir/R4/{resourceType}', httpMethod: 'GET', stage: 'local', identity: { sourceIp: '127.0.0.1', userAgent: 'bench-api' }, authorizer: { claims } },
      }) as unknown as APIGatewayProxyEvent;
    const context = { functionName: 'mdrp-fhir', awsRequestId: 'bench', getRemainingTimeInMillis: () => 29_000 } as unknown as Context;
    const handler = async () => {
      const r = await lambda(event(), context);
      if (r.statusCode !== 200) throw new Error(`lambda handler answered ${r.statusCode}`);
    };

    // Warm-up (JIT, connection pools, HMAC caches are per call anyway).
    for (let i = 0; i < 20; i++) await operation();
    for (let i = 0; i < 10; i++) await handler();
    await cannon(`${p.apiUrl}${path}`, researcher, 2, 1);

    console.log(`latency runs: ${SECONDS}s each, one request at a time`);
    const latency = { operation: await loop(SECONDS, 1, operation), lambda: await loop(SECONDS, 1, handler), front: await cannon(`${p.apiUrl}${path}`, researcher, SECONDS, 1) };
    console.log(`throughput runs: ${SECONDS}s each, ${CONNECTIONS} concurrent`);
    const throughput = { operation: await loop(SECONDS, CONNECTIONS, operation), lambda: await loop(SECONDS, CONNECTIONS, handler), front: await cannon(`${p.apiUrl}${path}`, researcher, SECONDS, CONNECTIONS) };

    const ratio = (a: number, b: number) => Math.round(((a - b) / b) * 1000) / 10;
    const result = {
      benchmark: 'bench:api',
      at: new Date().toISOString(),
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
      request: { method: 'GET', path: '/fhir/R4/Observation?patient=<grant pseudonym>&_count=20', observationsReturned: 20, observationsOfPatient: best.n, caller: 'researcher (Cognito ID token)' },
      seconds: SECONDS,
      connections: CONNECTIONS,
      latencyMs: latency,
      throughput,
      overheadPercentAtP50: {
        frontVsOperation: ratio(latency.front.p50, latency.operation.p50),
        lambdaPipelineVsOperation: ratio(latency.lambda.p50, latency.operation.p50),
        frontVsLambda: ratio(latency.front.p50, latency.lambda.p50),
      },
      target: 'front + auth + authz + audit overhead ≤ 25 % of the handler’s own time at p50',
      targetMet: ratio(latency.front.p50, latency.operation.p50) <= 25,
    };
    mkdirSync(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(join(REPO_ROOT, 'bench', 'results', 'api.json'), `${JSON.stringify(result, null, 2)}\n`);
    const row = (name: string, s: Stats) => `${name.padEnd(10)} p50 ${s.p50.toFixed(2).padStart(8)} ms   p99 ${s.p99.toFixed(2).padStart(8)} ms   ${s.rps.toFixed(1).padStart(8)} req/s`;
    console.log('\nlatency (1 at a time)');
    for (const [k, v] of Object.entries(latency)) console.log(row(k, v));
    console.log(`\nthroughput (${CONNECTIONS} concurrent)`);
    for (const [k, v] of Object.entries(throughput)) console.log(row(k, v));
    console.log(`\noverhead at p50: front vs operation ${result.overheadPercentAtP50.frontVsOperation}% (target ≤ 25%: ${result.targetMet ? 'met' : 'NOT met'}); pipeline (authz+audit) ${result.overheadPercentAtP50.lambdaPipelineVsOperation}%; HTTP front + token ${result.overheadPercentAtP50.frontVsLambda}% over the Lambda handler`);
    console.log('written: bench/results/api.json');
  } finally {
    await platform?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
