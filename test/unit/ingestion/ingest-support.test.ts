import { describe, expect, it } from 'vitest';
import { MAX_TRANSACTION_WRITES, packTransactions } from '../../../functions/core/ingestion/ingest-support';
import type { TransactOperation } from '../../../functions/core/ports/document-store';

/** How a batch's writes are packed into DynamoDB transactions (R-ING-5: each group all or nothing). */
describe('packTransactions', () => {
  const put = (sk: string, bytes = 10): TransactOperation => ({ kind: 'put', table: 'main', item: { pk: 'PATIENT#p', sk, blob: 'x'.repeat(bytes) } });
  const group = (i: number, writes: number, bytes = 10) => ({ i, operations: Array.from({ length: writes }, (_, k) => put(`REC#${i}#${k}`, bytes)) });
  const shape = (packed: Array<Array<{ i: number; operations: TransactOperation[] }>>) => packed.map((t) => t.reduce((n, g) => n + g.operations.length, 0));

  it('R-ING-5: 60 studies of 2 writes fill transactions of 100 writes, less what the caller reserves', () => {
    const studies = Array.from({ length: 60 }, (_, i) => group(i, 2));
    expect(MAX_TRANSACTION_WRITES).toBe(100);
    expect(shape(packTransactions(studies, 0))).toEqual([100, 20]);
    expect(shape(packTransactions(studies, 1))).toEqual([98, 22]);
    // Order is kept and nothing is lost or repeated.
    expect(packTransactions(studies, 0).flat().map((g) => g.i)).toEqual(studies.map((g) => g.i));
  });

  it('R-ING-5: a group is never split: one that does not fit what is left starts the next transaction', () => {
    const groups = [group(0, 60), group(1, 60), group(2, 3)];
    expect(packTransactions(groups, 0).map((t) => t.map((g) => g.i))).toEqual([[0], [1, 2]]);
  });

  it('R-ING-5: transactions stay under 3.5 MB however few their writes (DynamoDB takes 4 MB)', () => {
    // 8 groups of one 1 MB write: 3 to a transaction.
    const big = Array.from({ length: 8 }, (_, i) => group(i, 1, 1024 * 1024));
    const packed = packTransactions(big, 0);
    expect(shape(packed)).toEqual([3, 3, 2]);
    for (const t of packed) expect(Buffer.byteLength(JSON.stringify(t.flatMap((g) => g.operations)))).toBeLessThan(3.5 * 1024 * 1024);
  });

  it('R-ING-5: no groups, no transactions', () => {
    expect(packTransactions([], 0)).toEqual([]);
  });
});
