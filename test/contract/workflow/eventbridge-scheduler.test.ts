import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, ResourceNotFoundException, SchedulerClient } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeScheduler, atExpression, scheduleName } from '../../../functions/adapters/aws/eventbridge-scheduler';
import type { ScheduledJob } from '../../../functions/core/ports/scheduler';

const OPTIONS = {
  groupName: 'mdrp-jobs',
  targetArn: 'arn:aws:lambda:eu-west-1:123456789012:function:mdrp-jobs',
  roleArn: 'arn:aws:iam::123456789012:role/mdrp-scheduler',
};
const meta = { $metadata: {} };
const job: ScheduledJob = {
  name: 'grant-expiry-grt_01',
  type: 'grant-expiry',
  runAt: Date.UTC(2030, 0, 31, 23, 59, 30, 250),
  payload: { grantId: 'grt_01' },
};

const scheduler = mockClient(SchedulerClient);
const adapter = (now?: () => number) => new EventBridgeScheduler(new SchedulerClient({ region: 'eu-west-1' }), { ...OPTIONS, ...(now ? { now } : {}) });

beforeEach(() => scheduler.reset());

describe('EventBridgeScheduler (EventBridge Scheduler adapter)', () => {
  it('R-GOV-5: schedule creates a one-time UTC at() schedule, deleted after completion, with the job as input', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:x' });
    await adapter().schedule(job);
    expect(scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input).toEqual({
      Name: 'grant-expiry-grt_01',
      GroupName: 'mdrp-jobs',
      ScheduleExpression: 'at(2030-01-31T23:59:30)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Target: { Arn: OPTIONS.targetArn, RoleArn: OPTIONS.roleArn, Input: JSON.stringify(job) },
    });
  });

  it('R-GOV-5: scheduling the same name twice is a no-op (ConflictException swallowed)', async () => {
    scheduler.on(CreateScheduleCommand).rejects(new ConflictException({ message: 'exists', Message: 'exists', ...meta }));
    await expect(adapter().schedule(job)).resolves.toBeUndefined();
  });

  it('R-GOV-5: other create errors propagate', async () => {
    scheduler.on(CreateScheduleCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(adapter().schedule(job)).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('R-GOV-5: a job already due is scheduled one minute ahead when a clock is given', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:x' });
    const now = Date.UTC(2031, 5, 1, 12, 0, 0);
    await adapter(() => now).schedule(job);
    expect(scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input.ScheduleExpression).toBe('at(2031-06-01T12:01:00)');
  });

  it('R-GOV-5: cancel deletes the schedule and ignores ResourceNotFoundException', async () => {
    scheduler.on(DeleteScheduleCommand).resolvesOnce({}).rejectsOnce(new ResourceNotFoundException({ message: 'gone', Message: 'gone', ...meta }));
    await adapter().cancel(job.name);
    await expect(adapter().cancel(job.name)).resolves.toBeUndefined();
    expect(scheduler.commandCalls(DeleteScheduleCommand)[0]?.args[0].input).toEqual({ Name: 'grant-expiry-grt_01', GroupName: 'mdrp-jobs' });
  });

  it('R-GOV-5: schedule names are valid, deterministic and collision-safe', () => {
    const long = `grant-reminder#${'x'.repeat(100)}#2030-01-01T00:00:00Z`;
    const a = scheduleName(long);
    expect(a).toMatch(/^[0-9a-zA-Z\-_.]{1,64}$/);
    expect(scheduleName(long)).toBe(a);
    expect(scheduleName('grant:1')).not.toBe(scheduleName('grant/1'));
    expect(scheduleName('grant:1')).not.toBe('grant-1');
    expect(scheduleName('grant-expiry-grt_01')).toBe('grant-expiry-grt_01');
    expect(atExpression(Date.UTC(2030, 11, 1, 0, 0, 5))).toBe('at(2030-12-01T00:00:05)');
  });
});
