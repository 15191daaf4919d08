import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDocumentStore } from '../../../functions/adapters/aws/dynamo-document-store';
import { MemoryDocumentStore } from '../../../functions/adapters/memory/memory-document-store';
import { ConflictError } from '../../../functions/core/errors';
import type { DocumentStore } from '../../../functions/core/ports/document-store';
import { ensureTables, startDynamoDbLocal } from '../../../infra/local/emulators/dynamodb-local';
import { freePort } from '../../../infra/local/emulators/process-utils';

/**
 * Contract of the document store's atomic update, batched reads, the conditional marker put and the gsi2
 * projection, run against the in-memory adapter and the DynamoDB adapter on DynamoDB Local (the
 * same semantics the ingest job transaction relies on, R-ING-5, R-ING-6).
 */
let dynamo: { stop(): Promise<void> } | undefined;
const stores: Record<string, DocumentStore> = { memory: new MemoryDocumentStore() };

beforeAll(async () => {
  const port = await freePort();
  dynamo = await startDynamoDbLocal({ port, corsOrigin: 'http://127.0.0.1' });
  const client = new DynamoDBClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const tables = { main: 'c-main', identity: 'c-identity', audit: 'c-audit' };
  await ensureTables(client, Object.values(tables));
  stores.dynamo = new DynamoDocumentStore(client, tables);
});
afterAll(async () => {
  await dynamo?.stop();
});

