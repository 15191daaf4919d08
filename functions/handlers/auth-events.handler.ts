import { Logger } from '@aws-lambda-powertools/logger';
import type { EventBridgeEvent } from 'aws-lambda';
import type { Container } from '../composition/container';
import { authAuditEvent, cloudTrailAuthObservation, type CloudTrailCognitoRecord } from '../core/audit/auth-event';
import { isDomainError } from '../core/errors';
import { lambdaContainer } from './lambda-runtime';

const logger = new Logger({ serviceName: 'auth-events' });

/** What one delivery did: written, already there (a redelivery), or not an auth call. */
export type AuthEventOutcome = 'written' | 'duplicate' | 'ignored';

/**
 * R-AUD-1 in AWS: one Cognito user-pool call recorded by CloudTrail (EventBridge `AWS API Call
 * via CloudTrail`, source `aws.cognito-idp`) becomes one audit event. The event id derives from
 * CloudTrail's `eventID` and its time from `eventTime`, so a redelivered record hits the trail's
 * write-once condition and is recognised as already recorded (idempotent, at-least-once safe).
 * Any other failure is thrown: EventBridge retries, then the rule's dead-letter queue keeps it.
 */
export async function recordCloudTrailAuthEvent(container: Container, record: CloudTrailCognitoRecord): Promise<AuthEventOutcome> {
  const obs = cloudTrailAuthObservation(record);
  if (!obs) return 'ignored';
  try {
    await container.audit.write(authAuditEvent(obs));
    return 'written';
  } catch (e) {
    if (isDomainError(e, 'CONFLICT')) return 'duplicate';
    throw e;
  }
}

/** EventBridge rule target. */
export const handler = async (event: EventBridgeEvent<'AWS API Call via CloudTrail', CloudTrailCognitoRecord>): Promise<AuthEventOutcome> => {
  const outcome = await recordCloudTrailAuthEvent(await lambdaContainer(), event.detail);
  // The call name and outcome only: CloudTrail records carry user agents and addresses, not for logs.
  logger.info('auth event', { eventName: event.detail.eventName, outcome });
  return outcome;
};
