import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import type { DigestSigner } from '../../core/ports/digest-signer';

/**
 * Local digest signer: ECDSA P-256 with the private key of the local key file
 * (`LocalKeyMaterial.auditSigningKeyPem`), the stand-in for the KMS signing key. The key id is
 * derived from the public key, so digests signed with another key file are told apart.
 *
 * @example
 * const signer = new LocalDigestSigner(loadOrCreateLocalKeys(file).auditSigningKeyPem);
 */
export class LocalDigestSigner implements DigestSigner {
  readonly keyId: string;
  private readonly privateKey: KeyObject;
  private readonly publicPem: string;

  constructor(privateKeyPem: string) {
    this.privateKey = createPrivateKey(privateKeyPem);
    if (this.privateKey.asymmetricKeyType !== 'ec' || this.privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new Error('the audit signing key must be an EC P-256 private key');
    }
    const publicKey = createPublicKey(this.privateKey);
    this.publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    this.keyId = `local:audit-signing:${publicKeyFingerprint(this.publicPem)}`;
  }

  async sign(digestBytes: Uint8Array): Promise<{ keyId: string; signature: string }> {
    const signature = sign('sha256', digestBytes, { key: this.privateKey, dsaEncoding: 'der' });
    return { keyId: this.keyId, signature: signature.toString('base64') };
  }

  async publicKeyPem(): Promise<string> {
    return this.publicPem;
  }
}

/** First 16 hex of SHA-256 over the DER SubjectPublicKeyInfo (as CloudTrail's key fingerprints). */
export function publicKeyFingerprint(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}
