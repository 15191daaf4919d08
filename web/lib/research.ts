/**
 * Research-data helpers for the portal (R-DSR-2, R-GOV-5): which grants are usable, how release
 * reasons read, how the timeline is grouped, and how de-identified FHIR R4 resources are turned
 * into readable facts. Pure functions so they can be unit-tested; labels live in messages under
 * `research.*`.
 */
import type { FhirResource, Grant, TimelineEvent } from './api-client';

/** Grants that can be used now: active and inside their validity window. */
export function usableGrants<G extends Pick<Grant, 'status' | 'startsAt' | 'expiresAt'>>(grants: readonly G[], now: number): G[] {
  return grants.filter((g) => g.status === 'active' && Date.parse(g.startsAt) <= now && Date.parse(g.expiresAt) > now);
}

/** The grant shown first: the most recently started usable grant. */
export function latestGrant<G extends Pick<Grant, 'startsAt' | 'grantId'>>(grants: readonly G[]): G | undefined {
  return [...grants].sort((a, b) => Date.parse(b.startsAt) - Date.parse(a.startsAt) || b.grantId.localeCompare(a.grantId))[0];
}

/** A pseudonym shortened for tables (`04f055a6…aa19`); the full token stays available for copying. */
export function shortToken(token: string): string {
  return token.length <= 14 ? token : `${token.slice(0, 8)}…${token.slice(-4)}`;
}

/** A reason a release leaves patients out, as a message key under `research.reasons` and its values. */
export interface ExclusionReason {
  key: 'withdrawn' | 'rejected' | 'notCovered' | 'other';
  values: Record<string, string>;
}

/** Reads the API's exclusion reason (`consent withdrawn`, `DUO:A does not cover DUO:B`, …). */
export function parseExclusionReason(reason: string): ExclusionReason {
  const text = reason.trim();
  if (/^consent withdrawn$/i.test(text)) return { key: 'withdrawn', values: {} };
  if (/^consent (rejected|refused|declined)$/i.test(text)) return { key: 'rejected', values: {} };
  const m = /^(DUO:\d{7}) does not cover (DUO:\d{7})$/i.exec(text);
  if (m) return { key: 'notCovered', values: { consent: m[1]!.toUpperCase(), purpose: m[2]!.toUpperCase() } };
  return { key: 'other', values: { reason: text } };
}

/** Total of a release's exclusions. */
export function excludedTotal(excluded: Readonly<Record<string, number>>): number {
  return Object.values(excluded).reduce((a, b) => a + b, 0);
}

/** The calendar day (`YYYY-MM-DD`) of an instant in `timeZone`. */
export function dayKey(iso: string, timeZone: string): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
}

/** Timeline events grouped by calendar day in the institution's time zone, oldest first. */
export function groupByDay<E extends Pick<TimelineEvent, 'occurredAt' | 'eventId'>>(events: readonly E[], timeZone: string): Array<{ day: string; events: E[] }> {
  // At the same instant the visit comes first: the other events usually happened during it.
  const visitFirst = (e: E) => ((e as { type?: string }).type === 'visit' ? 0 : 1);
  const sorted = [...events].sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt) || visitFirst(a) - visitFirst(b) || a.eventId.localeCompare(b.eventId));
  const groups: Array<{ day: string; events: E[] }> = [];
  for (const e of sorted) {
    const day = dayKey(e.occurredAt, timeZone);
    const last = groups.at(-1);
    if (last?.day === day) last.events.push(e);
    else groups.push({ day, events: [e] });
  }
  return groups;
}

/** Event types the timeline knows (icon and colour); anything else is shown as `other`. */
export const EVENT_TYPES = ['visit', 'procedure', 'medication', 'report', 'imaging', 'diagnosis', 'lab', 'nursing', 'document', 'other'] as const;

/** One of {@link EVENT_TYPES}. */
export type EventKind = (typeof EVENT_TYPES)[number];

