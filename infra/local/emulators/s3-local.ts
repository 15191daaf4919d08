import { CreateBucketCommand, HeadBucketCommand, PutBucketCorsCommand, type S3Client } from '@aws-sdk/client-s3';
import { mkdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/**
 * Starts s3rver on 127.0.0.1 in a worker thread (`s3-worker.mjs`), so the emulator's work does not
 * share the platform's event loop. Gaps (see README): no SigV4 check, no SSE, no versioning,
 * no Object Lock — the platform never relies on them: objects are envelope-encrypted by the
 * application and the audit chain is verified by hashes and signatures, not by bucket features.
 */
/** An object-created notification from s3rver (S3's classic event format). */
export interface S3ObjectCreated {
  bucket: string;
  key: string;
}

type WorkerMessage = { type: 'ready' } | { type: 'failed'; error: string } | { type: 'stopped'; error?: string } | ({ type: 'object-created' } & S3ObjectCreated);

export async function startS3Local(opts: { port: number; dataDir: string; corsOrigin: string; onObjectCreated?: (e: S3ObjectCreated) => void }): Promise<{ stop(): Promise<void> }> {
  mkdirSync(opts.dataDir, { recursive: true });
  const worker = new Worker(new URL('./s3-worker.mjs', import.meta.url), { workerData: { port: opts.port, dataDir: opts.dataDir } });
  let exited = false;
  const exit = new Promise<void>((resolve) => worker.once('exit', () => ((exited = true), resolve())));
  worker.on('message', (m: WorkerMessage) => {
    if (m.type === 'object-created') opts.onObjectCreated?.({ bucket: m.bucket, key: m.key });
  });
  await new Promise<void>((resolve, reject) => {
    const onMessage = (m: WorkerMessage) => {
      if (m.type === 'ready') settle(resolve);
      else if (m.type === 'failed') settle(() => reject(new Error(`s3rver did not start on port ${opts.port}: ${m.error}`)));
    };
    // A listen failure (port taken) reaches here as the thread's uncaught error.
    const onError = (e: Error) => settle(() => reject(new Error(`s3rver did not start on port ${opts.port}: ${e.message}`, { cause: e })));
    const onExit = (code: number) => settle(() => reject(new Error(`s3rver's thread exited (code ${code}) before it was ready`)));
    const settle = (then: () => void) => {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      then();
    };
    worker.on('message', onMessage).once('error', onError).once('exit', onExit);
  }).catch(async (e: unknown) => {
    await worker.terminate();
    throw e;
  });
  return {
    async stop() {
      if (exited) return;
      const stopped = new Promise<void>((resolve) => {
        const onStopped = (m: WorkerMessage) => m.type === 'stopped' && (worker.off('message', onStopped), resolve());
        worker.on('message', onStopped);
        exit.then(resolve, resolve);
      });
      worker.postMessage({ type: 'stop' });
      await stopped;
      await worker.terminate();
      await exit;
    },
  };
}

export async function ensureBuckets(s3: S3Client, names: string[]): Promise<void> {
  for (const Bucket of names) {
    try {
      await s3.send(new HeadBucketCommand({ Bucket }));
    } catch {
      await s3.send(new CreateBucketCommand({ Bucket }));
    }
  }
}

/**
 * Lets the portal PUT presigned uploads straight into the staging bucket from the browser (as the
 * CDK staging bucket's CORS rule does in AWS): PUT only, from the portal origin only.
 */
export async function allowPortalUploads(s3: S3Client, bucket: string, origin: string): Promise<void> {
  await s3.send(
    new PutBucketCorsCommand({
      Bucket: bucket,
      CORSConfiguration: { CORSRules: [{ AllowedOrigins: [origin], AllowedMethods: ['PUT'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 600 }] },
    }),
  );
}
