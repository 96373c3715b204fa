import { describe, expect, it } from 'vitest';
import { lintObjects } from '../../tools/lint/index';
import { platform, type Doc } from './fixtures';

/** The `expressions` rule: template tags in hand-written YAML, checked as synth checks the constructs. */
function lintWith(mutate: (wf: Doc, lib: Doc) => void): string[] {
  const docs = platform();
  const [lib, wf] = docs;
  mutate(wf, lib);
  return lintObjects(docs).map((p) => `${p.resource}: ${p.path}: ${p.message} [${p.rule}]`);
}

const task = (wf: Doc, name: string): Doc => wf.spec.templates[0].dag.tasks.find((t: Doc) => t.name === name);

describe('lint: expressions', () => {
  it('flags a {{...}} nested inside {{=...}} and names the expression form to use', () => {
    expect(lintWith((wf) => {
      task(wf, 'publish').when = "{{=sprig.trim('{{tasks.mask.outputs.parameters.output}}') != ''}}";
    })).toEqual([
      `WorkflowTemplate/sentinel2-cogs: spec.templates[main].dag.tasks[publish].when: the expression at column 1 contains a "{{" tag at column 16, which Argo cannot evaluate (tags do not nest: the expression would end at the first "}}"); write the reference in expression form, tasks['mask'].outputs.parameters['output'], instead of {{tasks.mask.outputs.parameters.output}} [expressions]`,
    ]);
  });

  it('flags a nested tag in a task-library container argument', () => {
    expect(lintWith((_wf, lib) => {
      lib.spec.templates[0].container.args.push('{{=sprig.upper("{{inputs.parameters.input}}")}}');
    })).toEqual([
      `WorkflowTemplate/swoop-tasks: spec.templates[copy-assets].container.args[4]: the expression at column 1 contains a "{{" tag at column 17, which Argo cannot evaluate (tags do not nest: the expression would end at the first "}}"); write the reference in expression form, inputs.parameters['input'], instead of {{inputs.parameters.input}} [expressions]`,
    ]);
  });

  it('flags an expression that is not expr-lang, and an unclosed tag', () => {
    expect(lintWith((wf) => {
      task(wf, 'publish').when = "{{=tasks.mask.outputs.parameters.output = ''}}";
      wf.spec.templates[1].http.url = '{{workflow.parameters.state-url/events';
    })).toEqual([
      `WorkflowTemplate/sentinel2-cogs: spec.templates[main].dag.tasks[publish].when: the expression at column 1 is not valid expr-lang: unexpected "=" at column 38 of the expression; fix its syntax (https://expr-lang.org/docs/language-definition) [expressions]`,
      `WorkflowTemplate/sentinel2-cogs: spec.templates[notify].http.url: "{{" at column 1 has no closing "}}"; close the tag or remove the braces [expressions]`,
    ]);
  });

  it('flags a when govaluate cannot evaluate after substitution, and accepts the govaluate forms Argo documents', () => {
    expect(lintWith((wf) => {
      task(wf, 'publish').when = '{{tasks.mask.outputs.parameters.output}} == x &&';
    })).toEqual([
      `WorkflowTemplate/sentinel2-cogs: spec.templates[main].dag.tasks[publish].when: when "{{tasks.mask.outputs.parameters.output}} == x &&" is not a condition Argo can evaluate when {{tasks.mask.outputs.parameters.output}} is "value": ` +
        `after substitution govaluate reads "value == x &&" and fails (Unexpected end of expression); put values in double quotes ("{{...}}" == "x") or use the step's when option (a Condition) [expressions]`,
    ]);
    expect(lintWith((wf) => {
      task(wf, 'publish').when = '{{tasks.mask.outputs.parameters.output}} != none && "{{workflow.name}}" =~ "^s2"';
    })).toEqual([]);
  });

  it('accepts the correct platform (and test/lint/examples.test.ts: every official example expression)', () => {
    expect(lintWith(() => {})).toEqual([]);
  });
});
