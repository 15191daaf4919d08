import { createPublicKey, verify } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { LocalDigestSigner } from '../../../functions/adapters/local/local-digest-signer';
import { AuditChain } from '../../../functions/core/audit/audit-chain';
import { AuditChainVerifier } from '../../../functions/core/audit/audit-chain-verifier';
import { digestObjectKey, digestSha256, eventSha256, GENESIS_SHA256, unsignedDigestJson, type AuditDigest } from '../../../functions/core/audit/audit-digest';
import type { AuditEvent } from '../../../functions/core/audit/audit-event';
import { AuditSealer } from '../../../functions/core/audit/audit-sealer';
import type { StoredAuditItem } from '../../../functions/core/audit/stored-audit-events';
import { auditEvent, auditRig, newSigningKeyPem } from './audit-fixtures';

const DAY = 'DAY#2026-11-24';
const D1 = 'dig_20261124T080500Z';
const D2 = 'dig_20261124T081000Z';
const D3 = 'dig_20261124T081500Z';

describe('audit chain: sealer and verifier (ARCHITECTURE D6)', () => {
  let rig: ReturnType<typeof auditRig>;
  let ev: Record<'a' | 'b' | 'c' | 'd' | 'e' | 'f', AuditEvent>;

  const item = (e: AuditEvent) => rig.documents.get<StoredAuditItem>('audit', { pk: DAY, sk: `${e.time}#${e.eventId}` });
  const readDigest = async (periodEnd: string) => JSON.parse(Buffer.from((await rig.objects.get('archive', digestObjectKey(periodEnd)))!.body).toString('utf8')) as AuditDigest;

  beforeEach(async () => {
    // Prepare: three 5-minute periods with events, sealed once they are at least 1 min old.
    rig = auditRig();
    ev = {
      a: auditEvent('2026-11-24T08:00:10.000Z'),
      b: auditEvent('2026-11-24T08:01:00.000Z', { resources: [], parameters: {} }),
      c: auditEvent('2026-11-24T08:02:00.000Z', { resources: [{ type: 'Dataset', id: 'd1' }, { type: 'Grant', id: 'g1' }] }),
      d: auditEvent('2026-11-24T08:05:30.000Z'),
      e: auditEvent('2026-11-24T08:06:00.000Z', { actor: { kind: 'user', id: 'user-2', roles: ['auditor'] } }),
      f: auditEvent('2026-11-24T08:11:00.000Z'),
    };
    for (const e of Object.values(ev)) await rig.trail.write(e);
    rig.clock.t = Date.parse('2026-11-24T08:16:30.000Z');
    const sealed = await rig.chain.seal();
    expect(sealed.digests.map((d) => [d.digestId, d.eventCount])).toEqual([
      [D1, 3],
      [D2, 2],
      [D3, 1],
    ]);
  });

  it('R-AUD-2: an untouched trail verifies, counting every digest and event', async () => {
    // Act
    const r = await rig.chain.verify();
    // Assess
    expect(r).toEqual({ ok: true, digestsChecked: 3, eventsChecked: 6, sealedThrough: '2026-11-24T08:15:00.000Z' });
  });

  it('R-AUD-2: digests are contiguous, chained by SHA-256 from the genesis, and carry each event hash in stored order', async () => {
    // Act
    const [d1, d2] = [await readDigest('2026-11-24T08:05:00.000Z'), await readDigest('2026-11-24T08:10:00.000Z')];
    // Assess
    expect(d1).toMatchObject({ version: 1, digestId: D1, periodStart: '2026-11-24T00:00:00.000Z', periodEnd: '2026-11-24T08:05:00.000Z', eventCount: 3, previousDigestId: 'genesis', previousDigestSha256: GENESIS_SHA256, signingKeyId: rig.signer.keyId });
    expect(d1.eventHashes).toEqual([ev.a, ev.b, ev.c].map((e) => ({ eventId: e.eventId, sha256: eventSha256(e) })));
    expect(d2).toMatchObject({ periodStart: d1.periodEnd, previousDigestId: D1, previousDigestSha256: digestSha256(d1) });
    const index = await rig.documents.get('audit', { pk: 'DIGEST', sk: d2.periodEnd });
    expect(index).toMatchObject({ digestId: D2, objectKey: 'audit-digests/2026/11/24/20261124T081000Z.json', digestSha256: digestSha256(d2), eventCount: 2 });
  });

  it('R-AUD-2: anyone with only the public key can check a digest signature (ECDSA P-256 over SHA-256 of the canonical digest)', async () => {
    // Prepare
    const d = await readDigest('2026-11-24T08:05:00.000Z');
    const publicKey = createPublicKey(await rig.signer.publicKeyPem());
    // Act
    const valid = verify('sha256', Buffer.from(unsignedDigestJson(d)), publicKey, Buffer.from(d.signature, 'base64'));
    // Assess
    expect(publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(valid).toBe(true);
  });

  it('R-AUD-2: editing one field of one event is reported as event-modified at that event', async () => {
    // Prepare
    const it_ = (await item(ev.d))!;
    it_.event.result.status = 204;
    await rig.documents.put('audit', it_);
    // Act
    const r = await rig.chain.verify();
    // Assess
    expect(r).toMatchObject({ ok: false, digestsChecked: 1, firstBroken: { digestId: D2, reason: 'event-modified', eventId: ev.d.eventId } });
  });

  it('R-AUD-2: re-pointing an event\'s index keys (hiding it from actor queries) is event-modified', async () => {
    // Prepare
    const it_ = (await item(ev.e))!;
    it_.gsi1pk = 'ACTOR#someone-else';
    await rig.documents.put('audit', it_);
    // Act + Assess
    expect((await rig.chain.verify()).firstBroken).toEqual({ digestId: D2, reason: 'event-modified', eventId: ev.e.eventId });
  });

  it('R-AUD-2: deleting one event is reported as event-missing', async () => {
    // Prepare
    await rig.documents.delete('audit', { pk: DAY, sk: `${ev.b.time}#${ev.b.eventId}` });
    // Act
    const r = await rig.chain.verify();
    // Assess
    expect(r).toMatchObject({ ok: false, digestsChecked: 0, firstBroken: { digestId: D1, reason: 'event-missing', eventId: ev.b.eventId } });
  });

  it('R-AUD-2: inserting one event into a sealed period is reported as event-extra', async () => {
    // Prepare
    const forged = auditEvent('2026-11-24T08:07:00.000Z');
    await rig.trail.write(forged);
    // Act + Assess
    expect((await rig.chain.verify()).firstBroken).toEqual({ digestId: D2, reason: 'event-extra', eventId: forged.eventId });
  });

  it('R-AUD-2: reordering two events (swapping their times) is reported as order', async () => {
    // Prepare: rewrite a and b with each other's time, as an attacker with table access would.
    for (const e of [ev.a, ev.b]) await rig.documents.delete('audit', { pk: DAY, sk: `${e.time}#${e.eventId}` });
    await rig.trail.write({ ...ev.a, time: ev.b.time });
    await rig.trail.write({ ...ev.b, time: ev.a.time });
    // Act + Assess
    expect((await rig.chain.verify()).firstBroken).toEqual({ digestId: D1, reason: 'order', eventId: ev.b.eventId });
  });

  it('R-AUD-2: editing a digest file is reported as a signature failure', async () => {
    // Prepare: drop the hash of event d from the second digest.
    const d = await readDigest('2026-11-24T08:10:00.000Z');
    d.eventHashes = d.eventHashes.slice(1);
    d.eventCount = 1;
    await rig.objects.put('archive', digestObjectKey(d.periodEnd), Buffer.from(JSON.stringify(d)));
    // Act + Assess
    expect((await rig.chain.verify()).firstBroken).toEqual({ digestId: D2, reason: 'signature' });
  });

  it('R-AUD-2: deleting a digest (file and index item) is reported as digest-missing, naming it', async () => {
    // Prepare
    await rig.objects.delete('archive', digestObjectKey('2026-11-24T08:10:00.000Z'));
    await rig.documents.delete('audit', { pk: 'DIGEST', sk: '2026-11-24T08:10:00.000Z' });
    // Act + Assess
    expect((await rig.chain.verify()).firstBroken).toEqual({ digestId: D2, reason: 'digest-missing' });
  });

  it('R-AUD-2: deleting the newest digest file is caught through its index item', async () => {
    // Prepare
    await rig.objects.delete('archive', digestObjectKey('2026-11-24T08:15:00.000Z'));
    // Act + Assess
    expect((await rig.chain.verify()).firstBroken).toEqual({ digestId: D3, reason: 'digest-missing' });
  });

  it('R-AUD-2: deleting the first digest is digest-missing (the chain no longer starts at the genesis)', async () => {
    // Prepare
    await rig.objects.delete('archive', digestObjectKey('2026-11-24T08:05:00.000Z'));
    await rig.documents.delete('audit', { pk: 'DIGEST', sk: '2026-11-24T08:05:00.000Z' });
    // Act + Assess
    expect((await rig.chain.verify()).firstBroken).toEqual({ digestId: D1, reason: 'digest-missing' });
  });

  it('R-AUD-2: a digest re-signed with another key (chain rebuilt by an attacker) fails the signature check', async () => {
    // Prepare: an attacker without the signing key seals a forged trail with their own key.
    const forger = new LocalDigestSigner(newSigningKeyPem());
    for (const k of await rig.objects.list('archive', 'audit-digests/')) await rig.objects.delete('archive', k);
    for (const end of ['08:05', '08:10', '08:15']) await rig.documents.delete('audit', { pk: 'DIGEST', sk: `2026-11-24T${end}:00.000Z` });
    await new AuditSealer(rig.documents, rig.objects, forger, rig.clock, { chainStart: '2026-11-24T00:00:00.000Z' }).seal();
    // Act
    const r = await new AuditChainVerifier(rig.documents, rig.objects, () => rig.signer.publicKeyPem()).verify();
    // Assess
    expect(r.firstBroken).toEqual({ digestId: D1, reason: 'signature' });
  });

  it('R-AUD-2: a digest whose previous-hash no longer matches is previous-hash', async () => {
    // Prepare: a validly signed digest 2 that chains to a different digest 1 (key compromise of the index is not enough).
    const d2 = await readDigest('2026-11-24T08:10:00.000Z');
    const { signature } = await rig.signer.sign(Buffer.from(unsignedDigestJson({ ...d2, previousDigestSha256: 'f'.repeat(64) })));
    await rig.objects.put('archive', digestObjectKey(d2.periodEnd), Buffer.from(JSON.stringify({ ...d2, previousDigestSha256: 'f'.repeat(64), signature })));
    // Act + Assess
    expect((await rig.chain.verify()).firstBroken).toEqual({ digestId: D2, reason: 'previous-hash' });
  });

  it('R-AUD-2: the first broken link is reported when several are broken', async () => {
    // Prepare
    await rig.documents.delete('audit', { pk: DAY, sk: `${ev.f.time}#${ev.f.eventId}` });
    const it_ = (await item(ev.d))!;
    it_.event.parameters = { datasetId: 'other' };
    await rig.documents.put('audit', it_);
    // Act + Assess
    expect((await rig.chain.verify()).firstBroken).toEqual({ digestId: D2, reason: 'event-modified', eventId: ev.d.eventId });
  });

  it('R-AUD-2: a range check verifies only the digests overlapping it, linking to the digest before', async () => {
    // Prepare: an edit before the range is not this check's concern.
    const it_ = (await item(ev.a))!;
    it_.event.operation = 'x';
    await rig.documents.put('audit', it_);
    // Act
    const r = await rig.chain.verify({ from: '2026-11-24T08:05:00.000Z', to: '2026-11-24T08:12:00.000Z' });
    // Assess
    expect(r).toMatchObject({ ok: true, digestsChecked: 2, eventsChecked: 3 });
  });

  it('R-AUD-2: sealing is idempotent and leaves periods younger than the settle time open', async () => {
    // Prepare: an event in the current period and one 30 s after the last sealable boundary.
    await rig.trail.write(auditEvent('2026-11-24T08:15:10.000Z'));
    // Act
    const again = await rig.chain.seal();
    rig.clock.t = Date.parse('2026-11-24T08:20:59.000Z');
    const tooEarly = await rig.chain.seal();
    rig.clock.t = Date.parse('2026-11-24T08:21:00.000Z');
    const due = await rig.chain.seal();
    // Assess
    expect(again.digests).toEqual([]);
    expect(tooEarly.digests).toEqual([]);
    expect(due.digests.map((d) => [d.periodStart, d.periodEnd, d.eventCount])).toEqual([['2026-11-24T08:15:00.000Z', '2026-11-24T08:20:00.000Z', 1]]);
    expect((await rig.chain.verify()).ok).toBe(true);
  });

  it('R-AUD-2: a quiet period still gets an (empty) heartbeat digest, and quiet stretches fold into the next digest', async () => {
    // Act
    rig.clock.t = Date.parse('2026-11-24T08:26:00.000Z');
    const quiet = await rig.chain.seal();
    await rig.trail.write(auditEvent('2026-11-24T08:41:00.000Z'));
    rig.clock.t = Date.parse('2026-11-24T08:51:00.000Z');
    const next = await rig.chain.seal();
    // Assess
    expect(quiet.digests.map((d) => [d.periodStart, d.periodEnd, d.eventCount])).toEqual([['2026-11-24T08:15:00.000Z', '2026-11-24T08:25:00.000Z', 0]]);
    expect(next.digests.map((d) => [d.periodStart, d.periodEnd, d.eventCount])).toEqual([
      ['2026-11-24T08:25:00.000Z', '2026-11-24T08:45:00.000Z', 1],
      ['2026-11-24T08:45:00.000Z', '2026-11-24T08:50:00.000Z', 0],
    ]);
    expect(await rig.chain.verify()).toMatchObject({ ok: true, digestsChecked: 6, eventsChecked: 7 });
  });

  it('R-AUD-2: two sealers racing over the same period write one chain (digests are deterministic)', async () => {
    // Prepare
    await rig.trail.write(auditEvent('2026-11-24T08:16:00.000Z'));
    rig.clock.t = Date.parse('2026-11-24T08:22:00.000Z');
    const other = new AuditChain({ store: rig.documents, objects: rig.objects, signer: rig.signer, clock: rig.clock });
    // Act
    const [x, y] = await Promise.all([rig.chain.seal(), other.seal()]);
    // Assess
    expect(x.sealedThrough).toBe('2026-11-24T08:20:00.000Z');
    expect(y.sealedThrough).toBe('2026-11-24T08:20:00.000Z');
    expect(await rig.chain.verify()).toMatchObject({ ok: true, digestsChecked: 4 });
  });

  it('R-AUD-2: the sealer refuses to replace an archived digest with different content', async () => {
    // Prepare: drop the newest index item and insert an event into its period, then seal again.
    await rig.documents.delete('audit', { pk: 'DIGEST', sk: '2026-11-24T08:15:00.000Z' });
    await rig.trail.write(auditEvent('2026-11-24T08:12:00.000Z'));
    // Act + Assess
    await expect(rig.chain.seal()).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('R-AUD-2: a late event arriving after its period was sealed shows up as event-extra (never silently absorbed)', async () => {
    // Prepare
    const late = auditEvent('2026-11-24T08:14:59.000Z');
    await rig.trail.write(late);
    rig.clock.t = Date.parse('2026-11-24T08:30:00.000Z');
    await rig.chain.seal();
    // Act + Assess
    expect((await rig.chain.verify()).firstBroken).toEqual({ digestId: D3, reason: 'event-extra', eventId: late.eventId });
  });

  it('R-AUD-2: a run seals at most maxDigestsPerRun digests and the next run continues the chain', async () => {
    // Prepare
    for (const m of ['20', '25', '30', '35']) await rig.trail.write(auditEvent(`2026-11-24T08:${m}:30.000Z`));
    rig.clock.t = Date.parse('2026-11-24T08:45:00.000Z');
    const small = new AuditSealer(rig.documents, rig.objects, rig.signer, rig.clock, { maxDigestsPerRun: 2 });
    // Act
    const first = await small.seal();
    const second = await small.seal();
    // Assess
    expect(first.digests.map((d) => d.periodEnd)).toEqual(['2026-11-24T08:25:00.000Z', '2026-11-24T08:30:00.000Z']);
    expect(second.digests.map((d) => d.periodEnd)).toEqual(['2026-11-24T08:35:00.000Z', '2026-11-24T08:40:00.000Z']);
    expect(await rig.chain.verify()).toMatchObject({ ok: true, eventsChecked: 10 });
  });
});
