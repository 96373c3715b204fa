import { describe, expect, it } from 'vitest';
import { evaluateWhen, expressionEnv, globalVariables, inputVariables, renderTags, resolveParameters, workflowFailures, type ClusterObjects, type Doc } from './support/argo';
import { evaluate } from './support/expr';

/** The e2e renderer's own behaviour: Argo's semantics where the flow tests rely on them, and loud failures elsewhere. */
const template: Doc = {
  metadata: { name: 'wt', namespace: 'swoop' },
  spec: {
    entrypoint: 'main',
    arguments: {
      parameters: [
        { name: 'input' },
        { name: 'replace', value: 'false', enum: ['false', 'true'] },
        { name: 'state-url', valueFrom: { configMapKeyRef: { name: 'swoop-platform', key: 'state-url' } } },
      ],
    },
  },
};
const labelled: ClusterObjects = {
  configMaps: { 'swoop-platform': { labels: { 'workflows.argoproj.io/configmap-type': 'Parameter' }, data: { 'state-url': 'http://state:8080' } } },
  secrets: {},
};
const run = { name: 'wt-abc', uid: 'u-1', creationTimestamp: '2026-03-02T10:15:30Z', arguments: { input: 's3://b/in.json' } };

describe('e2e Argo renderer', () => {
  const scope = globalVariables(template, run, resolveParameters(template, run.arguments, labelled), { status: 'Failed', failures: workflowFailures([]) });

  it('resolves defaults, submitted arguments and labelled ConfigMap values', () => {
    expect(resolveParameters(template, { input: 'x', replace: 'true' }, labelled)).toEqual({ input: 'x', replace: 'true', 'state-url': 'http://state:8080' });
  });

  it.each([
    ['an argument the template does not declare', { input: 'x', typo: '1' }, labelled, 'argument "typo" is not a declared parameter'],
    ['a required parameter nobody set', {}, labelled, 'parameter "input" has no value'],
    ['a value outside the enum', { input: 'x', replace: 'yes' }, labelled, 'not one of its enum values false, true'],
    ['a ConfigMap without the Parameter label (Argo v4)', { input: 'x' }, { configMaps: { 'swoop-platform': { data: { 'state-url': 'u' } } }, secrets: {} }, 'lacks the label workflows.argoproj.io/configmap-type: Parameter'],
    ['a missing ConfigMap key', { input: 'x' }, { configMaps: { 'swoop-platform': { ...labelled.configMaps['swoop-platform']!, data: {} } }, secrets: {} }, 'has no key state-url'],
  ] as const)('rejects %s', (_what, args, cluster, message) => {
    expect(() => resolveParameters(template, args, cluster)).toThrow(message);
  });

  it('fails on a tag that names no variable, and on a key an expression cannot find', () => {
    expect(() => renderTags('{{workflow.parameters.inptu}}', scope, 'here')).toThrow('here: cannot resolve {{workflow.parameters.inptu}}');
    expect(() => renderTags("{{=workflow.parameters['inptu']}}", scope, 'here')).toThrow("workflow.parameters['inptu'] is not defined");
    expect(() => renderTags('{{=sprig.upper(workflow.name)}}', scope, 'here')).toThrow('sprig.upper is not supported by the e2e renderer');
  });

  it('evaluates the sprig functions the templates call as Go does: regexReplaceAll with $1 expansion, sha1sum', () => {
    const s3 = { ...scope, 'inputs.parameters.u': 's3://bucket/a/b.json' };
    expect(renderTags("{{=sprig.regexReplaceAll('^s3://([^/]+)/.*$', inputs.parameters.u, '$1')}}", s3, 't')).toBe('bucket');
    expect(renderTags("{{=sprig.regexReplaceAll('^s3://[^/]+/*', inputs.parameters.u, '')}}", s3, 't')).toBe('a/b.json');
    expect(renderTags("{{=sprig.regexReplaceAll('b', 'abcb', '${1}x')}}", s3, 't')).toBe('axcx'); // no group 1: empty, as in Go
    expect(renderTags("{{=sprig.regexReplaceAll('(b)', 'ab', '$1x|${1}x|$$')}}", s3, 't')).toBe('a|bx|$'); // Go reads $1x as group "1x"
    expect(renderTags("{{=sprig.sha1sum('abc')}}", s3, 't')).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
  });

  it('builds the expression env as Argo does: workflow.creationTimestamp is a map there, .RFC3339 the string', () => {
    expect(renderTags('{{workflow.creationTimestamp}}', scope, 't')).toBe('2026-03-02T10:15:30Z');
    expect(renderTags('{{=workflow.creationTimestamp.RFC3339}}', scope, 't')).toBe('2026-03-02T10:15:30Z');
    expect(renderTags('{{=string(workflow.creationTimestamp)}}', scope, 't')).toMatch(/^map\[A:Monday B:March .*RFC3339:2026-03-02T10:15:30Z .*s:1772446530 .*\]$/);
  });

  it('passes workflow.failures through strconv.Quote, as the controller stores it', () => {
    expect(workflowFailures([])).toBe('"null"');
    const nodes = [{ displayName: 'a', message: 'Error (exit code 1)', templateName: 't', phase: 'Failed' as const, podName: 'p', finishedAt: '2026-03-02T10:20:00Z' }];
    expect(JSON.parse(JSON.parse(workflowFailures(nodes)))).toEqual(nodes);
  });

  it('evaluates toJson like Go (sorted keys, HTML-safe escapes), ?? and the ternary', () => {
    const env = expressionEnv(scope);
    expect(evaluate("toJson({'b': 1, 'a': '<&>', 'c': workflow.status == 'Succeeded'})", env)).toBe('{"a":"\\u003c\\u0026\\u003e","b":1,"c":false}');
    expect(evaluate("workflow.missing ?? 'fallback'", env)).toBe('fallback');
    expect(evaluate("workflow.status == 'Failed' ? workflow.name + '/x' : ''", env)).toBe('wt-abc/x');
    expect(() => evaluate("workflow.status && true", env)).toThrow('invalid operation: string && ...');
  });

  it('gives a called template its inputs from the arguments, else defaults, and refuses the rest', () => {
    const called = { name: 'notify', inputs: { parameters: [{ name: 'url' }, { name: 'method', default: 'POST' }] } };
    expect(inputVariables(called, { url: 'http://x' })).toEqual({ 'inputs.parameters.url': 'http://x', 'inputs.parameters.method': 'POST' });
    expect(() => inputVariables(called, {})).toThrow('input parameter "url" has no value');
    expect(() => inputVariables(called, { url: 'u', body: 'b' })).toThrow('argument "body" is not one of its inputs');
    expect(renderTags('{{inputs.parameters.method}} {{inputs.parameters.url}}', { ...scope, ...inputVariables(called, { url: 'http://x' }) }, 't')).toBe('POST http://x');
  });

  it('resolves a called template\'s valueFrom.configMapKeyRef inputs as ProcessArgs does: the labelled ConfigMap, an argument instead, valueFrom.default, else the controller\'s error', () => {
    const queue = { name: 'queue', valueFrom: { configMapKeyRef: { name: 'swoop-platform', key: 'review-queue' } } };
    const called = { name: 'send', inputs: { parameters: [{ name: 'input' }, queue] } };
    const cluster: ClusterObjects = { configMaps: { 'swoop-platform': { ...labelled.configMaps['swoop-platform']!, data: { 'review-queue': 'https://sqs/q' } } }, secrets: {} };
    expect(inputVariables(called, { input: 'i' }, cluster)).toEqual({ 'inputs.parameters.input': 'i', 'inputs.parameters.queue': 'https://sqs/q' });
    // an argument replaces the input's valueFrom (overwriteWithArguments)
    expect(inputVariables(called, { input: 'i', queue: 'https://sqs/other' }, cluster)['inputs.parameters.queue']).toBe('https://sqs/other');
    // the ConfigMap's value replaces a value the input also declares
    expect(inputVariables({ name: 'send', inputs: { parameters: [{ ...queue, value: 'literal' }] } }, {}, cluster)['inputs.parameters.queue']).toBe('https://sqs/q');
    const unlabelled: ClusterObjects = { configMaps: { 'swoop-platform': { data: { 'review-queue': 'https://sqs/q' } } }, secrets: {} };
    expect(() => inputVariables(called, { input: 'i' }, unlabelled)).toThrow(
      'template send: unable to retrieve inputs.parameters.queue from ConfigMap: ConfigMap swoop-platform lacks the label workflows.argoproj.io/configmap-type: Parameter',
    );
    expect(() => inputVariables(called, { input: 'i' }, labelled)).toThrow('unable to retrieve inputs.parameters.queue from ConfigMap: ConfigMap swoop-platform has no key review-queue');
    const withDefault = { name: 'send', inputs: { parameters: [{ ...queue, valueFrom: { ...queue.valueFrom, default: 'fallback' } }] } };
    expect(inputVariables(withDefault, {}, labelled)['inputs.parameters.queue']).toBe('fallback');
    expect(() => inputVariables(called, { input: 'i' })).toThrow('input parameter "queue" reads ConfigMap swoop-platform; give the cluster objects');
  });

  it('evaluates DAG whens on task outputs, short-circuiting like expr', () => {
    const gate = { name: 'work', when: "{{=jsonpath(tasks.claim.outputs.result, '$.claimed') == true && len(fromJSON(tasks['split'].outputs.parameters['items'])) > 0}}" };
    expect(evaluateWhen(gate, scope, { claim: { result: '{"claimed":false}' } })).toBe(false);
    expect(evaluateWhen(gate, scope, { claim: { result: '{"claimed":true}' }, split: { parameters: { items: '["a"]' } } })).toBe(true);
    expect(() => evaluateWhen(gate, scope, { claim: { result: '{"claimed":true}' } })).toThrow("tasks['split'] is not defined");
    expect(() => evaluateWhen({ name: 'x', when: '{{=workflow.name}}' }, scope, {})).toThrow('when rendered to "wt-abc"');
  });
});
