/**
 * Platform configuration: which store, bucket, key and workflow to use. Built from environment
 * variables in Lambda (set by CDK) and from explicit values by the local runtime. Nothing else
 * reads `process.env`.
 */
export interface PlatformConfig {
  stage: string;
  version: string;
  region: string;
  tables: { main: string; identity: string; audit: string };
  buckets: { staging: string; data: string; archive: string };
  keys:
    | { kind: 'kms'; dataKeyArn: string; identityKeyArn: string; matchHmacKeyArn: string; pseudonymHmacKeyArn: string; auditSigningKeyArn: string }
    | { kind: 'local'; keyFile: string };
  workflow:
    | { kind: 'step-functions'; accessRequestStateMachineArn: string }
    | { kind: 'local' };
  scheduler:
    | { kind: 'eventbridge'; groupName: string; targetArn: string; roleArn: string }
    | { kind: 'local' };
  /**
   * `partnerTokenEndpoint`: where partner systems get client-credentials tokens (the Cognito
   * domain's `/oauth2/token` in AWS, stack output `PartnerTokenEndpoint`); shown in the
   * onboarding response so a partner need not look it up.
   */
  identity: { userPoolId: string; issuer: string; partnerTokenEndpoint?: string };
  /** `auditAlertsTopicArn`: the security admins' SNS topic for R-AUD-5 alerts (set on the audit-alerts function only). */
  notifications: { topicArn?: string; auditAlertsTopicArn?: string };
  /** Portal origin allowed by CORS. */
  allowedOrigin: string;
  /** Folder holding `policies/` and `state-machines/` (the Lambda bundle root, or the repo). */
  assetsDir: string;
  /** A review step not decided in this many seconds escalates (default 7 days). */
  reviewTimeoutSeconds?: number;
  /** How often (ms) an instance checks for a new stored policy version (default 5 s, R-GOV-7). */
  policyReloadTtlMs?: number;
  /**
   * Webhook deliveries (R-INT-1): https only unless `allowHttpLoopback` (the local runtime, for a
   * receiver on 127.0.0.1); `retryBaseMs` is the first retry delay (default 30 s, doubling).
   */
  webhooks?: { allowHttpLoopback?: boolean; retryBaseMs?: number };
  /** SDK endpoint overrides (local emulators); absent in AWS. */
  endpoints?: { dynamodb?: string; s3?: string; cognito?: string };
  /** Static credentials for emulators only; absent in AWS (the Lambda role is used). */
  localCredentials?: { accessKeyId: string; secretAccessKey: string };
}

/** Set by CDK on the audit-alerts function only (AuditEvents nested stack): its SNS topic. */
export const AUDIT_ALERTS_TOPIC_ENV = 'MDRP_AUDIT_ALERTS_TOPIC_ARN';

/** Environment variable names CDK sets on every function (one place, used by infra too). */
export const ENV = {
  stage: 'MDRP_STAGE',
  version: 'MDRP_VERSION',
  tableMain: 'MDRP_TABLE_MAIN',
  tableIdentity: 'MDRP_TABLE_IDENTITY',
  tableAudit: 'MDRP_TABLE_AUDIT',
  bucketStaging: 'MDRP_BUCKET_STAGING',
  bucketData: 'MDRP_BUCKET_DATA',
  bucketArchive: 'MDRP_BUCKET_ARCHIVE',
  kmsDataKeyArn: 'MDRP_KMS_DATA_KEY_ARN',
  kmsIdentityKeyArn: 'MDRP_KMS_IDENTITY_KEY_ARN',
  kmsMatchHmacKeyArn: 'MDRP_KMS_MATCH_HMAC_KEY_ARN',
  kmsPseudonymHmacKeyArn: 'MDRP_KMS_PSEUDONYM_HMAC_KEY_ARN',
  kmsAuditSigningKeyArn: 'MDRP_KMS_AUDIT_SIGNING_KEY_ARN',
  accessRequestStateMachineArn: 'MDRP_ACCESS_REQUEST_STATE_MACHINE_ARN',
  schedulerGroup: 'MDRP_SCHEDULER_GROUP',
  schedulerTargetArn: 'MDRP_SCHEDULER_TARGET_ARN',
  schedulerRoleArn: 'MDRP_SCHEDULER_ROLE_ARN',
  userPoolId: 'MDRP_USER_POOL_ID',
  partnerTokenEndpoint: 'MDRP_PARTNER_TOKEN_ENDPOINT',
  notifyTopicArn: 'MDRP_NOTIFY_TOPIC_ARN',
  allowedOrigin: 'MDRP_ALLOWED_ORIGIN',
} as const;

/** Reads the Lambda environment (set by CDK). Throws naming the first missing variable. */
export function configFromEnv(env: Record<string, string | undefined>): PlatformConfig {
  const need = (name: string): string => {
    const v = env[name];
    if (!v) throw new Error(`missing environment variable ${name}`);
    return v;
  };
  const region = need('AWS_REGION');
  const userPoolId = need(ENV.userPoolId);
  return {
    stage: need(ENV.stage),
    version: env[ENV.version] ?? '0.0.0',
    region,
    tables: { main: need(ENV.tableMain), identity: need(ENV.tableIdentity), audit: need(ENV.tableAudit) },
    buckets: { staging: need(ENV.bucketStaging), data: need(ENV.bucketData), archive: need(ENV.bucketArchive) },
    keys: {
      kind: 'kms',
      dataKeyArn: need(ENV.kmsDataKeyArn),
      identityKeyArn: need(ENV.kmsIdentityKeyArn),
      matchHmacKeyArn: need(ENV.kmsMatchHmacKeyArn),
      pseudonymHmacKeyArn: need(ENV.kmsPseudonymHmacKeyArn),
      auditSigningKeyArn: need(ENV.kmsAuditSigningKeyArn),
    },
    workflow: { kind: 'step-functions', accessRequestStateMachineArn: need(ENV.accessRequestStateMachineArn) },
    scheduler: { kind: 'eventbridge', groupName: need(ENV.schedulerGroup), targetArn: need(ENV.schedulerTargetArn), roleArn: need(ENV.schedulerRoleArn) },
    identity: { userPoolId, issuer: `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`, partnerTokenEndpoint: need(ENV.partnerTokenEndpoint) },
    notifications: { topicArn: env[ENV.notifyTopicArn], ...(env[AUDIT_ALERTS_TOPIC_ENV] ? { auditAlertsTopicArn: env[AUDIT_ALERTS_TOPIC_ENV] } : {}) },
    allowedOrigin: need(ENV.allowedOrigin),
    assetsDir: env.LAMBDA_TASK_ROOT ?? '.',
  };
}