/** Normalises an API event type to a known kind. */
export function eventKind(type: string): EventKind {
  if ((EVENT_TYPES as readonly string[]).includes(type)) return type as EventKind;
  return CURATED_KINDS[type] ?? 'other';
}

/** Lifecycle types data managers record (R-MPI-4), shown with the icon of the nearest kind. */
const CURATED_KINDS: Readonly<Record<string, EventKind>> = {
  'first-visit': 'visit',
  'follow-up': 'visit',
  surgery: 'procedure',
  'radiotherapy-cycle': 'procedure',
  'chemotherapy-cycle': 'medication',
  recurrence: 'diagnosis',
};


function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** The instant a resource is about (start of its period), if any. */
export function recordDate(r: FhirResource): string | undefined {
  const period = (k: string) => str(obj(r[k])?.start);
  switch (r.resourceType) {
    case 'Encounter':
      return period('period');
    case 'Procedure':
      return str(r.performedDateTime) ?? period('performedPeriod');
    case 'MedicationAdministration':
    case 'MedicationStatement':
      return str(r.effectiveDateTime) ?? period('effectivePeriod');
    case 'MedicationRequest':
      return str(r.authoredOn);
    case 'DiagnosticReport':
    case 'Observation':
      return str(r.effectiveDateTime) ?? period('effectivePeriod') ?? str(r.issued);
    case 'ImagingStudy':
      return str(r.started);
    case 'Condition':
      return str(r.onsetDateTime) ?? period('onsetPeriod') ?? str(r.recordedDate);
    case 'DocumentReference':
      return str(r.date) ?? str(obj(r.context)?.period && obj(obj(r.context)!.period)?.start);
    case 'Consent':
      return str(r.dateTime);
    default:
      return undefined;
  }
}

/** A short human label of a resource: its code text/display, description or type. */
export function recordLabel(r: FhirResource): string {
  const fromConcept = (c: unknown) => {
    const o = obj(c);
    if (!o) return undefined;
    return str(o.text) ?? arr(o.coding).map((x) => str(obj(x)?.display) ?? str(obj(x)?.code)).find(Boolean);
  };
  return (
    fromConcept(r.code) ??
    fromConcept(r.medicationCodeableConcept) ??
    str(r.description) ??
    arr(r.type).map(fromConcept).find(Boolean) ??
    fromConcept(r.type) ??
    r.resourceType
  );
}

/** The records an event refers to: the API names them in `recordRefs` (`<Type>/<released id>`). */
export function recordsForEvent(event: Pick<TimelineEvent, 'recordRefs'>, records: readonly FhirResource[]): FhirResource[] {
  const refs = new Set(event.recordRefs);
  return records.filter((r) => r.id !== undefined && refs.has(`${r.resourceType}/${r.id}`));
}

/** Records of the same encounter as `encounter` (labs, vital signs, notes taken during a visit). */
export function recordsOfEncounter(encounter: FhirResource, records: readonly FhirResource[]): FhirResource[] {
  if (encounter.resourceType !== 'Encounter' || !encounter.id) return [];
  const ref = `Encounter/${encounter.id}`;
  return records.filter((r) => {
    if (r === encounter) return false;
    const direct = [obj(r.encounter)?.reference, obj(r.context)?.reference];
    const listed = arr(obj(r.context)?.encounter).map((e) => obj(e)?.reference);
    return [...direct, ...listed].includes(ref);
  });
}

/** Records grouped by resource type (most numerous first), each group sorted by date. */
export function groupByResourceType(records: readonly FhirResource[]): Array<{ type: string; records: FhirResource[] }> {
  const map = new Map<string, FhirResource[]>();
  for (const r of records) map.set(r.resourceType, [...(map.get(r.resourceType) ?? []), r]);
  return [...map.entries()]
    .map(([type, list]) => ({ type, records: [...list].sort((a, b) => (recordDate(a) ?? '').localeCompare(recordDate(b) ?? '')) }))
    .sort((a, b) => b.records.length - a.records.length || a.type.localeCompare(b.type));
}

