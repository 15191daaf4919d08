import { describe, expect, it } from 'vitest';
import { dateMatches, dateRange, decodeCursor, encodeCursor, matchesSearch, parseDateCriterion, parseSearch, MAX_COUNT } from '../../../functions/core/fhir/fhir-search';
import { toOperationOutcome, errorCodeOfOutcome } from '../../../functions/http/fhir-error';
import { EXPORT_PREFIX, BulkExportService } from '../../../functions/core/fhir/bulk-export';
import { FHIR_EXPORT_PREFIX } from '../../../infra/constructs/permissions';

const obs = (effective: unknown, code = { system: 'http://loinc.org', code: '718-7' }) => ({
  resourceType: 'Observation',
  id: 'o1',
  status: 'final',
  subject: { reference: 'Patient/p1' },
  code: { coding: [code] },
  ...(typeof effective === 'string' ? { effectiveDateTime: effective } : { effectivePeriod: effective }),
});

describe('FHIR search parameters (R-INT-1)', () => {
  it('R-INT-1: partial dates span their precision; dateTimes honour their zone', () => {
    expect(dateRange('2024')).toEqual({ lo: Date.UTC(2024, 0, 1), hi: Date.UTC(2025, 0, 1) });
    expect(dateRange('2024-02')).toEqual({ lo: Date.UTC(2024, 1, 1), hi: Date.UTC(2024, 2, 1) });
    expect(dateRange('2024-02-29')).toEqual({ lo: Date.UTC(2024, 1, 29), hi: Date.UTC(2024, 2, 1) });
    expect(dateRange('2024-03-01T10:00:00+08:00')).toEqual({ lo: Date.UTC(2024, 2, 1, 2), hi: Date.UTC(2024, 2, 1, 2, 0, 1) });
    expect(dateRange('2024-03-01T10:00')).toEqual({ lo: Date.UTC(2024, 2, 1, 10), hi: Date.UTC(2024, 2, 1, 10, 1) });
    for (const badValue of ['2023-02-29', '2024-13', '24', '2024-1-1', '2024-03-01T25:00:00Z', 'yesterday']) expect(dateRange(badValue)).toBeUndefined();
  });

  it('R-INT-1: eq/ne/lt/le/gt/ge compare ranges as FHIR R4 specifies', () => {
    const day = dateRange('2024-03-15')!;
    const m = (v: string) => dateMatches(parseDateCriterion(v), day);
    expect([m('2024'), m('eq2024-03'), m('2024-03-15'), m('eq2024-03-16')]).toEqual([true, true, true, false]);
    expect([m('ne2024-03-15'), m('ne2024-04')]).toEqual([false, true]);
    expect([m('lt2024-03-15'), m('lt2024-03-16'), m('le2024-03-15'), m('le2024-03-14')]).toEqual([false, true, true, false]);
    expect([m('gt2024-03-15'), m('gt2024-03-14'), m('ge2024-03-15'), m('ge2024-03-16')]).toEqual([false, true, true, false]);
    // A value with coarser precision than the search: partly above → gt matches, not eq.
    const year = dateRange('2024')!;
    expect(dateMatches(parseDateCriterion('gt2024-06'), year)).toBe(true);
    expect(dateMatches(parseDateCriterion('eq2024-06'), year)).toBe(false);
  });

  it('R-INT-1: repeated date parameters are ANDed into a range; periods overlap-match', () => {
    const s = parseSearch('Observation', { date: ['ge2024-01', 'lt2024-07'] });
    expect(matchesSearch(obs('2024-03-15T08:00:00Z'), s)).toBe(true);
    expect(matchesSearch(obs('2024-07-01'), s)).toBe(false);
    expect(matchesSearch(obs('2023-12-31'), s)).toBe(false);
    expect(matchesSearch(obs({ start: '2023-12-01', end: '2024-01-10' }), parseSearch('Observation', { date: ['ge2024-01'] }))).toBe(true);
    expect(matchesSearch(obs({ start: '2023-12-01', end: '2023-12-10' }), parseSearch('Observation', { date: ['ge2024-01'] }))).toBe(false);
  });

  it('R-INT-1: code matches system|code, code, |code and system|; patient and subject are synonyms', () => {
    const o = obs('2024-01-01');
    const q = (code: string) => matchesSearch(o, parseSearch('Observation', { code: [code] }));
    expect([q('http://loinc.org|718-7'), q('718-7'), q('http://loinc.org|'), q('http://snomed.info/sct|718-7'), q('|718-7'), q('1234-5,718-7')]).toEqual([true, true, true, false, false, true]);
    expect(matchesSearch(o, parseSearch('Observation', { patient: ['Patient/p1'] }))).toBe(true);
    expect(matchesSearch(o, parseSearch('Observation', { subject: ['p1'] }))).toBe(true);
    expect(matchesSearch(o, parseSearch('Observation', { patient: ['p2'] }))).toBe(false);
    expect(parseSearch('Observation', { patient: ['p1,p2'], subject: ['p2'] }).patientIds).toEqual(['p2']);
    expect(parseSearch('Patient', { _id: ['p9'] }).patientIds).toEqual(['p9']);
  });

  it('R-INT-1: _count is capped, cursors are opaque and checked, _summary=count and _include are parsed', () => {
    expect(parseSearch('Observation', { _count: ['5000'] }).count).toBe(MAX_COUNT);
    expect(parseSearch('Observation', {}).count).toBe(20);
    const c = encodeCursor(40);
    expect(c).not.toContain('40');
    expect(decodeCursor(c)).toBe(40);
    expect(parseSearch('Observation', { _cursor: [c] }).offset).toBe(40);
    expect(parseSearch('Observation', { _summary: ['count'] }).summaryCount).toBe(true);
    expect(parseSearch('Observation', { _include: ['Observation:patient'] }).includes).toEqual(['Observation:patient']);
  });

  it('R-INT-1: unknown or malformed parameters are a 400 naming the parameter', () => {
    const fails = (type: Parameters<typeof parseSearch>[0], q: Record<string, string[]>, parameter: string) => {
      try {
        parseSearch(type, q);
      } catch (e) {
        expect(e).toMatchObject({ code: 'VALIDATION_FAILED', details: { parameter } });
        return;
      }
      throw new Error(`accepted ${JSON.stringify(q)}`);
    };
    fails('Observation', { colour: ['red'] }, 'colour');
    fails('Observation', { date: ['2024-13-01'] }, 'date');
    fails('Observation', { date: ['sa2024'] }, 'date');
    fails('Observation', { _count: ['-1'] }, '_count');
    fails('Observation', { _cursor: ['not-a-cursor'] }, '_cursor');
    fails('Observation', { _include: ['Observation:performer'] }, '_include');
    fails('Observation', { 'code:text': ['x'] }, 'code:text');
    fails('Observation', { patient: ['Practitioner/1'] }, 'patient');
    fails('Patient', { code: ['x'] }, 'code');
    fails('Group', { _summary: ['text'] }, '_summary');
    fails('Observation', { _id: ['a/b'] }, '_id');
  });

  it('R-INT-1: errors render as OperationOutcome with the machine-readable code and the parameter', () => {
    const oo = toOperationOutcome(400, { error: { code: 'VALIDATION_FAILED', message: 'unknown search parameter colour', details: { parameter: 'colour', fhirCode: 'FHIR_UNKNOWN_PARAMETER' }, correlationId: 'c-12345678' } });
    expect(oo).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', expression: ['colour'] }] });
    expect(errorCodeOfOutcome(oo)).toBe('VALIDATION_FAILED');
    expect(toOperationOutcome(404, { error: { code: 'NOT_FOUND', message: 'x', details: {}, correlationId: 'c' } })).toMatchObject({ issue: [{ code: 'not-found' }] });
    expect(toOperationOutcome(401, { error: { code: 'UNAUTHENTICATED', message: 'x', details: {}, correlationId: 'c' } })).toMatchObject({ issue: [{ code: 'login' }] });
    expect(toOperationOutcome(403, { error: { code: 'FORBIDDEN', message: 'x', details: {}, correlationId: 'c' } })).toMatchObject({ issue: [{ code: 'forbidden' }] });
  });

  it('R-INT-1: $export parameters _type and _since are validated; files live under the prefix CDK grants', () => {
    expect(BulkExportService.parseParameters({ _type: ['Observation,Patient'] }).types).toEqual(['Patient', 'Observation']);
    expect(BulkExportService.parseParameters({ _since: ['2026-01-01T00:00:00Z'] }).since).toBe('2026-01-01T00:00:00Z');
    expect(() => BulkExportService.parseParameters({ _type: ['Practitioner'] })).toThrow(/cannot be exported/);
    expect(() => BulkExportService.parseParameters({ _since: ['2026-01-01'] })).toThrow(/instant/);
    expect(() => BulkExportService.parseParameters({ _elements: ['id'] })).toThrow(/unknown/);
    expect(FHIR_EXPORT_PREFIX).toBe(EXPORT_PREFIX);
  });
});
