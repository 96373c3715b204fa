/**
 * RFC 3339 timestamps as PostgreSQL's timestamptz can store them. A regular expression
 * alone let impossible dates through (`2024-02-30`, `2023-02-29`: JavaScript's Date rolls
 * them over, PostgreSQL refuses them), so a timestamp the service accepted failed later in
 * SQL. This checks every component itself, so what it accepts, PostgreSQL reads as the same
 * instant (test/state/timestamp.test.ts holds it against the real server).
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

// PostgreSQL refuses UTC offsets beyond 15:59 (MAX_TZDISP_HOUR); RFC 3339 would allow 23:59.
const MAX_OFFSET_HOURS = 15;
const FIRST_INSTANT = Date.parse('0001-01-01T00:00:00Z');

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Milliseconds since the epoch of an RFC 3339 timestamp, or a reason it is not one this
 * service stores: years 0001-9999 (after applying the offset), real calendar dates, hours
 * 00-23, seconds 00-59 (no leap second), offsets up to +-15:59.
 */
export function parseTimestamp(text: string): number | string {
  const m = RFC3339.exec(text);
  if (!m) return 'is not an RFC 3339 timestamp such as 2024-05-01T12:00:00Z';
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (year < 1) return 'has year 0000; years run from 0001';
  if (month < 1 || month > 12) return `has month ${m[2]}; months run from 01 to 12`;
  if (day < 1 || day > daysInMonth(year, month)) return `has day ${m[3]}, which ${m[1]}-${m[2]} does not have`;
  if (hour > 23 || minute > 59 || second > 59) return 'has a time of day beyond 23:59:59';
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > MAX_OFFSET_HOURS || om > 59) return `has the UTC offset ${m[9]}${m[10]}:${m[11]}; offsets run up to +-15:59`;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  const ms = d.getTime() - offsetMinutes * 60_000 + (m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0);
  if (ms < FIRST_INSTANT) return 'is before 0001-01-01T00:00:00Z';
  return ms;
}
