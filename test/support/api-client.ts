import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import createClient from 'openapi-fetch';
import type { paths } from '../../web/lib/api-schema';
import type { PlatformInfo } from './platform-setup';

/** Signs a demo user in against the platform's Cognito (USER_PASSWORD_AUTH) and returns the ID token. */
export async function idTokenFor(platform: PlatformInfo, username: string): Promise<string> {
  const account = platform.accounts.find((a) => a.username === username);
  if (!account) throw new Error(`no demo account ${username}`);
  const cognito = new CognitoIdentityProviderClient({ region: 'us-east-1', endpoint: platform.cognito.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const out = await cognito.send(
    new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: platform.cognito.userPoolClientId, AuthParameters: { USERNAME: username, PASSWORD: account.password } }),
  );
  return out.AuthenticationResult!.IdToken!;
}

/** A tiny caller of the local API as a given user (or anonymously). */
export function apiAs(platform: PlatformInfo, token?: string) {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${platform.apiUrl}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, json, text };
  };
  return {
    get: (path: string, headers?: Record<string, string>) => call('GET', path, undefined, headers),
    post: (path: string, body: unknown, headers?: Record<string, string>) => call('POST', path, body, headers),
    call,
  };
}

/**
 * A caller typed from the generated OpenAPI schema (`web/lib/api-schema.ts`, `npm run gen:api`):
 * paths, parameters, bodies and responses are checked by the compiler, so tests cannot drift from
 * the API (R-INT-2). `headers` carry e.g. a partner's `x-api-key`.
 *
 * @example
 * const { data, response } = await typedApiAs(platform, token).GET('/v1/datasets/{datasetId}', { params: { path: { datasetId } } });
 */
export function typedApiAs(platform: PlatformInfo, token?: string, headers: Record<string, string> = {}) {
  return createClient<paths>({ baseUrl: platform.apiUrl, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
}

/** Polls until `fn` returns a truthy value (the workflow runs asynchronously after a decision). */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
