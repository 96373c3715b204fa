import { describe, expect, it } from 'vitest';
import { Condition, ServiceTask, Workflow } from '../../constructs';
import { exprSyntaxProblem } from '../../constructs/expressions/expr-lang';
import { expressionFormOf, templateTagProblems } from '../../constructs/expressions/template-tags';
import { renderTags } from '../e2e/support/argo';
import { fixture, problemsOf } from './fixtures';

/** Expressions are parsed at synth: `when` conditions, `{{=...}}` tags and `{{` nested in them. */
describe('expr-lang syntax (the parser synth uses for {{=...}} and when)', () => {
  it.each([
    "jsonpath(tasks.claim.outputs.result, '$.claimed') == true",
    "workflow.parameters['mode'] == 'full' && !(inputs.parameters.x in ['a', 'b'])",
    "len(fromJSON(tasks['split'].outputs.parameters['items'])) > 0",
    "sprig.trim(workflow.name) | upper()",
    "x not in [1, 2] and y matches '^a.*' or z startsWith 'p'",
    'filter(items, {# > 2 && .size < 10})',
    'a ?? b ?: c',
    'let n = 1; n + 2 ** 3',
    'arr[1:3]',
    'obj?.field?.[0]',
    '`raw string with "quotes"`',
    "toJson({'type': 'invalid', \"n\": 1_000, 'f': 1.5e3})",
    'if a > 1 { "big" } else { "small" }',
    "1..5",
    '/* comment */ true // trailing',
  ])('accepts %s', (expression) => {
    expect(exprSyntaxProblem(expression)).toBeUndefined();
  });

  it.each([
    ["workflow.parameters['mode'] = 'full'", 'unexpected "=" at column 29'],
    ["workflow.parameters['mode'] == 'full", 'unterminated string literal at column 32'],
    ['(a && b', 'expected ")" before the end of the expression at column 8'],
    ['a &&', 'the expression ends too early at column 5'],
    ['a === b', 'unexpected "=" at column 5'],
    ['', 'the expression is empty at column 1'],
    ["tasks.x.outputs.result == 'a' )", 'unexpected ")" at column 31'],
    ['a @ b', 'unexpected character "@" at column 3'],
  ])('rejects %s', (expression, problem) => {
    expect(exprSyntaxProblem(expression)).toBe(problem);
  });
});

describe('template tags', () => {
  it('writes a simple tag in expression form, bracketing names that may contain "-"', () => {
    expect(expressionFormOf('tasks.split-assets.outputs.parameters.assets')).toBe("tasks['split-assets'].outputs.parameters['assets']");
    expect(expressionFormOf('inputs.parameters.y')).toBe("inputs.parameters['y']");
    expect(expressionFormOf('workflow.name')).toBe('workflow.name');
    expect(expressionFormOf('item.href')).toBe("item['href']");
  });

  it('finds a {{...}} nested in {{=...}} and says what to write instead', () => {
    expect(templateTagProblems("{{=sprig.trim('{{inputs.parameters.y}}')}}")).toEqual([
      `the expression at column 1 contains a "{{" tag at column 16, which Argo cannot evaluate (tags do not nest: the expression would end at the first "}}"); write the reference in expression form, inputs.parameters['y'], instead of {{inputs.parameters.y}}`,
    ]);
  });

  it('parses each {{=...}} and leaves simple tags and plain text alone', () => {
    expect(templateTagProblems("s3://{{workflow.parameters.bucket}}/{{=sprig.lower(workflow.name)}}")).toEqual([]);
    expect(templateTagProblems('{{=a +}}')).toEqual([
      'the expression at column 1 is not valid expr-lang: the expression ends too early at column 4 of the expression; fix its syntax (https://expr-lang.org/docs/language-definition)',
    ]);
    expect(templateTagProblems('x {{=a')).toEqual(['the expression at column 3 has no closing "}}"; close it']);
    // Argo unescapes JSON-escaped quotes before evaluating.
    expect(templateTagProblems('{{=toJson({\\"a\\": 1})}}')).toEqual([]);
  });
});

