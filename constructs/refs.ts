/**
 * References between steps: what a step's argument, condition or fan-out list points at.
 * A reference renders to Argo template syntax and remembers which step produces it, so
 * wiring a value is what creates the DAG dependency.
 */

/** The node of a workflow's DAG that produces a value (a step or a container group). */
export interface Producer {
  /** DAG task name. */
  readonly name: string;
  /** Construct path, for error messages. */
  readonly path: string;
  /** The workflow (its construct path) the producer belongs to. */
  readonly workflowPath: string;
}

export type RefKind =
  | 'workflow-parameter'
  | 'workflow-variable'
  | 'step-parameter'
  | 'step-payload'
  | 'step-payload-list'
  | 'step-result'
  | 'workflow-failures'
  | 'item'
  | 'join';

/** A value computed by Argo at run time. Use it as a step argument or inside a string. */
export class Ref {
  /** @internal */
  constructor(
    /** Argo template text, e.g. `{{tasks.split.outputs.parameters.assets}}`. */
    public readonly text: string,
    /** The same value in Argo's expression language (for `when` and `{{=...}}`). */
    public readonly expression: string,
    public readonly kind: RefKind,
    /** The DAG node that produces it; undefined for workflow-level values. */
    public readonly producer?: Producer,
    /** The DAG node consumers must depend on; differs from producer inside a container group. */
    public readonly dependency?: Producer,
  ) {}

  /** Argo template text, so a reference can be embedded in a string: `--collection=${wf.params.collection}`. */
  public toString(): string {
    return this.text;
  }

  /** A condition true when this value equals `value` (string comparison). */
  public equals(value: string): Condition {
    return new Condition(`${this.expression} == ${quote(value)}`, [this]);
  }

  /** A condition true when this value differs from `value`. */
  public notEquals(value: string): Condition {
    return new Condition(`${this.expression} != ${quote(value)}`, [this]);
  }

  /** A condition true when this JSON list value is not empty (e.g. a list of assets). */
  public isNotEmpty(): Condition {
    return new Condition(`len(fromJSON(${this.expression})) > 0`, [this]);
  }
}

/**
 * A value declared as a JSON list (an output parameter or workflow parameter with
 * `list: true`, a fan-out's collected outputs): what `forEach` fans out over. Every other
 * `Ref` is one value, and `forEach` over it fails at synth (and does not type-check).
 */
export class ListRef extends Ref {
  /** Nominal: a plain Ref is not assignable to a ListRef. */
  declare private readonly listBrand: true;
}

/** What `forEach` over a single value is, for the error; undefined when the kind may hold a list. */
export function singleValueDescription(ref: Ref): string | undefined {
  if (ref instanceof ListRef) return undefined;
  const producer = ref.producer?.name;
  switch (ref.kind) {
    case 'step-payload':
      return `the output payload URL of step "${producer}" (one URL)`;
    case 'step-parameter':
      return `output parameter ${ref.text} of step "${producer}", declared as one value`;
    case 'workflow-parameter':
      return `workflow parameter ${ref.text}, declared as one value`;
    case 'workflow-variable':
      return `${ref.text} (one value)`;
    default:
      return undefined;
  }
}

/** A value only the steps of one inner DAG can read (a map iteration's input and item values). */
export class ScopedRef extends Ref {
  /** @internal */
  constructor(
    text: string,
    expression: string,
    /** The construct path of the DAG whose steps can read it (what their `workflowPath` is). */
    public readonly scopePath: string,
    /** Who can read it, for the error: `the iteration of map "each"`. */
    public readonly scopeName: string,
  ) {
    super(text, expression, 'workflow-variable');
  }
}

/** The current item of a fan-out (`forEach`). */
export class ItemRef extends Ref {
  /** @internal */
  constructor(text = '{{item}}', expression = 'item') {
    super(text, expression, 'item');
  }

