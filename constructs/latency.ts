import { parseAllDocuments } from 'yaml';
import type { PodsPerRun } from './pods';

/**
 * What a run costs before its first task works, and what a duplicate delivery costs, read
 * from the synthesized manifests (not from the library's intentions): the WorkflowTemplate's
 * entry DAG, and the sensor triggers that start it.
 */
export interface RunLatency {
  readonly workflow: string;
  /** Pods that must start before the earliest user task does its work, that task's own included (goal: 1). */
  readonly podStartsBeforeFirstTask: number;
  /** Pods a duplicate delivery starts (a payload already running or succeeded). Goal: 0. */
  readonly duplicatePods: number;
  /** Kubernetes objects a duplicate delivery creates (the Workflow, its pods). Goal: 0. */
  readonly duplicateObjects: number;
  /** How the sensors start it: `state service` (POST /submit, claim first) or `k8s create`. */
  readonly submittedBy: string;
}

type Doc = Record<string, any>;

/** Pod-start times the model uses, seconds: a cold start pulls the image and may wait for a node. */
export const POD_START_SECONDS = { cold: 3, warm: 1 } as const;
/** Step Functions StartExecution + a warm Lambda invoke, seconds (tens of milliseconds). */
export const STEP_FUNCTIONS_FIRST_TASK_SECONDS = 0.05;

const WORK_KINDS = ['container', 'script', 'containerSet', 'resource', 'data'];

function taskDeps(task: Doc, names: readonly string[]): string[] {
  const text = `${task.depends ?? ''} ${(task.dependencies ?? []).join(' ')}`;
  return names.filter((n) => new RegExp(`(^|[^-\\w.])${n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\.|[^-\\w]|$)`).test(text));
}

/** Pods that start before `template`'s earliest task works, by pod identity ('agent' is shared). */
function firstWorkPods(spec: Doc, template: Doc, isUserTask: (t: Doc) => boolean = () => true): Set<string> | undefined {
  const templates = new Map<string, Doc>((spec.templates as Doc[]).map((t) => [t.name, t]));
  const own = (task: Doc): Set<string> | undefined => {
    if (task.templateRef) return new Set([`pod:${task.name}`]);
    const t = templates.get(task.template);
    if (!t) return undefined;
    if (t.http || t.plugin) return new Set(['agent']);
    if (t.dag) return firstWorkPods(spec, t);
    if (WORK_KINDS.some((k) => t[k] !== undefined)) return new Set([`pod:${task.name}`]);
    return new Set(); // suspend, steps without work of their own
  };
  const tasks = (template.dag?.tasks ?? []) as Doc[];
  const names = tasks.map((t) => String(t.name));
  const memo = new Map<string, Set<string>>();
  const upTo = (task: Doc, seen: Set<string>): Set<string> => {
    const cached = memo.get(task.name);
    if (cached) return cached;
    const pods = new Set(own(task) ?? []);
    for (const dep of taskDeps(task, names)) {
      const d = tasks.find((t) => t.name === dep);
      if (d && !seen.has(dep)) for (const p of upTo(d, new Set([...seen, dep]))) pods.add(p);
    }
    memo.set(task.name, pods);
    return pods;
  };
  let best: Set<string> | undefined;
  for (const task of tasks.filter(isUserTask)) {
    const pods = upTo(task, new Set([task.name]));
    if (pods.size > 0 && (!best || pods.size < best.size)) best = pods;
  }
  return best;
}

/** The trigger payload value at `dest`, when it is a literal. */
function literal(payload: Doc[] | undefined, dest: string): string | undefined {
  return payload?.find((p) => p.dest === dest)?.src?.value;
}

/** One row per workflow of `pods` (the app's workflows), from the synthesized documents. */
export function runLatency(yamlTexts: Iterable<string>, pods: readonly PodsPerRun[]): RunLatency[] {
  const docs = [...yamlTexts].flatMap((text) => parseAllDocuments(text).map((d) => d.toJS() as Doc)).filter(Boolean);
  const triggers = docs.filter((d) => d.kind === 'Sensor').flatMap((s) => (s.spec?.triggers ?? []) as Doc[]).map((t) => t.template as Doc);
  return pods.map((row) => {
    const template = docs.find((d) => d.kind === 'WorkflowTemplate' && d.metadata?.name === row.workflow);
    if (!template) throw new Error(`no WorkflowTemplate ${row.workflow} among the synthesized documents`);
    const spec = template.spec as Doc;
    const entry = (spec.templates as Doc[]).find((t) => t.name === spec.entrypoint)!;
    // `claim` is a reserved step name: a DAG task of that name is the platform's gate, not work.
    const first = firstWorkPods(spec, entry, (t) => t.name !== 'claim');
    const viaK8s = triggers.some((t) => t.k8s?.source?.resource?.spec?.workflowTemplateRef?.name === row.workflow);
    const viaSubmit = triggers.some((t) => /\/submit$/.test(String(t.http?.url ?? '')) && literal(t.http.payload, 'workflow') === row.workflow
      && literal(t.http.payload, 'claim') === 'true');
    const gated = ((entry.dag?.tasks ?? []) as Doc[]).some((t) => t.name === 'claim');
    // A k8s create makes the Workflow before any claim: its pods run until a claim task refuses
    // (the agent pod), or all of them when there is no claim task.
    const duplicatePods = viaK8s ? (gated ? 1 : row.pods) : 0;
    return {
      workflow: row.workflow,
      podStartsBeforeFirstTask: first?.size ?? 0,
      duplicatePods,
      duplicateObjects: viaK8s ? 1 + duplicatePods : 0,
      submittedBy: viaK8s ? 'k8s create' : viaSubmit ? 'state service' : 'not routed',
    };
  });
}

/** A plain-text table of the rows and the modelled time to first task. */
export function formatLatencyTable(rows: readonly RunLatency[]): string {
  const { cold, warm } = POD_START_SECONDS;
  const header = ['workflow', 'pod starts before 1st task', `to 1st task cold (${cold} s/pod)`, `warm (${warm} s/pod)`, 'pods/duplicate', 'k8s objects/duplicate', 'submitted by'];
  const body = rows.map((r) => [
    r.workflow, String(r.podStartsBeforeFirstTask), `${r.podStartsBeforeFirstTask * cold} s`, `${r.podStartsBeforeFirstTask * warm} s`,
    String(r.duplicatePods), String(r.duplicateObjects), r.submittedBy,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [
    line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line),
    `model: time to first task = pod starts x pod-start time (the claim is one SQL call and one API create, tens of ms, before the`,
    `Workflow exists); Step Functions + Lambda: start + invoke ~${STEP_FUNCTIONS_FIRST_TASK_SECONDS * 1000} ms, no pod. Goals: 1 pod start, 0 per duplicate.`,
  ].join('\n');
}
