import * as fs from 'node:fs';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { acknowledgeAllWildcards } from './nag';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';

export interface PortalHostingProps {
  readonly stage: string;
  /** Absolute path of the static export (`web/out`). May not exist at synth time. */
  readonly webOutDir: string;
  readonly logsBucket: s3.IBucket;
  /** Origins the browser may call (API, Cognito) for the Content-Security-Policy connect-src. */
  readonly connectSources: readonly string[];
}

/** Values written to `/mdrp-config.json` (shape: web/lib/runtime-config.ts `RuntimeConfig`). */
export interface PortalRuntimeConfig {
  readonly apiUrl: string;
  readonly region: string;
  readonly userPoolId: string;
  readonly userPoolClientId: string;
  readonly institutionTimeZone: string;
  readonly defaultLocale: 'zh-CN' | 'en';
}

/**
 * The researcher portal: Next.js static export on a private S3 bucket behind CloudFront (origin
 * access control, HTTPS only, security headers, access logs), plus `/mdrp-config.json` written
 * at deploy time so one build serves every environment.
 */
export class PortalHosting extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly distribution: cloudfront.Distribution;
  /** `https://<distribution domain>`: the CORS origin of the portal API. */
  public readonly origin: string;
  /** Whether `web/out` existed at synth time (otherwise only the config file is deployed). */
  public readonly hasSite: boolean;

  constructor(scope: Construct, id: string, private readonly props: PortalHostingProps) {
    super(scope, id);

    this.bucket = new s3.Bucket(this, 'SiteBucket', {
      // Public static assets only (HTML/JS/CSS of the portal, no data): SSE-S3 is enough, and
      // keeps CloudFront OAC free of KMS key-policy coupling.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.logsBucket,
      serverAccessLogsPrefix: 'portal-site/',
      lifecycleRules: [{ id: 'noncurrent', noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.bucket).acknowledge(
      { id: 'HIPAA.Security-S3DefaultEncryptionKMS', reason: 'Holds only the public static portal build (no PHI, no configuration secrets); SSE-S3 avoids KMS key-policy coupling with CloudFront OAC.' },
      { id: 'HIPAA.Security-S3BucketReplicationEnabled', reason: 'Rebuildable static assets: redeployed from source, no replication needed.' },
    );

    const csp = [
      "default-src 'self'",
      // Next.js static export inlines bootstrap scripts and styles.
      "script-src 'self' 'unsafe-inline'",
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data: blob:",
      "font-src 'self' data:",
      `connect-src 'self' ${props.connectSources.join(' ')}`,
      "worker-src 'self' blob:",
      "frame-ancestors 'none'",
      "base-uri 'self'",
      "form-action 'self'",
      "object-src 'none'",
    ].join('; ');
    const headers = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      responseHeadersPolicyName: `mdrp-${props.stage}-portal-security`,
      securityHeadersBehavior: {
        strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, preload: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
        xssProtection: { protection: true, modeBlock: true, override: true },
        contentSecurityPolicy: { contentSecurityPolicy: csp, override: true },
      },
      customHeadersBehavior: { customHeaders: [{ header: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=()', override: true }] },
    });

    // Static export with trailingSlash: `/access-requests` → `/access-requests/index.html` (S3 has no directory index).
    const rewrite = new cloudfront.Function(this, 'IndexRewrite', {
      functionName: `mdrp-${props.stage}-portal-index`,
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(`function handler(event) {
  var r = event.request;
  if (r.uri.endsWith('/')) { r.uri += 'index.html'; }
  else if (r.uri.lastIndexOf('.') < r.uri.lastIndexOf('/')) { r.uri += '/index.html'; }
  return r;
}`),
    });

    const origin = origins.S3BucketOrigin.withOriginAccessControl(this.bucket);
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `MDRP ${props.stage} portal`,
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: headers,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        functionAssociations: [{ function: rewrite, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      },
      additionalBehaviors: {
        // Deploy-time configuration must never be served stale.
        '/mdrp-config.json': {
          origin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          responseHeadersPolicy: headers,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        },
      },
      // Through OAC without s3:ListBucket, a missing object is a 403 from S3: show the 404 page for both.
      errorResponses: [
        { httpStatus: 403, responseHttpStatus: 404, responsePagePath: '/404.html', ttl: Duration.minutes(1) },
        { httpStatus: 404, responseHttpStatus: 404, responsePagePath: '/404.html', ttl: Duration.minutes(1) },
      ],
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_ALL,
      enableLogging: true,
      logBucket: props.logsBucket,
      logFilePrefix: 'cloudfront/',
    });
    this.origin = `https://${this.distribution.distributionDomainName}`;
    this.hasSite = fs.existsSync(props.webOutDir);

    Validations.of(this.distribution).acknowledge(
      { id: 'AwsSolutions-CFR1', reason: 'Researchers are in many countries (collaborations); access is controlled by sign-in and per-grant authorization, not geography.' },
      {
        id: 'AwsSolutions-CFR2',
        reason: 'The distribution serves only public static assets; all data goes to the regional APIs, which have WAF WebACLs. A CLOUDFRONT-scope WebACL must live in us-east-1 (separate stack) — add one when the deployment region allows.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason: 'The default *.cloudfront.net certificate cannot pin a minimum TLS version (CloudFront allows setting it only with a custom certificate); viewers are redirected to HTTPS. Configure a portal domain + ACM certificate (TLSv1.2_2021) for production.',
      },
    );
  }

  /**
   * Deploys the static export (when it exists) and `/mdrp-config.json`. Without `web/out` at synth
   * time only the config is deployed, so `cdk synth` never depends on a portal build.
   */
  public deployConfig(config: PortalRuntimeConfig): s3deploy.BucketDeployment {
    const sources: s3deploy.ISource[] = [];
    if (this.hasSite) sources.push(s3deploy.Source.asset(this.props.webOutDir));
    sources.push(
      s3deploy.Source.jsonData('mdrp-config.json', {
        apiUrl: config.apiUrl,
        region: config.region,
        userPoolId: config.userPoolId,
        userPoolClientId: config.userPoolClientId,
        userPoolEndpoint: null,
        institutionTimeZone: config.institutionTimeZone,
        defaultLocale: config.defaultLocale,
        environment: 'aws',
      }),
    );
    const deployment = new s3deploy.BucketDeployment(this, 'Deploy', {
      sources,
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 512,
      // Keep old hashed assets for clients that loaded the previous HTML.
      prune: false,
    });
    // The deployment helper is a CDK-managed singleton Lambda that runs only during CloudFormation
    // deployments and writes only to the portal bucket.
    const helper = Stack.of(this).node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (helper) {
      const reason = 'CDK-managed BucketDeployment helper (s3-deployment): runs only during CloudFormation deployments, copies the portal build from the CDK asset bucket to the portal bucket; its runtime, role and log group are defined by aws-cdk-lib.';
      const role = helper.node.tryFindChild('ServiceRole') as iam.Role | undefined;
      const policy = role?.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
      if (policy) acknowledgeAllWildcards(helper, policy.document, reason);
      Validations.of(helper).acknowledge(
        { id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason },
        ...['AwsSolutions-L1', 'HIPAA.Security-LambdaConcurrency', 'HIPAA.Security-LambdaDLQ', 'HIPAA.Security-LambdaInsideVPC', 'HIPAA.Security-CloudWatchLogGroupEncrypted'].map((id) => ({ id, reason })),
      );
    }
    return deployment;
  }
}
