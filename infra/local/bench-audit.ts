import { generateKeyPairSync, hash } from 'node:crypto';
import { LocalDigestSigner } from '../../functions/adapters/local/local-digest-signer';
import { AuditChain } from '../../functions/core/audit/audit-chain';
import type { AuditEvent } from '../../functions/core/audit/audit-event';
import { AuditTrail } from '../../functions/core/audit/audit-trail';
import { canonicalJson } from '../../functions/core/audit/canonical-json';
import type { DocumentStore, Item, ItemKey, PutOptions, QueryInput, QueryPage, TableName } from '../../functions/core/ports/document-store';
import type { BucketName, ObjectStore, StoredObject } from '../../functions/core/ports/object-store';

/**
 * `npm run bench:audit [-- <events>]`: chain-verification throughput (events/s), against the raw
 * SHA-256 of the same canonical JSON measured in the same run. The stores are lean in-memory
 * stand-ins (sorted partitions, no copying) so the figure is the verifier's own cost, not a
 * database's; against DynamoDB the read capacity is the limit.
 */

/** Sorted partitions, base table only (what the sealer and verifier use), no cloning. */
class BenchDocumentStore implements DocumentStore {
  private readonly parts = new Map<string, Item[]>();
  private key(table: TableName, pk: string) {
    return `${table}\u0000${pk}`;
  }
  async get<T extends Item = Item>(table: TableName, k: ItemKey): Promise<T | undefined> {
    return this.parts.get(this.key(table, k.pk))?.find((i) => i.sk === k.sk) as T | undefined;
  }
  async getMany<T extends Item = Item>(table: TableName, keys: ItemKey[]): Promise<Array<T | undefined>> {
    return Promise.all(keys.map((k) => this.get<T>(table, k)));
  }
  async put(table: TableName, item: Item, options?: PutOptions): Promise<void> {
    const list = this.parts.get(this.key(table, item.pk)) ?? [];
    this.parts.set(this.key(table, item.pk), list);
    const at = lowerBound(list, item.sk);
    if (list[at]?.sk === item.sk) {
      if (options?.ifNotExists) throw Object.assign(new Error('exists'), { code: 'CONFLICT' });
      list[at] = item;
    } else list.splice(at, 0, item);
  }
  async update(): Promise<void> {
    throw new Error('not used by the audit trail');
  }
  async delete(table: TableName, k: ItemKey): Promise<void> {
    const list = this.parts.get(this.key(table, k.pk)) ?? [];
    const at = lowerBound(list, k.sk);
    if (list[at]?.sk === k.sk) list.splice(at, 1);
  }
  async query<T extends Item = Item>(table: TableName, q: QueryInput): Promise<QueryPage<T>> {
    if (q.index) return { items: [] };
    const list = this.parts.get(this.key(table, q.pk)) ?? [];
    const [from, to] = q.skBetween ?? ['', '\uffff'];
    const start = q.cursor ? Number(q.cursor) : lowerBound(list, from);
    const limit = q.limit ?? 1000;
    const items: Item[] = [];
    if (q.ascending === false) {
      for (let i = lowerBound(list, `${to}\u0000`) - 1; i >= 0 && items.length < limit && list[i]!.sk >= from; i--) items.push(list[i]!);
      return { items: items as T[] };
    }
    let i = start;
    for (; i < list.length && items.length < limit && list[i]!.sk <= to; i++) items.push(list[i]!);
    return { items: items as T[], ...(i < list.length && list[i]!.sk <= to ? { cursor: String(i) } : {}) };
  }
  async transact(): Promise<void> {
    throw new Error('not used');
  }
  async batchPut(table: TableName, items: Item[]): Promise<void> {
    for (const it of items) await this.put(table, it);
  }
  async ping(): Promise<void> {}
}

class BenchObjectStore implements ObjectStore {
  private readonly objects = new Map<string, StoredObject>();
  async put(b: BucketName, key: string, body: Uint8Array): Promise<void> {
    this.objects.set(`${b}/${key}`, { body, size: body.byteLength });
  }
  async get(b: BucketName, key: string) {
    return this.objects.get(`${b}/${key}`);
  }
  async head(b: BucketName, key: string) {
    const o = this.objects.get(`${b}/${key}`);
    return o ? { size: o.size } : undefined;
  }
  async delete(b: BucketName, key: string): Promise<void> {
    this.objects.delete(`${b}/${key}`);
  }
  async list(b: BucketName, prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(`${b}/${prefix}`)).map((k) => k.slice(b.length + 1)).sort();
  }
  async presignPut(): Promise<never> {
    throw new Error('not used');
  }
  async presignGet(): Promise<never> {
    throw new Error('not used');
  }
  async ping(): Promise<void> {}
}

