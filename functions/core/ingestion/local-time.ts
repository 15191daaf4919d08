/**
 * Offsets of the source time zones the platform accepts. China has kept UTC+8 all year since
 * 1991, so a fixed offset is exact for Asia/Shanghai (and needs no tz database in the core).
 */
const ZONE_OFFSETS: Record<string, string> = { 'Asia/Shanghai': '+08:00', 'Asia/Chongqing': '+08:00', 'Asia/Hong_Kong': '+08:00', UTC: 'Z', 'Etc/UTC': 'Z' };

/** Whether a declared time zone is supported. */
export function isSupportedZone(zone: string): boolean {
  return zone in ZONE_OFFSETS;
}

/**
 * A hospital wall-clock time (`YYYY-MM-DD HH:mm[:ss]`, `YYYY/MM/DD …`, `YYYYMMDD[HHmmss]`, or a
 * date alone) in the given zone → ISO 8601 UTC; undefined when malformed or not a real date.
 */
export function localToUtc(value: string, zone = 'Asia/Shanghai'): string | undefined {
  const offset = ZONE_OFFSETS[zone];
  if (!offset) return undefined;
  const v = value.trim();
  const m =
    /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$/.exec(v) ??
    /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?(?:\.\d+)?)?$/.exec(v);
  if (!m) return undefined;
  const [y, mo, d, h = '0', mi = '0', s = '0'] = m.slice(1).map((x) => x ?? undefined) as string[];
  const pad = (x: string | undefined, n = 2) => String(x ?? '0').padStart(n, '0');
  const iso = `${y}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${offset}`;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return undefined;
  // Date.parse accepts 2024-02-31 (rolls over): a real date must round-trip.
  const back = new Date(t + (offset === 'Z' ? 0 : 8 * 3600_000)).toISOString();
  if (back.slice(0, 10) !== `${y}-${pad(mo)}-${pad(d)}` || Number(h) > 23) return undefined;
  return new Date(t).toISOString();
}