describe.each(['memory', 'dynamo'])('document store contract (%s)', (name) => {
  const store = () => stores[name]!;

  it('R-ING-5: update adds to counters inside a map and at the top level atomically, sets values, and counts missing numbers from 0', async () => {
    await store().put('main', { pk: 'DATASET', sk: 'u1', version: 1, dataset: { fileCount: 2, title: 't' } });
    await Promise.all(Array.from({ length: 5 }, () => store().update('main', { pk: 'DATASET', sk: 'u1' }, { add: { 'dataset.fileCount': 3, 'dataset.recordCount': 1, version: 1 }, set: { 'dataset.updatedAt': 'now' } })));
    expect(await store().get('main', { pk: 'DATASET', sk: 'u1' })).toEqual({ pk: 'DATASET', sk: 'u1', version: 6, dataset: { fileCount: 17, recordCount: 5, title: 't', updatedAt: 'now' } });
  });

  it('R-ING-5: one BatchWriteItem call carries an item once, one transaction touches an item once: the store refuses the call, nothing of it written', async () => {
    const item = { pk: 'DUP', sk: 'a', n: 1 };
    await expect(store().batchPut('main', [item, { pk: 'DUP', sk: 'b' }, { ...item, n: 2 }])).rejects.toThrow(/duplicates/);
    expect(await store().get('main', { pk: 'DUP', sk: 'b' })).toBeUndefined();
    await expect(store().transact([{ kind: 'put', table: 'main', item: { pk: 'DUP', sk: 'c' } }, { kind: 'delete', table: 'main', key: { pk: 'DUP', sk: 'c' } }])).rejects.toThrow(/multiple operations on one item/);
    expect(await store().get('main', { pk: 'DUP', sk: 'c' })).toBeUndefined();
  });

  it('R-ING-5: getMany reads items in the order of the keys asked, missing ones undefined, a key asked twice answered twice, past 100 keys', async () => {
    const items = Array.from({ length: 130 }, (_, i) => ({ pk: `GM#${i % 7}`, sk: `K#${i}`, n: i }));
    await store().batchPut('main', items);
    const keys = [{ pk: 'GM#3', sk: 'K#3' }, { pk: 'GM#0', sk: 'missing' }, { pk: 'GM#3', sk: 'K#3' }, ...items.slice(10).reverse().map(({ pk, sk }) => ({ pk, sk }))];
    const got = await store().getMany<{ pk: string; sk: string; n: number }>('main', keys);
    expect(got.map((x) => x?.n)).toEqual([3, undefined, 3, ...items.slice(10).reverse().map((x) => x.n)]);
    expect(await store().getMany('main', [])).toEqual([]);
  });

  it('R-ING-5: update of a missing item fails with ConflictError and creates nothing', async () => {
    await expect(store().update('main', { pk: 'DATASET', sk: 'missing' }, { add: { version: 1 } })).rejects.toBeInstanceOf(ConflictError);
    expect(await store().get('main', { pk: 'DATASET', sk: 'missing' })).toBeUndefined();
  });

  it('R-ING-5: an update in a transaction applies with its puts, and a failed marker condition applies none of them', async () => {
    await store().put('main', { pk: 'DATASET', sk: 'u2', version: 1, dataset: { fileCount: 0 } });
    const marker = (jobId: string) => ({ kind: 'put' as const, table: 'main' as const, item: { pk: 'CONTENT#u2#abc', sk: 'CONTENT', jobId, institution: 'H1' }, options: { unlessStored: { attribute: 'institution', equals: 'H1' } } });
    const count = { kind: 'update' as const, table: 'main' as const, key: { pk: 'DATASET', sk: 'u2' }, changes: { add: { 'dataset.fileCount': 1 } } };
    await store().transact([{ kind: 'put', table: 'main', item: { pk: 'JOB#1', sk: 'JOB' } }, marker('1'), count]);
    await expect(store().transact([{ kind: 'put', table: 'main', item: { pk: 'JOB#2', sk: 'JOB' } }, marker('2'), count])).rejects.toBeInstanceOf(ConflictError);
    expect(await store().get('main', { pk: 'JOB#2', sk: 'JOB' })).toBeUndefined();
    expect((await store().get('main', { pk: 'DATASET', sk: 'u2' }))?.dataset).toEqual({ fileCount: 1 });
    // Another institution's marker for the same bytes is replaced.
    await store().put('main', { pk: 'CONTENT#u2#abc', sk: 'CONTENT', jobId: '3', institution: 'H2' }, { unlessStored: { attribute: 'institution', equals: 'H2' } });
    expect((await store().get('main', { pk: 'CONTENT#u2#abc', sk: 'CONTENT' }))?.jobId).toBe('3');
    await expect(store().transact([{ kind: 'put', table: 'main', item: { pk: 'JOB#4', sk: 'JOB' } }, { ...count, key: { pk: 'DATASET', sk: 'none' } }])).rejects.toBeInstanceOf(ConflictError);
    expect(await store().get('main', { pk: 'JOB#4', sk: 'JOB' })).toBeUndefined();
  });

  it('R-ING-5: a versioned put in a transaction applies only over the version read (0: absent); a stale one fails with ConflictError and writes nothing', async () => {
    const key = { pk: 'PATIENT#v1', sk: 'REC#ImagingStudy#s1' };
    await store().transact([{ kind: 'put', table: 'main', item: { ...key, version: 1, n: 1 }, options: { expectedVersion: 0 } }]);
    await expect(store().transact([{ kind: 'put', table: 'main', item: { ...key, version: 1, n: 9 }, options: { expectedVersion: 0 } }, { kind: 'put', table: 'main', item: { pk: 'PATIENT#v1', sk: 'EVT#x', n: 9 } }])).rejects.toBeInstanceOf(ConflictError);
    await store().transact([{ kind: 'put', table: 'main', item: { ...key, version: 2, n: 2 }, options: { expectedVersion: 1 } }]);
    await expect(store().transact([{ kind: 'put', table: 'main', item: { ...key, version: 2, n: 8 }, options: { expectedVersion: 1 } }])).rejects.toBeInstanceOf(ConflictError);
    expect(await store().get('main', key)).toMatchObject({ version: 2, n: 2 });
    expect(await store().get('main', { pk: 'PATIENT#v1', sk: 'EVT#x' })).toBeUndefined();
  });

  it("R-ING-5: a put over 'unversioned' applies only to an item stored without a version; absent, or versioned by another writer since, it fails and writes nothing", async () => {
    const key = { pk: 'PATIENT#v2', sk: 'REC#ImagingStudy#legacy' };
    const overLegacy = (n: number) => store().transact([{ kind: 'put', table: 'main', item: { ...key, version: 1, n }, options: { expectedVersion: 'unversioned' } }, { kind: 'put', table: 'main', item: { pk: 'PATIENT#v2', sk: `EVT#${n}`, n } }]);
    await expect(overLegacy(1)).rejects.toBeInstanceOf(ConflictError);
    expect(await store().get('main', key)).toBeUndefined();
    await store().put('main', { ...key, n: 0 });
    await overLegacy(2);
    // A second writer that read the same legacy record lost the race: the item has a version now.
    await expect(overLegacy(3)).rejects.toBeInstanceOf(ConflictError);
    await expect(store().put('main', { ...key, version: 1, n: 4 }, { expectedVersion: 'unversioned' })).rejects.toBeInstanceOf(ConflictError);
    expect(await store().get('main', key)).toMatchObject({ version: 1, n: 2 });
    expect(await store().get('main', { pk: 'PATIENT#v2', sk: 'EVT#1' })).toBeUndefined();
    expect(await store().get('main', { pk: 'PATIENT#v2', sk: 'EVT#3' })).toBeUndefined();
  });

  it('R-ING-6: a gsi2 query returns keys and the projected attributes, never a record\'s resource or lineage', async () => {
    await store().put('main', { pk: 'PATIENT#p1', sk: 'REC#Observation#o1', gsi2pk: 'JOBREC#j1', gsi2sk: 'p1#REC#Observation#o1', resource: { resourceType: 'Observation', id: 'o1' }, lineage: { jobId: 'j1' } });
    await store().put('main', { pk: 'GRANT#g1', sk: 'GRANT', gsi1pk: 'HOLDER#u', gsi1sk: 't', gsi2pk: 'GRANTS-C', gsi2sk: 't', version: 2, grant: { grantId: 'g1' } });
    expect((await store().query('main', { index: 'gsi2', pk: 'JOBREC#j1' })).items).toEqual([{ pk: 'PATIENT#p1', sk: 'REC#Observation#o1', gsi2pk: 'JOBREC#j1', gsi2sk: 'p1#REC#Observation#o1' }]);
    expect((await store().query('main', { index: 'gsi2', pk: 'GRANTS-C' })).items).toEqual([{ pk: 'GRANT#g1', sk: 'GRANT', gsi1pk: 'HOLDER#u', gsi1sk: 't', gsi2pk: 'GRANTS-C', gsi2sk: 't', version: 2, grant: { grantId: 'g1' } }]);
  });
});
