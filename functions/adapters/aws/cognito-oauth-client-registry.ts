import { CreateUserPoolClientCommand, DeleteUserPoolClientCommand, ResourceNotFoundException, type CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import type { OAuthClientCredentials, OAuthClientRegistry } from '../../core/ports/oauth-client-registry';

export interface CognitoOAuthClientRegistryOptions {
  userPoolId: string;
  /** Resource server identifier (CDK `RESOURCE_SERVER_ID`): scopes become `<id>/<scope>`. */
  resourceServerId: string;
  /** `https://<domain>.auth.<region>.amazoncognito.com/oauth2/token`, when known. */
  tokenEndpoint?: string;
  /** Access-token lifetime in minutes (Cognito: 5–1440). */
  accessTokenMinutes?: number;
}

/**
 * One Cognito app client per partner: confidential (generated secret), only the
 * client-credentials flow, only the partner's scopes on the platform's resource server.
 */
export class CognitoOAuthClientRegistry implements OAuthClientRegistry {
  readonly tokenEndpoint?: string;

  constructor(
    private readonly cognito: CognitoIdentityProviderClient,
    private readonly opts: CognitoOAuthClientRegistryOptions,
  ) {
    this.tokenEndpoint = opts.tokenEndpoint;
  }

  async createClient(partnerId: string, scopes: readonly string[]): Promise<OAuthClientCredentials> {
    const out = await this.cognito.send(
      new CreateUserPoolClientCommand({
        UserPoolId: this.opts.userPoolId,
        ClientName: `partner-${partnerId}`,
        GenerateSecret: true,
        AllowedOAuthFlows: ['client_credentials'],
        AllowedOAuthFlowsUserPoolClient: true,
        AllowedOAuthScopes: scopes.map((s) => `${this.opts.resourceServerId}/${s}`),
        ExplicitAuthFlows: [],
        EnableTokenRevocation: true,
        PreventUserExistenceErrors: 'ENABLED',
        AccessTokenValidity: this.opts.accessTokenMinutes ?? 60,
        TokenValidityUnits: { AccessToken: 'minutes' },
      }),
    );
    const c = out.UserPoolClient;
    if (!c?.ClientId || !c.ClientSecret) throw new Error('Cognito returned no client id or secret');
    return { clientId: c.ClientId, clientSecret: c.ClientSecret };
  }

  async deleteClient(clientId: string): Promise<void> {
    try {
      await this.cognito.send(new DeleteUserPoolClientCommand({ UserPoolId: this.opts.userPoolId, ClientId: clientId }));
    } catch (e) {
      if (!(e instanceof ResourceNotFoundException)) throw e;
    }
  }
}
