import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface WebhookDeliveryScheduleProps {
  readonly stage: string;
  /** The delivery function (`Compute.webhookDelivery`, handler `webhook-delivery.handler.ts`). */
  readonly deliveryFunction: lambda.IFunction;
}

/**
 * R-INT-1 integration events: the webhook outbox lives in the main table (its items are written
 * in the same transaction as the request/grant change); the delivery function drains it every
 * minute, signs each delivery (HMAC-SHA256) and records every attempt. Its permissions
 * (permissions.ts, `webhook-delivery`): the main table and its key, audit append — nothing else.
 *
 * Egress: partners' endpoints are on the internet. The isolated subnets of VPC mode have no route
 * out (no NAT by design), so the delivery function is the one function that always runs outside
 * the VPC (compute.ts, `WEBHOOK_OUTSIDE_VPC_REASON`): it reaches partners directly, and no other
 * function gains an internet path (test/infra/variants.test.ts).
 */
export class WebhookDeliverySchedule extends Construct {
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: WebhookDeliveryScheduleProps) {
    super(scope, id);
    this.rule = new events.Rule(this, 'EveryMinute', {
      ruleName: `mdrp-${props.stage}-webhook-delivery`,
      description: 'Delivers due webhook deliveries (retries back off inside the outbox)',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      // A missed run is caught up by the next one: no event-level retries needed.
      targets: [new targets.LambdaFunction(props.deliveryFunction, { retryAttempts: 0 })],
    });
  }
}