describe('synth fails at the step path on a bad expression', () => {
  const build = (props: Record<string, unknown>) => () => {
    const f = fixture();
    const wf = new Workflow(f.app, 'wf');
    const split = wf.addStep('split', f.tasks.split);
    wf.addStep('merge', f.tasks.merge, { parameters: { parts: split.output }, ...props });
    return f.app;
  };

  it('a when condition with invalid syntax', () => {
    expect(problemsOf(build({ when: Condition.expression("workflow.parameters['mode'] = 'full'") }))).toEqual([
      `wf/merge: when condition "workflow.parameters['mode'] = 'full'" is not a valid Argo expression (expr-lang): unexpected "=" at column 29; fix its syntax`,
    ]);
  });

  it('a when condition holding a {{...}} tag', () => {
    expect(problemsOf(build({ when: Condition.expression("{{tasks.split.outputs.result}} == 'x'") }))).toEqual([
      `wf/merge: when condition "{{tasks.split.outputs.result}} == 'x'" contains a "{{" tag, which Argo cannot evaluate inside the {{=...}} the condition is rendered into; use tasks['split'].outputs.result instead of {{tasks.split.outputs.result}} (or a Ref's .equals()/.isNotEmpty())`,
    ]);
  });

  it('a parameter whose {{=...}} holds a nested tag', () => {
    const problems = problemsOf(() => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      wf.addStep('convert', f.tasks.convert, { parameters: { asset: "{{=sprig.upper('{{workflow.parameters.input}}')}}" } });
      return f.app;
    });
    expect(problems).toEqual([
      `wf/convert: arguments.parameters[asset].value: the expression at column 1 contains a "{{" tag at column 17, which Argo cannot evaluate (tags do not nest: the expression would end at the first "}}"); write the reference in expression form, workflow.parameters['input'], instead of {{workflow.parameters.input}}`,
    ]);
  });

  it('an override with an invalid expression', () => {
    expect(problemsOf(build({ overrides: { hooks: { exit: { expression: 'x', arguments: { parameters: [{ name: 'p', value: '{{=1 +* 2}}' }] } } } } }))).toEqual([
      'wf/merge: hooks.exit.arguments.parameters[p].value: the expression at column 1 is not valid expr-lang: unexpected "*" at column 4 of the expression; fix its syntax (https://expr-lang.org/docs/language-definition)',
    ]);
  });

  it('a when condition that yields a value, not a boolean', () => {
    expect(problemsOf(build({ when: Condition.expression("tasks['split'].outputs.result") }))).toEqual([
      `wf/merge: when condition "tasks['split'].outputs.result" yields a value, not true or false: Argo puts the value's text into the when and govaluate must read a boolean there, ` +
        `so the step fails unless the text is exactly true or false; compare it (tasks['split'].outputs.result == 'true', ref.equals('x'))`,
    ]);
  });

  // An overridden when is what Argo evaluates with govaluate after substitution.
  it('a hand-written when comparing an unquoted output (a URL breaks it)', () => {
    expect(problemsOf(build({ overrides: { when: '{{tasks.split.outputs.parameters.assets}} == none' } }))).toEqual([
      'wf/merge: when "{{tasks.split.outputs.parameters.assets}} == none" is not a condition Argo can evaluate when {{tasks.split.outputs.parameters.assets}} is "s3://bucket/run/step/output.json": ' +
        `after substitution govaluate reads "s3://bucket/run/step/output.json == none" and fails (Invalid token: '://'); put values in double quotes ("{{...}}" == "x") or use the step's when option (a Condition)`,
    ]);
  });

  it('a hand-written when that is not a boolean once substituted', () => {
    expect(problemsOf(build({ overrides: { when: '"{{workflow.name}}"' } }))).toEqual([
      'wf/merge: when ""{{workflow.name}}"" is not a condition Argo can evaluate when {{workflow.name}} is "s3://bucket/run/step/output.json": after substitution govaluate reads ' +
        `""s3://bucket/run/step/output.json"" and fails (Expected boolean evaluation for '"s3://bucket/run/step/output.json"'. Got s3://bucket/run/step/output.json); put values in double quotes ("{{...}}" == "x") or use the step's when option (a Condition)`,
    ]);
  });

  it('a hand-written when with syntax synth cannot check (a regex flag RE2 and JavaScript read differently)', () => {
    expect(problemsOf(build({ overrides: { when: '"{{workflow.name}}" =~ "(?i)^cog"' } }))).toEqual([
      `wf/merge: when ""{{workflow.name}}" =~ "(?i)^cog"" uses the regular expression "(?i)^cog" (a group flag; Go's RE2 and JavaScript may read it differently), which synth cannot check against Argo's when evaluation (govaluate); write the condition with the step's when option (a Condition) instead`,
    ]);
  });

  it("govaluate's other operators pass: regex, in-lists, arithmetic, ternary; an invalid regex fails as Argo fails it", () => {
    for (const when of [
      '"{{workflow.name}}" =~ "^cog"',
      '"{{workflow.name}}" !~ "^test-"',
      '{{tasks.split.status}} in (Succeeded, Skipped)',
      '"{{workflow.name}}" + "-x" != ""',
      '{{tasks.split.status}} == Succeeded ? true : false',
    ]) {
      expect(problemsOf(build({ overrides: { when } })), when).toEqual([]);
    }
    expect(problemsOf(build({ overrides: { when: '"{{workflow.name}}" =~ "^(cog"' } }))).toEqual([
      expect.stringMatching(/^wf\/merge: when ""\{\{workflow.name\}\}" =~ "\^\(cog"" is not a condition Argo can evaluate.*Unable to compile regexp pattern '\^\(cog'/),
    ]);
  });

  it('hand-written whens Argo evaluates pass: quoted values, enum values and phases bare, conditions', () => {
    expect(problemsOf(() => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf', { parameters: { mode: { default: 'full', enum: ['full', 'quick'] } } });
      const split = wf.addStep('split', f.tasks.split);
      wf.addStep('a', f.tasks.merge, { parameters: { parts: split.output }, overrides: { when: '"{{tasks.split.outputs.parameters.assets}}" != "[]"' } });
      wf.addStep('b', f.tasks.merge, { parameters: { parts: split.output }, overrides: { when: '{{workflow.parameters.mode}} == full && {{tasks.split.status}} == Succeeded' } });
      wf.addStep('c', f.tasks.merge, { parameters: { parts: split.output }, overrides: { when: "{{=tasks['split'].status == 'Succeeded'}} || false" } });
      return f.app;
    })).toEqual([]);
  });

  it('valid conditions and expressions pass', () => {
    expect(problemsOf(() => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf', { parameters: { mode: { default: 'full' } } });
      const split = wf.addStep('split', f.tasks.split);
      wf.addStep('merge', f.tasks.merge, {
        parameters: { parts: "{{=sprig.trim(tasks['split'].outputs.parameters['assets'])}}" },
        when: wf.params.mode.equals('full').and(split.outputs.parameters.assets.isNotEmpty()),
      });
      return f.app;
    })).toEqual([]);
  });
});

describe('ServiceTask HTTP body', () => {
  // Found by the expressions check: the body used to end its maps with "}}", where Argo ends the tag.
  it.each([
    ['with parameters', { collection: { default: 'c' } }, { 'inputs.parameters.collection': 'c' }, { collection: 'c' }],
    ['without parameters', {}, {}, {}],
  ] as const)('is one {{=...}} tag Argo can evaluate, %s', (_what, inputs, extra, parameters) => {
    const f = fixture();
    const task = new ServiceTask(f.lib, 'svc', { image: 'ghcr.io/example/publisher:1.0.4', path: '/p', inputs: { parameters: inputs } });
    const body = (task.workflowTemplate.toJson() as { spec: { templates: { http: { body: string } }[] } }).spec.templates[0]!.http.body;
    expect(templateTagProblems(body)).toEqual([]);
    const scope = { 'inputs.parameters.input': 's3://b/in.json', 'inputs.parameters.output': 's3://b/out.json', ...extra };
    expect(JSON.parse(renderTags(body, scope, 'body'))).toEqual({ input: 's3://b/in.json', output: 's3://b/out.json', parameters });
  });
});
