import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoDocumentStore } from '../../../functions/adapters/aws/dynamo-document-store';
import { ConflictError } from '../../../functions/core/errors';

const cancelled = (...codes: string[]) => new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });

describe('DynamoDocumentStore transactions (R-ING-5: concurrent ingest jobs share a dataset counter and study records)', () => {
  const doc = mockClient(DynamoDBDocumentClient);
  const store = () => new DynamoDocumentStore(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }), { main: 'm', identity: 'i', audit: 'a' });
  const op = { kind: 'put' as const, table: 'main' as const, item: { pk: 'DATASET', sk: 'd1' } };
  afterEach(() => doc.reset());

  it('a transaction cancelled by another one on the same item (TransactionConflict) is tried again', async () => {
    doc.on(TransactWriteCommand).rejectsOnce(cancelled('None', 'TransactionConflict')).resolves({});
    await store().transact([op, op]);
    expect(doc.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  it('a failed condition is the caller\'s ConflictError, not retried', async () => {
    doc.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));
    await expect(store().transact([op])).rejects.toBeInstanceOf(ConflictError);
    expect(doc.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('a conflict that persists gives up after 5 attempts as the store being unavailable', async () => {
    doc.on(TransactWriteCommand).rejects(cancelled('TransactionConflict'));
    await expect(store().transact([op])).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    expect(doc.commandCalls(TransactWriteCommand)).toHaveLength(5);
  });
});
