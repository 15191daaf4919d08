import { join } from 'node:path';
import { REPO_ROOT, startPlatform } from './platform';

/**
 * `npm start`: the whole platform on this machine. Data persists in `.mdrp/` (git-ignored);
 * `npm run reset` wipes it. Ctrl-C stops every child process.
 */
async function main(): Promise<void> {
  const t0 = Date.now();
  const apiPort = Number(process.env.MDRP_API_PORT ?? 4000);
  const webPort = Number(process.env.MDRP_WEB_PORT ?? 3000);
  console.log('[mdrp] starting emulators (DynamoDB Local, s3rver, cognito-local)…');
  const oidcPort = Number(process.env.MDRP_OIDC_PORT ?? 9240);
  const platform = await startPlatform({ dataDir: join(REPO_ROOT, '.mdrp'), apiPort, webPort, oidcPort, log: (l) => console.log(`[mdrp] ${l}`) });
  const pad = (s: string, n: number) => s.padEnd(n);
  console.log(`
MDRP is running (ready in ${((Date.now() - t0) / 1000).toFixed(1)} s)
  Portal:  ${platform.webUrl}
  API:     ${platform.apiUrl}   (OpenAPI: ${platform.apiUrl}/v1/openapi.json)
  Cognito: ${platform.cognito.endpoint}  pool ${platform.cognito.userPoolId}  client ${platform.cognito.userPoolClientId}
  Partner OAuth 2.0 token URL (client credentials): ${platform.oauth.tokenEndpoint}

Demo accounts (local only):
${platform.accounts.map((a) => `  ${pad(a.role, 16)} ${pad(a.username, 16)} ${a.password}   ${a.displayName}`).join('\n')}
${platform.demoPartner ? `  ${pad('partner', 16)} ${pad(platform.demoPartner.partnerId, 16)} x-api-key: ${platform.demoPartner.apiKey}  client: ${platform.demoPartner.clientId ?? '-'} / ${platform.demoPartner.clientSecret ?? '-'}` : ''}

Press Ctrl-C to stop.`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n[mdrp] ${signal}: stopping…`);
    await platform.stop();
    console.log('[mdrp] stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((e: unknown) => {
  console.error('[mdrp] failed to start:', e instanceof Error ? e.message : e);
  process.exit(1);
});