  /** A field of the item when items are JSON objects: `wf.item.get('href')` -> `{{item.href}}`. */
  public get(field: string): ItemRef {
    return new ItemRef(`{{item.${field}}}`, `item[${quote(field)}]`);
  }
}

/**
 * The first of several step values whose step succeeded (`wf.firstOf(a.output, b.output)`):
 * the join of a Choice's branches. Rendered as an expression over `tasks['a'].status`, which
 * Argo puts in the scope of a DAG task for each of its ancestors; a skipped branch is passed
 * over, and '' is the value when no branch succeeded.
 */
export class JoinRef extends Ref {
  /** @internal */
  constructor(
    /** The workflow's construct path, for errors. */
    public readonly workflowPath: string,
    public readonly sources: readonly Ref[],
  ) {
    const problem = joinProblem(workflowPath, sources);
    if (problem) throw new Error(problem);
    const expression = sources.reduceRight(
      (rest, ref) => `(${index('tasks', (ref.dependency ?? ref.producer)!.name)}.status == 'Succeeded' ? ${ref.expression} : ${rest})`,
      "''",
    );
    super(`{{=${expression}}}`, expression, 'join');
  }
}

function joinProblem(path: string, sources: readonly unknown[]): string | undefined {
  if (sources.length < 2) return `${path}: firstOf() joins two or more branches, got ${sources.length}; pass each branch's output`;
  for (const [i, ref] of sources.entries()) {
    // Argo resolves an artifact join only in a template's outputs: a DAG task argument with
    // fromExpression and no from is refused by its validation (validateArguments).
    if (ref instanceof ArtifactRef) {
      return `${path}: firstOf() argument ${i + 1} is output artifact "${ref.name}" of step "${ref.producer.name}", and Argo cannot join artifacts in a step's arguments; join the branches' payloads (step.output) and read the artifact's data from the payload`;
    }
    if (!(ref instanceof Ref) || ref instanceof JoinRef || !(ref.dependency ?? ref.producer)) {
      return `${path}: firstOf() argument ${i + 1} is not a step's output (step.output or step.outputs.parameters.x); join the outputs of the branches' steps`;
    }
    if (ref.kind === 'step-payload-list') {
      return `${path}: firstOf() argument ${i + 1} is the fan-out output of step "${ref.producer?.name}"; join single values`;
    }
  }
  const names = sources.map((r) => ((r as Ref).dependency ?? (r as Ref).producer)!.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) return `${path}: firstOf() is given two outputs of step "${dup}"; join outputs of different branches`;
  return undefined;
}

/** An output artifact of a step, passed to another step's input artifact. */
export class ArtifactRef {
  /** @internal */
  constructor(
    public readonly text: string,
    public readonly producer: Producer,
    public readonly name: string,
  ) {}

  public toString(): string {
    return this.text;
  }
}

/** A condition for `when` (Argo expression language, evaluated when the step is reached). */
export class Condition {
  /** A raw Argo expression (expr-lang), e.g. `workflow.parameters['mode'] == 'full'`; pass the refs it reads so dependencies follow. */
  public static expression(expression: string, ...refs: Ref[]): Condition {
    return new Condition(expression, refs);
  }

  /** @internal */
  constructor(
    public readonly expression: string,
    public readonly refs: readonly Ref[],
  ) {}

  public and(other: Condition): Condition {
    return new Condition(`(${this.expression}) && (${other.expression})`, [...this.refs, ...other.refs]);
  }

  public or(other: Condition): Condition {
    return new Condition(`(${this.expression}) || (${other.expression})`, [...this.refs, ...other.refs]);
  }

  public not(): Condition {
    return new Condition(`!(${this.expression})`, this.refs);
  }
}

/** A step argument: a literal string or a reference. */
export type Value = string | Ref;

export function render(value: Value): string {
  return typeof value === 'string' ? value : value.text;
}

/** Quotes a string for Argo's expression language. */
export function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Expression-language access to a possibly hyphenated name: `tasks['split-assets']`. */
export function index(base: string, name: string): string {
  return `${base}[${quote(name)}]`;
}
