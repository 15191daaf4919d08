import { Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

/** Every platform role is a Cognito group (`cognito:groups` in the ID token). */
export const ROLE_GROUPS = ['researcher', 'data-manager', 'data-provider', 'reviewer', 'ethics-reviewer', 'approver', 'security-admin', 'auditor'] as const;

/** OAuth2 scopes partners get through the client-credentials flow (resource server `mdrp`). */
export const PARTNER_SCOPES = ['catalog.read', 'access-requests.write', 'access-requests.read', 'grants.read', 'fhir.read', 'ingest.write'] as const;
export type PartnerScope = (typeof PARTNER_SCOPES)[number];

/** Identifier of the resource server: full scope names are `mdrp/<scope>`. */
export const RESOURCE_SERVER_ID = 'mdrp';

export interface IdentityProps {
  readonly stage: string;
  /** PLUS feature plan + threat protection (not emulated on LocalStack). */
  readonly advancedSecurity: boolean;
  /** Cognito hosted domain prefix (globally unique); defaults to a stack-derived one. */
  readonly domainPrefix?: string;
}

/**
 * People and machines (R-SEC-6, R-INT-4): one user pool, a group per role, a public portal
 * client (no secret), and an OAuth2 resource server with a client-credentials client for partners.
 */
export class Identity extends Construct {
  public readonly userPool: cognito.UserPool;
  public readonly portalClient: cognito.UserPoolClient;
  public readonly resourceServer: cognito.UserPoolResourceServer;
  /** The default partner client; onboarding creates one client per partner (partners module). */
  public readonly partnerClient: cognito.UserPoolClient;
  public readonly domain: cognito.UserPoolDomain;
  /** The client-credentials token endpoint on the user pool domain (given to partners at onboarding). */
  public readonly partnerTokenEndpoint: string;
  /** Full scope names (`mdrp/catalog.read`, …) keyed by short name. */
  public readonly scopes: Record<PartnerScope, cognito.OAuthScope>;

  constructor(scope: Construct, id: string, props: IdentityProps) {
    super(scope, id);

    this.userPool = new cognito.UserPool(this, 'UserPool', {
      userPoolName: `mdrp-${props.stage}`,
      // Accounts are created by administrators for named people (no shared accounts, R-SEC-6).
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      customAttributes: {
        // Set by administrators only (not in the portal client's write attributes).
        institution: new cognito.StringAttribute({ minLen: 1, maxLen: 64, mutable: true }),
      },
      featurePlan: props.advancedSecurity ? cognito.FeaturePlan.PLUS : cognito.FeaturePlan.ESSENTIALS,
      standardThreatProtectionMode: props.advancedSecurity ? cognito.StandardThreatProtectionMode.FULL_FUNCTION : undefined,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // MFA is optional at pool level because it is mandatory per role, not for everyone: the
    // platform refuses sensitive-role operations without an enrolled TOTP (R-SEC-6).
    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG2',
      reason: 'MFA is required per role (security-admin, approver, auditor, data-manager), enforced by the platform at decision time; a pool-wide REQUIRED setting would also force it on partner-facing test users. TOTP only, no SMS.',
    });

    for (const role of ROLE_GROUPS) {
      new cognito.CfnUserPoolGroup(this, `Group-${role}`, { userPoolId: this.userPool.userPoolId, groupName: role, description: `MDRP role ${role}` });
    }

    const institutionAttr = new cognito.ClientAttributes().withCustomAttributes('institution').withStandardAttributes({ email: true, fullname: true, emailVerified: true });
    this.portalClient = this.userPool.addClient('PortalClient', {
      userPoolClientName: `mdrp-${props.stage}-portal`,
      generateSecret: false,
      authFlows: { userPassword: true, userSrp: true },
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
      readAttributes: institutionAttr,
      writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ fullname: true }),
      // Direct sign-in (Amplify USER_SRP / USER_PASSWORD); no hosted UI, so no OAuth flows.
      disableOAuth: true,
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
    });

    const serverScopes = PARTNER_SCOPES.map((s) => new cognito.ResourceServerScope({ scopeName: s, scopeDescription: `MDRP partner scope ${s}` }));
    this.resourceServer = this.userPool.addResourceServer('ResourceServer', {
      identifier: RESOURCE_SERVER_ID,
      userPoolResourceServerName: `mdrp-${props.stage}-api`,
      scopes: serverScopes,
    });
    this.scopes = Object.fromEntries(
      PARTNER_SCOPES.map((s, i) => [s, cognito.OAuthScope.resourceServer(this.resourceServer, serverScopes[i]!)]),
    ) as Record<PartnerScope, cognito.OAuthScope>;

    this.partnerClient = this.userPool.addClient('PartnerClient', {
      userPoolClientName: `mdrp-${props.stage}-partner-default`,
      generateSecret: true,
      authFlows: {},
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      oAuth: { flows: { clientCredentials: true }, scopes: Object.values(this.scopes) },
      preventUserExistenceErrors: true,
    });

    // The token endpoint for the client-credentials flow lives on the user pool domain.
    // Domain prefixes are global across AWS accounts: suffix with a piece of the stack's UUID.
    const stackUuidPart = Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', Stack.of(this).stackId))));
    const prefix = props.domainPrefix ?? `mdrp-${props.stage}-${stackUuidPart}`;
    this.domain = this.userPool.addDomain('Domain', { cognitoDomain: { domainPrefix: prefix } });
    this.partnerTokenEndpoint = `${this.domain.baseUrl()}/oauth2/token`;
  }
}
