import { createHash } from 'node:crypto';
import { NotFoundError, ValidationError } from '../errors';
import type { Actor } from '../identity/actor';
import type { Clock } from '../ports/clock';
import type { DocumentStore, Item } from '../ports/document-store';
import type { IdGenerator } from '../ports/id-generator';
import type { ObjectStore } from '../ports/object-store';
import type { KeyProvider } from '../ports/key-provider';
import type { CatalogService } from '../catalog/catalog-service';

export interface CreateUploadInput {
  datasetId: string;
  fileName: string;
  contentType: string;
  sizeBytes: number;
  /** Lower-case hex SHA-256 of the file. */
  sha256: string;
  sourceSystem?: string;
  /**
   * For files without a patient header (documents): the source patient id or MRN. An identifier,
   * so it is stored encrypted beside the upload, never in the upload's readable attributes.
   */
  patientRef?: string;
  /**
   * The institution the file comes from. Data managers ingest on behalf of member institutions;
   * anyone else uploads for their own institution only.
   */
  institution?: string;
}

export interface Upload {
  uploadId: string;
  datasetId: string;
  fileName: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  sourceSystem?: string;
  status: 'awaiting-upload' | 'received' | 'accepted' | 'rejected';
  /** Machine-readable reason when rejected (R-ING-5). */
  rejection?: { code: 'CHECKSUM_MISMATCH' | 'SIZE_MISMATCH' | 'EMPTY_FILE' | 'MISSING_OBJECT' | 'INVALID_CONTENT'; detail: string };
  receivedAt?: string;
  /** The ingest job that processed the file (its report lists accepted and rejected items). */
  jobId?: string;
  stagingKey: string;
  createdAt: string;
  createdBy: string;
  institution?: string;
}

export interface UploadTicket {
  upload: Upload;
  method: 'PUT';
  url: string;
  headers: Record<string, string>;
  expiresAt: string;
}

type UploadItem = Item & { upload: Upload };

/** Presigned upload URLs stay valid this long. */
const UPLOAD_URL_TTL_SECONDS = 15 * 60;

/**
 * Step 1 of ingestion (R-ING-4): reserve an upload into the staging bucket. The presigned PUT
 * carries the declared SHA-256, so S3 refuses a different body; the processor verifies the hash
 * again before accepting anything (s3rver does not check it locally).
 */
export class UploadService {
  constructor(
    private readonly store: DocumentStore,
    private readonly objects: ObjectStore,
    private readonly catalog: CatalogService,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly keys: KeyProvider,
  ) {}

  async createUpload(actor: Actor, input: CreateUploadInput): Promise<UploadTicket> {
    // The dataset must exist: uploads never create data outside the catalogue.
    await this.catalog.getDataset(input.datasetId).catch((e: unknown) => {
      if (e instanceof NotFoundError) throw new ValidationError('unknown dataset', { field: 'datasetId' });
      throw e;
    });
    if (input.institution && input.institution !== actor.institution && !actor.roles.includes('data-manager')) {
      throw new ValidationError('uploads are for your own institution', { field: 'institution' });
    }
    const institution = input.institution ?? actor.institution;
    const uploadId = this.ids.next('upl');
    const now = this.clock.now();
    const upload: Upload = {
      uploadId,
      datasetId: input.datasetId,
      fileName: input.fileName,
      contentType: input.contentType,
      sizeBytes: input.sizeBytes,
      sha256: input.sha256,
      ...(input.sourceSystem ? { sourceSystem: input.sourceSystem } : {}),
      status: 'awaiting-upload',
      // The key carries the id only: file names may hold anything (even PHI) and never reach S3
      // keys. Flat (no "/"): s3rver removes emptied folders, racing concurrent uploads into them.
      stagingKey: `upload-${uploadId}`,
      createdAt: new Date(now).toISOString(),
      createdBy: actor.id,
      ...(institution ? { institution } : {}),
    };
    const patientRef = input.patientRef?.trim()
      ? Buffer.from((await this.keys.encrypt('identity', new TextEncoder().encode(input.patientRef.trim()), { uploadId })).ciphertext).toString('base64')
      : undefined;
    await this.store.put(
      'main',
      { pk: `UPLOAD#${uploadId}`, sk: 'UPLOAD', gsi1pk: `UPLOADS#${actor.id}`, gsi1sk: upload.createdAt, version: 1, upload, ...(patientRef ? { patientRef } : {}) },
      { ifNotExists: true },
    );
    const { url, headers } = await this.objects.presignPut('staging', upload.stagingKey, {
      contentType: input.contentType,
      contentLength: input.sizeBytes,
      checksumSha256: Buffer.from(input.sha256, 'hex').toString('base64'),
      expiresInSeconds: UPLOAD_URL_TTL_SECONDS,
      metadata: { 'upload-id': uploadId },
    });
    return { upload, method: 'PUT', url, headers, expiresAt: new Date(now + UPLOAD_URL_TTL_SECONDS * 1000).toISOString() };
  }

