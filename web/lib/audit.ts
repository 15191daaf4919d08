/**
 * Audit-console helpers (R-AUD-2, R-AUD-4, R-AUD-5): query building and the institution-time-zone
 * conversions of the search form. Pure so they can be unit-tested; the API stays the authority on
 * who may read the audit trail.
 */
import type { AuditEventQuery } from './api-client';

/** Roles the API lets read the audit trail (`QueryAudit`, `VerifyAuditChain`, `ListAuditAlerts`). */
export const AUDIT_ROLES = ['auditor', 'security-admin'] as const;

/** Resource types the platform records in audit events; offered as suggestions, any value is accepted. */
export const AUDIT_RESOURCE_TYPES = ['Patient', 'Dataset', 'AccessRequest', 'Grant', 'Upload', 'IngestJob', 'Partner', 'ApiKey', 'AuditLog', 'AuditDigest'] as const;

/** Events per page of the search table. */
export const AUDIT_PAGE_SIZE = 25;

/** Default search window: the last 7 days. */
export const DEFAULT_RANGE_DAYS = 7;

/** The editable state of the search form; times are `YYYY-MM-DDTHH:mm` in the institution's zone. */
export interface AuditSearchDraft {
  by: 'actor' | 'resource';
  actorId: string;
  resourceType: string;
  resourceId: string;
  from: string;
  to: string;
}

/** Offset of `timeZone` from UTC at `instant`, in milliseconds. */
export function timeZoneOffsetMs(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? '0');
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(instant / 1000) * 1000;
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;

/**
 * Converts a `datetime-local` value meant in `timeZone` (the institution's, not the browser's) to
 * an ISO instant in UTC, or `undefined` when the value is empty or malformed.
 */
export function zonedLocalToIso(local: string, timeZone: string): string | undefined {
  const m = LOCAL.exec(local.trim());
  if (!m) return undefined;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  if (Number.isNaN(wall)) return undefined;
  // Two passes so a DST change between the guess and the answer is accounted for.
  let utc = wall - timeZoneOffsetMs(wall, timeZone);
  utc = wall - timeZoneOffsetMs(utc, timeZone);
  return new Date(utc).toISOString();
}

/** Formats an instant as a `datetime-local` value (`YYYY-MM-DDTHH:mm`) in `timeZone`. */
export function isoToZonedLocal(instant: number, timeZone: string): string {
  const shifted = new Date(instant + timeZoneOffsetMs(instant, timeZone));
  return shifted.toISOString().slice(0, 16);
}

/** An empty search by actor over the last {@link DEFAULT_RANGE_DAYS} days up to `now`. */
export function defaultDraft(now: number, timeZone: string, actorId = ''): AuditSearchDraft {
  return {
    by: 'actor',
    actorId,
    resourceType: '',
    resourceId: '',
    from: isoToZonedLocal(now - DEFAULT_RANGE_DAYS * 86_400_000, timeZone),
    // Rounded up to the next minute so events of the current minute are included.
    to: isoToZonedLocal(now + 60_000, timeZone),
  };
}

/** A problem with the search form: a message key under `audit.validation`, keyed by field. */
export type AuditDraftErrors = Partial<Record<'actorId' | 'resourceType' | 'resourceId' | 'from' | 'to', string>>;

/** Validates the draft the way the API's `AuditQuerySchema` will; empty object when valid. */
export function validateAuditDraft(draft: AuditSearchDraft, timeZone: string): AuditDraftErrors {
  const errors: AuditDraftErrors = {};
  if (draft.by === 'actor') {
    if (!draft.actorId.trim()) errors.actorId = 'required';
    else if (draft.actorId.trim().length > 128) errors.actorId = 'tooLong';
  } else {
    if (!draft.resourceType.trim()) errors.resourceType = 'required';
    else if (draft.resourceType.trim().length > 32) errors.resourceType = 'tooLong';
    if (!draft.resourceId.trim()) errors.resourceId = 'required';
    else if (draft.resourceId.trim().length > 128) errors.resourceId = 'tooLong';
  }
  const from = draft.from ? zonedLocalToIso(draft.from, timeZone) : undefined;
  const to = draft.to ? zonedLocalToIso(draft.to, timeZone) : undefined;
  if (draft.from && !from) errors.from = 'invalidTime';
  if (draft.to && !to) errors.to = 'invalidTime';
  if (from && to && from > to) errors.to = 'toBeforeFrom';
  return errors;
}

/** The API query for a valid draft (empty times are left out: the API then applies no bound). */
export function draftToQuery(draft: AuditSearchDraft, timeZone: string, limit = AUDIT_PAGE_SIZE): AuditEventQuery {
  const query: AuditEventQuery = { limit };
  if (draft.by === 'actor') query.actorId = draft.actorId.trim();
  else {
    query.resourceType = draft.resourceType.trim();
    query.resourceId = draft.resourceId.trim();
  }
  const from = draft.from ? zonedLocalToIso(draft.from, timeZone) : undefined;
  const to = draft.to ? zonedLocalToIso(draft.to, timeZone) : undefined;
  if (from) query.from = from;
  if (to) query.to = to;
  return query;
}

/** Query string for `GET /v1/audit/events` (keys in a stable order, empty values left out). */
export function auditQueryString(query: AuditEventQuery): string {
  const params = new URLSearchParams();
  for (const key of ['actorId', 'resourceType', 'resourceId', 'from', 'to', 'limit', 'cursor'] as const) {
    const value = query[key];
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  return params.toString();
}
