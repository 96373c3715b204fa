/**
 * The PrometheusRule's alerts, evaluated by the real Prometheus rule engine (promtool, from
 * Debian's prometheus package; .ci/run installs it) over series taken from the real state
 * service's /metrics: the service is driven through healthy traffic, failing runs, a stuck
 * outbox, an applier that stops, a rejected event, a sweep, a lost database and a stopped
 * process, scraped after each; each scrape becomes the value of every series for a stretch
 * of simulated minutes, and each alert is shown to fire where it should and nowhere else.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { ALERTS } from '../../constructs/alert-names';
import { STATE_METRICS_JOB, stateAlertRules } from '../../constructs/state-monitoring';
import type { AlertingRule } from '../../constructs/prometheus';
import { SWOOP_NAMESPACE } from '../../constructs/platform';
import { configFromEnv } from '../../state/config';
import { type RunningStateService, startStateService } from '../../state/service';
import { FakeKubeApi } from '../support/kube-api';
import { HAVE_REFERENCE } from '../support/reference';
import { type Sample, scrape, valueOf } from './exposition';
import { submission } from './submit-support';
import { BACKEND, call, createTestDb, DATABASE_URL, HAVE_POSTGRES, lifecycle, payloadIdOf, READER, type TestDb, until, WRITER } from './support';

const PROMTOOL = spawnSync('promtool', ['--version']).status === 0;
const ROOT = join(__dirname, '..', '..');
const RULES = stateAlertRules();
const TARGET = { job: STATE_METRICS_JOB, namespace: SWOOP_NAMESPACE, instance: '10.0.0.7:9464' };

/** A scrape of the service (its swoop_state_* samples), or null when the scrape failed. */
type Frame = Sample[] | null;

const seriesKey = (name: string, labels: Record<string, string>) =>
  `${name}{${Object.entries({ ...labels, ...TARGET }).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}}`;

/** promtool input series: each frame held for its minutes (one sample a minute); `up` 1 while scrapes answer. */
function inputSeries(timeline: readonly (readonly [Frame, number])[]): { series: string; values: string }[] {
  const minutes = timeline.flatMap(([frame, n]) => Array.from({ length: n }, () => frame));
  const keys = new Set<string>();
  for (const f of minutes) for (const s of f ?? []) keys.add(seriesKey(s.name, s.labels));
  const values = (key: string) => minutes.map((f) => {
    const s = f?.find((x) => seriesKey(x.name, x.labels) === key);
    return s === undefined ? '_' : String(s.value);
  }).join(' ');
  return [
    { series: seriesKey('up', {}), values: minutes.map((f) => (f === null ? '0' : '1')).join(' ') },
    ...[...keys].sort().map((key) => ({ series: key, values: values(key) })),
  ];
}

const ruleOf = (alert: string) => RULES[0]!.rules.find((r) => r.alert === alert)!;

/** An expected firing alert: the rule's labels and its annotations with `$labels.workflow` filled in. */
function firing(alert: string, labels: Record<string, string> = {}) {
  const rule: AlertingRule = ruleOf(alert);
  const annotations = Object.fromEntries(Object.entries(rule.annotations ?? {}).map(([k, v]) => [k, v.replaceAll('{{ $labels.workflow }}', labels.workflow ?? '')]));
  return { exp_labels: { ...rule.labels, ...labels }, exp_annotations: annotations };
}

interface Case {
  readonly name: string;
  readonly timeline: readonly (readonly [Frame, number])[];
  /** at each time (minutes), the alerts expected to fire; every other alert is expected silent */
  readonly expect: Record<number, Partial<Record<string, ReturnType<typeof firing>[]>>>;
}

