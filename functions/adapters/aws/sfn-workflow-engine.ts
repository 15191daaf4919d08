import {
  DescribeExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { ConflictError } from '../../core/errors';
import type { StateMachineName, WorkflowEngine } from '../../core/ports/workflow-engine';

/** Constructor options of {@link SfnWorkflowEngine}. */
export interface SfnWorkflowEngineOptions {
  stateMachineArns: Record<StateMachineName, string>;
}

/** Errors meaning "this token can no longer complete a task" (used, timed out, or never issued). */
const DEAD_TOKEN_ERRORS = new Set(['TaskDoesNotExist', 'InvalidToken', 'TaskTimedOut']);

/**
 * Workflow engine over AWS Step Functions (standard workflows). Execution names make `start`
 * idempotent; task-token errors map to `ConflictError` so a double decision is a 409.
 */
export class SfnWorkflowEngine implements WorkflowEngine {
  constructor(
    private readonly client: SFNClient,
    private readonly options: SfnWorkflowEngineOptions,
  ) {}

  async start(machine: StateMachineName, executionName: string, input: unknown): Promise<string> {
    const stateMachineArn = this.options.stateMachineArns[machine];
    const json = JSON.stringify(input ?? {});
    try {
      const out = await this.client.send(new StartExecutionCommand({ stateMachineArn, name: executionName, input: json }));
      return out.executionArn as string;
    } catch (e) {
      if (errorName(e) !== 'ExecutionAlreadyExists') throw e;
      // Same name: the same request started twice (retry) is fine; another input is a conflict.
      const executionArn = executionArnOf(stateMachineArn, executionName);
      const existing = await this.client.send(new DescribeExecutionCommand({ executionArn }));
      if (existing.input !== undefined && stableStringify(JSON.parse(existing.input)) === stableStringify(JSON.parse(json))) {
        return existing.executionArn ?? executionArn;
      }
      throw new ConflictError('an execution with this name already exists with another input', { machine, executionName }, { cause: e });
    }
  }

  async sendTaskSuccess(taskToken: string, output: unknown): Promise<void> {
    await this.sendTokenCommand(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output ?? {}) }));
  }

  async sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void> {
    await this.sendTokenCommand(new SendTaskFailureCommand({ taskToken, error, cause }));
  }

  private async sendTokenCommand(command: SendTaskSuccessCommand | SendTaskFailureCommand): Promise<void> {
    try {
      await this.client.send(command as SendTaskSuccessCommand);
    } catch (e) {
      const name = errorName(e);
      if (name && DEAD_TOKEN_ERRORS.has(name)) throw new ConflictError('task token already used or no longer valid', { reason: name }, { cause: e });
      throw e;
    }
  }
}

/** `arn:…:stateMachine:<machine>` → `arn:…:execution:<machine>:<name>` (how Step Functions names executions). */
export function executionArnOf(stateMachineArn: string, executionName: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`;
}

function errorName(e: unknown): string | undefined {
  return e && typeof e === 'object' && 'name' in e ? String((e as { name: unknown }).name) : undefined;
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
