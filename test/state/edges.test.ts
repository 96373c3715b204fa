/**
 * The state service at its edges (issue 15): what it accepts (2xx) it applies; what it
 * cannot apply it refuses up front with a 400 naming the field; no bad input gets a 5xx.
 * Each case was a defect found by probing the running service from outside.
 */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { buildStateServer } from '../../state/server';
import { BACKEND, call, lifecycle, READER, useTestService, WRITER } from './support';

const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe(`state service edges (${BACKEND}, real server on loopback)`, () => {
  const env = useTestService();

  /** After a read (which applies every accepted event first): the backlog and the rejects. */
  const journal = async () => {
    await call(env.s.url, 'GET', '/runs?limit=1', { token: READER });
    return (await call(env.s.url, 'GET', '/journal', { token: READER })).body;
  };
  const runState = async (run: string) => (await call(env.s.url, 'GET', `/runs/${encodeURIComponent(run)}`, { token: READER }));

  const event = (run: string, fields: Record<string, unknown> = {}) => ({ ...lifecycle({ type: 'running', run, phase: 'Running' }), ...fields });
  const done = (run: string, fields: Record<string, unknown> = {}) => ({ ...lifecycle({ type: 'completed', run, phase: 'Failed' }), ...fields });

  describe('writes that cannot be applied are refused with a 400 naming the field, and nothing is stored', () => {
    const cases: [string, string, unknown, string][] = [
      ['an impossible date (Feb 30)', '/events', event('e-feb30', { startedAt: '2024-02-30T00:00:00Z' }), 'startedAt'],
      ['Feb 29 of a common year', '/events', event('e-feb29', { startedAt: '2023-02-29T12:00:00Z' }), 'startedAt'],
      ['day 31 of a 30-day month', '/events', done('e-apr31', { finishedAt: '2024-04-31T12:00:00Z' }), 'finishedAt'],
      ['month 13', '/events', event('e-m13', { startedAt: '2024-13-01T00:00:00Z' }), 'startedAt'],
      ['hour 24', '/events', event('e-h24', { startedAt: '2024-01-01T24:00:00Z' }), 'startedAt'],
      ['offset +16:00', '/events', event('e-off16', { startedAt: '2024-01-01T00:00:00+16:00' }), 'startedAt'],
      ['offset +23:59', '/events', done('e-off23', { finishedAt: '2024-01-01T00:00:00+23:59' }), 'finishedAt'],
      ['offset -16:30', '/events', event('e-off-16', { startedAt: '2024-01-01T00:00:00-16:30' }), 'startedAt'],
      ['offset minutes 60', '/events', event('e-offm', { startedAt: '2024-01-01T00:00:00+01:60' }), 'startedAt'],
      ['a startedAt in year 9000 (its deadline would never come)', '/events', event('e-9000', { startedAt: '9000-01-01T00:00:00Z', deadlineSeconds: 60 }), 'startedAt'],
      ['a NUL in a message', '/events', done('e-nul', { message: 'a\u0000b' }), 'message'],
      ['a lone high surrogate in a message', '/events', done('e-hi', { message: 'a\ud800b' }), 'message'],
      ['a lone low surrogate in the input', '/events', event('e-lo', { input: '\udc00' }), 'input'],
      ['a NUL in the run name', '/events', event('e-\u0000'), 'run'],
      ['a NUL escaped inside the failures JSON', '/events', done('e-fnul', { failures: JSON.stringify([{ displayName: 'a', message: 'x\u0000' }]) }), 'failures'],
      ['a lone surrogate escaped inside the failures JSON (Argo double-encodes it)', '/events',
        done('e-fsur', { failures: JSON.stringify(JSON.stringify([{ displayName: 'a', message: 'x\ud83d' }])) }), 'failures'],
      ['a NUL in an INVALID report', '/events', { type: 'invalid', input: '{"a":1}', detail: 'x\u0000' }, 'detail'],
      ['a NUL in a claim input', '/claim', { payloadId: 'p-nul', workflow: 'w', run: 'c-nul', input: 'a\u0000' }, 'input'],
      ['a lone surrogate in a claim payload id', '/claim', { payloadId: 'p\udfff', workflow: 'w', run: 'c-sur' }, 'payloadId'],
      ['a claim whose inline payload has a NUL in a feature id (the derived payload id)', '/claim',
        { workflow: 'w', run: 'c-derived', input: JSON.stringify({ type: 'FeatureCollection', features: [{ id: 'a\u0000', collection: 'c' }], process: [{ workflow: 'w' }]}) }, 'input'],
      ['a run name of 64 characters (Argo refuses workflow names over 63)', '/events', event('r'.repeat(64)), 'run'],
      ['a parentRun of 64 characters', '/events', event('e-parent', { parentRun: 'p'.repeat(64) }), 'parentRun'],
      ['a claim for a run name of 64 characters', '/claim', { payloadId: 'p64', workflow: 'w', run: 'c'.repeat(64) }, 'run'],
      ['a workflow name of 254 characters', '/events', event('e-wf254', { workflow: 'w'.repeat(254) }), 'workflow'],
      ['a payload id over 2048 UTF-8 bytes (a btree key; PostgreSQL refuses ~2.7 KB)', '/events', event('e-pid', { payloadId: `c/workflow-w/${'é'.repeat(1020)}` }), 'payloadId'],
      ['a claim whose derived payload id is over 2048 bytes', '/claim',
        { workflow: 'w', run: 'c-long', input: JSON.stringify({ features: Array.from({ length: 40 }, (_, i) => ({ id: `${i}-${'x'.repeat(60)}`, collection: 'c' })), process: [{ workflow: 'w' }] }) }, 'input'],
    ];
    it.each(cases)('%s', async (_name, path, body, field) => {
      const answer = await call(env.s.url, 'POST', path, { token: WRITER, body });
      expect(answer).toMatchObject({ status: 400, body: { field, message: expect.any(String) } });
      expect(await journal()).toMatchObject({ pending: 0, rejected: 0 });
    });
  });

  describe('writes at the limits are accepted and applied, and read back', () => {
    it('Feb 29 of a leap year, offsets up to +-15:59, fractions of a second', async () => {
      const at = '2024-02-29T23:30:00.123456+15:59';
      expect((await call(env.s.url, 'POST', '/events', { token: WRITER, body: event('leap-ok', { startedAt: at }) })).status).toBe(202);
      expect((await call(env.s.url, 'POST', '/events', { token: WRITER, body: done('offset-ok', { finishedAt: '2024-03-01T00:00:00-15:59' }) })).status).toBe(202);
      const read = await runState('leap-ok');
      expect(read.body.startedAt).toBe('2024-02-29T07:31:00.123456Z');
      expect((await runState('offset-ok')).body.finishedAt).toBe('2024-03-01T15:59:00.000000Z');
      expect(await journal()).toMatchObject({ pending: 0, rejected: 0 });
    });

    it('a startedAt up to an hour ahead of this clock (skew) is accepted; its deadline counts from it', async () => {
      const ahead = new Date(Date.now() + 30 * 60_000).toISOString();
      expect((await call(env.s.url, 'POST', '/events', { token: WRITER, body: event('skewed', { startedAt: ahead, deadlineSeconds: 60 }) })).status).toBe(202);
      expect((await runState('skewed')).body.deadlineAt).toBe(new Date(Date.parse(ahead) + 60_000).toISOString().replace('Z', '000Z'));
    });

    it('run names of 63 characters and workflow names of 253 are recorded and read back by every route', async () => {
      const run = `r${'x'.repeat(61)}9`;
      const workflow = 'w'.repeat(253);
      expect(run).toHaveLength(63);
      expect((await call(env.s.url, 'POST', '/events', { token: WRITER, body: event(run, { workflow, parentRun: run, uid: 'uid-63' }) })).status).toBe(202);
      expect(await runState(run)).toMatchObject({ status: 200, body: { run, workflow, parentRun: run } });
      expect(await call(env.s.url, 'GET', `/jobs/${run}`, { token: READER })).toMatchObject({ status: 200, body: { jobID: run, processID: workflow } });
      expect((await call(env.s.url, 'GET', `/runs?workflow=${workflow}`, { token: READER })).body.runs.map((r: { run: string }) => r.run)).toEqual([run]);
      expect((await call(env.s.url, 'GET', `/jobs?processID=${workflow}`, { token: READER })).body.jobs.map((j: { jobID: string }) => j.jobID)).toEqual([run]);
      const claim = await call(env.s.url, 'POST', '/claim', { token: WRITER, body: { payloadId: 'p-63', workflow, run: `c${'x'.repeat(62)}` } });
      expect(claim).toMatchObject({ status: 200, body: { claimed: true } });
    });

    it('a name longer than any stored is not found (404), not 414', async () => {
      for (const n of [64, 120, 253, 254, 2000]) {
        expect(await runState('x'.repeat(n))).toMatchObject({ status: 404, body: { field: 'run' } });
        expect(await call(env.s.url, 'GET', `/jobs/${'x'.repeat(n)}`, { token: READER })).toMatchObject({ status: 404 });
      }
    });

    it('a payload id of 2048 bytes that does not compress is recorded and read back by id', async () => {
      const items = Array.from({ length: 31 }, (_, i) => `${i.toString(36)}${Buffer.from(`${i}`).toString('hex')}${Math.random().toString(36).slice(2)}`).join('/');
      const payloadId = `c/workflow-w/${items}`.padEnd(2048, 'z').slice(0, 2048);
      expect((await call(env.s.url, 'POST', '/events', { token: WRITER, body: event('p-2048', { payloadId }) })).status).toBe(202);
      expect(await journal()).toMatchObject({ pending: 0, rejected: 0 });
      const read = await call(env.s.url, 'GET', `/payloads/${payloadId}`, { token: READER });
      expect(read).toMatchObject({ status: 200, body: { payloadId, runs: [{ run: 'p-2048' }] } });
    });

    it('an error text cut at its limit never splits a surrogate pair (the event stays storable)', async () => {
      const message = `${'a'.repeat(8 * 1024 - 1)}\u{1F600}tail`;
      expect((await call(env.s.url, 'POST', '/events', { token: WRITER, body: done('emoji-cut', { message }) })).status).toBe(202);
      const read = await runState('emoji-cut');
      expect(read.body.error).toBe('a'.repeat(8 * 1024 - 1));
      expect(await journal()).toMatchObject({ pending: 0, rejected: 0 });
    });

    it('an INVALID report whose payload ids cannot be stored is recorded without the payload link', async () => {
      const input = JSON.stringify({ features: [{ id: 'a\u0000', collection: 'c' }], process: [{ workflow: 'w' }] });
      const answer = await call(env.s.url, 'POST', '/events', { token: WRITER, body: { type: 'invalid', input, workflow: 'w', run: 'invalid-nul-ids' } });
      expect(answer.status).toBe(202);
      expect(await runState('invalid-nul-ids')).toMatchObject({ status: 200, body: { state: 'INVALID', payloadId: null } });
    });
  });

  describe('reads refuse what they cannot answer with a 400 naming the parameter', () => {
    const reads: [string, string, string][] = [
      ['since on an impossible date', '/runs?since=2024-02-30T00:00:00Z', 'since'],
      ['until on Feb 29 of a common year', '/runs?until=2023-02-29T00:00:00Z', 'until'],
      ['an offset beyond 15:59', `/counts?since=${encodeURIComponent('2024-01-01T00:00:00+16:00')}`, 'since'],
      ['a NUL in a run name', '/runs/a%00b', 'run'],
      ['a NUL in a job id', '/jobs/a%00b', 'jobId'],
      ['a NUL in a payload id', '/payloads/a%00b', 'payloadId'],
      ['a NUL in a query value', '/runs?workflow=a%00b', 'workflow'],
      ['a NUL in a processID', '/jobs?processID=a%00b', 'processID'],
      ['a forged cursor ["1","x"]', `/runs?cursor=${cursorOf(['1', 'x'])}`, 'cursor'],
      ['a forged cursor [1,2]', `/runs?cursor=${cursorOf([1, 2])}`, 'cursor'],
      ['a cursor on an impossible date', `/runs?cursor=${cursorOf(['2024-02-30T00:00:00.000000Z', 'x'])}`, 'cursor'],
      ['a cursor with a third element', `/runs?cursor=${cursorOf(['2024-02-01T00:00:00.000000Z', 'x', 'y'])}`, 'cursor'],
      ['a cursor with a NUL run', `/jobs?cursor=${cursorOf(['2024-02-01T00:00:00.000000Z', 'x\u0000'])}`, 'cursor'],
      ['a repeated limit', '/jobs?limit=1&limit=2', 'limit'],
    ];
    it.each(reads)('%s', async (_name, path, field) => {
      expect(await call(env.s.url, 'GET', path, { token: READER })).toMatchObject({ status: 400, body: { field } });
    });

    it('a query value that is not UTF-8 is not a 5xx', async () => {
      const answer = await call(env.s.url, 'GET', '/runs?workflow=%ED%A0%80', { token: READER });
      expect(answer.status).toBeLessThan(500);
    });
  });

  it('several processIDs select the jobs of any of them (OGC), never all jobs', async () => {
    for (const [run, workflow] of [['pa-1', 'proc-a'], ['pb-1', 'proc-b'], ['pc-1', 'proc-c']] as const) {
      expect((await call(env.s.url, 'POST', '/events', { token: WRITER, body: event(run, { workflow }) })).status).toBe(202);
    }
    const ids = async (q: string) => (await call(env.s.url, 'GET', `/jobs?${q}`, { token: READER })).body.jobs.map((j: { jobID: string }) => j.jobID).sort();
    expect(await ids('processID=proc-a&processID=proc-b')).toEqual(['pa-1', 'pb-1']);
    expect(await ids('processID=proc-c')).toEqual(['pc-1']);
    // the next page keeps both
    const first = await call(env.s.url, 'GET', '/jobs?processID=proc-a&processID=proc-b&limit=1', { token: READER });
    const next = first.body.links.find((l: { rel: string }) => l.rel === 'next').href as string;
    expect(new URLSearchParams(next.split('?')[1]).getAll('processID')).toEqual(['proc-a', 'proc-b']);
    expect((await call(env.s.url, 'GET', next, { token: READER })).body.jobs).toHaveLength(1);
  });

  it('the Host header never reaches the links of /jobs', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(`${env.s.url}/jobs?processID=proc-a&limit=1`, { headers: { host: 'evil.example', authorization: `Bearer ${READER}` } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end();
    });
    expect(body).not.toContain('evil.example');
    const list = JSON.parse(body);
    expect(list.links[0].href).toBe('/jobs?processID=proc-a&limit=1');
    expect(list.jobs[0].links[0].href).toBe('/jobs/pa-1');
  });

  it('with a configured public URL (STATE_PUBLIC_URL), links are absolute on it', async () => {
    const app = buildStateServer({ store: env.s.store, writerToken: WRITER, readerToken: READER, publicUrl: 'https://swoop.example.com/state/' });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const list = await call(url, 'GET', '/jobs?processID=proc-a', { token: READER });
      expect(list.body.links[0].href).toBe('https://swoop.example.com/state/jobs?processID=proc-a');
      expect(list.body.jobs[0].links[0].href).toBe('https://swoop.example.com/state/jobs/pa-1');
    } finally {
      await app.close();
    }
  });

  it('every answer carries X-Content-Type-Options: nosniff', async () => {
    const answers = await Promise.all([
      fetch(`${env.s.url}/healthz`),
      fetch(`${env.s.url}/runs`),
      fetch(`${env.s.url}/runs`, { headers: { authorization: `Bearer ${READER}` } }),
      fetch(`${env.s.url}/runs?since=x`, { headers: { authorization: `Bearer ${READER}` } }),
      fetch(`${env.s.url}/nope`),
      fetch(`${env.s.url}/events`, { method: 'POST', headers: { authorization: `Bearer ${WRITER}`, 'content-type': 'text/plain' }, body: 'x' }),
      fetch(`${env.s.url}/events`, { method: 'POST', headers: { authorization: `Bearer ${WRITER}`, 'content-type': 'application/json' }, body: '{' }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 401, 200, 400, 404, 415, 400]);
    for (const a of answers) expect(a.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
