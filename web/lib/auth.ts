import { Amplify } from 'aws-amplify';
import {
  confirmSignIn,
  fetchAuthSession,
  fetchMFAPreference,
  getCurrentUser,
  setUpTOTP,
  signIn,
  signOut,
  updateMFAPreference,
  verifyTOTPSetup,
  type SignInOutput,
} from 'aws-amplify/auth';
import type { RuntimeConfig } from './runtime-config';

/**
 * Thin wrapper over Amplify v6 Auth, configured at run time from `/mdrp-config.json`.
 * Kept in one module so the rest of the portal never touches Amplify directly.
 */

/** Configures Amplify for the given user pool. Safe to call more than once. */
export function configureAuth(config: RuntimeConfig): void {
  Amplify.configure({
    Auth: {
      Cognito: {
        userPoolId: config.userPoolId,
        userPoolClientId: config.userPoolClientId,
        // Only set for cognito-local; in AWS Amplify derives the regional endpoint from the pool id.
        ...(config.userPoolEndpoint ? { userPoolEndpoint: config.userPoolEndpoint } : {}),
      },
    },
  });
}

/** The step the sign-in form must show next. */
export type SignInStep =
  | { kind: 'done' }
  | { kind: 'newPassword' }
  | { kind: 'totp' }
  | { kind: 'unsupported'; step: string };

function toStep(output: SignInOutput): SignInStep {
  switch (output.nextStep.signInStep) {
    case 'DONE':
      return { kind: 'done' };
    case 'CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED':
      return { kind: 'newPassword' };
    case 'CONFIRM_SIGN_IN_WITH_TOTP_CODE':
      return { kind: 'totp' };
    default:
      return { kind: 'unsupported', step: output.nextStep.signInStep };
  }
}

/**
 * Starts a sign-in with USER_PASSWORD_AUTH: cognito-local has no SRP (Amplify's default), and
 * the AWS app client allows the same flow so one code path serves both environments.
 */
export async function startSignIn(username: string, password: string): Promise<SignInStep> {
  return toStep(await signIn({ username, password, options: { authFlowType: 'USER_PASSWORD_AUTH' } }));
}

/** Answers the current challenge (new password or TOTP code). */
export async function answerChallenge(response: string): Promise<SignInStep> {
  return toStep(await confirmSignIn({ challengeResponse: response }));
}

/** Whether the signed-in account has an authenticator app (TOTP) enabled as its second factor. */
export async function totpEnabled(): Promise<boolean> {
  const pref = await fetchMFAPreference();
  return pref.enabled?.includes('TOTP') ?? false;
}

/** A new authenticator secret for the signed-in account and its `otpauth://` URI (for the QR code). */
export async function startTotpSetup(issuer: string, accountName: string): Promise<{ secret: string; uri: string }> {
  const details = await setUpTOTP();
  return { secret: details.sharedSecret, uri: details.getSetupUri(issuer, accountName).toString() };
}

/**
 * Proves the authenticator with one of its codes, makes TOTP the account's second factor (every
 * later sign-in asks for a code) and refreshes the session, so the new ID token carries the MFA
 * claim the pre-token-generation trigger writes (R-SEC-6).
 */
export async function finishTotpSetup(code: string, deviceName: string): Promise<void> {
  await verifyTOTPSetup({ code, options: { friendlyDeviceName: deviceName } });
  await updateMFAPreference({ totp: 'PREFERRED' });
  await fetchAuthSession({ forceRefresh: true });
}

/** Signs out locally and revokes the refresh token where the pool supports it. */
export async function endSession(): Promise<void> {
  await signOut();
}

/** Whether a user is signed in (tokens present in storage). */
export async function hasSession(): Promise<boolean> {
  try {
    await getCurrentUser();
    return true;
  } catch {
    return false;
  }
}

/** Current ID token and its expiry, refreshing when Amplify decides it must. */
export async function currentIdToken(): Promise<{ token: string; expiresAt: Date | undefined } | undefined> {
  const session = await fetchAuthSession();
  const idToken = session.tokens?.idToken;
  if (!idToken) return undefined;
  const exp = idToken.payload.exp;
  return { token: idToken.toString(), expiresAt: typeof exp === 'number' ? new Date(exp * 1000) : undefined };
}

/** Extracts a user-presentable name/code from an Amplify error. */
export function describeAuthError(err: unknown): { code: string; message: string } {
  if (err instanceof Error) return { code: err.name || 'AUTH_ERROR', message: err.message };
  return { code: 'AUTH_ERROR', message: String(err) };
}
