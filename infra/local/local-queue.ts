import type { DocumentStore } from '../../functions/core/ports/document-store';

/**
 * The local stand-in for SQS between steps (ARCHITECTURE D8): messages are handled in order,
 * each retried with backoff up to `maxAttempts`, then written to a dead-letter list in the
 * document store (`DLQ#<name>`) where a data manager can inspect them. Same handler contract as
 * the Lambda: one message in, throw to retry.
 */
export class LocalQueue<T extends object> {
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly handle: (message: T) => Promise<void>,
    private readonly store: DocumentStore,
    private readonly opts: { maxAttempts?: number; backoffMs?: number; onError?: (e: unknown) => void } = {},
  ) {}

  send(message: T): void {
    if (this.stopped) return;
    this.pending += 1;
    this.chain = this.chain.then(() => this.deliver(message)).finally(() => (this.pending -= 1));
  }

  /** Resolves when every message sent so far was handled or dead-lettered. */
  async drain(): Promise<void> {
    while (this.pending > 0) await this.chain;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.drain();
  }

  private async deliver(message: T): Promise<void> {
    const max = this.opts.maxAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.handle(message);
        return;
      } catch (e) {
        if (attempt >= max || this.stopped) {
          this.opts.onError?.(e);
          const at = new Date().toISOString();
          await this.store
            .put('main', { pk: `DLQ#${this.name}`, sk: `${at}#${Math.random().toString(36).slice(2)}`, message, error: e instanceof Error ? e.name : 'Error', attempts: attempt })
            .catch((err: unknown) => this.opts.onError?.(err));
          return;
        }
        await new Promise((r) => setTimeout(r, (this.opts.backoffMs ?? 200) * 2 ** (attempt - 1)));
      }
    }
  }
}