function promtoolTest(cases: readonly Case[]): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'swoop-alerts-'));
  try {
    writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: RULES }));
    const tests = cases.map((c) => ({
      name: c.name,
      interval: '1m',
      input_series: inputSeries(c.timeline),
      alert_rule_test: Object.entries(c.expect).flatMap(([at, alerts]) => Object.values(ALERTS)
        .filter((a) => RULES[0]!.rules.some((r) => r.alert === a))
        .map((alertname) => ({ eval_time: `${at}m`, alertname, exp_alerts: alerts[alertname] ?? [] }))),
    }));
    writeFileSync(join(dir, 'tests.yaml'), stringify({ rule_files: ['rules.yaml'], evaluation_interval: '1m', tests }));
    const r = spawnSync('promtool', ['test', 'rules', join(dir, 'tests.yaml')], { encoding: 'utf8' });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!PROMTOOL || !HAVE_REFERENCE)(`alert rules over the real exposition (promtool, ${BACKEND})${PROMTOOL ? '' : ' - promtool not installed (apt-get install prometheus); .ci/run installs it'}`, () => {
  let t: TestDb | undefined;
  let svc: RunningStateService;
  let refuse = false;
  let receiver: Server;
  const kube = new FakeKubeApi('kube-token');
  const frames: Record<string, Frame> = {};
  let exposition = '';

  const post = (path: string, body: unknown) => call(svc.url, 'POST', path, { token: WRITER, body });
  const capture = async (name: string) => {
    const m = await scrape(svc.metricsUrl).catch(() => undefined);
    frames[name] = m?.status === 200 ? m.samples.filter((s) => s.name.startsWith('swoop_state_')) : null;
    if (m?.status === 200) exposition = m.text;
    return frames[name];
  };
  const pending = async () => valueOf((await scrape(svc.metricsUrl)).samples, 'swoop_state_outbox_pending');
  // Events are applied in the background: an empty outbox alone can be read before the
  // completions are applied (runs still active), which made "healthy traffic" look stalled.
  const settled = async () => {
    const samples = (await scrape(svc.metricsUrl)).samples;
    return valueOf(samples, 'swoop_state_outbox_pending') === 0 && valueOf(samples, 'swoop_state_runs_active') === 0;
  };
  const run = async (workflow: string, run: string, i: number, end?: 'Succeeded' | 'Failed') => {
    const payloadId = payloadIdOf(i, workflow);
    expect((await post('/claim', { payloadId, workflow, run, input: `s3://b/${run}.json` })).body).toMatchObject({ claimed: true });
    expect((await post('/events', lifecycle({ type: 'running', run, phase: 'Running', workflow, payloadId }))).status).toBe(202);
    if (end) expect((await post('/events', lifecycle({ type: 'completed', run, phase: end, workflow, payloadId, message: end === 'Failed' ? 'boom' : '' }))).status).toBe(202);
  };

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(refuse ? 503 : 200).end('{}'));
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    await kube.start();
    const tokenFile = join(mkdtempSync(join(tmpdir(), 'swoop-kube-')), 'token');
    writeFileSync(tokenFile, 'kube-token\n');
    t = HAVE_POSTGRES ? await createTestDb() : undefined;
    svc = await startStateService({
      ...configFromEnv({ STATE_WRITE_TOKEN: WRITER, STATE_READ_TOKEN: READER, HOST: '127.0.0.1', PORT: '0' }),
      databaseUrl: DATABASE_URL, schema: t?.schema,
      lifecycleUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/lifecycle`,
      stuckRuns: { intervalMs: 3_600_000, graceMs: 0, maxSilenceMs: 60_000 },
      kube: { url: kube.url, tokenFile, namespace: SWOOP_NAMESPACE },
    });

    await capture('fresh');
    for (let i = 1; i <= 5; i++) await run('wf-good', `good-${i}`, i, 'Succeeded');
    await until(settled);
    await capture('healthy');
    await run('wf-bad', 'bad-1', 1, 'Failed');
    await run('wf-bad', 'bad-2', 2, 'Succeeded');
    await until(settled);
    await capture('failing-start');
    for (let i = 3; i <= 6; i++) await run('wf-bad', `bad-${i}`, i, 'Failed');
    await run('wf-bad', 'bad-7', 7, 'Succeeded');
    await until(async () => (await pending()) === 0);
    await capture('failing');
    await run('wf-good', 'long-1', 6);
    await capture('active');
    // The webhook refuses; the finished run's notification waits, and has waited 20 minutes.
    refuse = true;
    expect((await post('/events', lifecycle({ type: 'completed', run: 'long-1', phase: 'Succeeded', workflow: 'wf-good', payloadId: payloadIdOf(6, 'wf-good') }))).status).toBe(202);
    await until(async () => valueOf((await scrape(svc.metricsUrl)).samples, 'swoop_state_outbox_deliveries_total', { outcome: 'failed' })! > 0);
    await svc.db.query(`UPDATE outbox SET created_at = now() - interval '20 minutes' WHERE delivered_at IS NULL`);
    await capture('outbox-stuck');
    refuse = false;
    await until(async () => (await pending()) === 0);
    await capture('outbox-drained');
    // Every applier stops; events accepted two minutes ago wait.
    await svc.applier.stop();
    for (let i = 1; i <= 2; i++) {
      for (const [type, phase] of [['running', 'Running'], ['completed', 'Succeeded']] as const) {
        expect((await post('/events', lifecycle({ type, run: `lag-${i}`, phase, workflow: 'wf-good' }))).status).toBe(202);
      }
    }
    await svc.db.query(`UPDATE event_journal SET accepted_at = now() - interval '2 minutes'`);
    await capture('lagging');
    svc.applier.start();
    await until(async () => valueOf((await scrape(svc.metricsUrl)).samples, 'swoop_state_journal_pending') === 0);
    await capture('caught-up');
    await svc.db.query(`INSERT INTO event_journal_rejects (id, event, accepted_at, error) VALUES (-1, '{}', now(), 'XX000: test')`);
    await capture('rejected');
    // A run that never reports its end, ended by the sweeper.
    expect((await post('/events', lifecycle({ type: 'running', run: 'lost-1', phase: 'Running', workflow: 'wf-good' }))).status).toBe(202);
    expect((await svc.sweeper!.sweep(new Date(Date.now() + 2 * 86_400_000))).map((r) => [r.run, r.workflow])).toEqual([['lost-1', 'wf-good']]);
    await capture('swept');
    // Submissions (POST /submit): one created; then the Kubernetes API answers 503 to four
    // tries of another, which the fifth creates; then one is refused for good (422). Other
    // runs keep reporting meanwhile, as they would.
    const submit = async (name: string, item: string, status: number) =>
      expect((await post('/submit', submission('wf-sub', name, item))).status).toBe(status);
    await submit('wf-sub-0000000000000001', 'sub-1', 201);
    await run('wf-good', 'flow-0', 20, 'Succeeded');
    await capture('submit-ok');
    for (let i = 1; i <= 4; i++) {
      kube.failNext(1, 503);
      await submit('wf-sub-0000000000000002', 'sub-2', 503);
      await run('wf-good', `flow-${i}`, 20 + i, 'Succeeded');
      await capture(`submit-unavailable-${i}`);
    }
    await submit('wf-sub-0000000000000002', 'sub-2', 201);
    await run('wf-good', 'flow-5', 25, 'Succeeded');
    await capture('submit-recovered');
    kube.failNext(1, 422, 'Invalid');
    await submit('wf-sub-0000000000000003', 'sub-3', 502);
    await run('wf-good', 'flow-6', 26, 'Succeeded');
    await capture('submit-failed');
    // The database goes away under the running service, then the process stops.
    await svc.applier.stop();
    await svc.db.close();
    await capture('database-lost');
    await svc.close().catch(() => undefined);
    await capture('stopped');
  });
  afterAll(async () => {
    await new Promise((r) => receiver.close(r));
    await kube.stop();
    await t?.drop();
  });

  it('captured what each scenario needs from the real exposition', () => {
    const v = (frame: string, name: string, labels?: Record<string, string>) => valueOf(frames[frame]!, name, labels);
    expect(v('active', 'swoop_state_runs_active')).toBe(1);
    expect(v('outbox-stuck', 'swoop_state_outbox_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(1200);
    expect(v('lagging', 'swoop_state_journal_oldest_age_seconds')).toBeGreaterThanOrEqual(120);
    expect(v('database-lost', 'swoop_state_database_up')).toBe(0);
    expect(frames.stopped).toBeNull();
    expect(v('submit-unavailable-4', 'swoop_state_submissions_total', { workflow: 'wf-sub', outcome: 'unavailable' })).toBe(4);
    expect(v('submit-failed', 'swoop_state_submissions_total', { workflow: 'wf-sub', outcome: 'failed' })).toBe(1);
    expect(kube.invalid).toEqual([]);
  });

  it('every metric the rules read is in the exposition, which promtool accepts', () => {
    const read = new Set(RULES[0]!.rules.flatMap((r) => [...r.expr.matchAll(/\b(swoop_state_[a-z_]+)\b/g)].map((m) => m[1]!)));
    const exposed = new Set(exposition.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]!.replace(/_total$/, '')));
    for (const name of read) expect(exposed.has(name.replace(/_total$/, '')), name).toBe(true);
    // promtool's lint of the service's own families (prom-client's process metrics are its own business)
    const own = exposition.split('\n').filter((l) => / swoop_state_|^swoop_state_/.test(l)).join('\n');
    expect(own).toContain('# TYPE swoop_state_lifecycle_events_total counter');
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: `${own}\n`, encoding: 'utf8' });
    expect(`${lint.stdout}${lint.stderr}`).toBe('');
    expect(lint.status).toBe(0);
  });

  it('the rules are those of the PrometheusRule in dist/, and promtool checks them', () => {
    for (const stack of ['dev', 'prod']) {
      const docs = parseAllDocuments(readFileSync(join(ROOT, 'dist', stack, 'state-monitoring.yaml'), 'utf8')).map((d) => d.toJS());
      expect(docs.find((d) => d.kind === 'PrometheusRule').spec.groups).toEqual(JSON.parse(JSON.stringify(RULES)));
    }
    const dir = mkdtempSync(join(tmpdir(), 'swoop-rules-'));
    try {
      writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: RULES }));
      const r = spawnSync('promtool', ['check', 'rules', join(dir, 'rules.yaml')], { encoding: 'utf8' });
      expect(r.stdout).toContain(`SUCCESS: ${RULES[0]!.rules.length} rules found`);
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // promtool evaluates every series at every minute: tens of seconds on a loaded machine (a
  // ceiling against a hang, not a speed target).
  const PROMTOOL_TIMEOUT = 180_000;

  it('each alert fires in its scenario and stays silent elsewhere', () => {
    const f = frames;
    const rejects = { [ALERTS.journalRejects]: [firing(ALERTS.journalRejects)] };
    const cases: Case[] = [
      { name: 'healthy traffic', timeline: [[f.fresh!, 5], [f.healthy!, 70]], expect: { 10: {}, 40: {}, 70: {} } },
      {
        name: 'a workflow failing',
        timeline: [[f['failing-start']!, 5], [f.failing!, 30]],
        expect: { 4: {}, 12: {}, 20: { [ALERTS.workflowFailureRate]: [firing(ALERTS.workflowFailureRate, { workflow: 'wf-bad' })] } },
      },
      {
        name: 'runs active, no events',
        timeline: [[f.failing!, 5], [f.active!, 80]],
        expect: { 30: {}, 64: {}, 75: { [ALERTS.noEvents]: [firing(ALERTS.noEvents)] } },
      },
      {
        name: 'outbox stuck, then drained',
        timeline: [[f.active!, 5], [f['outbox-stuck']!, 15], [f['outbox-drained']!, 10]],
        expect: { 8: {}, 15: { [ALERTS.outboxStuck]: [firing(ALERTS.outboxStuck)] }, 26: {} },
      },
      {
        name: 'applier stopped, then caught up',
        timeline: [[f['outbox-drained']!, 5], [f.lagging!, 15], [f['caught-up']!, 10]],
        expect: { 8: {}, 15: { [ALERTS.applyLag]: [firing(ALERTS.applyLag)] }, 26: {} },
      },
      {
        name: 'a rejected event',
        timeline: [[f['caught-up']!, 5], [f.rejected!, 5]],
        expect: { 3: {}, 6: { [ALERTS.journalRejects]: [firing(ALERTS.journalRejects)] } },
      },
      {
        name: 'runs swept',
        timeline: [[f.rejected!, 5], [f.swept!, 20]],
        expect: {
          3: { [ALERTS.journalRejects]: [firing(ALERTS.journalRejects)] },
          10: { [ALERTS.journalRejects]: [firing(ALERTS.journalRejects)], [ALERTS.runsSwept]: [firing(ALERTS.runsSwept, { workflow: 'wf-good' })] },
        },
      },
      {
        name: 'database lost',
        // the database gauges read NaN: the rejects alert of the frame before goes quiet too
        timeline: [[f.swept!, 5], [f['database-lost']!, 15]],
        expect: { 3: rejects, 15: { [ALERTS.serviceNotReady]: [firing(ALERTS.serviceNotReady)] } },
      },
      {
        name: 'every replica stopped',
        timeline: [[f.swept!, 5], [f.stopped!, 15]],
        expect: { 3: rejects, 8: rejects, 15: { [ALERTS.serviceNotReady]: [firing(ALERTS.serviceNotReady)] } },
      },
    ];
    const result = promtoolTest(cases);
    expect(result.out).toContain('SUCCESS');
    expect(result.status, result.out).toBe(0);
    // and the harness can fail: an alert expected where it cannot fire
    const wrong = promtoolTest([{ ...cases[0]!, expect: { 40: { [ALERTS.outboxStuck]: [firing(ALERTS.outboxStuck)] } } }]);
    expect(wrong.status).not.toBe(0);
    expect(wrong.out).toContain(`alertname: ${ALERTS.outboxStuck}`);
  }, PROMTOOL_TIMEOUT);

  it('the submissions alert fires when Workflows cannot be created for 10 minutes, or one is refused for good; only pending before', () => {
    const f = frames;
    const rejects = { [ALERTS.journalRejects]: [firing(ALERTS.journalRejects)] };
    const cases: Case[] = [
      {
        name: 'submissions unavailable for 16 minutes, then created',
        timeline: [[f['submit-ok']!, 5], [f['submit-unavailable-1']!, 4], [f['submit-unavailable-2']!, 4], [f['submit-unavailable-3']!, 4], [f['submit-unavailable-4']!, 4], [f['submit-recovered']!, 15]],
        expect: { 3: rejects, 10: rejects, 18: { ...rejects, [ALERTS.submissionsFailing]: [firing(ALERTS.submissionsFailing, { workflow: 'wf-sub' })] }, 32: rejects },
      },
      {
        name: 'a submission refused for good',
        timeline: [[f['submit-recovered']!, 5], [f['submit-failed']!, 25]],
        expect: { 3: rejects, 10: rejects, 17: { ...rejects, [ALERTS.submissionsFailing]: [firing(ALERTS.submissionsFailing, { workflow: 'wf-sub' })] }, 28: rejects },
      },
    ];
    const result = promtoolTest(cases);
    expect(result.out).toContain('SUCCESS');
    expect(result.status, result.out).toBe(0);
  }, PROMTOOL_TIMEOUT);
});
