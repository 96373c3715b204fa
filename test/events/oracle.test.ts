/**
 * The simulator held against the real thing: tools/argo-events-oracle is a Go program that
 * evaluates the synthesized sensors with the libraries Argo Events v1.9 uses (gjson,
 * govaluate, sprig, text/template, encoding/json, net/http header canonicalization), built here
 * from Debian's packages. Over a generated corpus of raw deliveries, the event data each event
 * source publishes, every dependency's filter outcome and every trigger parameter's resolved
 * value and type must be identical on both sides.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CallbackParameter, CallbackTarget } from '../../constructs/events';
import { eventText, filterEvent, resolveParamValue, sqsMessage, webhookRequest, type SimulatedEvent } from '../../tools/simulator';
import { eventsFixture, type Doc } from './fixture';
import { generateCorpus, type RawDelivery } from './oracle/corpus';

const GOPATH = '/usr/share/gocode';
const LIBRARIES = ['github.com/tidwall/gjson', 'github.com/Masterminds/sprig', 'github.com/Knetic/govaluate'];
const SOURCE = join(__dirname, '..', '..', 'tools', 'argo-events-oracle', 'main.go');
const HAVE_GO = spawnSync('go', ['version']).status === 0 && LIBRARIES.every((lib) => existsSync(join(GOPATH, 'src', lib)));
const MISSING_GO =
  'needs Go and the libraries Argo Events uses: apt-get install golang-go golang-github-tidwall-gjson-dev ' +
  'golang-github-masterminds-sprig-dev golang-github-knetic-govaluate-dev (.ci/run installs them)';
if (!HAVE_GO && process.env.CI) throw new Error(MISSING_GO);

const CORPUS_SIZE = 1500;

interface OracleEvent {
  data: string | null;
  dropped?: string;
  dependencies: { sensor: string; dependency: string; pass: boolean; error?: string }[];
  parameters: { sensor: string; trigger: string; where: string; index: number; value: string | null; type: string; error?: string }[];
}

/** Builds the oracle once per source version (GOPATH mode against Debian's library packages). */
function buildOracle(): string {
  const hash = createHash('sha256').update(readFileSync(SOURCE)).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), 'swoop-argo-events-oracle');
  const binary = join(dir, `oracle-${hash}`);
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  const built = spawnSync('go', ['build', '-o', binary, SOURCE], {
    encoding: 'utf8',
    env: { ...process.env, GO111MODULE: 'off', GOPATH, GOCACHE: join(dir, 'cache'), GOFLAGS: '' },
  });
  if (built.status !== 0) throw new Error(`go build of the oracle failed:\n${built.stderr}`);
  return binary;
}

