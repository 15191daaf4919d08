/**
 * Canonical JSON of plain JSON data: object keys in code-unit order at every level, no
 * whitespace, `undefined` members omitted (as `JSON.stringify` does), arrays in their own order.
 * Two structurally equal values always give the same string, whatever order their keys were
 * created or stored in (DynamoDB does not keep attribute order), so the string is safe to hash
 * and sign.
 *
 * Fast path: rebuild only the objects whose keys are out of order, then let the native
 * `JSON.stringify` write the result (it keeps insertion order). Objects with integer-like keys
 * (which JavaScript always enumerates first, numerically) take the explicit writer instead.
 *
 * @example
 * canonicalJson({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  const sorted = sortKeys(value);
  return sorted === SLOW ? writeCanonical(value) : JSON.stringify(sorted);
}

const SLOW = Symbol('slow');

/** `value` with every object's keys in sorted insertion order (sharing unchanged parts), or SLOW. */
function sortKeys(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('canonical JSON has no representation for non-finite numbers');
    return value;
  }
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i] as unknown;
      const s = sortKeys(v);
      if (s === SLOW) return SLOW;
      if (s !== v) (out ??= value.slice())[i] = s;
    }
    return out ?? value;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  let inOrder = true;
  for (let i = 0; i < keys.length; i++) {
    const c = keys[i]!.charCodeAt(0);
    if (c >= 48 && c <= 57) return SLOW; // integer-like keys are enumerated numerically first
    if (i > 0 && keys[i - 1]! > keys[i]!) inOrder = false;
  }
  if (!inOrder) keys.sort();
  let out: Record<string, unknown> | undefined = inOrder ? undefined : {};
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = obj[k];
    const s = sortKeys(v);
    if (s === SLOW) return SLOW;
    if (!out && s !== v) {
      out = {};
      for (let j = 0; j < i; j++) out[keys[j]!] = obj[keys[j]!];
    }
    if (out) out[k] = s;
  }
  return out ?? obj;
}

/** The explicit writer (same output), for values the fast path cannot order natively. */
function writeCanonical(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON has no representation for non-finite numbers');
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        // JSON.stringify writes null for undefined/function array slots; do the same.
        return `[${value.map((v: unknown) => (v === undefined || typeof v === 'function' ? 'null' : writeCanonical(v))).join(',')}]`;
      }
      const obj = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const k of Object.keys(obj).sort()) {
        const v = obj[k];
        if (v === undefined || typeof v === 'function') continue;
        parts.push(`${JSON.stringify(k)}:${writeCanonical(v)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON has no representation for ${typeof value}`);
  }
}
