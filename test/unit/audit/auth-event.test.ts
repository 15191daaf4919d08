import { describe, expect, it } from 'vitest';
import { authAuditEvent, cloudTrailAuthObservation, hashedUsername, jwtSubject } from '../../../functions/core/audit/auth-event';
import { observeCognitoCall } from '../../../infra/local/emulators/cognito-auth-audit';

const jwt = (claims: object) => `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;
const ids = { eventId: 'evt_1', time: '2026-11-24T08:00:00.000Z', correlationId: 'evt_1' };

describe('sign-in events from Cognito calls (R-AUD-1)', () => {
  it('R-AUD-1: a failed password sign-in is a failure under the hashed user name, with source and flow, and no password', () => {
    // Act
    const obs = observeCognitoCall(
      {
        target: 'AWSCognitoIdentityProviderService.InitiateAuth',
        requestBody: Buffer.from(JSON.stringify({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'c', AuthParameters: { USERNAME: 'Researcher', PASSWORD: 'Secret-123!' } })),
        status: 400,
        responseBody: Buffer.from(JSON.stringify({ __type: 'NotAuthorizedException', message: 'Incorrect username or password.' })),
        sourceIp: '10.1.2.3',
        userAgent: 'ua',
      },
      ids,
    )!;
    const e = authAuditEvent(obs);
    // Assess
    expect(e).toMatchObject({ category: 'auth', operation: 'auth.signIn', actor: { kind: 'user', id: hashedUsername('researcher') }, source: { ip: '10.1.2.3', userAgent: 'ua' }, parameters: { flow: 'USER_PASSWORD_AUTH', cognitoCall: 'InitiateAuth' }, result: { outcome: 'failure', status: 400, errorCode: 'NotAuthorizedException' } });
    expect(JSON.stringify(e)).not.toMatch(/Secret-123|Researcher/);
    expect(hashedUsername(' RESEARCHER ')).toBe(hashedUsername('researcher'));
  });

  it('R-AUD-1: a successful sign-in is recorded under the issued token\'s sub, never with the tokens; a refresh is a token refresh; sign-out reads the presented token', () => {
    // Prepare
    const id = jwt({ sub: 'sub-123', email: 'x@example.org' });
    const res = Buffer.from(JSON.stringify({ AuthenticationResult: { IdToken: id, AccessToken: jwt({ sub: 'sub-123' }), RefreshToken: 'opaque-refresh' } }));
    // Act
    const ok = authAuditEvent(observeCognitoCall({ target: 'x.InitiateAuth', requestBody: Buffer.from(JSON.stringify({ AuthFlow: 'USER_SRP_AUTH', AuthParameters: { USERNAME: 'researcher', SRP_A: 'abc' } })), status: 200, responseBody: res }, ids)!);
    const refresh = authAuditEvent(observeCognitoCall({ target: 'x.InitiateAuth', requestBody: Buffer.from(JSON.stringify({ AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: 'opaque-refresh' } })), status: 200, responseBody: res }, ids)!);
    const out = authAuditEvent(observeCognitoCall({ target: 'x.GlobalSignOut', requestBody: Buffer.from(JSON.stringify({ AccessToken: jwt({ sub: 'sub-123' }) })), status: 200, responseBody: Buffer.from('{}') }, ids)!);
    const mfa = authAuditEvent(observeCognitoCall({ target: 'x.RespondToAuthChallenge', requestBody: Buffer.from(JSON.stringify({ ChallengeName: 'SOFTWARE_TOKEN_MFA', ChallengeResponses: { USERNAME: 'researcher', SOFTWARE_TOKEN_MFA_CODE: '123456' } })), status: 400, responseBody: Buffer.from(JSON.stringify({ __type: 'CodeMismatchException' })) }, ids)!);
    // Assess
    expect(ok).toMatchObject({ operation: 'auth.signIn', actor: { id: 'sub-123' }, resources: [{ type: 'User', id: 'sub-123' }], parameters: { subVerified: true, usernameHash: hashedUsername('researcher') }, result: { outcome: 'success' } });
    expect(refresh.operation).toBe('auth.tokenRefresh');
    expect(out).toMatchObject({ operation: 'auth.signOut', actor: { id: 'sub-123' }, result: { outcome: 'success' } });
    expect(mfa).toMatchObject({ operation: 'auth.signInChallenge', actor: { id: hashedUsername('researcher') }, parameters: { flow: 'SOFTWARE_TOKEN_MFA' }, result: { outcome: 'failure', errorCode: 'CodeMismatchException' } });
    for (const e of [ok, refresh, out, mfa]) expect(JSON.stringify(e)).not.toMatch(/opaque-refresh|eyJ|123456|abc/);
    expect(observeCognitoCall({ target: 'x.ListUsers', requestBody: Buffer.from('{}'), status: 200, responseBody: Buffer.from('{}') }, ids)).toBeUndefined();
    expect(jwtSubject('not-a-jwt')).toBeUndefined();
  });

  it('R-AUD-1: CloudTrail records of user-pool calls map to the same events (AWS path)', () => {
    // Act
    const failed = cloudTrailAuthObservation({ eventID: 'a1b2-c3', eventTime: '2026-11-24T08:00:00Z', eventSource: 'cognito-idp.amazonaws.com', eventName: 'InitiateAuth', sourceIPAddress: '203.0.113.9', userAgent: 'Mozilla', errorCode: 'NotAuthorizedException', requestParameters: { authFlow: 'USER_SRP_AUTH' } });
    const changed = cloudTrailAuthObservation({ eventID: 'd4', eventTime: '2026-11-24T08:01:00Z', eventSource: 'cognito-idp.amazonaws.com', eventName: 'ChangePassword', sourceIPAddress: '203.0.113.9', additionalEventData: { sub: 'sub-9' } });
    // Assess
    expect(authAuditEvent(failed!)).toMatchObject({ eventId: 'evt_ct_a1b2-c3', operation: 'auth.signIn', actor: { kind: 'anonymous', id: 'anonymous' }, source: { ip: '203.0.113.9' }, parameters: { observedBy: 'cloudtrail', flow: 'USER_SRP_AUTH' }, result: { outcome: 'failure', errorCode: 'NotAuthorizedException' } });
    expect(authAuditEvent(changed!)).toMatchObject({ operation: 'auth.changePassword', actor: { id: 'sub-9' }, result: { outcome: 'success', status: 200 } });
    expect(cloudTrailAuthObservation({ eventID: 'x', eventTime: '2026-11-24T08:00:00Z', eventSource: 'cognito-idp.amazonaws.com', eventName: 'ListUsers' })).toBeUndefined();
    expect(cloudTrailAuthObservation({ eventID: 'x', eventTime: '2026-11-24T08:00:00Z', eventSource: 's3.amazonaws.com', eventName: 'InitiateAuth' })).toBeUndefined();
  });
});

describe('local Cognito proxy: sign-out attribution', () => {
  it('R-AUD-1: a token revocation is attributed to the user the refresh token was issued to (only its hash is kept)', async () => {
    // Prepare
    const { RefreshTokenOwners } = await import('../../../infra/local/emulators/cognito-auth-audit');
    const owners = new RefreshTokenOwners(2);
    const signIn = { target: 'x.InitiateAuth', requestBody: Buffer.from(JSON.stringify({ AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'u' } })), status: 200, responseBody: Buffer.from(JSON.stringify({ AuthenticationResult: { IdToken: jwt({ sub: 'sub-7' }), RefreshToken: 'rt-1' } })) };
    // Act
    observeCognitoCall(signIn, ids, owners);
    const revoke = authAuditEvent(observeCognitoCall({ target: 'x.RevokeToken', requestBody: Buffer.from(JSON.stringify({ Token: 'rt-1', ClientId: 'c' })), status: 200, responseBody: Buffer.from('{}') }, ids, owners)!);
    const unknown = authAuditEvent(observeCognitoCall({ target: 'x.RevokeToken', requestBody: Buffer.from(JSON.stringify({ Token: 'rt-x', ClientId: 'c' })), status: 400, responseBody: Buffer.from('{"__type":"NotAuthorizedException"}') }, ids, owners)!);
    // Assess
    expect(revoke).toMatchObject({ operation: 'auth.signOut', actor: { id: 'sub-7' }, result: { outcome: 'success' } });
    expect(unknown).toMatchObject({ operation: 'auth.signOut', actor: { kind: 'anonymous', id: 'anonymous' }, result: { outcome: 'failure' } });
    expect(JSON.stringify(owners)).not.toContain('rt-1');
  });
});
