import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../state/db';
import { migrate } from '../../state/migrate';
import { BACKEND, call, createTestDb, lifecycle, payloadIdOf, READER, startTestService, type TestDb, type TestService, WRITER } from './support';

describe(`state service HTTP API (${BACKEND}, real server on loopback)`, () => {
  let t: TestDb;
  let s: TestService;
  beforeAll(async () => {
    t = await createTestDb();
    s = await startTestService(t.db, { bodyLimit: 64 * 1024 });
  });
  afterAll(async () => {
    await s.close();
    await t.drop();
  });

  const tables = async () => (await t.db.query<{ p: number; r: number; e: number; o: number }>(
    `SELECT (SELECT count(*)::int FROM payloads) AS p, (SELECT count(*)::int FROM runs) AS r,
            (SELECT count(*)::int FROM run_events) AS e, (SELECT count(*)::int FROM outbox) AS o`))[0]!;

  it('healthz and readyz answer without a token', async () => {
    expect(await call(s.url, 'GET', '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await call(s.url, 'GET', '/readyz')).toEqual({ status: 200, body: { status: 'ready' } });
    expect((await call(s.url, 'GET', '/journal')).status).toBe(401);
    expect(await call(s.url, 'GET', '/journal', { token: READER })).toEqual({ status: 200, body: { pending: 0, oldestAcceptedAt: null, rejected: 0 } });
  });

  describe('bad input is refused with a JSON error naming the field, and nothing is written', () => {
    const good = lifecycle({ type: 'running', run: 'bad-input-run', phase: 'Running', payloadId: payloadIdOf(1) });
    const cases: [string, { path: string; token?: string; body?: unknown; raw?: string; contentType?: string }, number, string][] = [
      ['no token', { path: '/events', body: good }, 401, 'authorization'],
      ['wrong token', { path: '/events', token: 'nope', body: good }, 401, 'authorization'],
      ['wrong token of the same length', { path: '/events', token: WRITER.replace(/.$/, 'X'), body: good }, 401, 'authorization'],
      ['reader token on a write', { path: '/events', token: READER, body: good }, 401, 'authorization'],
      ['reader token on claim', { path: '/claim', token: READER, body: { payloadId: 'p', workflow: 'w', run: 'r' } }, 401, 'authorization'],
      ['malformed JSON', { path: '/events', token: WRITER, raw: '{"type": "running",' }, 400, 'body'],
      ['empty body', { path: '/events', token: WRITER, raw: '' }, 400, 'body'],
      ['a JSON array', { path: '/events', token: WRITER, body: [good] }, 400, 'body'],
      ['a JSON string', { path: '/events', token: WRITER, body: 'running' }, 400, 'body'],
      ['not JSON content type', { path: '/events', token: WRITER, raw: 'type=running', contentType: 'text/plain' }, 415, 'content-type'],
      ['missing type', { path: '/events', token: WRITER, body: { ...good, type: undefined } }, 400, 'type'],
      ['unknown type', { path: '/events', token: WRITER, body: { ...good, type: 'started' } }, 400, 'type'],
      ['unknown phase', { path: '/events', token: WRITER, body: { ...good, phase: 'Done' } }, 400, 'phase'],
      ['phase not matching type', { path: '/events', token: WRITER, body: { ...good, type: 'completed', phase: 'Running' } }, 400, 'phase'],
      ['number for a string', { path: '/events', token: WRITER, body: { ...good, run: 42 } }, 400, 'run'],
      ['object for a string', { path: '/events', token: WRITER, body: { ...good, output: { url: 's3://x' } } }, 400, 'output'],
      ['missing run', { path: '/events', token: WRITER, body: { ...good, run: '' } }, 400, 'run'],
      ['unknown field', { path: '/events', token: WRITER, body: { ...good, payloadID: 'x' } }, 400, 'payloadID'],
      ['bad timestamp', { path: '/events', token: WRITER, body: { ...good, startedAt: 'yesterday' } }, 400, 'startedAt'],
      ['timestamp in year 0', { path: '/events', token: WRITER, body: { ...good, startedAt: '0000-01-01T00:00:00Z' } }, 400, 'startedAt'],
      ['failures not JSON', { path: '/events', token: WRITER, body: { ...good, type: 'completed', phase: 'Failed', failures: '[oops' } }, 400, 'failures'],
      ['field too long', { path: '/events', token: WRITER, body: { ...good, run: 'r'.repeat(254) } }, 400, 'run'],
      ['oversized body', { path: '/events', token: WRITER, body: { ...good, input: 'x'.repeat(70 * 1024) } }, 413, 'body'],
      ['invalid without input', { path: '/events', token: WRITER, body: { type: 'invalid', payloadId: 'p' } }, 400, 'input'],
      ['claim without workflow', { path: '/claim', token: WRITER, body: { payloadId: 'p', run: 'r' } }, 400, 'workflow'],
      ['invalid with a non-string detail', { path: '/events', token: WRITER, body: { type: 'invalid', input: '{', detail: { line: 1 } } }, 400, 'detail'],
      ['claim replace not boolean', { path: '/claim', token: WRITER, body: { payloadId: 'p', workflow: 'w', run: 'r', replace: 'yes' } }, 400, 'replace'],
      ['claim unknown field', { path: '/claim', token: WRITER, body: { payloadId: 'p', workflow: 'w', run: 'r', force: true } }, 400, 'force'],
      ['deadlineSeconds as a string', { path: '/events', token: WRITER, body: { ...good, deadlineSeconds: '21600' } }, 400, 'deadlineSeconds'],
      ['deadlineSeconds not whole', { path: '/events', token: WRITER, body: { ...good, deadlineSeconds: 1.5 } }, 400, 'deadlineSeconds'],
      ['deadlineSeconds zero', { path: '/events', token: WRITER, body: { ...good, deadlineSeconds: 0 } }, 400, 'deadlineSeconds'],
      ['deadlineSeconds beyond ten years', { path: '/events', token: WRITER, body: { ...good, deadlineSeconds: 400_000_000 } }, 400, 'deadlineSeconds'],
      ['deadlineSeconds on a completed event', { path: '/events', token: WRITER, body: { ...good, type: 'completed', phase: 'Succeeded', deadlineSeconds: 60 } }, 400, 'deadlineSeconds'],
    ];
    it.each(cases)('%s -> %i (%s)', async (_name, req, status, field) => {
      const before = await tables();
      const answer = await call(s.url, 'POST', req.path, req);
      expect(answer.status).toBe(status);
      expect(answer.body).toMatchObject({ field, message: expect.any(String) });
      expect(await tables()).toEqual(before);
    });

    const reads: [string, string, string | undefined, number, string][] = [
      ['no token', '/runs', undefined, 401, 'authorization'],
      ['wrong token', '/counts', 'nope', 401, 'authorization'],
      ['unknown state', '/runs?state=DONE', READER, 400, 'state'],
      ['one unknown state among several', '/runs?state=FAILED,done', READER, 400, 'state'],
      ['bad time', '/runs?since=2024-13-45', READER, 400, 'since'],
      ['limit out of range', '/runs?limit=0', READER, 400, 'limit'],
      ['limit not a number', '/runs?limit=ten', READER, 400, 'limit'],
      ['forged cursor', '/runs?cursor=abc', READER, 400, 'cursor'],
      ['repeated parameter', '/runs?workflow=a&workflow=b', READER, 400, 'workflow'],
      ['unknown parameter', '/runs?status=FAILED', READER, 400, 'status'],
      ['unknown OGC status', '/jobs?status=done', READER, 400, 'status'],
      ['unknown job', '/jobs/no-such-run', READER, 404, 'jobId'],
      ['unknown run', '/runs/no-such-run', READER, 404, 'run'],
      ['unknown payload', '/payloads/c/workflow-w/none', READER, 404, 'payloadId'],
      ['unknown route', '/nope', READER, 404, 'path'],
    ];
    it.each(reads)('read with %s -> %i (%s)', async (_name, path, token, status, field) => {
      const answer = await call(s.url, 'GET', path, { token });
      expect(answer.status).toBe(status);
      expect(answer.body).toMatchObject({ field });
    });
  });

  describe('recording and reading', () => {
    const payloadId = 'sentinel-2-l2a/workflow-cog-archive/S2B_17HQD_20201103_0_L2A';
    it('claim, running, completed: recorded, readable by payload id and hash, and as an OGC job', async () => {
      const claim = await call(s.url, 'POST', '/claim', { token: WRITER, body: { payloadId, workflow: 'cog-archive', run: 'cog-1', input: 's3://b/in.json', replace: 'false' } });
      expect(claim).toEqual({ status: 200, body: { claimed: true, reason: 'new payload', run: 'cog-1' } });
      const dup = await call(s.url, 'POST', '/claim', { token: WRITER, body: { payloadId, workflow: 'cog-archive', run: 'cog-2', input: 's3://b/in.json' } });
      expect(dup).toEqual({ status: 200, body: { claimed: false, reason: 'payload is active: run cog-1 is QUEUED', run: 'cog-1' } });

      // 202 once the event is durably accepted; every read sees it (reads catch up first).
      const accepted = { status: 202, body: { accepted: true, run: 'cog-1' } };
      const state = async () => (await call(s.url, 'GET', '/runs/cog-1', { token: READER })).body.state;
      const running = lifecycle({ type: 'running', run: 'cog-1', phase: 'Running', payloadId });
      expect(await call(s.url, 'POST', '/events', { token: WRITER, body: running })).toEqual(accepted);
      expect(await state()).toBe('RUNNING');
      const done = lifecycle({ type: 'completed', run: 'cog-1', phase: 'Succeeded', payloadId, output: 's3://b/out.json' });
      expect(await call(s.url, 'POST', '/events', { token: WRITER, body: done })).toEqual(accepted);
      expect(await state()).toBe('SUCCESSFUL');
      expect(await call(s.url, 'POST', '/events', { token: WRITER, body: running })).toEqual(accepted);
      expect(await state()).toBe('SUCCESSFUL');

      const byId = await call(s.url, 'GET', `/payloads/${payloadId}`, { token: READER });
      expect(byId.status).toBe(200);
      expect(byId.body).toMatchObject({
        payloadId, workflow: 'cog-archive', collections: ['sentinel-2-l2a'], itemIds: ['S2B_17HQD_20201103_0_L2A'], state: 'SUCCESSFUL',
        runs: [
          { run: 'cog-2', attempt: 2, state: 'CANCELED', claim: 'refused' },
          { run: 'cog-1', attempt: 1, state: 'SUCCESSFUL', claim: 'claimed', output: 's3://b/out.json', uid: 'uid-cog-1', startedAt: '2024-05-01T12:00:00.000000Z', finishedAt: '2024-05-01T12:30:00.000000Z' },
        ],
      });
      expect((byId.body.history as { run: string; state: string }[]).map((h) => `${h.run}:${h.state}`))
        .toEqual(['cog-1:QUEUED', 'cog-2:CANCELED', 'cog-1:RUNNING', 'cog-1:SUCCESSFUL']);
      const byHash = await call(s.url, 'GET', `/payloads/${byId.body.hash}`, { token: WRITER });
      expect(byHash.body).toEqual(byId.body);
      const encoded = await call(s.url, 'GET', `/payloads/${encodeURIComponent(payloadId)}`, { token: READER });
      expect(encoded.body.payloadId).toBe(payloadId);

      const job = await call(s.url, 'GET', '/jobs/cog-1', { token: READER });
      expect(job.body).toMatchObject({ jobID: 'cog-1', processID: 'cog-archive', type: 'process', status: 'successful', started: '2024-05-01T12:00:00.000000Z' });
      expect(job.body.links[0]).toMatchObject({ rel: 'self', href: expect.stringMatching(/\/jobs\/cog-1$/) });
      const dismissed = await call(s.url, 'GET', '/jobs?status=dismissed', { token: READER });
      expect(dismissed.body.jobs.map((j: { jobID: string }) => j.jobID)).toEqual(['cog-2']);
    });

    it('an INVALID report from ingress is recorded once, as a finished run, under the cirrus id when it has one', async () => {
      const input = JSON.stringify({ type: 'FeatureCollection', features: [{ id: 'x', collection: 'c' }], process: [{ workflow: 'nope' }] });
      const body = { type: 'invalid', source: 'payload-webhook', message: 'no workflow "nope"', input, detail: 'known: cog-archive' };
      const first = await call(s.url, 'POST', '/events', { token: WRITER, body });
      const again = await call(s.url, 'POST', '/events', { token: WRITER, body });
      expect(first).toEqual({ status: 202, body: { accepted: true, run: expect.stringMatching(/^invalid-[0-9a-f]{24}$/) } });
      expect(again).toEqual(first);
      const p = await call(s.url, 'GET', '/payloads/c/workflow-nope/x', { token: READER });
      expect(p.body).toMatchObject({ state: 'INVALID', runs: [{ run: first.body.run, error: 'no workflow "nope"\nknown: cog-archive' }] });
      expect(p.body.runs).toHaveLength(1);
      expect(p.body.history).toEqual([expect.objectContaining({ state: 'INVALID', source: 'ingress:payload-webhook' })]);
      const garbage = await call(s.url, 'POST', '/events', { token: WRITER, body: { type: 'invalid', source: 'sns', message: 'not JSON', input: '{"features": [' } });
      expect(garbage.status).toBe(202);
      const run = await call(s.url, 'GET', `/runs/${garbage.body.run}`, { token: READER });
      expect(run.body).toMatchObject({ payloadId: null, state: 'INVALID', input: '{"features": [', error: 'not JSON' });
    });

    it('a claim without payload id is recorded under the cirrus id of its inline payload, or a hash of its reference', async () => {
      const input = JSON.stringify({ type: 'FeatureCollection', features: [{ id: 'b', collection: 'l2a' }, { id: 'a', collection: 'l1c' }],
        process: [{ workflow: 'publish', collections: ['out'] }] });
      const inline = await call(s.url, 'POST', '/claim', { token: WRITER, body: { payloadId: '', workflow: 'publish', run: 'chain-1', input } });
      expect(inline.body).toEqual({ claimed: true, reason: 'new payload', run: 'chain-1' });
      expect((await call(s.url, 'GET', '/runs/chain-1', { token: READER })).body.payloadId).toBe('out/workflow-publish/a/b');
      const ref = JSON.stringify({ url: 's3://bucket/big.json', process: [{ workflow: 'publish' }] });
      await call(s.url, 'POST', '/claim', { token: WRITER, body: { workflow: 'publish', run: 'chain-2', input: ref } });
      const again = await call(s.url, 'POST', '/claim', { token: WRITER, body: { workflow: 'publish', run: 'chain-3', input: ref } });
      expect(again.body).toEqual({ claimed: false, reason: 'payload is active: run chain-2 is QUEUED', run: 'chain-2' });
      expect((await call(s.url, 'GET', '/runs/chain-2', { token: READER })).body.payloadId).toMatch(/^ref\/workflow-publish\/[0-9a-f]{32}$/);
    });

    it('filters runs by workflow, collection, state and time, pages with a cursor, and counts per state', async () => {
      const before = (await call(s.url, 'GET', '/counts?workflow=landsat', { token: READER })).body.counts;
      expect(Object.values(before).every((v) => v === 0)).toBe(true);
      const phases = ['Succeeded', 'Failed', 'Succeeded', 'Error', 'Succeeded'];
      for (let i = 0; i < 25; i++) {
        const pid = `${i % 2 ? 'landsat-c2l2' : 'sentinel-2-l2a'}/workflow-landsat/item-${i}`;
        await call(s.url, 'POST', '/claim', { token: WRITER, body: { payloadId: pid, workflow: 'landsat', run: `ls-${String(i).padStart(2, '0')}` } });
        await call(s.url, 'POST', '/events', { token: WRITER, body: lifecycle({ type: 'completed', workflow: 'landsat', run: `ls-${String(i).padStart(2, '0')}`, phase: phases[i % 5]!, payloadId: pid }) });
      }
      const seen: string[] = [];
      let cursor: string | null = '';
      let pages = 0;
      while (cursor !== null) {
        const page: { body: { runs: { run: string }[]; next: string | null } } =
          await call(s.url, 'GET', `/runs?workflow=landsat&limit=10${cursor ? `&cursor=${cursor}` : ''}`, { token: READER });
        seen.push(...page.body.runs.map((r) => r.run));
        cursor = page.body.next;
        pages++;
      }
      expect(pages).toBe(3);
      expect(seen).toEqual([...Array(25).keys()].map((i) => `ls-${String(24 - i).padStart(2, '0')}`));

      const failed = await call(s.url, 'GET', '/runs?workflow=landsat&state=FAILED', { token: READER });
      expect(failed.body.runs.map((r: { run: string }) => r.run)).toEqual(['ls-23', 'ls-21', 'ls-18', 'ls-16', 'ls-13', 'ls-11', 'ls-08', 'ls-06', 'ls-03', 'ls-01']);
      const landsatFailed = await call(s.url, 'GET', '/runs?collection=landsat-c2l2&state=FAILED,SUCCESSFUL', { token: READER });
      expect(landsatFailed.body.runs.map((r: { run: string }) => r.run)).toEqual(['ls-23', 'ls-21', 'ls-19', 'ls-17', 'ls-15', 'ls-13', 'ls-11', 'ls-09', 'ls-07', 'ls-05', 'ls-03', 'ls-01']);
      const future = await call(s.url, 'GET', '/runs?workflow=landsat&since=2999-01-01T00:00:00Z', { token: READER });
      expect(future.body).toEqual({ runs: [], next: null });
      const past = await call(s.url, 'GET', '/runs?workflow=landsat&until=2000-01-01T00:00:00Z', { token: READER });
      expect(past.body.runs).toEqual([]);
      const counts = await call(s.url, 'GET', '/counts?workflow=landsat', { token: READER });
      expect(counts.body.counts).toEqual({ PENDING: 0, QUEUED: 0, RUNNING: 0, SUCCESSFUL: 15, FAILED: 10, CANCELED: 0, TIMED_OUT: 0, INVALID: 0 });

      const jobs = await call(s.url, 'GET', '/jobs?processID=landsat&status=failed&limit=4', { token: READER });
      expect(jobs.body.jobs).toHaveLength(4);
      const next = jobs.body.links.find((l: { rel: string }) => l.rel === 'next');
      expect(next.href).toMatch(/^\/jobs\?/); // root-relative: never built from the Host header
      const page2 = await call(s.url, 'GET', next.href, { token: READER });
      expect(page2.body.jobs.map((j: { jobID: string }) => j.jobID)).toEqual(['ls-13', 'ls-11', 'ls-08', 'ls-06']);
    });

    it('treats query values as data, never as SQL', async () => {
      const evil = encodeURIComponent("landsat' OR '1'='1");
      const answer = await call(s.url, 'GET', `/runs?workflow=${evil}`, { token: READER });
      expect(answer).toEqual({ status: 200, body: { runs: [], next: null } });
    });
  });

  it('readyz is 503 until the schema carries every migration of this build', async () => {
    const bare = await createTestDb({ migrate: false });
    const service = await startTestService(bare.db);
    try {
      const early = await call(service.url, 'GET', '/readyz');
      expect(early).toMatchObject({ status: 503, body: { message: expect.stringMatching(/schema is at version 0, this build needs \d+: run the migration/) } });
      await migrate(bare.db);
      expect((await call(service.url, 'GET', '/readyz')).status).toBe(200);
    } finally {
      await service.close();
      await bare.drop();
    }
  });

  it('answers 503 (with Retry-After) when the database is gone, and readyz says not ready', async () => {
    const db = await openDb(); // its own PGlite, closed below: the service loses its database
    const service = await startTestService(db);
    try {
      await db.close();
      const res = await fetch(`${service.url}/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${WRITER}`, 'content-type': 'application/json' },
        body: JSON.stringify(lifecycle({ type: 'running', run: 'x', phase: 'Running' })),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toMatchObject({ error: 'unavailable' });
      expect((await call(service.url, 'GET', '/readyz')).status).toBe(503);
    } finally {
      await service.close();
    }
  });
});
