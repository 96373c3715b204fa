/**
 * The generic checks of an organisation's app (workflows/ or a copy of it): they know no
 * workflow by name. For every Workflow the app defines: it synthesizes, validates against the
 * upstream schemas, lints clean, has sample payloads (`workflows/samples/<name>/*.json`), and
 * each sample routes to it in the simulator and flows claim -> running -> completed through
 * the real state service, with the outputs of its steps generated from their declarations.
 * Each check returns problems as lines (empty = pass), so the app's tests and the add/remove
 * proof (test/app/copy.test.ts) run the very same code.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { App } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { synthesize, validationErrors, type Workflow, type WorkflowParameters } from '../../constructs';
import { INGRESS_SQS_SOURCE, INGRESS_WEBHOOK_SOURCE, PAYLOAD_EVENT } from '../../constructs/events/names';
import { formatProblem, lintObjects } from '../../tools/lint/index';
import { Simulator, sqsEvent, webhookEvent, type Firing, type SimulatedEvent } from '../../tools/simulator';
import { isSubmit, submissions } from '../support/submissions';
import { validateArgoDocument } from '../support/schema';
import { renderTags, workflowFailures, type Doc, type TaskOutputs } from '../e2e/support/argo';
import type { RunningPlatform } from '../e2e/support/platform';
import type { ArgoRun } from '../e2e/support/run';

/** What the checks need of an app: what `buildApp()` returns. */
export interface AppUnderTest {
  readonly app: App;
  readonly workflows: readonly Workflow<WorkflowParameters>[];
}

export interface SynthesizedApp {
  readonly names: readonly string[];
  readonly files: ReadonlyMap<string, string>;
  /** Every document with the file it is in. */
  readonly docs: readonly { readonly file: string; readonly doc: Doc }[];
  find(kind: string, name: string): Doc;
}

export function synthesizeApp(swoop: AppUnderTest): SynthesizedApp {
  const files = synthesize(swoop.app);
  const docs = [...files].flatMap(([file, text]) => parseAllDocuments(text).map((d) => ({ file, doc: d.toJS() as Doc })).filter((d) => d.doc));
  return {
    names: swoop.workflows.map((w) => w.templateName),
    files,
    docs,
    find(kind, name) {
      const hit = docs.find((d) => d.doc.kind === kind && d.doc.metadata?.name === name);
      if (!hit) throw new Error(`the synthesized app has no ${kind}/${name}`);
      return hit.doc;
    },
  };
}

const workflowTemplate = (synth: SynthesizedApp, name: string) =>
  synth.docs.find((d) => d.doc.kind === 'WorkflowTemplate' && d.doc.metadata?.name === name);

/** It synthesizes: no validation error in the app, and its WorkflowTemplate is written to a file of its own. */
export function synthProblems(swoop: AppUnderTest, synth: SynthesizedApp, name: string): string[] {
  const errors = validationErrors(swoop.app).map((e) => `${e.path}: ${e.message}`);
  const wt = workflowTemplate(synth, name);
  if (!wt) return [...errors, `${name}: no WorkflowTemplate ${name} was synthesized`];
  const others = synth.docs.filter((d) => d.file === wt.file && d.doc !== wt.doc).map((d) => `${d.doc.kind}/${d.doc.metadata?.name}`);
  return [...errors, ...others.map((o) => `${wt.file}: holds ${o} besides WorkflowTemplate/${name}`)];
}

/** Its WorkflowTemplate and the task templates it runs validate against the upstream schemas (unknown fields rejected). */
export function schemaProblems(synth: SynthesizedApp, name: string): string[] {
  const wt = workflowTemplate(synth, name);
  if (!wt) return [`${name}: not synthesized`];
  const refs = new Set(templateRefs(wt.doc));
  const docs = [wt.doc, ...synth.docs.filter((d) => d.doc.kind === 'WorkflowTemplate' && refs.has(d.doc.metadata?.name)).map((d) => d.doc)];
  return docs.flatMap((doc) => validateArgoDocument(doc).map((e) => `WorkflowTemplate/${doc.metadata.name}: ${e}`));
}

