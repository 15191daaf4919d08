import * as path from 'node:path';
import { Aspects, CfnOutput, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { routes as routeTable } from '../../functions/http/routes/index';
import type { RouteDefinition } from '../../functions/http/route-definition';
import { InlineToManagedPolicies } from '../aspects/managed-policies';
import type { MdrpContext } from '../context';
import { Api } from '../constructs/api';
import { Audit } from '../constructs/audit';
import { AuditEvents } from '../constructs/audit-events';
import { Compute, resourceNames, WEBHOOK_DELIVERY_MODULE } from '../constructs/compute';
import { Data } from '../constructs/data';
import { Identity } from '../constructs/identity';
import { IngestionEvents } from '../constructs/ingestion';
import { PROJECT_ROOT } from '../constructs/lambda-function';
import { MfaClaimTrigger } from '../constructs/mfa-claim-trigger';
import { Network } from '../constructs/network';
import { Notifications } from '../constructs/notifications';
import { grantModule } from '../constructs/permissions';
import { PortalHosting } from '../constructs/portal';
import { Workflows } from '../constructs/workflows';
import { WebhookDeliverySchedule } from '../constructs/webhooks';

export interface MdrpStackProps extends StackProps {
  readonly context: MdrpContext;
  /** Route table; defaults to `functions/http/routes` (tests may pass a variant). */
  readonly routes?: readonly RouteDefinition[];
  /** ASL of the access-request workflow; defaults to `state-machines/access-request.asl.json`. */
  readonly accessRequestAslPath?: string;
}

/**
 * The whole platform in one stack (R-OPS-1: `cdk deploy` into any account). Domains are
 * constructs with explicit inputs/outputs; the stack only wires them.
 */
export class MdrpStack extends Stack {
  public readonly data: Data;
  public readonly identity: Identity;
  public readonly compute: Compute;
  /** R-SEC-6: the `mdrp:mfa` ID-token claim (pre-token-generation trigger). */
  public readonly mfaClaims: MfaClaimTrigger;
  public readonly workflows: Workflows;
  public readonly api: Api;
  public readonly audit: Audit;
  public readonly auditEvents: AuditEvents;
  public readonly portal: PortalHosting;
  public readonly network?: Network;

  constructor(scope: Construct, id: string, props: MdrpStackProps) {
    super(scope, id, props);
    // Registered first, before anything can return early (LocalStack included).
    Aspects.of(this).add(new InlineToManagedPolicies());

    const ctx = props.context;
    const aws = ctx.target === 'aws';
    const names = resourceNames(ctx.stage);
    const routes = props.routes ?? routeTable;

    this.data = new Data(this, 'Data', {
      stage: ctx.stage,
      objectLock: aws,
      auditRetentionDays: Number(this.node.tryGetContext('auditRetentionDays') ?? 365),
      uploadOrigins: [],
    });
    this.identity = new Identity(this, 'Identity', {
      stage: ctx.stage,
      advancedSecurity: aws,
      domainPrefix: this.node.tryGetContext('authDomainPrefix'),
    });
    this.network = ctx.vpc ? new Network(this, 'Network', { stage: ctx.stage, logsKey: this.data.logsKey }) : undefined;

    const notifications = new Notifications(this, 'Notifications', { stage: ctx.stage, messagingKey: this.data.messagingKey });

    const region = this.region;
    this.portal = new PortalHosting(this, 'Portal', {
      stage: ctx.stage,
      webOutDir: path.resolve(PROJECT_ROOT, ctx.webOutDir),
      logsBucket: this.data.accessLogsBucket,
      // API calls, Cognito sign-in, presigned uploads into staging.
      connectSources: [`https://*.execute-api.${region}.amazonaws.com`, `https://cognito-idp.${region}.amazonaws.com`, `https://*.s3.${region}.amazonaws.com`],
    });
    const allowedOrigin = ctx.portalOrigin || this.portal.origin;
    // The browser PUTs uploads straight to staging with presigned URLs (R-ING-4).
    this.data.stagingBucket.addCorsRule({
      allowedOrigins: [allowedOrigin],
      allowedMethods: [s3.HttpMethods.PUT],
      allowedHeaders: ['*'],
      exposedHeaders: ['ETag'],
      maxAge: 3000,
    });

    this.compute = new Compute(this, 'Functions', {
      stage: ctx.stage,
      version: ctx.version,
      handlersDir: ctx.handlersDir,
      data: this.data,
      identity: this.identity,
      allowedOrigin,
      notifyTopicArn: notifications.topic.topicArn,
      reservedConcurrency: aws ? ctx.reservedConcurrency : undefined,
      architecture: aws ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
      vpc: this.network ? { vpc: this.network.vpc, securityGroup: this.network.functionSecurityGroup } : undefined,
    });

    this.mfaClaims = new MfaClaimTrigger(this, 'MfaClaims', {
      stage: ctx.stage,
      handlersDir: ctx.handlersDir,
      userPool: this.identity.userPool,
      logsKey: this.data.logsKey,
      deadLetterQueue: this.compute.deadLetterQueue,
      architecture: aws ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
      reservedConcurrency: aws ? ctx.reservedConcurrency : undefined,
      vpc: this.network ? { vpc: this.network.vpc, securityGroup: this.network.functionSecurityGroup } : undefined,
      adaptiveAuthentication: aws,
    });

    this.workflows = new Workflows(this, 'Workflows', {
      stage: ctx.stage,
      accessRequestAslPath: props.accessRequestAslPath ?? path.join(PROJECT_ROOT, 'state-machines', 'access-request.asl.json'),
      stateMachineName: names.stateMachine,
      schedulerGroupName: names.schedulerGroup,
      schedulerRoleName: names.schedulerRole,
      workflowTasksFunction: this.compute.workflowTasks.fn,
      scheduledJobsFunction: this.compute.scheduledJobs.fn,
      logsKey: this.data.logsKey,
      timeZone: String(this.node.tryGetContext('timeZone') ?? 'Asia/Shanghai'),
    });

    const ingestion = new IngestionEvents(this, 'IngestionEvents', {
      stage: ctx.stage,
      stagingBucket: this.data.stagingBucket,
      ingestFunction: this.compute.ingestEvents.fn,
      ingestTimeout: this.compute.ingestEvents.fn.timeout!,
      messagingKey: this.data.messagingKey,
    });

    this.audit = new Audit(this, 'Audit', {
      stage: ctx.stage,
      cloudTrail: aws,
      archiveBucket: this.data.archiveBucket,
      auditKey: this.data.auditKey,
      logsKey: this.data.logsKey,
      messagingKey: this.data.messagingKey,
      dataEventBuckets: [this.data.stagingBucket, this.data.dataBucket],
      dataEventTables: [this.data.mainTable, this.data.identityTable, this.data.auditTable],
      deadLetterQueues: [this.compute.deadLetterQueue, ingestion.deadLetterQueue],
    });

    const targets = {
      data: this.data,
      identity: this.identity,
      stateMachineArn: this.workflows.accessRequestStateMachineArn,
      stateMachineName: names.stateMachine,
      schedulerGroupName: names.schedulerGroup,
      schedulerRole: this.workflows.schedulerRole,
      notifyTopic: notifications.topic,
      alertsTopic: this.audit.alertsTopic,
    };
    for (const [module, f] of this.compute.api) grantModule(module, f, targets);
    grantModule('workflow-tasks', this.compute.workflowTasks, targets);
    grantModule('scheduled-jobs', this.compute.scheduledJobs, targets);
    grantModule('ingest-events', this.compute.ingestEvents, targets);
    grantModule('partner-authorizer', this.compute.partnerAuthorizer, targets);
    // R-INT-1: signed webhook deliveries from the outbox (one-minute schedule).
    grantModule(WEBHOOK_DELIVERY_MODULE, this.compute.webhookDelivery, targets);
    // R-AUD-5 (audit stream → alert rules) and R-AUD-1 (CloudTrail Cognito calls → audit events).
    this.auditEvents = new AuditEvents(this, 'AuditEvents', { stage: ctx.stage, compute: this.compute, targets, messagingKey: this.data.messagingKey, alertsTopic: this.audit.alertsTopic });
    new WebhookDeliverySchedule(this, 'WebhookDelivery', { stage: ctx.stage, deliveryFunction: this.compute.webhookDelivery.fn });

    let truststoreBucket: s3.Bucket | undefined;
    if (ctx.mtls) {
      truststoreBucket = new s3.Bucket(this, 'TruststoreBucket', {
        encryption: s3.BucketEncryption.KMS,
        encryptionKey: this.data.dataKey,
        bucketKeyEnabled: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        versioned: true,
        serverAccessLogsBucket: this.data.accessLogsBucket,
        serverAccessLogsPrefix: 'truststore/',
      });
      Validations.of(truststoreBucket).acknowledge({ id: 'HIPAA.Security-S3BucketReplicationEnabled', reason: 'Holds only public CA certificates (truststore), re-uploadable from source.' });
    }

    this.api = new Api(this, 'Api', {
      stage: ctx.stage,
      routes,
      functions: new Map([...this.compute.api].map(([m, f]) => [m, f.fn])),
      userPool: this.identity.userPool,
      scopes: this.identity.scopes,
      allowedOrigins: [allowedOrigin],
      logsKey: this.data.logsKey,
      waf: aws,
      partnerCidrs: ctx.partnerCidrs,
      partnerUsagePlanName: names.partnerUsagePlan,
      partnerAuthorizer: this.compute.partnerAuthorizer.fn,
      mtls: ctx.mtls && truststoreBucket ? { ...ctx.mtls, truststoreBucket } : undefined,
    });

    this.portal.deployConfig({
      apiUrl: this.api.portalUrl,
      region,
      userPoolId: this.identity.userPool.userPoolId,
      userPoolClientId: this.identity.portalClient.userPoolClientId,
      institutionTimeZone: String(this.node.tryGetContext('timeZone') ?? 'Asia/Shanghai'),
      defaultLocale: 'zh-CN',
    });

    this.acknowledgeStackWide();

    new CfnOutput(this, 'PortalUrl', { value: this.portal.origin });
    new CfnOutput(this, 'PortalApiUrl', { value: this.api.portalUrl });
    new CfnOutput(this, 'PartnerApiUrl', { value: this.api.partnerUrl });
    new CfnOutput(this, 'UserPoolId', { value: this.identity.userPool.userPoolId });
    new CfnOutput(this, 'PortalClientId', { value: this.identity.portalClient.userPoolClientId });
    new CfnOutput(this, 'PartnerTokenEndpoint', { value: this.identity.partnerTokenEndpoint });
    new CfnOutput(this, 'PartnerUsagePlanId', { value: this.api.partnerUsagePlan.usagePlanId });
    new CfnOutput(this, 'AccessRequestStateMachineArn', { value: this.workflows.accessRequestStateMachine.stateMachineArn });
  }

  /** Findings that are structural to CDK/AWS, acknowledged once with their reasons. */
  private acknowledgeStackWide(): void {
    void this;
  }
}
