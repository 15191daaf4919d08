import { describe, expect, it } from 'vitest';
import en from '../../../web/messages/en.json' with { type: 'json' };
import zh from '../../../web/messages/zh-CN.json' with { type: 'json' };
import type { FhirResource, TimelineEvent } from '../../../web/lib/api-client';
import {
  EVENT_TYPES,
  dayKey,
  eventKind,
  excludedTotal,
  groupByDay,
  groupByResourceType,
  latestGrant,
  parseExclusionReason,
  recordFacts,
  recordsForEvent,
  recordsOfEncounter,
  shortToken,
  usableGrants,
} from '../../../web/lib/research';

const NOW = Date.parse('2026-03-01T00:00:00Z');
const grant = (grantId: string, status: 'active' | 'revoked' | 'expired', startsAt: string, expiresAt: string) => ({ grantId, status, startsAt, expiresAt });

const ev = (eventId: string, type: string, occurredAt: string, title = 'x', recordRefs: string[] = []): TimelineEvent => ({ eventId, type, occurredAt, title: { zh: title, en: title }, recordRefs, fileIds: [], files: [], source: 'ingested', annotations: [] });

const encounter: FhirResource = { resourceType: 'Encounter', id: 'enc1', period: { start: '2024-07-25T02:40:00Z', end: '2024-07-25T03:40:00Z' }, type: [{ text: 'Biopsy visit' }], class: { code: 'AMB', display: 'ambulatory' } };
const procedure: FhirResource = {
  resourceType: 'Procedure',
  id: 'proc1',
  code: { coding: [{ system: 'http://snomed.info/sct', code: '122548005', display: 'Biopsy of breast' }], text: 'Core needle biopsy' },
  performedDateTime: '2024-07-25T02:40:00Z',
  encounter: { reference: 'Encounter/enc1' },
};
const condition: FhirResource = {
  resourceType: 'Condition',
  id: 'cond1',
  code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'C50.4', display: 'Malignant neoplasm of upper-outer quadrant of breast' }], text: 'IDC left breast' },
  stage: [{ summary: { text: 'cT4bN0M0 IIIB' }, type: { text: 'Clinical TNM' } }],
  onsetDateTime: '2024-07-25T02:40:00Z',
};
const lab: FhirResource = {
  resourceType: 'Observation',
  id: 'obs1',
  code: { coding: [{ system: 'http://loinc.org', code: '718-7', display: 'Hemoglobin' }], text: 'Hb' },
  category: [{ coding: [{ code: 'laboratory', display: 'Laboratory' }] }],
  valueQuantity: { value: 128, unit: 'g/L' },
  referenceRange: [{ low: { value: 115, unit: 'g/L' }, high: { value: 150, unit: 'g/L' } }],
  effectiveDateTime: '2024-07-25T03:00:00Z',
  encounter: { reference: 'Encounter/enc1' },
};
const records = [encounter, procedure, condition, lab];

