import { randomBytes } from 'node:crypto';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { ConflictError, NotFoundError, isDomainError } from '../../core/errors';
import type { Clock } from '../../core/ports/clock';
import type { DocumentStore, Item, TableName } from '../../core/ports/document-store';
import type { IdGenerator } from '../../core/ports/id-generator';
import type { StateMachineName, WorkflowEngine } from '../../core/ports/workflow-engine';
import { installPromiseWithResolvers } from './promise-with-resolvers';
import { armTimer, type TimerHandle } from './timer';

/** Invokes the function a Task names (the local stand-in for Lambda `Invoke`). */
export type RunTask = (functionArn: string, payload: Record<string, unknown>) => Promise<unknown>;

/** Constructor options of {@link LocalWorkflowEngine}. */
export interface LocalWorkflowEngineOptions {
  /** Parsed ASL per state machine, exactly as deployed (with `${Var}` placeholders). */
  definitions: Record<StateMachineName, object>;
  /** Values for the `${Var}` placeholders (CDK `DefinitionSubstitutions` in AWS). */
  substitutions: Record<string, string>;
  runTask: RunTask;
  store: DocumentStore;
  clock: Clock;
  ids: IdGenerator;
  /** Called with unexpected internal errors (a store write failing after a step); default: console.error. */
  onInternalError?: (error: unknown) => void;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

/** One entered state (Map iterations included), oldest first. `at` is epoch ms. */
export interface ExecutionHistoryEntry {
  state: string;
  type: string;
  at: number;
}

/** What {@link LocalWorkflowEngine.describe} reports. */
export interface ExecutionDescription {
  executionId: string;
  status: ExecutionStatus;
  history: ExecutionHistoryEntry[];
  /** The callback step the execution is paused on, if any. */
  waiting?: { state: string; taskToken: string; payload: unknown };
  output?: unknown;
  error?: string;
  cause?: string;
}

/** The part of the library's execution events this engine reads. */
type EventLog = { type: string; timestamp: number; state?: { name: string; type: string } };

type Outcome = { ok: true; result: unknown } | { ok: false; error: string; cause: string };

interface TaskInfo {
  state: string;
  /** `gate`: an engine-inserted first state of each Map iteration (see rewriteStates). */
  kind: 'invoke' | 'callback' | 'function' | 'gate';
  resource: string;
  /** Static timeout; undefined when the definition uses `TimeoutSecondsPath`. */
  timeoutSeconds?: number;
}

interface PreparedMachine {
  definition: StateMachineDefinition;
  tasks: Map<string, TaskInfo>;
}

interface OpenRecord {
  key: string;
  state: string;
  token: string;
  deadline: number;
  payload: unknown;
  functionArn: string;
}

interface Waiter {
  key: string;
  state: string;
  token: string;
  payload: unknown;
  settle: (outcome: Outcome) => void;
  timer?: TimerHandle;
}

interface LiveExecution {
  id: string;
  machine: StateMachineName;
  name: string;
  input: unknown;
  startedAt: number;
  history: ExecutionHistoryEntry[];
  open: Map<string, OpenRecord>;
  done: Map<string, Outcome>;
  /** Invocation count per Task state: the replay key of the n-th invocation is `<state>#<n>`. */
  counters: Map<string, number>;
  waiters: Map<string, Waiter>;
  /** Task handlers currently doing work (not parked on a callback). */
  inFlight: number;
  finished: boolean;
  abort?: () => void;
  settled?: Promise<void>;
}

const TABLE: TableName = 'main';
const RUNNING_PK = 'WFEXEC-RUNNING';
const execPk = (id: string): string => `WFEXEC#${id}`;
const tokenPk = (token: string): string => `WFTOKEN#${token}`;

/** Placed in `$$.Task.Token`; each callback invocation swaps it for a fresh single-use token. */
const TOKEN_SENTINEL = '__MDRP_LOCAL_TASK_TOKEN__';
/**
 * The library arms its own task timer (default 60 s). This engine enforces the ASL timeouts
 * itself (durably, from recorded deadlines), so the library timer is pushed out of the way;
 * the value stays below setTimeout's 2^31-1 ms limit.
 */
const LIBRARY_TIMEOUT_SECONDS = 2_000_000;
const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const LAMBDA_INVOKE_CALLBACK = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
const DEFAULT_TASK_TIMEOUT_SECONDS = 60;
/** Prefix of states the engine adds to its private copy of a definition (hidden from history). */
const INTERNAL_PREFIX = '__mdrp';
const GATE_RESOURCE = 'arn:aws:lambda:local:000000000000:function:mdrp-local-map-gate';

/** An error raised inside the execution with a Step Functions error name (what Catch matches). */
class TaskError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

class EngineStoppedError extends Error {
  constructor() {
    super('the local workflow engine was stopped');
    this.name = 'EngineStopped';
  }
}

/**
 * Runs the deployed ASL (the same JSON Step Functions runs) on one machine through
 * aws-local-stepfunctions, and adds what that library lacks (D5):
 *
 * - `.waitForTaskToken`: each callback Task gets a single-use token (in `$$.Task.Token`), the
 *   task function is invoked with it, and the state waits for `sendTaskSuccess/Failure`;
 * - Lambda `Invoke` semantics: `lambda:invoke` results come back as `{ Payload, StatusCode, … }`,
 *   errors as `{ Error: <error name>, Cause: <JSON errorMessage/errorType> }`;
 * - `TimeoutSeconds`/`TimeoutSecondsPath` enforced from a recorded deadline (`States.Timeout`);
 * - durability: every execution, each opened callback (token, deadline) and each task outcome is
 *   written to the document store (`main`, pk `WFEXEC#<executionId>`). After a restart
 *   {@link resumeAll} re-runs each unfinished execution from its input, replaying recorded
 *   outcomes without invoking the tasks again (deterministic replay, Map iterations included),
 *   and re-arms the pending callback with its original token and deadline.
 *
 * Replay keys are `<state name>#<n-th invocation>`; this is deterministic for sequential flows
 * and Maps with `MaxConcurrency: 1`, which is what the platform's machines use.
 */
export class LocalWorkflowEngine implements WorkflowEngine {
  private readonly machines = new Map<StateMachineName, PreparedMachine>();
  private readonly live = new Map<string, LiveExecution>();
  private readonly timers = new Set<TimerHandle>();
  private readonly runTaskFn: RunTask;
  private readonly store: DocumentStore;
  private readonly clock: Clock;
  private readonly ids: IdGenerator;
  private readonly onInternalError: (error: unknown) => void;
  private readonly stopSignal: Promise<never>;
  private rejectStop!: (reason: unknown) => void;
  private stopped = false;
  private pendingOps = 0;
  private resuming: Promise<number> | undefined;

