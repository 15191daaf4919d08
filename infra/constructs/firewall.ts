import { RemovalPolicy, Stack, ArnFormat } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import type { RouteDefinition } from '../../functions/http/route-definition';
import { pascal, pathRegex } from './route-mapping';

/** Largest body WAF inspects on API Gateway (8 KB): tighter per-route limits are enforced here, larger ones by the handler. */
export const WAF_BODY_INSPECTION_LIMIT = 8 * 1024;

export interface FirewallProps {
  /** WebACL name; the log group is `aws-waf-logs-<name>`. */
  readonly name: string;
  readonly stage: apigw.Stage;
  /** Routes behind this API (per-route body-size limits). */
  readonly routes: readonly RouteDefinition[];
  readonly logsKey: kms.IKey;
  /**
   * Source CIDRs allowed to call at all (R-SEC-7 partner allow-list). `undefined` = no
   * allow-list rule; `[]` = rule present in COUNT mode until the first partner is onboarded.
   */
  readonly allowedCidrs?: readonly string[];
  /** Requests per 5 minutes per source IP before blocking. */
  readonly rateLimit?: number;
}

/**
 * WAF WebACL for one API stage (R-SEC-7): AWS managed rule sets, per-IP rate limit, optional
 * IP allow-list, per-route body-size limits from the route table; logs to `aws-waf-logs-*`
 * with the `authorization` and `x-api-key` headers redacted (credentials never reach logs).
 */
export class Firewall extends Construct {
  public readonly webAcl: wafv2.CfnWebACL;
  public readonly ipSet?: wafv2.CfnIPSet;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: FirewallProps) {
    super(scope, id);
    const metric = (n: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({ cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: `${props.name}-${n}`.replace(/[^A-Za-z0-9_-]/g, '-') });
    const rules: wafv2.CfnWebACL.RuleProperty[] = [];
    let priority = 0;

    if (props.allowedCidrs) {
      this.ipSet = new wafv2.CfnIPSet(this, 'AllowList', {
        name: `${props.name}-allow-list`,
        description: 'Partner source CIDRs for the R-SEC-7 allow-list, set by context partnerCidrs',
        scope: 'REGIONAL',
        ipAddressVersion: 'IPV4',
        addresses: [...props.allowedCidrs],
      });
      const enforce = props.allowedCidrs.length > 0;
      rules.push({
        name: 'PartnerIpAllowList',
        priority: priority++,
        // With no partner CIDR configured yet the rule only counts, so a fresh deployment is usable.
        action: enforce ? { block: {} } : { count: {} },
        statement: { notStatement: { statement: { ipSetReferenceStatement: { arn: this.ipSet.attrArn } } } },
        visibilityConfig: metric('allow-list'),
      });
    }

    rules.push({
      name: 'RateLimitPerIp',
      priority: priority++,
      action: { block: {} },
      statement: { rateBasedStatement: { limit: props.rateLimit ?? 2000, aggregateKeyType: 'IP', evaluationWindowSec: 300 } },
      visibilityConfig: metric('rate'),
    });

    const managed = (name: string, excludeToCount: string[] = []): wafv2.CfnWebACL.RuleProperty => ({
      name,
      priority: priority++,
      overrideAction: { none: {} },
      statement: {
        managedRuleGroupStatement: {
          vendorName: 'AWS',
          name,
          ruleActionOverrides: excludeToCount.length ? excludeToCount.map((n) => ({ name: n, actionToUse: { count: {} } })) : undefined,
        },
      },
      visibilityConfig: metric(name),
    });
    rules.push(
      managed('AWSManagedRulesAmazonIpReputationList'),
      // Body size is limited per route below (and by handlers), not by the generic 8 KB rule.
      managed('AWSManagedRulesCommonRuleSet', ['SizeRestrictions_BODY']),
      managed('AWSManagedRulesKnownBadInputsRuleSet'),
    );

    // Per-route body limits from the route table (`request.maxBodyBytes`), grouped by size.
    const bySize = new Map<number, RouteDefinition[]>();
    for (const r of props.routes) {
      const max = r.request?.maxBodyBytes;
      if (max !== undefined && max <= WAF_BODY_INSPECTION_LIMIT) bySize.set(max, [...(bySize.get(max) ?? []), r]);
    }
    for (const [size, rs] of [...bySize.entries()].sort((a, b) => a[0] - b[0])) {
      const pathMatches = rs.map<wafv2.CfnWebACL.StatementProperty>((r) => ({
        regexMatchStatement: { regexString: pathRegex(r), fieldToMatch: { uriPath: {} }, textTransformations: [{ priority: 0, type: 'NONE' }] },
      }));
      rules.push({
        name: `BodyLimit${size}`,
        priority: priority++,
        action: { block: {} },
        statement: {
          andStatement: {
            statements: [
              { sizeConstraintStatement: { comparisonOperator: 'GT', size, fieldToMatch: { body: { oversizeHandling: 'MATCH' } }, textTransformations: [{ priority: 0, type: 'NONE' }] } },
              pathMatches.length === 1 ? pathMatches[0]! : { orStatement: { statements: pathMatches } },
            ],
          },
        },
        visibilityConfig: metric(`body-${size}-${rs.map((r) => pascal(r.operationId)).join('').slice(0, 40)}`),
      });
    }

    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name: props.name,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      rules,
      visibilityConfig: metric('acl'),
    });
    new wafv2.CfnWebACLAssociation(this, 'Association', { resourceArn: props.stage.stageArn, webAclArn: this.webAcl.attrArn });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      // WAF only logs to CloudWatch log groups whose name starts with aws-waf-logs-.
      logGroupName: `aws-waf-logs-${props.name}`,
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logsKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const logging = new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      logDestinationConfigs: [
        Stack.of(this).formatArn({ service: 'logs', resource: 'log-group', resourceName: this.logGroup.logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      ],
      redactedFields: [{ singleHeader: { Name: 'authorization' } }, { singleHeader: { Name: 'x-api-key' } }],
    });
    logging.node.addDependency(this.logGroup);
  }
}
