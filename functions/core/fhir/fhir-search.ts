import { ValidationError } from '../errors';

/** Resource types the facade serves (R-INT-1): read and search, nothing else. */
export const FHIR_RESOURCE_TYPES = [
  'Patient',
  'Observation',
  'Condition',
  'Procedure',
  'DiagnosticReport',
  'ImagingStudy',
  'DocumentReference',
  'Consent',
  'ResearchStudy',
  'Group',
] as const;
export type FhirResourceType = (typeof FHIR_RESOURCE_TYPES)[number];

export function isFhirResourceType(v: string): v is FhirResourceType {
  return (FHIR_RESOURCE_TYPES as readonly string[]).includes(v);
}

/** A FHIR resource as the facade handles it (de-identified JSON). */
export type FhirJson = { resourceType: string; id?: string; [k: string]: unknown };

/** Search parameter types the facade implements. */
export type SearchParamType = 'token' | 'date' | 'reference';

/** One supported search parameter: its FHIR type, the elements it looks at, and its documentation. */
export interface SearchParamDef {
  type: SearchParamType;
  /** Top-level elements (choice types spelled out) the parameter reads. */
  paths: readonly string[];
  documentation: string;
}

const SUBJECT = { type: 'reference', paths: ['subject'], documentation: 'The patient (grant pseudonym): `Patient/<id>` or `<id>`' } as const;
const PATIENT = { type: 'reference', paths: ['patient'], documentation: 'The patient (grant pseudonym): `Patient/<id>` or `<id>`' } as const;
const code = (paths: readonly string[]) => ({ type: 'token', paths, documentation: 'A code: `system|code`, `code` or `|code`; comma-separated values are alternatives' }) as const;
const date = (paths: readonly string[]) => ({ type: 'date', paths, documentation: 'A (de-identified, shifted) date with an optional prefix eq/ne/lt/le/gt/ge; partial dates allowed; repeat to combine' }) as const;

/**
 * The search parameters per resource type (besides `_id`). Names follow the FHIR R4 search
 * parameter registry; `patient` and `subject` are synonyms where the resource has a subject.
 */
export const SEARCH_PARAMS: Record<FhirResourceType, Record<string, SearchParamDef>> = {
  Patient: {},
  Observation: { patient: SUBJECT, subject: SUBJECT, code: code(['code']), date: date(['effectiveDateTime', 'effectivePeriod', 'effectiveInstant', 'issued']) },
  Condition: { patient: SUBJECT, subject: SUBJECT, code: code(['code']), date: date(['onsetDateTime', 'onsetPeriod', 'recordedDate']) },
  Procedure: { patient: SUBJECT, subject: SUBJECT, code: code(['code']), date: date(['performedDateTime', 'performedPeriod']) },
  DiagnosticReport: { patient: SUBJECT, subject: SUBJECT, code: code(['code']), date: date(['effectiveDateTime', 'effectivePeriod', 'issued']) },
  ImagingStudy: { patient: SUBJECT, subject: SUBJECT, code: code(['procedureCode']), date: date(['started']) },
  DocumentReference: { patient: SUBJECT, subject: SUBJECT, code: code(['type']), date: date(['date']) },
  Consent: { patient: PATIENT, date: date(['dateTime']) },
  ResearchStudy: { date: date(['period']) },
  Group: {},
};

/** `_include` values the facade serves: the patient a resource points at (cheap: already loaded). */
export function includesOf(type: FhirResourceType): string[] {
  const p = SEARCH_PARAMS[type];
  return Object.keys(p).filter((k) => p[k]!.type === 'reference').map((k) => `${type}:${k}`);
}

/** Result parameters the facade understands. */
const RESULT_PARAMS = new Set(['_count', '_cursor', '_include', '_summary', '_format']);
/** Default and largest page size. */
export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 100;

export type DatePrefix = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';

/** A date search value: the prefix and the half-open instant range `[lo, hi)` its precision spans. */
export interface DateCriterion {
  prefix: DatePrefix;
  lo: number;
  hi: number;
}

export interface TokenCriterion {
  /** `undefined`: any system; `''`: no system (`|code`). */
  system?: string;
  /** `undefined`: any code of the system (`system|`). */
  code?: string;
}

