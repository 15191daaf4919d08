import type { CreateUploadInput } from '../core/ingestion/upload-service';
import { makeApiHandler } from '../http/make-api-handler';
import type { OperationContext, OperationMap } from '../http/operation';
import { lambdaContainer, lambdaObservability } from './lambda-runtime';
import { mpiOperations } from './mpi-operations';
import { timelineOperations } from './timeline-operations';

/** Uploads into staging (R-ING-4). */
export const operations: OperationMap = {
  ...mpiOperations,
  ...timelineOperations,
  async createIngestUpload({ container, actor, body, audit }: OperationContext<Record<string, string>, unknown, CreateUploadInput>) {
    const ticket = await container.uploads.createUpload(actor, body);
    audit.resources.push({ type: 'Upload', id: ticket.upload.uploadId }, { type: 'Dataset', id: body.datasetId });
    audit.parameters.contentType = body.contentType;
    audit.parameters.sizeBytes = body.sizeBytes;
    return ticket;
  },
  async getIngestJob({ container, actor, params, audit }) {
    audit.resources.push({ type: 'IngestJob', id: params.jobId });
    return container.ingestLineage.job(actor, params.jobId);
  },
  async listIngestJobRecords({ container, actor, params, query, audit }: OperationContext<{ jobId: string }, { limit: number; cursor?: string }>) {
    audit.resources.push({ type: 'IngestJob', id: params.jobId });
    const page = await container.ingestLineage.recordsOfJob(actor, params.jobId, query);
    audit.count = page.records.length;
    return page;
  },
  async getRecordLineage({ container, actor, params, audit }) {
    audit.resources.push({ type: 'Patient', id: params.patientId }, { type: params.resourceType, id: params.recordId });
    return container.ingestLineage.lineageOf(actor, params.patientId, params.resourceType, params.recordId);
  },
  async getIngestUpload({ container, actor, params, audit }) {
    audit.resources.push({ type: 'Upload', id: params.uploadId });
    return container.uploads.getUpload(actor, params.uploadId);
  },
};

export const handler = makeApiHandler('ingestion', operations, lambdaContainer, lambdaObservability('ingestion'));
