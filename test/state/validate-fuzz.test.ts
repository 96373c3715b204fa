/**
 * Properties of the input checks, held against the real database: every timestamp the
 * service accepts, PostgreSQL reads as the same instant, and every one PostgreSQL refuses,
 * the service refuses too; random events and claims (NUL, lone surrogates, odd dates, long
 * names) are never answered with a 5xx, and whatever is accepted is applied.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTimestamp } from '../../state/timestamp';
import { BACKEND, call, READER, useTestService, WRITER } from './support';

/** Percent-encodes the UTF-8 bytes (a lone surrogate becomes U+FFFD; encodeURIComponent throws). */
const urlEncode = (v: string) => [...Buffer.from(v, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Timestamps built from components around every boundary (month and day lengths, offsets). */
const timestampText = fc.record({
  year: fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(1, 1900, 2000, 2023, 2024, 2100, 9999)),
  month: fc.integer({ min: 0, max: 13 }),
  day: fc.integer({ min: 0, max: 32 }),
  hour: fc.integer({ min: 0, max: 25 }),
  minute: fc.integer({ min: 0, max: 60 }),
  second: fc.integer({ min: 0, max: 61 }),
  fraction: fc.option(fc.stringMatching(/^\.\d{1,9}$/), { nil: '' }),
  sep: fc.constantFrom('T', 't', ' '),
  zone: fc.oneof(
    fc.constantFrom('Z', 'z'),
    fc.record({ sign: fc.constantFrom('+', '-'), h: fc.integer({ min: 0, max: 24 }), m: fc.integer({ min: 0, max: 60 }) })
      .map(({ sign, h, m }) => `${sign}${pad(h)}:${pad(m)}`),
  ),
}).map((t) => `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}${t.sep}${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}${t.fraction}${t.zone}`);

/** Strings with the characters that broke the service: NUL, lone surrogates, pairs, quotes. */
const nasty = fc.string({
  unit: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('a', 'b', '-', '1') },
    { weight: 1, arbitrary: fc.constantFrom('\u0000', '\ud800', '\udfff', '\u{1F600}', '"', '\\', '\u2028', 'é', '/') },
  ),
  maxLength: 80,
});

describe(`input checks against the real database (${BACKEND})`, () => {
  const env = useTestService();

  it('a timestamp is accepted exactly when PostgreSQL stores it, as the same instant', async () => {
    let accepted = 0;
    await fc.assert(fc.asyncProperty(timestampText, async (text) => {
      const ours = parseTimestamp(text);
      let theirs: number | undefined;
      try {
        const [row] = await env.t.db.query<{ ms: string }>(`SELECT (extract(epoch FROM $1::timestamptz) * 1000)::text AS ms`, [text]);
        theirs = Number(row!.ms);
      } catch {
        theirs = undefined;
      }
      if (typeof ours === 'number') {
        accepted++;
        expect(theirs, `${text}: accepted here, refused by PostgreSQL`).toBeDefined();
        // PostgreSQL rounds to microseconds, this to milliseconds.
        expect(Math.abs(theirs! - ours), text).toBeLessThanOrEqual(1);
      } else if (theirs === undefined) {
        expect(ours).toEqual(expect.any(String));
      } else {
        // Refused here, stored there: only the documented stricter rules (leap second 60,
        // hour 24, before year 1).
        expect(text, `${text}: refused (${ours}) but PostgreSQL stores it`).toMatch(/[T t](24|\d\d:\d\d:60)|^0000|^0001-01-01/);
      }
    }), { numRuns: 600 });
    expect(accepted).toBeGreaterThan(50);
  });

  it('random events and claims get no 5xx, and what is accepted is applied', async () => {
    let n = 0;
    await fc.assert(fc.asyncProperty(
      fc.record({
        run: fc.oneof(nasty, fc.string({ minLength: 60, maxLength: 70 })),
        workflow: nasty,
        payloadId: nasty,
        message: nasty,
        failures: fc.oneof(nasty, nasty.map((m) => JSON.stringify([{ displayName: 'd', message: m }]))),
        startedAt: fc.oneof(timestampText, nasty),
        claim: fc.boolean(),
      }),
      async (f) => {
        n++;
        const body = f.claim
          ? { payloadId: f.payloadId, workflow: f.workflow, run: `${f.run}-${n}`, input: f.message }
          : { type: 'completed', phase: 'Failed', workflow: f.workflow, run: `${f.run}-${n}`, payloadId: f.payloadId,
              message: f.message, failures: f.failures, startedAt: f.startedAt };
        const answer = await call(env.s.url, 'POST', f.claim ? '/claim' : '/events', { token: WRITER, body });
        expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(500);
        const q = await call(env.s.url, 'GET', `/runs?workflow=${urlEncode(f.workflow)}&since=${urlEncode(f.startedAt)}`, { token: READER });
        expect(q.status, JSON.stringify(q.body)).toBeLessThan(500);
        const read = await call(env.s.url, 'GET', `/runs/${urlEncode(f.run)}`, { token: READER });
        expect(read.status, JSON.stringify(read.body)).toBeLessThan(500);
      },
    ), { numRuns: 150 });
    await call(env.s.url, 'GET', '/runs?limit=1', { token: READER }); // applies the backlog
    expect((await call(env.s.url, 'GET', '/journal', { token: READER })).body).toEqual({ pending: 0, oldestAcceptedAt: null, rejected: 0 });
  });
});