/** The whole app lints clean; these are the problems in documents of this workflow or the sensors that start it. */
export function lintProblems(synth: SynthesizedApp, name: string): string[] {
  const problems = lintObjects(synth.docs.map((d) => d.doc)).map((p) => ({ p, line: formatProblem(p) }));
  return problems.filter(({ p, line }) => p.resource === `WorkflowTemplate/${name}` || line.includes(name)).map(({ line }) => line);
}

export interface Sample {
  readonly file: string;
  readonly body: unknown;
}

/** `<samplesDir>/<name>/*.json`, sorted; a workflow without any is a problem that says what to add. */
export function samplesOf(samplesDir: string, name: string): { samples: Sample[]; problems: string[] } {
  const dir = join(samplesDir, name);
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
  if (files.length === 0) {
    return { samples: [], problems: [`workflow ${name} has no sample payloads: add workflows/samples/${name}/*.json (a cirrus payload whose process names ${name}), see README "Add a workflow"`] };
  }
  const samples: Sample[] = [];
  const problems: string[] = [];
  for (const f of files) {
    const file = join(dir, f);
    try {
      samples.push({ file, body: JSON.parse(readFileSync(file, 'utf8')) });
    } catch (e) {
      problems.push(`${relative(process.cwd(), file)}: not JSON: ${(e as Error).message}`);
    }
  }
  return { samples, problems };
}

/** A run a sensor trigger hands to the state service (POST /submit): its name, template and arguments. */
export interface Started {
  readonly via: string;
  readonly name: string;
  readonly template: string;
  readonly arguments: Record<string, string>;
  /** The trigger's firing, delivered to the real state service by flowProblems. */
  readonly firing: Firing;
}

/** The payload sources the events layer defines (webhook; SQS when it reads a queue). */
function ingressEvents(synth: SynthesizedApp, body: unknown, id: string): { via: string; event: SimulatedEvent }[] {
  const sources = new Set(synth.docs.filter((d) => d.doc.kind === 'EventSource').map((d) => d.doc.metadata?.name));
  const events: { via: string; event: SimulatedEvent }[] = [];
  if (sources.has(INGRESS_WEBHOOK_SOURCE)) events.push({ via: 'webhook', event: webhookEvent(INGRESS_WEBHOOK_SOURCE, PAYLOAD_EVENT, body) });
  if (sources.has(INGRESS_SQS_SOURCE)) events.push({ via: 'sqs', event: sqsEvent(INGRESS_SQS_SOURCE, PAYLOAD_EVENT, body, `sample-${id}`) });
  return events;
}

/** Delivers the sample on every payload source; each must start exactly one run, of `name`. */
export function routeSample(synth: SynthesizedApp, sim: Simulator, name: string, sample: Sample): { started: Started[]; problems: string[] } {
  const where = relative(process.cwd(), sample.file);
  // Each sample is its own SQS message: the message id names the run, so ids must differ.
  const events = ingressEvents(synth, sample.body, where);
  if (events.length === 0) return { started: [], problems: [`${where}: the app has no payload EventSource (${INGRESS_WEBHOOK_SOURCE})`] };
  const started: Started[] = [];
  const problems: string[] = [];
  for (const { via, event } of events) {
    const runs = sim.deliver(event).firings.filter(isSubmit).map((f) => {
      const [s] = submissions([f]);
      return { via, name: s!.name, template: s!.template, arguments: s!.params, firing: f };
    });
    const mine = runs.filter((r) => r.template === name);
    if (mine.length !== 1) problems.push(`${where} (via ${via}): started ${runs.map((r) => r.template).join(', ') || 'nothing'}, expected one run of ${name}; its process must name ${name} first`);
    else started.push(mine[0]!);
  }
  return { started, problems };
}

