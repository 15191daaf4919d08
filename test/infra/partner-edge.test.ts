/* eslint-disable @typescript-eslint/no-explicit-any -- synthesized CloudFormation JSON is untyped. */
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { PARTNER_USAGE_PLANS, usagePlanName } from '../../functions/core/partners/usage-plans';
import { MODULE_CAPABILITIES } from '../../infra/constructs/permissions';
import type { MdrpStack } from '../../infra/stacks/mdrp-stack';
import { buildTestApp } from './synth-helper';

type Resources = Record<string, { Type: string; Properties?: Record<string, any> }>;

let stack: MdrpStack;
let resources: Resources;
const byType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

beforeAll(() => {
  const built = buildTestApp();
  stack = built.stack;
  built.app.synth();
  // The APIs are a nested stack.
  resources = Template.fromStack(stack.api).toJSON().Resources as Resources;
});

describe('partner edge in CDK = the shared configuration', () => {
  it('R-SEC-7: the synthesized usage plans are exactly PARTNER_USAGE_PLANS (rate, burst, daily quota), on the partner stage', () => {
    const plans = byType('AWS::ApiGateway::UsagePlan').map(([, r]) => r.Properties!);
    const partnerApiId = stack.api.getLogicalId(stack.api.partnerApi.node.defaultChild as never);
    const synthesized = Object.fromEntries(
      plans.map((p) => [p.UsagePlanName, { rateLimit: p.Throttle.RateLimit, burstLimit: p.Throttle.BurstLimit, quotaPerDay: p.Quota.Limit, period: p.Quota.Period, api: p.ApiStages[0].ApiId }]),
    );
    const expected = Object.fromEntries(
      Object.entries(PARTNER_USAGE_PLANS).map(([plan, l]) => [usagePlanName('dev', plan), { rateLimit: l.rateLimit, burstLimit: l.burstLimit, quotaPerDay: l.quotaPerDay, period: 'DAY', api: { Ref: partnerApiId } }]),
    );
    expect(synthesized).toEqual(expected);
  });

  it('R-SEC-6, R-SEC-7: the partner API has one uncached REQUEST authorizer backed by the partner-authorizer function', () => {
    const authorizers = byType('AWS::ApiGateway::Authorizer').filter(([, a]) => a.Properties!.Type === 'REQUEST');
    expect(authorizers).toHaveLength(1);
    const a = authorizers[0]![1].Properties!;
    expect(a.AuthorizerResultTtlInSeconds).toBe(0);
    expect(a.RestApiId).toEqual({ Ref: stack.api.getLogicalId(stack.api.partnerApi.node.defaultChild as never) });
    // The nested stack gets the function's ARN as a parameter from the main stack.
    const parameter = JSON.stringify(a.AuthorizerUri).match(/"Ref":"(referenceto[A-Za-z0-9]+)"/)![1]!;
    const nestedStack = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(stack.api.nestedStackResource as never)];
    expect(nestedStack.Properties.Parameters[parameter]).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(stack.compute.partnerAuthorizer.fn.node.defaultChild as never), 'Arn'] });
  });

  it('R-SEC-4: the authorizer may only read partner records and append audit events; partners may schedule key revocations', () => {
    expect(MODULE_CAPABILITIES['partner-authorizer']).toEqual(['main-read', 'audit-append']);
    expect(MODULE_CAPABILITIES.partners).toEqual(expect.arrayContaining(['partner-onboarding', 'schedules']));
    expect(MODULE_CAPABILITIES['scheduled-jobs']).toContain('partner-onboarding');
  });
});