  constructor(options: LocalWorkflowEngineOptions) {
    installPromiseWithResolvers();
    this.runTaskFn = options.runTask;
    this.store = options.store;
    this.clock = options.clock;
    this.ids = options.ids;
    this.onInternalError = options.onInternalError ?? ((e) => console.error('[local-workflow-engine]', e));
    this.stopSignal = new Promise<never>((_, reject) => {
      this.rejectStop = reject;
    });
    this.stopSignal.catch(() => undefined); // only ever observed through Promise.race
    for (const [name, definition] of Object.entries(options.definitions) as Array<[StateMachineName, object]>) {
      this.machines.set(name, prepare(definition, options.substitutions));
    }
  }

  /** Starts an execution; same name + same input returns the existing id, other input → `ConflictError`. */
  async start(machine: StateMachineName, executionName: string, input: unknown): Promise<string> {
    this.assertRunning();
    if (!this.machines.has(machine)) throw new NotFoundError('state machine', { machine });
    const id = `${machine}:${executionName}`;
    const json = toJson(input);
    const startedAt = this.clock.now();
    const header: Item = { pk: execPk(id), sk: 'EXEC', machine, name: executionName, input: json, status: 'RUNNING', startedAt };
    try {
      await this.store.transact([
        { kind: 'put', table: TABLE, item: header, options: { ifNotExists: true } },
        { kind: 'put', table: TABLE, item: { pk: RUNNING_PK, sk: id } },
      ]);
    } catch (e) {
      if (!isDomainError(e, 'CONFLICT')) throw e;
      const existing = await this.store.get(TABLE, { pk: execPk(id), sk: 'EXEC' });
      if (existing && stableStringify(existing.input) === stableStringify(json)) return id;
      throw new ConflictError('an execution with this name already exists with another input', { machine, executionName });
    }
    this.launch({ id, machine, name: executionName, input: json, startedAt, open: new Map(), done: new Map() });
    return id;
  }

