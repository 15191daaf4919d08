import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Container } from '../composition/container';
import { auditSystemAction } from '../core/audit/system-action';
import { lambdaContainer } from './lambda-runtime';

const logger = new Logger({ serviceName: 'ingest-events' });

/** An object-created notification, reduced to what processing needs. */
export interface StagedObjectEvent {
  bucket: string;
  key: string;
}

/**
 * Handles one object-created event of the staging bucket (ARCHITECTURE D8): verifies the staged
 * object against its declared size and SHA-256, runs the ingest pipeline on it, keeps the source
 * encrypted for provenance and records the outcome, audited as a system action. Shared by the SQS-driven Lambda and the local runtime's in-process queue.
 */
export async function processStagedObject(container: Container, event: StagedObjectEvent): Promise<void> {
  const verified = await container.uploads.verifyStagedObject(event.key);
  if (!verified) return;
  let upload = verified;
  let jobId: string | undefined;
  if (verified.status === 'received') {
    const bytes = await container.uploads.stagedBytes(verified);
    if (!bytes) return; // already processed by an earlier delivery
    const patientRef = await container.uploads.patientRefOf(verified);
    const job = await container.ingestRouter.ingest({
      datasetId: verified.datasetId,
      institution: verified.institution ?? 'unknown',
      sourceSystem: verified.sourceSystem ?? 'upload',
      fileName: verified.fileName,
      contentType: verified.contentType,
      bytes,
      uploadId: verified.uploadId,
      operator: verified.createdBy,
      ...(patientRef ? { patientRef } : {}),
    });
    jobId = job.jobId;
    // A file of which nothing was accepted is rejected as a whole; the job report says why, per item.
    const rejection = job.counts.accepted === 0 ? { code: 'INVALID_CONTENT' as const, detail: job.rejected[0]?.code ?? 'no item accepted' } : undefined;
    upload = await container.uploads.complete(verified, rejection ? { jobId, rejection } : { jobId }, bytes);
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
}

/**
 * SQS batch handler: each message body is the EventBridge "Object Created" event S3 sent.
 * Failed messages are reported individually so only they are retried (then dead-lettered).
 */
export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const container = await lambdaContainer();
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      const body = JSON.parse(record.body) as { detail?: { bucket?: { name?: string }; object?: { key?: string } } };
      const bucket = body.detail?.bucket?.name;
      const key = body.detail?.object?.key;
      if (!bucket || !key) {
        logger.warn('ignoring a message that is not an object-created event', { messageId: record.messageId });
        continue;
      }
      await processStagedObject(container, { bucket, key: decodeURIComponent(key.replace(/\+/g, ' ')) });
    } catch (e) {
      logger.error('staged object processing failed', { messageId: record.messageId, error: e as Error });
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures: failures };
};
