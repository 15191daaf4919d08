import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { deadLetterAlarm } from './dead-letter-alarm';
import { Construct } from 'constructs';

export interface AuditProps {
  readonly stage: string;
  /** CloudTrail is not emulated on LocalStack: off there. */
  readonly cloudTrail: boolean;
  /** Object Lock archive (D6): CloudTrail writes under `cloudtrail/`, digests under their own prefix. */
  readonly archiveBucket: s3.IBucket;
  readonly auditKey: kms.Key;
  readonly logsKey: kms.IKey;
  readonly messagingKey: kms.IKey;
  /** Buckets whose object-level reads and writes are recorded (data events). */
  readonly dataEventBuckets: readonly s3.IBucket[];
  /** Tables whose item-level reads and writes are recorded (data events). */
  readonly dataEventTables: readonly dynamodb.ITableV2[];
  /** Queues whose depth raises an alert (dead letters). */
  readonly deadLetterQueues: readonly sqs.IQueue[];
}

/**
 * AWS-level audit (R-AUD-1, R-AUD-2, R-AUD-5, R-SEC-9, D6): a CloudTrail trail with log-file
 * integrity validation, management events and data events for the research buckets and tables,
 * delivered to the Object Lock archive; a KMS-encrypted SNS topic for security alerts.
 */
export class Audit extends Construct {
  public readonly trail?: cloudtrail.Trail;
  public readonly trailLogGroup?: logs.LogGroup;
  public readonly alertsTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: AuditProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.alertsTopic = new sns.Topic(this, 'SecurityAlerts', {
      topicName: `mdrp-${props.stage}-security-alerts`,
      displayName: 'MDRP security alerts',
      masterKey: props.messagingKey,
      enforceSSL: true,
    });
    // CloudWatch alarms publish to the encrypted topic.
    props.messagingKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    const alarmAction = new cwActions.SnsAction(this.alertsTopic);

    for (const [i, q] of props.deadLetterQueues.entries()) {
      deadLetterAlarm(this, `DeadLetters${i}`, q, alarmAction);
    }

    if (!props.cloudTrail) return;

    const trailName = `mdrp-${props.stage}`;
    // CloudTrail encrypts log files with the audit key; restricted to this account's trails.
    props.auditKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudTrailEncrypt',
        principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
        actions: ['kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': stack.formatArn({ service: 'cloudtrail', region: '*', resource: 'trail', resourceName: '*' }) },
          StringEquals: { 'aws:SourceArn': stack.formatArn({ service: 'cloudtrail', resource: 'trail', resourceName: trailName }) },
        },
      }),
    );
    props.auditKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudTrailDescribeKey',
        principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
        actions: ['kms:DescribeKey'],
        resources: ['*'],
      }),
    );

    this.trailLogGroup = new logs.LogGroup(this, 'TrailLogs', {
      logGroupName: `/mdrp/${props.stage}/cloudtrail`,
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logsKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.trail = new cloudtrail.Trail(this, 'Trail', {
      trailName,
      bucket: props.archiveBucket,
      s3KeyPrefix: 'cloudtrail',
      encryptionKey: props.auditKey,
      enableFileValidation: true,
      includeGlobalServiceEvents: true,
      isMultiRegionTrail: true,
      sendToCloudWatchLogs: true,
      cloudWatchLogGroup: this.trailLogGroup,
      managementEvents: cloudtrail.ReadWriteType.ALL,
    });
    const cfnTrail = this.trail.node.defaultChild as cloudtrail.CfnTrail;
    // DynamoDB data events need advanced selectors; a trail may not have both kinds.
    cfnTrail.addPropertyDeletionOverride('EventSelectors');
    cfnTrail.advancedEventSelectors = [
      { name: 'Management events', fieldSelectors: [{ field: 'eventCategory', equalTo: ['Management'] }] },
      {
        name: 'Research object data events',
        fieldSelectors: [
          { field: 'eventCategory', equalTo: ['Data'] },
          { field: 'resources.type', equalTo: ['AWS::S3::Object'] },
          { field: 'resources.ARN', startsWith: props.dataEventBuckets.map((b) => `${b.bucketArn}/`) },
        ],
      },
      {
        name: 'Table data events',
        fieldSelectors: [
          { field: 'eventCategory', equalTo: ['Data'] },
          { field: 'resources.type', equalTo: ['AWS::DynamoDB::Table'] },
          { field: 'resources.ARN', equalTo: props.dataEventTables.map((t) => t.tableArn) },
        ],
      },
    ];

    // CIS-style alarms on the trail (R-AUD-5, R-SEC-9).
    const filters: Array<[string, string]> = [
      ['UnauthorizedApiCalls', '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'],
      ['KmsKeyDisabledOrScheduledForDeletion', '{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }'],
      ['IamPolicyChanges', '{ ($.eventSource = iam.amazonaws.com) && (($.eventName = Put*Policy) || ($.eventName = Attach*Policy) || ($.eventName = Detach*Policy) || ($.eventName = Delete*Policy)) }'],
    ];
    for (const [name, pattern] of filters) {
      const mf = new logs.MetricFilter(this, `${name}Filter`, {
        logGroup: this.trailLogGroup,
        filterPattern: logs.FilterPattern.literal(pattern),
        metricNamespace: `MDRP/${props.stage}/Security`,
        metricName: name,
        metricValue: '1',
      });
      const alarm = new cloudwatch.Alarm(this, `${name}Alarm`, {
        alarmDescription: `MDRP security: ${name}`,
        metric: mf.metric({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(alarmAction);
    }
  }
}
