import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryDocumentStore } from '../../../functions/adapters/memory/memory-document-store';
import { AUDIT_ALERTS_TOPIC_ENV, configFromEnv, ENV } from '../../../functions/composition/config';
import { buildContainer } from '../../../functions/composition/container';
import { auditEvent } from './audit-fixtures';

/** The Lambda environment as CDK sets it, with placeholder values. */
const env: Record<string, string> = {
  AWS_REGION: 'ap-southeast-1',
  ...Object.fromEntries(Object.values(ENV).map((name) => [name, `test-${name.toLowerCase()}`])),
  [ENV.userPoolId]: 'ap-southeast-1_abcdefghi',
};
const TOPIC = 'arn:aws:sns:ap-southeast-1:111122223333:mdrp-prod-audit-alerts';

describe('AWS composition: audit alerts to SNS (R-AUD-5)', () => {
  const sns = mockClient(SNSClient);
  afterEach(() => sns.reset());

  it('R-AUD-5: with the audit-alerts topic in its environment the container publishes raised alerts there; without it, inbox only', async () => {
    // Prepare
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const withTopic = buildContainer(configFromEnv({ ...env, [AUDIT_ALERTS_TOPIC_ENV]: TOPIC }), { documents: new MemoryDocumentStore() });
    const inboxOnly = buildContainer(configFromEnv(env), { documents: new MemoryDocumentStore() });
    // Act
    await withTopic.auditAlerts.evaluate(auditEvent('2026-11-24T10:00:00.000Z', { operation: 'downloadFile' }));
    await inboxOnly.auditAlerts.evaluate(auditEvent('2026-11-24T10:00:00.000Z', { operation: 'downloadFile' }));
    // Assess
    expect(sns.commandCalls(PublishCommand).map((c) => c.args[0].input.TopicArn)).toEqual([TOPIC]);
    for (const c of [withTopic, inboxOnly]) expect(await c.notifier.list(['role:security-admin'])).toHaveLength(1);
  });
});
