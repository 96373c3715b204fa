import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../state/config';
import { openDb } from '../../state/db';
import { claimReasonKind, METRICS_DEFAULT_PORT, OTHER_WORKFLOW, StateMetrics, sweepReasonKind, UNMATCHED_ROUTE } from '../../state/metrics';
import { migrate } from '../../state/migrate';
import { type RunningStateService, startStateService } from '../../state/service';
import { HAVE_REFERENCE } from '../support/reference';
import { startWithKube, submission } from './submit-support';
import { parseExposition, scrape, valueOf } from './exposition';
import { BACKEND, call, createTestDb, DATABASE_URL, HAVE_POSTGRES, lifecycle, payloadIdOf, READER, type TestDb, until, webhookReceiver, WRITER } from './support';

const M = 'swoop_state_';

describe(`/metrics of the running state service (${BACKEND})`, () => {
  let t: TestDb | undefined;
  let svc: RunningStateService;
  let rx: Awaited<ReturnType<typeof webhookReceiver>>;

  beforeAll(async () => {
    t = HAVE_POSTGRES ? await createTestDb() : undefined;
    rx = await webhookReceiver(1_000); // refuses every delivery: the outbox stays pending
    svc = await startStateService({
      ...configFromEnv({ STATE_WRITE_TOKEN: WRITER, STATE_READ_TOKEN: READER, HOST: '127.0.0.1', PORT: '0' }),
      databaseUrl: DATABASE_URL, schema: t?.schema, lifecycleUrl: rx.url,
      stuckRuns: { intervalMs: 3_600_000, graceMs: 0, maxSilenceMs: 60_000 },
    });
  });
  afterAll(async () => {
    await svc.close();
    await rx.close();
    await t?.drop();
  });

  const post = (path: string, body: unknown) => call(svc.url, 'POST', path, { token: WRITER, body });
  const claim = (i: number, run: string, workflow = 'wf-a') => post('/claim', { payloadId: payloadIdOf(i, workflow), workflow, run, input: `s3://b/${run}.json` });
  const event = (type: 'running' | 'completed', run: string, phase: string, i: number, workflow = 'wf-a') =>
    post('/events', lifecycle({ type, run, phase, workflow, payloadId: payloadIdOf(i, workflow), message: phase === 'Failed' ? 'boom' : '' }));

  it('serves the exposition on its own port without a token, and nothing else there', async () => {
    const m = await scrape(svc.metricsUrl);
    expect(m.status).toBe(200);
    expect(m.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(valueOf(m.samples, `${M}database_up`)).toBe(1);
    expect(valueOf(m.samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect((await fetch(`${svc.metricsUrl}/runs`)).status).toBe(404);
    expect((await fetch(`${svc.metricsUrl}/metrics`, { method: 'POST' })).status).toBe(404);
    // and the API port does not serve it
    expect((await call(svc.url, 'GET', '/metrics', { token: READER })).status).toBe(404);
  });

  it('counts events by workflow and reported state, claims by outcome, and times requests by route template', async () => {
    expect((await claim(1, 'a-ok')).body).toMatchObject({ claimed: true });
    expect((await claim(1, 'a-dup')).body).toMatchObject({ claimed: false });
    expect((await claim(2, 'a-fail')).body).toMatchObject({ claimed: true });
    expect((await claim(3, 'b-1', 'wf-b')).body).toMatchObject({ claimed: true });
    for (const [run, i] of [['a-ok', 1], ['a-fail', 2]] as const) expect((await event('running', run, 'Running', i)).status).toBe(202);
    expect((await event('completed', 'a-ok', 'Succeeded', 1)).status).toBe(202);
    expect((await event('completed', 'a-fail', 'Failed', 2)).status).toBe(202);
    expect((await event('running', 'b-1', 'Running', 3, 'wf-b')).status).toBe(202);
    expect((await post('/events', { type: 'invalid', source: 'webhook', message: 'no workflow', input: '{}', workflow: 'nope' })).status).toBe(202);
    expect((await call(svc.url, 'GET', '/runs/a-ok', { token: READER })).status).toBe(200);
    expect((await call(svc.url, 'GET', '/runs/a-fail', { token: READER })).status).toBe(200);
    expect((await call(svc.url, 'GET', '/no/such/path', { token: READER })).status).toBe(404);
    expect((await post('/events', { type: 'running' })).status).toBe(400);

    const { samples, text } = await scrape(svc.metricsUrl);
    const events = (workflow: string, state: string) => valueOf(samples, `${M}lifecycle_events_total`, { workflow, state });
    expect([events('wf-a', 'RUNNING'), events('wf-a', 'SUCCESSFUL'), events('wf-a', 'FAILED'), events('wf-b', 'RUNNING'), events('nope', 'INVALID')])
      .toEqual([2, 1, 1, 1, 1]);
    expect(events('wf-b', 'SUCCESSFUL')).toBe(0);
    const claims = (workflow: string, outcome: string, reason: string) => valueOf(samples, `${M}claims_total`, { workflow, outcome, reason });
    expect([claims('wf-a', 'claimed', 'new'), claims('wf-a', 'refused', 'active'), claims('wf-b', 'claimed', 'new')]).toEqual([2, 1, 1]);

    const count = (route: string, status: string, method = 'GET') =>
      valueOf(samples, `${M}http_request_duration_seconds_count`, { method, route, status });
    expect(count('/runs/:run', '200')).toBe(2);
    expect(count('/claim', '200', 'POST')).toBe(4);
    expect(count('/events', '202', 'POST')).toBe(6);
    expect(count('/events', '400', 'POST')).toBe(1);
    expect(count(UNMATCHED_ROUTE, '404')).toBe(2); // and GET /metrics on the API port, above
    // bounded labels: no run name, payload id or raw path reaches the exposition
    for (const raw of ['a-ok', 'a-fail', payloadIdOf(1, 'wf-a'), '/no/such/path']) expect(text).not.toContain(raw);
    const routes = new Set(samples.filter((s) => s.name.startsWith(`${M}http_`)).map((s) => s.labels.route));
    expect([...routes].sort()).toEqual(['/claim', '/events', '/runs/:run', UNMATCHED_ROUTE]);
  });

  it('reads the journal backlog and its age, the rejects and the active runs from the database on each scrape', async () => {
    await until(async () => valueOf((await scrape(svc.metricsUrl)).samples, `${M}journal_pending`) === 0);
    const before = (await scrape(svc.metricsUrl)).samples;
    expect(valueOf(before, `${M}journal_oldest_age_seconds`)).toBe(0);
    // the background applier's count (reads and claims may have applied these events first: no exact value)
    expect(valueOf(before, `${M}journal_applied_total`)).toBeTypeOf('number');
    expect(valueOf(before, `${M}runs_active`)).toBe(1); // b-1 RUNNING; a-ok, a-fail finished, a-dup refused, the INVALID report final
    await svc.applier.stop();
    // Three events accepted an hour ago that no applier took (as if every applier were stuck).
    await svc.db.query(`INSERT INTO event_journal (event, accepted_at)
      SELECT jsonb_build_object('run', 'lag-' || n, 'workflow', 'wf-a', 'state', 'RUNNING', 'source', 'running'), now() - interval '1 hour'
      FROM generate_series(1, 3) n`);
    await svc.db.query(`INSERT INTO event_journal_rejects (id, event, accepted_at, error) VALUES (-1, '{}', now(), 'XX000: test')`);
    const lagging = (await scrape(svc.metricsUrl)).samples;
    expect(valueOf(lagging, `${M}journal_pending`)).toBe(3);
    expect(valueOf(lagging, `${M}journal_oldest_age_seconds`)).toBeGreaterThanOrEqual(3600);
    expect(valueOf(lagging, `${M}journal_oldest_age_seconds`)).toBeLessThan(3700);
    expect(valueOf(lagging, `${M}journal_rejected`)).toBe(1);
    // a read catches up (state/journal.ts): the backlog is gone at the next scrape
    await call(svc.url, 'GET', '/runs/lag-1', { token: READER });
    const caught = (await scrape(svc.metricsUrl)).samples;
    expect(valueOf(caught, `${M}journal_pending`)).toBe(0);
    expect(valueOf(caught, `${M}journal_oldest_age_seconds`)).toBe(0);
    expect(valueOf(caught, `${M}runs_active`)).toBe(4);
    svc.applier.start();
  });

  it('reports undelivered notifications, their age and dead letters, and counts delivery attempts', async () => {
    await until(async () => rx.refused.length >= 3);
    const m = (await scrape(svc.metricsUrl)).samples;
    expect(valueOf(m, `${M}outbox_pending`)).toBe(3); // a-ok, a-fail and the INVALID report finished; the receiver refuses them
    expect(valueOf(m, `${M}outbox_oldest_pending_age_seconds`)).toBeGreaterThan(0);
    expect(valueOf(m, `${M}outbox_dead_letters`)).toBe(0);
    expect(valueOf(m, `${M}outbox_deliveries_total`, { outcome: 'failed' })).toBeGreaterThanOrEqual(3);
    expect(valueOf(m, `${M}outbox_deliveries_total`, { outcome: 'delivered' })).toBe(0);
    await svc.db.query(`UPDATE outbox SET attempts = 10, created_at = now() - interval '2 hours' WHERE run = 'a-fail'`);
    const dead = (await scrape(svc.metricsUrl)).samples;
    expect(valueOf(dead, `${M}outbox_dead_letters`)).toBe(1);
    expect(valueOf(dead, `${M}outbox_oldest_pending_age_seconds`)).toBeGreaterThanOrEqual(7200);
  });

  it('counts the runs the sweeper ended, by workflow and reason', async () => {
    const ended = await svc.sweeper!.sweep(new Date(Date.now() + 2 * 86_400_000));
    expect(ended.map((r) => [r.run, r.workflow]).sort()).toEqual([['b-1', 'wf-b'], ['lag-1', 'wf-a'], ['lag-2', 'wf-a'], ['lag-3', 'wf-a']]);
    const m = (await scrape(svc.metricsUrl)).samples;
    expect(valueOf(m, `${M}sweeper_runs_ended_total`, { workflow: 'wf-a', reason: 'silence' })).toBe(3);
    expect(valueOf(m, `${M}sweeper_runs_ended_total`, { workflow: 'wf-b', reason: 'silence' })).toBe(1);
    expect(valueOf(m, `${M}runs_active`)).toBe(0);
  });
});

describe.skipIf(!HAVE_REFERENCE)(`submissions (POST /submit) in /metrics (${BACKEND}, loopback Kubernetes API)`, () => {
  let t: TestDb | undefined;
  let p: Awaited<ReturnType<typeof startWithKube>>;
  beforeAll(async () => {
    t = HAVE_POSTGRES ? await createTestDb() : undefined;
    p = await startWithKube(t?.schema);
  });
  afterAll(async () => {
    await p?.stop();
    await t?.drop();
  });
  const submit = (body: unknown) => call(p.svc.url, 'POST', '/submit', { token: WRITER, body });

  it('counts each outcome by workflow: created, duplicate, refused, unavailable (503) and failed (502, run recorded FAILED)', async () => {
    expect((await submit(submission('wf-s', 'wf-s-0000000000000001', 'i1'))).status).toBe(201);
    expect((await submit(submission('wf-s', 'wf-s-0000000000000001', 'i1'))).status).toBe(200); // the same delivery again: AlreadyExists
    expect((await submit(submission('wf-s', 'wf-s-0000000000000002', 'i1'))).body).toMatchObject({ created: false, claimed: false }); // i1 is active
    p.kube.failNext(2, 503);
    expect((await submit(submission('wf-s', 'wf-s-0000000000000003', 'i3'))).status).toBe(503);
    expect((await submit(submission('wf-s', 'wf-s-0000000000000003', 'i3'))).status).toBe(503);
    expect((await submit(submission('wf-s', 'wf-s-0000000000000003', 'i3'))).status).toBe(201); // the trigger's retry
    p.kube.failNext(1, 422, 'Invalid');
    expect((await submit(submission('wf-t', 'wf-t-0000000000000001', 'i4'))).status).toBe(502);
    expect((await call(p.svc.url, 'GET', '/runs/wf-t-0000000000000001', { token: READER })).body).toMatchObject({ state: 'FAILED' });
    expect((await submit({ workflow: 'wf-s' })).status).toBe(400); // bad input is not a submission

    const { samples, text } = await scrape(p.svc.metricsUrl);
    const n = (workflow: string, outcome: string) => valueOf(samples, `${M}submissions_total`, { workflow, outcome });
    expect(['created', 'duplicate', 'refused', 'unavailable', 'failed'].map((o) => n('wf-s', o))).toEqual([2, 1, 1, 2, 0]);
    expect(['created', 'duplicate', 'refused', 'unavailable', 'failed'].map((o) => n('wf-t', o))).toEqual([0, 0, 0, 0, 1]);
    expect(text).not.toContain('wf-s-0000000000000001');
    expect(p.kube.invalid).toEqual([]);
  });
});

describe(`StateMetrics alone (${BACKEND})`, () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb();
  });
  afterAll(async () => t.drop());

  it('keeps at most maxWorkflows workflow label values; the rest count as _other', async () => {
    const metrics = new StateMetrics({ db: t.db, maxWorkflows: 2, processMetrics: false });
    for (const w of ['w1', 'w2', 'w3', 'w4', 'w1']) metrics.eventAccepted(w, 'RUNNING');
    metrics.claimAnswered('w5', { claimed: true, reason: 'new payload' });
    const samples = parseExposition(await metrics.exposition());
    const byWorkflow = Object.fromEntries(samples.filter((s) => s.name === `${M}lifecycle_events_total` && s.labels.state === 'RUNNING').map((s) => [s.labels.workflow, s.value]));
    expect(byWorkflow).toEqual({ w1: 2, w2: 1, [OTHER_WORKFLOW]: 2 });
    expect(new Set(samples.filter((s) => s.name.startsWith(M)).map((s) => s.labels.workflow))).toEqual(new Set([undefined, 'w1', 'w2', OTHER_WORKFLOW]));
    expect(valueOf(samples, `${M}claims_total`, { workflow: OTHER_WORKFLOW, outcome: 'claimed', reason: 'new' })).toBe(1);
    // every series of a workflow exists from its first sight, at 0 until counted (increase() skips a series' first sample)
    expect(valueOf(samples, `${M}lifecycle_events_total`, { workflow: 'w1', state: 'FAILED' })).toBe(0);
    expect(valueOf(samples, `${M}claims_total`, { workflow: 'w2', outcome: 'refused', reason: 'active' })).toBe(0);
    expect(valueOf(samples, `${M}sweeper_runs_ended_total`, { workflow: 'w1', reason: 'deadline' })).toBe(0);
    expect(valueOf(samples, `${M}submissions_total`, { workflow: 'w2', outcome: 'unavailable' })).toBe(0);
    expect(samples.some((s) => s.name.startsWith('process_'))).toBe(false);
  });

  it('bounds each database count by scanLimit', async () => {
    await t.db.query(`INSERT INTO event_journal (event) SELECT jsonb_build_object('run', 'r' || n) FROM generate_series(1, 5) n`);
    const samples = parseExposition(await new StateMetrics({ db: t.db, scanLimit: 3, processMetrics: false }).exposition());
    expect(valueOf(samples, `${M}journal_pending`)).toBe(3);
    expect(valueOf(parseExposition(await new StateMetrics({ db: t.db, processMetrics: false }).exposition()), `${M}journal_pending`)).toBe(5);
  });

  it('reports the database down, not an error, when its queries fail', async () => {
    const db = await openDb({ url: DATABASE_URL, schema: t.schema });
    if (db.kind === 'pglite') await migrate(db);
    const metrics = new StateMetrics({ db, processMetrics: false });
    expect(valueOf(parseExposition(await metrics.exposition()), `${M}database_up`)).toBe(1);
    await db.close();
    const down = parseExposition(await metrics.exposition());
    expect(valueOf(down, `${M}database_up`)).toBe(0);
    // the database gauges read NaN (unknown), not their last values
    expect(valueOf(down, `${M}outbox_pending`)).toBeNaN();
    expect(valueOf(down, `${M}journal_oldest_age_seconds`)).toBeNaN();
  });

  it('names claim and sweep reasons by kind', () => {
    expect(['new payload', 'retry after run r FAILED', 'replace: supersedes run r (RUNNING)'].map((reason) => claimReasonKind({ claimed: true, reason })))
      .toEqual(['new', 'retry', 'replace']);
    expect(['payload is active: run r is RUNNING', 'payload already succeeded: run r', 'run r belongs to payload p', 'run r already finished FAILED']
      .map((reason) => claimReasonKind({ claimed: false, reason }))).toEqual(['active', 'succeeded', 'mismatch', 'mismatch']);
    expect(sweepReasonKind('no completion was reported by the deadline 2024-05-01T13:00:00Z (plus 00:10:00 grace): ...')).toBe('deadline');
    expect(sweepReasonKind('no completion was reported and the run has no deadline; ...')).toBe('silence');
  });

  it('refuses bad settings with the setting named', () => {
    expect(() => new StateMetrics({ db: t.db, scanLimit: 0 })).toThrow('StateMetrics: scanLimit must be a positive integer (got 0)');
    expect(() => new StateMetrics({ db: t.db, maxWorkflows: 1.5 })).toThrow('maxWorkflows');
  });
});

describe('METRICS_PORT', () => {
  const base = { STATE_WRITE_TOKEN: 'w', STATE_READ_TOKEN: 'r' };
  it('defaults to 9464, or any free port when PORT is 0', () => {
    expect(configFromEnv(base).metricsPort).toBe(METRICS_DEFAULT_PORT);
    expect(configFromEnv({ ...base, PORT: '0' }).metricsPort).toBe(0);
    expect(configFromEnv({ ...base, METRICS_PORT: '9100' }).metricsPort).toBe(9100);
  });
  it.each([['x'], ['70000'], ['8080']])('refuses %s', (port) => {
    expect(() => configFromEnv({ ...base, METRICS_PORT: port })).toThrow(`METRICS_PORT must be an integer from 0 to 65535 other than PORT (got "${port}")`);
  });
});
