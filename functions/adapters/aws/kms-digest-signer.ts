import { GetPublicKeyCommand, SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import { createHash, createPublicKey } from 'node:crypto';
import type { DigestSigner } from '../../core/ports/digest-signer';

/**
 * KMS digest signer: the audit signing key (`ECC_NIST_P256`, `SIGN_VERIFY`, created by CDK) signs
 * digests with `ECDSA_SHA_256`; its private half never leaves KMS. The SHA-256 is computed here and
 * sent as `MessageType: DIGEST`, because a digest file can exceed the 4 KB `RAW` message limit;
 * the signature is the same one `RAW` would give (KMS hashes RAW messages with SHA-256 too).
 *
 * @example
 * const signer = new KmsDigestSigner(new KMSClient({}), config.keys.auditSigningKeyArn);
 */
export class KmsDigestSigner implements DigestSigner {
  private publicPem?: Promise<string>;

  constructor(
    private readonly kms: Pick<KMSClient, 'send'>,
    readonly keyId: string,
  ) {}

  async sign(digestBytes: Uint8Array): Promise<{ keyId: string; signature: string }> {
    const digest = createHash('sha256').update(digestBytes).digest();
    const out = await this.kms.send(new SignCommand({ KeyId: this.keyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }));
    if (!out.Signature) throw new Error('KMS returned no signature');
    return { keyId: out.KeyId ?? this.keyId, signature: Buffer.from(out.Signature).toString('base64') };
  }

  /** `GetPublicKey` (DER SubjectPublicKeyInfo) as PEM; fetched once per instance. */
  publicKeyPem(): Promise<string> {
    this.publicPem ??= this.kms.send(new GetPublicKeyCommand({ KeyId: this.keyId })).then((out) => {
      if (!out.PublicKey) throw new Error('KMS returned no public key');
      if (out.KeySpec && out.KeySpec !== 'ECC_NIST_P256') throw new Error(`the audit signing key must be ECC_NIST_P256, not ${out.KeySpec}`);
      return createPublicKey({ key: Buffer.from(out.PublicKey), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString();
    });
    this.publicPem.catch(() => (this.publicPem = undefined));
    return this.publicPem;
  }
}
