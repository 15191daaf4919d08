import { generateKeyPairSync } from 'node:crypto';
import { MemoryDocumentStore } from '../../../functions/adapters/memory/memory-document-store';
import { LocalDigestSigner } from '../../../functions/adapters/local/local-digest-signer';
import { AuditChain } from '../../../functions/core/audit/audit-chain';
import type { AuditEvent } from '../../../functions/core/audit/audit-event';
import { AuditTrail } from '../../../functions/core/audit/audit-trail';
import { TestClock } from '../../support/test-container';
import { MemoryObjectStore } from './memory-object-store';

/** A fresh P-256 private key (PEM), as in the local key file. */
export function newSigningKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

let n = 0;
/** A PHI-free API-call event at `time`. */
export function auditEvent(time: string, over: Partial<AuditEvent> = {}): AuditEvent {
  n += 1;
  return {
    eventId: `evt_${String(n).padStart(8, '0')}`,
    time,
    correlationId: `corr-${n}`,
    category: 'data-access',
    operation: 'getDataset',
    actor: { kind: 'user', id: 'user-1', roles: ['researcher'], institution: 'demo-hospital-1' },
    source: { ip: '10.0.0.1', userAgent: 'vitest' },
    resources: [{ type: 'Dataset', id: 'bc-nrt-io' }],
    parameters: { datasetId: 'bc-nrt-io' },
    decision: { effect: 'allow', policyIds: ['users-read-catalog'] },
    result: { outcome: 'success', status: 200 },
    ...over,
  };
}

/** Trail, stores, clock and chain over in-memory ports (chain starting at midnight of the test day). */
export function auditRig(opts: { keyPem?: string } = {}) {
  const documents = new MemoryDocumentStore();
  const objects = new MemoryObjectStore();
  const clock = new TestClock(Date.parse('2026-11-24T08:00:00.000Z'));
  const signer = new LocalDigestSigner(opts.keyPem ?? newSigningKeyPem());
  const trail = new AuditTrail(documents, clock);
  const chain = new AuditChain({ store: documents, objects, signer, clock, sealer: { chainStart: '2026-11-24T00:00:00.000Z' } });
  return { documents, objects, clock, signer, trail, chain };
}
