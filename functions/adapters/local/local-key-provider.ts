import { RawAesKeyringNode, RawAesWrappingSuiteIdentifier } from '@aws-crypto/client-node';
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { EnvelopeKeyProvider } from '../shared/envelope-key-provider';

/** Contents of the local key file (kept outside the data folder, mode 0600). */
export interface LocalKeyMaterial {
  data: string;
  identity: string;
  match: string;
  pseudonym: string;
  /** PEM private key (P-256) that signs audit digests locally, like the KMS signing key in AWS. */
  auditSigningKeyPem: string;
}

/** Loads the key file, creating it with fresh random keys on first use. */
export function loadOrCreateLocalKeys(file: string): LocalKeyMaterial {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as LocalKeyMaterial;
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const material: LocalKeyMaterial = {
    data: randomBytes(32).toString('base64'),
    identity: randomBytes(32).toString('base64'),
    match: randomBytes(32).toString('base64'),
    pseudonym: randomBytes(32).toString('base64'),
    auditSigningKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
  writeFileSync(file, JSON.stringify(material, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
  return material;
}

/**
 * Local key provider: the AWS Encryption SDK with raw AES-256 keyrings (one key per purpose, so
 * the identity vault's key is apart from the research data's) and HMAC-SHA-256 with raw keys.
 */
export class LocalKeyProvider extends EnvelopeKeyProvider {
  constructor(material: LocalKeyMaterial) {
    const ring = (name: string, b64: string) => ({
      keyId: `local:${name}`,
      keyring: new RawAesKeyringNode({
        keyName: name,
        keyNamespace: 'mdrp-local',
        unencryptedMasterKey: new Uint8Array(Buffer.from(b64, 'base64')),
        wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
      }),
    });
    const macKeys = { 'identifier-match': Buffer.from(material.match, 'base64'), pseudonym: Buffer.from(material.pseudonym, 'base64') };
    super({ data: ring('data', material.data), identity: ring('identity', material.identity) }, async (purpose, message) =>
      createHmac('sha256', macKeys[purpose]).update(message, 'utf8').digest('hex'),
    );
  }
}
