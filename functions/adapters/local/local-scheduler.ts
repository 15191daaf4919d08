import type { Clock } from '../../core/ports/clock';
import type { DocumentStore, Item, TableName } from '../../core/ports/document-store';
import type { ScheduledJob, Scheduler } from '../../core/ports/scheduler';
import { isDomainError } from '../../core/errors';

/** Constructor options of {@link LocalScheduler}. */
export interface LocalSchedulerOptions {
  store: DocumentStore;
  clock: Clock;
  /** Executes one due job; throwing leaves it due for the next poll. */
  runJob: (job: ScheduledJob) => Promise<void>;
  /** Attempts before a job is parked as failed (default 5). */
  maxAttempts?: number;
  /** Receives poll errors and parked jobs (default: console.error, names only — no payload). */
  onError?: (error: unknown, job?: ScheduledJob) => void;
}

/** Stored job: `JOB#<name>` holds the job and its state; a `SCHED#DUE` row orders pending jobs by time. */
type JobStatus = 'pending' | 'done' | 'failed';
interface JobItem extends Item {
  job: ScheduledJob;
  status: JobStatus;
  attempts: number;
  lastError?: string;
}

const TABLE: TableName = 'main';
const DUE_PK = 'SCHED#DUE';
const FAILED_PK = 'SCHED#FAILED';
const jobKey = (name: string) => ({ pk: `SCHED#JOB#${name}`, sk: 'JOB' });
const dueSk = (runAt: number, name: string) => `${String(Math.max(0, Math.floor(runAt))).padStart(15, '0')}#${name}`;

/**
 * The one-machine stand-in for EventBridge Scheduler (D4): jobs live in the document store (so
 * they survive restarts) and a poller runs the due ones. A job is marked done only after
 * `runJob` succeeded; a failing job is retried on later polls and parked as failed after
 * `maxAttempts` (listed under `SCHED#FAILED`). At-least-once, like the AWS side.
 */
export class LocalScheduler implements Scheduler {
  private readonly store: DocumentStore;
  private readonly clock: Clock;
  private readonly runJob: (job: ScheduledJob) => Promise<void>;
  private readonly maxAttempts: number;
  private readonly onError: (error: unknown, job?: ScheduledJob) => void;
  private interval: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(options: LocalSchedulerOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.runJob = options.runJob;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.onError =
      options.onError ??
      ((error, job) => console.error('[local-scheduler]', job ? `job ${job.name} (${job.type})` : 'poll', error instanceof Error ? error.message : error));
  }

  /** Idempotent per job name: a name already scheduled (or already run) is left as it is. */
  async schedule(job: ScheduledJob): Promise<void> {
    const item: JobItem = { ...jobKey(job.name), job: structuredClone(job), status: 'pending', attempts: 0 };
    try {
      await this.store.transact([
        { kind: 'put', table: TABLE, item, options: { ifNotExists: true } },
        { kind: 'put', table: TABLE, item: { pk: DUE_PK, sk: dueSk(job.runAt, job.name), name: job.name } },
      ]);
    } catch (e) {
      if (isDomainError(e, 'CONFLICT')) return;
      throw e;
    }
  }

  /** Removes a pending job; unknown names are ignored. */
  async cancel(name: string): Promise<void> {
    const item = await this.store.get<JobItem>(TABLE, jobKey(name));
    if (!item) return;
    await this.store.transact([
      { kind: 'delete', table: TABLE, key: jobKey(name) },
      { kind: 'delete', table: TABLE, key: { pk: DUE_PK, sk: dueSk(item.job.runAt, name) } },
    ]);
  }

  /** Runs every job due at `now` (default: the clock). Returns how many succeeded. Polls never overlap. */
  async runDue(now: number = this.clock.now()): Promise<number> {
    const previous = this.running ?? Promise.resolve(0);
    const run = previous.catch(() => 0).then(() => this.runDueNow(now));
    this.running = run;
    try {
      return await run;
    } finally {
      if (this.running === run) this.running = undefined;
    }
  }

  /** Polls every `intervalMs` until {@link stop}. */
  start(intervalMs: number): void {
    if (this.interval) return;
    this.interval = setInterval(() => {
      this.runDue().catch((e: unknown) => this.onError(e));
    }, intervalMs);
    this.interval.unref();
  }

  /** Stops polling and waits for a poll in progress. */
  async stop(): Promise<void> {
    if (this.interval) clearInterval(this.interval);
    this.interval = undefined;
    await this.running?.catch(() => undefined);
  }

  private async runDueNow(now: number): Promise<number> {
    let succeeded = 0;
    let cursor: string | undefined;
    const due: Item[] = [];
    do {
      const page = await this.store.query(TABLE, { pk: DUE_PK, skBetween: ['0', `${dueSk(now, '')}\uffff`], ...(cursor ? { cursor } : {}) });
      due.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    for (const row of due) {
      const name = row.name as string;
      const item = await this.store.get<JobItem>(TABLE, jobKey(name));
      if (!item || item.status !== 'pending') {
        await this.store.delete(TABLE, { pk: DUE_PK, sk: row.sk }); // cancelled or finished
        continue;
      }
      try {
        await this.runJob(structuredClone(item.job));
      } catch (e) {
        await this.recordFailure(item, row.sk, e);
        continue;
      }
      await this.store.transact([
        { kind: 'put', table: TABLE, item: { ...item, status: 'done', attempts: item.attempts + 1, doneAt: this.clock.now() } },
        { kind: 'delete', table: TABLE, key: { pk: DUE_PK, sk: row.sk } },
      ]);
      succeeded++;
    }
    return succeeded;
  }

  private async recordFailure(item: JobItem, dueRowSk: string, error: unknown): Promise<void> {
    const attempts = item.attempts + 1;
    // Only the error's name: messages may carry data the logs must not hold.
    const lastError = error instanceof Error ? error.name : 'Error';
    if (attempts < this.maxAttempts) {
      await this.store.put(TABLE, { ...item, attempts, lastError });
      return;
    }
    await this.store.transact([
      { kind: 'put', table: TABLE, item: { ...item, status: 'failed', attempts, lastError, failedAt: this.clock.now() } },
      { kind: 'delete', table: TABLE, key: { pk: DUE_PK, sk: dueRowSk } },
      { kind: 'put', table: TABLE, item: { pk: FAILED_PK, sk: item.job.name, type: item.job.type, attempts, lastError } },
    ]);
    this.onError(error, item.job);
  }
}
