/**
 * Times on the command line: what an operator types (`24h`, `7d`, `yesterday`, a date) turned
 * into the RFC 3339 instant the state service filters on (state/timestamp.ts checks it again).
 */
import { RUN_STATES } from '../state/states';
import { parseTimestamp } from '../state/timestamp';
import { CliError } from './io';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 };

/** `30m`, `24h`, `7d` ago; `today`/`yesterday` (UTC midnight); `2024-05-01`; or RFC 3339. */
export function parseWhen(option: string, value: string, now = Date.now()): string {
  const ago = /^(\d+)([smhdw])$/.exec(value);
  if (ago) return new Date(now - Number(ago[1]) * UNITS[ago[2]!]! * 1000).toISOString();
  const midnight = new Date(now);
  midnight.setUTCHours(0, 0, 0, 0);
  if (value === 'today') return midnight.toISOString();
  if (value === 'yesterday') return new Date(midnight.getTime() - 86400_000).toISOString();
  const text = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  const t = parseTimestamp(text);
  if (typeof t === 'string') {
    throw new CliError(`${option} "${value}": ${t}; give a duration ago (30m, 24h, 7d), today, yesterday, a date (2024-05-01) or an RFC 3339 time`);
  }
  return text;
}

/** `FAILED,TIMED_OUT` checked against the service's states, case-insensitively. */
export function parseStates(option: string, value: string): string {
  const states = value.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  for (const s of states) {
    if (!(RUN_STATES as readonly string[]).includes(s)) throw new CliError(`${option} "${s}": not a state; give one or more (comma-separated) of ${RUN_STATES.join(', ')}`);
  }
  if (states.length === 0) throw new CliError(`${option}: give one or more (comma-separated) of ${RUN_STATES.join(', ')}`);
  return states.join(',');
}

export function parsePositive(option: string, value: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n <= 0 || n > max) throw new CliError(`${option} "${value}": give a positive number${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ''}`);
  return n;
}
