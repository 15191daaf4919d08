import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { GSI2_PROJECTED_ATTRIBUTES } from '../../functions/core/ports/document-store';

export interface DataProps {
  readonly stage: string;
  /** Object Lock and compliance retention are off on LocalStack (not emulated faithfully). */
  readonly objectLock: boolean;
  /** Days an audit archive object is immutable (COMPLIANCE mode: nobody, not even root, can shorten it). */
  readonly auditRetentionDays: number;
  /** Origins allowed to PUT presigned uploads into staging (the portal). */
  readonly uploadOrigins: readonly string[];
}

/**
 * Keys, buckets and tables (R-SEC-4, R-ING-3, R-ING-8, R-AUD-2, D1, D2, D6).
 *
 * Every store is encrypted with a customer-managed key; symmetric keys rotate yearly. The HMAC
 * keys (identifier matching, pseudonyms) and the ECC signing key (audit digests) cannot rotate
 * automatically in KMS: rotating them would break matching, pseudonym stability and digest
 * verification, so they are versioned by replacement (new key + re-key job) — see infra/README.md.
 */
export class Data extends Construct {
  /** Research data objects and the main table (D1: never identifiers). */
  public readonly dataKey: kms.Key;
  /** Identity vault only (D1): ingestion and the audited re-identification path may use it. */
  public readonly identityKey: kms.Key;
  /** HMAC_256 for de-duplication keys (D2). Cannot rotate (see class doc). */
  public readonly matchHmacKey: kms.Key;
  /** HMAC_256 for per-project pseudonyms (D2). Cannot rotate (see class doc). */
  public readonly pseudonymHmacKey: kms.Key;
  /** ECC_NIST_P256 SIGN_VERIFY key for audit digests (D6). Cannot rotate (see class doc). */
  public readonly auditSigningKey: kms.Key;
  /** Audit archive bucket, audit table, CloudTrail. */
  public readonly auditKey: kms.Key;
  /** CloudWatch Logs (function, API, workflow, WAF, CloudTrail log groups). */
  public readonly logsKey: kms.Key;
  /** SQS queues and SNS topics (messages carry object keys and ids, never identifiers). */
  public readonly messagingKey: kms.Key;

  public readonly accessLogsBucket: s3.Bucket;
  public readonly stagingBucket: s3.Bucket;
  public readonly dataBucket: s3.Bucket;
  public readonly archiveBucket: s3.Bucket;

