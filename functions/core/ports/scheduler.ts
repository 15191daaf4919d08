/**
 * One-time job scheduler port (EventBridge Scheduler `at(...)` schedules in AWS; a poller over
 * the document store on one machine). Jobs are delivered at least once: handlers are idempotent.
 */
/** One-time grant jobs, plus the recurring ones EventBridge Scheduler runs (sweep, audit sealing). */
export type JobType = 'grant-reminder' | 'grant-expiry' | 'review-escalation' | 'daily-sweep' | 'audit-seal' | 'partner-key-revocation' | 'fhir-export';

export interface ScheduledJob {
  /** Unique, deterministic name (scheduling twice with the same name is a no-op). */
  name: string;
  type: JobType;
  runAt: number;
  payload: Record<string, string | number>;
}

export interface Scheduler {
  schedule(job: ScheduledJob): Promise<void>;
  cancel(name: string): Promise<void>;
}
