import { Stack, Token, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/**
 * Renders a (possibly tokenized) ARN the way cdk-nag names it in finding ids
 * (`<LogicalId.Arn>/prefix/*`, `<AWS::AccountId>`), so acknowledgements name exact findings.
 */
export function nagResourceName(scope: IConstruct, value: unknown): string {
  const render = (v: unknown): string => {
    if (typeof v === 'string') return v;
    if (Array.isArray(v)) return v.map(render).join('');
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if ('Ref' in o) return `<${String(o.Ref)}>`;
      if ('Fn::GetAtt' in o) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
      if ('Fn::Sub' in o && typeof o['Fn::Sub'] === 'string') return o['Fn::Sub'].replace(/\$\{([^}]+)\}/g, '<$1>');
      if ('Fn::Join' in o) {
        const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
        return parts.map(render).join(sep);
      }
    }
    return JSON.stringify(v);
  };
  if (typeof value === 'string' && !Token.isUnresolved(value)) return value;
  return render(Stack.of(scope).resolve(value));
}

/**
 * Acknowledges every IAM5 finding (wildcard action or resource) of a policy document that
 * aws-cdk-lib writes for its own helpers, naming each finding exactly.
 */
export function acknowledgeAllWildcards(scope: IConstruct, document: iam.PolicyDocument, reason: string): void {
  const resolved = Stack.of(scope).resolve(document) as { Statement?: Array<{ Action?: unknown; Resource?: unknown }> } | undefined;
  const ids = new Set<string>();
  for (const st of resolved?.Statement ?? []) {
    for (const a of ([] as unknown[]).concat(st.Action ?? [])) if (typeof a === 'string' && a.includes('*')) ids.add(`AwsSolutions-IAM5[Action::${a}]`);
    for (const r of ([] as unknown[]).concat(st.Resource ?? [])) {
      const name = nagResourceName(scope, r);
      if (name.includes('*')) ids.add(`AwsSolutions-IAM5[Resource::${name}]`);
    }
  }
  Validations.of(scope).acknowledge(...[...ids].map((id) => ({ id, reason })));
}

/** Acknowledges the IAM5 finding for one wildcard resource of a statement on `scope`. */
export function acknowledgeWildcardResource(scope: IConstruct, resource: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${nagResourceName(scope, resource)}]`, reason });
}