/** `tasks.<task>.outputs.parameters.<name>` read as a list (withParam) anywhere in the app. */
function listOutputs(synth: SynthesizedApp): Set<string> {
  const lists = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const n = node as Doc;
      if (typeof n.withParam === 'string') {
        for (const m of n.withParam.matchAll(/tasks(?:\.([\w-]+)|\['([\w-]+)'\])\.outputs\.parameters(?:\.([\w-]+)|\['([\w-]+)'\])/g)) lists.add(`${m[1] ?? m[2]}.${m[3] ?? m[4]}`);
      }
      Object.values(n).forEach(walk);
    }
  };
  walk(synth.docs.map((d) => d.doc));
  return lists;
}

function templateRefs(wt: Doc): string[] {
  const refs: string[] = [];
  for (const t of (wt.spec?.templates ?? []) as Doc[]) for (const task of (t.dag?.tasks ?? []) as Doc[]) if (task.templateRef) refs.push(String(task.templateRef.name));
  return refs;
}

/** The template a DAG task runs: one of its WorkflowTemplate's own, or a task library template. */
function calledTemplate(synth: SynthesizedApp, wt: Doc, task: Doc): Doc | undefined {
  const owner = task.templateRef ? workflowTemplate(synth, String(task.templateRef.name))?.doc : wt;
  const name = task.templateRef ? task.templateRef.template : task.template;
  return ((owner?.spec?.templates ?? []) as Doc[]).find((t) => t.name === name);
}

/**
 * Outputs of every step as its task declares them: a declared output parameter gets its
 * default, else a generated value; one read as a fan-out list gets a JSON list of two items.
 */
export function generatedOutputs(synth: SynthesizedApp, run: ArgoRun): TaskOutputs {
  const lists = listOutputs(synth);
  const outputs: Record<string, { parameters: Record<string, string> }> = {};
  for (const task of run.dagTasks) {
    const declared = (calledTemplate(synth, run.template, task)?.outputs?.parameters ?? []) as Doc[];
    outputs[task.name] = {
      parameters: Object.fromEntries(declared.map((p) => {
        const key = `${task.name}.${p.name}`;
        const value = lists.has(key) ? JSON.stringify([`${task.name}-${p.name}-0`, `${task.name}-${p.name}-1`]) : String(p.valueFrom?.default ?? p.default ?? '1');
        return [p.name, value];
      })),
    };
  }
  return outputs;
}

/** Every fan-out (`withParam`) renders, with the generated outputs, to the JSON list Argo requires. */
function fanOutProblems(run: ArgoRun, outputs: TaskOutputs): string[] {
  const scope: Record<string, string> = { ...run.scope() };
  for (const [task, out] of Object.entries(outputs)) for (const [p, v] of Object.entries(out.parameters ?? {})) scope[`tasks.${task}.outputs.parameters.${p}`] = v;
  return run.dagTasks.filter((t) => typeof t.withParam === 'string').flatMap((t) => {
    try {
      const items = JSON.parse(renderTags(String(t.withParam), scope, `DAG task ${t.name} withParam`));
      return Array.isArray(items) ? [] : [`DAG task ${t.name}: withParam renders to ${JSON.stringify(items)}, not a JSON list`];
    } catch (e) {
      return [`DAG task ${t.name}: withParam: ${(e as Error).message}`];
    }
  });
}

/** The payload URL every single (not fanned-out) step of `run` writes, and the outputs its steps export (a wait step's answer). */
function stepOutputUrls(run: ArgoRun, globalOutputs: Readonly<Record<string, string>>): string[] {
  return [
    ...run.dagTasks.filter((t) => !t.withParam && !t.withItems).flatMap((t) => ((t.arguments?.parameters ?? []) as Doc[])
      .filter((p) => p.name === 'output')
      .map((p) => renderTags(String(p.value), run.scope(), `task ${t.name}`))),
    ...Object.values(globalOutputs),
  ];
}

