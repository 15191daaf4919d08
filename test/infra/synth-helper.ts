import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildApp } from '../../infra/app';
import { apiModules, NON_API_MODULES } from '../../infra/constructs/compute';
import { PROJECT_ROOT } from '../../infra/constructs/lambda-function';
import { PRE_TOKEN_GENERATION_MODULE } from '../../infra/constructs/mfa-claim-trigger';

const cdkJson = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };

/**
 * Directory of handler entries for tests. Bundling is skipped in tests, so entries only need to
 * exist: real handlers are used when present; missing ones get a placeholder in a git-ignored
 * cache directory (never in functions/).
 */
export function testHandlersDir(): string {
  const real = path.join(PROJECT_ROOT, 'functions', 'handlers');
  const modules = [...apiModules(), ...NON_API_MODULES, PRE_TOKEN_GENERATION_MODULE];
  if (modules.every((m) => fs.existsSync(path.join(real, `${m}.handler.ts`)))) return 'functions/handlers';
  const dir = path.join(PROJECT_ROOT, 'node_modules', '.cache', 'mdrp-infra-test', 'handlers');
  fs.mkdirSync(dir, { recursive: true });
  for (const m of modules) {
    const file = path.join(dir, `${m}.handler.ts`);
    if (!fs.existsSync(file)) fs.writeFileSync(file, `export const handler = async () => ({ statusCode: 200, body: '${m}' });\n`);
  }
  return path.relative(PROJECT_ROOT, dir);
}

/** A minimal ASL using the substitution variable, when the real file does not exist yet. */
export function testAslPath(): string | undefined {
  const real = path.join(PROJECT_ROOT, 'state-machines', 'access-request.asl.json');
  if (fs.existsSync(real)) return undefined;
  const dir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'mdrp-asl-'));
  const file = path.join(dir, 'access-request.asl.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      StartAt: 'Wait',
      States: {
        Wait: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', Parameters: { FunctionName: '${AccessWorkflowFunctionArn}', 'Payload.$': '$' }, Next: 'Done' },
        Done: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: '${AccessWorkflowFunctionArn}', 'Payload.$': '$' }, End: true },
      },
    }),
  );
  return file;
}

/** Builds the app as `cdk synth` would (cdk.json context + overrides), without bundling. */
export function buildTestApp(overrides: Record<string, unknown> = {}) {
  process.env.CDK_VALIDATION ??= 'false';
  const app = new App({
    context: { ...cdkJson.context, handlersDir: testHandlersDir(), 'aws:cdk:bundling-stacks': [], ...overrides },
    outdir: fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'mdrp-cdk-')),
  });
  return buildApp(app, { accessRequestAslPath: testAslPath() });
}
