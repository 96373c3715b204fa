import { describe, expect, it } from 'vitest';
import { expressionRefs, variableRefs } from '../../tools/lint/references';

const refs = (text: string) => variableRefs(text).map((r) => `${r.root}:${r.segments.join('/')}`);

describe('variable references', () => {
  it.each([
    ['{{inputs.parameters.my-param}}', ['inputs:parameters/my-param']],
    ['{{ tasks.a-b.outputs.parameters.x }}', ['tasks:a-b/outputs/parameters/x']],
    ['s3://{{workflow.parameters.bucket}}/{{workflow.name}}/{{pod.name}}', ['workflow:parameters/bucket', 'workflow:name']],
    ["{{=inputs.parameters['my-param'] + tasks.a.outputs.result}}", ['inputs:parameters/my-param', 'tasks:a/outputs/result']],
    ['{{= jsonpath(steps.gen.outputs.parameters["out-x"], "$.a") }}', ['steps:gen/outputs/parameters/out-x']],
    ["{{= 'inputs.parameters.in-a-string' }}", []],
    ['{{item.name}} {{.Input.body}} no tags here', []],
  ])('%s', (text, expected) => {
    expect(refs(text)).toEqual(expected);
  });

  it('reads bare expressions as written in hooks', () => {
    expect(expressionRefs('tasks.build.status == "Running" && workflow.parameters.x != ""').map((r) => r.text)).toEqual(['tasks.build.status', 'workflow.parameters.x']);
  });
});
