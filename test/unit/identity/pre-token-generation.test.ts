import type { PreTokenGenerationV2TriggerEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { decideMfaClaim, mfaFromClaims } from '../../../functions/core/identity/mfa-claim';
import type { MfaFactors } from '../../../functions/core/ports/mfa-factors';
import { makePreTokenGenerationHandler } from '../../../functions/handlers/pre-token-generation.handler';
import { actorFromEvent } from '../../../functions/http/actor-from-event';

function triggerEvent(triggerSource: string, existing: PreTokenGenerationV2TriggerEvent['response']['claimsAndScopeOverrideDetails'] = {}): PreTokenGenerationV2TriggerEvent {
  return {
    version: '2',
    region: 'eu-west-1',
    userPoolId: 'eu-west-1_Pool',
    userName: 'sam',
    callerContext: { awsSdkVersion: 'x', clientId: 'portal' },
    triggerSource,
    request: { userAttributes: { sub: 'sub-sam', name: 'Sam Admin' }, groupConfiguration: { groupsToOverride: ['security-admin'] } },
    response: { claimsAndScopeOverrideDetails: existing },
  } as PreTokenGenerationV2TriggerEvent;
}

class FakeFactors implements MfaFactors {
  calls: string[] = [];
  constructor(private readonly result: string[] | Error) {}
  async activeFactors(pool: string, user: string): Promise<string[]> {
    this.calls.push(`${pool}/${user}`);
    if (this.result instanceof Error) throw this.result;
    return this.result;
  }
}

const claimOf = (e: PreTokenGenerationV2TriggerEvent) => e.response.claimsAndScopeOverrideDetails.idTokenGeneration?.claimsToAddOrOverride?.['mdrp:mfa'];

describe('R-SEC-6 MFA claim (pre-token-generation trigger)', () => {
  it('R-SEC-6: a sign-in or refresh of a user with active TOTP yields mdrp:mfa "true"', async () => {
    // Prepare
    const factors = new FakeFactors(['SOFTWARE_TOKEN_MFA']);
    const handler = makePreTokenGenerationHandler({ factors });
    // Act
    const signIn = await handler(triggerEvent('TokenGeneration_Authentication'));
    const refresh = await handler(triggerEvent('TokenGeneration_RefreshTokens'));
    // Assess
    expect(claimOf(signIn)).toBe('true');
    expect(claimOf(refresh)).toBe('true');
    expect(factors.calls).toEqual(['eu-west-1_Pool/sam', 'eu-west-1_Pool/sam']);
  });

  it('R-SEC-6: no TOTP, or a source after which MFA is not guaranteed, yields "false"', async () => {
    const withTotp = makePreTokenGenerationHandler({ factors: new FakeFactors(['SOFTWARE_TOKEN_MFA']) });
    const withoutTotp = makePreTokenGenerationHandler({ factors: new FakeFactors([]) });
    expect(claimOf(await withoutTotp(triggerEvent('TokenGeneration_Authentication')))).toBe('false');
    // A remembered device may skip MFA; a completed new-password challenge is no MFA proof.
    expect(claimOf(await withTotp(triggerEvent('TokenGeneration_AuthenticateDevice')))).toBe('false');
    expect(claimOf(await withTotp(triggerEvent('TokenGeneration_NewPasswordChallenge')))).toBe('false');
    expect(claimOf(await withTotp(triggerEvent('TokenGeneration_SomethingNew')))).toBe('false');
    // SMS is not offered by the pool and never counts.
    expect(claimOf(await makePreTokenGenerationHandler({ factors: new FakeFactors(['SMS_MFA']) })(triggerEvent('TokenGeneration_Authentication')))).toBe('false');
  });

  it('R-SEC-6: a failed factor lookup does not block sign-in but fails closed ("false") and logs no name', async () => {
    // Prepare
    const logs: Record<string, string | boolean>[] = [];
    const handler = makePreTokenGenerationHandler({ factors: new FakeFactors(new Error('ThrottlingException')), log: (f) => logs.push(f) });
    // Act
    const out = await handler(triggerEvent('TokenGeneration_Authentication'));
    // Assess
    expect(claimOf(out)).toBe('false');
    expect(logs).toEqual([{ sub: 'sub-sam', triggerSource: 'TokenGeneration_Authentication', mfa: false, reason: 'lookup-failed' }]);
    expect(JSON.stringify(logs)).not.toContain('Sam Admin');
  });

  it('R-SEC-6: the trigger overrides a forged mdrp:mfa and keeps other overrides', async () => {
    const handler = makePreTokenGenerationHandler({ factors: new FakeFactors([]) });
    const out = await handler(triggerEvent('TokenGeneration_RefreshTokens', { idTokenGeneration: { claimsToAddOrOverride: { 'mdrp:mfa': 'true', other: 'x' }, claimsToSuppress: ['email'] } }));
    expect(out.response.claimsAndScopeOverrideDetails.idTokenGeneration).toEqual({ claimsToAddOrOverride: { 'mdrp:mfa': 'false', other: 'x' }, claimsToSuppress: ['email'] });
  });

  it('R-SEC-6: the claim the trigger writes is the one the actor builder reads', async () => {
    // Prepare: the token claims API Gateway's Cognito authorizer would pass on.
    const out = await makePreTokenGenerationHandler({ factors: new FakeFactors(['SOFTWARE_TOKEN_MFA']) })(triggerEvent('TokenGeneration_Authentication'));
    const claims = { sub: 'sub-sam', 'cognito:username': 'sam', 'cognito:groups': 'security-admin', token_use: 'id', ...out.response.claimsAndScopeOverrideDetails.idTokenGeneration!.claimsToAddOrOverride };
    // Act
    const actor = actorFromEvent({ requestContext: { authorizer: { claims } } } as never);
    // Assess
    expect(actor.mfa).toBe(true);
    expect(mfaFromClaims({ 'mdrp:mfa': 'TRUE' })).toBe(false);
    expect(decideMfaClaim({ triggerSource: 'TokenGeneration_HostedAuth', activeFactors: ['SOFTWARE_TOKEN_MFA'] })).toEqual({ mfa: true, reason: 'totp-challenged' });
  });
});
