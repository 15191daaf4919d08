import { createHash } from 'node:crypto';
import { policyForLevel } from '../access/research-access-service';
import { getPolicy } from '../deid/deid-policy';
import { Pseudonymizer } from '../deid/pseudonym';
import { ForbiddenError, isDomainError, NotFoundError, ValidationError } from '../errors';
import type { Actor } from '../identity/actor';
import type { ResearchRecords } from '../patients/research-records';
import type { Clock } from '../ports/clock';
import type { DocumentStore, Item } from '../ports/document-store';
import type { IdGenerator } from '../ports/id-generator';
import type { KeyProvider } from '../ports/key-provider';
import type { ObjectStore } from '../ports/object-store';
import type { Scheduler } from '../ports/scheduler';
import type { FhirFacade } from './fhir-facade';
import { dateRange, type FhirJson } from './fhir-search';

/** Resource types a Group `$export` writes (the patients' compartments). */
export const EXPORT_TYPES = ['Patient', 'Observation', 'Condition', 'Procedure', 'DiagnosticReport', 'ImagingStudy', 'DocumentReference', 'Consent'] as const;
export type ExportType = (typeof EXPORT_TYPES)[number];

/** Where export files live: the data bucket, envelope-encrypted per file. */
export const EXPORT_PREFIX = 'fhir-exports/';
/** Largest number of resources per NDJSON file (keeps each download within a Lambda response). */
export const LINES_PER_FILE = 1000;

/** One written NDJSON file. */
export interface ExportFile {
  type: ExportType;
  /** File name in download URLs: `<Type>-<n>.ndjson`. */
  name: string;
  count: number;
  sha256: string;
  bytes: number;
  objectKey: string;
}

/** A Bulk Data export job (FHIR Bulk Data Access IG v2, Group level). */
export interface BulkExportJob {
  jobId: string;
  grantId: string;
  /** The caller: status and downloads are only for the same holder. */
  holderId: string;
  actor: Pick<Actor, 'kind' | 'id' | 'roles' | 'scopes' | 'institution' | 'mfa'>;
  types: ExportType[];
  since?: string;
  /** The kick-off URL (manifest `request`). */
  request: string;
  status: 'queued' | 'running' | 'completed' | 'failed';
  /** Patients done / total while running. */
  progress?: { done: number; total: number };
  createdAt: string;
  transactionTime?: string;
  completedAt?: string;
  output: ExportFile[];
  /** De-identification policy (id and version) the files were produced with: lineage. */
  policy: { id: string; version: string };
  error?: string;
}

type JobItem = Item & { job: BulkExportJob };
const jobKey = (jobId: string) => ({ pk: `FHIREXPORT#${jobId}`, sk: 'JOB' });

/**
 * Bulk Data `$export` of a granted cohort (R-INT-1, R-DEID-1): the kick-off records a job and
 * schedules it (EventBridge Scheduler → scheduled-jobs Lambda in AWS, the local scheduler on one
 * machine); the job writes one NDJSON file per type (split every {@link LINES_PER_FILE}), each
 * resource de-identified through the facade, each file envelope-encrypted under the data key in
 * the data bucket, with the policy id and version recorded. Status and downloads re-check the
 * grant at decision time and only serve the job's own caller.
 */
