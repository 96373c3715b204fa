/**
 * `npm run bench`: synthesis cost of the construct library against raw cdk8s.
 *
 * 1. library:  build a task library of 10 tasks and 1,000 workflows of 10 steps each with
 *    the construct library, and synthesize them (validation + YAML, in memory).
 * 2. baseline: re-create exactly the objects the library emitted as plain cdk8s
 *    `ApiObject`s in a fresh App, and synthesize that the same way.
 * Each phase runs in its own child process, so neither one's heap, JIT warm-up or peak
 * RSS leaks into the other. The parent checks both emitted identical YAML, prints wall
 * time, peak memory and the ratio against the targets (under 10 s, within 1.5x), then
 * the pods-per-run table of workflows/. Exits 1 when a target is missed.
 *
 * `npm run bench -- --workflows 200` runs a smaller set; `--profile` writes a V8 CPU
 * profile of the library phase to .bench/ (open it in Chrome DevTools).
 *
 * Then synth with its checks (bench/synth-checks.ts): `npm run synth`'s type check on a
 * generated app of 20 workflows against plain synth of the same app, in the same run
 * (targets, after editing one workflow file: <= 2x plain synth and < 10 s).
 * `--checks-only` runs just that part.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { App, ApiObject, Chart, type ApiObjectProps } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-27';
import { Size } from 'cdk8s';
import {
  chartDocuments, ContainerTask, formatPodsTable, podsPerRun, synthesize, TaskLibrary, Workflow, type DagNode,
} from '../constructs';
import { formatLatencyTable, runLatency } from '../constructs/latency';
import { buildApp } from '../workflows/app';
import { CHECK_WORKFLOWS, measureChecks } from './synth-checks';

const STEPS = 10;
const TARGET_SECONDS = 10;
const TARGET_RATIO = 1.5;
const CHECKS_TARGET_RATIO = 2;
const WORK = resolve(__dirname, '..', '.bench');

interface PhaseResult {
  readonly buildMs: number;
  readonly synthMs: number;
  readonly peakRssMiB: number;
  readonly heapMiB: number;
  readonly files: number;
  readonly documents: number;
}

/** The library phase: the construct library builds and synthesizes everything. */
function libraryApp(workflows: number): App {
  const app = new App();
  const library = new TaskLibrary(app, 'task-library');
  const tasks = Array.from({ length: STEPS }, (_, i) =>
    new ContainerTask(library, `bench-task-${i}`, {
      description: `benchmark task ${i}`,
      version: '1.0.0',
      image: `ghcr.io/example/bench-task:1.0.${i}`,
      args: (io) => ['run', io.input, '--output', io.output, '--level', io.parameters.level],
      inputs: { parameters: { level: { default: String(i) } } },
      resources: { cpu: { request: Cpu.millis(100) }, memory: { request: Size.mebibytes(256) } },
    }),
  );
  for (let w = 0; w < workflows; w++) {
    const wf = new Workflow(app, `bench-${String(w).padStart(4, '0')}`, { version: '1.0.0', parameters: { level: { default: '1' } } });
    // A binary tree of steps: step i reads the output of step (i-1)/2, so the DAG has fan-out and depth.
    const steps: DagNode[] = [];
    tasks.forEach((task, i) => {
      const input = i === 0 ? wf.input : (steps[(i - 1) >> 1] as unknown as { output: typeof wf.input }).output;
      steps.push(wf.addStep(`step-${i}`, task, { input, parameters: { level: wf.params.level } }));
    });
  }
  return app;
}

/** The baseline phase: the same documents as raw ApiObjects, one Chart per file as before. */
function baselineApp(charts: readonly { id: string; docs: ApiObjectProps[] }[]): App {
  const app = new App();
  for (const { id, docs } of charts) {
    const chart = new Chart(app, id, { disableResourceNameHashes: true });
    docs.forEach((doc, i) => new ApiObject(chart, `o${i}`, doc));
  }
  return app;
}

function measure(build: () => App): { result: PhaseResult; app: App; files: Map<string, string> } {
  const t0 = performance.now();
  const app = build();
  const t1 = performance.now();
  const heapAfterBuild = process.memoryUsage().heapUsed;
  const files = synthesize(app);
  const t2 = performance.now();
  const heap = Math.max(heapAfterBuild, process.memoryUsage().heapUsed);
  const documents = [...files.values()].reduce((n, text) => n + text.split('\n---\n').length, 0);
  return {
    app,
    files,
    result: {
      buildMs: t1 - t0,
      synthMs: t2 - t1,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      heapMiB: heap / 2 ** 20,
      files: files.size,
      documents,
    },
  };
}

function runPhase(phase: string, workflows: number): void {
  if (phase === 'library') {
    const { result, app, files } = measure(() => libraryApp(workflows));
    // Input of the baseline: what each chart emitted, as plain JSON (outside the timing).
    const charts = app.node.findAll().filter((c): c is Chart => c instanceof Chart).map((c) => ({ id: c.node.id, docs: chartDocuments(c) }));
    writeFileSync(join(WORK, 'charts.json'), JSON.stringify(charts));
    writeFileSync(join(WORK, 'library.json'), JSON.stringify({ result, files: [...files] }));
  } else {
    const charts = JSON.parse(readFileSync(join(WORK, 'charts.json'), 'utf8')) as { id: string; docs: ApiObjectProps[] }[];
    const { result, files } = measure(() => baselineApp(charts));
    writeFileSync(join(WORK, 'baseline.json'), JSON.stringify({ result, files: [...files] }));
  }
}

