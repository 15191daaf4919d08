/**
 * Time helpers of the demo generator. Hospital wall clocks are Asia/Shanghai, a fixed UTC+08:00
 * (China has had no daylight saving time since 1991), so conversions are plain offsets and need
 * no time-zone database; instants are stored as UTC ISO strings.
 */
const DAY_MS = 86_400_000;
/** Offset of Asia/Shanghai. */
export const SHANGHAI_OFFSET_MS = 8 * 3_600_000;

/** Adds days to a YYYY-MM-DD date. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Whole days from `a` to `b` (YYYY-MM-DD). */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY_MS);
}

/** Day of week (0 = Sunday) of a YYYY-MM-DD date. */
export function weekday(date: string): number {
  return new Date(`${date}T00:00:00Z`).getUTCDay();
}

/** Next Monday–Friday date on or after `date`. */
export function nextWorkday(date: string): string {
  let d = date;
  while (weekday(d) === 0 || weekday(d) === 6) d = addDays(d, 1);
  return d;
}

/** UTC ISO instant (ms precision dropped) of a Shanghai wall-clock time. */
export function shanghaiToUtc(date: string, hour: number, minute: number, second = 0): string {
  const ms = Date.parse(`${date}T00:00:00Z`) + ((hour * 60 + minute) * 60 + second) * 1000 - SHANGHAI_OFFSET_MS;
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** Adds minutes to a UTC ISO instant. */
export function addMinutes(iso: string, minutes: number): string {
  return new Date(Date.parse(iso) + minutes * 60_000).toISOString().replace('.000Z', 'Z');
}

/** Shanghai wall-clock parts of a UTC instant: date YYYY-MM-DD, DICOM DA/TM, and "YYYY-MM-DD HH:mm". */
export function toShanghai(iso: string): { date: string; dicomDate: string; dicomTime: string; local: string; offsetIso: string } {
  const d = new Date(Date.parse(iso) + SHANGHAI_OFFSET_MS).toISOString();
  const date = d.slice(0, 10);
  const time = d.slice(11, 19);
  return {
    date,
    dicomDate: date.replaceAll('-', ''),
    dicomTime: time.replaceAll(':', ''),
    local: `${date} ${time.slice(0, 5)}`,
    offsetIso: `${date}T${time}+08:00`,
  };
}