  async sendTaskSuccess(taskToken: string, output: unknown): Promise<void> {
    await this.completeByToken(taskToken, { ok: true, result: toJson(output) });
  }

  async sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void> {
    await this.completeByToken(taskToken, { ok: false, error, cause });
  }

  /**
   * Continues every execution that was running or paused before a restart (call once at
   * startup). Returns how many were resumed.
   */
  async resumeAll(): Promise<number> {
    this.assertRunning();
    // Serialised so two callers cannot launch the same execution twice.
    const previous = this.resuming ?? Promise.resolve(0);
    const run = previous.catch(() => 0).then(() => this.resumeUnfinished());
    this.resuming = run;
    return run;
  }

  /** Status, entered states, and the callback the execution waits on. */
  async describe(executionId: string): Promise<ExecutionDescription> {
    const live = this.live.get(executionId);
    if (live && !live.finished) {
      const waiter = live.waiters.values().next().value as Waiter | undefined;
      return {
        executionId,
        status: 'RUNNING',
        history: [...live.history],
        ...(waiter ? { waiting: { state: waiter.state, taskToken: waiter.token, payload: waiter.payload } } : {}),
      };
    }
    const header = await this.store.get(TABLE, { pk: execPk(executionId), sk: 'EXEC' });
    if (!header) throw new NotFoundError('execution', { executionId });
    const description: ExecutionDescription = {
      executionId,
      status: header.status as ExecutionStatus,
      history: (header.history as ExecutionHistoryEntry[] | undefined) ?? [],
      ...(header.output !== undefined ? { output: header.output } : {}),
      ...(typeof header.error === 'string' ? { error: header.error } : {}),
      ...(typeof header.cause === 'string' ? { cause: header.cause } : {}),
    };
    if (description.status === 'RUNNING') {
      // Not (yet) resumed in this process: report the open callback from the log.
      const { open, done } = await this.loadLog(executionId);
      const pending = [...open.values()].find((o) => !done.has(o.key));
      if (pending) description.waiting = { state: pending.state, taskToken: pending.token, payload: pending.payload };
    }
    return description;
  }

