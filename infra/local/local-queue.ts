import type { DocumentStore } from '../../functions/core/ports/document-store';

/** A message's failure, as the batch handler reports it (SQS: `batchItemFailures`). */
export type MessageFailure = { error: unknown } | undefined;

/**
 * The local stand-in for SQS between steps (ARCHITECTURE D8). Same contract as the queue's
 * Lambda: the handler gets the messages waiting, up to `batchSize` at a time (SQS hands a batch
 * to one invocation), and reports each one's failure. A failed message is delivered again after a
 * backoff, without holding up the others, up to `maxAttempts`; then it is written to a dead-letter
 * list in the document store (`DLQ#<name>`) where a data manager can inspect it. Batches form from
 * what is waiting when the handler is free: no batching window, so a lone upload is not delayed.
 */
export class LocalQueue<T extends object> {
  private readonly waiting: Array<{ message: T; attempts: number }> = [];
  private running = false;
  private pending = 0;
  private idle: Array<() => void> = [];
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly handle: (messages: T[]) => Promise<MessageFailure[]>,
    private readonly store: DocumentStore,
    private readonly opts: { batchSize?: number; maxAttempts?: number; backoffMs?: number; onError?: (e: unknown) => void } = {},
  ) {}

  send(message: T): void {
    if (this.stopped) return;
    this.pending += 1;
    this.enqueue({ message, attempts: 0 });
  }

  /** Resolves when every message sent so far was handled or dead-lettered. */
  async drain(): Promise<void> {
    if (this.pending > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.drain();
  }

  private enqueue(entry: { message: T; attempts: number }): void {
    this.waiting.push(entry);
    if (this.running) return;
    this.running = true;
    void this.run();
  }

  private async run(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, this.opts.batchSize ?? 10);
        let failures: MessageFailure[];
        try {
          failures = await this.handle(batch.map((b) => b.message));
        } catch (error) {
          failures = batch.map(() => ({ error }));
        }
        await Promise.all(batch.map((entry, i) => this.settle(entry, failures[i])));
      }
    } finally {
      // In the same turn as the last look at `waiting`: a message sent after it starts a new run.
      this.running = false;
    }
  }

  private report(e: unknown): void {
    try {
      this.opts.onError?.(e);
    } catch {
      // A failing error reporter must not lose the message's accounting.
    }
  }

  private async settle(entry: { message: T; attempts: number }, failure: MessageFailure): Promise<void> {
    if (failure) {
      entry.attempts += 1;
      if (entry.attempts < (this.opts.maxAttempts ?? 3) && !this.stopped) {
        setTimeout(() => this.enqueue(entry), (this.opts.backoffMs ?? 200) * 2 ** (entry.attempts - 1));
        return;
      }
      this.report(failure.error);
      const at = new Date().toISOString();
      await this.store
        .put('main', { pk: `DLQ#${this.name}`, sk: `${at}#${Math.random().toString(36).slice(2)}`, message: entry.message, error: failure.error instanceof Error ? failure.error.name : 'Error', attempts: entry.attempts })
        .catch((err: unknown) => this.report(err));
    }
    this.pending -= 1;
    if (this.pending === 0) for (const resolve of this.idle.splice(0)) resolve();
  }
}
