import { ConditionalCheckFailedException, TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type QueryCommandInput,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError, DependencyUnavailableError } from '../../core/errors';
import type {
  DocumentStore,
  Item,
  ItemChanges,
  ItemKey,
  PutOptions,
  QueryInput,
  QueryPage,
  TableName,
  TransactOperation,
} from '../../core/ports/document-store';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * DynamoDB adapter of the document store. Used in AWS and, pointed at DynamoDB Local, on one
 * machine (same code, same conditional-write and transaction semantics).
 *
 * @example
 * const store = new DynamoDocumentStore(new DynamoDBClient({}), { main: 'mdrp-main', identity: 'mdrp-identity', audit: 'mdrp-audit' });
 */
export class DynamoDocumentStore implements DocumentStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableNames: Record<TableName, string>,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async get<T extends Item = Item>(table: TableName, key: ItemKey): Promise<T | undefined> {
    const out = await this.call(() => this.doc.send(new GetCommand({ TableName: this.tableNames[table], Key: { pk: key.pk, sk: key.sk }, ConsistentRead: true })));
    return out.Item as T | undefined;
  }

  async getMany<T extends Item = Item>(table: TableName, keys: ItemKey[]): Promise<Array<T | undefined>> {
    const name = this.tableNames[table];
    const found = new Map<string, T>();
    // BatchGetItem refuses a key twice in one call; at most 100 keys per call.
    const distinct = [...new Map(keys.map((k) => [itemId(k), { pk: k.pk, sk: k.sk }])).values()];
    for (let i = 0; i < distinct.length; i += 100) {
      let pending: Array<Record<string, unknown>> = distinct.slice(i, i + 100);
      // Unprocessed keys (throttling) are read again with backoff until every key is answered.
      for (let attempt = 0; pending.length > 0; attempt++) {
        const out = await this.call(() => this.doc.send(new BatchGetCommand({ RequestItems: { [name]: { Keys: pending, ConsistentRead: true } } })));
        for (const item of (out.Responses?.[name] ?? []) as T[]) found.set(itemId(item), item);
        pending = out.UnprocessedKeys?.[name]?.Keys ?? [];
        if (pending.length > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
      }
    }
    return keys.map((k) => found.get(itemId(k)));
  }

  async put(table: TableName, item: Item, options?: PutOptions): Promise<void> {
    await this.call(() => this.doc.send(new PutCommand({ TableName: this.tableNames[table], Item: item, ...condition(options) })));
  }

  async delete(table: TableName, key: ItemKey): Promise<void> {
    await this.call(() => this.doc.send(new DeleteCommand({ TableName: this.tableNames[table], Key: { pk: key.pk, sk: key.sk } })));
  }

  async update(table: TableName, key: ItemKey, changes: ItemChanges): Promise<void> {
    await this.call(() => this.doc.send(new UpdateCommand({ TableName: this.tableNames[table], Key: { pk: key.pk, sk: key.sk }, ...updateExpression(changes) })));
  }

  async query<T extends Item = Item>(table: TableName, input: QueryInput): Promise<QueryPage<T>> {
    const pkAttr = input.index ? `${input.index}pk` : 'pk';
    const skAttr = input.index ? `${input.index}sk` : 'sk';
    const names: Record<string, string> = { '#pk': pkAttr };
    const values: Record<string, unknown> = { ':pk': input.pk };
    let expr = '#pk = :pk';
    if (input.skPrefix !== undefined) {
      names['#sk'] = skAttr;
      values[':skp'] = input.skPrefix;
      expr += ' AND begins_with(#sk, :skp)';
    } else if (input.skBetween) {
      names['#sk'] = skAttr;
      values[':a'] = input.skBetween[0];
      values[':b'] = input.skBetween[1];
      expr += ' AND #sk BETWEEN :a AND :b';
    }
    const params: QueryCommandInput = {
      TableName: this.tableNames[table],
      IndexName: input.index,
      KeyConditionExpression: expr,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: input.ascending !== false,
      ...(input.consistent && !input.index ? { ConsistentRead: true } : {}),
      Limit: input.limit ?? 1000,
      ExclusiveStartKey: input.cursor ? JSON.parse(Buffer.from(input.cursor, 'base64url').toString('utf8')) : undefined,
    };
    const out = await this.call(() => this.doc.send(new QueryCommand(params)));
    const cursor = out.LastEvaluatedKey ? Buffer.from(JSON.stringify(out.LastEvaluatedKey)).toString('base64url') : undefined;
    return { items: (out.Items ?? []) as T[], ...(cursor ? { cursor } : {}) };
  }

  async transact(operations: TransactOperation[]): Promise<void> {
    const items: TransactItem[] = operations.map((op) => {
      const TableName = this.tableNames[op.table];
      if (op.kind === 'put') return { Put: { TableName, Item: op.item, ...condition(op.options) } };
      if (op.kind === 'delete') return { Delete: { TableName, Key: { pk: op.key.pk, sk: op.key.sk } } };
      if (op.kind === 'update') return { Update: { TableName, Key: { pk: op.key.pk, sk: op.key.sk }, ...updateExpression(op.changes) } };
      const check =
        op.expectedVersion !== undefined && op.expectedVersion > 0
          ? { ConditionExpression: '#v = :v', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': op.expectedVersion } }
          : { ConditionExpression: op.exists ? 'attribute_exists(pk)' : 'attribute_not_exists(pk)' };
      return { ConditionCheck: { TableName, Key: { pk: op.key.pk, sk: op.key.sk }, ...check } };
    });
    // Two transactions touching one item at once cancel one another (`TransactionConflict`: a
    // dataset's counters, a study record); nothing was applied, so it is tried again after a
    // jittered wait. A failed condition is not retried: it is the caller's `ConflictError`.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.call(() => this.doc.send(new TransactWriteCommand({ TransactItems: items })));
        return;
      } catch (e) {
        const reasons = e instanceof DependencyUnavailableError && e.cause instanceof TransactionCanceledException ? (e.cause.CancellationReasons ?? []).map((r) => r.Code) : [];
        if (!reasons.includes('TransactionConflict') || attempt >= TRANSACTION_ATTEMPTS) throw e;
        await new Promise((r) => setTimeout(r, (10 + Math.random() * 20) * 2 ** attempt));
      }
    }
  }

  async batchPut(table: TableName, items: Item[]): Promise<void> {
    for (let i = 0; i < items.length; i += 25) {
      let pending = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      // Unprocessed items are retried with backoff until every item is written.
      for (let attempt = 0; pending.length > 0; attempt++) {
        const out = await this.call(() => this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableNames[table]]: pending } })));
        pending = (out.UnprocessedItems?.[this.tableNames[table]] ?? []) as typeof pending;
        if (pending.length > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
      }
    }
  }

  async ping(): Promise<void> {
    await this.call(() => this.doc.send(new GetCommand({ TableName: this.tableNames.main, Key: { pk: 'HEALTH', sk: 'HEALTH' } })));
  }

  /** Maps SDK failures to domain errors: lost conditions → Conflict, unreachable store → DependencyUnavailable. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw new ConflictError('condition failed', {}, { cause: e });
      if (e instanceof TransactionCanceledException) {
        const reasons = (e.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
        if (reasons.includes('ConditionalCheckFailed')) throw new ConflictError('transaction condition failed', { reasons }, { cause: e });
        throw new DependencyUnavailableError('document store', { cause: e });
      }
      const name = (e as { name?: string }).name ?? '';
      const code = (e as { code?: string }).code ?? '';
      if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code) || /TimeoutError|ServiceUnavailable|InternalServerError|ThrottlingException|ProvisionedThroughputExceeded|RequestLimitExceeded/.test(name)) {
        throw new DependencyUnavailableError('document store', { cause: e });
      }
      throw e;
    }
  }
}

/**
 * `SET a = if_not_exists(a, 0) + :n, b = :v` on an existing item. Arithmetic in SET rather than
 * `ADD`: `ADD` reaches top-level attributes only, the counters live in a map (`dataset.fileCount`);
 * both are atomic on the server.
 */