describe('research data helpers (R-DSR-2, R-GOV-5)', () => {
  it('R-GOV-5: only active grants inside their validity window are usable; the latest is chosen first', () => {
    const list = [
      grant('grt_a', 'active', '2026-01-01T00:00:00Z', '2026-04-01T00:00:00Z'),
      grant('grt_b', 'active', '2026-02-01T00:00:00Z', '2026-05-01T00:00:00Z'),
      grant('grt_c', 'revoked', '2026-02-15T00:00:00Z', '2026-05-01T00:00:00Z'),
      grant('grt_d', 'active', '2025-01-01T00:00:00Z', '2026-02-01T00:00:00Z'),
      grant('grt_e', 'active', '2026-04-01T00:00:00Z', '2026-06-01T00:00:00Z'),
    ];
    const usable = usableGrants(list, NOW);
    expect(usable.map((g) => g.grantId)).toEqual(['grt_a', 'grt_b']);
    expect(latestGrant(usable)?.grantId).toBe('grt_b');
    expect(latestGrant([])).toBeUndefined();
  });

  it('R-DSR-2: exclusion reasons are read into message keys; totals add up', () => {
    expect(parseExclusionReason('consent withdrawn')).toEqual({ key: 'withdrawn', values: {} });
    expect(parseExclusionReason('consent rejected')).toEqual({ key: 'rejected', values: {} });
    expect(parseExclusionReason('DUO:0000007 does not cover DUO:0000042')).toEqual({ key: 'notCovered', values: { consent: 'DUO:0000007', purpose: 'DUO:0000042' } });
    expect(parseExclusionReason('something new')).toEqual({ key: 'other', values: { reason: 'something new' } });
    expect(excludedTotal({ a: 3, b: 18, c: 1 })).toBe(22);
    for (const messages of [en, zh]) expect(Object.keys(messages.research.reasons).sort()).toEqual(['notCovered', 'rejected', 'withdrawn']);
  });

  it('shortens pseudonyms for tables but keeps short ones whole', () => {
    expect(shortToken('04f055a674ed83589b327f164a19aa19')).toBe('04f055a6…aa19');
    expect(shortToken('abc12345')).toBe('abc12345');
  });

  it('groups the timeline by day in the institution time zone, visits first at the same instant', () => {
    const events = [ev('e3', 'procedure', '2024-07-25T02:40:00Z'), ev('e1', 'visit', '2024-07-24T17:00:00Z'), ev('e2', 'visit', '2024-07-25T02:40:00Z'), ev('e0', 'visit', '2024-07-24T15:59:00Z')];
    // 17:00 UTC on the 24th is already the 25th in Shanghai (UTC+8).
    expect(dayKey('2024-07-24T17:00:00Z', 'Asia/Shanghai')).toBe('2024-07-25');
    const groups = groupByDay(events, 'Asia/Shanghai');
    expect(groups.map((g) => [g.day, g.events.map((e) => e.eventId)])).toEqual([
      ['2024-07-24', ['e0']],
      ['2024-07-25', ['e1', 'e2', 'e3']],
    ]);
    expect(groupByDay(events, 'UTC').map((g) => g.day)).toEqual(['2024-07-24', '2024-07-25']);
  });

  it('every event kind has a label in both languages; unknown types become "other"', () => {
    expect(eventKind('medication')).toBe('medication');
    expect(eventKind('telepathy')).toBe('other');
    for (const messages of [en, zh]) for (const kind of EVENT_TYPES) expect(messages.research.eventTypes[kind], kind).toBeTypeOf('string');
  });

  it('R-MPI-5: finds the records an event refers to by their released ids', () => {
    expect(recordsForEvent(ev('ev-1', 'procedure', '2024-07-25T02:40:00Z', 'x', ['Procedure/proc1']), records)).toEqual([procedure]);
    expect(recordsForEvent(ev('ev-2', 'visit', '2024-07-25T02:40:00Z', 'x', ['Encounter/enc1', 'Condition/cond1']), records)).toEqual([encounter, condition].filter((r) => records.includes(r)).sort((a, b) => records.indexOf(a) - records.indexOf(b)));
    expect(recordsForEvent(ev('ev-3', 'imaging', '2024-07-25T02:40:00Z', 'x', ['ImagingStudy/none']), records)).toEqual([]);
  });

  it('lists the other records of a visit and groups records by type with counts', () => {
    expect(recordsOfEncounter(encounter, records)).toEqual([procedure, lab]);
    expect(recordsOfEncounter(procedure, records)).toEqual([]);
    const groups = groupByResourceType([...records, { ...lab, id: 'obs2', effectiveDateTime: '2024-07-01T00:00:00Z' }]);
    expect(groups[0]).toMatchObject({ type: 'Observation' });
    expect(groups[0]!.records.map((r) => r.id)).toEqual(['obs2', 'obs1']);
    expect(groups.map((g) => g.records.length)).toEqual([2, 1, 1, 1]);
  });

  it('renders FHIR resources readably: condition code + stage, observation value + unit + range', () => {
    const c = recordFacts(condition);
    expect(c).toContainEqual({ label: 'code', value: 'IDC left breast (C50.4 Malignant neoplasm of upper-outer quadrant of breast)' });
    expect(c).toContainEqual({ label: 'stage', value: 'cT4bN0M0 IIIB (Clinical TNM)' });
    const o = recordFacts(lab);
    expect(o).toContainEqual({ label: 'value', value: '128 g/L' });
    expect(o).toContainEqual({ label: 'referenceRange', value: '115 g/L – 150 g/L' });
    expect(o).toContainEqual({ label: 'category', value: 'Laboratory' });
    expect(o).toContainEqual({ label: 'effective', value: '2024-07-25T03:00:00Z', kind: 'date' });
    expect(recordFacts(encounter)).toContainEqual({ label: 'period', value: '2024-07-25T02:40:00Z', end: '2024-07-25T03:40:00Z', kind: 'period' });
    // A table-ingested row (vital signs): panel code, one readable component per cell.
    const row = {
      resourceType: 'Observation',
      id: 'tbl1',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '85353-1' }, { system: 'https://mdrp.example.org/fhir/CodeSystem/table-target', code: 'vital-sign-series' }], text: 'Vital signs' },
      effectiveDateTime: '2024-10-02T23:05:00.000Z',
      component: [
        { code: { coding: [{ system: 'http://loinc.org', code: '8310-5' }, { system: 'https://mdrp.example.org/fhir/CodeSystem/table-field', code: 'temperature' }], text: '体温' }, valueQuantity: { value: 36.9, unit: 'Cel' } },
        { code: { coding: [{ system: 'https://mdrp.example.org/fhir/CodeSystem/table-field', code: 'source' }], text: '来源' }, valueCodeableConcept: { coding: [{ code: 'manual' }], text: 'manual' } },
      ],
    } as FhirResource;
    expect(recordFacts(row)).toContainEqual({ label: 'code', value: 'Vital signs (85353-1)' });
    expect(recordFacts(row)).toContainEqual({ label: 'components', value: '体温 (8310-5): 36.9 Cel; 来源 (source): manual' });
    // Every fact label has a message in both languages.
    const labels = new Set(records.flatMap(recordFacts).map((f) => f.label));
    for (const messages of [en, zh]) for (const l of labels) expect((messages.research.fhir.fields as Record<string, string>)[l], l).toBeTypeOf('string');
  });
});
