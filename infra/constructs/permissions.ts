import { Annotations, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Data } from './data';
import type { Identity } from './identity';
import type { MdrpFunction } from './lambda-function';
import { acknowledgeWildcardResource } from './nag';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';

/** What a function may do. Each capability maps to a small set of resource-scoped statements. */
export type Capability =
  | 'main-read'
  | 'main-write'
  | 'audit-append'
  | 'audit-read'
  | 'identity-vault'
  | 'match-hmac'
  | 'pseudonym-hmac'
  | 'audit-sign'
  | 'audit-verify'
  | 'staging-objects'
  | 'data-read'
  | 'data-write'
  | 'archive-write'
  | 'archive-read'
  | 'workflow-start'
  | 'workflow-task-response'
  | 'schedules'
  | 'notify'
  | 'alerts'
  | 'users-read'
  | 'partner-onboarding'
  | 'fhir-exports-read'
  | 'fhir-exports-write'
  | 'request-documents-write';

/**
 * Least privilege per handler module (D1, R-SEC-4). Only ingestion paths may use the identity
 * vault (table + key) and the matching HMAC key; only the audit paths may read the audit table;
 * nobody may update or delete audit items (append-only, D6). A module missing here gets
 * {@link DEFAULT_CAPABILITIES} and a synth warning.
 */
export const MODULE_CAPABILITIES: Readonly<Record<string, readonly Capability[]>> = {
  platform: ['main-read', 'main-write', 'audit-append', 'users-read'],
  catalog: ['main-read', 'audit-append'],
  ingestion: ['main-read', 'main-write', 'audit-append', 'staging-objects', 'identity-vault', 'match-hmac'],
  // R-GOV-9: the access module also stores request documents (envelope-encrypted) under their prefix.
  access: ['main-read', 'main-write', 'audit-append', 'pseudonym-hmac', 'data-read', 'workflow-start', 'workflow-task-response', 'schedules', 'notify', 'users-read', 'request-documents-write'],
  audit: ['audit-read', 'audit-append', 'archive-read', 'audit-verify', 'main-read'],
  // Partner onboarding: OAuth app client + API key; key rotation schedules the old key's revocation.
  partners: ['main-read', 'main-write', 'audit-append', 'partner-onboarding', 'schedules'],
  // FHIR facade: reads releases; writes Bulk Data job records and schedules the job; reads export files.
  fhir: ['main-read', 'main-write', 'audit-append', 'pseudonym-hmac', 'data-read', 'schedules', 'fhir-exports-read'],
  // R-INT-1 partner operations: submit requests (workflow start), register webhooks (secrets envelope-encrypted under the main table's data key).
  integrations: ['main-read', 'main-write', 'audit-append', 'workflow-start'],
  // Webhook deliveries: read the outbox and endpoint secrets (data key), record attempts. Nothing else.
  'webhook-delivery': ['main-read', 'main-write', 'audit-append'],
  'workflow-tasks': ['main-read', 'main-write', 'audit-append', 'workflow-task-response', 'schedules', 'notify', 'pseudonym-hmac', 'users-read'],
  'scheduled-jobs': ['main-read', 'main-write', 'audit-read', 'audit-append', 'archive-write', 'archive-read', 'audit-sign', 'audit-verify', 'schedules', 'notify', 'alerts', 'pseudonym-hmac', 'fhir-exports-write', 'partner-onboarding'],
  // Partner API authorizer: reads partner and key records, audits refusals. Nothing else.
  'partner-authorizer': ['main-read', 'audit-append'],
  // R-AUD-5 over the audit stream: counts an actor's recent events (audit index), stores alerts
  // (write-once, in the audit table) and notifies the security admins' inbox (main table). No data access.
  'audit-alerts': ['audit-read', 'audit-append', 'main-write'],
  // R-AUD-1: CloudTrail's Cognito records → audit events. Appends to the audit table, nothing else.
  'auth-events': ['audit-append'],
  'ingest-events': ['main-read', 'main-write', 'audit-append', 'staging-objects', 'data-read', 'data-write', 'identity-vault', 'match-hmac', 'pseudonym-hmac', 'alerts'],
};

export const DEFAULT_CAPABILITIES: readonly Capability[] = ['main-read', 'main-write', 'audit-append'];

/** Data-bucket prefix of access-request documents (R-GOV-9, envelope-encrypted per version). */
export const REQUEST_DOCUMENTS_PREFIX = 'request-documents/';

/** Data-bucket prefix of FHIR Bulk Data export files (envelope-encrypted per file). */
export const FHIR_EXPORT_PREFIX = 'fhir-exports/';

/** Archive prefixes the platform writes (CloudTrail writes under `cloudtrail/` with its own policy). */
export const ARCHIVE_PREFIXES = { digests: 'audit-digests/', reports: 'audit-reports/', exports: 'audit-exports/' } as const;

export interface PermissionTargets {
  readonly data: Data;
  readonly identity: Identity;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly schedulerGroupName: string;
  readonly schedulerRole: iam.IRole;
  readonly notifyTopic: sns.ITopic;
  readonly alertsTopic: sns.ITopic;
}

