/* eslint-disable @typescript-eslint/no-explicit-any -- synthesized CloudFormation JSON is untyped; assertions navigate it structurally. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../functions/composition/config';
import { FILES_INGESTED_TOGETHER } from '../../functions/core/ingestion/ingest-support';
import { GSI2_PROJECTED_ATTRIBUTES } from '../../functions/core/ports/document-store';
import { routes } from '../../functions/http/routes/index';
import { routesFor } from '../../infra/constructs/api';
import { ROLE_GROUPS, PARTNER_SCOPES } from '../../infra/constructs/identity';
import { PROJECT_ROOT } from '../../infra/constructs/lambda-function';
import { MODULE_CAPABILITIES } from '../../infra/constructs/permissions';
import { derivePartnerScopes } from '../../infra/constructs/route-mapping';
import type { MdrpStack } from '../../infra/stacks/mdrp-stack';
import { buildTestApp } from './synth-helper';

type Resources = Record<string, { Type: string; Properties?: Record<string, any>; DependsOn?: string[] }>;

let stack: MdrpStack;
let template: Template;
let resources: Resources;
const byType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const idOf = (construct: { node: { defaultChild?: unknown } } | undefined): string => stack.getLogicalId(construct!.node.defaultChild as never);

/** Findings of a cdk-nag pack over a stack, as readable strings. */
function nagFindings(s: MdrpStack, pack: AwsSolutionsChecks | HIPAASecurityChecks): string[] {
  const report = pack.validateScope(s);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.resourceLogicalId} ${r.locations?.join(',') ?? ''}`));
}

beforeAll(() => {
  const built = buildTestApp();
  stack = built.stack;
  built.app.synth();
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources as Resources;
});

describe('cdk-nag (AwsSolutions + HIPAA.Security)', () => {
  it('R-SEC-4, R-OPS-1: no unacknowledged AwsSolutions finding', () => {
    expect(nagFindings(stack, new AwsSolutionsChecks(stack))).toEqual([]);
  });
  it('R-SEC-4, R-OPS-1: no unacknowledged HIPAA.Security finding', () => {
    expect(nagFindings(stack, new HIPAASecurityChecks(stack))).toEqual([]);
  });
  it('R-OPS-1: every acknowledgement carries a written reason', () => {
    const acks: Array<[string, string, string]> = [];
    for (const c of stack.node.findAll()) {
      for (const m of c.node.metadata) {
        if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(m.data as Record<string, string>)) acks.push([c.node.path, id, reason]);
      }
    }
    expect(acks.length).toBeGreaterThan(0);
    for (const [p, id, reason] of acks) expect(reason.trim().length, `${p} ${id}`).toBeGreaterThan(20);
  });
});

describe('keys and storage', () => {
  it('R-SEC-4: symmetric keys rotate; HMAC and signing keys cannot rotate and are documented', () => {
    const keys = byType('AWS::KMS::Key');
    expect(keys.length).toBe(8);
    const nonRotating = keys.filter(([, k]) => k.Properties?.KeySpec && k.Properties.KeySpec !== 'SYMMETRIC_DEFAULT');
    for (const [id, k] of keys) {
      if (nonRotating.some(([n]) => n === id)) expect(k.Properties?.EnableKeyRotation ?? false).toBe(false);
      else expect(k.Properties?.EnableKeyRotation, id).toBe(true);
    }
    expect(nonRotating.map(([, k]) => k.Properties!.KeySpec).sort()).toEqual(['ECC_NIST_P256', 'HMAC_256', 'HMAC_256']);
    const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'infra', 'README.md'), 'utf8');
    expect(readme).toMatch(/Key lifecycle/);
    expect(readme).toMatch(/HMAC/);
    expect(readme).toMatch(/signing key/i);
  });

  it('R-SEC-4: every bucket is encrypted, blocks public access and denies non-TLS requests', () => {
    const buckets = byType('AWS::S3::Bucket');
    expect(buckets.length).toBeGreaterThanOrEqual(5);
    const policies = byType('AWS::S3::BucketPolicy');
    for (const [id, b] of buckets) {
      expect(b.Properties?.BucketEncryption?.ServerSideEncryptionConfiguration?.length, id).toBe(1);
      expect(b.Properties?.PublicAccessBlockConfiguration, id).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      const policy = policies.find(([, p]) => p.Properties?.Bucket?.Ref === id);
      expect(policy, `${id} has a bucket policy`).toBeDefined();
      const statements = policy![1].Properties!.PolicyDocument.Statement as any[];
      expect(statements.some((s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false'), `${id} TLS-only`).toBe(true);
    }
    for (const b of [stack.data.stagingBucket, stack.data.dataBucket, stack.data.archiveBucket]) {
      const props = resources[idOf(b)]!.Properties!;
      expect(props.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('aws:kms');
      expect(props.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    }
  });

  it('R-ING-8: data bucket keeps versions and expires old ones; staging is short-lived', () => {
    const data = resources[idOf(stack.data.dataBucket)]!.Properties!;
    expect(data.LifecycleConfiguration.Rules[0].NoncurrentVersionExpiration.NoncurrentDays).toBe(90);
    const staging = resources[idOf(stack.data.stagingBucket)]!.Properties!;
    expect(staging.LifecycleConfiguration.Rules[0].ExpirationInDays).toBeLessThanOrEqual(7);
  });

  it('R-AUD-2: the audit archive is write-once (Object Lock COMPLIANCE) and moves to Glacier after 6 months', () => {
    const archive = resources[idOf(stack.data.archiveBucket)]!.Properties!;
    expect(archive.ObjectLockEnabled).toBe(true);
    expect(archive.ObjectLockConfiguration).toMatchObject({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE' } } });
    expect(archive.ObjectLockConfiguration.Rule.DefaultRetention.Days).toBeGreaterThanOrEqual(180);
    expect(archive.LifecycleConfiguration.Rules[0].Transitions[0]).toEqual({ StorageClass: 'GLACIER', TransitionInDays: 180 });
  });

  it('R-SEC-4, R-ING-8: every table has PITR, a customer-managed key, deletion protection, TTL and both GSIs', () => {
    const tables = byType('AWS::DynamoDB::GlobalTable');
    expect(tables.map(([, t]) => t.Properties!.TableName).sort()).toEqual(['mdrp-dev-audit', 'mdrp-dev-identity', 'mdrp-dev-main']);
    for (const [id, t] of tables) {
      const p = t.Properties!;
      expect(p.KeySchema, id).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }]);
      expect(p.GlobalSecondaryIndexes.map((g: any) => g.IndexName)).toEqual(['gsi1', 'gsi2']);
      expect(p.SSESpecification).toMatchObject({ SSEEnabled: true, SSEType: 'KMS' });
      expect(p.TimeToLiveSpecification).toEqual({ AttributeName: 'ttl', Enabled: true });
      for (const replica of p.Replicas) {
        expect(replica.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled, id).toBe(true);
        expect(replica.DeletionProtectionEnabled, id).toBe(true);
        expect(replica.SSESpecification.KMSMasterKeyId, id).toBeDefined();
      }
    }
    const audit = tables.find(([, t]) => t.Properties!.TableName === 'mdrp-dev-audit')![1];
    expect(audit.Properties!.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
  });

  it('R-ING-6: gsi2 (lineage per job, work queues) projects keys and the listed attributes only, never a record\'s resource or lineage', () => {
    for (const [id, t] of byType('AWS::DynamoDB::GlobalTable')) {
      const gsi2 = t.Properties!.GlobalSecondaryIndexes.find((g: any) => g.IndexName === 'gsi2');
      expect(gsi2.Projection, id).toEqual({ ProjectionType: 'INCLUDE', NonKeyAttributes: [...GSI2_PROJECTED_ATTRIBUTES] });
      expect(gsi2.Projection.NonKeyAttributes, id).not.toContain('resource');
      expect(gsi2.Projection.NonKeyAttributes, id).not.toContain('lineage');
      const gsi1 = t.Properties!.GlobalSecondaryIndexes.find((g: any) => g.IndexName === 'gsi1');
      expect(gsi1.Projection, id).toEqual({ ProjectionType: 'ALL' });
    }
  });
});

describe('least privilege', () => {
  const policiesOf = (roleLogicalId: string) =>
    byType('AWS::IAM::ManagedPolicy').filter(([, p]) => (p.Properties!.Roles ?? []).some((r: any) => r.Ref === roleLogicalId));
  const statementsOf = (roleLogicalId: string): any[] => policiesOf(roleLogicalId).flatMap(([, p]) => p.Properties!.PolicyDocument.Statement);

  it('R-SEC-4: no inline IAM policies remain (all managed)', () => {
    expect(byType('AWS::IAM::Policy')).toEqual([]);
  });

  it('D1: only ingestion paths may use the identity vault key', () => {
    const identityKey = idOf(stack.data.identityKey);
    const allowed = Object.entries(MODULE_CAPABILITIES).filter(([, c]) => c.includes('identity-vault')).map(([m]) => m);
    expect(allowed.sort()).toEqual(['ingest-events', 'ingestion']);
    for (const f of stack.compute.all) {
      const module = f.fn.node.path.split('/').find((p) => p.startsWith('Fn-'))!.slice(3);
      const uses = JSON.stringify(statementsOf(idOf(f.role))).includes(identityKey);
      expect(uses, module).toBe(allowed.includes(module));
    }
  });

  it('D6: no function may update or delete audit events', () => {
    const auditTable = idOf(stack.data.auditTable);
    for (const f of stack.compute.all) {
      for (const s of statementsOf(idOf(f.role))) {
        if (!JSON.stringify(s.Resource).includes(auditTable)) continue;
        const actions = ([] as string[]).concat(s.Action);
        expect(actions.filter((a) => /UpdateItem|DeleteItem|BatchWriteItem|\*/.test(a)), f.fn.node.path).toEqual([]);
      }
    }
  });

  it('R-SEC-4: every function has its own role, a KMS-encrypted log group, tracing, reserved concurrency and a DLQ', () => {
    const fns = byType('AWS::Lambda::Function').filter(([, f]) => String(f.Properties!.FunctionName ?? '').startsWith('mdrp-'));
    expect(fns.length).toBe(stack.compute.all.length);
    const roles = new Set(fns.map(([, f]) => JSON.stringify(f.Properties!.Role)));
    expect(roles.size).toBe(fns.length);
    for (const [id, f] of fns) {
      const p = f.Properties!;
      expect(p.Runtime, id).toBe('nodejs22.x');
      expect(p.Architectures, id).toEqual(['arm64']);
      expect(p.TracingConfig, id).toEqual({ Mode: 'Active' });
      expect(p.ReservedConcurrentExecutions, id).toBeGreaterThan(0);
      expect(p.DeadLetterConfig?.TargetArn, id).toBeDefined();
      const lg = resources[p.LoggingConfig.LogGroup.Ref]!;
      expect(lg.Properties!.KmsKeyId, id).toBeDefined();
      expect(lg.Properties!.RetentionInDays, id).toBeGreaterThanOrEqual(180);
    }
  });

  it('R-OPS-1: every function receives every ENV variable of the composition root', () => {
    for (const f of stack.compute.all) {
      const vars = resources[idOf(f.fn)]!.Properties!.Environment.Variables;
      for (const name of Object.values(ENV)) expect(vars[name], `${f.fn.node.path} ${name}`).toBeDefined();
    }
  });
});

describe('API from the route table', () => {
  // The APIs are a nested stack (the main stack would pass 500 resources in VPC mode).
  let apiTemplate: Template;
  let apiResources: Resources;
  const apiByType = (type: string) => Object.entries(apiResources).filter(([, r]) => r.Type === type);
  const apiIdOf = (construct: { node: { defaultChild?: unknown } } | undefined): string => stack.api.getLogicalId(construct!.node.defaultChild as never);
  beforeAll(() => {
    apiTemplate = Template.fromStack(stack.api);
    apiResources = apiTemplate.toJSON().Resources as Resources;
  });

  const methodsOf = (api: { node: { defaultChild?: unknown } }) => {
    const apiId = apiIdOf(api);
    return apiByType('AWS::ApiGateway::Method').filter(([, m]) => m.Properties!.RestApiId.Ref === apiId && m.Properties!.HttpMethod !== 'OPTIONS');
  };

  it('R-INT-2: one portal API method per route with auth none/user/user-or-partner, with the right authorizer', () => {
    const methods = methodsOf(stack.api.portalApi);
    const expected = routesFor('portal', routes);
    expect(methods.length).toBe(expected.length);
    for (const r of expected) {
      const m = methods.find(([, x]) => x.Properties!.OperationName === r.operationId);
      expect(m, r.operationId).toBeDefined();
      expect(m![1].Properties!.HttpMethod).toBe(r.method);
      expect(m![1].Properties!.AuthorizationType).toBe(r.auth === 'none' ? 'NONE' : 'COGNITO_USER_POOLS');
      expect(m![1].Properties!.ApiKeyRequired ?? false).toBe(false);
    }
  });

  it('R-SEC-6, R-SEC-7: partner routes need an API key and pass the partner edge authorizer (token, scope, key binding, IP)', () => {
    const methods = methodsOf(stack.api.partnerApi);
    const expected = routesFor('partner', routes);
    expect(methods.length).toBe(expected.length);
    const [authorizerId] = apiByType('AWS::ApiGateway::Authorizer').find(([, a]) => a.Properties!.Type === 'REQUEST')!;
    for (const r of expected) {
      const m = methods.find(([, x]) => x.Properties!.OperationName === r.operationId)![1].Properties!;
      if (r.auth === 'none') {
        expect(m.AuthorizationType).toBe('NONE');
        continue;
      }
      expect(m.AuthorizationType).toBe('CUSTOM');
      expect(m.AuthorizerId).toEqual({ Ref: authorizerId });
      expect(m.ApiKeyRequired).toBe(true);
      // The scope each route needs is decided in the authorizer; every partner route has one.
      expect(derivePartnerScopes(r)?.every((s) => (PARTNER_SCOPES as readonly string[]).includes(s))).toBe(true);
    }
  });

  it('R-INT-2: every route has its API Gateway path and validated parameters', () => {
    const paths = apiByType('AWS::ApiGateway::Resource').length;
    expect(paths).toBeGreaterThan(0);
    for (const r of routes.filter((x) => x.request?.body)) {
      apiTemplate.hasResourceProperties('AWS::ApiGateway::Model', { Name: Match.stringLikeRegexp(`^${r.operationId[0]!.toUpperCase()}`), ContentType: 'application/json' });
    }
    expect(apiByType('AWS::ApiGateway::RequestValidator').length).toBe(2);
  });

  it('R-SEC-4, R-AUD-3: stages log access and errors, never request/response bodies', () => {
    const stages = apiByType('AWS::ApiGateway::Stage');
    expect(stages.length).toBe(2);
    for (const [id, s] of stages) {
      const p = s.Properties!;
      expect(p.AccessLogSetting?.DestinationArn, id).toBeDefined();
      expect(p.TracingEnabled, id).toBe(true);
      expect(p.MethodSettings, id).toEqual([
        expect.objectContaining({ HttpMethod: '*', ResourcePath: '/*', LoggingLevel: 'ERROR', DataTraceEnabled: false, ThrottlingRateLimit: expect.any(Number), ThrottlingBurstLimit: expect.any(Number) }),
      ]);
      expect(p.AccessLogSetting.Format).not.toMatch(/requestBody|responseBody/i);
    }
  });

  it('R-SEC-7: the default partner usage plan throttles and sets a quota', () => {
    apiTemplate.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'mdrp-dev-partners-default',
      Throttle: { RateLimit: Match.anyValue(), BurstLimit: Match.anyValue() },
      Quota: { Limit: Match.anyValue(), Period: 'DAY' },
    });
    expect(apiByType('AWS::ApiGateway::ApiKey')).toEqual([]);
  });

  it('R-SEC-7: both stages have a WAF WebACL with managed rules, a rate limit and redacted logs', () => {
    const stages = apiByType('AWS::ApiGateway::Stage').map(([id]) => id);
    const assocs = apiByType('AWS::WAFv2::WebACLAssociation');
    expect(assocs.length).toBe(2);
    for (const id of stages) expect(JSON.stringify(assocs.map(([, a]) => a.Properties!.ResourceArn))).toContain(id);
    for (const [, acl] of apiByType('AWS::WAFv2::WebACL')) {
      const rules = acl.Properties!.Rules as any[];
      expect(rules.some((r) => r.Statement.RateBasedStatement)).toBe(true);
      expect(rules.filter((r) => r.Statement.ManagedRuleGroupStatement).map((r) => r.Name)).toEqual(
        expect.arrayContaining(['AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet', 'AWSManagedRulesAmazonIpReputationList']),
      );
    }
    const partnerAcl = apiByType('AWS::WAFv2::WebACL').find(([, a]) => a.Properties!.Name === 'mdrp-dev-partner-api')![1];
    expect((partnerAcl.Properties!.Rules as any[]).some((r) => r.Statement.NotStatement?.Statement?.IPSetReferenceStatement)).toBe(true);
    const logging = apiByType('AWS::WAFv2::LoggingConfiguration');
    expect(logging.length).toBe(2);
    for (const fw of stack.api.firewalls) {
      const lgId = apiIdOf(fw.logGroup);
      expect(apiResources[lgId]!.Properties!.LogGroupName).toMatch(/^aws-waf-logs-/);
      const l = logging.find(([, x]) => JSON.stringify(x.Properties!.ResourceArn).includes(stack.api.getLogicalId(fw.webAcl)))![1];
      expect(l.Properties!.RedactedFields).toEqual([{ SingleHeader: { Name: 'authorization' } }, { SingleHeader: { Name: 'x-api-key' } }]);
      expect(JSON.stringify(l.Properties!.LogDestinationConfigs)).toContain(lgId);
    }
  });

  it('R-SEC-7: routes with a small maxBodyBytes get a WAF body-size rule', () => {
    const limited = routes.filter((r) => (r.request?.maxBodyBytes ?? Infinity) <= 8192);
    const rules = apiByType('AWS::WAFv2::WebACL').flatMap(([, a]) => a.Properties!.Rules as any[]);
    for (const r of limited) expect(rules.some((x) => x.Name === `BodyLimit${r.request!.maxBodyBytes}`), r.operationId).toBe(true);
  });
});

describe('identity', () => {
  it('R-SEC-6: strong passwords, TOTP MFA, PLUS threat protection, no self sign-up', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: 'OPTIONAL',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 12, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true }) },
      Schema: Match.arrayWith([Match.objectLike({ Name: 'institution' })]),
    });
  });
  it('R-GOV-7: a group per role', () => {
    const groups = byType('AWS::Cognito::UserPoolGroup').map(([, g]) => g.Properties!.GroupName);
    expect(groups.sort()).toEqual([...ROLE_GROUPS].sort());
  });
  it('R-SEC-6: portal client has no secret; partner client uses client credentials with every scope', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      ClientName: 'mdrp-dev-portal',
      GenerateSecret: false,
      ExplicitAuthFlows: Match.arrayWith(['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']),
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      ClientName: 'mdrp-dev-partner-default',
      GenerateSecret: true,
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthScopes: PARTNER_SCOPES.map((s) => ({ 'Fn::Join': ['', [{ Ref: idOf(stack.identity.resourceServer) }, `/${s}`]] })),
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', { Identifier: 'mdrp', Scopes: PARTNER_SCOPES.map((s) => Match.objectLike({ ScopeName: s })) });
  });
});

describe('MFA claim trigger (R-SEC-6)', () => {
  let nested: Template;
  let nestedResources: Resources;
  const nestedId = (c: { node: { defaultChild?: unknown } }) => stack.mfaClaims.getLogicalId(c.node.defaultChild as never);
  beforeAll(() => {
    nested = Template.fromStack(stack.mfaClaims);
    nestedResources = nested.toJSON().Resources as Resources;
  });

  it('R-SEC-6: the pool runs the pre-token-generation trigger (event V2_0) by its fixed name, and Cognito may invoke it', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      LambdaConfig: { PreTokenGenerationConfig: { LambdaVersion: 'V2_0', LambdaArn: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':function:mdrp-dev-pre-token-generation$')])] } } },
    });
    const fn = nestedResources[nestedId(stack.mfaClaims.function.fn)]!.Properties!;
    expect(fn.FunctionName).toBe('mdrp-dev-pre-token-generation');
    nested.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [nestedId(stack.mfaClaims.function.fn), 'Arn'] },
      Principal: 'cognito-idp.amazonaws.com',
      SourceArn: Match.anyValue(),
    });
    // Each nested stack (MFA claims, audit events, APIs) adds one resource to the parent, which is near the 500-resource limit.
    expect(byType('AWS::CloudFormation::Stack').length).toBe(3);
  });

  it('R-SEC-6: the trigger may only read one pool\'s users: no data, keys or platform configuration', () => {
    const roleId = nestedId(stack.mfaClaims.function.role);
    const statements = Object.values(nestedResources)
      .filter((p) => p.Type === 'AWS::IAM::ManagedPolicy' && (p.Properties!.Roles ?? []).some((r: any) => r.Ref === roleId))
      .flatMap((p) => p.Properties!.PolicyDocument.Statement as any[]);
    const actions = statements.flatMap((st) => ([] as string[]).concat(st.Action));
    expect(actions.filter((a) => a.startsWith('cognito-idp:'))).toEqual(['cognito-idp:AdminGetUser']);
    const cognitoStatement = statements.find((st) => st.Action === 'cognito-idp:AdminGetUser');
    expect(JSON.stringify(cognitoStatement.Resource)).toContain('UserPool');
    expect(actions.filter((a) => /^(dynamodb|s3|states|scheduler|sns|secretsmanager|kms:Sign|kms:Encrypt)/.test(a))).toEqual([]);
    const fn = nestedResources[nestedId(stack.mfaClaims.function.fn)]!.Properties!;
    expect(Object.keys(fn.Environment.Variables).sort()).toEqual(['NODE_OPTIONS', 'POWERTOOLS_SERVICE_NAME']);
    expect(fn.Timeout).toBe(5);
    expect(fn.TracingConfig).toEqual({ Mode: 'Active' });
    expect(fn.ReservedConcurrentExecutions).toBeGreaterThan(0);
  });

  it('R-SEC-6: nothing lets a user with TOTP skip it at sign-in (no remembered devices; every risk level asks for MFA)', () => {
    const pool = byType('AWS::Cognito::UserPool')[0]![1].Properties!;
    expect(pool.DeviceConfiguration).toBeUndefined();
    nested.hasResourceProperties('AWS::Cognito::UserPoolRiskConfigurationAttachment', {
      ClientId: 'ALL',
      AccountTakeoverRiskConfiguration: {
        Actions: {
          LowAction: { EventAction: 'MFA_IF_CONFIGURED', Notify: false },
          MediumAction: { EventAction: 'MFA_IF_CONFIGURED', Notify: false },
          HighAction: { EventAction: 'MFA_REQUIRED', Notify: false },
        },
      },
    });
  });
});

describe('workflows, schedules, ingestion events', () => {
  it('R-GOV-3, D5: the access-request machine runs the ASL with the workflow-tasks ARN substituted, and may invoke it', () => {
    const sm = resources[idOf(stack.workflows.accessRequestStateMachine)]!.Properties!;
    const fnId = idOf(stack.compute.workflowTasks.fn);
    expect(sm.StateMachineName).toBe('mdrp-dev-access-request');
    expect(sm.DefinitionSubstitutions).toEqual({ AccessWorkflowFunctionArn: { 'Fn::GetAtt': [fnId, 'Arn'] } });
    // The ASL is an asset (DefinitionBody.fromFile): every `${var}` in it must be substituted.
    expect(sm.DefinitionS3Location ?? sm.DefinitionString).toBeDefined();
    const aslFile = path.join(PROJECT_ROOT, 'state-machines', 'access-request.asl.json');
    if (fs.existsSync(aslFile)) {
      const asl = fs.readFileSync(aslFile, 'utf8');
      const vars = new Set([...asl.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]));
      expect([...vars]).toEqual(['AccessWorkflowFunctionArn']);
      const collect = (states: Record<string, any>): any[] =>
        Object.values(states).flatMap((st) => [
          st,
          ...(st.Branches ?? []).flatMap((b: any) => collect(b.States)),
          ...(st.Iterator ? collect(st.Iterator.States) : []),
          ...(st.ItemProcessor ? collect(st.ItemProcessor.States) : []),
        ]);
      const tasks = collect(JSON.parse(asl).States).filter((st) => st.Type === 'Task');
      expect(tasks.length).toBeGreaterThan(0);
      // The role grants only lambda:InvokeFunction: any other service integration needs a grant in workflows.ts.
      for (const t of tasks) expect(['arn:aws:states:::lambda:invoke', 'arn:aws:states:::lambda:invoke.waitForTaskToken']).toContain(t.Resource);
      for (const t of tasks) expect(t.Parameters?.FunctionName ?? t.Arguments?.FunctionName).toBe('${AccessWorkflowFunctionArn}');
    }
    expect(sm.TracingConfiguration).toEqual({ Enabled: true });
    expect(sm.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    const roleId = sm.RoleArn['Fn::GetAtt'][0];
    const statements = byType('AWS::IAM::ManagedPolicy')
      .filter(([, p]) => p.Properties!.Roles.some((r: any) => r.Ref === roleId))
      .flatMap(([, p]) => p.Properties!.PolicyDocument.Statement as any[]);
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [fnId, 'Arn'] } }));
  });

  it('R-GOV-5, D4: scheduler group, role allowed to invoke scheduled-jobs, daily sweep', () => {
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'mdrp-dev' });
    const fnId = idOf(stack.compute.scheduledJobs.fn);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      GroupName: 'mdrp-dev',
      ScheduleExpression: Match.stringLikeRegexp('^cron\\('),
      Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] } }),
    });
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [fnId, 'Arn'] } })]) },
      Roles: [{ Ref: idOf(stack.workflows.schedulerRole) }],
    });
  });

  it('D8, R-ING-5: staging → EventBridge → SQS (KMS, DLQ) → ingest-events with partial batch failures, batches of the files ingested together', () => {
    expect(resources[idOf(stack.data.stagingBucket)]!.Properties!.NotificationConfiguration).toEqual({ EventBridgeConfiguration: { EventBridgeEnabled: true } });
    template.hasResourceProperties('AWS::Events::Rule', { EventPattern: Match.objectLike({ source: ['aws.s3'], 'detail-type': ['Object Created'] }) });
    template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'mdrp-dev-ingest', KmsMasterKeyId: Match.anyValue(), RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }) });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: idOf(stack.compute.ingestEvents.fn) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: FILES_INGESTED_TOGETHER,
      MaximumBatchingWindowInSeconds: 5,
    });
    expect(byType('Custom::S3BucketNotifications')).toEqual([]);
  });
});

describe('audit', () => {
  it('R-AUD-1, R-AUD-2: CloudTrail validates log files and records data events for buckets and tables', () => {
    const [[, trail]] = byType('AWS::CloudTrail::Trail') as [[string, any]];
    const p = trail.Properties;
    expect(p.EnableLogFileValidation).toBe(true);
    expect(p.IsMultiRegionTrail).toBe(true);
    expect(p.KMSKeyId).toBeDefined();
    expect(p.EventSelectors).toBeUndefined();
    expect(p.S3BucketName).toEqual({ Ref: idOf(stack.data.archiveBucket) });
    const types = (p.AdvancedEventSelectors as any[]).flatMap((s) => s.FieldSelectors.filter((f: any) => f.Field === 'resources.type').flatMap((f: any) => f.Equals));
    expect(types).toEqual(expect.arrayContaining(['AWS::S3::Object', 'AWS::DynamoDB::Table']));
    const tableArns = JSON.stringify(p.AdvancedEventSelectors);
    for (const t of [stack.data.mainTable, stack.data.identityTable, stack.data.auditTable]) expect(tableArns).toContain(idOf(t));
  });
  it('R-AUD-5, R-SEC-9: a KMS-encrypted topic receives security alarms', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'mdrp-dev-security-alerts', KmsMasterKeyId: Match.anyValue() });
    expect(byType('AWS::CloudWatch::Alarm').length).toBeGreaterThanOrEqual(3);
  });
});

describe('portal hosting', () => {
  it('R-SEC-5: CloudFront with origin access control, HTTPS, security headers and logs; config deployed beside the site', () => {
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https', ResponseHeadersPolicyId: Match.anyValue() }),
        Logging: Match.objectLike({ Prefix: 'cloudfront/' }),
      }),
    });
    expect(byType('AWS::CloudFront::OriginAccessControl').length).toBe(1);
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({ SecurityHeadersConfig: Match.objectLike({ StrictTransportSecurity: Match.objectLike({ Override: true }) }) }),
    });
    expect(byType('Custom::CDKBucketDeployment').length).toBe(1);
  });
});

describe('dead letters', () => {
  it('R-ING-5: every function may send failed async events to the KMS-encrypted DLQ (queue and key)', () => {
    const key = stack.getLogicalId(stack.data.messagingKey.node.defaultChild as never);
    for (const f of stack.compute.all) {
      const roleId = stack.getLogicalId(f.role.node.defaultChild as never);
      const statements = Object.values(resources)
        .filter((r) => r.Type === 'AWS::IAM::ManagedPolicy' && (r.Properties!.Roles ?? []).some((x: any) => x.Ref === roleId))
        .flatMap((r) => r.Properties!.PolicyDocument.Statement as any[]);
      expect(statements.some((s) => s.Action === 'sqs:SendMessage'), f.fn.node.path).toBe(true);
      expect(statements.some((s) => s.Sid === 'DeadLetterQueueKey' && JSON.stringify(s.Resource).includes(key)), f.fn.node.path).toBe(true);
    }
  });
});
