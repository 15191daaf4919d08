import pMap, { pMapSkip } from 'p-map';

/**
 * Bounded concurrency for a job's writes, with one rule on failure: nothing new starts, what
 * already started settles, then the first error is thrown. A failed job thus never leaves a write
 * running behind its error, which could land after the job's rerun has begun (or after a test has
 * read the store).
 */

/**
 * `fn` over `items`, at most `concurrency` at a time, results in input order (as `p-map`). On the
 * first failure, of `fn` or of the iteration itself (an async generator that parses as it goes),
 * no further item is taken; the calls in flight are awaited, then that failure is thrown.
 */
export async function mapDrained<T, R>(items: Iterable<T> | AsyncIterable<T>, fn: (item: T, index: number) => Promise<R>, concurrency: number): Promise<R[]> {
  let failure: { error: unknown } | undefined;
  async function* untilFailure(): AsyncGenerator<T> {
    try {
      for await (const item of items) {
        if (failure) return;
        yield item;
      }
    } catch (error) {
      failure ??= { error };
    }
  }
  const out = await pMap(
    untilFailure(),
    async (item, i) => {
      try {
        return await fn(item, i);
      } catch (error) {
        failure ??= { error };
        return pMapSkip;
      }
    },
    { concurrency },
  );
  if (failure) throw failure.error;
  return out;
}

/**
 * At most `limit` writes in flight: a job's independent writes (distinct items, each batch or
 * transaction complete in itself) overlap their round trips instead of waiting for each other.
 * Writes are added one by one as the job produces them (`mapDrained` is for a list known up
 * front). The first failure is rethrown by `add` or `drain`, after the writes already started
 * have settled.
 *
 * @example
 * const pool = new WritePool(4);
 * for (const chunk of chunks) await pool.add(() => store.batchPut('main', chunk));
 * await pool.drain();
 */
export class WritePool {
  private readonly inFlight = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly limit: number) {}

  async add(task: () => Promise<unknown>): Promise<void> {
    while (this.inFlight.size >= this.limit) await Promise.race(this.inFlight);
    if (this.failure) await this.drain();
    const p: Promise<void> = task()
      .then(() => undefined)
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  async drain(): Promise<void> {
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure.error;
  }
}
