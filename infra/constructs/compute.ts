import * as fs from 'node:fs';
import * as path from 'node:path';
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../../functions/composition/config';
import { routes } from '../../functions/http/routes/index';
import type { Data } from './data';
import type { Identity } from './identity';
import { MdrpFunction, PROJECT_ROOT } from './lambda-function';

/** Non-API functions (D4, D5, D8): file `functions/handlers/<name>.handler.ts`. */
export const WORKFLOW_TASKS_MODULE = 'workflow-tasks';
export const SCHEDULED_JOBS_MODULE = 'scheduled-jobs';
export const INGEST_EVENTS_MODULE = 'ingest-events';
/** Lambda REQUEST authorizer of the partner API (the partner edge decision, R-SEC-6/7). */
export const PARTNER_AUTHORIZER_MODULE = 'partner-authorizer';
/** R-INT-1: drains the webhook outbox on a schedule (infra/constructs/webhooks.ts adds the schedule). */
export const WEBHOOK_DELIVERY_MODULE = 'webhook-delivery';
/** Why the webhook delivery function is outside the VPC in VPC mode (cdk-nag acknowledgement). */
export const WEBHOOK_OUTSIDE_VPC_REASON =
  'Webhook delivery POSTs signed events to partner endpoints on the internet; the isolated subnets have no route out (no NAT, so no other function gains one). It runs outside the VPC with a role limited to the main table (outbox, endpoint secrets), its data key and audit append.';
/** R-AUD-5: alert rules over the audit table's stream (infra/constructs/audit-events.ts wires the source). */
export const AUDIT_ALERTS_MODULE = 'audit-alerts';
/** R-AUD-1: Cognito sign-in/out, password and MFA calls recorded by CloudTrail → audit events. */
export const AUTH_EVENTS_MODULE = 'auth-events';

/** Every function that is not an API handler module (each is `functions/handlers/<name>.handler.ts`). */
export const NON_API_MODULES = [WORKFLOW_TASKS_MODULE, SCHEDULED_JOBS_MODULE, INGEST_EVENTS_MODULE, PARTNER_AUTHORIZER_MODULE, WEBHOOK_DELIVERY_MODULE, AUDIT_ALERTS_MODULE, AUTH_EVENTS_MODULE] as const;

/** Fixed names (resolved with `formatArn`, so env vars need no references and create no cycles). */
export function resourceNames(stage: string) {
  return {
    stateMachine: `mdrp-${stage}-access-request`,
    schedulerGroup: `mdrp-${stage}`,
    schedulerRole: `mdrp-${stage}-scheduler`,
    scheduledJobsFunction: `mdrp-${stage}-${SCHEDULED_JOBS_MODULE}`,
    partnerUsagePlan: `mdrp-${stage}-partners-default`,
  };
}

/** The API handler modules, derived from the route table at synth time. */
export function apiModules(): string[] {
  return [...new Set(routes.map((r) => r.module))].sort();
}

export interface ComputeProps {
  readonly stage: string;
  readonly version: string;
  readonly handlersDir: string;
  readonly data: Data;
  readonly identity: Identity;
  readonly allowedOrigin: string;
  readonly notifyTopicArn: string;
  readonly reservedConcurrency?: number;
  readonly architecture: lambda.Architecture;
  readonly vpc?: { readonly vpc: ec2.IVpc; readonly securityGroup: ec2.ISecurityGroup };
}

/**
 * Every Lambda of the platform: one per API handler module of the route table, plus the
 * workflow-tasks, scheduled-jobs and ingest-events functions. Each receives every `ENV`
 * variable (the composition root needs them all); IAM, not configuration, limits what each
 * may touch (see permissions.ts).
 */
export class Compute extends Construct {
  /** API functions keyed by route-table module. */
  public readonly api: ReadonlyMap<string, MdrpFunction>;
  public readonly workflowTasks: MdrpFunction;
  public readonly scheduledJobs: MdrpFunction;
  public readonly ingestEvents: MdrpFunction;
  public readonly partnerAuthorizer: MdrpFunction;
  public readonly webhookDelivery: MdrpFunction;
  /** Shared KMS-encrypted dead-letter queue for failed asynchronous invocations. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The environment every function receives. */
  public readonly environment: Readonly<Record<string, string>>;
  /**
   * A function built like every other (same environment, log group, DLQ, concurrency, VPC), in
   * another scope: the event-driven audit functions live in a nested stack (AuditEvents).
   */
  public readonly makeIn: (scope: Construct, module: string, description: string, timeout: Duration, memorySize?: number, outsideVpcReason?: string) => MdrpFunction;

