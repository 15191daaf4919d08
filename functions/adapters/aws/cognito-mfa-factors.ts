import { AdminGetUserCommand, type CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import type { MfaFactors } from '../../core/ports/mfa-factors';

/** {@link MfaFactors} from Cognito's `AdminGetUser` (`UserMFASettingList`: factors that are enabled). */
export class CognitoMfaFactors implements MfaFactors {
  constructor(private readonly cognito: CognitoIdentityProviderClient) {}

  async activeFactors(userPoolId: string, username: string): Promise<string[]> {
    const out = await this.cognito.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: username }));
    return out.UserMFASettingList ?? [];
  }
}
