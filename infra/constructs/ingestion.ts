import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FILES_INGESTED_TOGETHER } from '../../functions/core/ingestion/ingest-support';

export interface IngestionEventsProps {
  readonly stage: string;
  readonly stagingBucket: s3.IBucket;
  readonly ingestFunction: lambda.IFunction;
  /** The function's timeout: the queue's visibility timeout is six times it (AWS guidance). */
  readonly ingestTimeout: Duration;
  readonly messagingKey: kms.IKey;
}

/**
 * D8: S3 object-created (staging) → EventBridge → SQS → ingest-events Lambda, batched, with a
 * dead-letter queue a data manager can inspect and redrive. The bucket sends to EventBridge
 * through `notificationConfiguration` (set in Data), so no notification custom resource exists.
 */
export class IngestionEvents extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: IngestionEventsProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'Dlq', {
      queueName: `mdrp-${props.stage}-ingest-dlq`,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.messagingKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      queueName: `mdrp-${props.stage}-ingest`,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.messagingKey,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(props.ingestTimeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      // R-ING-5: retried, then parked for inspection and redrive.
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
    });
    this.rule = new events.Rule(this, 'ObjectCreated', {
      ruleName: `mdrp-${props.stage}-staging-object-created`,
      description: 'Staging uploads to the ingest queue',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: { bucket: { name: [props.stagingBucket.bucketName] } },
      },
      targets: [new targets.SqsQueue(this.queue)],
    });
    props.ingestFunction.addEventSource(
      new sources.SqsEventSource(this.queue, {
        // One invocation ingests a batch: DICOM files of one study in it share one commit.
        batchSize: FILES_INGESTED_TOGETHER,
        maxBatchingWindow: Duration.seconds(5),
        // The handler reports per-message failures; only those are retried (idempotent by content hash).
        reportBatchItemFailures: true,
      }),
    );
  }
}
