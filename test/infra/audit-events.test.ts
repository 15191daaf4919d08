/* eslint-disable @typescript-eslint/no-explicit-any -- synthesized CloudFormation JSON is untyped; assertions navigate it structurally. */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_ALERTS_TOPIC_ENV } from '../../functions/composition/config';
import { COGNITO_AUTH_OPERATIONS } from '../../functions/core/audit/auth-event';
import type { MdrpStack } from '../../infra/stacks/mdrp-stack';
import { buildTestApp } from './synth-helper';

let stack: MdrpStack;
let nested: Template;
let resources: Record<string, { Type: string; Properties?: Record<string, any> }>;

beforeAll(() => {
  const built = buildTestApp();
  stack = built.stack;
  built.app.synth();
  nested = Template.fromStack(stack.auditEvents);
  resources = nested.toJSON().Resources;
});

/** Statements of a function role's policies in the nested stack. */
function statementsOf(roleLogicalId: string): Array<{ Sid?: string; Action: string | string[]; Resource: unknown }> {
  return Object.values(resources)
    .filter((r) => (r.Type === 'AWS::IAM::ManagedPolicy' || r.Type === 'AWS::IAM::Policy') && JSON.stringify(r.Properties!.Roles ?? []).includes(roleLogicalId))
    .flatMap((r) => r.Properties!.PolicyDocument.Statement);
}
const actionsOf = (roleId: string) => statementsOf(roleId).flatMap((s) => ([] as string[]).concat(s.Action));

describe('event-driven audit (nested stack AuditEvents)', () => {
  it('R-AUD-5: the audit table stream drives the alert function: inserted DAY# items only, partial batch failures, bisect, bounded retries, SQS failure destination', () => {
    nested.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: Match.objectLike({ Ref: Match.stringLikeRegexp('AuditTable.*StreamArn') }),
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 86400,
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'], dynamodb: { NewImage: { pk: { S: [{ prefix: 'DAY#' }] } } } }) }] },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlertsFailures'), 'Arn'] } } },
    });
  });

  it('R-AUD-1: CloudTrail Cognito auth calls reach the auth-events function through an EventBridge rule with retries and a dead-letter queue', () => {
    nested.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cognito-idp'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['cognito-idp.amazonaws.com'], eventName: Object.keys(COGNITO_AUTH_OPERATIONS).sort() },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Fnauthevents'), 'Arn'] }, DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AuthEventsDlq'), 'Arn'] } }, RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 } })],
    });
  });

  it('R-SEC-4: both failure queues are KMS-encrypted, TLS-only, and their depth raises an alarm to the security topic', () => {
    const queues = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::SQS::Queue');
    expect(queues.map(([id]) => id.replace(/[A-F0-9]{8}$/, '')).sort()).toEqual(['AlertsFailures', 'AuthEventsDlq']);
    for (const [, q] of queues) expect(q.Properties!.KmsMasterKeyId).toBeDefined();
    const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(2);
    for (const a of alarms) expect(JSON.stringify(a.Properties!.AlarmActions)).toMatch(/SecurityAlerts/);
  });

  it('R-SEC-4, D6: least privilege — auth-events may only append to the audit table; audit-alerts reads the audit table and its stream, appends alerts and writes the inbox, and never updates or deletes audit items', () => {
    const authRole = Object.keys(resources).find((k) => k.startsWith('FnautheventsRole') && resources[k]!.Type === 'AWS::IAM::Role')!;
    const alertsRole = Object.keys(resources).find((k) => k.startsWith('FnauditalertsRole') && resources[k]!.Type === 'AWS::IAM::Role')!;
    const dynamo = (roleId: string) => statementsOf(roleId).filter((s) => ([] as string[]).concat(s.Action).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo(authRole).map((s) => [s.Sid, s.Action])).toEqual([['AuditAppendOnly', ['dynamodb:ConditionCheckItem', 'dynamodb:PutItem']]]);
    expect(actionsOf(authRole).filter((a) => /^(s3|cognito-idp|states|scheduler|sns):/.test(a))).toEqual([]);
    expect(actionsOf(alertsRole)).toEqual(expect.arrayContaining(['dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:Query', 'dynamodb:PutItem']));
    expect(actionsOf(alertsRole).filter((a) => /^(s3|cognito-idp|states|scheduler):|kms:(Sign|GenerateMac)/.test(a))).toEqual([]);
    for (const s of dynamo(alertsRole)) {
      if (!JSON.stringify(s.Resource).includes('AuditTable')) continue;
      expect(([] as string[]).concat(s.Action).filter((a) => /UpdateItem|DeleteItem|BatchWriteItem|\*/.test(a)), s.Sid).toEqual([]);
    }
    // Neither may touch the identity vault (D1).
    expect(JSON.stringify(statementsOf(authRole)) + JSON.stringify(statementsOf(alertsRole))).not.toMatch(/IdentityKey|IdentityTable/);
  });

  it('R-AUD-5: audit alerts go to a KMS-encrypted, TLS-only SNS topic in the nested stack; only audit-alerts may publish, and only sns:Publish on that topic', () => {
    const topics = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::SNS::Topic');
    expect(topics.map(([, t]) => t.Properties!.TopicName)).toEqual(['mdrp-dev-audit-alerts']);
    const [topicId, topic] = topics[0]!;
    expect(topic.Properties!.KmsMasterKeyId).toBeDefined();
    nested.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    const alertsFn = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties!.FunctionName === 'mdrp-dev-audit-alerts')!;
    expect(alertsFn.Properties!.Environment.Variables[AUDIT_ALERTS_TOPIC_ENV]).toEqual({ Ref: topicId });
    const roleOf = (prefix: string) => Object.keys(resources).find((k) => k.startsWith(prefix) && resources[k]!.Type === 'AWS::IAM::Role')!;
    const sns = (roleId: string) => statementsOf(roleId).filter((s) => ([] as string[]).concat(s.Action).some((a) => a.startsWith('sns:')));
    expect(sns(roleOf('FnauditalertsRole')).map((s) => [s.Action, s.Resource])).toEqual([['sns:Publish', { Ref: topicId }]]);
    expect(sns(roleOf('FnautheventsRole'))).toEqual([]);
  });

  it('R-SEC-4: both functions are built like every other: own role, tracing, reserved concurrency, async-invocation DLQ, encrypted log group', () => {
    const fns = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    expect(fns.map(([, f]) => f.Properties!.FunctionName).sort()).toEqual(['mdrp-dev-audit-alerts', 'mdrp-dev-auth-events']);
    for (const [id, f] of fns) {
      const p = f.Properties!;
      expect(p.TracingConfig, id).toEqual({ Mode: 'Active' });
      expect(p.ReservedConcurrentExecutions, id).toBeGreaterThan(0);
      expect(p.DeadLetterConfig?.TargetArn, id).toBeDefined();
      expect(resources[p.LoggingConfig.LogGroup.Ref]!.Properties!.KmsKeyId, id).toBeDefined();
    }
  });

  it('R-OPS-1: the main stack stays below CloudFormation’s 500-resource limit (the audit event paths are nested)', () => {
    expect(Object.keys(Template.fromStack(stack).toJSON().Resources).length).toBeLessThan(500);
  });
});
