/**
 * Choice on the payload without a pod (Step Functions `Choice` over `$.process.tasks...`,
 * the collections, the number of items): a workflow declares the small projections of its
 * input payload its conditions read, each becomes a workflow parameter, and the state
 * service fills them at POST /submit from the payload it claims (`projectPayload`: inline, or
 * read from the payload store when passed by URL; the sensors send only the declaration).
 * No step reads the payload to decide, so the pods per run do not grow.
 *
 * The declaration travels with the WorkflowTemplate as the annotation
 * `swoop.dev/payload-projection`: JSON `{"<parameter>": "<path>"}`, keys sorted, where a path
 * is `process.tasks.<task>.<key>`, `collections` or `item-count` (PROJECTION_PATHS).
 *
 * Values are strings, as Argo parameters are: a string as itself, any other JSON value as its
 * JSON text (`true`, `5`, `["a","b"]`), the empty string when the payload does not have it.
 * A payload without items (no `features`) leaves the item projections empty; conditions on
 * them then fail the step with Argo's expression error rather than choosing a branch on a
 * value nobody read.
 */
import { Condition, Ref, index, quote } from './refs';

export const PAYLOAD_PROJECTION_ANNOTATION = 'swoop.dev/payload-projection';

/** name -> path of every projection a workflow declares. */
export type PayloadDeclaration = Readonly<Record<string, string>>;

/** Task names and keys a projection may name: what a gjson path and a parameter name both take unescaped. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** Why `name` cannot be used in a projection, or undefined. */
export function projectionNameProblem(what: string, name: string): string | undefined {
  if (typeof name !== 'string' || !NAME.test(name)) {
    return `payload projection ${what} ${JSON.stringify(name)} is not a plain name; use letters, digits, '-' and '_' (starting with a letter or digit)`;
  }
  return undefined;
}

/** A projected value: a task setting from `process.tasks` (a string, or a JSON value's text). */
export class PayloadValue extends Ref {
  /** @internal */
  constructor(parameter: string, public readonly path: string) {
    super(`{{workflow.parameters.${parameter}}}`, index('workflow.parameters', parameter), 'workflow-parameter');
  }

  /** True when the value equals `value`; a boolean or number compares with its JSON text (`true`, `5`). */
  public override equals(value: string | number | boolean): Condition {
    return super.equals(typeText(value));
  }

  /** True when the value differs from `value` (an absent value differs from everything but ''). */
  public override notEquals(value: string | number | boolean): Condition {
    return super.notEquals(typeText(value));
  }

  /** True when the payload sets this value (`process.tasks.<task>.<key>` is present). */
  public isSet(): Condition {
    return new Condition(`${this.expression} != ''`, [this]);
  }

  /** True when the value is JSON `true` (or the string "true"). */
  public isTrue(): Condition {
    return super.equals('true');
  }

  /**
   * This value, or `fallback` when the payload does not set it: a task setting the payload may
   * override, e.g. `wf.payload.task('convert').param('compression').withDefault(wf.params.compression)`.
   * `fallback` is a literal or a workflow-level reference (a parameter), not a step output.
   */
  public withDefault(fallback: string | Ref): Ref {
    if (fallback instanceof Ref && (fallback.producer || fallback.kind !== 'workflow-parameter')) {
      throw new Error(`withDefault() of payload projection ${this.path} takes a literal or a workflow parameter (wf.params.x), got ${fallback.text}; pass one of those`);
    }
    if (typeof fallback !== 'string' && !(fallback instanceof Ref)) {
      throw new Error(`withDefault() of payload projection ${this.path} takes a string or wf.params.x, got ${typeof fallback}; pass one of those`);
    }
    const other = typeof fallback === 'string' ? quote(fallback) : fallback.expression;
    const expression = `(${this.expression} != '' ? ${this.expression} : ${other})`;
    return new Ref(`{{=${expression}}}`, expression, 'workflow-parameter');
  }

  /** True when the value is one of `values`. */
  public isOneOf(values: readonly (string | number | boolean)[]): Condition {
    return new Condition(`${this.expression} in [${values.map((v) => quote(typeText(v))).join(', ')}]`, [this]);
  }
}

/** The payload's number of items (`features`). */
export class PayloadCount extends Ref {
  /** @internal */
  constructor(parameter: string, public readonly path: string) {
    super(`{{workflow.parameters.${parameter}}}`, index('workflow.parameters', parameter), 'workflow-parameter');
  }

  private compare(op: string, n: number): Condition {
    if (!Number.isInteger(n)) throw new Error(`itemCount comparisons take a whole number, got ${String(n)}`);
    // asInt fails on '' (unknown to the submitter): the step errors instead of guessing.
    return new Condition(`asInt(${this.expression}) ${op} ${n}`, [this]);
  }

  public greaterThan(n: number): Condition {
    return this.compare('>', n);
  }

  public atLeast(n: number): Condition {
    return this.compare('>=', n);
  }

  public lessThan(n: number): Condition {
    return this.compare('<', n);
  }

  public atMost(n: number): Condition {
    return this.compare('<=', n);
  }

  public is(n: number): Condition {
    return this.compare('==', n);
  }
}

/** The collections of the payload's items, a JSON list (one entry per item that names one). */
export class PayloadList extends Ref {
  /** @internal */
  constructor(parameter: string, public readonly path: string) {
    super(`{{workflow.parameters.${parameter}}}`, index('workflow.parameters', parameter), 'workflow-parameter');
  }

  /** True when some item belongs to `value`. */
  public includes(value: string): Condition {
    return new Condition(`${quote(value)} in fromJSON(${this.expression})`, [this]);
  }
}

