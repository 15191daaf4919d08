import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { DependencyUnavailableError } from '../../core/errors';
import type { BucketName, ObjectHead, ObjectMetadata, ObjectStore, PresignPutInput, StoredObject } from '../../core/ports/object-store';

/**
 * S3 adapter of the object store. In AWS the buckets enforce SSE-KMS, versioning and Object Lock;
 * locally (s3rver) none of that exists, so callers never rely on it: objects holding PHI are
 * envelope-encrypted by the application before they reach this adapter.
 */
export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucketNames: Record<BucketName, string>,
  ) {}

  async put(bucket: BucketName, key: string, body: Uint8Array, meta?: ObjectMetadata): Promise<void> {
    await this.call(() =>
      this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucketNames[bucket],
          Key: key,
          Body: body,
          ContentType: meta?.contentType,
          Metadata: meta?.metadata,
          ChecksumAlgorithm: 'SHA256',
        }),
      ),
    );
  }

  async get(bucket: BucketName, key: string): Promise<StoredObject | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucketNames[bucket], Key: key }));
      const body = await out.Body!.transformToByteArray();
      return { body, size: body.byteLength, contentType: out.ContentType, metadata: out.Metadata };
    } catch (e) {
      if (e instanceof NoSuchKey || (e as { name?: string }).name === 'NoSuchKey') return undefined;
      throw unavailable(e);
    }
  }

  async head(bucket: BucketName, key: string): Promise<ObjectHead | undefined> {
    try {
      const out = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucketNames[bucket], Key: key }));
      return { size: out.ContentLength ?? 0, contentType: out.ContentType, metadata: out.Metadata };
    } catch (e) {
      if (e instanceof NotFound || ['NotFound', 'NoSuchKey'].includes((e as { name?: string }).name ?? '')) return undefined;
      throw unavailable(e);
    }
  }

  async delete(bucket: BucketName, key: string): Promise<void> {
    await this.call(() => this.s3.send(new DeleteObjectCommand({ Bucket: this.bucketNames[bucket], Key: key })));
  }

  async list(bucket: BucketName, prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const out = await this.call(() =>
        this.s3.send(new ListObjectsV2Command({ Bucket: this.bucketNames[bucket], Prefix: prefix, ContinuationToken: token })),
      );
      for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  async presignPut(bucket: BucketName, key: string, input: PresignPutInput): Promise<{ url: string; headers: Record<string, string> }> {
    const command = new PutObjectCommand({
      Bucket: this.bucketNames[bucket],
      Key: key,
      ContentType: input.contentType,
      ContentLength: input.contentLength,
      ChecksumSHA256: input.checksumSha256,
      Metadata: input.metadata,
    });
    // Signed headers: S3 refuses a PUT whose body does not hash to the declared SHA-256.
    const url = await getSignedUrl(this.s3, command, {
      expiresIn: input.expiresInSeconds,
      signableHeaders: new Set(['content-type', 'x-amz-checksum-sha256']),
    });
    const headers: Record<string, string> = { 'content-type': input.contentType, 'x-amz-checksum-sha256': input.checksumSha256 };
    for (const [k, v] of Object.entries(input.metadata ?? {})) headers[`x-amz-meta-${k}`] = v;
    return { url, headers };
  }

  async presignGet(bucket: BucketName, key: string, expiresInSeconds: number): Promise<string> {
    return getSignedUrl(
      this.s3,
      new GetObjectCommand({ Bucket: this.bucketNames[bucket], Key: key, ResponseCacheControl: 'no-store', ResponseContentDisposition: 'inline' }),
      { expiresIn: expiresInSeconds },
    );
  }

  async ping(): Promise<void> {
    await this.call(() => this.s3.send(new ListObjectsV2Command({ Bucket: this.bucketNames.staging, MaxKeys: 1 })));
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw unavailable(e);
    }
  }
}

function unavailable(e: unknown): unknown {
  const code = (e as { code?: string }).code ?? '';
  const name = (e as { name?: string }).name ?? '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT'].includes(code) || /TimeoutError|ServiceUnavailable|InternalError|SlowDown/.test(name)) {
    return new DependencyUnavailableError('object store', { cause: e });
  }
  return e;
}