  /**
   * Resolves when no execution is transitioning: each is finished or parked on a callback.
   * For tests; rejects after `timeoutMs`.
   */
  async waitForIdle(timeoutMs = 10_000): Promise<void> {
    const giveUpAt = Date.now() + timeoutMs;
    let stableChecks = 0;
    // Several consecutive idle observations, each after a macrotask, so microtask chains
    // (state transitions) have drained in between.
    while (stableChecks < 3) {
      if (Date.now() > giveUpAt) throw new Error(`LocalWorkflowEngine.waitForIdle: still busy after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => setTimeout(resolve, stableChecks > 0 ? 0 : 2));
      stableChecks = this.isIdle() ? stableChecks + 1 : 0;
    }
  }

  /** Stops every execution without recording anything; state stays resumable. Clears all timers. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) timer.cancel();
    this.timers.clear();
    const executions = [...this.live.values()];
    for (const live of executions) live.abort?.();
    this.rejectStop(new EngineStoppedError());
    await Promise.allSettled(executions.map((l) => l.settled));
    this.live.clear();
  }

  // ---------------------------------------------------------------------------------------

  private async resumeUnfinished(): Promise<number> {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.query(TABLE, { pk: RUNNING_PK, ...(cursor ? { cursor } : {}) });
      ids.push(...page.items.map((i) => i.sk));
      cursor = page.cursor;
    } while (cursor);
    let resumed = 0;
    for (const id of ids) {
      if (this.live.has(id) || this.stopped) continue;
      const header = await this.store.get(TABLE, { pk: execPk(id), sk: 'EXEC' });
      if (!header || header.status !== 'RUNNING') {
        await this.store.delete(TABLE, { pk: RUNNING_PK, sk: id });
        continue;
      }
      const machine = header.machine as StateMachineName;
      if (!this.machines.has(machine)) {
        this.onInternalError(new Error(`cannot resume ${id}: unknown state machine ${machine}`));
        continue;
      }
      const { open, done } = await this.loadLog(id);
      if (this.live.has(id) || this.stopped) continue;
      this.launch({
        id,
        machine,
        name: header.name as string,
        input: header.input,
        startedAt: header.startedAt as number,
        open,
        done,
      });
      resumed++;
    }
    return resumed;
  }

  private async loadLog(id: string): Promise<{ open: Map<string, OpenRecord>; done: Map<string, Outcome> }> {
    const open = new Map<string, OpenRecord>();
    const done = new Map<string, Outcome>();
    let cursor: string | undefined;
    do {
      const page = await this.store.query(TABLE, { pk: execPk(id), ...(cursor ? { cursor } : {}) });
      for (const item of page.items) {
        if (item.sk.startsWith('OPEN#')) {
          const key = item.sk.slice('OPEN#'.length);
          open.set(key, {
            key,
            state: item.state as string,
            token: item.token as string,
            deadline: item.deadline as number,
            payload: item.payload,
            functionArn: item.functionArn as string,
          });
        } else if (item.sk.startsWith('DONE#')) {
          done.set(item.sk.slice('DONE#'.length), item.outcome as Outcome);
        }
      }
      cursor = page.cursor;
    } while (cursor);
    return { open, done };
  }

  private launch(seed: Pick<LiveExecution, 'id' | 'machine' | 'name' | 'input' | 'startedAt' | 'open' | 'done'>): void {
    const prepared = this.machines.get(seed.machine);
    if (!prepared) throw new NotFoundError('state machine', { machine: seed.machine });
    const live: LiveExecution = {
      ...seed,
      history: [],
      counters: new Map(),
      waiters: new Map(),
      inFlight: 0,
      finished: false,
    };
    this.live.set(live.id, live);
    const handlers: Record<string, (input: unknown) => Promise<never>> = {};
    for (const info of prepared.tasks.values()) {
      handlers[info.state] = (input) => Promise.race([this.runTaskState(live, info, input), this.stopSignal]) as Promise<never>;
    }
    const machine = new StateMachine(prepared.definition, { validationOptions: { noValidate: true } });
    const execution = machine.run(live.input as never, {
      overrides: { taskResourceLocalHandlers: handlers as never },
      noThrowOnAbort: true,
      context: { Task: { Token: TOKEN_SENTINEL }, Execution: { Id: live.id, Name: live.name } },
    });
    live.abort = execution.abort;
    const historyDone = this.collectHistory(live, execution.eventLogs as AsyncGenerator<EventLog>);
    live.settled = execution.result
      .then(
        async (output) => {
          await historyDone;
          if (!this.stopped) await this.finish(live, { status: 'SUCCEEDED', output: toJson(output) });
        },
        async (err: unknown) => {
          await historyDone;
          if (this.stopped) return;
          const inner = (err instanceof Error && err.cause instanceof Error ? err.cause : err) as Error;
          await this.finish(live, { status: 'FAILED', error: inner?.name ?? 'Error', cause: inner?.message ?? String(err) });
        },
      )
      .catch((e: unknown) => this.onInternalError(e))
      .finally(() => {
        live.finished = true;
        this.dropWaiters(live);
        if (this.live.get(live.id) === live && !this.stopped) this.live.delete(live.id);
      });
  }

  private async collectHistory(live: LiveExecution, logs: AsyncGenerator<EventLog>): Promise<void> {
    try {
      for await (const event of logs) {
        if (event.type === 'StateEntered' && event.state && !event.state.name.startsWith(INTERNAL_PREFIX)) live.history.push({ state: event.state.name, type: event.state.type, at: event.timestamp });
      }
    } catch (e) {
      this.onInternalError(e);
    }
  }

  private async finish(
    live: LiveExecution,
    end: { status: 'SUCCEEDED'; output: unknown } | { status: 'FAILED'; error: string; cause: string },
  ): Promise<void> {
    await this.store.put(TABLE, {
      pk: execPk(live.id),
      sk: 'EXEC',
      machine: live.machine,
      name: live.name,
      input: live.input,
      startedAt: live.startedAt,
      endedAt: this.clock.now(),
      history: live.history,
      ...end,
    });
    await this.store.delete(TABLE, { pk: RUNNING_PK, sk: live.id });
  }

  /** The local handler of every Task state: replay, or run and record. */
  private async runTaskState(live: LiveExecution, info: TaskInfo, input: unknown): Promise<unknown> {
    try {
      return await this.runTaskStateUnguarded(live, info, input);
    } catch (e) {
      // A `Catch: States.ALL` would turn an engine or store failure into an ordinary failure
      // branch without a trace: report everything that is not a task outcome.
      if (!(e instanceof TaskError) && !(e instanceof EngineStoppedError)) this.onInternalError(e);
      throw e;
    }
  }

  private async runTaskStateUnguarded(live: LiveExecution, info: TaskInfo, input: unknown): Promise<unknown> {
    this.assertRunning();
    if (info.kind === 'gate') {
      await new Promise<void>((resolve) => setImmediate(resolve));
      return input;
    }
    const n = (live.counters.get(info.state) ?? 0) + 1;
    live.counters.set(info.state, n);
    const key = `${info.state}#${String(n).padStart(6, '0')}`;
    const recorded = live.done.get(key);
    if (recorded) return unwrap(recorded);
    live.inFlight++;
    try {
      const wrapped = input as { __mdrpParams?: unknown; __mdrpTimeoutSeconds?: unknown };
      const timeoutSeconds = timeoutOf(info, wrapped.__mdrpTimeoutSeconds);
      if (info.kind === 'callback') return await this.runCallbackTask(live, info, key, wrapped.__mdrpParams, timeoutSeconds);
      return await this.runPlainTask(live, info, key, wrapped.__mdrpParams, timeoutSeconds);
    } finally {
      live.inFlight--;
    }
  }

  private async runPlainTask(live: LiveExecution, info: TaskInfo, key: string, params: unknown, timeoutSeconds: number): Promise<unknown> {
    const { functionArn, payload } = callOf(info, params);
    let outcome: Outcome;
    const timer = this.deadlineTimer(this.clock.now() + timeoutSeconds * 1000);
    try {
      const raw = await Promise.race([this.invoke(functionArn, payload), timer.elapsed]);
      outcome = { ok: true, result: info.kind === 'invoke' ? lambdaInvokeResult(raw) : toJson(raw) };
    } catch (e) {
      this.assertRunning();
      outcome = e === TIMED_OUT ? TIMEOUT_OUTCOME : lambdaError(e);
    } finally {
      timer.cancel();
    }
    this.assertRunning();
    const stored = await this.record(live.id, key, info.state, outcome);
    live.done.set(key, stored);
    return unwrap(stored);
  }

  private async runCallbackTask(
    live: LiveExecution,
    info: TaskInfo,
    key: string,
    params: unknown,
    timeoutSeconds: number,
  ): Promise<unknown> {
    const reopened = live.open.get(key);
    if (reopened) return this.parkOn(live, this.arm(live, reopened)); // replay: same token, no new invocation
    const { functionArn, payload } = callOf(info, params);
    const token = `${this.ids.next('wft')}.${randomBytes(18).toString('base64url')}`;
    const open: OpenRecord = {
      key,
      state: info.state,
      token,
      deadline: this.clock.now() + timeoutSeconds * 1000,
      payload: replaceSentinel(payload, token),
      functionArn,
    };
    this.assertRunning();
    await this.store.transact([
      { kind: 'put', table: TABLE, item: { pk: execPk(live.id), sk: `OPEN#${key}`, ...open }, options: { ifNotExists: true } },
      { kind: 'put', table: TABLE, item: { pk: tokenPk(token), sk: 'TOKEN', executionId: live.id, key, state: info.state }, options: { ifNotExists: true } },
    ]);
    live.open.set(key, open);
    const outcome = this.arm(live, open); // armed before the invocation: the callback may come back first
    try {
      await this.invoke(functionArn, open.payload as Record<string, unknown>);
    } catch (e) {
      this.assertRunning();
      await this.completeStep(live.id, key, info.state, lambdaError(e)); // loses to an earlier callback
    }
    return this.parkOn(live, outcome);
  }

  /**
   * Callbacks still open when an execution ends (an aborted sibling iteration) are dropped:
   * their timers cleared and their handlers released, nothing recorded.
   */
  private dropWaiters(live: LiveExecution): void {
    for (const waiter of live.waiters.values()) {
      if (waiter.timer) this.cancelTimer(waiter.timer);
      waiter.settle({ ok: false, error: 'States.Aborted', cause: 'the execution ended' });
    }
    live.waiters.clear();
  }

  private async parkOn(live: LiveExecution, outcome: Promise<Outcome>): Promise<unknown> {
    live.inFlight--;
    try {
      return unwrap(await outcome);
    } finally {
      live.inFlight++;
    }
  }

  /** Registers the waiter of an open callback and its deadline timer. */
  private arm(live: LiveExecution, open: OpenRecord): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      const already = live.done.get(open.key);
      if (already) return resolve(already);
      const waiter: Waiter = { key: open.key, state: open.state, token: open.token, payload: open.payload, settle: resolve };
      live.waiters.set(open.key, waiter);
      waiter.timer = this.scheduleAt(open.deadline, () => {
        this.completeStep(live.id, open.key, open.state, TIMEOUT_OUTCOME).catch((e: unknown) => this.onInternalError(e));
      });
    });
  }

