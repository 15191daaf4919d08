/**
 * Object store port (S3 in AWS, s3rver on one machine). Buckets are logical: `staging` receives
 * uploads, `data` holds accepted (envelope-encrypted) objects, `archive` holds audit digests and
 * reports (Object Lock in AWS).
 */
export type BucketName = 'staging' | 'data' | 'archive';

export interface ObjectMetadata {
  contentType?: string;
  /** User metadata (ids, hashes, key ids — never PHI). */
  metadata?: Record<string, string>;
}

export interface StoredObject extends ObjectMetadata {
  body: Uint8Array;
  size: number;
}

export interface ObjectHead extends ObjectMetadata {
  size: number;
}

export interface PresignPutInput {
  contentType: string;
  /** Base64 SHA-256 the upload must carry (`x-amz-checksum-sha256`). */
  checksumSha256: string;
  contentLength: number;
  expiresInSeconds: number;
  metadata?: Record<string, string>;
}

export interface ObjectStore {
  put(bucket: BucketName, key: string, body: Uint8Array, meta?: ObjectMetadata): Promise<void>;
  get(bucket: BucketName, key: string): Promise<StoredObject | undefined>;
  head(bucket: BucketName, key: string): Promise<ObjectHead | undefined>;
  delete(bucket: BucketName, key: string): Promise<void>;
  list(bucket: BucketName, prefix: string): Promise<string[]>;
  /** A short-lived URL a client can PUT exactly this object to. */
  presignPut(bucket: BucketName, key: string, input: PresignPutInput): Promise<{ url: string; headers: Record<string, string> }>;
  /** A short-lived URL to GET an object (inline, no caching). */
  presignGet(bucket: BucketName, key: string, expiresInSeconds: number): Promise<string>;
  ping(): Promise<void>;
}