/** One readable fact about a record: a message key under `research.fhir.fields` and its value. */
export interface RecordFact {
  label: string;
  /** Text, or an ISO instant to be formatted (`kind: 'date'`). */
  value: string;
  kind?: 'text' | 'date' | 'period';
  /** For periods: the end instant. */
  end?: string;
}

/** Text of a CodeableConcept; `withCode` keeps the first code next to the text (diagnoses, tests). */
function conceptText(c: unknown, withCode = true): string | undefined {
  const o = obj(c);
  if (!o) return undefined;
  const codings = arr(o.coding).map(obj).filter((x): x is Record<string, unknown> => x !== undefined);
  const first = codings[0];
  const coded = first ? (withCode ? [str(first.code), str(first.display)].filter(Boolean).join(' ') : (str(first.display) ?? str(first.code))) : undefined;
  const text = str(o.text);
  if (text && coded && !coded.includes(text)) return `${text} (${coded})`;
  return text ?? coded;
}

/** `value unit` of a FHIR Quantity. */
export function quantityText(q: unknown): string | undefined {
  const o = obj(q);
  if (!o || o.value === undefined) return undefined;
  const unit = str(o.unit) ?? str(o.code);
  return unit ? `${String(o.value as number)} ${unit}` : String(o.value as number);
}

function observationValue(o: Record<string, unknown>): string | undefined {
  if (o.valueQuantity !== undefined) return quantityText(o.valueQuantity);
  if (o.valueCodeableConcept !== undefined) return conceptText(o.valueCodeableConcept);
  if (typeof o.valueString === 'string') return o.valueString;
  if (typeof o.valueBoolean === 'boolean') return o.valueBoolean ? '✓' : '✗';
  if (typeof o.valueInteger === 'number') return String(o.valueInteger);
  return undefined;
}

function periodFact(label: string, p: unknown): RecordFact | undefined {
  const o = obj(p);
  const start = str(o?.start);
  if (!start) return undefined;
  const end = str(o?.end);
  return end ? { label, value: start, end, kind: 'period' } : { label, value: start, kind: 'date' };
}

