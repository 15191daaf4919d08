import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { MemoryDocumentStore } from '../../../functions/adapters/memory/memory-document-store';
import { parseDicom } from '../../../functions/core/ingestion/dicom-image';
import { fileIdOf } from '../../../functions/core/ingestion/ingest-support';
import type { Actor } from '../../../functions/core/identity/actor';
import { processStagedObjects } from '../../../functions/handlers/ingest-events.handler';
import { clinicalCtSeries } from '../../../infra/local/demo/clinical-series';
import { LocalQueue, type MessageFailure } from '../../../infra/local/local-queue';
import { containerWith, demoCohort, patientIdOf } from './multimodal-fixture';

const dataManager: Actor = { kind: 'user', id: 'dm-1', roles: ['data-manager'], institution: 'platform', mfa: true, scopes: [] };

describe('the ingest queue (ARCHITECTURE D8: staging → EventBridge → SQS batches → ingest-events)', () => {
  it('R-ING-5: staged uploads of one batch are verified, ingested and completed each; one that fails is reported alone, a checksum mismatch is rejected', async () => {
    // Prepare: four uploads of one CT series, one of them with other bytes than declared.
    const p = demoCohort().patients[0]!;
    const c = await containerWith([p]);
    const slices = clinicalCtSeries(p, { seed: 95, slices: 4, size: 16 });
    // Presigning is the object store adapter's (tested against s3rver); here the object is put directly.
    c.objects.presignPut = async () => ({ url: 'https://staging.invalid/', headers: {} });
    const tickets = [];
    for (const [i, bytes] of slices.entries()) {
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const ticket = await c.uploads.createUpload(dataManager, { datasetId: 'bc-test', fileName: `ct${i}.dcm`, contentType: 'application/dicom', sizeBytes: bytes.byteLength, sha256, institution: p.institutionId });
      const body = i === 3 ? new Uint8Array(bytes).fill(7, 200, 210) : bytes;
      await c.objects.put('staging', ticket.upload.stagingKey, body);
      tickets.push(ticket);
    }
    // The object of slice 1 cannot be stored (an outage): only its event fails.
    const poison = fileIdOf(p.institutionId, 'dicom', parseDicom(slices[1]!).summary.sopInstanceUid);
    const put = c.objects.put.bind(c.objects);
    c.objects.put = async (bucket, key, body, meta) => {
      if (meta?.metadata?.['file-id'] === poison) throw new Error('object store unavailable');
      return put(bucket, key, body, meta);
    };
    const stagedReads = vi.spyOn(c.objects, 'get');
    // Act
    const events = tickets.map((t) => ({ bucket: 'staging', key: t.upload.stagingKey }));
    const failures = await processStagedObjects(c, [...events, { bucket: 'staging', key: 'not-an-upload' }]);
    // Assess
    expect(failures.map((f) => Boolean(f))).toEqual([false, true, false, false, false]);
    // Each staged object is read once: the bytes verified are the bytes ingested.
    expect(stagedReads.mock.calls.filter(([bucket]) => bucket === 'staging').map(([, key]) => key)).toEqual(tickets.map((t) => t.upload.stagingKey));
    const uploads = await Promise.all(tickets.map((t) => c.uploads.getUpload(dataManager, t.upload.uploadId)));
    expect(uploads.map((u) => u.status)).toEqual(['accepted', 'received', 'accepted', 'rejected']);
    expect(uploads[3]!.rejection?.code).toBe('CHECKSUM_MISMATCH');
    expect((await c.dicomIngest.getJob(uploads[0]!.jobId!))?.counts.accepted).toBe(1);
    // Redelivered (SQS retries the failed message), with the store back: accepted.
    c.objects.put = put;
    expect(await processStagedObjects(c, [events[1]!, events[0]!])).toEqual([undefined, undefined]);
    expect((await c.uploads.getUpload(dataManager, tickets[1]!.upload.uploadId)).status).toBe('accepted');
    const patientId = await patientIdOf(c, p);
    const study = (await c.research.records(patientId, 'ImagingStudy')).find((s) => s.description === 'CT Chest')!;
    expect(study.numberOfInstances).toBe(3);
  });

  it('R-ING-5: with too little of the invocation left, files not yet started are handed back untouched, to be redelivered', async () => {
    const p = demoCohort().patients[0]!;
    const c = await containerWith([p]);
    c.objects.presignPut = async () => ({ url: 'https://staging.invalid/', headers: {} });
    const [a, b] = clinicalCtSeries(p, { seed: 96, slices: 2, size: 16 });
    const events = [];
    for (const [i, bytes] of [a!, b!].entries()) {
      const ticket = await c.uploads.createUpload(dataManager, { datasetId: 'bc-test', fileName: `ct${i}.dcm`, contentType: 'application/dicom', sizeBytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex'), institution: p.institutionId });
      await c.objects.put('staging', ticket.upload.stagingKey, bytes);
      events.push({ bucket: 'staging', key: ticket.upload.stagingKey, uploadId: ticket.upload.uploadId });
    }
    // The first file is taken with 6 minutes left; by the second only 4 are.
    const left = [6 * 60_000, 4 * 60_000];
    const failures = await processStagedObjects(c, events, { timeLeftMs: () => left.shift() ?? 0 });
    expect(failures.map((f) => Boolean(f))).toEqual([false, true]);
    expect((await c.uploads.getUpload(dataManager, events[0]!.uploadId)).status).toBe('accepted');
    expect((await c.uploads.getUpload(dataManager, events[1]!.uploadId)).status).toBe('awaiting-upload');
  });

  describe('the local queue', () => {
    const settle = () => new Promise((r) => setTimeout(r, 5));

    it('hands what is waiting to the handler in batches of at most batchSize, in order', async () => {
      const batches: number[][] = [];
      const q = new LocalQueue<{ n: number }>('t', async (ms) => (batches.push(ms.map((m) => m.n)), ms.map(() => undefined)), new MemoryDocumentStore(), { batchSize: 3 });
      for (let n = 0; n < 7; n++) q.send({ n });
      await q.drain();
      expect(batches.flat()).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect(batches.every((b) => b.length <= 3)).toBe(true);
      // The first message is handled at once, alone: a lone upload is not held for a batch.
      expect(batches[0]).toEqual([0]);
    });

    it('redelivers only the failed message, then dead-letters it after maxAttempts', async () => {
      const store = new MemoryDocumentStore();
      const seen: number[] = [];
      const q = new LocalQueue<{ n: number }>(
        't',
        async (ms): Promise<MessageFailure[]> => {
          seen.push(...ms.map((m) => m.n));
          return ms.map((m) => (m.n === 1 ? { error: new TypeError('bad') } : undefined));
        },
        store,
        { maxAttempts: 3, backoffMs: 1 },
      );
      for (let n = 0; n < 3; n++) q.send({ n });
      await q.drain();
      await settle();
      expect(seen.filter((n) => n === 1)).toHaveLength(3);
      expect(seen.filter((n) => n !== 1).sort()).toEqual([0, 2]);
      const dead = await store.query('main', { pk: 'DLQ#t' });
      expect(dead.items).toMatchObject([{ message: { n: 1 }, error: 'TypeError', attempts: 3 }]);
    });

    it('a message sent just as the queue runs empty is delivered (no stranded message)', async () => {
      const handled: number[] = [];
      const q = new LocalQueue<{ n: number }>('t', async (ms) => (handled.push(...ms.map((m) => m.n)), ms.map(() => undefined)), new MemoryDocumentStore());
      for (let delay = 0; delay < 5; delay++) {
        q.send({ n: delay });
        await q.drain();
        for (let t = 0; t < delay; t++) await Promise.resolve();
      }
      q.send({ n: 99 });
      await q.drain();
      expect(handled).toEqual([0, 1, 2, 3, 4, 99]);
    });

    it('a handler that throws fails the whole batch, which is redelivered', async () => {
      let calls = 0;
      const handled: number[] = [];
      const q = new LocalQueue<{ n: number }>(
        't',
        async (ms) => {
          if (calls++ === 0) throw new Error('cold start failed');
          handled.push(...ms.map((m) => m.n));
          return ms.map(() => undefined);
        },
        new MemoryDocumentStore(),
        { backoffMs: 1 },
      );
      q.send({ n: 1 });
      await q.drain();
      expect(handled).toEqual([1]);
    });
  });
});
