import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  AssociateSoftwareTokenCommand,
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
  SetUserMFAPreferenceCommand,
  VerifySoftwareTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { generateSync } from 'otplib';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { apiAs } from '../support/api-client';

const platform = inject('platform');

function claimsOf(idToken: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(idToken.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/**
 * The local user pool runs the deployed pre-token-generation trigger (R-SEC-6): a session is
 * MFA-verified exactly when the account has an active TOTP factor that Cognito challenged.
 * A user of its own, so that enrolling TOTP does not change the shared demo accounts.
 */
describe('R-SEC-6: TOTP sign-in on the local user pool sets the MFA claim through the same trigger as AWS', () => {
  const cognito = new CognitoIdentityProviderClient({ region: 'us-east-1', endpoint: platform.cognito.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const username = `mfa-probe-${randomUUID().slice(0, 8)}`;
  const password = `Probe-${randomUUID()}!aA1`;
  const passwordSignIn = () =>
    cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: platform.cognito.userPoolClientId, AuthParameters: { USERNAME: username, PASSWORD: password } }));
  const refresh = async (refreshToken: string) =>
    (await cognito.send(new InitiateAuthCommand({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: platform.cognito.userPoolClientId, AuthParameters: { REFRESH_TOKEN: refreshToken } })))
      .AuthenticationResult!.IdToken!;
  const me = async (idToken: string) => {
    const res = await apiAs(platform, idToken).get('/v1/me');
    expect(res.status, res.text).toBe(200);
    return res.json as { mfaEnabled: boolean; roles: string[] };
  };
  let secret = '';
  let accessToken = '';
  let refreshToken = '';

  beforeAll(async () => {
    await cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: platform.cognito.userPoolId,
        Username: username,
        MessageAction: 'SUPPRESS',
        UserAttributes: [
          { Name: 'name', Value: 'MFA probe' },
          { Name: 'custom:institution', Value: 'demo-hospital-1' },
        ],
      }),
    );
    await cognito.send(new AdminSetUserPasswordCommand({ UserPoolId: platform.cognito.userPoolId, Username: username, Password: password, Permanent: true }));
    await cognito.send(new AdminAddUserToGroupCommand({ UserPoolId: platform.cognito.userPoolId, Username: username, GroupName: 'security-admin' }));
  });

  it('a password-only session carries mdrp:mfa "false" and the API sees no MFA', async () => {
    const out = await passwordSignIn();
    expect(out.ChallengeName).toBeUndefined();
    const idToken = out.AuthenticationResult!.IdToken!;
    expect(claimsOf(idToken)['mdrp:mfa']).toBe('false');
    expect(await me(idToken)).toMatchObject({ mfaEnabled: false, roles: ['security-admin'] });
    accessToken = out.AuthenticationResult!.AccessToken!;
    refreshToken = out.AuthenticationResult!.RefreshToken!;
  });

  it('enrolling an authenticator (associate, verify with a code, enable) makes the refreshed session MFA-verified', async () => {
    secret = (await cognito.send(new AssociateSoftwareTokenCommand({ AccessToken: accessToken }))).SecretCode!;
    expect(secret).toMatch(/^[A-Z2-7]+=*$/);
    await expect(cognito.send(new VerifySoftwareTokenCommand({ AccessToken: accessToken, UserCode: '000000' }))).rejects.toMatchObject({ name: 'CodeMismatchException' });
    const verified = await cognito.send(new VerifySoftwareTokenCommand({ AccessToken: accessToken, UserCode: generateSync({ secret }), FriendlyDeviceName: 'probe phone' }));
    expect(verified.Status).toBe('SUCCESS');
    await cognito.send(new SetUserMFAPreferenceCommand({ AccessToken: accessToken, SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true } }));
    const idToken = await refresh(refreshToken);
    expect(claimsOf(idToken)['mdrp:mfa']).toBe('true');
    expect((await me(idToken)).mfaEnabled).toBe(true);
  });

  it('the next password sign-in is challenged for the TOTP code; a wrong code gets no tokens, the right one an MFA session', async () => {
    const first = await passwordSignIn();
    expect(first.ChallengeName).toBe('SOFTWARE_TOKEN_MFA');
    expect(first.AuthenticationResult).toBeUndefined();
    const answer = (session: string, code: string) =>
      cognito.send(
        new RespondToAuthChallengeCommand({ ClientId: platform.cognito.userPoolClientId, ChallengeName: 'SOFTWARE_TOKEN_MFA', Session: session, ChallengeResponses: { USERNAME: username, SOFTWARE_TOKEN_MFA_CODE: code } }),
      );
    await expect(answer(first.Session!, '000000')).rejects.toMatchObject({ name: 'CodeMismatchException' });
    const second = await passwordSignIn();
    const done = await answer(second.Session!, generateSync({ secret }));
    const idToken = done.AuthenticationResult!.IdToken!;
    expect(claimsOf(idToken)['mdrp:mfa']).toBe('true');
    expect((await me(idToken)).mfaEnabled).toBe(true);
    accessToken = done.AuthenticationResult!.AccessToken!;
    // Not `done`'s refresh token: cognito-local 5.3 does not register refresh tokens issued by
    // RespondToAuthChallenge (docs/governance.md, local gaps), so the refresh below uses the
    // password session's, which exercises the same trigger path (TokenGeneration_RefreshTokens).
  });

  it('turning the factor off drops the claim at the next refresh (no stale MFA session)', async () => {
    await cognito.send(new SetUserMFAPreferenceCommand({ AccessToken: accessToken, SoftwareTokenMfaSettings: { Enabled: false, PreferredMfa: false } }));
    const idToken = await refresh(refreshToken);
    expect(claimsOf(idToken)['mdrp:mfa']).toBe('false');
    expect((await me(idToken)).mfaEnabled).toBe(false);
    expect((await passwordSignIn()).ChallengeName).toBeUndefined();
  });
});
