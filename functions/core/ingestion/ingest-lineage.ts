import { NotFoundError } from '../errors';
import type { Actor } from '../identity/actor';
import type { ResearchRecords } from '../patients/research-records';
import type { IngestJob, Lineage } from './ingest-job';

/**
 * Ingest reports and lineage as their users read them (R-ING-6: lineage per record and per job):
 * data managers see every institution's; a data provider or partner only its own institution's
 * jobs and records. Anything else is "not found", so ids of other institutions' jobs are not
 * confirmed to exist.
 */
export class IngestLineage {
  constructor(
    private readonly jobs: { getJob(jobId: string): Promise<IngestJob | undefined> },
    private readonly records: ResearchRecords,
  ) {}

  /** One job's report (counts and rejected items). */
  async job(actor: Actor, jobId: string): Promise<IngestJob> {
    const job = await this.jobs.getJob(jobId);
    if (!job || !mayRead(actor, job.institution)) throw new NotFoundError('ingest job', { jobId });
    return job;
  }

  /** The records whose current version a job wrote, a page at a time, beside its report. */
  async recordsOfJob(actor: Actor, jobId: string, page: { limit: number; cursor?: string }): Promise<{ job: IngestJob; records: Array<{ patientId: string; resourceType: string; id: string }>; cursor?: string }> {
    const job = await this.job(actor, jobId);
    const { items, cursor } = await this.records.recordsOfJob(jobId, page);
    return { job, records: items, ...(cursor ? { cursor } : {}) };
  }

  /** Where one record came from and what was done to it. */
  async lineageOf(actor: Actor, patientId: string, resourceType: string, id: string): Promise<Lineage> {
    const lineage = await this.records.lineageOf(patientId, resourceType, id);
    if (!lineage || !mayRead(actor, lineage.institution)) throw new NotFoundError('record lineage', { patientId, resourceType, id });
    return lineage;
  }
}

function mayRead(actor: Actor, institution: string): boolean {
  return actor.roles.includes('data-manager') || (actor.institution !== undefined && actor.institution === institution);
}
