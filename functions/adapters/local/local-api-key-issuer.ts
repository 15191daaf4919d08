import { createHash, randomBytes } from 'node:crypto';
import type { ApiKeyIssuer, IssuedApiKey } from '../../core/ports/api-key-issuer';
import type { DocumentStore, Item } from '../../core/ports/document-store';

/** A locally issued key as the local front sees it: the SHA-256 of the value, never the value. */
export interface LocalApiKeyRecord {
  keyId: string;
  partnerId: string;
  plan: string;
  enabled: boolean;
}

/**
 * Local stand-in for API Gateway API keys: random 40-character keys whose SHA-256 is stored in
 * the document store; the local front looks keys up by hash, as API Gateway does by value.
 */
export class LocalApiKeyIssuer implements ApiKeyIssuer {
  constructor(private readonly store: DocumentStore) {}

  async issue(partnerId: string, plan: string): Promise<IssuedApiKey> {
    const value = randomBytes(30).toString('base64url');
    const keyId = `key_${randomBytes(8).toString('hex')}`;
    const hash = LocalApiKeyIssuer.hash(value);
    await this.store.transact([
      { kind: 'put', table: 'main', item: { pk: `APIKEY#${hash}`, sk: 'APIKEY', record: { keyId, partnerId, plan, enabled: true } satisfies LocalApiKeyRecord }, options: { ifNotExists: true } },
      { kind: 'put', table: 'main', item: { pk: `APIKEYID#${keyId}`, sk: 'APIKEY', hash }, options: { ifNotExists: true } },
    ]);
    return { keyId, value, plan };
  }

  async revoke(keyId: string): Promise<void> {
    const ref = await this.store.get<Item & { hash: string }>('main', { pk: `APIKEYID#${keyId}`, sk: 'APIKEY' });
    if (!ref) return;
    const item = await this.store.get<Item & { record: LocalApiKeyRecord }>('main', { pk: `APIKEY#${ref.hash}`, sk: 'APIKEY' });
    if (item) await this.store.put('main', { ...item, record: { ...item.record, enabled: false } });
  }

  /** The key record for a presented value, if any. */
  async lookup(value: string): Promise<LocalApiKeyRecord | undefined> {
    return (await this.store.get<Item & { record: LocalApiKeyRecord }>('main', { pk: `APIKEY#${LocalApiKeyIssuer.hash(value)}`, sk: 'APIKEY' }))?.record;
  }

  static hash(value: string): string {
    return createHash('sha256').update(value, 'utf8').digest('hex');
  }
}
