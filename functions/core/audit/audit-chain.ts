import type { Clock } from '../ports/clock';
import type { DigestSigner } from '../ports/digest-signer';
import type { DocumentStore } from '../ports/document-store';
import type { ObjectStore } from '../ports/object-store';
import { AuditChainVerifier, type PublicKeyResolver, type VerifyAuditChainInput, type VerifyAuditChainResult } from './audit-chain-verifier';
import { AuditSealer, type AuditSealerOptions, type SealResult } from './audit-sealer';

export interface AuditChainDeps {
  store: DocumentStore;
  objects: ObjectStore;
  signer: DigestSigner;
  clock: Clock;
  sealer?: AuditSealerOptions;
  /** Trusted public keys by key id (default: the signer's current public key, whatever the id). */
  publicKeys?: PublicKeyResolver;
}

/**
 * The tamper-evident layer over the audit trail (ARCHITECTURE D6): the sealer (run on a schedule)
 * and the verifier (`verifyAuditChain`). The verifier uses only the public key.
 *
 * @example
 * const chain = new AuditChain({ store: documents, objects, signer, clock });
 * await chain.seal();
 * const { ok, firstBroken } = await chain.verify({});
 */
export class AuditChain {
  readonly sealer: AuditSealer;
  readonly verifier: AuditChainVerifier;

  constructor(deps: AuditChainDeps) {
    this.sealer = new AuditSealer(deps.store, deps.objects, deps.signer, deps.clock, deps.sealer);
    this.verifier = new AuditChainVerifier(deps.store, deps.objects, deps.publicKeys ?? (() => deps.signer.publicKeyPem()));
  }

  /** Seals every period that may be sealed now (see {@link AuditSealer.seal}). */
  seal(until?: number): Promise<SealResult> {
    return this.sealer.seal(until);
  }

  /** Verifies the chain over an optional time range (see {@link AuditChainVerifier.verify}). */
  verify(input: VerifyAuditChainInput = {}): Promise<VerifyAuditChainResult> {
    return this.verifier.verify(input);
  }
}
