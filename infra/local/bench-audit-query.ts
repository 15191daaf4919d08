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
 *    In the same loop, the floor of any synchronous durable audit write: a bare conditional put of
 *    an item captured from a real `listDatasets` audit write (the trail's adapter, `ifNotExists`),
 *    and the bare query `listDatasets` makes. Every side gets the same warm-up (300 calls:
 *    DynamoDB Local needs several hundred puts to warm up) and the same number of calls.
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

/**
 * Runs every side `warmup` times, then `calls` times, interleaved call by call: each round calls
 * every side once, in a shuffled order (seeded, so reproducible), so that drift and whatever a
 * call leaves behind in the store hit all sides alike.
 */
async function interleaved<K extends string>(sides: Record<K, () => Promise<number>>, warmup: number, calls: number): Promise<Record<K, number[]>> {
  const names = Object.keys(sides) as K[];
  const out = Object.fromEntries(names.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  let seed = 1;
  const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (let i = 0; i < warmup + calls; i++) {
    const order = [...names];
    for (let j = order.length - 1; j > 0; j--) {
      const x = Math.floor(rand() * (j + 1));
      [order[j], order[x]] = [order[x]!, order[j]!];
    }
    for (const k of order) {
      const ms = await sides[k]();
      if (i >= warmup) out[k].push(ms);
    }
  }
  return out;
}

/** With-audit against no-op sink, as in the results since the first run. */
function compare(withAudit: number[], noopSink: number[]) {
  const a = stats(withAudit);
  const b = stats(noopSink);
  return { withAudit: a, noopSink: b, medianRatio: Math.round((a.p50 / b.p50) * 1000) / 1000, medianOverheadPct: Math.round((a.p50 / b.p50 - 1) * 1000) / 10 };
}

/** Captures the items `AuditTrail.write` stores, so N events load with batch writes in the trail's own layout. */
class CapturingStore implements DocumentStore {
  items: Item[] = [];
  async get<T extends Item = Item>(): Promise<T | undefined> {
    return undefined;
  }
  async getMany<T extends Item = Item>(_t: TableName, keys: ItemKey[]): Promise<Array<T | undefined>> {
    return keys.map(() => undefined);
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
    // The floor: the bare store calls, on an item captured from a real listDatasets audit write
    // (same size and index keys; a fresh event id and time per put, as the trail writes them).
    const captured = new CapturingStore();
    await makeApiHandler('catalog', catalogOperations, async () => ({ ...base, audit: new AuditTrail(captured, systemClock) }), { logger })(apiEvent(), ctx);
    const template = captured.items[0] as Item & { event: AuditEvent };
    const ids = new RandomIdGenerator();
    const barePut = async () => {
      const t0 = performance.now();
      const at = new Date().toISOString();
      const eventId = ids.next('evt');
      const order = `${at}#${eventId}`;
      await documents.put('audit', { ...template, pk: `DAY#${at.slice(0, 10)}`, sk: order, gsi1sk: order, event: { ...template.event, eventId, time: at } }, { ifNotExists: true });
      return performance.now() - t0;
    };
    const bareQuery = async () => {
      const t0 = performance.now();
      const page = await documents.query('main', { pk: 'DATASET', limit: 500 });
      if (page.items.length !== 6) throw new Error(`bare query returned ${page.items.length} datasets`);
      return performance.now() - t0;
    };

    const warmup = 300;
    const runs = await interleaved(
      { audit: () => time(withAudit), noop: () => time(withoutAudit), put: barePut, query: bareQuery, httpAudit: () => timeHttp(frontAudit.url), httpNoop: () => timeHttp(frontNoop.url) },
      warmup,
      calls,
    );
    agent.destroy();
    await frontAudit.close();
    await frontNoop.close();
    await new Promise((r) => jwksServer.close(r));
    const overhead = compare(runs.audit, runs.noop);
    const httpOverhead = compare(runs.httpAudit, runs.httpNoop);
    const put = stats(runs.put);
    const bq = stats(runs.query);
    const floor = {
      what: 'bare DocumentStore calls in the same loop: conditional put (ifNotExists) of a captured listDatasets audit item, and the listDatasets query (main, pk DATASET)',
      putItemJsonBytes: JSON.stringify(template).length,
      putP50Ms: put.p50,
      putP95Ms: put.p95,
      putP99Ms: put.p99,
      queryP50Ms: bq.p50,
      queryP95Ms: bq.p95,
      queryP99Ms: bq.p99,
      // One synchronous put adds at least its own time: the overhead cannot be below put / no-op.
      minOverheadPctInProcess: Math.round((put.p50 / overhead.noopSink.p50) * 1000) / 10,
      minOverheadPctHttp: Math.round((put.p50 / httpOverhead.noopSink.p50) * 1000) / 10,
    };
    console.log(`audit overhead (listDatasets, ${calls} calls each after ${warmup} warm-up, interleaved): with audit p50 ${overhead.withAudit.p50} ms p99 ${overhead.withAudit.p99} ms; no-op sink p50 ${overhead.noopSink.p50} ms p99 ${overhead.noopSink.p99} ms; ratio ${overhead.medianRatio} (+${overhead.medianOverheadPct}%)`);
    console.log(`audit overhead through the HTTP front (GET /v1/datasets, same loop): with audit p50 ${httpOverhead.withAudit.p50} ms p99 ${httpOverhead.withAudit.p99} ms; no-op sink p50 ${httpOverhead.noopSink.p50} ms p99 ${httpOverhead.noopSink.p99} ms; ratio ${httpOverhead.medianRatio} (+${httpOverhead.medianOverheadPct}%)`);
    console.log(`floor (same loop): bare put (${floor.putItemJsonBytes} B item, ifNotExists) p50 ${put.p50} ms p95 ${put.p95} ms; bare listDatasets query p50 ${bq.p50} ms p95 ${bq.p95} ms; put / no-op p50 = ${floor.minOverheadPctInProcess}% in process, ${floor.minOverheadPctHttp}% over HTTP`);

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
            overhead: { operation: 'listDatasets', path: 'in-process handler', calls, warmupPerSide: warmup, ...overhead, targetPct: 10, withinTarget: overhead.medianOverheadPct <= 10, floor },
            overheadHttp: { operation: 'listDatasets', path: 'GET /v1/datasets through the local HTTP front (keep-alive, ID token verified), same loop as overhead', calls, warmupPerSide: warmup, ...httpOverhead, targetPct: 10, withinTarget: httpOverhead.medianOverheadPct <= 10 },
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
