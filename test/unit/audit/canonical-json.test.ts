import { describe, expect, it } from 'vitest';
import { canonicalAuditEventJson } from '../../../functions/core/audit/canonical-audit-event';
import { canonicalJson } from '../../../functions/core/audit/canonical-json';
import type { AuditEvent } from '../../../functions/core/audit/audit-event';
import { auditEvent } from './audit-fixtures';

describe('canonical JSON (the bytes that are hashed and signed)', () => {
  it('R-AUD-2: keys are ordered at every level, whatever the insertion order; arrays keep theirs', () => {
    // Act + Assess
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });

  it('R-AUD-2: undefined members are omitted, integer-like keys sort as strings, non-finite numbers are refused', () => {
    // Act + Assess
    expect(canonicalJson({ a: undefined, b: [undefined, null] })).toBe('{"b":[null,null]}');
    expect(canonicalJson({ 10: 'x', 9: 'y', a: 'z' })).toBe('{"10":"x","9":"y","a":"z"}');
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError);
    expect(canonicalJson('é"\n')).toBe(JSON.stringify('é"\n'));
  });

  it('R-AUD-2: the audit-event fast path equals the general canonical JSON, for regular and odd events', () => {
    // Prepare
    const reorder = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).reverse()) as T;
    const regular = auditEvent('2026-11-24T08:00:00.000Z');
    const variants: unknown[] = [
      regular,
      reorder({ ...regular, actor: reorder({ ...regular.actor, apiKeyId: 'k1' }), result: reorder({ ...regular.result, errorCode: 'X', count: 2 }) }),
      { ...regular, decision: undefined, resources: [], parameters: { z: 1, a: true, m: 'x' } },
      { ...regular, extra: { nested: { b: 1, a: 2 } } },
      { ...regular, parameters: { 2: 'two', 10: 'ten' } },
      { ...regular, actor: { ...regular.actor, roles: [{ b: 1, a: 2 }] } },
      { ...regular, resources: [{ id: 'x', type: 't', more: [1] }] },
      { ...regular, result: { ...regular.result, status: '200' } },
      { ...regular, source: null },
      { ...regular, decision: null },
    ];
    // Act + Assess
    for (const v of variants) expect(canonicalAuditEventJson(v as AuditEvent)).toBe(canonicalJson(v));
  });
});
