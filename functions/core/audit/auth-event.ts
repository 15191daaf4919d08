import { createHash } from 'node:crypto';
import type { AuditEvent } from './audit-event';

/**
 * Cognito user-pool API calls that are sign-in, sign-out, password or MFA events (R-AUD-1).
 * The same names arrive from the local proxy in front of cognito-local (`X-Amz-Target`) and, in
 * AWS, from CloudTrail (`eventName` of `aws.cognito-idp` management events).
 */
export const COGNITO_AUTH_OPERATIONS = {
  InitiateAuth: 'auth.signIn',
  AdminInitiateAuth: 'auth.signIn',
  RespondToAuthChallenge: 'auth.signInChallenge',
  AdminRespondToAuthChallenge: 'auth.signInChallenge',
  GlobalSignOut: 'auth.signOut',
  AdminUserGlobalSignOut: 'auth.signOut',
  RevokeToken: 'auth.signOut',
  ChangePassword: 'auth.changePassword',
  ForgotPassword: 'auth.forgotPassword',
  ConfirmForgotPassword: 'auth.resetPassword',
  AdminSetUserPassword: 'auth.setPassword',
  AssociateSoftwareToken: 'auth.mfaSetup',
  VerifySoftwareToken: 'auth.mfaSetup',
  SetUserMFAPreference: 'auth.mfaPreference',
  AdminSetUserMFAPreference: 'auth.mfaPreference',
} as const;

export type CognitoAuthCall = keyof typeof COGNITO_AUTH_OPERATIONS;

export function isCognitoAuthCall(name: string): name is CognitoAuthCall {
  return Object.hasOwn(COGNITO_AUTH_OPERATIONS, name);
}

/** What is known of one Cognito call: never a password, code or token, only derived ids. */
export interface AuthCallObservation {
  call: CognitoAuthCall;
  eventId: string;
  time: string;
  correlationId: string;
  /** `USER_PASSWORD_AUTH`, `REFRESH_TOKEN_AUTH`, `SOFTWARE_TOKEN_MFA`…: the flow or challenge name. */
  flow?: string;
  /** Cognito `sub` of the user, when the call identified one (tokens issued, or a token presented). */
  sub?: string;
  /** The user name typed at sign-in (hashed here, never stored). */
  username?: string;
  /** Whether `sub` was confirmed by Cognito (a successful call) rather than read from a presented token. */
  subVerified?: boolean;
  /** Cognito's exception name on failure, e.g. `NotAuthorizedException`. */
  errorType?: string;
  /** HTTP status Cognito answered with (CloudTrail: 200 on success, 400 otherwise). */
  status: number;
  /** A challenge (e.g. MFA) is required to finish signing in. */
  challenge?: string;
  sourceIp?: string;
  userAgent?: string;
  /** `local-cognito-proxy` or `cloudtrail`. */
  observedBy: string;
}

/** A stable, non-reversible actor id for a typed user name (lower-cased): `uname:<sha256/128>`. */
export function hashedUsername(username: string): string {
  return `uname:${createHash('sha256').update(`mdrp-username\u0000${username.trim().toLowerCase()}`).digest('hex').slice(0, 32)}`;
}

/**
 * The audit event of a Cognito call (category `auth`). The actor is the user's `sub` when known,
 * else the hashed user name (so repeated failures of one account from one source are counted by
 * the `failed-logins` rule), else `anonymous`.
 */
