/**
 * Which second factors a user has active (Cognito `AdminGetUser` → `UserMFASettingList`).
 *
 * @example
 * const factors = await mfaFactors.activeFactors('eu-west-1_AbC', 'sam'); // ['SOFTWARE_TOKEN_MFA']
 */
export interface MfaFactors {
  /** Active factor names, e.g. `SOFTWARE_TOKEN_MFA`; empty when none; throws when the lookup fails. */
  activeFactors(userPoolId: string, username: string): Promise<string[]>;
}