  constructor(scope: Construct, id: string, props: ComputeProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const names = resourceNames(props.stage);
    const { data, identity } = props;

    this.deadLetterQueue = new sqs.Queue(this, 'FunctionsDlq', {
      queueName: `mdrp-${props.stage}-functions-dlq`,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: data.messagingKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    const env: Record<(typeof ENV)[keyof typeof ENV], string> = {
      [ENV.stage]: props.stage,
      [ENV.version]: props.version,
      [ENV.tableMain]: data.mainTable.tableName,
      [ENV.tableIdentity]: data.identityTable.tableName,
      [ENV.tableAudit]: data.auditTable.tableName,
      [ENV.bucketStaging]: data.stagingBucket.bucketName,
      [ENV.bucketData]: data.dataBucket.bucketName,
      [ENV.bucketArchive]: data.archiveBucket.bucketName,
      [ENV.kmsDataKeyArn]: data.dataKey.keyArn,
      [ENV.kmsIdentityKeyArn]: data.identityKey.keyArn,
      [ENV.kmsMatchHmacKeyArn]: data.matchHmacKey.keyArn,
      [ENV.kmsPseudonymHmacKeyArn]: data.pseudonymHmacKey.keyArn,
      [ENV.kmsAuditSigningKeyArn]: data.auditSigningKey.keyArn,
      [ENV.accessRequestStateMachineArn]: stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: names.stateMachine, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      [ENV.schedulerGroup]: names.schedulerGroup,
      [ENV.schedulerTargetArn]: stack.formatArn({ service: 'lambda', resource: 'function', resourceName: names.scheduledJobsFunction, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      [ENV.schedulerRoleArn]: stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: names.schedulerRole }),
      [ENV.userPoolId]: identity.userPool.userPoolId,
      [ENV.partnerTokenEndpoint]: identity.partnerTokenEndpoint,
      [ENV.notifyTopicArn]: props.notifyTopicArn,
      [ENV.allowedOrigin]: props.allowedOrigin,
    };
    this.environment = env;

    this.makeIn = (scope: Construct, module: string, description: string, timeout: Duration, memorySize = 1024, outsideVpcReason?: string): MdrpFunction =>
      new MdrpFunction(scope, `Fn-${module}`, {
        module,
        handlersDir: props.handlersDir,
        stage: props.stage,
        description,
        environment: env,
        logsKey: data.logsKey,
        deadLetterQueue: this.deadLetterQueue,
        reservedConcurrency: props.reservedConcurrency,
        architecture: props.architecture,
        timeout,
        memorySize,
        ...(props.vpc && !outsideVpcReason ? { vpc: props.vpc } : {}),
        ...(props.vpc && outsideVpcReason ? { outsideVpcReason } : {}),
      });
    const make = (module: string, description: string, timeout: Duration, memorySize = 1024, outsideVpcReason?: string) => this.makeIn(this, module, description, timeout, memorySize, outsideVpcReason);

    const modules = [...apiModules(), ...NON_API_MODULES];
    const missing = modules.map((m) => path.join(props.handlersDir, `${m}.handler.ts`)).filter((f) => !fs.existsSync(path.resolve(PROJECT_ROOT, f)));
    if (missing.length) {
      throw new Error(`missing Lambda handler file(s), each exporting \`handler\`: ${missing.join(', ')} (route-table modules: ${apiModules().join(', ')})`);
    }

    const api = new Map<string, MdrpFunction>();
    for (const module of apiModules()) {
      const ops = routes.filter((r) => r.module === module).map((r) => r.operationId);
      // API Gateway's integration timeout is 29 s.
      api.set(module, make(module, `MDRP API ${module}: ${ops.join(', ')}`.slice(0, 256), Duration.seconds(29)));
    }
    this.api = api;
    this.workflowTasks = make(WORKFLOW_TASKS_MODULE, 'MDRP access-request workflow tasks (Step Functions)', Duration.seconds(60));
    this.scheduledJobs = make(SCHEDULED_JOBS_MODULE, 'MDRP scheduled jobs: grant reminders/revocation, daily sweep, audit sealing', Duration.minutes(5));
    // Up to FILES_INGESTED_TOGETHER staged files a batch, archives among them: the longest timeout
    // Lambda allows; the handler stops taking new files with a third of it left (see the handler).
    this.ingestEvents = make(INGEST_EVENTS_MODULE, 'MDRP ingestion: validates staged objects (S3 → EventBridge → SQS)', Duration.minutes(15), 2048);
    this.partnerAuthorizer = make(PARTNER_AUTHORIZER_MODULE, 'MDRP partner API authorizer: API key, IP allow-list, client-credentials token, scope', Duration.seconds(10), 512);
    // R-INT-1: partners' webhook endpoints are on the internet and the isolated subnets have no
    // route out (no NAT by design, so no other function gains an internet path). In VPC mode this
    // one function therefore runs outside the VPC; its role reads the outbox and endpoint secrets
    // and appends audit events, nothing else (permissions.ts `webhook-delivery`).
    this.webhookDelivery = make(
      WEBHOOK_DELIVERY_MODULE,
      'MDRP webhook deliveries: drains the outbox, signs and POSTs integration events to partners',
      Duration.seconds(60),
      512,
      WEBHOOK_OUTSIDE_VPC_REASON,
    );
  }

  /** Every function, API and others. */
  public get all(): MdrpFunction[] {
    return [...this.api.values(), this.workflowTasks, this.scheduledJobs, this.ingestEvents, this.partnerAuthorizer, this.webhookDelivery];
  }
}