export function authAuditEvent(o: AuthCallObservation): AuditEvent {
  const ok = o.status < 400 && !o.errorType;
  const id = o.sub ?? (o.username ? hashedUsername(o.username) : 'anonymous');
  const parameters: AuditEvent['parameters'] = { cognitoCall: o.call, observedBy: o.observedBy };
  if (o.flow) parameters.flow = o.flow.slice(0, 64);
  if (o.challenge) parameters.challenge = o.challenge.slice(0, 64);
  if (o.sub) parameters.subVerified = Boolean(o.subVerified);
  if (o.username && o.sub) parameters.usernameHash = hashedUsername(o.username);
  const refresh = o.flow === 'REFRESH_TOKEN_AUTH' || o.flow === 'REFRESH_TOKEN';
  return {
    eventId: o.eventId,
    time: o.time,
    correlationId: o.correlationId,
    category: 'auth',
    operation: refresh ? 'auth.tokenRefresh' : COGNITO_AUTH_OPERATIONS[o.call],
    actor: { kind: o.sub || o.username ? 'user' : 'anonymous', id, roles: [] },
    source: { ...(o.sourceIp ? { ip: o.sourceIp } : {}), ...(o.userAgent ? { userAgent: o.userAgent.slice(0, 256) } : {}) },
    resources: o.sub ? [{ type: 'User', id: o.sub }] : [],
    parameters,
    result: {
      outcome: ok ? 'success' : 'failure',
      status: o.status,
      ...(ok ? {} : { errorCode: (o.errorType ?? 'UnknownError').replace(/^.*#/, '').slice(0, 64) }),
    },
  };
}

/** The `sub` claim of a JWT's payload, read without verification (callers say whether Cognito accepted it). */
export function jwtSubject(token: unknown): string | undefined {
  if (typeof token !== 'string') return undefined;
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const sub = (JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { sub?: unknown }).sub;
    return typeof sub === 'string' && /^[A-Za-z0-9-]{1,128}$/.test(sub) ? sub : undefined;
  } catch {
    return undefined;
  }
}

/** The parts of a CloudTrail record (EventBridge `AWS API Call via CloudTrail` detail) that are read. */
export interface CloudTrailCognitoRecord {
  eventID?: string;
  eventTime?: string;
  eventSource?: string;
  eventName?: string;
  sourceIPAddress?: string;
  userAgent?: string;
  errorCode?: string;
  requestParameters?: { authFlow?: string; challengeName?: string } | null;
  responseElements?: { challengeName?: string } | null;
  additionalEventData?: { sub?: string; userPoolId?: string } | null;
}

/**
 * The observation of a Cognito user-pool call recorded by CloudTrail (AWS path of R-AUD-1).
 * CloudTrail hides the user name of unauthenticated calls, so a failure is attributed to its
 * source only; a success carries the user's `sub` in `additionalEventData`. Returns undefined for
 * other calls.
 */
export function cloudTrailAuthObservation(r: CloudTrailCognitoRecord): AuthCallObservation | undefined {
  if (r.eventSource !== 'cognito-idp.amazonaws.com' || !r.eventName || !isCognitoAuthCall(r.eventName) || !r.eventID || !r.eventTime) return undefined;
  const sub = typeof r.additionalEventData?.sub === 'string' && /^[A-Za-z0-9-]{1,128}$/.test(r.additionalEventData.sub) ? r.additionalEventData.sub : undefined;
  const flow = r.requestParameters?.authFlow ?? r.requestParameters?.challengeName;
  return {
    call: r.eventName,
    eventId: `evt_ct_${r.eventID.replace(/[^A-Za-z0-9-]/g, '').slice(0, 64)}`,
    time: new Date(Date.parse(r.eventTime)).toISOString(),
    correlationId: r.eventID.slice(0, 64),
    ...(flow ? { flow } : {}),
    ...(sub ? { sub, subVerified: !r.errorCode } : {}),
    ...(r.errorCode ? { errorType: r.errorCode } : {}),
    status: r.errorCode ? 400 : 200,
    ...(r.responseElements?.challengeName ? { challenge: r.responseElements.challengeName } : {}),
    ...(r.sourceIPAddress ? { sourceIp: r.sourceIPAddress } : {}),
    ...(r.userAgent ? { userAgent: r.userAgent } : {}),
    observedBy: 'cloudtrail',
  };
}