  private async completeByToken(taskToken: string, outcome: Outcome): Promise<void> {
    const token = await this.store.get(TABLE, { pk: tokenPk(taskToken), sk: 'TOKEN' });
    if (!token) throw new NotFoundError('task token');
    const header = await this.store.get(TABLE, { pk: execPk(token.executionId as string), sk: 'EXEC' });
    if (header?.status !== 'RUNNING') throw new ConflictError('the execution of this task token has ended', { state: token.state });
    const accepted = await this.completeStep(token.executionId as string, token.key as string, token.state as string, outcome);
    if (!accepted) throw new ConflictError('task token already used or timed out', { state: token.state });
  }

  /** Records a callback outcome once (conditional write) and wakes the waiting state. */
  private async completeStep(executionId: string, key: string, state: string, outcome: Outcome): Promise<boolean> {
    this.pendingOps++;
    try {
      try {
        await this.store.put(TABLE, { pk: execPk(executionId), sk: `DONE#${key}`, state, outcome, at: this.clock.now() }, { ifNotExists: true });
      } catch (e) {
        if (isDomainError(e, 'CONFLICT')) return false;
        throw e;
      }
      const live = this.live.get(executionId);
      if (live) {
        live.done.set(key, outcome);
        const waiter = live.waiters.get(key);
        if (waiter) {
          live.waiters.delete(key);
          if (waiter.timer) this.cancelTimer(waiter.timer);
          waiter.settle(outcome);
        }
      }
      return true;
    } finally {
      this.pendingOps--;
    }
  }

