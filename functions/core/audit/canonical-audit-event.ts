import type { AuditEvent } from './audit-event';
import { canonicalJson } from './canonical-json';

/**
 * {@link canonicalJson} of an audit event, with a fast path for the known event shape: the sorted
 * object is built as literals (fixed hidden classes) and written by the native `JSON.stringify`.
 * Any member outside the known shape (an added field, a tampered type) sends the event through the
 * general function, so the output is always exactly `canonicalJson(event)` (tested). Chain
 * verification hashes every stored event, so this is its hot path.
 */
export function canonicalAuditEventJson(event: AuditEvent): string {
  const e = event as unknown as Record<string, unknown>;
  if (!onlyKeys(e, EVENT_KEYS)) return canonicalJson(event);
  const actor = e.actor as Record<string, unknown>;
  const source = e.source as Record<string, unknown>;
  const result = e.result as Record<string, unknown>;
  const decision = e.decision as Record<string, unknown> | undefined;
  const resources = e.resources as unknown[];
  if (!plain(actor) || !onlyKeys(actor, ACTOR_KEYS) || !strings(actor.roles)) return canonicalJson(event);
  if (!plain(source) || !onlyKeys(source, SOURCE_KEYS)) return canonicalJson(event);
  if (!plain(result) || !onlyKeys(result, RESULT_KEYS)) return canonicalJson(event);
  if (decision !== undefined && (!plain(decision) || !onlyKeys(decision, DECISION_KEYS) || !strings(decision.policyIds))) return canonicalJson(event);
  if (!Array.isArray(resources)) return canonicalJson(event);
  const sortedResources: unknown[] = new Array(resources.length);
  for (let i = 0; i < resources.length; i++) {
    const r = resources[i] as Record<string, unknown>;
    if (!plain(r) || !onlyKeys(r, RESOURCE_KEYS)) return canonicalJson(event);
    sortedResources[i] = { id: r.id, type: r.type };
  }
  if (!plain(e.parameters) || !scalars(e.parameters as Record<string, unknown>)) return canonicalJson(event);
  for (const v of [e.category, e.correlationId, e.eventId, e.operation, e.time, actor.apiKeyId, actor.id, actor.institution, actor.kind, source.ip, source.userAgent, result.count, result.errorCode, result.outcome, result.status, decision?.effect]) {
    if (!scalar(v)) return canonicalJson(event);
  }
  const sorted = {
    actor: { apiKeyId: actor.apiKeyId, id: actor.id, institution: actor.institution, kind: actor.kind, roles: actor.roles },
    category: e.category,
    correlationId: e.correlationId,
    decision: decision === undefined ? undefined : { effect: decision.effect, policyIds: decision.policyIds },
    eventId: e.eventId,
    operation: e.operation,
    parameters: sortedScalars(e.parameters as Record<string, unknown>),
    resources: sortedResources,
    result: { count: result.count, errorCode: result.errorCode, outcome: result.outcome, status: result.status },
    source: { ip: source.ip, userAgent: source.userAgent },
    time: e.time,
  };
  return JSON.stringify(sorted);
}

const EVENT_KEYS = new Set(['eventId', 'time', 'correlationId', 'category', 'operation', 'actor', 'source', 'resources', 'parameters', 'decision', 'result']);
const ACTOR_KEYS = new Set(['kind', 'id', 'roles', 'institution', 'apiKeyId']);
const SOURCE_KEYS = new Set(['ip', 'userAgent']);
const RESULT_KEYS = new Set(['outcome', 'status', 'errorCode', 'count']);
const DECISION_KEYS = new Set(['effect', 'policyIds']);
const RESOURCE_KEYS = new Set(['type', 'id']);

function plain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(obj: Record<string, unknown>, allowed: Set<string>): boolean {
  for (const k in obj) if (!allowed.has(k) || !Object.prototype.hasOwnProperty.call(obj, k)) return false;
  return true;
}

/** A value JSON.stringify writes exactly as canonicalJson does (or omits, like it). */
function scalar(v: unknown): boolean {
  return v === undefined || v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

function strings(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  for (const s of v) if (typeof s !== 'string') return false;
  return true;
}

function scalars(obj: Record<string, unknown>): boolean {
  for (const k in obj) {
    const c = k.charCodeAt(0);
    if ((c >= 48 && c <= 57) || !scalar(obj[k])) return false;
  }
  return true;
}

function sortedScalars(obj: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(obj);
  let inOrder = true;
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) inOrder = false;
  if (inOrder) return obj;
  keys.sort();
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = obj[k];
  return out;
}