/** One parsed criterion; criteria of a search are ANDed, the alternatives inside one are ORed. */
export type Criterion =
  | { name: string; type: 'token'; def: SearchParamDef; anyOf: TokenCriterion[] }
  | { name: string; type: 'date'; def: SearchParamDef; anyOf: DateCriterion[] }
  | { name: string; type: 'reference'; def: SearchParamDef; anyOf: string[] }
  | { name: '_id'; type: 'id'; anyOf: string[] };

/** A validated search. */
export interface ParsedSearch {
  resourceType: FhirResourceType;
  criteria: Criterion[];
  count: number;
  offset: number;
  includes: string[];
  summaryCount: boolean;
  /** The patient ids the search is restricted to (from `patient`/`subject`), to load less. */
  patientIds?: string[];
}

/** A bad search: 400 with the parameter named (rendered as an OperationOutcome). */
function bad(message: string, parameter: string, code = 'FHIR_INVALID_PARAMETER'): ValidationError {
  return new ValidationError(message, { in: 'query', parameter, fhirCode: code });
}

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * Parses and validates the query of a FHIR search (R-INT-1). Unknown parameters are refused (the
 * facade is strict, `Prefer: handling=strict` semantics) so a typo never silently widens a search.
 *
 * @example
 * parseSearch('Observation', { patient: ['Patient/abc'], date: ['ge2020-01', 'lt2021'], _count: ['10'] });
 */
export function parseSearch(resourceType: FhirResourceType, query: Record<string, readonly string[] | undefined>): ParsedSearch {
  const defs = SEARCH_PARAMS[resourceType];
  const out: ParsedSearch = { resourceType, criteria: [], count: DEFAULT_COUNT, offset: 0, includes: [], summaryCount: false };
  const single = (name: string, values: readonly string[]): string => {
    if (values.length !== 1) throw bad(`${name} may be given once`, name);
    return values[0]!;
  };
  for (const [rawName, values] of Object.entries(query)) {
    if (!values || values.length === 0) continue;
    const [name, modifier] = rawName.split(':', 2) as [string, string | undefined];
    if (RESULT_PARAMS.has(name)) {
      if (modifier !== undefined) throw bad(`${name} takes no modifier`, rawName);
      if (name === '_count') {
        const v = single(name, values);
        if (!/^\d{1,6}$/.test(v)) throw bad('_count must be a non-negative integer', name);
        out.count = Math.min(Number(v), MAX_COUNT);
      } else if (name === '_cursor') out.offset = decodeCursor(single(name, values));
      else if (name === '_summary') {
        const v = single(name, values);
        if (v !== 'count' && v !== 'false') throw bad('_summary supports count (or false)', name);
        out.summaryCount = v === 'count';
      } else if (name === '_format') {
        const v = single(name, values);
        if (!['json', 'application/json', 'application/fhir+json'].includes(v)) throw bad('only JSON is served', name, 'FHIR_UNSUPPORTED_FORMAT');
      } else if (name === '_include') {
        const allowed = includesOf(resourceType);
        for (const v of values.flatMap((x) => x.split(','))) {
          if (!allowed.includes(v)) throw bad(`_include ${v} is not supported for ${resourceType} (supported: ${allowed.join(', ') || 'none'})`, name);
          out.includes.push(v);
        }
      }
      continue;
    }
    if (name === '_id') {
      if (modifier !== undefined) throw bad('_id takes no modifier', rawName);
      for (const v of values) {
        const ids = v.split(',');
        if (!ids.every((id) => ID.test(id))) throw bad('_id must be a FHIR id', name);
        out.criteria.push({ name: '_id', type: 'id', anyOf: ids });
      }
      continue;
    }
    const def = defs[name];
    if (!def) throw bad(`unknown search parameter ${name} for ${resourceType}`, rawName, 'FHIR_UNKNOWN_PARAMETER');
    if (modifier !== undefined) throw bad(`modifier :${modifier} is not supported`, rawName);
    for (const v of values) {
      if (v === '') throw bad(`${name} has an empty value`, name);
      if (def.type === 'date') out.criteria.push({ name, type: 'date', def, anyOf: v.split(',').map((x) => parseDateCriterion(x, name)) });
      else if (def.type === 'token') out.criteria.push({ name, type: 'token', def, anyOf: v.split(',').map((x) => parseToken(x, name)) });
      else {
        const ids = v.split(',').map((x) => {
          const m = /^(?:Patient\/)?([A-Za-z0-9\-.]{1,64})$/.exec(x);
          if (!m) throw bad(`${name} must be Patient/<id> or <id>`, name);
          return m[1]!;
        });
        out.criteria.push({ name, type: 'reference', def, anyOf: ids });
      }
    }
  }
  const refs = out.criteria.filter((c) => c.type === 'reference');
  if (refs.length) {
    // ANDed patient criteria: only ids every one of them allows.
    let ids = new Set(refs[0]!.anyOf as string[]);
    for (const c of refs.slice(1)) ids = new Set((c.anyOf as string[]).filter((x) => ids.has(x)));
    out.patientIds = [...ids];
  }
  if (resourceType === 'Patient') {
    const idc = out.criteria.filter((c) => c.type === 'id');
    if (idc.length) out.patientIds = idc.map((c) => c.anyOf).reduce((a, b) => a.filter((x) => b.includes(x)));
  }
  return out;
}

