import { Annotations, Duration, NestedStack, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { RouteDefinition } from '../../functions/http/route-definition';
import { PARTNER_USAGE_PLANS, usagePlanName } from '../../functions/core/partners/usage-plans';
import { Firewall } from './firewall';
import { PARTNER_SCOPES, RESOURCE_SERVER_ID, type PartnerScope } from './identity';
import { bodySchema, derivePartnerScopes, pascal, pathParameters, queryParameters } from './route-mapping';

/**
 * Which API serves which routes. `user-or-partner` routes are on both; see the class doc.
 */
export const API_AUDIENCES = {
  portal: ['none', 'user', 'user-or-partner'],
  partner: ['none', 'partner', 'user-or-partner'],
} as const satisfies Record<string, readonly RouteDefinition['auth'][]>;

export type ApiAudience = keyof typeof API_AUDIENCES;

export interface ApiProps {
  readonly stage: string;
  /** The route table (`functions/http/routes`). Every API resource and method comes from it. */
  readonly routes: readonly RouteDefinition[];
  /** Lambda per route-table module. */
  readonly functions: ReadonlyMap<string, lambda.IFunction>;
  readonly userPool: cognito.IUserPool;
  /** Full OAuth scopes of the partner resource server, by short name. */
  readonly scopes: Record<PartnerScope, cognito.OAuthScope>;
  /** Portal origin(s) allowed by CORS on the portal API. */
  readonly allowedOrigins: readonly string[];
  readonly logsKey: kms.IKey;
  /** WAF is not emulated on LocalStack. */
  readonly waf: boolean;
  /** CIDRs of partner systems (WAF allow-list on the partner API, R-SEC-7). */
  readonly partnerCidrs: readonly string[];
  /** Optional mutual-TLS custom domain for the partner API (R-SEC-5). */
  readonly mtls?: { readonly domainName: string; readonly certificateArn: string; readonly truststoreBucket: s3.IBucket; readonly truststoreKey: string; readonly truststoreVersion?: string };
  /** Name of the default partner usage plan (the partners module looks it up by name at onboarding). */
  readonly partnerUsagePlanName: string;
  /**
   * Lambda REQUEST authorizer of the partner API (functions/handlers/partner-authorizer.handler.ts):
   * the partner edge decision shared with the local front. Without it, partner routes fall back
   * to the Cognito authorizer with `authorizationScopes` (no per-partner IP or key binding).
   */
  readonly partnerAuthorizer?: lambda.IFunction;
}

/**
 * The REST APIs, built from the route table at synth time.
 *
 * Two APIs share the same Lambdas and the same paths, so handlers see identical events:
 * - **portal API** — people. `user` and `user-or-partner` routes use a Cognito user-pool
 *   authorizer that accepts ID tokens (roles in `cognito:groups`, `custom:institution`);
 *   CORS for the portal origin.
 * - **partner API** — machines. `partner` and `user-or-partner` routes require an API key
 *   (usage plan: rate, burst, monthly quota) *and* a client-credentials access token with the
 *   route's scope (Cognito authorizer with `authorizationScopes`); WAF IP allow-list; optional
 *   mutual-TLS custom domain (then the default execute-api endpoint is disabled).
 * `user-or-partner` thus works without a custom authorizer: the caller picks the API that fits
 * its credential. `none` routes (health, OpenAPI) are on both.
 *
 * API keys are not created here: partner onboarding (partners module) creates one key per
 * partner with `CreateApiKey` + `CreateUsagePlanKey` on the plan named `partnerUsagePlanName`.
 *
 * A nested stack: every route is a method, a resource and often a model on two APIs, which
 * would take the main stack past CloudFormation's 500-resource limit in VPC mode.
 */
export class Api extends NestedStack {
  public readonly portalApi: apigw.RestApi;
  public readonly partnerApi: apigw.RestApi;
  /** The `default` plan (its id is a stack output). */
  public readonly partnerUsagePlan: apigw.UsagePlan;
  /** Every partner usage plan, by plan name (`PARTNER_USAGE_PLANS`). */
  public readonly partnerUsagePlans: Readonly<Record<string, apigw.UsagePlan>>;
  /** Base URL without trailing slash (`https://…/<stage>`); routes start with `/v1`. */
  public readonly portalUrl: string;
  public readonly partnerUrl: string;
  public readonly firewalls: Firewall[] = [];
  public readonly partnerDomain?: apigw.DomainName;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id, { description: 'MDRP REST APIs (portal and partner), usage plans, WAF, built from the route table' });

    this.portalApi = this.buildApi('portal', props);
    this.partnerApi = this.buildApi('partner', props);
    // Both stages log through the account-level CloudWatch role the portal API sets.
    const account = this.portalApi.node.tryFindChild('Account');
    if (account) this.partnerApi.node.addDependency(account);

    // One usage plan per entry of the shared edge configuration (the local front meters the same).
    const plans: Record<string, apigw.UsagePlan> = {};
    for (const [plan, limits] of Object.entries(PARTNER_USAGE_PLANS)) {
      plans[plan] = this.partnerApi.addUsagePlan(plan === 'default' ? 'DefaultPartnerPlan' : `${pascal(plan)}PartnerPlan`, {
        name: plan === 'default' ? props.partnerUsagePlanName : usagePlanName(props.stage, plan),
        description: `Partner plan ${plan}: ${limits.description}; onboarding adds each partner API key to its plan (R-SEC-7)`,
        throttle: { rateLimit: limits.rateLimit, burstLimit: limits.burstLimit },
        quota: { limit: limits.quotaPerDay, period: apigw.Period.DAY },
        apiStages: [{ api: this.partnerApi, stage: this.partnerApi.deploymentStage }],
      });
    }
    this.partnerUsagePlans = plans;
    this.partnerUsagePlan = plans.default!;

    this.portalUrl = trimUrl(this.portalApi);
    this.partnerUrl = trimUrl(this.partnerApi);

    if (props.waf) {
      this.firewalls.push(
        new Firewall(this, 'PortalFirewall', { name: `mdrp-${props.stage}-portal-api`, stage: this.portalApi.deploymentStage, routes: routesFor('portal', props.routes), logsKey: props.logsKey }),
        new Firewall(this, 'PartnerFirewall', {
          name: `mdrp-${props.stage}-partner-api`,
          stage: this.partnerApi.deploymentStage,
          routes: routesFor('partner', props.routes),
          logsKey: props.logsKey,
          allowedCidrs: props.partnerCidrs,
        }),
      );
    }

    if (props.mtls) {
      // R-SEC-5: institution-to-platform calls authenticate the client certificate against
      // the truststore (PEM bundle of the institutions' CAs) in S3.
      this.partnerDomain = new apigw.DomainName(this, 'PartnerMtlsDomain', {
        domainName: props.mtls.domainName,
        certificate: acm.Certificate.fromCertificateArn(this, 'PartnerCertificate', props.mtls.certificateArn),
        endpointType: apigw.EndpointType.REGIONAL,
        securityPolicy: apigw.SecurityPolicy.TLS_1_2,
        mtls: { bucket: props.mtls.truststoreBucket, key: props.mtls.truststoreKey, version: props.mtls.truststoreVersion },
      });
      this.partnerDomain.addBasePathMapping(this.partnerApi, { stage: this.partnerApi.deploymentStage });
    }
  }

  private buildApi(audience: ApiAudience, props: ApiProps): apigw.RestApi {
    const isPortal = audience === 'portal';
    const name = `mdrp-${props.stage}-${audience}-api`;
    const accessLogs = new logs.LogGroup(this, `${pascal(audience)}AccessLogs`, {
      logGroupName: `/aws/apigateway/${name}`,
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logsKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const api = new apigw.RestApi(this, `${pascal(audience)}Api`, {
      restApiName: name,
      description: isPortal ? 'MDRP API for the researcher portal (Cognito ID tokens)' : 'MDRP API for partner systems (API key + OAuth2 client credentials)',
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      // R-ANA-2 inline previews return binary bodies (base64 from Lambda): API Gateway converts them
      // when the request's first Accept type is one of these (the portal asks for the exact type).
      binaryMediaTypes: ['application/pdf', 'image/png', 'application/dicom'],
      // API Gateway needs one account-level role to write execution logs; only one API creates it.
      cloudWatchRole: isPortal,
      cloudWatchRoleRemovalPolicy: isPortal ? RemovalPolicy.RETAIN : undefined,
      apiKeySourceType: apigw.ApiKeySourceType.HEADER,
      // With a mutual-TLS domain, the default endpoint would bypass client-certificate checks.
      disableExecuteApiEndpoint: !isPortal && !!props.mtls,
      deployOptions: {
        stageName: props.stage,
        // Request/response bodies hold PHI: ERROR-level execution logs, never data trace.
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: isPortal ? 200 : 100,
        throttlingBurstLimit: isPortal ? 400 : 200,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: apigw.AccessLogField.contextRequestId(),
            time: apigw.AccessLogField.contextRequestTime(),
            ip: apigw.AccessLogField.contextIdentitySourceIp(),
            method: apigw.AccessLogField.contextHttpMethod(),
            resource: apigw.AccessLogField.contextResourcePath(),
            status: apigw.AccessLogField.contextStatus(),
            length: apigw.AccessLogField.contextResponseLength(),
            latencyMs: apigw.AccessLogField.contextResponseLatency(),
            sub: apigw.AccessLogField.contextAuthorizerClaims('sub'),
            clientId: apigw.AccessLogField.contextAuthorizerClaims('client_id'),
            apiKeyId: apigw.AccessLogField.contextIdentityApiKeyId(),
            error: apigw.AccessLogField.contextErrorMessageString(),
            waf: '$context.waf.error',
          }),
        ),
      },
      defaultCorsPreflightOptions:
        isPortal && props.allowedOrigins.length
          ? {
              allowOrigins: [...props.allowedOrigins],
              allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
              allowHeaders: ['Authorization', 'Content-Type', 'X-Correlation-Id', 'Accept-Language'],
              exposeHeaders: ['X-Correlation-Id'],
              maxAge: Duration.hours(1),
            }
          : undefined,
    });

    const cwRole = api.node.tryFindChild('CloudWatchRole');
    if (cwRole) {
      Validations.of(cwRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason: 'Account-level API Gateway logging role (one per account and region) needs the AWS-managed push policy; it cannot be scoped to log groups that API Gateway creates itself.',
      });
    }

    if (isPortal && props.allowedOrigins.length) {
      // Browsers must see API Gateway's own 4xx/5xx (expired token, throttled) as CORS responses.
      for (const [id, type] of [
        ['Default4xx', apigw.ResponseType.DEFAULT_4XX],
        ['Default5xx', apigw.ResponseType.DEFAULT_5XX],
      ] as const) {
        api.addGatewayResponse(id, { type, responseHeaders: { 'Access-Control-Allow-Origin': `'${props.allowedOrigins[0]}'`, Vary: "'Origin'" } });
      }
    }

    // The partner API uses the Cognito authorizer only without the partner edge authorizer
    // (an authorizer attached to no method fails synthesis).
    const authorizer =
      isPortal || !props.partnerAuthorizer
        ? new apigw.CognitoUserPoolsAuthorizer(this, `${pascal(audience)}Authorizer`, {
            authorizerName: `mdrp-${props.stage}-${audience}`,
            cognitoUserPools: [props.userPool],
            identitySource: apigw.IdentitySource.header('Authorization'),
            resultsCacheTtl: Duration.minutes(5),
          })
        : undefined;
    // Not cached: the decision depends on the source IP and the route, not only on the headers.
    // No identity sources, so calls without a key or token still reach it and are audited.
    const partnerAuthorizer =
      !isPortal && props.partnerAuthorizer
        ? new apigw.RequestAuthorizer(this, 'PartnerEdgeAuthorizer', { authorizerName: `mdrp-${props.stage}-partner-edge`, handler: props.partnerAuthorizer, identitySources: [], resultsCacheTtl: Duration.seconds(0) })
        : undefined;
    const validator = api.addRequestValidator('Validator', { requestValidatorName: 'body-and-parameters', validateRequestBody: true, validateRequestParameters: true });
    const integrations = new Map<string, apigw.LambdaIntegration>();

    for (const route of routesFor(audience, props.routes)) {
      const fn = props.functions.get(route.module);
      if (!fn) throw new Error(`no function for module ${route.module} (route ${route.operationId})`);
      let integration = integrations.get(route.module);
      if (!integration) {
        // One invoke permission per function and API instead of one per method.
        integration = new apigw.LambdaIntegration(fn, { proxy: true, scopePermissionToMethod: false });
        integrations.set(route.module, integration);
      }
      const schema = bodySchema(route);
      const model = schema
        ? api.addModel(`${pascal(route.operationId)}Body`, { contentType: 'application/json', modelName: `${pascal(route.operationId)}Body`, schema: schema as apigw.JsonSchema })
        : undefined;
      const common: apigw.MethodOptions = {
        operationName: route.operationId,
        requestValidator: validator,
        requestParameters: { ...pathParameters(route), ...queryParameters(route) },
        requestModels: model ? { 'application/json': model } : undefined,
      };
      let options: apigw.MethodOptions;
      const scopes = derivePartnerScopes(route);
      if (route.auth === 'none') {
        options = { ...common, authorizationType: apigw.AuthorizationType.NONE };
      } else if (isPortal) {
        options = { ...common, authorizationType: apigw.AuthorizationType.COGNITO, authorizer: authorizer! };
      } else if (partnerAuthorizer) {
        // Key status, per-partner IP allow-list, token (Cognito JWKS), token client = key's partner
        // and the route scope are decided by the shared partner edge logic; API Gateway meters the key.
        options = { ...common, authorizationType: apigw.AuthorizationType.CUSTOM, authorizer: partnerAuthorizer, apiKeyRequired: true };
      } else {
        options = {
          ...common,
          authorizationType: apigw.AuthorizationType.COGNITO,
          authorizer: authorizer!,
          apiKeyRequired: true,
          // Plain names: the resource server identifier is fixed, and API Gateway matches scope strings.
          // A route whose scope cannot be derived accepts any partner scope (still key + token) and warns.
          authorizationScopes: (scopes ?? [...PARTNER_SCOPES]).map((s) => `${RESOURCE_SERVER_ID}/${s}`),
        };
      }
      const method = api.root.resourceForPath(route.path).addMethod(route.method, integration, options);
      if (!isPortal && route.auth !== 'none' && !scopes) {
        Annotations.of(method).addWarningV2(
          'mdrp:partner-scope',
          `no OAuth scope known for partner route ${route.operationId} (${route.module}): any partner scope accepted. Add \`partnerScopes\` to the route or a rule in infra/constructs/route-mapping.ts`,
        );
      }
      if (partnerAuthorizer && route.auth !== 'none') {
        Validations.of(method).acknowledge({
          id: 'AwsSolutions-COG4',
          reason: `${route.operationId} on the partner API uses the partner edge Lambda authorizer, which verifies the Cognito client-credentials access token (issuer, JWKS signature, expiry, scope) and binds it to the API key's partner and IP allow-list.`,
        });
      }
      if (route.auth === 'none') {
        Validations.of(method).acknowledge(
          { id: 'AwsSolutions-APIG4', reason: `${route.operationId} is public by design (route table auth 'none': health, OpenAPI document, FHIR CapabilityStatement); it returns no data.` },
          { id: 'AwsSolutions-COG4', reason: `${route.operationId} is public by design (route table auth 'none'); it returns no data.` },
        );
      }
    }

    // CORS preflights cannot carry credentials (browsers send OPTIONS without Authorization).
    for (const m of api.methods.filter((x) => x.httpMethod === 'OPTIONS')) {
      Validations.of(m).acknowledge(
        { id: 'AwsSolutions-APIG4', reason: 'CORS preflight (MOCK integration): browsers send OPTIONS without credentials.' },
        { id: 'AwsSolutions-COG4', reason: 'CORS preflight (MOCK integration): browsers send OPTIONS without credentials.' },
      );
    }
    Validations.of(api).acknowledge(
      { id: 'HIPAA.Security-APIGWCacheEnabledAndEncrypted', reason: 'No API cache: responses are per-user and may hold PHI; caching them would risk cross-user disclosure.' },
      { id: 'HIPAA.Security-APIGWSSLEnabled', reason: 'Backend is Lambda proxy integration (invoked over AWS-signed HTTPS), so a client certificate for the backend does not apply.' },
    );
    return api;
  }
}

/** Routes an API serves, in route-table order. */
export function routesFor(audience: ApiAudience, all: readonly RouteDefinition[]): RouteDefinition[] {
  const auths: readonly string[] = API_AUDIENCES[audience];
  return all.filter((r) => auths.includes(r.auth));
}

function trimUrl(api: apigw.RestApi): string {
  const stack = Stack.of(api);
  return `https://${api.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}/${api.deploymentStage.stageName}`;
}