/** Readable facts for the resource types the timeline refers to; unknown types get a generic view. */
export function recordFacts(r: FhirResource): RecordFact[] {
  const facts: Array<RecordFact | undefined> = [];
  const text = (label: string, value: string | undefined) => (value ? facts.push({ label, value }) : undefined);
  const date = (label: string, value: unknown) => (str(value) ? facts.push({ label, value: str(value)!, kind: 'date' }) : undefined);
  const list = (v: unknown) => arr(v).map((c) => conceptText(c, false)).filter(Boolean).join('; ') || undefined;
  switch (r.resourceType) {
    case 'Condition': {
      text('code', conceptText(r.code));
      const stages = arr(r.stage).map((s) => {
        const o = obj(s);
        const summary = conceptText(o?.summary);
        const type = conceptText(o?.type);
        return summary && type ? `${summary} (${type})` : summary;
      });
      text('stage', stages.filter(Boolean).join('; ') || undefined);
      text('bodySite', list(r.bodySite));
      text('clinicalStatus', conceptText(r.clinicalStatus));
      date('onset', r.onsetDateTime);
      date('recorded', r.recordedDate);
      text('note', arr(r.note).map((n) => str(obj(n)?.text)).filter(Boolean).join('; ') || undefined);
      break;
    }
    case 'Observation': {
      text('code', conceptText(r.code));
      text('category', list(r.category));
      text('value', observationValue(r));
      const components = arr(r.component)
        .map(obj)
        .filter((c): c is Record<string, unknown> => c !== undefined)
        .map((c) => {
          const v = observationValue(c);
          const name = conceptText(c.code);
          return name && v ? `${name}: ${v}` : undefined;
        })
        .filter(Boolean);
      text('components', components.join('; ') || undefined);
      const range = obj(arr(r.referenceRange)[0]);
      if (range) {
        const low = quantityText(range.low);
        const high = quantityText(range.high);
        text('referenceRange', low || high ? `${low ?? ''} – ${high ?? ''}`.trim() : str(range.text));
      }
      text('interpretation', list(r.interpretation));
      date('effective', r.effectiveDateTime);
      facts.push(periodFact('effective', r.effectivePeriod));
      break;
    }
    case 'Procedure':
      text('code', conceptText(r.code));
      text('bodySite', list(r.bodySite));
      text('status', str(r.status));
      date('performed', r.performedDateTime);
      facts.push(periodFact('performed', r.performedPeriod));
      break;
    case 'MedicationAdministration':
    case 'MedicationStatement':
    case 'MedicationRequest': {
      text('medication', conceptText(r.medicationCodeableConcept));
      const dosage = obj(r.dosage) ?? obj(arr(r.dosageInstruction)[0]);
      text('dose', quantityText(dosage?.dose));
      text('route', conceptText(dosage?.route));
      text('dosage', str(dosage?.text));
      text('status', str(r.status));
      date('effective', r.effectiveDateTime ?? r.authoredOn);
      facts.push(periodFact('effective', r.effectivePeriod));
      break;
    }
    case 'DiagnosticReport':
      text('code', conceptText(r.code));
      text('category', list(r.category));
      text('conclusion', str(r.conclusion));
      text('conclusionCodes', list(r.conclusionCode));
      date('effective', r.effectiveDateTime);
      date('issued', r.issued);
      break;
    case 'Encounter': {
      text('type', list(r.type));
      const cls = obj(r.class);
      text('class', cls ? (str(cls.display) ?? str(cls.code)) : undefined);
      text('serviceProvider', str(obj(r.serviceProvider)?.display));
      text('status', str(r.status));
      facts.push(periodFact('period', r.period));
      break;
    }
    case 'ImagingStudy': {
      text('description', str(r.description));
      const modalities = arr(r.modality).map((m) => str(obj(m)?.code)).filter(Boolean);
      text('modality', modalities.join(', ') || undefined);
      if (typeof r.numberOfSeries === 'number') text('series', String(r.numberOfSeries));
      if (typeof r.numberOfInstances === 'number') text('instances', String(r.numberOfInstances));
      const series = arr(r.series)
        .map(obj)
        .map((s) => [str(s?.description), str(obj(s?.bodySite)?.display), str(obj(s?.laterality)?.display)].filter(Boolean).join(' · '))
        .filter(Boolean);
      text('seriesDescriptions', series.join('; ') || undefined);
      date('started', r.started);
      break;
    }
    case 'DocumentReference': {
      text('description', str(r.description));
      text('type', conceptText(r.type));
      const titles = arr(r.content).map((c) => str(obj(obj(c)?.attachment)?.title)).filter(Boolean);
      text('attachment', titles.join('; ') || undefined);
      date('date', r.date);
      break;
    }
    case 'Consent': {
      text('status', str(r.status));
      const provision = obj(r.provision);
      text('provision', arr(provision?.code).map((c) => conceptText(c)).filter(Boolean).join('; ') || undefined);
      date('date', r.dateTime);
      break;
    }
    default:
      text('code', conceptText(r.code) ?? recordLabel(r));
      text('status', str(r.status));
      if (recordDate(r)) date('date', recordDate(r));
  }
  return facts.filter((f): f is RecordFact => f !== undefined);
}

/** The de-identification marks of a record (`meta.security` codes, e.g. `PSEUDED`). */
export function securityLabels(r: FhirResource): string[] {
  return arr(obj(r.meta)?.security)
    .map((s) => str(obj(s)?.code))
    .filter((c): c is string => c !== undefined);
}