export class BulkExportService {
  constructor(
    private readonly facade: FhirFacade,
    private readonly store: DocumentStore,
    private readonly objects: ObjectStore,
    private readonly research: ResearchRecords,
    private readonly keys: KeyProvider,
    private readonly scheduler: Scheduler,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  /** Parses `_type` (comma-separated, repeatable) and `_since` of a kick-off. */
  static parseParameters(query: Record<string, readonly string[] | undefined>): { types: ExportType[]; since?: string } {
    let types: ExportType[] = [...EXPORT_TYPES];
    let since: string | undefined;
    for (const [k, values] of Object.entries(query)) {
      if (!values?.length) continue;
      if (k === '_type') {
        const asked = values.flatMap((v) => v.split(',')).filter(Boolean);
        const unknown = asked.filter((t) => !(EXPORT_TYPES as readonly string[]).includes(t));
        if (unknown.length) throw new ValidationError(`_type ${unknown.join(', ')} cannot be exported (exportable: ${EXPORT_TYPES.join(', ')})`, { in: 'query', parameter: '_type', fhirCode: 'FHIR_INVALID_PARAMETER' });
        types = EXPORT_TYPES.filter((t) => asked.includes(t));
      } else if (k === '_since') {
        if (values.length !== 1 || !/T/.test(values[0]!) || !dateRange(values[0]!)) throw new ValidationError('_since must be one FHIR instant (e.g. 2026-01-01T00:00:00Z)', { in: 'query', parameter: '_since', fhirCode: 'FHIR_INVALID_PARAMETER' });
        since = values[0];
      } else if (k === '_outputFormat') {
        if (!values.every((v) => ['application/fhir+ndjson', 'application/ndjson', 'ndjson'].includes(v))) throw new ValidationError('only NDJSON output is produced', { in: 'query', parameter: '_outputFormat', fhirCode: 'FHIR_UNSUPPORTED_FORMAT' });
      } else throw new ValidationError(`unknown $export parameter ${k}`, { in: 'query', parameter: k, fhirCode: 'FHIR_UNKNOWN_PARAMETER' });
    }
    return { types, ...(since ? { since } : {}) };
  }

  /** Kick-off: the Group (grant, by grant id or its FHIR id) must be one of the caller's usable grants. */
  async start(actor: Actor, grantId: string, params: { types: ExportType[]; since?: string }, requestUrl: string): Promise<BulkExportJob> {
    const grant = await this.facade.view(actor).grant(grantId);
    if (!grant) throw new NotFoundError(`Group/${grantId}`, { resourceType: 'Group' });
    const policy = getPolicy(policyForLevel(grant.dataLevel));
    const job: BulkExportJob = {
      jobId: this.ids.next('fhx'),
      grantId: grant.grantId,
      holderId: actor.id,
      actor: { kind: actor.kind, id: actor.id, roles: actor.roles, scopes: actor.scopes, mfa: actor.mfa, ...(actor.institution ? { institution: actor.institution } : {}) },
      types: params.types,
      ...(params.since ? { since: params.since } : {}),
      request: requestUrl,
      status: 'queued',
      createdAt: new Date(this.clock.now()).toISOString(),
      output: [],
      policy: { id: policy.id, version: policy.version },
    };
    await this.store.put('main', { ...jobKey(job.jobId), job }, { ifNotExists: true });
    await this.scheduler.schedule({ name: `fhir-export-${job.jobId}`, type: 'fhir-export', runAt: this.clock.now(), payload: { jobId: job.jobId, grantId: grant.grantId } });
    return job;
  }

  /** The job, for its own caller only (someone else's job is "not found"). */
  async status(actor: Actor, jobId: string): Promise<BulkExportJob> {
    const item = await this.store.get<JobItem>('main', jobKey(jobId));
    if (!item || item.job.holderId !== actor.id) throw new NotFoundError('export job', { jobId });
    return item.job;
  }

  /** One output file, decrypted and integrity-checked; the grant must still be usable. */
  async download(actor: Actor, jobId: string, name: string): Promise<{ job: BulkExportJob; file: ExportFile; body: Uint8Array }> {
    const job = await this.status(actor, jobId);
    const file = job.output.find((f) => f.name === name);
    if (job.status !== 'completed' || !file) throw new NotFoundError('export file', { jobId, file: name.slice(0, 64) });
    if (!(await this.facade.view(actor).grant(job.grantId))) throw new ForbiddenError('the grant of this export is no longer usable', { grantId: job.grantId });
    const obj = await this.objects.get('data', file.objectKey);
    if (!obj) throw new NotFoundError('export file', { jobId, file: name });
    const body = await this.keys.decrypt('data', obj.body, { exportJobId: jobId, file: name });
    if (createHash('sha256').update(body).digest('hex') !== file.sha256) throw new Error(`integrity check failed for export ${jobId}/${name}`);
    return { job, file, body };
  }

  /**
   * Runs a job (idempotent: a completed job is left alone; a re-run rewrites the same object keys).
   * The grant is re-checked now, as the job's caller: a grant revoked after the kick-off fails the job.
   */
  async run(jobId: string): Promise<BulkExportJob> {
    const item = await this.store.get<JobItem>('main', jobKey(jobId));
    if (!item) throw new NotFoundError('export job', { jobId });
    let job = item.job;
    if (job.status === 'completed' || job.status === 'failed') return job;
    const actor: Actor = { ...job.actor, roles: [...job.actor.roles], scopes: [...job.actor.scopes] };
    const view = this.facade.view(actor);
    const transactionTime = new Date(this.clock.now()).toISOString();
    const save = async (next: BulkExportJob) => {
      job = next;
      await this.store.put('main', { ...jobKey(jobId), job: next });
    };
    if (!(await view.grant(job.grantId))) {
      await save({ ...job, status: 'failed', error: 'grant not usable', completedAt: transactionTime });
      return job;
    }
    let released: Awaited<ReturnType<typeof view.releasedPatients>>;
    try {
      released = await view.releasedPatients(job.grantId);
    } catch (e) {
      // The grant-level decision refused the job's caller (e.g. level 4-5 data without MFA, or to
      // a partner system): a definite answer, so the job fails rather than being retried.
      if (!isDomainError(e, 'FORBIDDEN')) throw e;
      const reason = typeof e.details.reason === 'string' ? ` (${e.details.reason})` : '';
      await save({ ...job, status: 'failed', error: `grant not readable by the caller${reason}`, completedAt: transactionTime });
      return job;
    }
    await save({ ...job, status: 'running', transactionTime, progress: { done: 0, total: released.length } });
    const lines = new Map<ExportType, string[]>(job.types.map((t) => [t, []]));
    const since = job.since ? Date.parse(job.since) : undefined;
    const output: ExportFile[] = [];
    const flush = async (type: ExportType, all: boolean) => {
      const buf = lines.get(type)!;
      while (buf.length >= LINES_PER_FILE || (all && buf.length)) {
        const chunk = buf.splice(0, LINES_PER_FILE);
        output.push(await this.writeFile(jobId, type, output.filter((f) => f.type === type).length + 1, chunk));
      }
    };
    // Only the exported types are read and de-identified (Patient is built from the release itself).
    const recordTypes = job.types.filter((t) => t !== 'Patient');
    for (let i = 0; i < released.length; i++) {
      const p = await view.patientData(job.grantId, released[i]!, recordTypes);
      if (p) {
        const changed = since === undefined ? undefined : await this.changedSince(job.grantId, p.token, since);
        const resources: FhirJson[] = [p.patient, ...p.records];
        for (const r of resources) {
          const type = r.resourceType as ExportType;
          if (!lines.has(type)) continue;
          if (changed && !changed.has(`${type}/${r.id}`)) continue;
          lines.get(type)!.push(JSON.stringify(r));
        }
        for (const t of job.types) await flush(t, false);
      }
      if (i % 10 === 9) await save({ ...job, progress: { done: i + 1, total: released.length } });
    }
    for (const t of job.types) await flush(t, true);
    await save({ ...job, status: 'completed', progress: { done: released.length, total: released.length }, output, completedAt: new Date(this.clock.now()).toISOString() });
    return job;
  }

  private async writeFile(jobId: string, type: ExportType, n: number, chunk: string[]): Promise<ExportFile> {
    const name = `${type}-${n}.ndjson`;
    const body = new TextEncoder().encode(chunk.join('\n') + '\n');
    const sha256 = createHash('sha256').update(body).digest('hex');
    const objectKey = `${EXPORT_PREFIX}${jobId}/${name}`;
    const { ciphertext } = await this.keys.encrypt('data', body, { exportJobId: jobId, file: name });
    await this.objects.put('data', objectKey, ciphertext, { contentType: 'application/octet-stream', metadata: { sha256, 'export-job': jobId } });
    return { type, name, count: chunk.length, sha256, bytes: body.byteLength, objectKey };
  }

  /**
   * `_since`: the released ids (`Type/<grant pseudonym>`) of the patient's records ingested after
   * the instant (their lineage time), plus the Patient when its profile changed. Ids are mapped
   * with the grant's pseudonymizer, as the de-identification engine maps them.
   */
  private async changedSince(grantId: string, token: string, since: number): Promise<Set<string>> {
    const out = new Set<string>();
    const release = await this.store.get<Item & { patientId: string }>('main', { pk: `RELEASE#${grantId}`, sk: `PT#${token}` });
    if (!release) return out;
    const p = new Pseudonymizer(this.keys, grantId);
    const profile = await this.research.getProfile(release.patientId);
    if (!profile || Date.parse(profile.updatedAt) > since) out.add(`Patient/${token}`);
    for (const r of await this.research.records(release.patientId)) {
      const type = String(r.resourceType);
      const id = String(r.id);
      const lineage = await this.research.lineageOf(release.patientId, type, id);
      if (!lineage || Date.parse(lineage.at) > since) out.add(`${type}/${await p.token(`res:${type}`, id)}`);
    }
    return out;
  }
}
