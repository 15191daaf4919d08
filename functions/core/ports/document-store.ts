/**
 * Document store port (DynamoDB in AWS, DynamoDB Local on one machine).
 *
 * Items are addressed by a partition key `pk` and a sort key `sk` in one of the platform's
 * logical tables. Two secondary indexes (`gsi1`, `gsi2`) serve the access patterns that are
 * not by primary key. Shaped after DynamoDB but free of SDK types, so the domain core can use it.
 */
export type TableName = 'main' | 'identity' | 'audit';
export type IndexName = 'gsi1' | 'gsi2';

/**
 * `gsi2` does not copy whole items: it projects the keys plus only these attributes (the same
 * list in the CDK tables and the local emulator tables). Research records carry `gsi2` keys for
 * lineage per job (R-ING-6) but their `resource` and `lineage` stay in the table, so a record is
 * not written twice; a `gsi2` query returns the record's keys only (its `sk` names the resource).
 * The other `gsi2` readers (work queues, grants, webhook outbox, the audit trail per item) get the
 * payload they read and, where they write an item back, every attribute it has.
 */
export const GSI2_PROJECTED_ATTRIBUTES = ['version', 'gsi1pk', 'gsi1sk', 'request', 'grant', 'delivery', 'body', 'event'] as const;

export interface ItemKey {
  pk: string;
  sk: string;
}

/** A stored item: its key plus any JSON-serialisable attributes. */
export type Item = ItemKey & Record<string, unknown>;

export interface PutOptions {
  /** Fail with `ConflictError` if an item with this key already exists. */
  ifNotExists?: boolean;
  /**
   * Fail with `ConflictError` if the stored item has `attribute` equal to `equals` (an item
   * without it, or with another value, is overwritten).
   */
  unlessStored?: { attribute: string; equals: string };
  /**
   * Optimistic locking: fail with `ConflictError` unless the stored `version` equals this (0: the
   * item must not exist; `'unversioned'`: it must exist without a `version`, as written before its
   * kind of item was versioned).
   */
  expectedVersion?: number | 'unversioned';
}

export interface QueryInput {
  /** Partition key value (of the table, or of the index when `index` is set). */
  pk: string;
  /** Restrict to sort keys beginning with this prefix. */
  skPrefix?: string;
  /** Restrict to sort keys in [from, to] (inclusive, lexicographic). */
  skBetween?: [string, string];
  index?: IndexName;
  limit?: number;
  /** Opaque cursor returned by a previous page. */
  cursor?: string;
  /** Newest-first when false (default true: ascending sort key). */
  ascending?: boolean;
  /** A strongly consistent read (of the table only: DynamoDB indexes are eventually consistent). */
  consistent?: boolean;
}

export interface QueryPage<T> {
  items: T[];
  /** Present when more items remain. */
  cursor?: string;
}

/**
 * An atomic in-place change of one existing item, without reading it first: numbers added
 * (concurrent changes add up, none is lost), values set. Paths are attribute names, or dotted
 * paths into a map attribute (`dataset.fileCount`); a number not stored yet counts from 0.
 */
export interface ItemChanges {
  add?: Record<string, number>;
  set?: Record<string, unknown>;
}

/** One element of an all-or-nothing write. */
export type TransactOperation =
  | { kind: 'put'; table: TableName; item: Item; options?: PutOptions }
  | { kind: 'delete'; table: TableName; key: ItemKey }
  | { kind: 'check'; table: TableName; key: ItemKey; exists: boolean; expectedVersion?: number }
  /** Fails the transaction (`ConflictError`) if the item does not exist. */
  | { kind: 'update'; table: TableName; key: ItemKey; changes: ItemChanges };

export interface DocumentStore {
  get<T extends Item = Item>(table: TableName, key: ItemKey): Promise<T | undefined>;
  /** Reads several items in one round trip (strongly consistent, like `get`); results in the order of `keys`. */
  getMany<T extends Item = Item>(table: TableName, keys: ItemKey[]): Promise<Array<T | undefined>>;
  put(table: TableName, item: Item, options?: PutOptions): Promise<void>;
  delete(table: TableName, key: ItemKey): Promise<void>;
  /** Applies `changes` atomically to an existing item; `ConflictError` if it does not exist. */
  update(table: TableName, key: ItemKey, changes: ItemChanges): Promise<void>;
  query<T extends Item = Item>(table: TableName, input: QueryInput): Promise<QueryPage<T>>;
  /** Applies every operation or none; a failed condition raises `ConflictError`. */
  transact(operations: TransactOperation[]): Promise<void>;
  /** Writes many items without conditions (bulk loads); retried until all are written. */
  batchPut(table: TableName, items: Item[]): Promise<void>;
  /** Cheap round trip used by health checks. */
  ping(): Promise<void>;
}
