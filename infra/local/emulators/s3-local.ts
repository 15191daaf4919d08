import { CreateBucketCommand, HeadBucketCommand, PutBucketCorsCommand, type S3Client } from '@aws-sdk/client-s3';
import { mkdirSync } from 'node:fs';
import S3rver from 's3rver';

/**
 * Starts s3rver in-process on 127.0.0.1. Gaps (see README): no SigV4 check, no SSE, no versioning,
 * no Object Lock — the platform never relies on them: objects are envelope-encrypted by the
 * application and the audit chain is verified by hashes and signatures, not by bucket features.
 */
/** An object-created notification from s3rver (S3's classic event format). */
export interface S3ObjectCreated {
  bucket: string;
  key: string;
}

export async function startS3Local(opts: { port: number; dataDir: string; corsOrigin: string; onObjectCreated?: (e: S3ObjectCreated) => void }): Promise<{ stop(): Promise<void> }> {
  mkdirSync(opts.dataDir, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: opts.port,
    directory: opts.dataDir,
    silent: true,
    configureBuckets: [],
    allowMismatchedSignatures: false,
  });
  // s3rver emits S3 event notifications; they stand in for S3 → EventBridge → SQS.
  server.on('event', (event: { Records?: Array<{ eventName?: string; s3?: { bucket?: { name?: string }; object?: { key?: string } } }> }) => {
    for (const r of event.Records ?? []) {
      if (r.eventName?.startsWith('ObjectCreated') && r.s3?.bucket?.name && r.s3.object?.key) opts.onObjectCreated?.({ bucket: r.s3.bucket.name, key: r.s3.object.key });
    }
  });
  await server.run();
  return { stop: () => server.close() };
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
