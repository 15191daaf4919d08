import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRE_TOKEN_GENERATION_FUNCTION, startCognitoTriggerEndpoint } from '../../../infra/local/emulators/cognito-triggers';
import { makePreTokenGenerationHandler } from '../../../functions/handlers/pre-token-generation.handler';

/** The event cognito-local 5.3 posts for a token (V1 shape), as its Lambda client sends it. */
const v1Event = (triggerSource: string, userName: string) => ({
  version: '0',
  region: 'local',
  userPoolId: 'local_pool',
  triggerSource,
  userName,
  callerContext: { awsSdkVersion: '2', clientId: 'portal' },
  request: { userAttributes: { sub: `sub-${userName}` }, groupConfiguration: {}, clientMetadata: {} },
  response: { claimsOverrideDetails: {} },
});

describe('R-SEC-6: the local Lambda Invoke endpoint runs the deployed pre-token-generation handler for cognito-local', () => {
  const factors: Record<string, string[]> = { 'with-totp': ['SOFTWARE_TOKEN_MFA'], 'password-only': [] };
  let endpoint: { url: string; close(): Promise<void> };
  let failLookups = false;
  beforeAll(async () => {
    const handler = makePreTokenGenerationHandler({
      factors: {
        activeFactors: async (_pool, user) => {
          if (failLookups) throw new Error('cognito unavailable');
          return factors[user] ?? [];
        },
      },
    });
    endpoint = await startCognitoTriggerEndpoint({ preTokenGeneration: () => handler });
  });
  afterAll(() => endpoint.close());
  const invoke = (name: string, body: unknown) => fetch(`${endpoint.url}/2015-03-31/functions/${name}/invocations`, { method: 'POST', body: JSON.stringify(body) });

  it('answers in the V1 shape cognito-local applies to the ID token: mdrp:mfa "true" only after a TOTP-enforced sign-in', async () => {
    const cases: Array<[string, string, string]> = [
      ['TokenGeneration_Authentication', 'with-totp', 'true'],
      ['TokenGeneration_RefreshTokens', 'with-totp', 'true'],
      ['TokenGeneration_Authentication', 'password-only', 'false'],
      ['TokenGeneration_NewPasswordChallenge', 'with-totp', 'false'],
    ];
    for (const [source, user, expected] of cases) {
      const res = await invoke(PRE_TOKEN_GENERATION_FUNCTION, v1Event(source, user));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-amz-function-error')).toBeNull();
      const out = (await res.json()) as { response: { claimsOverrideDetails: { claimsToAddOrOverride: Record<string, string> } }; userName: string };
      expect(out.userName).toBe(user);
      expect(out.response.claimsOverrideDetails.claimsToAddOrOverride, `${source} ${user}`).toEqual({ 'mdrp:mfa': expected });
    }
  });

  it('a failed factor lookup still yields a token without MFA (fail closed, sign-in not blocked)', async () => {
    failLookups = true;
    try {
      const out = (await (await invoke(PRE_TOKEN_GENERATION_FUNCTION, v1Event('TokenGeneration_Authentication', 'with-totp'))).json()) as { response: { claimsOverrideDetails: { claimsToAddOrOverride: Record<string, string> } } };
      expect(out.response.claimsOverrideDetails.claimsToAddOrOverride['mdrp:mfa']).toBe('false');
    } finally {
      failLookups = false;
    }
  });

  it('only the configured function answers; a malformed payload is a 400', async () => {
    expect((await invoke('some-other-function', v1Event('TokenGeneration_Authentication', 'with-totp'))).status).toBe(404);
    const bad = await fetch(`${endpoint.url}/2015-03-31/functions/${PRE_TOKEN_GENERATION_FUNCTION}/invocations`, { method: 'POST', body: '{not json' });
    expect(bad.status).toBe(400);
  });
});
