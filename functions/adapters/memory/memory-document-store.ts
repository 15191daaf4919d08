import { ConflictError } from '../../core/errors';
import {
  GSI2_PROJECTED_ATTRIBUTES,
  type
  DocumentStore,
  type Item,
  type ItemChanges,
  type ItemKey,
  type PutOptions,
  type QueryInput,
  type QueryPage,
  type TableName,
  type TransactOperation,
} from '../../core/ports/document-store';

/** What a gsi2 entry holds (same projection as the DynamoDB tables): keys plus the listed attributes. */
const GSI2_KEEPS = new Set<string>(['pk', 'sk', 'gsi2pk', 'gsi2sk', ...GSI2_PROJECTED_ATTRIBUTES]);

/**
 * In-memory document store with the same semantics as the DynamoDB adapter (conditional puts,
 * all-or-nothing transactions, sorted queries over the table and both GSIs, gsi2 returning only
 * its projected attributes). For unit tests only:
 * the local runtime uses DynamoDB Local through the real adapter.
 */
export class MemoryDocumentStore implements DocumentStore {
  private readonly tables = new Map<TableName, Map<string, Item>>();

  private table(name: TableName): Map<string, Item> {
    let t = this.tables.get(name);
    if (!t) {
      t = new Map();
      this.tables.set(name, t);
    }
    return t;
  }

  async get<T extends Item = Item>(table: TableName, key: ItemKey): Promise<T | undefined> {
    const item = this.table(table).get(id(key));
    return item ? (structuredClone(item) as T) : undefined;
  }

  async getMany<T extends Item = Item>(table: TableName, keys: ItemKey[]): Promise<Array<T | undefined>> {
    return Promise.all(keys.map((key) => this.get<T>(table, key)));
  }

  async put(table: TableName, item: Item, options?: PutOptions): Promise<void> {
    this.check(table, item, options);
    this.table(table).set(id(item), structuredClone(item));
  }

  async delete(table: TableName, key: ItemKey): Promise<void> {
    this.table(table).delete(id(key));
  }

  async update(table: TableName, key: ItemKey, changes: ItemChanges): Promise<void> {
    const current = this.table(table).get(id(key));
    if (!current) throw new ConflictError('item does not exist', { pk: key.pk });
    this.table(table).set(id(key), applyChanges(current, changes));
  }

  async query<T extends Item = Item>(table: TableName, input: QueryInput): Promise<QueryPage<T>> {
    const pkAttr = input.index ? `${input.index}pk` : 'pk';
    const skAttr = input.index ? `${input.index}sk` : 'sk';
    let rows = [...this.table(table).values()].filter((it) => it[pkAttr] === input.pk && typeof it[skAttr] === 'string');
    if (input.skPrefix !== undefined) rows = rows.filter((it) => (it[skAttr] as string).startsWith(input.skPrefix as string));
    if (input.skBetween) {
      const [from, to] = input.skBetween;
      // Same rule as DynamoDB: an empty string is not a valid key-condition value.
      if (from === '' || to === '') throw new Error('ValidationException: a key-condition value is an empty string');
      rows = rows.filter((it) => (it[skAttr] as string) >= from && (it[skAttr] as string) <= to);
    }
    rows.sort((a, b) => cmp(`${a[skAttr]}\u0000${a.pk}\u0000${a.sk}`, `${b[skAttr]}\u0000${b.pk}\u0000${b.sk}`));
    if (input.ascending === false) rows.reverse();
    const start = input.cursor ? Number(Buffer.from(input.cursor, 'base64url').toString()) : 0;
    const limit = input.limit ?? 1000;
    const page = rows.slice(start, start + limit);
    const next = start + limit < rows.length ? Buffer.from(String(start + limit)).toString('base64url') : undefined;
    const project = (r: Item): Item => (input.index === 'gsi2' ? (Object.fromEntries(Object.entries(r).filter(([k]) => GSI2_KEEPS.has(k))) as Item) : r);
    return { items: page.map((r) => structuredClone(project(r)) as T), ...(next ? { cursor: next } : {}) };
  }

