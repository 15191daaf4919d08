/**
 * Digest signer port: signs audit digests with an asymmetric key whose private half never leaves
 * the signer (KMS `ECC_NIST_P256` / `SIGN_VERIFY` key in AWS, the local key file on one machine).
 * Anyone holding the public key can verify the audit chain (ARCHITECTURE D6).
 *
 * Signatures are ECDSA P-256 over SHA-256 of the given bytes, DER-encoded, base64 — the format
 * KMS `Sign` returns for `ECDSA_SHA_256`, and what `crypto.verify('sha256', …)` accepts.
 *
 * @example
 * const { keyId, signature } = await signer.sign(new TextEncoder().encode(canonicalDigest));
 */
export interface DigestSigner {
  /** Identifier of the signing key (KMS key ARN, or `local:audit-signing:<fingerprint>`); recorded in each digest. */
  readonly keyId: string;
  /** Signs SHA-256(`digestBytes`) with the private key. */
  sign(digestBytes: Uint8Array): Promise<{ keyId: string; signature: string }>;
  /** The public key (SPKI PEM) verifiers use. */
  publicKeyPem(): Promise<string>;
}
