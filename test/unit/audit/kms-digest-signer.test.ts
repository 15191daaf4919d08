import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { KmsDigestSigner } from '../../../functions/adapters/aws/kms-digest-signer';
import { LocalDigestSigner } from '../../../functions/adapters/local/local-digest-signer';
import { newSigningKeyPem } from './audit-fixtures';

const ARN = 'arn:aws:kms:us-east-1:111122223333:key/audit-signing';

describe('digest signers (KMS in AWS, key file locally)', () => {
  const kms = mockClient(KMSClient);
  beforeEach(() => kms.reset());

  it('R-AUD-2: the KMS signer sends SHA-256 of the digest as MessageType DIGEST with ECDSA_SHA_256', async () => {
    // Prepare: KMS's answer is simulated with a local key signing the same message.
    const pem = newSigningKeyPem();
    const message = Buffer.from('{"digestId":"dig_1"}');
    kms.on(SignCommand).resolves({ KeyId: ARN, Signature: sign('sha256', message, createPrivateKey(pem)), SigningAlgorithm: 'ECDSA_SHA_256' });
    kms.on(GetPublicKeyCommand).resolves({ KeyId: ARN, KeySpec: 'ECC_NIST_P256', PublicKey: createPublicKey(pem).export({ type: 'spki', format: 'der' }) });
    const signer = new KmsDigestSigner(new KMSClient({ region: 'us-east-1' }), ARN);
    // Act
    const out = await signer.sign(message);
    const publicPem = await signer.publicKeyPem();
    await signer.publicKeyPem();
    // Assess
    const input = kms.commandCalls(SignCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ KeyId: ARN, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' });
    expect(Buffer.from(input.Message!)).toEqual(createHash('sha256').update(message).digest());
    expect(out.keyId).toBe(ARN);
    expect(verify('sha256', message, publicPem, Buffer.from(out.signature, 'base64'))).toBe(true);
    expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
  });

  it('R-AUD-2: the KMS signer refuses a signing key that is not ECC_NIST_P256', async () => {
    // Prepare
    kms.on(GetPublicKeyCommand).resolves({ KeyId: ARN, KeySpec: 'RSA_2048', PublicKey: new Uint8Array([1]) });
    // Act + Assess
    await expect(new KmsDigestSigner(new KMSClient({ region: 'us-east-1' }), ARN).publicKeyPem()).rejects.toThrow(/ECC_NIST_P256/);
  });

  it('R-AUD-2: the local signer signs with the key file\'s P-256 key and names it by public-key fingerprint', async () => {
    // Prepare
    const pem = newSigningKeyPem();
    const signer = new LocalDigestSigner(pem);
    // Act
    const out = await signer.sign(Buffer.from('abc'));
    // Assess
    expect(signer.keyId).toMatch(/^local:audit-signing:[0-9a-f]{16}$/);
    expect(new LocalDigestSigner(pem).keyId).toBe(signer.keyId);
    expect(new LocalDigestSigner(newSigningKeyPem()).keyId).not.toBe(signer.keyId);
    expect(verify('sha256', Buffer.from('abc'), await signer.publicKeyPem(), Buffer.from(out.signature, 'base64'))).toBe(true);
  });
});