/** Grants a function the capabilities of its module. Returns the capabilities applied. */
export function grantModule(module: string, f: MdrpFunction, t: PermissionTargets): readonly Capability[] {
  const caps = MODULE_CAPABILITIES[module];
  if (!caps) {
    Annotations.of(f).addWarningV2('mdrp:unknown-module', `module ${module} has no entry in MODULE_CAPABILITIES: default capabilities applied`);
  }
  const applied = caps ?? DEFAULT_CAPABILITIES;
  for (const c of applied) grantCapability(c, f.role, t);
  return applied;
}

function grantCapability(c: Capability, role: iam.IRole, t: PermissionTargets): void {
  const { data } = t;
  const stack = Stack.of(role);
  const add = (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>, why?: string): void => {
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions, resources, conditions }));
    for (const r of resources.filter((x) => x.includes('*'))) {
      if (!why) throw new Error(`statement ${sid} has a wildcard resource but no reason`);
      acknowledgeWildcardResource(role, r, why);
    }
  };
  // Explicit table grants: named indexes instead of `index/*`, exact KMS actions instead of `kms:*Encrypt*`.
  const table = (sid: string, tbl: dynamodb.TableV2, key: kms.IKey, actions: string[], keyActions: string[]): void => {
    add(sid, actions, [tbl.tableArn, `${tbl.tableArn}/index/gsi1`, `${tbl.tableArn}/index/gsi2`]);
    add(`${sid}Key`, keyActions, [key.keyArn]);
  };
  const READ = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'];
  const WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:ConditionCheckItem'];
  const objects = 'Object-level ARNs under this bucket/prefix: object keys are generated per upload/dataset at run time; actions are listed explicitly.';
  switch (c) {
    case 'main-read':
      table('MainRead', data.mainTable, data.dataKey, READ, ['kms:Decrypt', 'kms:DescribeKey']);
      return;
    case 'main-write':
      table('MainWrite', data.mainTable, data.dataKey, WRITE, ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey']);
      return;
    case 'audit-append':
      // D6: write-once. No UpdateItem, no DeleteItem, no batch writes (which could overwrite).
      add('AuditAppendOnly', ['dynamodb:PutItem', 'dynamodb:ConditionCheckItem'], [data.auditTable.tableArn]);
      add('AuditTableKey', ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'], [data.auditKey.keyArn]);
      return;
    case 'audit-read':
      table('AuditRead', data.auditTable, data.auditKey, ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:DescribeTable'], ['kms:Decrypt', 'kms:DescribeKey']);
      return;
    case 'identity-vault':
      // D1: the only functions that may read or write direct identifiers (table + vault key).
      table('IdentityVault', data.identityTable, data.identityKey, [...new Set([...READ, ...WRITE])], ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey']);
      return;
    case 'match-hmac':
      add('MatchHmac', ['kms:GenerateMac', 'kms:VerifyMac'], [data.matchHmacKey.keyArn]);
      return;
    case 'pseudonym-hmac':
      add('PseudonymHmac', ['kms:GenerateMac', 'kms:VerifyMac'], [data.pseudonymHmacKey.keyArn]);
      return;
    case 'audit-sign':
      add('AuditSign', ['kms:Sign', 'kms:GetPublicKey'], [data.auditSigningKey.keyArn]);
      return;
    case 'audit-verify':
      add('AuditVerify', ['kms:Verify', 'kms:GetPublicKey'], [data.auditSigningKey.keyArn]);
      return;
    case 'staging-objects':
      // Presigned PUT/GET into staging; validation reads and then removes the staged object.
      add('StagingObjects', ['s3:PutObject', 's3:GetObject', 's3:GetObjectAttributes', 's3:DeleteObject'], [data.stagingBucket.arnForObjects('*')], undefined, objects);
      add('StagingKey', ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'], [data.dataKey.keyArn]);
      return;
    case 'data-read':
      add('DataObjectsRead', ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAttributes'], [data.dataBucket.arnForObjects('*')], undefined, objects);
      add('DataKeyDecrypt', ['kms:Decrypt'], [data.dataKey.keyArn]);
      return;
    case 'data-write':
      add('DataObjectsWrite', ['s3:PutObject', 's3:GetObject', 's3:GetObjectVersion'], [data.dataBucket.arnForObjects('*')], undefined, objects);
      add('DataKeyEncrypt', ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'], [data.dataKey.keyArn]);
      return;
    case 'archive-write':
      add(
        'ArchiveWrite',
        ['s3:PutObject', 's3:PutObjectRetention'],
        [data.archiveBucket.arnForObjects(`${ARCHIVE_PREFIXES.digests}*`), data.archiveBucket.arnForObjects(`${ARCHIVE_PREFIXES.reports}*`), data.archiveBucket.arnForObjects(`${ARCHIVE_PREFIXES.exports}*`)],
        undefined,
        'Audit digests/reports are written as new objects under these prefixes only (CloudTrail has its own prefix); Object Lock makes them immutable.',
      );
      add('ArchiveKeyEncrypt', ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt'], [data.auditKey.keyArn]);
      return;
    case 'archive-read':
      add('ArchiveRead', ['s3:GetObject', 's3:GetObjectVersion'], [data.archiveBucket.arnForObjects(`${ARCHIVE_PREFIXES.digests}*`), data.archiveBucket.arnForObjects(`${ARCHIVE_PREFIXES.reports}*`), data.archiveBucket.arnForObjects(`${ARCHIVE_PREFIXES.exports}*`)], undefined, 'Reads audit digests/reports under these prefixes only (not the CloudTrail prefix).');
      add('ArchiveList', ['s3:ListBucket'], [data.archiveBucket.bucketArn], { StringLike: { 's3:prefix': Object.values(ARCHIVE_PREFIXES).map((p) => `${p}*`) } });
      add('ArchiveKeyDecrypt', ['kms:Decrypt'], [data.auditKey.keyArn]);
      return;
    case 'workflow-start':
      add('StartAccessRequest', ['states:StartExecution'], [t.stateMachineArn]);
      add('DescribeAccessRequest', ['states:DescribeExecution', 'states:StopExecution'], [
        stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${t.stateMachineName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      ], undefined, 'Executions of this one state machine (execution names are generated per request).');
      return;
    case 'workflow-task-response':
      add('AccessRequestTaskResponse', ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'], [t.stateMachineArn]);
      return;
    case 'schedules':
      add('GrantSchedules', ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule'], [
        stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${t.schedulerGroupName}/*` }),
      ], undefined, 'One-time grant schedules (D4) are named per grant at run time, confined to the platform schedule group.');
      add('PassSchedulerRole', ['iam:PassRole'], [t.schedulerRole.roleArn], { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
      return;
    case 'notify':
      add('Notify', ['sns:Publish'], [t.notifyTopic.topicArn]);
      add('NotifyKey', ['kms:Decrypt', 'kms:GenerateDataKey'], [data.messagingKey.keyArn]);
      return;
    case 'alerts':
      add('Alerts', ['sns:Publish'], [t.alertsTopic.topicArn]);
      add('AlertsKey', ['kms:Decrypt', 'kms:GenerateDataKey'], [data.messagingKey.keyArn]);
      return;
    case 'users-read':
      add('UsersRead', ['cognito-idp:AdminGetUser', 'cognito-idp:AdminListGroupsForUser', 'cognito-idp:ListUsersInGroup'], [t.identity.userPool.userPoolArn]);
      return;
    case 'request-documents-write':
      add('RequestDocumentsWrite', ['s3:PutObject'], [data.dataBucket.arnForObjects(`${REQUEST_DOCUMENTS_PREFIX}*`)], undefined, 'Request documents are named per request and version at run time, under the request-documents prefix only.');
      add('RequestDocumentsKeyEncrypt', ['kms:Encrypt', 'kms:GenerateDataKey'], [data.dataKey.keyArn]);
      return;
    case 'fhir-exports-read':
      add('FhirExportsRead', ['s3:GetObject'], [data.dataBucket.arnForObjects(`${FHIR_EXPORT_PREFIX}*`)], undefined, 'Bulk Data export files are named per job at run time, under the FHIR export prefix only.');
      add('FhirExportsKeyDecrypt', ['kms:Decrypt'], [data.dataKey.keyArn]);
      return;
    case 'fhir-exports-write':
      add('FhirExportsWrite', ['s3:PutObject'], [data.dataBucket.arnForObjects(`${FHIR_EXPORT_PREFIX}*`)], undefined, 'Bulk Data export files are written per job at run time, under the FHIR export prefix only.');
      add('FhirExportsKeyEncrypt', ['kms:Encrypt', 'kms:GenerateDataKey'], [data.dataKey.keyArn]);
      return;
    case 'partner-onboarding':
      // Each partner gets its own app client (client credentials) and API key in the default plan.
      add('PartnerClients', ['cognito-idp:CreateUserPoolClient', 'cognito-idp:DescribeUserPoolClient', 'cognito-idp:UpdateUserPoolClient', 'cognito-idp:DeleteUserPoolClient'], [t.identity.userPool.userPoolArn]);
      add('PartnerApiKeys', ['apigateway:GET', 'apigateway:POST', 'apigateway:DELETE', 'apigateway:PATCH'], [
        stack.formatArn({ service: 'apigateway', account: '', resource: '/apikeys' }),
        stack.formatArn({ service: 'apigateway', account: '', resource: '/apikeys/*' }),
        stack.formatArn({ service: 'apigateway', account: '', resource: '/usageplans' }),
        stack.formatArn({ service: 'apigateway', account: '', resource: '/usageplans/*' }),
      ], undefined, 'Partner onboarding creates API keys (ids generated by API Gateway) and attaches them to the usage plan.');
      return;
  }
}
