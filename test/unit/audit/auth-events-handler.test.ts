import { describe, expect, it } from 'vitest';
import type { CloudTrailCognitoRecord } from '../../../functions/core/audit/auth-event';
import { recordCloudTrailAuthEvent } from '../../../functions/handlers/auth-events.handler';
import { testContainer } from '../../support/test-container';

const failed: CloudTrailCognitoRecord = {
  eventID: '3f1a2b4c-0000-4000-8000-000000000001',
  eventTime: '2026-11-24T02:00:00Z',
  eventSource: 'cognito-idp.amazonaws.com',
  eventName: 'InitiateAuth',
  sourceIPAddress: '198.51.100.20',
  userAgent: 'Mozilla/5.0',
  errorCode: 'NotAuthorizedException',
  requestParameters: { authFlow: 'USER_SRP_AUTH' },
};

describe('auth-events handler: CloudTrail Cognito records → audit events (R-AUD-1, AWS path)', () => {
  it('R-AUD-1: a failed sign-in recorded by CloudTrail becomes one auth audit event; a redelivery is recognised, not written twice', async () => {
    // Prepare
    const c = testContainer();
    // Act
    const first = await recordCloudTrailAuthEvent(c, failed);
    const again = await recordCloudTrailAuthEvent(c, failed);
    // Assess
    expect([first, again]).toEqual(['written', 'duplicate']);
    const events = (await c.audit.query({ from: '2026-11-24', to: '2026-11-24T23:59:59.999Z', limit: 10 })).items;
    expect(events).toEqual([
      expect.objectContaining({ eventId: 'evt_ct_3f1a2b4c-0000-4000-8000-000000000001', category: 'auth', operation: 'auth.signIn', source: { ip: '198.51.100.20', userAgent: 'Mozilla/5.0' }, result: expect.objectContaining({ outcome: 'failure', status: 400, errorCode: 'NotAuthorizedException' }) }),
    ]);
  });

  it('R-AUD-1: other Cognito calls and other sources are ignored', async () => {
    // Prepare
    const c = testContainer();
    // Act + Assess
    expect(await recordCloudTrailAuthEvent(c, { ...failed, eventName: 'ListUsers' })).toBe('ignored');
    expect(await recordCloudTrailAuthEvent(c, { ...failed, eventSource: 's3.amazonaws.com' })).toBe('ignored');
    expect((await c.audit.query({ from: '2026-11-24', to: '2026-11-24T23:59:59.999Z', limit: 10 })).items).toEqual([]);
  });

  it('R-AUD-1: a store failure is thrown, so EventBridge retries and then dead-letters the record', async () => {
    // Prepare
    const c = testContainer();
    c.audit.write = () => Promise.reject(new Error('throttled'));
    // Act + Assess
    await expect(recordCloudTrailAuthEvent(c, failed)).rejects.toThrow('throttled');
  });
});
