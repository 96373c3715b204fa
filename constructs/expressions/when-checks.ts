/**
 * A step's `when`, checked as Argo runs it. The controller substitutes every tag first (a
 * `{{=...}}` expression by its result's text, a `{{...}}` variable by its value, both
 * escaped for a JSON string) and then hands the text to govaluate (./govaluate.ts), which
 * must answer a boolean. So:
 * - a condition's expr-lang must yield a boolean, not a value whose text happens to be
 *   `true` (conditionResultProblem);
 * - the substituted text must be a govaluate condition for every value a tag can take
 *   (whenProblems): a `{{...}}` whose value is not known at synth (an output, a parameter
 *   without enum) is tried with values a step may produce (a URL, JSON, two words, a
 *   number, nothing), which is why such values must sit in quotes.
 */
import { parseExpr, type ExprNode } from './expr-lang';
import { evaluateWhen } from './govaluate';
import { templateTags } from './template-tags';

/** Values a tag of unknown content is tried with: what steps commonly output. Quotes (') are assumed absent. */
export const UNKNOWN_VALUE_SAMPLES: readonly string[] = ['s3://bucket/run/step/output.json', '{"id": "a"}', 'two words', '42', ''];
const BOOLEAN_TEXTS = ['true', 'false'];
const NODE_PHASES = ['Succeeded', 'Failed', 'Error', 'Skipped', 'Omitted'];

/**
 * The values a `{{variable}}` can take, when synth knows them (a parameter's enum, a node
 * phase, an exit code); undefined when anything is possible.
 */
export type KnownValues = (variable: string) => readonly string[] | undefined;

/** Values Argo itself defines for some variables. */
export function argoKnownValues(variable: string): readonly string[] | undefined {
  if (/^(tasks|steps)\.[^.]+\.status$/.test(variable)) return NODE_PHASES;
  if (/^(tasks|steps)\.[^.]+\.exitCode$/.test(variable)) return ['0', '1'];
  if (variable === 'workflow.status') return ['Succeeded', 'Failed', 'Error'];
  return undefined;
}

type ResultType = 'boolean' | 'value' | 'unknown';

/** Whether an expr-lang expression yields a boolean, certainly something else, or cannot be told. */
export function resultType(node: ExprNode): ResultType {
  switch (node.k) {
    case 'lit':
      return typeof node.v === 'boolean' ? 'boolean' : 'value';
    case 'unary':
      return node.op === '!' ? 'boolean' : 'value';
    case 'bin':
      if (['==', '!=', '<', '<=', '>', '>=', '&&', '||', 'in', 'matches', 'contains', 'startsWith', 'endsWith'].includes(node.op)) return 'boolean';
      if (node.op === '??') return join(resultType(node.l), resultType(node.r));
      return 'value';
    case 'cond':
      return join(resultType(node.yes), resultType(node.no));
    case 'let':
      return resultType(node.body);
    // Argo's variables are strings (its scope maps names to text).
    case 'id':
    case 'member':
    case 'map':
    case 'array':
    case 'slice':
    case 'closure':
      return 'value';
    default:
      // Calls and pipes: expr-lang builtins and sprig functions may return anything.
      return 'unknown';
  }
}

function join(a: ResultType, b: ResultType): ResultType {
  return a === b ? a : a === 'unknown' || b === 'unknown' ? 'unknown' : 'value';
}

/** A problem when a condition's expression certainly yields something other than a boolean. */
export function conditionResultProblem(expression: string): string | undefined {
  let node: ExprNode;
  try {
    node = parseExpr(expression);
  } catch {
    return undefined; // the syntax check reports it
  }
  if (resultType(node) !== 'value') return undefined;
  return (
    `when condition "${expression}" yields a value, not true or false: Argo puts the value's text into the when and govaluate ` +
    `must read a boolean there, so the step fails unless the text is exactly true or false; compare it (${expression} == 'true', ref.equals('x'))`
  );
}

/**
 * Problems of a rendered `when` (tags included) under govaluate, for every value its tags can
 * take; `known` says what synth knows of a variable's values, `unknownSamples` what the
 * others are tried with (lint, which knows no outputs, tries one plain word: grammar only).
 * What the model does not evaluate is a problem at synth (nothing vouches for it) but not
 * in lint (`reportUnsupported: false`: hand-written YAML may use all of govaluate).
 */
export function whenProblems(
  when: string, known: KnownValues, options: { readonly unknownSamples?: readonly string[]; readonly reportUnsupported?: boolean } = {},
): string[] {
  const unknownSamples = options.unknownSamples ?? UNKNOWN_VALUE_SAMPLES;
  const tags = templateTags(when);
  if (tags.some((t) => !t.closed)) return []; // the tag checks report it
  const choices = tags.map((tag) => valuesOf(tag.body, known, unknownSamples));
  // Each tag through its values, the others at their first: enough to find the value that breaks it.
  const trials: number[][] = [tags.map(() => 0)];
  choices.forEach((values, i) => values.forEach((_, v) => v > 0 && trials.push(tags.map((__, j) => (j === i ? v : 0)))));
  for (const trial of trials) {
    let text = '';
    let from = 0;
    tags.forEach((tag, i) => {
      text += when.slice(from, tag.at) + escapeForJson(choices[i]![trial[i]!]!);
      from = tag.at + 2 + tag.body.length + 2;
    });
    text += when.slice(from);
    const outcome = evaluateWhen(text);
    if (outcome.kind === 'value') continue;
    const varying = tags.findIndex((_, i) => trial[i] !== 0);
    const named = tags.map((tag, i) => `{{${tag.body}}} is ${JSON.stringify(choices[i]![trial[i]!])}`).filter((_, i) => varying < 0 || i === varying);
    const when_ = named.length ? ` when ${named.join(', ')}` : '';
    if (outcome.kind === 'unsupported') {
      if (options.reportUnsupported === false) return [];
      return [`when "${when}" uses ${outcome.reason}, which synth cannot check against Argo's when evaluation (govaluate); write the condition with the step's when option (a Condition) instead`];
    }
    return [
      `when "${when}" is not a condition Argo can evaluate${when_}: after substitution govaluate reads "${text}" and fails (${outcome.reason}); ` +
        'put values in double quotes ("{{...}}" == "x") or use the step\'s when option (a Condition)',
    ];
  }
  return [];
}

/** Values a tag may be replaced by. */
function valuesOf(body: string, known: KnownValues, unknownSamples: readonly string[]): readonly string[] {
  if (body.startsWith('=')) {
    let type: ResultType = 'unknown';
    try {
      type = resultType(parseExpr(body.slice(1).replace(/\\"/g, '"')));
    } catch {
      // the tag checks report it
    }
    return type === 'boolean' ? BOOLEAN_TEXTS : unknownSamples;
  }
  const variable = body.trim();
  return known(variable) ?? argoKnownValues(variable) ?? unknownSamples;
}

/** What Argo writes for a substituted value: JSON string escaping without the quotes. */
function escapeForJson(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}
