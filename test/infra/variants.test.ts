import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { buildTestApp } from './synth-helper';

const findings = (stack: Parameters<AwsSolutionsChecks['validateScope']>[0]) =>
  [new AwsSolutionsChecks(stack), new HIPAASecurityChecks(stack)].flatMap((p) =>
    p.validateScope(stack).violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.resourceLogicalId}`)),
  );

describe('deploy-time variants', () => {
  it('R-SEC-4, R-SEC-5, R-INT-1: VPC mode puts every function but webhook delivery in isolated subnets with endpoints and flow logs, nag-clean; no NAT, no internet route', () => {
    const { app, stack } = buildTestApp({ vpc: 'true', stage: 'prod', partnerCidrs: '203.0.113.0/24' });
    app.synth();
    expect(findings(stack)).toEqual([]);
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    t.resourceCountIs('AWS::EC2::FlowLog', 1);
    const endpoints = Object.values(t.findResources('AWS::EC2::VPCEndpoint')) as Array<{ Properties: { VpcEndpointType?: string; ServiceName: unknown } }>;
    expect(endpoints.filter((e) => e.Properties.VpcEndpointType === 'Gateway').length).toBe(2);
    expect(endpoints.filter((e) => e.Properties.VpcEndpointType === 'Interface').length).toBeGreaterThanOrEqual(6);
    // No path out of the VPC: no NAT, no internet gateway, no route to 0.0.0.0/0.
    t.resourceCountIs('AWS::EC2::InternetGateway', 0);
    expect(Object.values(t.findResources('AWS::EC2::Route')).filter((r) => r.Properties.DestinationCidrBlock === '0.0.0.0/0')).toEqual([]);
    const outside: string[] = [];
    for (const f of Object.values(t.findResources('AWS::Lambda::Function'))) {
      const name = String(f.Properties.FunctionName ?? '');
      if (!name.startsWith('mdrp-')) continue;
      if (f.Properties.VpcConfig?.SubnetIds) continue;
      outside.push(name);
    }
    // Webhook deliveries must reach partners on the internet: the one function outside the VPC.
    expect(outside).toEqual(['mdrp-prod-webhook-delivery']);
    // R-SEC-7: with partner CIDRs configured the allow-list blocks everyone else.
    const acl = Object.values(Template.fromStack(stack.api).findResources('AWS::WAFv2::WebACL')).find((a) => a.Properties.Name === 'mdrp-prod-partner-api')!;
    const rule = (acl.Properties.Rules as Array<{ Name: string; Action: unknown }>).find((r) => r.Name === 'PartnerIpAllowList')!;
    expect(rule.Action).toEqual({ Block: {} });
    // CloudFormation refuses more than 500 resources per stack; VPC mode is the largest variant.
    expect(Object.keys(t.toJSON().Resources).length).toBeLessThan(450);
    // The APIs grow by about ten resources per route; past this, split portal and partner API into two nested stacks.
    expect(Object.keys(Template.fromStack(stack.api).toJSON().Resources).length).toBeLessThan(450);
  });

  it('R-SEC-5: optional mutual-TLS custom domain for the partner API with an S3 truststore', () => {
    const { app, stack } = buildTestApp({
      mtlsDomainName: 'partners.mdrp.example.org',
      mtlsCertificateArn: 'arn:aws:acm:ap-southeast-1:111111111111:certificate/00000000-0000-0000-0000-000000000000',
    });
    app.synth();
    expect(findings(stack)).toEqual([]);
    const t = Template.fromStack(stack.api);
    const [domain] = Object.values(t.findResources('AWS::ApiGateway::DomainName'));
    expect(domain!.Properties.MutualTlsAuthentication.TruststoreUri).toBeDefined();
    expect(domain!.Properties.SecurityPolicy).toBe('TLS_1_2');
    const apis = Object.values(t.findResources('AWS::ApiGateway::RestApi'));
    expect(apis.find((a) => a.Properties.Name === 'mdrp-dev-partner-api')!.Properties.DisableExecuteApiEndpoint).toBe(true);
  });

  it('R-OPS-1: the LocalStack target synthesizes without WAF, CloudTrail, Object Lock or Cognito Plus', () => {
    const { app, stack } = buildTestApp({ target: 'localstack' });
    app.synth();
    const t = Template.fromStack(stack);
    Template.fromStack(stack.api).resourceCountIs('AWS::WAFv2::WebACL', 0);
    t.resourceCountIs('AWS::CloudTrail::Trail', 0);
    t.resourceCountIs('AWS::EC2::VPC', 0);
    for (const b of Object.values(t.findResources('AWS::S3::Bucket'))) expect(b.Properties.ObjectLockEnabled ?? false).toBe(false);
    const [pool] = Object.values(t.findResources('AWS::Cognito::UserPool'));
    expect(pool!.Properties.UserPoolTier).not.toBe('PLUS');
    for (const f of Object.values(t.findResources('AWS::Lambda::Function'))) {
      if (String(f.Properties.FunctionName ?? '').startsWith('mdrp-')) expect(f.Properties.Architectures).toEqual(['x86_64']);
    }
  });
});
