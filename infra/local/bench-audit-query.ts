import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createServer as createHttpServer } from 'node:http';
import { request as httpRequest, Agent } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDocumentStore } from '../../functions/adapters/aws/dynamo-document-store';
import { RandomIdGenerator } from '../../functions/adapters/shared/random-id-generator';
import type { PlatformConfig } from '../../functions/composition/config';
import { buildContainer, type Container } from '../../functions/composition/container';
import type { AuditEvent } from '../../functions/core/audit/audit-event';
import { AuditTrail } from '../../functions/core/audit/audit-trail';
import { systemClock } from '../../functions/core/ports/clock';
import type { DocumentStore, Item, ItemKey, PutOptions, QueryInput, QueryPage, TableName, TransactOperation } from '../../functions/core/ports/document-store';
import { operations as catalogOperations } from '../../functions/handlers/catalog.handler';
import { makeApiHandler } from '../../functions/http/make-api-handler';
import { routes } from '../../functions/http/routes';
import { startHttpFront } from './http-front';
import { ensureTables, startDynamoDbLocal } from './emulators/dynamodb-local';
import { REPO_ROOT } from './platform';
import { freePort } from './emulators/process-utils';

/**
 * `npm run bench:audit-query [-- <events>]` (issue 6 "Performance"), against DynamoDB Local (the
 * local store, in memory, started by this script on a free port):
 *
 * 1. Audit overhead per request: the same `listDatasets` handler (full pipeline: actor, zod,
 *    Cedar, operation, response schema) with the real audit trail (one conditional put; the alert
 *    rules run off the request path, from the stream / the local feed) and with a no-op sink,
 *    interleaved call by call in the same run; median and p99 of each, and their ratio.
 *    The same pair again through the local HTTP front (`http-front.ts`, API Gateway's stand-in:
 *    route match, ID-token signature check against a JWKS, proxy event), over keep-alive HTTP:
 *    "API latency" as a client sees it, with the same call and a no-op sink in the same run.
 * 2. Query latency over N stored events (default 20,000; loading is bounded by DynamoDB Local's
 *    write speed: ~900 events/s with 8–12 concurrent BatchWriteItem streams on this machine, so 1,000,000 take ~20 min; `MDRP_BENCH_LOAD_WORKERS` sets the concurrency): by user (`gsi1`, newest 100 of one user
 *    in a month) and by data item (`gsi2`), p50/p95/p99 over 300 queries each. An index query reads
 *    one partition's newest page, so its cost follows the page size, not the table size.
 *
 * Results go to bench/results/audit.json (key `auditQuery`, beside other audit figures).
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 100) / 100;
  return { n: s.length, p50: r(pct(s, 50)), p95: r(pct(s, 95)), p99: r(pct(s, 99)), mean: r(s.reduce((a, b) => a + b, 0) / s.length) };
}

/** Captures the items `AuditTrail.write` stores, so N events load with batch writes in the trail's own layout. */
class CapturingStore implements DocumentStore {
  items: Item[] = [];
  async get<T extends Item = Item>(): Promise<T | undefined> {
    return undefined;
  }
  async put(_t: TableName, item: Item, _o?: PutOptions): Promise<void> {
    this.items.push(item);
  }
  async delete(_t: TableName, _k: ItemKey): Promise<void> {}
  async update(): Promise<void> {
    throw new Error('not used by the audit trail');
  }
  async query<T extends Item = Item>(_t: TableName, _q: QueryInput): Promise<QueryPage<T>> {
    return { items: [] };
  }
  async transact(ops: TransactOperation[]): Promise<void> {
    for (const o of ops) if (o.kind === 'put') this.items.push(o.item);
  }
  async batchPut(_t: TableName, items: Item[]): Promise<void> {
    this.items.push(...items);
  }
  async ping(): Promise<void> {}
}

