import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Repository root (infra/constructs/ → ../..). Bundling, entries and copied assets are relative to it. */
export const PROJECT_ROOT = path.resolve(import.meta.dirname, '..', '..');

/** Packages installed into every bundle instead of inlined (cedar-wasm loads its .wasm next to its JS). */
export const BUNDLE_NODE_MODULES = ['@cedar-policy/cedar-wasm'] as const;

/** Folders copied into every bundle: the composition root reads `<bundle>/policies` and `<bundle>/state-machines`. */
export const BUNDLE_COPIED_DIRS = ['policies', 'state-machines'] as const;

/** esbuild settings shared by CDK bundling and `npm run build:lambdas` (infra/build-lambdas.ts). */
export const BUNDLE_SETTINGS = {
  target: 'node22',
  /** ESM bundles of CommonJS dependencies need `require`. */
  banner: "import { createRequire as __mdrpCreateRequire } from 'node:module'; const require = __mdrpCreateRequire(import.meta.url);",
  mainFields: ['module', 'main'],
} as const;

export interface MdrpFunctionProps {
  /** Handler module: entry file `<handlersDir>/<module>.handler.ts`, export `handler`. */
  readonly module: string;
  readonly handlersDir: string;
  readonly stage: string;
  readonly description: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly logsKey: kms.IKey;
  /** Shared KMS-encrypted dead-letter queue for failed asynchronous invocations. */
  readonly deadLetterQueue: sqs.IQueue;
  readonly reservedConcurrency?: number;
  readonly architecture: lambda.Architecture;
  readonly timeout?: Duration;
  readonly memorySize?: number;
  readonly vpc?: { readonly vpc: ec2.IVpc; readonly securityGroup: ec2.ISecurityGroup };
  /**
   * Why this function stays outside the VPC although the deployment is in VPC mode (it must reach
   * the internet, which the isolated subnets cannot): recorded as the cdk-nag acknowledgement.
   */
  readonly outsideVpcReason?: string;
}

/**
 * One Lambda per handler module with its own role, its own KMS-encrypted log group, X-Ray
 * tracing, reserved concurrency and a dead-letter queue (least privilege per module, R-SEC-4).
 */
export class MdrpFunction extends Construct {
  public readonly fn: nodejs.NodejsFunction;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: MdrpFunctionProps) {
    super(scope, id);
    const entry = path.resolve(PROJECT_ROOT, props.handlersDir, `${props.module}.handler.ts`);

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `MDRP ${props.stage} ${props.module} function`,
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/mdrp-${props.stage}-${props.module}`,
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logsKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Explicit, resource-scoped log permissions instead of the AWSLambdaBasicExecutionRole managed policy.
    this.logGroup.grantWrite(this.role);
    if (props.vpc) {
      // ENI management for VPC functions; these EC2 actions do not support resource-level scoping.
      this.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
          resources: ['*'],
        }),
      );
    }

    const copy = [
      ...BUNDLE_COPIED_DIRS.map((d) => `if [ -d "${inputDirToken}/${d}" ]; then cp -R "${inputDirToken}/${d}" "${outputDirToken}/${d}"; fi`),
      // Functions import '@cedar-policy/cedar-wasm/nodejs'; the browser/bundler builds only add ~8 MB per zip.
      `rm -rf "${outputDirToken}/node_modules/@cedar-policy/cedar-wasm/esm" "${outputDirToken}/node_modules/@cedar-policy/cedar-wasm/web"`,
    ];
    this.fn = new nodejs.NodejsFunction(this, 'Function', {
      functionName: `mdrp-${props.stage}-${props.module}`,
      description: props.description,
      entry,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: props.architecture,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.seconds(29),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      reservedConcurrentExecutions: props.reservedConcurrency,
      deadLetterQueue: props.deadLetterQueue,
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps', POWERTOOLS_SERVICE_NAME: `mdrp-${props.module}` },
      vpc: props.vpc?.vpc,
      vpcSubnets: props.vpc ? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } : undefined,
      securityGroups: props.vpc ? [props.vpc.securityGroup] : undefined,
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: BUNDLE_SETTINGS.target,
        platform: 'node',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        mainFields: [...BUNDLE_SETTINGS.mainFields],
        banner: BUNDLE_SETTINGS.banner,
        // Pinned SDK versions from the lockfile are bundled, not taken from the runtime.
        externalModules: [],
        nodeModules: [...BUNDLE_NODE_MODULES],
        metafile: false,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir: string, outputDir: string) => copy.map((c) => c.replaceAll(inputDirToken, inputDir).replaceAll(outputDirToken, outputDir)),
        },
      },
    });
    // CDK grants sqs:SendMessage for the DLQ; sending to a KMS-encrypted queue also needs the key.
    const dlqKey = props.deadLetterQueue.encryptionMasterKey;
    if (dlqKey) {
      this.role.addToPolicy(new iam.PolicyStatement({ sid: 'DeadLetterQueueKey', actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [dlqKey.keyArn] }));
    }
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) supports only Resource "*"' + (props.vpc ? '; Lambda VPC ENI management (ec2:*NetworkInterface*) has no resource-level scoping.' : '.'),
    });
    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Pinned to nodejs22.x on purpose: dependencies (middy 6, SDK pins, cedar-wasm) are tested on Node 22 LTS; moving to a newer runtime is a tested upgrade, not an automatic one.',
    });
    if (!props.vpc) {
      Validations.of(this.fn).acknowledge({
        id: 'HIPAA.Security-LambdaInsideVPC',
        reason: props.outsideVpcReason ?? 'VPC mode is a deploy-time option (-c vpc=true, private isolated subnets + endpoints, ~$60-70/month), on for production; off in dev. Functions reach only AWS APIs over TLS with IAM.',
      });
    }
  }
}

const inputDirToken = '@@INPUT@@';
const outputDirToken = '@@OUTPUT@@';
