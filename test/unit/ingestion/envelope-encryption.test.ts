import { buildClient, CommitmentPolicy, RawAesKeyringNode, RawAesWrappingSuiteIdentifier } from '@aws-crypto/client-node';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LocalKeyProvider } from '../../../functions/adapters/local/local-key-provider';
import { testKeys } from '../../support/test-container';

/** Envelope encryption of stored objects (R-ING-3, R-SEC-4): frames, integrity, context binding. */
describe('envelope encryption of objects', () => {
  const material = testKeys();
  const keys = new LocalKeyProvider(material);
  const context = { patientId: 'p-1', fileId: 'f-1' };

  it('R-ING-3: an object larger than one frame round-trips, and a byte flipped in its second frame is refused', async () => {
    const plain = new Uint8Array(randomBytes(600 * 1024));
    const { ciphertext } = await keys.encrypt('data', plain, context);
    expect(Buffer.from(await keys.decrypt('data', ciphertext, context)).equals(Buffer.from(plain))).toBe(true);
    const tampered = new Uint8Array(ciphertext);
    const at = tampered.length - 100 * 1024;
    tampered[at] = tampered[at]! ^ 0x01;
    await expect(keys.decrypt('data', tampered, context)).rejects.toThrow();
  });

  it('R-ING-3: objects written with the SDK default 4 KiB frames (before the frame size was raised) still decrypt', async () => {
    const plain = new Uint8Array(randomBytes(20 * 1024));
    const keyring = new RawAesKeyringNode({ keyName: 'data', keyNamespace: 'mdrp-local', unencryptedMasterKey: new Uint8Array(Buffer.from(material.data, 'base64')), wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING });
    const { result } = await buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT).encrypt(keyring, plain, { encryptionContext: context });
    expect(Buffer.from(await keys.decrypt('data', result, context)).equals(Buffer.from(plain))).toBe(true);
  });

  it('R-SEC-4: a ciphertext presented under another file id is refused', async () => {
    const { ciphertext } = await keys.encrypt('data', new Uint8Array([1, 2, 3]), context);
    await expect(keys.decrypt('data', ciphertext, { ...context, fileId: 'f-2' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