function lowerBound(list: Item[], sk: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.sk < sk) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function makeEvent(i: number, t: number): AuditEvent {
  const ops = ['listDatasets', 'getDataset', 'listGrants', 'createIngestUpload', 'queryAuditEvents'];
  return {
    eventId: `evt_${i.toString(36).padStart(12, '0')}`,
    time: new Date(t).toISOString(),
    correlationId: `c-${(i * 7919).toString(36)}-${i}`,
    category: i % 3 === 0 ? 'data-change' : 'data-access',
    operation: ops[i % ops.length]!,
    actor: { kind: 'user', id: `user-${i % 97}`, roles: ['researcher'], institution: 'demo-hospital-1' },
    source: { ip: `10.0.${i % 255}.${(i * 3) % 255}`, userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36' },
    resources: i % 4 === 0 ? [] : [{ type: 'Dataset', id: `ds-${i % 13}` }],
    parameters: { datasetId: `ds-${i % 13}`, limit: 100, includeFiles: i % 2 === 0 },
    decision: { effect: 'allow', policyIds: ['users-read-catalog'] },
    result: { outcome: 'success', status: 200, count: i % 50 },
  };
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 200_000);
  const documents = new BenchDocumentStore();
  const objects = new BenchObjectStore();
  const start = Date.parse('2026-11-24T00:00:00.000Z');
  const spanMs = 6 * 3_600_000; // six hours of traffic: 72 five-minute digests
  const clock = { now: () => start + spanMs + 10 * 60_000 };
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const signer = new LocalDigestSigner(pem);
  const trail = new AuditTrail(documents, clock);
  for (let i = 0; i < n; i++) await trail.write(makeEvent(i, start + Math.floor((i * spanMs) / n)));
  const chain = new AuditChain({ store: documents, objects, signer, clock, sealer: { chainStart: new Date(start).toISOString() } });

  let t0 = performance.now();
  const sealed = await chain.seal();
  const sealMs = performance.now() - t0;

  const rounds = 3;
  let bestVerify = Infinity;
  let result = await chain.verify(); // warm-up
  for (let r = 0; r < rounds; r++) {
    t0 = performance.now();
    result = await chain.verify();
    bestVerify = Math.min(bestVerify, performance.now() - t0);
  }

  // Raw SHA-256 of the same canonical JSON, strings prepared outside the timed loop (and only
  // now, so the verifier ran without these 100+ MB on the heap).
  const canon: string[] = [];
  for (let i = 0; i < n; i++) canon.push(canonicalJson(makeEvent(i, start + Math.floor((i * spanMs) / n))));
  const bytes = canon.reduce((s, c) => s + Buffer.byteLength(c), 0);
  let bestSha = Infinity;
  for (let r = 0; r < rounds; r++) {
    t0 = performance.now();
    let x = 0;
    for (const c of canon) x ^= hash('sha256', c, 'hex').charCodeAt(0);
    bestSha = Math.min(bestSha, performance.now() - t0);
    if (x < 0) console.log(x); // keeps the loop from being optimised away
  }
  if (!result.ok || result.eventsChecked !== n) throw new Error(`verification failed: ${JSON.stringify(result)}`);
  const verifyRate = n / (bestVerify / 1000);
  const shaRate = n / (bestSha / 1000);
  console.log(`events: ${n} (${(bytes / n).toFixed(0)} B canonical JSON each), digests: ${sealed.digests.length}`);
  console.log(`seal:                      ${sealMs.toFixed(0)} ms (${Math.round(n / (sealMs / 1000)).toLocaleString('en')} events/s, incl. ${sealed.digests.length} ECDSA signatures)`);
  console.log(`verify chain:              ${bestVerify.toFixed(0)} ms → ${Math.round(verifyRate).toLocaleString('en')} events/s (best of ${rounds})`);
  console.log(`raw SHA-256 of canon JSON: ${bestSha.toFixed(0)} ms → ${Math.round(shaRate).toLocaleString('en')} events/s`);
  console.log(`ratio verify / raw SHA-256: ${(verifyRate / shaRate).toFixed(2)}`);
  console.log(verifyRate >= 100_000 ? 'OK: ≥ 100,000 events/s' : 'BELOW TARGET: < 100,000 events/s');
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
