import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notification, Notifier } from '../../core/ports/notifier';

/**
 * Security alerts to the security admins' SNS topic (R-AUD-5: "alerts go to the security admin's
 * inbox (SNS in AWS)"); the admins subscribe (e-mail, chat, pager) outside the platform. Only
 * `security-alert` notifications are published; anything else is not this topic's business.
 *
 * PHI-free by construction: the message is the alert's fixed subject, its category and its ids
 * (`refs`: alert id, event id, rule). The free-text body is not sent; the detail stays in the
 * audit console, behind the audit read permissions.
 *
 * @example
 * const sns = new SnsAlertNotifier(new SNSClient({}), config.notifications.auditAlertsTopicArn);
 */
export class SnsAlertNotifier implements Notifier {
  constructor(
    private readonly sns: Pick<SNSClient, 'send'>,
    readonly topicArn: string,
  ) {}

  async notify(n: Notification): Promise<void> {
    if (n.category !== 'security-alert') return;
    const refs = n.refs ?? {};
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        // SNS e-mail subjects: ASCII, at most 100 characters.
        Subject: n.subject.replace(/[^\x20-\x7e]/g, '?').slice(0, 100),
        Message: JSON.stringify({ category: n.category, subject: n.subject, refs }),
        MessageAttributes: {
          category: { DataType: 'String', StringValue: n.category },
          ...(refs.rule ? { rule: { DataType: 'String', StringValue: refs.rule } } : {}),
        },
      }),
    );
  }
}
