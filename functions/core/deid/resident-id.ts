/** GB 11643-1999 weights of the first 17 digits of a resident identity number. */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK = '10X98765432';

/**
 * True if `s` is an 18-character PRC resident ID with a valid GB 11643 check character and a real
 * birth date; or a 15-digit first-generation ID with a real `YYMMDD` birth date.
 *
 * @example
 * isResidentId('420106199208048269') // true
 */
export function isResidentId(s: string): boolean {
  const v = s.toUpperCase();
  if (/^\d{17}[\dX]$/.test(v)) {
    let sum = 0;
    for (let i = 0; i < 17; i++) sum += Number(v.charAt(i)) * (WEIGHTS[i] ?? 0);
    if (CHECK.charAt(sum % 11) !== v.charAt(17)) return false;
    return validBirth(Number(v.slice(6, 10)), Number(v.slice(10, 12)), Number(v.slice(12, 14))) && /^[1-8]/.test(v);
  }
  if (/^\d{15}$/.test(v)) return /^[1-8]/.test(v) && validBirth(1900 + Number(v.slice(6, 8)), Number(v.slice(8, 10)), Number(v.slice(10, 12)));
  return false;
}

function validBirth(y: number, m: number, d: number): boolean {
  if (y < 1890 || y > 2100 || m < 1 || m > 12 || d < 1) return false;
  const dt = new Date(Date.UTC(y, m - 1, d));
  return dt.getUTCMonth() === m - 1;
}
