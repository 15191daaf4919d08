import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface NotificationsProps {
  readonly stage: string;
  readonly messagingKey: kms.IKey;
}

/** User notifications (R-ENT-5, R-GOV-5 reminders): one KMS-encrypted topic, TLS-only. */
export class Notifications extends Construct {
  public readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      topicName: `mdrp-${props.stage}-notifications`,
      displayName: 'MDRP notifications',
      masterKey: props.messagingKey,
      enforceSSL: true,
    });
  }
}