  public readonly mainTable: dynamodb.TableV2;
  public readonly identityTable: dynamodb.TableV2;
  public readonly auditTable: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: DataProps) {
    super(scope, id);
    const stack = Stack.of(this);

    const symmetric = (name: string, description: string): kms.Key =>
      new kms.Key(this, name, {
        alias: `alias/mdrp-${props.stage}-${name.replace(/Key$/, '').toLowerCase()}`,
        description,
        enableKeyRotation: true,
        rotationPeriod: Duration.days(365),
        removalPolicy: RemovalPolicy.RETAIN,
        pendingWindow: Duration.days(30),
      });
    this.dataKey = symmetric('DataKey', 'MDRP research data (objects, main table)');
    this.identityKey = symmetric('IdentityKey', 'MDRP identity vault (envelope encryption of direct identifiers)');
    this.auditKey = symmetric('AuditKey', 'MDRP audit (archive bucket, audit table, CloudTrail)');
    this.logsKey = symmetric('LogsKey', 'MDRP CloudWatch Logs');
    this.messagingKey = symmetric('MessagingKey', 'MDRP queues and topics');

    const nonRotating = (name: string, spec: kms.KeySpec, usage: kms.KeyUsage, description: string): kms.Key =>
      new kms.Key(this, name, {
        alias: `alias/mdrp-${props.stage}-${name.replace(/Key$/, '').toLowerCase()}`,
        description,
        keySpec: spec,
        keyUsage: usage,
        // KMS supports automatic rotation only for symmetric encryption keys: rotation is by
        // replacement, documented in infra/README.md ("Key lifecycle").
        enableKeyRotation: false,
        removalPolicy: RemovalPolicy.RETAIN,
        pendingWindow: Duration.days(30),
      });
    this.matchHmacKey = nonRotating('MatchHmacKey', kms.KeySpec.HMAC_256, kms.KeyUsage.GENERATE_VERIFY_MAC, 'MDRP identifier matching (HMAC-SHA-256)');
    this.pseudonymHmacKey = nonRotating('PseudonymHmacKey', kms.KeySpec.HMAC_256, kms.KeyUsage.GENERATE_VERIFY_MAC, 'MDRP per-project pseudonyms (HMAC-SHA-256)');
    this.auditSigningKey = nonRotating('AuditSigningKey', kms.KeySpec.ECC_NIST_P256, kms.KeyUsage.SIGN_VERIFY, 'MDRP audit digest signatures (ECDSA P-256)');

    // CloudWatch Logs encrypts with the key on behalf of the account's log groups only.
    this.logsKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogs',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': stack.formatArn({ service: 'logs', resource: '*' }) } },
      }),
    );

    // --- buckets -----------------------------------------------------------------------------
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      // S3 server access logging and CloudFront standard logs only support SSE-S3 targets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      // CloudFront standard logging writes with ACLs.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(400), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.accessLogsBucket).acknowledge(
      { id: 'AwsSolutions-S1', reason: 'This is the access-log target bucket; logging it into itself would loop.' },
      { id: 'HIPAA.Security-S3BucketLoggingEnabled', reason: 'This is the access-log target bucket; logging it into itself would loop.' },
      { id: 'HIPAA.Security-S3DefaultEncryptionKMS', reason: 'S3 server access logging and CloudFront standard logging deliver only to SSE-S3 buckets.' },
    );

    const secure = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      bucketKeyEnabled: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      removalPolicy: RemovalPolicy.RETAIN,
    } as const;

    this.stagingBucket = new s3.Bucket(this, 'StagingBucket', {
      ...secure,
      serverAccessLogsPrefix: 'staging/',
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.dataKey,
      versioned: true,
      // Staging holds uploads only until validated and moved (R-ING-4): short lifecycle.
      lifecycleRules: [
        { id: 'expire-staging', expiration: Duration.days(7), noncurrentVersionExpiration: Duration.days(1), abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      cors: props.uploadOrigins.length
        ? [{ allowedOrigins: [...props.uploadOrigins], allowedMethods: [s3.HttpMethods.PUT], allowedHeaders: ['*'], exposedHeaders: ['ETag'], maxAge: 3000 }]
        : undefined,
    });
    // S3 → EventBridge without CDK's notification custom resource (D8).
    (this.stagingBucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };

    this.dataBucket = new s3.Bucket(this, 'DataBucket', {
      ...secure,
      serverAccessLogsPrefix: 'data/',
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.dataKey,
      versioned: true, // R-ING-8
      lifecycleRules: [{ id: 'noncurrent', noncurrentVersionExpiration: Duration.days(90), abortIncompleteMultipartUploadAfter: Duration.days(2) }],
    });

    this.archiveBucket = new s3.Bucket(this, 'AuditArchiveBucket', {
      ...secure,
      serverAccessLogsPrefix: 'audit-archive/',
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.auditKey,
      versioned: true,
      // D6 / R-AUD-2: write-once storage. COMPLIANCE mode cannot be shortened by anyone.
      objectLockEnabled: props.objectLock,
      objectLockDefaultRetention: props.objectLock ? s3.ObjectLockRetention.compliance(Duration.days(props.auditRetentionDays)) : undefined,
      // ≥ 6 months online, then archived (R-AUD-2).
      lifecycleRules: [{ id: 'archive', transitions: [{ storageClass: s3.StorageClass.GLACIER, transitionAfter: Duration.days(180) }] }],
    });

    for (const b of [this.stagingBucket, this.dataBucket, this.archiveBucket, this.accessLogsBucket]) {
      Validations.of(b).acknowledge({
        id: 'HIPAA.Security-S3BucketReplicationEnabled',
        reason: 'Cross-region replication is a disaster-recovery decision per deployment (second region, data-residency approval); versioning + PITR cover R-ING-8 in-region. See infra/README.md.',
      });
    }

    // --- tables ------------------------------------------------------------------------------
    const table = (name: string, key: kms.IKey, stream?: dynamodb.StreamViewType): dynamodb.TableV2 =>
      new dynamodb.TableV2(this, `${name[0]!.toUpperCase()}${name.slice(1)}Table`, {
        tableName: `mdrp-${props.stage}-${name}`,
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
        globalSecondaryIndexes: [
          { indexName: 'gsi1', partitionKey: { name: 'gsi1pk', type: dynamodb.AttributeType.STRING }, sortKey: { name: 'gsi1sk', type: dynamodb.AttributeType.STRING } },
          // Keys plus what the gsi2 readers need: research records are not copied into it (R-ING-6).
          {
            indexName: 'gsi2',
            partitionKey: { name: 'gsi2pk', type: dynamodb.AttributeType.STRING },
            sortKey: { name: 'gsi2sk', type: dynamodb.AttributeType.STRING },
            projectionType: dynamodb.ProjectionType.INCLUDE,
            nonKeyAttributes: [...GSI2_PROJECTED_ATTRIBUTES],
          },
        ],
        billing: dynamodb.Billing.onDemand(),
        encryption: dynamodb.TableEncryptionV2.customerManagedKey(key),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: true,
        timeToLiveAttribute: 'ttl',
        dynamoStream: stream,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    this.mainTable = table('main', this.dataKey);
    this.identityTable = table('identity', this.identityKey);
    // Stream: shipped to the archive / alerting in near real time (R-AUD-2, R-AUD-5).
    this.auditTable = table('audit', this.auditKey, dynamodb.StreamViewType.NEW_IMAGE);
  }

  /** Every customer-managed key with its role, for tests and documentation. */
  public get keys(): Record<string, kms.Key> {
    return {
      data: this.dataKey,
      identity: this.identityKey,
      matchHmac: this.matchHmacKey,
      pseudonymHmac: this.pseudonymHmacKey,
      auditSigning: this.auditSigningKey,
      audit: this.auditKey,
      logs: this.logsKey,
      messaging: this.messagingKey,
    };
  }
}
