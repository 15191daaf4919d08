import type { BucketName, ObjectHead, ObjectMetadata, ObjectStore, StoredObject } from '../../../functions/core/ports/object-store';

/** In-memory object store for audit unit tests (buckets are maps of key → object). */
export class MemoryObjectStore implements ObjectStore {
  readonly buckets = new Map<BucketName, Map<string, StoredObject>>();

  private bucket(b: BucketName): Map<string, StoredObject> {
    let m = this.buckets.get(b);
    if (!m) this.buckets.set(b, (m = new Map()));
    return m;
  }

  async put(bucket: BucketName, key: string, body: Uint8Array, meta: ObjectMetadata = {}): Promise<void> {
    this.bucket(bucket).set(key, { ...meta, body: new Uint8Array(body), size: body.byteLength });
  }
  async get(bucket: BucketName, key: string): Promise<StoredObject | undefined> {
    const o = this.bucket(bucket).get(key);
    return o ? { ...o, body: new Uint8Array(o.body) } : undefined;
  }
  async head(bucket: BucketName, key: string): Promise<ObjectHead | undefined> {
    const o = this.bucket(bucket).get(key);
    return o ? { size: o.size, contentType: o.contentType, metadata: o.metadata } : undefined;
  }
  async delete(bucket: BucketName, key: string): Promise<void> {
    this.bucket(bucket).delete(key);
  }
  async list(bucket: BucketName, prefix: string): Promise<string[]> {
    return [...this.bucket(bucket).keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  async presignPut(): Promise<{ url: string; headers: Record<string, string> }> {
    throw new Error('not supported');
  }
  async presignGet(): Promise<string> {
    throw new Error('not supported');
  }
  async ping(): Promise<void> {}
}
