import type { PhiType } from './text-scrubber';

/** Kinds of change recorded in a report (policy actions plus the structural ones). */
export type ReportAction =
  | 'remove'
  | 'mask'
  | 'pseudonymize'
  | 'generalize'
  | 'shift'
  | 'scrub'
  | 'replace-reference'
  | 'replace-uid'
  | 'empty'
  | 'dummy'
  | 'add'
  | 'watermark';

/** One change; `path` names the element (never its value). */
export interface ReportEntry {
  path: string;
  action: ReportAction;
  /** Safe detail: a PHI type, an Annex E action code — never the value. */
  detail?: string;
}

/**
 * What a de-identification did, for lineage and audit: the policy id and version, every path
 * touched and how, and warnings/refusals. It never contains a source value.
 */
export interface DeidReport {
  policyId: string;
  policyVersion: string;
  /** `Patient`, `Observation` …, `dicom`, `text`, `row`. */
  target: string;
  entries: ReportEntry[];
  /** Counts per action. */
  counts: Partial<Record<ReportAction, number>>;
  /** PHI spans found in free text, per type. */
  textSpans: Partial<Record<PhiType, number>>;
  warnings: string[];
  /** Set when the input must not be released (e.g. burned-in annotation that cannot be cleaned). */
  refused?: string;
}

/** Accumulates a {@link DeidReport}. */
export class ReportBuilder {
  readonly report: DeidReport;

  constructor(policy: { id: string; version: string }, target: string) {
    this.report = { policyId: policy.id, policyVersion: policy.version, target, entries: [], counts: {}, textSpans: {}, warnings: [] };
  }

  add(path: string, action: ReportAction, detail?: string): void {
    this.report.entries.push(detail === undefined ? { path, action } : { path, action, detail });
    this.report.counts[action] = (this.report.counts[action] ?? 0) + 1;
  }

  spans(types: readonly PhiType[]): void {
    for (const t of types) this.report.textSpans[t] = (this.report.textSpans[t] ?? 0) + 1;
  }

  warn(message: string): void {
    this.report.warnings.push(message);
  }
}
