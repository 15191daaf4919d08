import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { Logger } from '@aws-lambda-powertools/logger';
import type { PreTokenGenerationV2TriggerEvent } from 'aws-lambda';
import { CognitoMfaFactors } from '../adapters/aws/cognito-mfa-factors';
import { decideMfaClaim, MFA_CLAIM } from '../core/identity/mfa-claim';
import type { MfaFactors } from '../core/ports/mfa-factors';

export interface PreTokenGenerationDeps {
  factors: MfaFactors;
  /** Structured log of the decision (user sub and reason only: no names, no PHI). */
  log?: (fields: Record<string, string | boolean>) => void;
}

/**
 * Cognito pre-token-generation trigger (event version V2_0, R-SEC-6): writes `mdrp:mfa` into every
 * ID token, `"true"` only when {@link decideMfaClaim} says the session passed TOTP. A failed lookup
 * never blocks sign-in; it yields `"false"` (sensitive operations are then refused with MFA_REQUIRED).
 */
export function makePreTokenGenerationHandler(deps: PreTokenGenerationDeps) {
  return async (event: PreTokenGenerationV2TriggerEvent): Promise<PreTokenGenerationV2TriggerEvent> => {
    let activeFactors: string[] | undefined;
    try {
      activeFactors = await deps.factors.activeFactors(event.userPoolId, event.userName);
    } catch {
      activeFactors = undefined;
    }
    const decision = decideMfaClaim({ triggerSource: event.triggerSource, activeFactors });
    deps.log?.({ sub: event.request.userAttributes.sub ?? '', triggerSource: event.triggerSource, mfa: decision.mfa, reason: decision.reason });
    const details = event.response.claimsAndScopeOverrideDetails ?? {};
    event.response.claimsAndScopeOverrideDetails = {
      ...details,
      idTokenGeneration: { ...details.idTokenGeneration, claimsToAddOrOverride: { ...details.idTokenGeneration?.claimsToAddOrOverride, [MFA_CLAIM]: String(decision.mfa) } },
    };
    return event;
  };
}

let logger: Logger | undefined;
let factors: MfaFactors | undefined;

/** Lambda entry point: only `cognito-idp:AdminGetUser` on its own user pool (infra/constructs/mfa-claim-trigger.ts). */
export const handler = makePreTokenGenerationHandler({
  factors: {
    activeFactors: (pool, user) => (factors ??= new CognitoMfaFactors(new CognitoIdentityProviderClient({}))).activeFactors(pool, user),
  },
  log: (fields) => (logger ??= new Logger({ serviceName: 'mdrp-pre-token-generation' })).info('mfa claim', fields),
});