function child(phase: string, workflows: number, profile: boolean): { result: PhaseResult; files: Map<string, string> } {
  const flags = profile && phase === 'library' ? ['--cpu-prof', `--cpu-prof-dir=${WORK}`] : [];
  const run = spawnSync(process.execPath, [...process.execArgv, ...flags, __filename, '--phase', phase, '--workflows', String(workflows)], { stdio: 'inherit' });
  if (run.status !== 0) throw new Error(`${phase} phase failed (exit ${run.status})`);
  const out = JSON.parse(readFileSync(join(WORK, `${phase}.json`), 'utf8')) as { result: PhaseResult; files: [string, string][] };
  return { result: out.result, files: new Map(out.files) };
}

function firstDifference(a: Map<string, string>, b: Map<string, string>): string | undefined {
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(name);
    const y = b.get(name);
    if (x === y) continue;
    if (x === undefined || y === undefined) return `${name} only in ${x === undefined ? 'baseline' : 'library'} output`;
    const line = x.split('\n').findIndex((l, i) => l !== y.split('\n')[i]);
    return `${name} line ${line + 1}: library "${x.split('\n')[line]}" vs baseline "${y.split('\n')[line]}"`;
  }
  return undefined;
}

async function main(argv: string[]): Promise<number> {
  const arg = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const workflows = Number(arg('--workflows') ?? 1000);
  mkdirSync(WORK, { recursive: true });
  const phase = arg('--phase');
  if (phase) {
    runPhase(phase, workflows);
    return 0;
  }
  if (argv.includes('--checks-only')) return reportChecks();
  const profile = argv.includes('--profile');
  console.log(`synthesizing ${workflows} workflows x ${STEPS} steps + a ${STEPS}-task library, each phase in its own process\n`);
  const library = child('library', workflows, profile);
  const baseline = child('baseline', workflows, false);

  const difference = firstDifference(library.files, baseline.files);
  if (difference) {
    console.error(`FAIL: the baseline does not emit the same YAML as the library: ${difference}`);
    return 1;
  }
  const total = (r: PhaseResult) => (r.buildMs + r.synthMs) / 1000;
  const rows = [
    ['', 'build s', 'synth s', 'total s', 'peak RSS MiB', 'heap MiB', 'files', 'documents'],
    ...([['construct library', library.result], ['raw ApiObject baseline', baseline.result]] as const).map(([name, r]) => [
      name, (r.buildMs / 1000).toFixed(2), (r.synthMs / 1000).toFixed(2), total(r).toFixed(2), r.peakRssMiB.toFixed(0), r.heapMiB.toFixed(0), String(r.files), String(r.documents),
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const row of rows) console.log(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
  console.log(`\nidentical YAML from both: yes (${library.files.size} files)`);

  const seconds = total(library.result);
  const ratio = seconds / total(baseline.result);
  const timeOk = seconds < TARGET_SECONDS;
  const ratioOk = ratio <= TARGET_RATIO;
  console.log(`${timeOk ? 'PASS' : 'FAIL'}  wall time ${seconds.toFixed(2)} s (target < ${TARGET_SECONDS} s)`);
  console.log(`${ratioOk ? 'PASS' : 'FAIL'}  ratio to raw cdk8s ${ratio.toFixed(2)}x (target <= ${TARGET_RATIO}x; memory ${(library.result.peakRssMiB / baseline.result.peakRssMiB).toFixed(2)}x peak RSS)`);
  if (profile) console.log(`CPU profile of the library phase written to ${WORK}/*.cpuprofile`);

  const { app: shippedApp, workflows: shipped } = buildApp();
  const pods = shipped.map((w) => podsPerRun(w));
  console.log(`\npods per run of the workflows in workflows/ (naive: one pod per step)\n${formatPodsTable(pods)}`);
  console.log(`\nlatency before the first task, and the cost of a duplicate delivery\n${formatLatencyTable(runLatency(synthesize(shippedApp).values(), pods))}`);
  const checksOk = (await reportChecks()) === 0;
  return timeOk && ratioOk && checksOk ? 0 : 1;
}

/** The synth-with-checks rows (bench/synth-checks.ts); targets: after an edit, at most 2x plain synth and under 10 s. */
async function reportChecks(): Promise<number> {
  console.log(`\nsynth with checks: a generated app of ${CHECK_WORKFLOWS} workflows, each command its own process (median of 3)`);
  const r = await measureChecks(WORK);
  const rows = [
    ['plain synth (no type check)', r.plain],
    [`with checks, after editing one workflow file (${r.warm ? 'warm checker' : 'NO warm checker'})`, r.afterEdit],
    ['with checks, nothing changed since the last check', r.unchanged],
    ['with checks, cold (no build info, no warm checker)', r.cold],
    ['after an edit without a warm checker (CI; worker)', r.afterEditNoChecker],
  ] as const;
  for (const [name, s] of rows) console.log(`${name.padEnd(64)}${s.toFixed(2).padStart(7)} s${(s / r.plain).toFixed(2).padStart(7)}x`);
  const ratio = r.afterEdit / r.plain;
  const ok = ratio <= CHECKS_TARGET_RATIO && r.afterEdit < TARGET_SECONDS;
  console.log(`${ok ? 'PASS' : 'FAIL'}  synth with checks after an edit: ${ratio.toFixed(2)}x plain synth (target <= ${CHECKS_TARGET_RATIO}x), ${r.afterEdit.toFixed(2)} s (target < ${TARGET_SECONDS} s)`);
  return ok ? 0 : 1;
}

void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
