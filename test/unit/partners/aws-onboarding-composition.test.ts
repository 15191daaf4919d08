import { CognitoIdentityProviderClient, CreateUserPoolClientCommand } from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryDocumentStore } from '../../../functions/adapters/memory/memory-document-store';
import { configFromEnv, ENV } from '../../../functions/composition/config';
import { buildContainer } from '../../../functions/composition/container';
import type { Actor } from '../../../functions/core/identity/actor';
import { RecordingScheduler } from '../../support/test-container';

/** The Lambda environment as CDK sets it (infra/constructs/compute.ts), with placeholder values. */
const env: Record<string, string> = {
  AWS_REGION: 'ap-southeast-1',
  ...Object.fromEntries(Object.values(ENV).map((name) => [name, `test-${name.toLowerCase()}`])),
  [ENV.userPoolId]: 'ap-southeast-1_abcdefghi',
  [ENV.partnerTokenEndpoint]: 'https://mdrp-prod-1a2b3c4d.auth.ap-southeast-1.amazoncognito.com/oauth2/token',
};
const admin: Actor = { kind: 'user', id: 'sam', roles: ['security-admin'], institution: 'demo-hospital-1', mfa: true, scopes: [] };

describe('AWS composition: partner onboarding (R-SEC-6, R-INT-1)', () => {
  const cognito = mockClient(CognitoIdentityProviderClient);
  afterEach(() => cognito.reset());

  it('R-SEC-6: the Lambda configuration needs the token endpoint (stack output PartnerTokenEndpoint)', () => {
    expect(configFromEnv(env).identity.partnerTokenEndpoint).toBe(env[ENV.partnerTokenEndpoint]);
    const { [ENV.partnerTokenEndpoint]: _, ...without } = env;
    expect(() => configFromEnv(without)).toThrow(ENV.partnerTokenEndpoint);
  });

  it('R-SEC-6: the onboarding response names the Cognito token endpoint next to the client created there', async () => {
    // Prepare
    cognito.on(CreateUserPoolClientCommand).resolves({ UserPoolClient: { ClientId: 'client-1', ClientSecret: 's'.repeat(48) } });
    const container = buildContainer(configFromEnv(env), {
      documents: new MemoryDocumentStore(),
      scheduler: new RecordingScheduler(),
      apiKeys: { issue: async (_p: string, plan: string) => ({ keyId: 'key-1', value: 'k'.repeat(40), plan }), revoke: async () => undefined },
    });
    // Act
    const out = await container.partners.onboard(admin, { name: 'EMR bridge', institution: 'demo-hospital-2', contactEmail: 'it@demo-hospital-2.example', allowedCidrs: ['203.0.113.0/24'], scopes: ['fhir.read'] });
    // Assess
    expect(out.oauthClient).toEqual({ clientId: 'client-1', clientSecret: 's'.repeat(48), tokenEndpoint: env[ENV.partnerTokenEndpoint] });
    const call = cognito.commandCalls(CreateUserPoolClientCommand)[0]!.args[0].input;
    expect(call).toMatchObject({ UserPoolId: env[ENV.userPoolId], AllowedOAuthFlows: ['client_credentials'], AllowedOAuthScopes: ['mdrp/fhir.read'] });
  });
});