  /** Writes a plain task's outcome; if another writer got there first, its record wins. */
  private async record(executionId: string, key: string, state: string, outcome: Outcome): Promise<Outcome> {
    try {
      await this.store.put(TABLE, { pk: execPk(executionId), sk: `DONE#${key}`, state, outcome, at: this.clock.now() }, { ifNotExists: true });
      return outcome;
    } catch (e) {
      if (!isDomainError(e, 'CONFLICT')) throw e;
      const existing = await this.store.get(TABLE, { pk: execPk(executionId), sk: `DONE#${key}` });
      return (existing?.outcome as Outcome | undefined) ?? outcome;
    }
  }

  private invoke(functionArn: string, payload: Record<string, unknown>): Promise<unknown> {
    // Through a then() so a synchronous throw becomes a rejection.
    return Promise.resolve().then(() => this.runTaskFn(functionArn, payload));
  }

  private scheduleAt(deadline: number, fire: () => void): TimerHandle {
    const handle = armTimer(deadline, this.clock, () => {
      this.timers.delete(handle);
      fire();
    });
    this.timers.add(handle);
    return handle;
  }

  private cancelTimer(handle: TimerHandle): void {
    handle.cancel();
    this.timers.delete(handle);
  }

  private deadlineTimer(deadline: number): { elapsed: Promise<never>; cancel: () => void } {
    let handle: TimerHandle | undefined;
    const elapsed = new Promise<never>((_, reject) => {
      handle = this.scheduleAt(deadline, () => reject(TIMED_OUT));
    });
    elapsed.catch(() => undefined);
    return { elapsed, cancel: () => handle && this.cancelTimer(handle) };
  }

