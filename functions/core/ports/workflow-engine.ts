/**
 * Workflow engine port (Step Functions in AWS; the same ASL run by a local runner on one
 * machine). Human steps use the task-token callback pattern.
 */
export type StateMachineName = 'access-request';

export interface WorkflowEngine {
  /** Starts an execution; idempotent per `executionName`. Returns the execution id. */
  start(machine: StateMachineName, executionName: string, input: unknown): Promise<string>;
  /** Completes a waiting task. Tokens are single-use: a replay raises `ConflictError`. */
  sendTaskSuccess(taskToken: string, output: unknown): Promise<void>;
  sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void>;
}