function updateExpression(changes: ItemChanges): { UpdateExpression: string; ConditionExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues: Record<string, unknown> } {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':zero': 0 };
  const pathOf = (p: string) =>
    p
      .split('.')
      .map((part) => {
        const n = `#n${Object.keys(names).length}`;
        const known = Object.entries(names).find(([, v]) => v === part)?.[0];
        if (known) return known;
        names[n] = part;
        return n;
      })
      .join('.');
  const sets: string[] = [];
  for (const [i, [p, n]] of Object.entries(changes.add ?? {}).entries()) {
    const path = pathOf(p);
    values[`:a${i}`] = n;
    sets.push(`${path} = if_not_exists(${path}, :zero) + :a${i}`);
  }
  for (const [i, [p, v]] of Object.entries(changes.set ?? {}).entries()) {
    values[`:s${i}`] = v;
    sets.push(`${pathOf(p)} = :s${i}`);
  }
  if (sets.length === 0) throw new Error('an update needs at least one change');
  names['#pk'] = 'pk';
  return { UpdateExpression: `SET ${sets.join(', ')}`, ConditionExpression: 'attribute_exists(#pk)', ExpressionAttributeNames: names, ExpressionAttributeValues: values };
}

function condition(options?: PutOptions): { ConditionExpression?: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> } {
  if (options?.ifNotExists || options?.expectedVersion === 0) return { ConditionExpression: 'attribute_not_exists(pk)' };
  if (options?.unlessStored) {
    return { ConditionExpression: 'attribute_not_exists(pk) OR attribute_not_exists(#u) OR #u <> :u', ExpressionAttributeNames: { '#u': options.unlessStored.attribute }, ExpressionAttributeValues: { ':u': options.unlessStored.equals } };
  }
  if (options?.expectedVersion === 'unversioned') return { ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#v)', ExpressionAttributeNames: { '#v': 'version' } };
  if (options?.expectedVersion !== undefined) {
    return { ConditionExpression: '#v = :v', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': options.expectedVersion } };
  }
  return {};
}

/** Attempts of a transaction cancelled by another one on the same item (`TransactionConflict`). */
const TRANSACTION_ATTEMPTS = 5;

/** The identity of an item by its keys (never ambiguous: keys hold no NUL). */
function itemId(key: { pk: string; sk: string }): string {
  return `${key.pk}\u0000${key.sk}`;
}