  private isIdle(): boolean {
    if (this.pendingOps > 0) return false;
    for (const live of this.live.values()) {
      if (live.finished) continue;
      if (live.waiters.size === 0 || live.inFlight > 0) return false;
    }
    return true;
  }

  private assertRunning(): void {
    if (this.stopped) throw new EngineStoppedError();
  }
}

const TIMED_OUT = Symbol('timed-out');
const TIMEOUT_OUTCOME: Outcome = { ok: false, error: 'States.Timeout', cause: 'Task timed out.' };

function unwrap(outcome: Outcome): unknown {
  if (outcome.ok) return structuredClone(outcome.result);
  throw new TaskError(outcome.error, outcome.cause);
}

/** What Step Functions' `lambda:invoke` integration returns (the body is under `Payload`). */
function lambdaInvokeResult(raw: unknown): unknown {
  return { ExecutedVersion: '$LATEST', Payload: toJson(raw), StatusCode: 200 };
}

/** A function error as Step Functions reports it: Error = errorType, Cause = JSON of the error. */
function lambdaError(e: unknown): Outcome {
  const errorType = e instanceof Error && e.name ? e.name : 'Error';
  const errorMessage = e instanceof Error ? e.message : String(e);
  return { ok: false, error: errorType, cause: JSON.stringify({ errorMessage, errorType }) };
}

function callOf(info: TaskInfo, params: unknown): { functionArn: string; payload: Record<string, unknown> } {
  if (info.kind === 'function') return { functionArn: info.resource, payload: (params ?? {}) as Record<string, unknown> };
  const p = (params ?? {}) as { FunctionName?: unknown; Payload?: unknown };
  if (typeof p.FunctionName !== 'string') throw new TaskError('States.Runtime', `${info.state}: Parameters.FunctionName is missing`);
  return { functionArn: p.FunctionName, payload: (p.Payload ?? {}) as Record<string, unknown> };
}

function timeoutOf(info: TaskInfo, fromPath: unknown): number {
  if (info.timeoutSeconds !== undefined) return info.timeoutSeconds;
  if (typeof fromPath === 'number' && Number.isInteger(fromPath) && fromPath >= 1) return fromPath;
  throw new TaskError('States.Runtime', `${info.state}: TimeoutSecondsPath must select a positive integer`);
}

function replaceSentinel(value: unknown, token: string): unknown {
  if (value === TOKEN_SENTINEL) return token;
  if (Array.isArray(value)) return value.map((v) => replaceSentinel(v, token));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceSentinel(v, token)]));
  }
  return value;
}

