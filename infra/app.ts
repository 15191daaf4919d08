import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { readContext } from './context';
import { MdrpStack } from './stacks/mdrp-stack';

/**
 * CDK app entry (`cdk.json`: `npx tsx infra/app.ts`).
 * `-c stage=prod -c vpc=true`, `-c target=localstack`, see infra/README.md for every option.
 */
export function buildApp(app: App = new App(), options: { accessRequestAslPath?: string; nag?: boolean } = {}): { app: App; stack: MdrpStack } {
  const context = readContext(app);
  const stack = new MdrpStack(app, `Mdrp-${context.stage}`, {
    context,
    accessRequestAslPath: options.accessRequestAslPath,
    description: `MDRP research data platform (${context.stage})`,
    // The region must be concrete (TableV2 with a customer-managed key cannot render region-agnostic);
    // the account stays agnostic unless the CLI knows it (offline synth needs no credentials).
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: context.region },
    tags: { project: 'mdrp', stage: context.stage },
  });
  // cdk-nag v3: validation plugins. LocalStack deployments skip them (its feature set differs).
  if (context.target === 'aws' && options.nag !== false) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new HIPAASecurityChecks(app));
  }
  return { app, stack };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  buildApp().app.synth();
}
