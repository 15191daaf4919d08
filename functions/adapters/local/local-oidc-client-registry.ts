import { randomBytes } from 'node:crypto';
import type { DocumentStore, Item } from '../../core/ports/document-store';
import type { OAuthClientCredentials, OAuthClientRegistry } from '../../core/ports/oauth-client-registry';

/** Client metadata in the form `oidc-provider` reads it (RFC 7591 names). */
export interface LocalOidcClientMetadata {
  client_id: string;
  client_secret: string;
  client_name: string;
  grant_types: ['client_credentials'];
  response_types: [];
  redirect_uris: [];
  token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post';
  scope: string;
}

export type LocalOidcClientItem = Item & { client: LocalOidcClientMetadata };

/** Document-store key of a local OAuth client (shared with the local OIDC provider's adapter). */
export function localOidcClientKey(clientId: string): { pk: string; sk: string } {
  return { pk: `OIDCCLIENT#${clientId}`, sk: 'OIDCCLIENT' };
}

/**
 * Partner OAuth clients of the local OIDC provider (infra/local/emulators/oidc-provider.ts),
 * kept in the document store so a restart keeps them. Stand-in for Cognito app clients, which
 * cognito-local cannot issue client-credentials tokens for. Scopes use Cognito's resource-server
 * form (`mdrp/catalog.read`) so partner integrations request the same strings in both places.
 * Like cognito-local, the emulator keeps the secret itself (it must compare it); local data only.
 */
export class LocalOidcClientRegistry implements OAuthClientRegistry {
  constructor(
    private readonly store: DocumentStore,
    readonly tokenEndpoint: string,
    private readonly resourceServerId: string,
  ) {}

  async createClient(partnerId: string, scopes: readonly string[]): Promise<OAuthClientCredentials> {
    // Cognito-like shapes: 26-character client id, 51-character secret.
    const clientId = randomBytes(20).toString('base64url').replace(/[-_]/g, '').slice(0, 26).toLowerCase();
    const clientSecret = randomBytes(38).toString('base64url');
    const client: LocalOidcClientMetadata = {
      client_id: clientId,
      client_secret: clientSecret,
      client_name: `partner-${partnerId}`,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: scopes.map((s) => `${this.resourceServerId}/${s}`).join(' '),
    };
    await this.store.put('main', { ...localOidcClientKey(clientId), client } satisfies LocalOidcClientItem, { ifNotExists: true });
    return { clientId, clientSecret };
  }

  async deleteClient(clientId: string): Promise<void> {
    await this.store.delete('main', localOidcClientKey(clientId));
  }
}
