import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_DEMO_PASSWORD } from './demo-accounts';
import { REPO_ROOT } from './platform';

/**
 * `npm run token -- <username> [password]`: prints an ID token of a demo user of the running local
 * platform, for `curl -H "Authorization: Bearer $(npm run -s token -- researcher)" …`.
 */
async function main(): Promise<void> {
  const [username = 'researcher', password = process.env.MDRP_DEMO_PASSWORD ?? DEFAULT_DEMO_PASSWORD] = process.argv.slice(2);
  const stateFile = join(REPO_ROOT, '.mdrp', 'local-state.json');
  if (!existsSync(stateFile)) throw new Error('no local platform state: run `npm start` first');
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { userPool: { userPoolClientId: string } };
  const port = Number(process.env.MDRP_COGNITO_PORT ?? 9229);
  const cognito = new CognitoIdentityProviderClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const out = await cognito.send(
    new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: state.userPool.userPoolClientId, AuthParameters: { USERNAME: username, PASSWORD: password } }),
  );
  process.stdout.write(`${out.AuthenticationResult?.IdToken}\n`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