/**
 * Runs the Workflow a sample started from claim to completed(Succeeded) against the real
 * state service: the claim is granted, every step's `when` and fan-out evaluate with the
 * generated outputs, and the run is recorded SUCCESSFUL with one of its steps' outputs.
 */
let reruns = 0;

export async function flowProblems(synth: SynthesizedApp, platform: RunningPlatform, started: Started): Promise<string[]> {
  let where = `${started.template} run ${started.name}`;
  try {
    // The trigger's request, as Argo Events sends it, to the real state service: claim, then create.
    const find = (kind: string, name: string) => synth.find(kind, name);
    let answer = await platform.deliverSubmit(started.firing, { find });
    if (!answer.run && answer.status === 200) {
      // Another sample is the same cirrus payload (same items and workflow), or this check ran
      // before on the same platform (same message, same run name): run it again the way cirrus
      // does, with replace, under a run name of its own.
      answer = await platform.submit(started.template, { ...started.arguments, replace: 'true' }, { name: `${started.name.slice(0, 50)}-r${++reruns}`, find });
      where = `${started.template} run ${answer.body?.run}`;
    }
    if (!answer.run) return [`${where}: the state service created no Workflow: HTTP ${answer.status} ${JSON.stringify(answer.body)}`];
    const run = answer.run;
    const outputs = generatedOutputs(synth, run);
    const steps = run.userTasksThatRun(outputs);
    const problems = fanOutProblems(run, outputs);
    if (!Object.values(steps).some(Boolean)) problems.push(`${where}: no step runs after the claim`);
    const running = await run.running();
    if (!running.succeeded) problems.push(`${where}: running event refused: HTTP ${running.status} ${running.body}`);
    const globalOutputs = run.globalOutputs(outputs);
    const completed = await run.completed('Succeeded', workflowFailures([]), globalOutputs);
    if (!completed.succeeded) problems.push(`${where}: completed event refused: HTTP ${completed.status} ${completed.body}`);
    const recorded = await platform.read(`/runs/${encodeURIComponent(run.run.name)}`);
    if (recorded.state !== 'SUCCESSFUL') problems.push(`${where}: recorded ${recorded.state}, expected SUCCESSFUL (${recorded.error ?? ''})`);
    if (recorded.workflow !== started.template) problems.push(`${where}: recorded for workflow ${recorded.workflow}`);
    if (!stepOutputUrls(run, globalOutputs).includes(recorded.output)) problems.push(`${where}: recorded output ${recorded.output} is not the output of one of its steps`);
    const history = (recorded.history as Doc[]).map((h) => h.state).join(' -> ');
    if (history !== 'QUEUED -> RUNNING -> SUCCESSFUL') problems.push(`${where}: history ${history}, expected QUEUED -> RUNNING -> SUCCESSFUL`);
    return problems;
  } catch (e) {
    return [`${where}: ${(e as Error).message}`];
  }
}

/** Every check for one workflow, by check: what the app's tests assert one by one. */
export async function workflowProblems(
  swoop: AppUnderTest, synth: SynthesizedApp, samplesDir: string, platform: RunningPlatform, name: string, options: { schema: boolean },
): Promise<Record<string, string[]>> {
  const sim = new Simulator(synth.docs.map((d) => d.doc));
  const { samples, problems: sampleProblems } = samplesOf(samplesDir, name);
  const routed = samples.map((s) => routeSample(synth, sim, name, s));
  const flows: string[] = [];
  // One run per sample: the other sources' runs of the same payload would be refused by the claim (cirrus de-duplication).
  for (const r of routed) if (r.started[0]) flows.push(...(await flowProblems(synth, platform, r.started[0])));
  return {
    synth: synthProblems(swoop, synth, name),
    schema: options.schema ? schemaProblems(synth, name) : [],
    lint: lintProblems(synth, name),
    samples: sampleProblems,
    routing: routed.flatMap((r) => r.problems),
    flow: flows,
  };
}
