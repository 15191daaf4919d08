import { ArnFormat, Duration, NestedStack, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MdrpFunction } from './lambda-function';

/** Handler module `functions/handlers/pre-token-generation.handler.ts`. */
export const PRE_TOKEN_GENERATION_MODULE = 'pre-token-generation';

export interface MfaClaimTriggerProps {
  readonly stage: string;
  readonly handlersDir: string;
  readonly userPool: cognito.UserPool;
  readonly logsKey: kms.IKey;
  readonly deadLetterQueue: sqs.IQueue;
  readonly architecture: lambda.Architecture;
  readonly reservedConcurrency?: number;
  readonly vpc?: { readonly vpc: ec2.IVpc; readonly securityGroup: ec2.ISecurityGroup };
  /** With Cognito threat protection (PLUS): the adaptive-authentication actions the claim relies on. */
  readonly adaptiveAuthentication: boolean;
}

/**
 * R-SEC-6: the user pool's pre-token-generation trigger (event V2_0) that writes `mdrp:mfa` into
 * every ID token (functions/core/identity/mfa-claim.ts explains how MFA is determined and its limits).
 *
 * Least privilege: the function gets no platform configuration and no data access, only
 * `cognito-idp:AdminGetUser` on this one pool.
 *
 * A nested stack: the main stack is at CloudFormation's 500-resource limit in VPC mode, and this
 * adds the parent only one resource. The pool names the function by its constructed ARN (the name is
 * fixed), not by reference, because the function's policy references the pool: a reference back
 * would be a dependency cycle (pool → function → policy → pool).
 */
export class MfaClaimTrigger extends NestedStack {
  public readonly function: MdrpFunction;

  constructor(scope: Construct, id: string, props: MfaClaimTriggerProps) {
    super(scope, id, { description: `MDRP ${props.stage} Cognito pre-token-generation trigger (mdrp:mfa claim)` });
    this.function = new MdrpFunction(this, `Fn-${PRE_TOKEN_GENERATION_MODULE}`, {
      module: PRE_TOKEN_GENERATION_MODULE,
      handlersDir: props.handlersDir,
      stage: props.stage,
      description: 'MDRP Cognito pre-token-generation: mdrp:mfa claim (TOTP enforced for this sign-in)',
      environment: {},
      logsKey: props.logsKey,
      deadLetterQueue: props.deadLetterQueue,
      reservedConcurrency: props.reservedConcurrency,
      architecture: props.architecture,
      // Cognito waits at most 5 s for a trigger; a lookup that hangs must not hold sign-in longer.
      timeout: Duration.seconds(5),
      memorySize: 256,
      vpc: props.vpc,
    });
    this.function.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ReadUserMfaSettings', actions: ['cognito-idp:AdminGetUser'], resources: [props.userPool.userPoolArn] }));
    this.function.fn.addPermission('CognitoInvoke', { principal: new iam.ServicePrincipal('cognito-idp.amazonaws.com'), sourceArn: props.userPool.userPoolArn });

    const parent = Stack.of(props.userPool);
    const functionArn = parent.formatArn({ service: 'lambda', resource: 'function', resourceName: `mdrp-${props.stage}-${PRE_TOKEN_GENERATION_MODULE}`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const cfnPool = props.userPool.node.defaultChild as cognito.CfnUserPool;
    cfnPool.addPropertyOverride('LambdaConfig.PreTokenGenerationConfig', { LambdaArn: functionArn, LambdaVersion: 'V2_0' });

    if (props.adaptiveAuthentication) {
      // The claim relies on Cognito challenging a user with TOTP at every sign-in. Adaptive
      // authentication may otherwise let a low-risk sign-in through without the second factor,
      // so every risk level asks for it when the user has it (and high risk demands it).
      new cognito.CfnUserPoolRiskConfigurationAttachment(this, 'RiskConfiguration', {
        userPoolId: props.userPool.userPoolId,
        clientId: 'ALL',
        accountTakeoverRiskConfiguration: {
          actions: {
            lowAction: { eventAction: 'MFA_IF_CONFIGURED', notify: false },
            mediumAction: { eventAction: 'MFA_IF_CONFIGURED', notify: false },
            highAction: { eventAction: 'MFA_REQUIRED', notify: false },
          },
        },
      });
    }
  }
}
