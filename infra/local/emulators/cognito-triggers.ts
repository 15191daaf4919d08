import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PreTokenGenerationV2TriggerEvent } from 'aws-lambda';

/** A Cognito trigger handler as deployed (the Lambda's own function, not a local copy). */
export type PreTokenGenerationHandler = (event: PreTokenGenerationV2TriggerEvent) => Promise<PreTokenGenerationV2TriggerEvent>;

/** The function name cognito-local is configured to invoke for `PreTokenGeneration`. */
export const PRE_TOKEN_GENERATION_FUNCTION = 'mdrp-pre-token-generation';

/**
 * The event cognito-local sends: the V1 pre-token-generation shape (`response.claimsOverrideDetails`).
 * Its request part is the one the V2 handler reads (`userPoolId`, `userName`, `triggerSource`,
 * `request.userAttributes`).
 */
interface V1PreTokenEvent {
  userPoolId: string;
  userName: string;
  triggerSource: string;
  request: { userAttributes: Record<string, string> };
  response: { claimsOverrideDetails?: { claimsToAddOrOverride?: Record<string, string>; claimsToSuppress?: string[] } };
}

/**
 * Runs the V2 handler on a V1 event and answers in V1: cognito-local applies
 * `claimsOverrideDetails` to the ID token, the same place V2's `idTokenGeneration` targets in AWS.
 */
export async function invokePreTokenGeneration(handler: PreTokenGenerationHandler, event: V1PreTokenEvent): Promise<V1PreTokenEvent> {
  const v2 = (await handler({ ...event, version: '2', response: { claimsAndScopeOverrideDetails: {} } } as unknown as PreTokenGenerationV2TriggerEvent)).response.claimsAndScopeOverrideDetails;
  const id = v2?.idTokenGeneration;
  const claims = Object.fromEntries(Object.entries(id?.claimsToAddOrOverride ?? {}).map(([k, v]) => [k, String(v)]));
  return { ...event, response: { claimsOverrideDetails: { claimsToAddOrOverride: claims, ...(id?.claimsToSuppress ? { claimsToSuppress: id.claimsToSuppress } : {}) } } };
}

/**
 * A minimal Lambda `Invoke` endpoint (`POST /2015-03-31/functions/<name>/invocations`) for
 * cognito-local's triggers, so the local user pool runs the same pre-token-generation handler as
 * the deployed pool (infra/constructs/mfa-claim-trigger.ts): local ID tokens carry `mdrp:mfa`
 * exactly when a TOTP factor is active (R-SEC-6). Only the configured function answers; anything
 * else is 404. A handler failure is reported as a Lambda function error, which cognito-local turns
 * into a failed sign-in — fail closed, as Cognito does when its trigger fails.
 */
export async function startCognitoTriggerEndpoint(opts: { preTokenGeneration: () => PreTokenGenerationHandler }): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(req.url ?? '');
      if (req.method !== 'POST' || decodeURIComponent(match?.[1] ?? '') !== PRE_TOKEN_GENERATION_FUNCTION) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ Type: 'User', message: 'Function not found' }));
        return;
      }
      let event: V1PreTokenEvent;
      try {
        event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as V1PreTokenEvent;
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ Type: 'User', message: 'Invalid request payload' }));
        return;
      }
      invokePreTokenGeneration(opts.preTokenGeneration(), event).then(
        (out) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out)),
        (err: unknown) =>
          res
            .writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' })
            .end(JSON.stringify({ errorType: 'Error', errorMessage: err instanceof Error ? err.message : 'trigger failed' })),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