function parseToken(v: string, name: string): TokenCriterion {
  const bar = v.indexOf('|');
  if (bar < 0) return { code: v };
  const system = v.slice(0, bar);
  const code = v.slice(bar + 1);
  if (code.includes('|')) throw bad(`${name} must be system|code`, name);
  if (!system && !code) throw bad(`${name} needs a system or a code`, name);
  return { system, ...(code ? { code } : {}) };
}

const DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * The instant range `[lo, hi)` a FHIR date, dateTime or instant covers at its precision
 * (`2024` → the whole year; a time without zone is read as UTC). `undefined` if malformed.
 */
export function dateRange(v: string): { lo: number; hi: number } | undefined {
  const m = DATE.exec(v);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const year = Number(y);
  const month = mo ? Number(mo) : undefined;
  const day = d ? Number(d) : undefined;
  if (month !== undefined && (month < 1 || month > 12)) return undefined;
  if (day !== undefined && (day < 1 || day > new Date(Date.UTC(year, month!, 0)).getUTCDate())) return undefined;
  if (h === undefined) {
    if (month === undefined) return { lo: Date.UTC(year, 0, 1), hi: Date.UTC(year + 1, 0, 1) };
    if (day === undefined) return { lo: Date.UTC(year, month - 1, 1), hi: Date.UTC(year, month, 1) };
    return { lo: Date.UTC(year, month - 1, day), hi: Date.UTC(year, month - 1, day + 1) };
  }
  if (Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59) return undefined;
  const offsetMin = !tz || tz === 'Z' ? 0 : (tz.startsWith('-') ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6)));
  const base = Date.UTC(year, month! - 1, day!, Number(h), Number(mi), Number(s ?? 0)) - offsetMin * 60_000;
  if (frac) {
    const ms = Math.floor(Number(`0${frac}`) * 1000);
    return { lo: base + ms, hi: base + ms + 1 };
  }
  return { lo: base, hi: base + (s === undefined ? 60_000 : 1000) };
}

/** `ge2024-03` → `{ prefix: 'ge', lo, hi }`; malformed values are a 400. */
export function parseDateCriterion(v: string, name = 'date'): DateCriterion {
  const m = /^(eq|ne|lt|le|gt|ge|sa|eb|ap)?(.+)$/.exec(v);
  const prefix = (m?.[1] ?? 'eq') as DatePrefix | 'sa' | 'eb' | 'ap';
  if (prefix === 'sa' || prefix === 'eb' || prefix === 'ap') throw bad(`date prefix ${prefix} is not supported (eq, ne, lt, le, gt, ge are)`, name);
  const r = dateRange(m?.[2] ?? '');
  if (!r) throw bad(`${name} must be a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime) with an optional prefix`, name);
  return { prefix, ...r };
}

