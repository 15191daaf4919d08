import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Container } from '../composition/container';
import { BYTES_INGESTED_TOGETHER, FILES_INGESTED_TOGETHER, type IngestSource } from '../core/ingestion/ingest-support';
import type { Upload } from '../core/ingestion/upload-service';
import { auditSystemAction } from '../core/audit/system-action';
import { lambdaContainer } from './lambda-runtime';

const logger = new Logger({ serviceName: 'ingest-events' });

/** An object-created notification, reduced to what processing needs. */
export interface StagedObjectEvent {
  bucket: string;
  key: string;
}

/** Time an invocation keeps back from new files (a third of the ingest Lambda's 15 minutes). */
const TIME_KEPT_BACK_MS = 5 * 60 * 1000;

/** A staged upload verified and read, ready to be ingested (or already processed: no `src`). */
interface StagedUpload {
  at: number;
  upload: Upload;
  bytes?: Uint8Array;
  src?: IngestSource;
}

/**
 * Handles object-created events of the staging bucket (ARCHITECTURE D8), as a queue batch
 * delivers them: verifies each staged object against its declared size and SHA-256, runs the
 * ingest pipelines on them (one job each; files read together, up to `FILES_INGESTED_TOGETHER`
 * and `BYTES_INGESTED_TOGETHER`, are ingested together, so DICOM files of one study share their
 * writes, see `IngestRouter.ingestMany`; a larger file runs alone), keeps each source encrypted
 * for provenance and records the outcome, audited as a system action. Returns each event's
 * error, if it failed (to be redelivered). Shared by the SQS-driven Lambda and the local queue.
 */
export async function processStagedObjects(container: Container, events: StagedObjectEvent[], opts: { timeLeftMs?: () => number } = {}): Promise<Array<{ error: unknown } | undefined>> {
  const failures: Array<{ error: unknown } | undefined> = events.map(() => undefined);
  // Files not started while enough time is left are handed back (redelivered), not cut off.
  const late = () => (opts.timeLeftMs?.() ?? Infinity) < TIME_KEPT_BACK_MS;
  let group: StagedUpload[] = [];
  let groupBytes = 0;
  const flush = async () => {
    const ready = group;
    group = [];
    groupBytes = 0;
    if (ready.length) await ingestAndComplete(container, ready, failures);
  };
  // One at a time: verifying reads the whole object, and a batch may hold large archives.
  for (const [at, event] of events.entries()) {
    if (late()) {
      await flush();
      for (let rest = at; rest < events.length; rest++) failures[rest] = { error: new Error('not started: too little of the invocation left') };
      break;
    }
    let staged: StagedUpload | undefined;
    try {
      staged = await stage(container, event, at);
    } catch (error) {
      failures[at] = { error };
    }
    if (!staged) continue;
    const size = staged.bytes?.byteLength ?? 0;
    if (groupBytes + size > BYTES_INGESTED_TOGETHER) await flush();
    group.push(staged);
    groupBytes += size;
    if (group.length >= FILES_INGESTED_TOGETHER || groupBytes >= BYTES_INGESTED_TOGETHER) await flush();
  }
  await flush();
  return failures;
}

/** Verifies a staged object and, if it is to be ingested, reads it; undefined if there is nothing to do. */
async function stage(container: Container, event: StagedObjectEvent, at: number): Promise<StagedUpload | undefined> {
  const staged = await container.uploads.verifyStagedObject(event.key);
  if (!staged) return undefined;
  const verified = staged.upload;
  if (verified.status !== 'received') return { at, upload: verified };
  const bytes = staged.bytes ?? (await container.uploads.stagedBytes(verified));
  if (!bytes) return undefined; // already processed by an earlier delivery
  const patientRef = await container.uploads.patientRefOf(verified);
  return {
    at,
    upload: verified,
    bytes,
    src: {
      datasetId: verified.datasetId,
      institution: verified.institution ?? 'unknown',
      sourceSystem: verified.sourceSystem ?? 'upload',
      fileName: verified.fileName,
      contentType: verified.contentType,
      bytes,
      uploadId: verified.uploadId,
      operator: verified.createdBy,
      ...(patientRef ? { patientRef } : {}),
    },
  };
}

/** Ingests the staged uploads together, then completes and audits each; a failure is its upload's alone. */
async function ingestAndComplete(container: Container, staged: StagedUpload[], failures: Array<{ error: unknown } | undefined>): Promise<void> {
  const toIngest = staged.filter((s) => s.src);
  const results = await container.ingestRouter.ingestMany(toIngest.map((s) => s.src!));
  const outcomes = new Map(toIngest.map((s, i) => [s.at, results[i]!]));
  for (const s of staged) {
    try {
      let upload = s.upload;
      let jobId: string | undefined;
      const result = outcomes.get(s.at);
      if (result?.status === 'rejected') throw result.reason;
      if (result) {
        const job = result.value;
        jobId = job.jobId;
        // A file of which nothing was accepted is rejected as a whole; the job report says why, per item.
        const rejection = job.counts.accepted === 0 ? { code: 'INVALID_CONTENT' as const, detail: job.rejected[0]?.code ?? 'no item accepted' } : undefined;
        upload = await container.uploads.complete(s.upload, rejection ? { jobId, rejection } : { jobId }, s.bytes!);
      }
      await auditSystemAction(container, {
        actorId: 'system:ingest',
        operation: 'ingest.processStagedObject',
        category: 'data-change',
        correlationId: upload.uploadId,
        resources: [
          { type: 'Upload', id: upload.uploadId },
          { type: 'Dataset', id: upload.datasetId },
          ...(jobId ? [{ type: 'IngestJob', id: jobId }] : []),
        ],
        parameters: { status: upload.status, ...(upload.rejection ? { reason: upload.rejection.code } : {}) },
        outcome: upload.status === 'rejected' ? 'failure' : 'success',
        status: upload.status === 'rejected' ? 422 : 200,
      });
    } catch (error) {
      failures[s.at] = { error };
    }
  }
}

/** One event on its own (the local runtime's uploads in tests, tools): throws if it failed. */
export async function processStagedObject(container: Container, event: StagedObjectEvent): Promise<void> {
  const [failure] = await processStagedObjects(container, [event]);
  if (failure) throw failure.error;
}

/**
 * SQS batch handler: each message body is the EventBridge "Object Created" event S3 sent.
 * Failed messages are reported individually so only they are retried (then dead-lettered).
 */
export const handler = async (event: SQSEvent, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> => {
  const container = await lambdaContainer();
  const staged: Array<{ messageId: string; event: StagedObjectEvent }> = [];
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      const body = JSON.parse(record.body) as { detail?: { bucket?: { name?: string }; object?: { key?: string } } };
      const bucket = body.detail?.bucket?.name;
      const key = body.detail?.object?.key;
      if (!bucket || !key) {
        logger.warn('ignoring a message that is not an object-created event', { messageId: record.messageId });
        continue;
      }
      staged.push({ messageId: record.messageId, event: { bucket, key: decodeURIComponent(key.replace(/\+/g, ' ')) } });
    } catch (e) {
      // Not JSON: retried, then dead-lettered for inspection.
      logger.error('unreadable message', { messageId: record.messageId, error: e as Error });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  const failures = await processStagedObjects(container, staged.map((s) => s.event), { timeLeftMs: () => context.getRemainingTimeInMillis() });
  failures.forEach((failure, i) => {
    if (!failure) return;
    logger.error('staged object processing failed', { messageId: staged[i]!.messageId, error: failure.error as Error });
    batchItemFailures.push({ itemIdentifier: staged[i]!.messageId });
  });
  return { batchItemFailures };
};