function toJson(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

type JsonObject = Record<string, unknown>;

/** Substituted definitions already validated in this process. */
const validatedDefinitions = new Set<string>();

/**
 * Applies `${Var}` substitutions, validates, and rewrites a copy for the library: each Task's
 * Parameters are wrapped as `{ __mdrpParams: <original>, __mdrpTimeoutSeconds.$: <TimeoutSecondsPath> }`
 * so the handler sees the original parameters plus the timeout resolved against the state
 * input (as in AWS; the library would resolve the path against the post-Parameters input).
 */
function prepare(definition: object, substitutions: Record<string, string>): PreparedMachine {
  const text = JSON.stringify(definition).replace(/\$\{([A-Za-z0-9_]+)\}/g, (_, name: string) => {
    const value = substitutions[name];
    if (value === undefined) throw new Error(`no substitution given for \${${name}}`);
    return JSON.stringify(value).slice(1, -1);
  });
  const substituted = JSON.parse(text) as StateMachineDefinition;
  if (!validatedDefinitions.has(text)) {
    // Throws with the validator's messages when the definition is invalid (costly: cached).
    new StateMachine(structuredClone(substituted), { validationOptions: { checkArn: false } });
    validatedDefinitions.add(text);
  }
  const local = structuredClone(substituted) as unknown as JsonObject;
  const tasks = new Map<string, TaskInfo>();
  rewriteStates(local.States as Record<string, JsonObject>, tasks);
  return { definition: local as unknown as StateMachineDefinition, tasks };
}

function rewriteStates(states: Record<string, JsonObject>, tasks: Map<string, TaskInfo>): void {
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Map') {
      const processor = (state.ItemProcessor ?? state.Iterator) as JsonObject;
      rewriteStates(processor.States as Record<string, JsonObject>, tasks);
      // The library's Map starts the next item (p-limit) before it aborts the Map on a failed
      // iteration, so with MaxConcurrency 1 the item after a rejection would still invoke its
      // first task — a side effect Step Functions never performs. A gate state that yields one
      // macrotask lets the abort land first; an aborted iteration then stops at the gate.
      const gate = `${INTERNAL_PREFIX}MapGate_${name}`;
      (processor.States as Record<string, JsonObject>)[gate] = {
        Type: 'Task',
        Resource: GATE_RESOURCE,
        TimeoutSeconds: LIBRARY_TIMEOUT_SECONDS,
        Next: processor.StartAt,
      };
      processor.StartAt = gate;
      tasks.set(gate, { state: gate, kind: 'gate', resource: GATE_RESOURCE });
    } else if (state.Type === 'Parallel') {
      for (const branch of state.Branches as JsonObject[]) rewriteStates(branch.States as Record<string, JsonObject>, tasks);
    } else if (state.Type === 'Task') {
      const resource = state.Resource as string;
      let kind: TaskInfo['kind'];
      if (resource === LAMBDA_INVOKE) kind = 'invoke';
      else if (resource === LAMBDA_INVOKE_CALLBACK) kind = 'callback';
      else if (/^arn:aws[a-z-]*:lambda:/.test(resource)) kind = 'function';
      else throw new Error(`state ${name}: resource ${resource} is not supported by the local workflow engine`);
      const usesPath = typeof state.TimeoutSecondsPath === 'string';
      tasks.set(name, {
        state: name,
        kind,
        resource,
        ...(usesPath ? {} : { timeoutSeconds: (state.TimeoutSeconds as number | undefined) ?? DEFAULT_TASK_TIMEOUT_SECONDS }),
      });
      const parameters: JsonObject = 'Parameters' in state ? { __mdrpParams: state.Parameters } : { '__mdrpParams.$': '$' };
      if (usesPath) parameters['__mdrpTimeoutSeconds.$'] = state.TimeoutSecondsPath;
      state.Parameters = parameters;
      state.TimeoutSeconds = LIBRARY_TIMEOUT_SECONDS;
      delete state.TimeoutSecondsPath;
      delete state.HeartbeatSeconds;
      delete state.HeartbeatSecondsPath;
    }
  }
}