/**
 * Whether a resource's date range matches a criterion (FHIR R4 §3.1.1.4.2, ranges compared):
 * eq — the resource range lies within the search range; ne — it does not; lt/le/gt/ge — some part
 * of the resource range lies below/above the search value.
 */
export function dateMatches(c: DateCriterion, r: { lo: number; hi: number }): boolean {
  switch (c.prefix) {
    case 'eq':
      return r.lo >= c.lo && r.hi <= c.hi;
    case 'ne':
      return !(r.lo >= c.lo && r.hi <= c.hi);
    case 'lt':
      return r.lo < c.lo;
    case 'le':
      return r.lo < c.hi;
    case 'gt':
      return r.hi > c.hi;
    case 'ge':
      return r.hi > c.lo;
  }
}

/** The date ranges of a resource at the parameter's elements (dates and Periods). */
function dateRangesOf(resource: FhirJson, paths: readonly string[]): Array<{ lo: number; hi: number }> {
  const out: Array<{ lo: number; hi: number }> = [];
  for (const p of paths) {
    const v = resource[p];
    if (typeof v === 'string') {
      const r = dateRange(v);
      if (r) out.push(r);
    } else if (v && typeof v === 'object' && !Array.isArray(v)) {
      const period = v as { start?: string; end?: string };
      const lo = period.start ? dateRange(period.start)?.lo : -8.64e15;
      const hi = period.end ? dateRange(period.end)?.hi : 8.64e15;
      if (lo !== undefined && hi !== undefined) out.push({ lo, hi });
    }
  }
  return out;
}

function codingsOf(resource: FhirJson, paths: readonly string[]): Array<{ system?: string; code?: string }> {
  const out: Array<{ system?: string; code?: string }> = [];
  for (const p of paths) {
    const v = resource[p];
    for (const cc of Array.isArray(v) ? v : [v]) {
      if (cc && typeof cc === 'object' && Array.isArray((cc as { coding?: unknown }).coding)) out.push(...((cc as { coding: Array<{ system?: string; code?: string }> }).coding ?? []));
      else if (cc && typeof cc === 'object' && 'code' in cc) out.push(cc as { system?: string; code?: string });
    }
  }
  return out;
}

function tokenMatches(t: TokenCriterion, c: { system?: string; code?: string }): boolean {
  if (t.system !== undefined && (t.system === '' ? c.system !== undefined && c.system !== '' : c.system !== t.system)) return false;
  return t.code === undefined || c.code === t.code;
}

/** The patient id a resource points at (`subject` / `patient` → `Patient/<id>`); for a Patient its own id. */
export function patientIdOf(resource: FhirJson): string | undefined {
  if (resource.resourceType === 'Patient') return resource.id;
  for (const k of ['subject', 'patient']) {
    const ref = (resource[k] as { reference?: string } | undefined)?.reference;
    const m = ref ? /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(ref) : null;
    if (m) return m[1];
  }
  return undefined;
}

/** Whether a resource matches every criterion of a search. */
export function matchesSearch(resource: FhirJson, search: Pick<ParsedSearch, 'criteria'>): boolean {
  return search.criteria.every((c) => {
    switch (c.type) {
      case 'id':
        return resource.id !== undefined && c.anyOf.includes(resource.id);
      case 'reference': {
        const ref = (resource[c.def.paths[0]!] as { reference?: string } | undefined)?.reference;
        return ref !== undefined && c.anyOf.some((id) => ref === `Patient/${id}`);
      }
      case 'token': {
        const codings = codingsOf(resource, c.def.paths);
        return c.anyOf.some((t) => codings.some((x) => tokenMatches(t, x)));
      }
      case 'date': {
        const ranges = dateRangesOf(resource, c.def.paths);
        return c.anyOf.some((d) => ranges.some((r) => dateMatches(d, r)));
      }
    }
  });
}

/** Opaque paging cursor (the position in the deterministic result order). */
export function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ v: 1, o: offset }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): number {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { v?: number; o?: unknown };
    if (v.v === 1 && Number.isInteger(v.o) && (v.o as number) >= 0 && (v.o as number) < 1e7) return v.o as number;
  } catch {
    // fall through
  }
  throw bad('_cursor is not a cursor this server issued', '_cursor');
}
