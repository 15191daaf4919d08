import type { Construct } from 'constructs';

/** Where the app is deployed: real AWS or LocalStack (`-c target=localstack`). */
export type DeployTarget = 'aws' | 'localstack';

/**
 * Deploy-time options, read once from CDK context (`cdk.json` or `-c key=value`).
 * Everything that changes the shape of the stack is here, so tests can build any variant.
 */
export interface MdrpContext {
  /** Short environment name used in resource names (`dev`, `prod`). */
  readonly stage: string;
  readonly target: DeployTarget;
  /** Lambdas in private isolated subnets with VPC endpoints (on for production; ~$60–70/month). */
  readonly vpc: boolean;
  /** Portal origin allowed by CORS; empty = the CloudFront distribution's own domain. */
  readonly portalOrigin: string;
  /** Partner source CIDRs for the WAF allow-list (R-SEC-7). Empty = rule in count mode. */
  readonly partnerCidrs: readonly string[];
  /** Optional mutual-TLS custom domain of the partner API (R-SEC-5). */
  readonly mtls?: { readonly domainName: string; readonly certificateArn: string; readonly truststoreKey: string; readonly truststoreVersion?: string };
  /** Reserved concurrency per function (HIPAA rule; keep the sum below the account limit minus 100). */
  readonly reservedConcurrency: number;
  /** Directory of `<module>.handler.ts` files (tests point it at placeholders). */
  readonly handlersDir: string;
  /** Static export of the portal (`next build` with `output: 'export'`). */
  readonly webOutDir: string;
  /** Deployment region (`-c region=…`, else the CLI's default region, else ap-southeast-1). */
  readonly region: string;
  /** Version string handed to the functions. */
  readonly version: string;
}

function bool(v: unknown, dflt: boolean): boolean {
  if (v === undefined || v === null || v === '') return dflt;
  return v === true || v === 'true' || v === '1';
}

function list(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String).filter(Boolean);
  if (typeof v === 'string' && v.trim()) return v.split(',').map((s) => s.trim()).filter(Boolean);
  return [];
}

/** Reads {@link MdrpContext} from the construct tree's context, with safe defaults. */
export function readContext(scope: Construct): MdrpContext {
  const get = (k: string): unknown => scope.node.tryGetContext(k);
  const target = get('target') === 'localstack' ? 'localstack' : 'aws';
  const mtlsDomain = get('mtlsDomainName');
  const mtls =
    typeof mtlsDomain === 'string' && mtlsDomain
      ? {
          domainName: mtlsDomain,
          certificateArn: String(get('mtlsCertificateArn') ?? ''),
          truststoreKey: String(get('mtlsTruststoreKey') ?? 'truststore.pem'),
          truststoreVersion: get('mtlsTruststoreVersion') ? String(get('mtlsTruststoreVersion')) : undefined,
        }
      : undefined;
  if (mtls && !mtls.certificateArn) throw new Error('mtlsDomainName needs mtlsCertificateArn (an ACM certificate in the stack region)');
  const stage = String(get('stage') ?? 'dev');
  if (!/^[a-z][a-z0-9-]{1,15}$/.test(stage)) throw new Error(`stage "${stage}" must match ^[a-z][a-z0-9-]{1,15}$`);
  return {
    stage,
    target,
    vpc: target === 'localstack' ? false : bool(get('vpc'), false),
    portalOrigin: String(get('portalOrigin') ?? ''),
    partnerCidrs: list(get('partnerCidrs')),
    mtls,
    reservedConcurrency: Number(get('reservedConcurrency') ?? 10),
    handlersDir: String(get('handlersDir') ?? 'functions/handlers'),
    webOutDir: String(get('webOutDir') ?? 'web/out'),
    region: String(get('region') || process.env.CDK_DEFAULT_REGION || 'ap-southeast-1'),
    version: String(get('version') ?? process.env.npm_package_version ?? '0.1.0'),
  };
}
