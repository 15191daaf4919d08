import { ArnFormat, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface WorkflowsProps {
  readonly stage: string;
  /** Path of the access-request ASL file (`state-machines/access-request.asl.json`). */
  readonly accessRequestAslPath: string;
  /** Fixed names from `resourceNames()`: the ARNs are known before the resources exist. */
  readonly stateMachineName: string;
  readonly schedulerGroupName: string;
  readonly schedulerRoleName: string;
  /** Lambda behind every Task of the ASL (`${AccessWorkflowFunctionArn}`). */
  readonly workflowTasksFunction: lambda.IFunction;
  /** Lambda invoked by one-time grant schedules and the daily sweep (D4). */
  readonly scheduledJobsFunction: lambda.IFunction;
  readonly logsKey: kms.IKey;
  /** Time zone of the daily sweep. */
  readonly timeZone: string;
}

/**
 * Durable approval workflows (D5) and grant schedules (D4, R-GOV-5).
 *
 * The ASL is loaded from file, so neither CDK nor cdk-nag sees its Tasks: the Lambda
 * permissions are granted explicitly here and asserted in test/infra.
 */
export class Workflows extends Construct {
  public readonly accessRequestStateMachine: sfn.StateMachine;
  /** Built with formatArn from the fixed name (avoids the grantTaskResponse dependency cycle). */
  public readonly accessRequestStateMachineArn: string;
  public readonly schedulerGroup: scheduler.CfnScheduleGroup;
  public readonly schedulerRole: iam.Role;
  public readonly dailySweep: scheduler.CfnSchedule;
  public readonly auditSeal: scheduler.CfnSchedule;

  constructor(scope: Construct, id: string, props: WorkflowsProps) {
    super(scope, id);
    const stack = Stack.of(this);

    const logGroup = new logs.LogGroup(this, 'AccessRequestLogs', {
      // The /aws/vendedlogs/ prefix keeps the CloudWatch Logs resource policy small.
      logGroupName: `/aws/vendedlogs/states/mdrp-${props.stage}-access-request`,
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logsKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const role = new iam.Role(this, 'AccessRequestRole', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: `MDRP ${props.stage} access-request state machine`,
    });
    // The ASL's Tasks call this one function (plain invoke and .waitForTaskToken).
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeWorkflowTasks',
        actions: ['lambda:InvokeFunction'],
        resources: [props.workflowTasksFunction.functionArn],
      }),
    );

    this.accessRequestStateMachine = new sfn.StateMachine(this, 'AccessRequest', {
      stateMachineName: props.stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromFile(props.accessRequestAslPath),
      definitionSubstitutions: { AccessWorkflowFunctionArn: props.workflowTasksFunction.functionArn },
      role,
      tracingEnabled: true,
      // Execution data holds request details: keep it out of the logs (no PHI in logs, R-OPS-2).
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'CloudWatch Logs vended delivery (logs:CreateLogDelivery, …) and X-Ray (xray:PutTraceSegments, …) support only Resource "*"; added by CDK for logging and tracing.',
    });
    this.accessRequestStateMachineArn = stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: props.stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    this.schedulerGroup = new scheduler.CfnScheduleGroup(this, 'Group', { name: props.schedulerGroupName });
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      roleName: props.schedulerRoleName,
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'EventBridge Scheduler: invokes the MDRP scheduled-jobs function (grant reminders, revocation, sweep)',
    });
    this.schedulerRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeScheduledJobs',
        actions: ['lambda:InvokeFunction'],
        resources: [props.scheduledJobsFunction.functionArn],
      }),
    );

    // D4: the daily sweep catches any grant whose one-time schedule was missed.
    this.dailySweep = new scheduler.CfnSchedule(this, 'DailySweep', {
      name: `mdrp-${props.stage}-daily-sweep`,
      groupName: this.schedulerGroup.name,
      description: 'Revoke expired grants, send reminders, seal the audit digest',
      scheduleExpression: 'cron(15 2 * * ? *)',
      scheduleExpressionTimezone: props.timeZone,
      flexibleTimeWindow: { mode: 'FLEXIBLE', maximumWindowInMinutes: 30 },
      state: 'ENABLED',
      target: {
        arn: props.scheduledJobsFunction.functionArn,
        roleArn: this.schedulerRole.roleArn,
        input: JSON.stringify({ name: 'daily-sweep', type: 'daily-sweep', runAt: 0, payload: {} }),
        retryPolicy: { maximumRetryAttempts: 10, maximumEventAgeInSeconds: 3600 },
      },
    });
    this.dailySweep.addResourceDependency(this.schedulerGroup);

    // D6: the audit sealer writes a signed digest of every closed 5-minute period.
    this.auditSeal = new scheduler.CfnSchedule(this, 'AuditSeal', {
      name: `mdrp-${props.stage}-audit-seal`,
      groupName: this.schedulerGroup.name,
      description: 'Seal closed audit periods into signed, chained digests (Object Lock archive)',
      scheduleExpression: 'rate(5 minutes)',
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: props.scheduledJobsFunction.functionArn,
        roleArn: this.schedulerRole.roleArn,
        input: JSON.stringify({ name: 'audit-seal', type: 'audit-seal', runAt: 0, payload: {} }),
        retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 600 },
      },
    });
    this.auditSeal.addResourceDependency(this.schedulerGroup);
  }
}
