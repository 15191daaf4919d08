import type { IAspect } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/**
 * Turns every inline IAM policy (`AWS::IAM::Policy`, e.g. a role's DefaultPolicy filled by
 * `grant*()` calls, including CDK-internal roles) into a customer-managed policy with the same
 * document and roles (HIPAA.Security-IAMNoInlinePolicy: managed policies are versioned and
 * reviewable on their own).
 *
 * The managed policy is created *inside* the `iam.Policy` construct, so every dependency on the
 * policy or its role (Lambda → role, state machine → role policy) still reaches it.
 */
export class InlineToManagedPolicies implements IAspect {
  public visit(node: IConstruct): void {
    if (!(node instanceof iam.Policy)) return;
    const cfn = node.node.tryFindChild('Resource') as iam.CfnPolicy | undefined;
    if (!cfn || !(cfn as unknown as { shouldSynthesize(): boolean }).shouldSynthesize()) return;
    new iam.CfnManagedPolicy(node, 'Managed', {
      policyDocument: cfn.policyDocument,
      roles: cfn.roles,
      users: cfn.users,
      groups: cfn.groups,
      description: `Managed form of ${node.node.path}`.slice(0, 1000),
    });
    node.node.tryRemoveChild('Resource');
  }
}
