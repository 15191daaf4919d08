import { Duration, NestedStack, Stack } from 'aws-cdk-lib';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { deadLetterAlarm } from './dead-letter-alarm';
import { Validations } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AUDIT_ALERTS_TOPIC_ENV } from '../../functions/composition/config';
import { COGNITO_AUTH_OPERATIONS } from '../../functions/core/audit/auth-event';
import { AUDIT_ALERTS_MODULE, AUTH_EVENTS_MODULE, type Compute } from './compute';
import type { MdrpFunction } from './lambda-function';
import { grantModule, type PermissionTargets } from './permissions';

export interface AuditEventsProps {
  readonly stage: string;
  /** Builds the functions like every other one (environment, log group, DLQ, VPC). */
  readonly compute: Compute;
  /** Grants (least privilege per module, permissions.ts); `data.auditTable`'s stream feeds the rules. */
  readonly targets: PermissionTargets;
  /** Encrypts the failure queues. */
  readonly messagingKey: kms.IKey;
  /** Depth alarms of the failure queues publish here. */
  readonly alertsTopic: sns.ITopic;
}

/**
 * Event-driven audit paths, both off the request path:
 *
 * - R-AUD-5: audit table stream → `audit-alerts` (alert rules). Only inserted `DAY#` event items
 *   reach the function (filter), in order per shard; a failing batch is bisected and retried from
 *   the failed record, then its metadata goes to an encrypted SQS failure destination (the alarm
 *   in Audit watches it). The stream keeps records 24 h, so a function outage delays alerts but
 *   does not lose them.
 * - R-AUD-1: CloudTrail's `aws.cognito-idp` API-call events for sign-in, sign-out, password and
 *   MFA calls → EventBridge rule → `auth-events` (retried, then an encrypted dead-letter queue).
 *
 * A nested stack: the main stack is close to CloudFormation's 500-resource limit in VPC mode.
 */
export class AuditEvents extends NestedStack {
  public readonly alertsFunction: MdrpFunction;
  public readonly authEventsFunction: MdrpFunction;
  public readonly alertsFailureQueue: sqs.Queue;
  public readonly authEventsDeadLetterQueue: sqs.Queue;
  public readonly authEventsRule: events.Rule;
  /** R-AUD-5: the security admins' topic for audit alerts (ids only); they subscribe outside the platform. */
  public readonly auditAlertsTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: AuditEventsProps) {
    super(scope, id, { description: 'MDRP event-driven audit: alert rules over the audit stream, Cognito auth events from CloudTrail' });
    this.alertsFunction = props.compute.makeIn(this, AUDIT_ALERTS_MODULE, 'MDRP audit alert rules (R-AUD-5) over the audit table stream, off the request path', Duration.seconds(60), 512);
    this.authEventsFunction = props.compute.makeIn(this, AUTH_EVENTS_MODULE, 'MDRP Cognito sign-in/out, password and MFA events (CloudTrail via EventBridge) into the audit trail', Duration.seconds(30), 512);
    grantModule(AUDIT_ALERTS_MODULE, this.alertsFunction, props.targets);
    grantModule(AUTH_EVENTS_MODULE, this.authEventsFunction, props.targets);

    // R-AUD-5 "alerts go to the security admin's inbox (SNS in AWS)": in-app inbox + this topic.
    // Separate from the main stack's security-alerts topic, which carries CloudWatch alarms.
    this.auditAlertsTopic = new sns.Topic(this, 'AuditAlertsTopic', {
      topicName: `mdrp-${props.stage}-audit-alerts`,
      displayName: 'MDRP audit alerts',
      masterKey: props.messagingKey,
      enforceSSL: true,
    });
    this.alertsFunction.fn.addEnvironment(AUDIT_ALERTS_TOPIC_ENV, this.auditAlertsTopic.topicArn);
    // Publish to this one topic, nothing else on SNS; the topic's key for the encrypted message.
    this.alertsFunction.role.addToPolicy(new iam.PolicyStatement({ sid: 'AuditAlertsPublish', actions: ['sns:Publish'], resources: [this.auditAlertsTopic.topicArn] }));
    this.alertsFunction.role.addToPolicy(new iam.PolicyStatement({ sid: 'AuditAlertsTopicKey', actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [props.messagingKey.keyArn] }));
    const queue = (qid: string, name: string) =>
      new sqs.Queue(this, qid, {
        queueName: `mdrp-${props.stage}-${name}`,
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: props.messagingKey,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
    this.alertsFailureQueue = queue('AlertsFailures', 'audit-alerts-failures');
    this.authEventsDeadLetterQueue = queue('AuthEventsDlq', 'auth-events-dlq');
    const alarmAction = new cwActions.SnsAction(props.alertsTopic);
    for (const [qid, q] of [['AlertsFailures', this.alertsFailureQueue], ['AuthEventsDlq', this.authEventsDeadLetterQueue]] as const) {
      Validations.of(q).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is itself a dead-letter / failure destination (stream failures, EventBridge target failures); its depth raises an alarm.' });
      deadLetterAlarm(this, `${qid}Depth`, q, alarmAction);
    }

    this.alertsFunction.fn.addEventSource(
      new sources.DynamoEventSource(props.targets.data.auditTable, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(1),
        // Order matters to the rate rules only loosely (they count by event time), but one
        // concurrent batch per shard keeps retries simple.
        parallelizationFactor: 1,
        retryAttempts: 10,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        maxRecordAge: Duration.hours(24),
        onFailure: new sources.SqsDlq(this.alertsFailureQueue),
        // The main item of each event; not the per-resource pointers (REF#), alerts (ALERT#) or digests.
        filters: [lambda.FilterCriteria.filter({ eventName: lambda.FilterRule.isEqual('INSERT'), dynamodb: { NewImage: { pk: { S: lambda.FilterRule.beginsWith('DAY#') } } } })],
      }),
    );

    const ruleName = `mdrp-${props.stage}-cognito-auth-events`;
    // SqsDlq grants sqs:SendMessage with the queue key's encrypt actions as aws-cdk-lib writes them.
    Validations.of(this.alertsFunction.role).acknowledge(
      ...['AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]'].map((id) => ({
        id,
        reason: 'Written by aws-cdk-lib for the stream failure destination (queue.grantSendMessages): scoped to the one messaging key, needed to send to the KMS-encrypted queue.',
      })),
    );

    this.authEventsRule = new events.Rule(this, 'CognitoAuthCalls', {
      ruleName,
      description: 'Cognito sign-in, sign-out, password and MFA calls (CloudTrail) into the audit trail',
      eventPattern: {
        source: ['aws.cognito-idp'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['cognito-idp.amazonaws.com'], eventName: Object.keys(COGNITO_AUTH_OPERATIONS).sort() },
      },
      targets: [new targets.LambdaFunction(this.authEventsFunction.fn, { deadLetterQueue: this.authEventsDeadLetterQueue, retryAttempts: 8, maxEventAge: Duration.hours(6) })],
    });
    // EventBridge writes to the KMS-encrypted dead-letter queue: it needs the key, for this rule only
    // (named, not referenced: the key policy cannot depend on the rule without a cycle).
    props.messagingKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowEventBridgeAuthEventsDlq',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { ArnEquals: { 'aws:SourceArn': Stack.of(this).formatArn({ service: 'events', resource: 'rule', resourceName: ruleName }) } },
      }),
    );
  }
}
