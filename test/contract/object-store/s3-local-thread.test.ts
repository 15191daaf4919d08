import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../infra/local/emulators/process-utils';
import { ensureBuckets, startS3Local, type S3ObjectCreated } from '../../../infra/local/emulators/s3-local';

// The local S3 emulator runs on a worker thread: objects, object-created events (the stand-in for
// S3 → EventBridge → SQS that starts ingestion, R-ING-1) and start/stop must cross the thread intact.
describe('local S3 emulator on its own thread', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdrp-s3-thread-'));
  const events: S3ObjectCreated[] = [];
  let port: number;
  let s3: Awaited<ReturnType<typeof startS3Local>>;
  let client: S3Client;

  beforeAll(async () => {
    port = await freePort();
    s3 = await startS3Local({ port, dataDir: join(dir, 's3'), corsOrigin: 'http://127.0.0.1', onObjectCreated: (e) => events.push(e) });
    client = new S3Client({ region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, forcePathStyle: true });
    await ensureBuckets(client, ['staging']);
  });
  afterAll(async () => {
    client?.destroy();
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('R-ING-1: stores and returns an object byte for byte and reports its creation to the platform thread', async () => {
    const body = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
    await client.send(new PutObjectCommand({ Bucket: 'staging', Key: 'uploads/a b/one.dcm', Body: body }));
    const got = await client.send(new GetObjectCommand({ Bucket: 'staging', Key: 'uploads/a b/one.dcm' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
    await expect.poll(() => events).toContainEqual({ bucket: 'staging', key: 'uploads/a b/one.dcm' });
  });

  it('a port already taken fails the start with an error naming the port', async () => {
    await expect(startS3Local({ port, dataDir: join(dir, 'other'), corsOrigin: 'http://127.0.0.1' })).rejects.toThrow(`s3rver did not start on port ${port}`);
  });

  it('stop closes the server and can be called twice', async () => {
    const otherPort = await freePort();
    const other = await startS3Local({ port: otherPort, dataDir: join(dir, 'stop'), corsOrigin: 'http://127.0.0.1' });
    await other.stop();
    await other.stop();
    const probe = new S3Client({ region: 'us-east-1', endpoint: `http://127.0.0.1:${otherPort}`, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, forcePathStyle: true, maxAttempts: 1 });
    await expect(probe.send(new GetObjectCommand({ Bucket: 'staging', Key: 'x' }))).rejects.toThrow(/ECONNREFUSED/);
    probe.destroy();
  });
});
