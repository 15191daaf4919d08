import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startPlatform, type RunningPlatform } from '../../infra/local/platform';
import { freePort } from '../../infra/local/emulators/process-utils';

/** What platform tests receive through `inject('platform')`. */
export interface PlatformInfo {
  apiUrl: string;
  webUrl: string;
  accounts: Array<{ role: string; username: string; password: string }>;
  cognito: { endpoint: string; userPoolId: string; userPoolClientId: string };
  dynamoEndpoint: string;
  s3Endpoint: string;
  /** The platform's data folder (its keys are in `<dataDir>.keys/`): command-line tools are pointed at it. */
  dataDir: string;
  /** The partners' local OAuth 2.0 provider (client credentials); the key file lets tests forge expired tokens. */
  oauth?: { issuer: string; tokenEndpoint: string; jwksUrl: string; signingKeyFile: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    platform: PlatformInfo;
  }
}

let running: RunningPlatform | undefined;
let dir: string | undefined;

/** Starts one platform (fresh data folder, free ports, demo data) for every platform test file. */
export async function setup(project: TestProject): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'mdrp-test-'));
  const [apiPort, webPort, dynamoPort, s3Port, cognitoBase, oidcPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
  running = await startPlatform({
    dataDir: join(dir, 'data'),
    apiPort,
    webPort,
    dynamoPort,
    s3Port,
    // cognito-local takes cognitoPort and the refresh proxy cognitoPort+1.
    cognitoPort: cognitoBase,
    oidcPort,
    quiet: true,
    schedulerIntervalMs: 500,
    inMemoryDatabase: true,
    waitForSeed: true,
    // A smaller cohort than `npm start` (60): same generator, same shapes, a faster suite.
    demoPatients: 24,
  });
  project.provide('platform', {
    apiUrl: running.apiUrl,
    webUrl: running.webUrl,
    accounts: running.accounts,
    cognito: { endpoint: running.cognito.endpoint, userPoolId: running.cognito.userPoolId, userPoolClientId: running.cognito.userPoolClientId },
    dynamoEndpoint: running.config.endpoints!.dynamodb!,
    s3Endpoint: running.config.endpoints!.s3!,
    dataDir: join(dir, 'data'),
    oauth: running.oauth,
  });
}

export async function teardown(): Promise<void> {
  await running?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
