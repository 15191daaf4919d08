/**
 * Calendar arithmetic for date shifting and generalization. Dates are shifted as calendar days on
 * their own wall clock (time of day and zone suffix untouched), so a shifted date never depends on
 * the machine's time zone and every interval within one patient is preserved exactly.
 */

const DAY_MS = 86_400_000;

/** Adds days to Y/M/D (proleptic Gregorian, UTC arithmetic, no zone involved). */
export function addDaysYmd(y: number, m: number, d: number, days: number): { y: number; m: number; d: number } {
  const t = Date.UTC(y, m - 1, d) + days * DAY_MS;
  const dt = new Date(t);
  return { y: dt.getUTCFullYear(), m: dt.getUTCMonth() + 1, d: dt.getUTCDate() };
}

const p2 = (n: number): string => String(n).padStart(2, '0');
const p4 = (n: number): string => String(n).padStart(4, '0');

/** True if Y/M/D is a real calendar date. */
export function isValidYmd(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1 || d > 31) return false;
  const dt = new Date(Date.UTC(y, m - 1, d));
  return dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d;
}

/**
 * Shifts a FHIR `date`, `dateTime` or `instant` string. Year-only values are returned unchanged
 * (already coarse); year-month values move with their mid-month day.
 *
 * @example
 * shiftFhirDate('2024-09-25T02:20:00Z', -30) // '2024-08-26T02:20:00Z'
 */
export function shiftFhirDate(value: string, days: number): string {
  const full = /^(\d{4})-(\d{2})-(\d{2})(T.*)?$/.exec(value);
  if (full) {
    const r = addDaysYmd(Number(full[1]), Number(full[2]), Number(full[3]), days);
    return `${p4(r.y)}-${p2(r.m)}-${p2(r.d)}${full[4] ?? ''}`;
  }
  const ym = /^(\d{4})-(\d{2})$/.exec(value);
  if (ym) {
    const r = addDaysYmd(Number(ym[1]), Number(ym[2]), 15, days);
    return `${p4(r.y)}-${p2(r.m)}`;
  }
  return value;
}

/** True if the string looks like a FHIR date/dateTime/instant with at least a month. */
export function isFhirDateLike(value: string): boolean {
  return /^\d{4}-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?$/.test(value);
}

/** Shifts a DICOM DA (`YYYYMMDD`) or the date part of a DT (`YYYYMMDDHHMMSS.FFFFFF&ZZXX`). */
export function shiftDicomDate(value: string, days: number): string {
  const m = /^(\d{4})(\d{2})(\d{2})(.*)$/.exec(value.trim());
  if (!m) return value;
  const r = addDaysYmd(Number(m[1]), Number(m[2]), Number(m[3]), days);
  return `${p4(r.y)}${p2(r.m)}${p2(r.d)}${m[4] ?? ''}`;
}

/** Birth date → year (`1992-08-04` → `1992`). */
export function generalizeBirthDate(value: string): string {
  return value.slice(0, 4);
}

/**
 * Age → 5-year band (`47` → `45-49`); 90 and over collapse to `90+` (HIPAA Safe Harbor).
 *
 * @example
 * ageBand(47) // '45-49'
 */
export function ageBand(age: number, width = 5): string {
  if (!Number.isFinite(age) || age < 0) return 'unknown';
  if (age >= 90) return '90+';
  const lo = Math.floor(age / width) * width;
  return `${lo}-${lo + width - 1}`;
}
