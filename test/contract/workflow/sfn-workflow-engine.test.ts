import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SfnWorkflowEngine, executionArnOf } from '../../../functions/adapters/aws/sfn-workflow-engine';
import { ConflictError } from '../../../functions/core/errors';

const MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:mdrp-access-request';
const EXEC_ARN = 'arn:aws:states:eu-west-1:123456789012:execution:mdrp-access-request:req-1';
const input = { requestId: 'req-1', approvalChain: ['approver'], reviewTimeoutSeconds: 3600 };
const meta = { $metadata: {} };

const sfn = mockClient(SFNClient);
const engine = () => new SfnWorkflowEngine(new SFNClient({ region: 'eu-west-1' }), { stateMachineArns: { 'access-request': MACHINE_ARN } });

beforeEach(() => sfn.reset());

describe('SfnWorkflowEngine (Step Functions adapter)', () => {
  it('R-GOV-2: start sends StartExecution with the execution name and JSON input', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXEC_ARN, startDate: new Date() });
    await expect(engine().start('access-request', 'req-1', input)).resolves.toBe(EXEC_ARN);
    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({ stateMachineArn: MACHINE_ARN, name: 'req-1', input: JSON.stringify(input) });
  });

  it('R-GOV-2: ExecutionAlreadyExists with the same input returns the existing execution', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', ...meta }));
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: EXEC_ARN,
      stateMachineArn: MACHINE_ARN,
      status: 'RUNNING',
      startDate: new Date(),
      input: JSON.stringify({ reviewTimeoutSeconds: 3600, approvalChain: ['approver'], requestId: 'req-1' }),
    });
    await expect(engine().start('access-request', 'req-1', input)).resolves.toBe(EXEC_ARN);
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]?.args[0].input).toEqual({ executionArn: EXEC_ARN });
    expect(executionArnOf(MACHINE_ARN, 'req-1')).toBe(EXEC_ARN);
  });

  it('R-GOV-2: ExecutionAlreadyExists with another input is a ConflictError', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', ...meta }));
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: EXEC_ARN, stateMachineArn: MACHINE_ARN, status: 'SUCCEEDED', startDate: new Date(),
      input: JSON.stringify({ ...input, approvalChain: ['approver', 'data-owner'] }),
    });
    await expect(engine().start('access-request', 'req-1', input)).rejects.toBeInstanceOf(ConflictError);
  });

  it('R-GOV-4: sendTaskSuccess / sendTaskFailure send the token, JSON output, error and cause', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    sfn.on(SendTaskFailureCommand).resolves({});
    await engine().sendTaskSuccess('tok-1', { outcome: 'approved', decidedBy: 'u1' });
    await engine().sendTaskFailure('tok-2', 'ReviewerUnavailable', 'board dissolved');
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input).toEqual({
      taskToken: 'tok-1', output: JSON.stringify({ outcome: 'approved', decidedBy: 'u1' }),
    });
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input).toEqual({
      taskToken: 'tok-2', error: 'ReviewerUnavailable', cause: 'board dissolved',
    });
  });

  for (const [label, error] of [
    ['TaskDoesNotExist', new TaskDoesNotExist({ message: 'no task', ...meta })],
    ['InvalidToken', new InvalidToken({ message: 'bad token', ...meta })],
    ['TaskTimedOut', new TaskTimedOut({ message: 'timed out', ...meta })],
  ] as const) {
    it(`R-GOV-4: a used or dead token (${label}) is a ConflictError`, async () => {
      sfn.on(SendTaskSuccessCommand).rejects(error);
      sfn.on(SendTaskFailureCommand).rejects(error);
      await expect(engine().sendTaskSuccess('tok', {})).rejects.toMatchObject({ code: 'CONFLICT' });
      await expect(engine().sendTaskFailure('tok', 'E', 'c')).rejects.toBeInstanceOf(ConflictError);
    });
  }

  it('R-GOV-4: other errors propagate unchanged', async () => {
    const throttled = Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
    sfn.on(SendTaskSuccessCommand).rejects(throttled);
    await expect(engine().sendTaskSuccess('tok', {})).rejects.toMatchObject({ name: 'ThrottlingException' });
  });
});
