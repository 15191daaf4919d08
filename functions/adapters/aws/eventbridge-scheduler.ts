import { createHash } from 'node:crypto';
import { CreateScheduleCommand, DeleteScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import type { ScheduledJob, Scheduler } from '../../core/ports/scheduler';

/** Constructor options of {@link EventBridgeScheduler}. */
export interface EventBridgeSchedulerOptions {
  /** Schedule group (one per environment). */
  groupName: string;
  /** What the schedule invokes with the job as input (the jobs function or queue). */
  targetArn: string;
  /** Role EventBridge Scheduler assumes to invoke the target. */
  roleArn: string;
  /**
   * Current time (epoch ms). When given, a job already due is scheduled one minute ahead, so it
   * runs promptly rather than depending on how an `at()` time in the past is treated (the daily
   * sweep and the decision-time check stay the safety net, D4).
   */
  now?: () => number;
}

/** Allowed characters of a schedule name, and its maximum length. */
const NAME_PATTERN = /^[0-9a-zA-Z\-_.]{1,64}$/;
const MAX_NAME = 64;
const HASH_CHARS = 16;

/**
 * One-time jobs as EventBridge Scheduler `at(...)` schedules (D4): UTC, no flexible window,
 * deleted after they run. Scheduling is idempotent per job name; cancelling a missing schedule
 * is a no-op. Delivery is at least once, so job handlers are idempotent.
 */
export class EventBridgeScheduler implements Scheduler {
  constructor(
    private readonly client: SchedulerClient,
    private readonly options: EventBridgeSchedulerOptions,
  ) {}

  async schedule(job: ScheduledJob): Promise<void> {
    const runAt = this.options.now ? Math.max(job.runAt, this.options.now() + 60_000) : job.runAt;
    try {
      await this.client.send(
        new CreateScheduleCommand({
          Name: scheduleName(job.name),
          GroupName: this.options.groupName,
          ScheduleExpression: atExpression(runAt),
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          State: 'ENABLED',
          Target: {
            Arn: this.options.targetArn,
            RoleArn: this.options.roleArn,
            Input: JSON.stringify(job),
          },
        }),
      );
    } catch (e) {
      if (errorName(e) === 'ConflictException') return; // already scheduled under this name
      throw e;
    }
  }

  async cancel(name: string): Promise<void> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: scheduleName(name), GroupName: this.options.groupName }));
    } catch (e) {
      if (errorName(e) === 'ResourceNotFoundException') return; // already ran (and was deleted) or never existed
      throw e;
    }
  }
}

/**
 * A valid schedule name for a job name: unchanged when already valid, otherwise the sanitised,
 * truncated name plus a hash of the original (deterministic, and two job names cannot collide).
 */
export function scheduleName(jobName: string): string {
  if (NAME_PATTERN.test(jobName)) return jobName;
  const hash = createHash('sha256').update(jobName).digest('hex').slice(0, HASH_CHARS);
  const base = jobName.replace(/[^0-9a-zA-Z\-_.]/g, '-').slice(0, MAX_NAME - HASH_CHARS - 1);
  return `${base}-${hash}`;
}

/** `at(yyyy-mm-ddThh:mm:ss)` in UTC (seconds precision, no zone suffix). */
export function atExpression(epochMs: number): string {
  return `at(${new Date(epochMs).toISOString().slice(0, 19)})`;
}

function errorName(e: unknown): string | undefined {
  return e && typeof e === 'object' && 'name' in e ? String((e as { name: unknown }).name) : undefined;
}