  /**
   * Step 2 of ingestion, on the object-created event: the staged object must be exactly what was
   * declared (size and SHA-256), or the upload is rejected with a reason. Idempotent: events are
   * delivered at least once. Returns undefined for objects that are not platform uploads; with the
   * bytes it verified, if it read them now (not on a redelivery), so they are not read twice.
   */
  async verifyStagedObject(stagingKey: string): Promise<{ upload: Upload; bytes?: Uint8Array } | undefined> {
    const uploadId = /^upload-(upl_[A-Za-z0-9]+)$/.exec(stagingKey)?.[1];
    if (!uploadId) return undefined;
    const item = await this.store.get<UploadItem>('main', { pk: `UPLOAD#${uploadId}`, sk: 'UPLOAD' });
    if (!item || item.upload.stagingKey !== stagingKey) return undefined;
    if (item.upload.status !== 'awaiting-upload') return { upload: item.upload };
    const obj = await this.objects.get('staging', stagingKey);
    const declared = item.upload;
    let rejection: Upload['rejection'];
    if (!obj) rejection = { code: 'MISSING_OBJECT', detail: 'the staged object is gone' };
    else if (obj.size === 0) rejection = { code: 'EMPTY_FILE', detail: 'the file is empty' };
    else if (obj.size !== declared.sizeBytes) rejection = { code: 'SIZE_MISMATCH', detail: `declared ${declared.sizeBytes} bytes, received ${obj.size}` };
    else if (createHash('sha256').update(obj.body).digest('hex') !== declared.sha256) rejection = { code: 'CHECKSUM_MISMATCH', detail: 'the SHA-256 of the received file differs from the declared one' };
    const next: Upload = { ...declared, status: rejection ? 'rejected' : 'received', receivedAt: new Date(this.clock.now()).toISOString(), ...(rejection ? { rejection } : {}) };
    await this.store.put('main', { ...item, upload: next, version: (item.version as number | undefined ?? 0) + 1 }, { expectedVersion: (item.version as number | undefined) ?? undefined });
    // A rejected object must not linger in staging.
    if (rejection && obj) await this.objects.delete('staging', stagingKey);
    return { upload: next, ...(rejection || !obj ? {} : { bytes: obj.body }) };
  }

  /** The declared patient reference of an upload, decrypted (processing only). */
  async patientRefOf(upload: Upload): Promise<string | undefined> {
    const item = await this.store.get<UploadItem & { patientRef?: string }>('main', { pk: `UPLOAD#${upload.uploadId}`, sk: 'UPLOAD' });
    if (!item?.patientRef) return undefined;
    return new TextDecoder().decode(await this.keys.decrypt('identity', new Uint8Array(Buffer.from(item.patientRef, 'base64')), { uploadId: upload.uploadId }));
  }

  /** Reads a verified staged object (for processing). */
  async stagedBytes(upload: Upload): Promise<Uint8Array | undefined> {
    return (await this.objects.get('staging', upload.stagingKey))?.body;
  }

  /**
   * Final state of an upload after processing: the source file is kept, envelope-encrypted, in the
   * data bucket for provenance, and removed from staging.
   */
  async complete(upload: Upload, outcome: { jobId?: string; rejection?: Upload['rejection'] }, bytes?: Uint8Array): Promise<Upload> {
    const item = await this.store.get<UploadItem>('main', { pk: `UPLOAD#${upload.uploadId}`, sk: 'UPLOAD' });
    if (!item) throw new NotFoundError('upload', { uploadId: upload.uploadId });
    if (bytes && !outcome.rejection) {
      const { ciphertext, keyId } = await this.keys.encrypt('data', bytes, { uploadId: upload.uploadId, datasetId: upload.datasetId });
      await this.objects.put('data', `sources/${upload.datasetId}/${upload.uploadId}`, ciphertext, { contentType: 'application/octet-stream', metadata: { sha256: upload.sha256, 'key-id': keyId } });
    }
    const next: Upload = { ...item.upload, status: outcome.rejection ? 'rejected' : 'accepted', ...(outcome.jobId ? { jobId: outcome.jobId } : {}), ...(outcome.rejection ? { rejection: outcome.rejection } : {}) };
    const version = (item.version as number | undefined) ?? 0;
    await this.store.put('main', { ...item, upload: next, version: version + 1 }, { expectedVersion: version || undefined });
    await this.objects.delete('staging', upload.stagingKey);
    return next;
  }

  /** The upload, visible to its creator and to data managers of the platform. */
  async getUpload(actor: Actor, uploadId: string): Promise<Upload> {
    const item = await this.store.get<UploadItem>('main', { pk: `UPLOAD#${uploadId}`, sk: 'UPLOAD' });
    if (!item || (item.upload.createdBy !== actor.id && !actor.roles.includes('data-manager'))) throw new NotFoundError('upload', { uploadId });
    return item.upload;
  }
}