function typeText(value: string | number | boolean): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The projections of one task's settings (`process.tasks.<task>`). */
export class TaskSettings {
  /** @internal */
  constructor(
    private readonly task: string,
    private readonly declare: <R extends Ref>(parameter: string, path: string, make: (p: string, path: string) => R) => R,
  ) {}

  /** `process.tasks.<task>.<key>` of the input payload. */
  public param(key: string): PayloadValue {
    return this.declare(`payload-${this.task}-${key}`, `process.tasks.${this.task}.${key}`, (p, path) => new PayloadValue(p, path));
  }
}

/**
 * `wf.payload`: the declared projections of a workflow's input payload.
 * `wf.payload.task('publish').param('batch').isTrue()`, `wf.payload.collections.includes('sentinel-2-l2a')`,
 * `wf.payload.itemCount.greaterThan(1)`.
 */
export class PayloadProjections {
  private readonly declared = new Map<string, { path: string; ref: Ref }>();
  private readonly problems: string[] = [];

  /** @internal */
  constructor() {}

  /** Settings of `task` in the payload's `process.tasks`. */
  public task(task: string): TaskSettings {
    const problem = projectionNameProblem('task', task);
    if (problem) this.problems.push(problem);
    return new TaskSettings(task, (p, path, make) => {
      const key = path.split('.').pop()!;
      const keyProblem = projectionNameProblem('key', key);
      if (keyProblem) this.problems.push(keyProblem);
      return this.declare(p, path, make);
    });
  }

  /** The collection of each item (`features[*].collection`), a JSON list. */
  public get collections(): PayloadList {
    return this.declare('payload-collections', 'collections', (p, path) => new PayloadList(p, path));
  }

  /** The number of items (`features`). */
  public get itemCount(): PayloadCount {
    return this.declare('payload-item-count', 'item-count', (p, path) => new PayloadCount(p, path));
  }

  /** name -> path of every declared projection, sorted by name. */
  public get declaration(): PayloadDeclaration {
    return Object.fromEntries([...this.declared.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, d]) => [name, d.path]));
  }

  /** Parameter names of the declared projections, sorted. */
  public get parameterNames(): string[] {
    return Object.keys(this.declaration);
  }

  /** @internal */
  public get declarationProblems(): readonly string[] {
    return this.problems;
  }

  private declare<R extends Ref>(parameter: string, path: string, make: (p: string, path: string) => R): R {
    const existing = this.declared.get(parameter);
    if (existing) {
      if (existing.path !== path) this.problems.push(`payload projections ${existing.path} and ${path} both map to parameter "${parameter}"; rename the task or key`);
      return existing.ref as R;
    }
    const ref = make(parameter, path);
    this.declared.set(parameter, { path, ref });
    return ref;
  }
}

/** The paths a declaration may hold. */
export const PROJECTION_PATHS = 'process.tasks.<task>.<key>, collections, item-count';

/** Why `path` is not a projection path, or undefined. */
export function projectionPathProblem(path: string): string | undefined {
  try {
    parsePath(path);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

interface Parsed {
  readonly kind: 'task' | 'collections' | 'item-count';
  readonly task?: string;
  readonly key?: string;
}

function parsePath(path: string): Parsed {
  if (path === 'collections') return { kind: 'collections' };
  if (path === 'item-count') return { kind: 'item-count' };
  const m = /^process\.tasks\.([A-Za-z0-9][A-Za-z0-9_-]*)\.([A-Za-z0-9][A-Za-z0-9_-]*)$/.exec(path);
  if (m) return { kind: 'task', task: m[1], key: m[2] };
  throw new Error(`payload projection path ${JSON.stringify(path)} is not one of ${PROJECTION_PATHS}`);
}

/** A value as an Argo parameter holds it: strings as themselves, other JSON as its text. */
function valueText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * This run's element of a cirrus `process` (an object, or an array whose first element is
 * this run's): the element itself, or, when the first element is a parallel group (an array
 * of process definitions run side by side), the member naming `workflow`.
 */
function processOf(process: unknown, workflow: string): unknown {
  const first = Array.isArray(process) ? process[0] : process;
  return Array.isArray(first) ? first.find((member) => isObject(member) && member.workflow === workflow) : first;
}

/** Whether `declaration` reads the payload's items (`collections`, `item-count`), not only `process`. */
export function readsItems(declaration: PayloadDeclaration): boolean {
  return Object.values(declaration).some((path) => parsePath(path).kind !== 'task');
}

/**
 * The workflow parameters of `declaration` for `payload` (a parsed cirrus payload: an
 * ItemCollection with `process`), for a run of `workflow`: what the state service fills at
 * POST /submit (state/projection.ts). A value the payload does not have is ''.
 */
export function projectPayload(payload: unknown, declaration: PayloadDeclaration, workflow: string): Record<string, string> {
  const out: Record<string, string> = {};
  const doc = isObject(payload) ? payload : {};
  const process = processOf(doc.process, workflow);
  const features = Array.isArray(doc.features) ? doc.features : undefined;
  for (const [name, path] of Object.entries(declaration)) {
    const p = parsePath(path);
    if (p.kind === 'task') {
      const tasks = isObject(process) ? process.tasks : undefined;
      const settings = isObject(tasks) ? tasks[p.task!] : undefined;
      out[name] = isObject(settings) ? valueText(settings[p.key!]) : '';
    } else if (p.kind === 'collections') {
      out[name] = features ? JSON.stringify(features.filter(isObject).map((f) => f.collection).filter((c) => c !== undefined)) : '';
    } else {
      out[name] = features ? String(features.length) : '';
    }
  }
  return out;
}
