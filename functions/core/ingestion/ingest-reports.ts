import { NotFoundError } from '../errors';
import type { Actor } from '../identity/actor';
import type { IngestJob } from './ingest-job';

/**
 * Ingest job reports as their users read them: data managers see every institution's; a data
 * provider or partner only its own institution's. Anything else is "not found", so the ids of
 * other institutions' jobs are not confirmed to exist.
 */
export class IngestReports {
  constructor(private readonly jobs: { getJob(jobId: string): Promise<IngestJob | undefined> }) {}

  /** One job's report (counts and rejected items). */
  async job(actor: Actor, jobId: string): Promise<IngestJob> {
    const job = await this.jobs.getJob(jobId);
    if (!job || !(actor.roles.includes('data-manager') || (actor.institution !== undefined && actor.institution === job.institution))) throw new NotFoundError('ingest job', { jobId });
    return job;
  }
}