function runOracle(binary: string, sensors: Doc[], deliveries: readonly RawDelivery[]): OracleEvent[] {
  const run = spawnSync(binary, [], { input: JSON.stringify({ sensors, events: deliveries }), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`the oracle failed: ${run.stderr}`);
  return run.stdout.trim().split('\n').map((line) => JSON.parse(line) as OracleEvent);
}

/** What the simulator makes of one delivery, in the oracle's shape. */
function simulate(sensors: Doc[], d: RawDelivery): OracleEvent {
  let event: SimulatedEvent;
  try {
    event = d.kind === 'webhook' ? webhookRequest(d.eventSourceName, d.eventName, d.body, d.headers) : sqsMessage(d.eventSourceName, d.eventName, d.body, d.messageId);
  } catch (e) {
    return { data: null, dropped: (e as Error).message, dependencies: [], parameters: [] };
  }
  const out: OracleEvent = { data: eventText(event), dependencies: [], parameters: [] };
  for (const sensor of sensors) {
    const passed = new Set<string>();
    for (const dep of sensor.spec.dependencies as Doc[]) {
      if (dep.eventSourceName !== d.eventSourceName || dep.eventName !== d.eventName) continue;
      const outcome = filterEvent(dep, event);
      const pass = outcome.pass && outcome.errors.length === 0;
      out.dependencies.push({ sensor: sensor.metadata.name, dependency: dep.name, pass, ...(outcome.errors.length ? { error: outcome.errors.join('; ') } : {}) });
      if (pass) passed.add(dep.name);
    }
    for (const trigger of sensor.spec.triggers as Doc[]) {
      const t = trigger.template;
      const lists: [string, Doc[] | undefined][] = [
        ['trigger', trigger.parameters], ['k8s', t.k8s?.parameters], ['argoWorkflow', t.argoWorkflow?.parameters],
        ['http.payload', t.http?.payload], ['http.dynamicHeaders', t.http?.dynamicHeaders], ['http.parameters', t.http?.parameters],
      ];
      for (const [where, params] of lists) {
        (params ?? []).forEach((p, index) => {
          if (!passed.has(p.src.dependencyName)) return;
          const base = { sensor: sensor.metadata.name, trigger: t.name, where, index };
          try {
            const r = resolveParamValue(p.src, { [p.src.dependencyName]: event })!;
            out.parameters.push({ ...base, value: r.value, type: r.type });
          } catch (e) {
            out.parameters.push({ ...base, value: null, type: '', error: (e as Error).message });
          }
        });
      }
    }
  }
  return out;
}

/** The parts both sides must agree on exactly (error texts differ between the engines; that there is one must not). */
function comparable(e: OracleEvent) {
  return {
    data: e.data,
    dropped: e.dropped !== undefined,
    dependencies: e.dependencies.map((d) => `${d.sensor}/${d.dependency}: ${d.pass ? 'pass' : 'no'}${d.error ? ' (error)' : ''}`),
    parameters: e.parameters.map((p) => `${p.sensor}/${p.trigger}/${p.where}[${p.index}] = ${p.error ? 'ERROR' : `${p.type} ${JSON.stringify(p.value)}`}`),
  };
}

/** The delivery and only what differs, so a failure reads as a list of disagreements. */
function describeMismatch(delivery: RawDelivery, want: ReturnType<typeof comparable>, got: ReturnType<typeof comparable>): string {
  const lines = [`${delivery.label}: ${JSON.stringify(delivery.body).slice(0, 400)}`];
  if (want.data !== got.data || want.dropped !== got.dropped) lines.push(`  data  go:  ${want.dropped ? 'dropped' : want.data}`, `        sim: ${got.dropped ? 'dropped' : got.data}`);
  for (const key of ['dependencies', 'parameters'] as const) {
    for (const line of want[key]) if (!got[key].includes(line)) lines.push(`  go only:  ${line}`);
    for (const line of got[key]) if (!want[key].includes(line)) lines.push(`  sim only: ${line}`);
  }
  return lines.join('\n');
}

describe.skipIf(!HAVE_GO)(`the simulator agrees with Argo Events' own libraries${HAVE_GO ? '' : ` - ${MISSING_GO}`}`, () => {
  const { docs, workflows } = eventsFixture({
    callbacks: (events, wf) => {
      events.addCallback('stac-api', {
        workflow: wf.publish,
        when: ['successful', 'failed'],
        parameters: { run: CallbackParameter.run('name'), state: CallbackParameter.run('state'), item: CallbackParameter.input('features.0.id'), output: CallbackParameter.output() },
        target: CallbackTarget.http({ url: 'https://stac.example.org/hooks', auth: { secret: { name: 'stac-api', key: 'authorization' } } }),
      });
      events.addCallback('notify-failure', {
        workflow: wf.cog,
        when: ['!successful'],
        parameters: { input: CallbackParameter.input(), state: CallbackParameter.run('state') },
        target: CallbackTarget.workflow(wf.notify),
      });
    },
  });
  const sensors = docs.filter((d) => d.kind === 'Sensor');
  const corpus = generateCorpus({ workflows: Object.values(workflows).map((w) => w.templateName), count: CORPUS_SIZE });
  let oracle: OracleEvent[];

  beforeAll(() => {
    oracle = runOracle(buildOracle(), sensors, corpus);
  }, 300_000);

  it(`evaluates ${CORPUS_SIZE} generated deliveries, which exercise every sensor, pass and fail filters and resolve parameters`, () => {
    expect(oracle).toHaveLength(CORPUS_SIZE);
    const fired = new Set(oracle.flatMap((e) => e.dependencies.filter((d) => d.pass).map((d) => d.sensor)));
    expect([...fired].sort()).toEqual(sensors.map((s) => s.metadata.name).sort());
    expect(oracle.some((e) => e.dropped)).toBe(true);
    expect(oracle.some((e) => e.dependencies.some((d) => !d.pass))).toBe(true);
    expect(oracle.filter((e) => e.parameters.length > 0).length).toBeGreaterThan(CORPUS_SIZE / 4);
  });

  it('the corpus fires the projecting triggers, which send the declaration (the state service fills the values)', () => {
    // Indices of the submission payload parameters (POST /submit, `projection.<name>`) and the path each must carry.
    const declared = new Map<string, string>();
    for (const sensor of sensors) {
      for (const trigger of sensor.spec.triggers as Doc[]) {
        const http = trigger.template.http;
        if (!http || !/\/submit$/.test(http.url)) continue;
        (http.payload as Doc[]).forEach((p, index) => {
          if (/^projection\./.test(p.dest)) declared.set(`${trigger.template.name}/${index}`, p.src.value);
        });
      }
    }
    expect(declared.size).toBeGreaterThan(0);
    const values = oracle.flatMap((e) => e.parameters.filter((p) => p.where === 'http.payload' && declared.has(`${p.trigger}/${p.index}`)));
    expect(values.length).toBeGreaterThan(0);
    for (const v of values) expect([v.value, v.type, v.error]).toEqual([declared.get(`${v.trigger}/${v.index}`), 'String', undefined]);
  });

  it('publishes the same event data, filters the same way and resolves every parameter to the same value and type', () => {
    const mismatches: string[] = [];
    corpus.forEach((delivery, i) => {
      const want = comparable(oracle[i]!);
      const got = comparable(simulate(sensors, delivery));
      if (JSON.stringify(want) !== JSON.stringify(got)) mismatches.push(describeMismatch(delivery, want, got));
    });
    expect(mismatches.length, `${mismatches.length} of ${CORPUS_SIZE} deliveries disagree:\n${mismatches.slice(0, 8).join('\n')}`).toBe(0);
  });
});
