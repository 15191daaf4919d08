import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import Provider, { type Adapter, type AdapterPayload, type Configuration } from 'oidc-provider';
import { PARTNER_SCOPES } from '../../../functions/core/partners/partner-service';
import type { DocumentStore } from '../../../functions/core/ports/document-store';
import { localOidcClientKey, type LocalOidcClientItem } from '../../../functions/adapters/local/local-oidc-client-registry';

/** Audience the local provider puts in partner access tokens (the front checks it). */
export const LOCAL_PARTNER_AUDIENCE = 'urn:mdrp:partner-api';

export interface LocalOidcProviderOptions {
  /** 0 = any free port. */
  port: number;
  /** Where partner clients live (written by `LocalOidcClientRegistry`): they survive restarts. */
  documents: DocumentStore;
  /** JSON file holding the token-signing key (mode 0600, kept with the other local keys, apart from data). */
  signingKeyFile: string;
  /** Resource server identifier: scopes are `<id>/<scope>`, as in Cognito. */
  resourceServerId: string;
  /** Access-token lifetime (default 3600 s, like the Cognito partner client). */
  accessTokenTtlSeconds?: number;
}

export interface LocalOidcProvider {
  issuer: string;
  tokenEndpoint: string;
  jwksUrl: string;
  audience: string;
  close(): Promise<void>;
}

/**
 * The OAuth 2.0 authorization server for partners on one machine (cognito-local has no
 * client-credentials flow, see LOCAL-RUNTIME.md): `oidc-provider` issuing RS256 JWT access
 * tokens (`client_id`, `scope`, `exp`, `aud`) for the client-credentials grant only. Clients are
 * read from the document store; the signing key persists, so tokens verify across restarts.
 */
export async function startLocalOidcProvider(opts: LocalOidcProviderOptions): Promise<LocalOidcProvider> {
  // Listen first (port 0 = any free port), so the issuer URL names the real port.
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const scopes = PARTNER_SCOPES.map((s) => `${opts.resourceServerId}/${s}`);
  const documents = opts.documents;

  // Only clients are persistent; client-credentials JWTs are self-contained and not stored.
  const memory = new Map<string, AdapterPayload>();
  class StoreAdapter implements Adapter {
    constructor(private readonly model: string) {}
    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') return (await documents.get<LocalOidcClientItem>('main', localOidcClientKey(id)))?.client as AdapterPayload | undefined;
      return memory.get(`${this.model}:${id}`);
    }
    async upsert(id: string, payload: AdapterPayload): Promise<void> {
      if (this.model !== 'Client') memory.set(`${this.model}:${id}`, payload);
    }
    async destroy(id: string): Promise<void> {
      memory.delete(`${this.model}:${id}`);
    }
    async consume(id: string): Promise<void> {
      const p = memory.get(`${this.model}:${id}`);
      if (p) p.consumed = Math.floor(Date.now() / 1000);
    }
    async findByUid(): Promise<undefined> {
      return undefined;
    }
    async findByUserCode(): Promise<undefined> {
      return undefined;
    }
    async revokeByGrantId(): Promise<void> {}
  }

  const ttl = opts.accessTokenTtlSeconds ?? 3600;
  const config: Configuration = {
    adapter: StoreAdapter,
    jwks: { keys: [signingKey(opts.signingKeyFile)] },
    scopes,
    clientDefaults: { grant_types: ['client_credentials'], response_types: [], token_endpoint_auth_method: 'client_secret_basic' },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: false },
      revocation: { enabled: false },
      resourceIndicators: {
        enabled: true,
        // Partners need not send `resource`: every token is for the partner API.
        defaultResource: () => LOCAL_PARTNER_AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: scopes.join(' '), audience: LOCAL_PARTNER_AUDIENCE, accessTokenFormat: 'jwt', accessTokenTTL: ttl, jwt: { sign: { alg: 'RS256' } } }),
      },
    },
    ttl: { ClientCredentials: ttl },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    findAccount: async () => undefined,
  };
  const provider = new Provider(issuer, config);
  server.on('request', provider.callback());
  return {
    issuer,
    tokenEndpoint: `${issuer}/token`,
    jwksUrl: `${issuer}/jwks`,
    audience: LOCAL_PARTNER_AUDIENCE,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Loads the RSA signing key, creating it on first start (mode 0600). */
function signingKey(file: string): { kty: 'RSA'; kid: string; alg: string; use: string } & Record<string, string> {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as ReturnType<typeof signingKey>;
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...(createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' })).export({ format: 'jwk' }) as Record<string, string>), kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' };
  writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
  chmodSync(file, 0o600);
  return jwk as ReturnType<typeof signingKey>;
}
