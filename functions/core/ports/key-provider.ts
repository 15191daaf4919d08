/**
 * Key provider port: envelope encryption and keyed hashing. In AWS the keys live in KMS
 * (AWS Encryption SDK KMS keyring, KMS HMAC keys); on one machine a raw key file outside the
 * data folder. Both produce the AWS Encryption SDK message format, so data is portable.
 */
export type KeyPurpose = 'data' | 'identity';
export type MacPurpose = 'identifier-match' | 'pseudonym';

export interface KeyProvider {
  /** Envelope-encrypts with a fresh data key; the context is bound and checked on decrypt. */
  encrypt(purpose: KeyPurpose, plaintext: Uint8Array, context: Record<string, string>): Promise<{ ciphertext: Uint8Array; keyId: string }>;
  /** Decrypts and verifies the encryption context matches. */
  decrypt(purpose: KeyPurpose, ciphertext: Uint8Array, context: Record<string, string>): Promise<Uint8Array>;
  /** HMAC-SHA-256 (hex) under the purpose's key; the key never leaves the provider. */
  mac(purpose: MacPurpose, message: string): Promise<string>;
}