  async transact(operations: TransactOperation[]): Promise<void> {
    // As DynamoDB: one operation per item (a caller's bug, never a race).
    const items = operations.map((op) => `${op.table}\u0000${id(op.kind === 'put' ? op.item : op.key)}`);
    if (new Set(items).size < items.length) throw new Error('ValidationException: Transaction request cannot include multiple operations on one item');
    // Check every condition first, then apply: all or nothing.
    for (const op of operations) {
      if (op.kind === 'put') this.check(op.table, op.item, op.options);
      if (op.kind === 'update' && !this.table(op.table).get(id(op.key))) throw new ConflictError('transaction condition failed', { key: op.key.pk });
      if (op.kind === 'check') {
        const current = this.table(op.table).get(id(op.key));
        if (Boolean(current) !== op.exists) throw new ConflictError('transaction condition failed', { key: op.key.pk });
        if (op.expectedVersion !== undefined && !versionMatches(current, op.expectedVersion)) {
          throw new ConflictError('transaction condition failed', { key: op.key.pk });
        }
      }
    }
    for (const op of operations) {
      if (op.kind === 'put') this.table(op.table).set(id(op.item), structuredClone(op.item));
      if (op.kind === 'delete') this.table(op.table).delete(id(op.key));
      if (op.kind === 'update') this.table(op.table).set(id(op.key), applyChanges(this.table(op.table).get(id(op.key))!, op.changes));
    }
  }

  async batchPut(table: TableName, items: Item[]): Promise<void> {
    // As DynamoDB (one BatchWriteItem call per 25 items): an item twice in one call is refused, and nothing of that call written.
    for (let i = 0; i < items.length; i += 25) {
      const call = items.slice(i, i + 25);
      if (new Set(call.map(id)).size < call.length) throw new Error('ValidationException: Provided list of item keys contains duplicates');
      for (const item of call) this.table(table).set(id(item), structuredClone(item));
    }
  }

  async ping(): Promise<void> {}

  private check(table: TableName, item: Item, options?: PutOptions): void {
    const current = this.table(table).get(id(item));
    if (options?.ifNotExists && current) throw new ConflictError('item already exists', { pk: item.pk });
    if (options?.unlessStored && current && current[options.unlessStored.attribute] === options.unlessStored.equals) throw new ConflictError('item already exists', { pk: item.pk });
    if (options?.expectedVersion !== undefined && !versionMatches(current, options.expectedVersion)) {
      throw new ConflictError('item was changed concurrently', { pk: item.pk });
    }
  }
}

/** `expectedVersion: 0` means "must not exist yet", `'unversioned'` "exists without a version" (the DynamoDB adapter's rules). */
function versionMatches(current: Item | undefined, expected: number | 'unversioned'): boolean {
  if (expected === 'unversioned') return current !== undefined && current.version === undefined;
  return expected === 0 ? current === undefined : current?.version === expected;
}

/** A copy of `item` with the changes applied (dotted paths into maps; a missing number counts from 0). */
function applyChanges(item: Item, changes: ItemChanges): Item {
  const out = structuredClone(item) as Record<string, unknown>;
  const at = (path: string): [Record<string, unknown>, string] => {
    const parts = path.split('.');
    let o = out;
    for (const part of parts.slice(0, -1)) {
      if (typeof o[part] !== 'object' || o[part] === null) throw new Error(`ValidationException: ${path} is not inside a map`);
      o = o[part] as Record<string, unknown>;
    }
    return [o, parts.at(-1)!];
  };
  for (const [path, n] of Object.entries(changes.add ?? {})) {
    const [o, k] = at(path);
    o[k] = ((o[k] as number | undefined) ?? 0) + n;
  }
  for (const [path, v] of Object.entries(changes.set ?? {})) {
    const [o, k] = at(path);
    o[k] = structuredClone(v);
  }
  return out as Item;
}

function id(key: ItemKey): string {
  return `${key.pk}\u0000${key.sk}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
