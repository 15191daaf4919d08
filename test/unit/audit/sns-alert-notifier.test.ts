import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryDocumentStore } from '../../../functions/adapters/memory/memory-document-store';
import { SnsAlertNotifier } from '../../../functions/adapters/aws/sns-alert-notifier';
import { AuditAlertEvaluator } from '../../../functions/core/audit/audit-alert-evaluator';
import { FanOutNotifier } from '../../../functions/core/notifications/fan-out-notifier';
import type { Notification } from '../../../functions/core/ports/notifier';
import { auditEvent } from './audit-fixtures';

const TOPIC = 'arn:aws:sns:us-east-1:111122223333:mdrp-dev-audit-alerts';

describe('SNS alert notifier (security admins, AWS)', () => {
  const sns = mockClient(SNSClient);
  beforeEach(() => sns.reset());

  it('R-AUD-5: a raised alert reaches the inbox and the SNS topic once, carrying ids only (no body, no parameters)', async () => {
    // Prepare: an export download (always alerts) whose parameters hold a value that must not travel.
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const inbox: Notification[] = [];
    const notifier = new FanOutNotifier([{ notify: async (n) => void inbox.push(n) }, new SnsAlertNotifier(new SNSClient({ region: 'us-east-1' }), TOPIC)]);
    const evaluator = new AuditAlertEvaluator(new MemoryDocumentStore(), notifier);
    const event = auditEvent('2026-11-24T10:00:00.000Z', { operation: 'downloadFile', parameters: { fileId: 'fil_1', note: 'Jane Doe 1970-01-01' }, resources: [{ type: 'File', id: 'fil_1' }] });

    // Act
    const raised = await evaluator.evaluate(event);
    await evaluator.evaluate(event);

    // Assess
    expect(raised.map((a) => a.rule)).toEqual(['export-download']);
    expect(inbox).toHaveLength(1);
    const calls = sns.commandCalls(PublishCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.TopicArn).toBe(TOPIC);
    expect(input.Subject).toBe('Audit alert: export-download (low)');
    expect(JSON.parse(input.Message!)).toEqual({ category: 'security-alert', subject: 'Audit alert: export-download (low)', refs: { alertId: raised[0]!.alertId, eventId: event.eventId, rule: 'export-download' } });
    expect(input.MessageAttributes).toEqual({ category: { DataType: 'String', StringValue: 'security-alert' }, rule: { DataType: 'String', StringValue: 'export-download' } });
    expect(JSON.stringify(input)).not.toMatch(/Jane|1970|user-1|10\.0\.0\.1|vitest/);
  });

  it('R-AUD-5: only security alerts are published; a failed publish is not swallowed', async () => {
    // Prepare
    const notifier = new SnsAlertNotifier(new SNSClient({ region: 'us-east-1' }), TOPIC);
    sns.on(PublishCommand).rejects(new Error('KMSAccessDenied'));
    // Act
    await notifier.notify({ to: 'user-1', category: 'request-status', subject: 'Request approved', body: 'x', refs: { requestId: 'req_1' } });
    // Assess
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
    await expect(notifier.notify({ to: 'role:security-admin', category: 'security-alert', subject: 'Audit alert: bulk-access (medium)', body: 'x' })).rejects.toThrow(/KMSAccessDenied/);
  });
});