function event(i: number, t: number, users: number, items: number): AuditEvent {
  const ops = ['listDatasets', 'getDataset', 'searchGrantedPatients', 'getGrantedPatient', 'queryAuditEvents'];
  return {
    eventId: `evt_${i.toString(36).padStart(12, '0')}`,
    time: new Date(t).toISOString(),
    correlationId: `c-${i}`,
    category: 'data-access',
    operation: ops[i % ops.length]!,
    actor: { kind: 'user', id: `user-${i % users}`, roles: ['researcher'], institution: 'demo-hospital-1' },
    source: { ip: `10.0.${i % 255}.${(i * 3) % 255}`, userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0' },
    resources: [{ type: 'Grant', id: `grt_${i % 50}` }, ...(i % 2 === 0 ? [{ type: 'Patient', id: `tok-${i % items}` }] : [])],
    parameters: { limit: 100 },
    decision: { effect: 'allow', policyIds: ['researchers-read-granted-data'] },
    result: { outcome: 'success', status: 200, count: i % 50 },
  };
}

/** A call by one of 100 researchers in turn: one user hammering would keep the high-frequency rule busy, which is not normal traffic. */
let caller = 0;
function apiEvent(): APIGatewayProxyEvent {
  caller = (caller + 1) % 100;
  return {
    httpMethod: 'GET',
    resource: '/v1/datasets',
    path: '/v1/datasets',
    headers: { 'user-agent': 'bench' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      requestId: 'bench',
      identity: { sourceIp: '127.0.0.1', userAgent: 'bench' },
      authorizer: { claims: { sub: `bench-user-${caller}`, 'cognito:username': `bench-${caller}`, 'cognito:groups': ['researcher'], 'custom:institution': 'demo-hospital-1' } },
    },
  } as unknown as APIGatewayProxyEvent;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 20_000);
  const calls = Number(process.argv[3] ?? 400);
  // Concurrent BatchWriteItem streams while loading (DynamoDB Local is bounded by its CPU).
  const workers = Number(process.env.MDRP_BENCH_LOAD_WORKERS ?? 8);
  const port = await freePort();
  const dynamo = await startDynamoDbLocal({ port, corsOrigin: 'http://127.0.0.1' });
  try {
    const region = 'us-east-1';
    const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
    const client = new DynamoDBClient({ region, endpoint: `http://127.0.0.1:${port}`, credentials });
    const tables = { main: 'bench-main', identity: 'bench-identity', audit: 'bench-audit' };
    await ensureTables(client, Object.values(tables));
    const documents = new DynamoDocumentStore(client, tables);
    const config: PlatformConfig = {
      stage: 'bench',
      version: '0',
      region,
      tables,
      buckets: { staging: 's', data: 'd', archive: 'a' },
      keys: { kind: 'local', keyFile: '/nonexistent/bench-keys.json' },
      workflow: { kind: 'local' },
      scheduler: { kind: 'local' },
      identity: { userPoolId: 'bench', issuer: 'http://127.0.0.1/bench' },
      notifications: {},
      allowedOrigin: 'http://127.0.0.1',
      assetsDir: REPO_ROOT,
      endpoints: { dynamodb: `http://127.0.0.1:${port}` },
      localCredentials: credentials,
    };
    const unused = new Proxy({}, { get: () => () => Promise.reject(new Error('not used in the benchmark')) });
    const base = buildContainer(config, {
      documents,
      ids: new RandomIdGenerator(),
      clock: systemClock,
      objects: unused as never,
      keys: unused as never,
      workflow: unused as never,
      scheduler: unused as never,
      directory: unused as never,
      apiKeys: unused as never,
      digestSigner: unused as never,
    });
    // A catalogue of 6 datasets, as the demo has.
    const now = new Date().toISOString();
    for (let i = 0; i < 6; i++) await base.catalog.saveDataset({ datasetId: `ds-${i}`, title: `Dataset ${i}`, description: '', disease: 'C50', institution: 'demo-hospital-1', securityLevel: 2, modalities: ['fhir'], patientCount: 10, recordCount: 100, fileCount: 0, createdAt: now, updatedAt: now });
    const noop: Container = { ...base, audit: Object.assign(Object.create(AuditTrail.prototype) as AuditTrail, { write: async () => undefined }) };
    const logger = new Logger({ serviceName: 'bench', logLevel: 'ERROR' });
    const withAudit = makeApiHandler('catalog', catalogOperations, async () => base, { logger });
    const withoutAudit = makeApiHandler('catalog', catalogOperations, async () => noop, { logger });
    const ctx = {} as Context;
    const time = async (h: typeof withAudit) => {
      const t0 = performance.now();
      const r = await h(apiEvent(), ctx);
      if (r.statusCode !== 200) throw new Error(`benchmark call failed: ${r.statusCode} ${r.body}`);
      return performance.now() - t0;
    };
    for (let i = 0; i < 50; i++) {
      await time(withAudit);
      await time(withoutAudit);
    }
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < calls; i++) {
      // Interleaved, alternating which goes first, so drift hits both alike.
      if (i % 2 === 0) {
        a.push(await time(withAudit));
        b.push(await time(withoutAudit));
      } else {
        b.push(await time(withoutAudit));
        a.push(await time(withAudit));
      }
    }
    const audited = stats(a);
    const baseline = stats(b);
    const overhead = { withAudit: audited, noopSink: baseline, medianRatio: Math.round((audited.p50 / baseline.p50) * 1000) / 1000, medianOverheadPct: Math.round((audited.p50 / baseline.p50 - 1) * 1000) / 10 };
    console.log(`audit overhead (listDatasets, ${calls} calls each, interleaved): with audit p50 ${audited.p50} ms p99 ${audited.p99} ms; no-op sink p50 ${baseline.p50} ms p99 ${baseline.p99} ms; ratio ${overhead.medianRatio} (+${overhead.medianOverheadPct}%)`);

    // The same call through the local HTTP front, as a client measures API latency. ID tokens
    // are signed here with a key the front fetches from a JWKS endpoint (as from Cognito).
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' };
    const jwksServer = createHttpServer((_q, r) => r.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    const jwksPort = await freePort();
    await new Promise<void>((r) => jwksServer.listen(jwksPort, '127.0.0.1', () => r()));
    const issuer = `http://127.0.0.1:${jwksPort}/bench-pool`;
    const clientId = 'bench-client';
    const tokens = await Promise.all(
      Array.from({ length: 100 }, (_, u) =>
        new SignJWT({ token_use: 'id', 'cognito:username': `bench-${u}`, 'cognito:groups': ['researcher'], 'custom:institution': 'demo-hospital-1' })
          .setProtectedHeader({ alg: 'RS256', kid: 'bench' })
          .setSubject(`bench-user-${u}`)
          .setIssuer(issuer)
          .setAudience(clientId)
          .setIssuedAt()
          .setExpirationTime('2h')
          .sign(privateKey),
      ),
    );
    const front = async (container: Container, handler: typeof withAudit) =>
      startHttpFront({ port: await freePort(), routes, handlers: { catalog: handler }, container, cognito: { issuer, jwksUrl: `http://127.0.0.1:${jwksPort}/jwks.json`, clientId }, allowedOrigin: 'http://127.0.0.1' });
    const frontAudit = await front(base, withAudit);
    const frontNoop = await front(noop, withoutAudit);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let httpCaller = 0;
    const timeHttp = (url: string) =>
      new Promise<number>((resolve, reject) => {
        httpCaller = (httpCaller + 1) % 100;
        const t0 = performance.now();
        const req = httpRequest(`${url}/v1/datasets`, { agent, headers: { authorization: `Bearer ${tokens[httpCaller]}`, 'user-agent': 'bench' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`HTTP benchmark call failed: ${res.statusCode} ${Buffer.concat(chunks).toString()}`))));
        });
        req.on('error', reject);
        req.end();
      });
    for (let i = 0; i < 50; i++) {
      await timeHttp(frontAudit.url);
      await timeHttp(frontNoop.url);
    }
    const ha: number[] = [];
    const hb: number[] = [];
    for (let i = 0; i < calls; i++) {
      if (i % 2 === 0) {
        ha.push(await timeHttp(frontAudit.url));
        hb.push(await timeHttp(frontNoop.url));
      } else {
        hb.push(await timeHttp(frontNoop.url));
        ha.push(await timeHttp(frontAudit.url));
      }
    }
    agent.destroy();
    await frontAudit.close();
    await frontNoop.close();
    await new Promise((r) => jwksServer.close(r));
    const httpAudited = stats(ha);
    const httpBaseline = stats(hb);
    const httpOverhead = { withAudit: httpAudited, noopSink: httpBaseline, medianRatio: Math.round((httpAudited.p50 / httpBaseline.p50) * 1000) / 1000, medianOverheadPct: Math.round((httpAudited.p50 / httpBaseline.p50 - 1) * 1000) / 10 };
    console.log(`audit overhead through the HTTP front (GET /v1/datasets, ${calls} calls each, interleaved): with audit p50 ${httpAudited.p50} ms p99 ${httpAudited.p99} ms; no-op sink p50 ${httpBaseline.p50} ms p99 ${httpBaseline.p99} ms; ratio ${httpOverhead.medianRatio} (+${httpOverhead.medianOverheadPct}%)`);

    // Load N events in the trail's own layout (captured from AuditTrail.write), with batch writes.
    const users = 1000;
    const itemsN = Math.max(10, Math.floor(n / 40));
    const t0 = Date.parse('2026-11-01T00:00:00.000Z');
    const spanMs = 20 * 86_400_000;
    const loadStart = performance.now();
    const chunk = 20_000;
    for (let from = 0; from < n; from += chunk) {
      const cap = new CapturingStore();
      const trail = new AuditTrail(cap, systemClock);
      for (let i = from; i < Math.min(n, from + chunk); i++) await trail.write(event(i, t0 + Math.floor((i * spanMs) / n), users, itemsN));
      await Promise.all(Array.from({ length: workers }, (_, w) => documents.batchPut('audit', cap.items.filter((_, k) => Math.floor(k / 25) % workers === w))));
      process.stdout.write(`\rloaded ${Math.min(n, from + chunk)} / ${n} events`);
    }
    const loadMs = performance.now() - loadStart;
    console.log(`\nloaded ${n} events in ${(loadMs / 1000).toFixed(1)} s (${Math.round(n / (loadMs / 1000))} events/s, ${workers} concurrent batch writers)`);
    await sleep(200);
    const trail = new AuditTrail(documents, systemClock);
    const q = 300;
    const byUser: number[] = [];
    const byItem: number[] = [];
    let returnedUser = 0;
    let returnedItem = 0;
    for (let i = 0; i < q; i++) {
      const day = new Date(t0).toISOString().slice(0, 10);
      let s = performance.now();
      const pu = await trail.query({ actorId: `user-${(i * 37) % users}`, from: `${day}T00:00:00.000Z`, to: '2026-11-30T23:59:59.999Z', limit: 100 });
      byUser.push(performance.now() - s);
      returnedUser += pu.items.length;
      s = performance.now();
      const pi = await trail.query({ resource: { type: 'Patient', id: `tok-${((i * 53) % itemsN) & ~1}` }, from: `${day}T00:00:00.000Z`, to: '2026-11-30T23:59:59.999Z', limit: 100 });
      byItem.push(performance.now() - s);
      returnedItem += pi.items.length;
    }
    const query = {
      events: n,
      load: { seconds: Math.round(loadMs / 100) / 10, eventsPerSecond: Math.round(n / (loadMs / 1000)), concurrentBatchWriters: workers },
      users,
      items: itemsN,
      byUser: { ...stats(byUser), avgReturned: Math.round(returnedUser / q) },
      byItem: { ...stats(byItem), avgReturned: Math.round(returnedItem / q) },
    };
    console.log(`query by user over ${n} events: p50 ${query.byUser.p50} ms, p95 ${query.byUser.p95} ms, p99 ${query.byUser.p99} ms (${query.byUser.avgReturned} events/page)`);
    console.log(`query by item over ${n} events: p50 ${query.byItem.p50} ms, p95 ${query.byItem.p95} ms, p99 ${query.byItem.p99} ms (${query.byItem.avgReturned} events/page)`);

    const out = join(REPO_ROOT, 'bench', 'results', 'audit.json');
    mkdirSync(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
    const prev = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>) : {};
    writeFileSync(
      out,
      JSON.stringify(
        {
          ...prev,
          auditQuery: {
            measuredAt: new Date().toISOString(),
            store: 'DynamoDB Local (in memory), same machine',
            node: process.version,
            overhead: { operation: 'listDatasets', path: 'in-process handler', calls, ...overhead, targetPct: 10, withinTarget: overhead.medianOverheadPct <= 10 },
            overheadHttp: { operation: 'listDatasets', path: 'GET /v1/datasets through the local HTTP front (keep-alive, ID token verified)', calls, ...httpOverhead, targetPct: 10, withinTarget: httpOverhead.medianOverheadPct <= 10 },
            query: { ...query, targetP95Ms: 200, withinTarget: query.byUser.p95 <= 200 },
          },
        },
        null,
        2,
      ) + '\n',
    );
    console.log(`results → ${out}`);
  } finally {
    await dynamo.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
