import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { HAVE_REFERENCE, referencePath } from '../support/reference';
import { eventText, filterEvent, goHttpHeader, rawEvent, Simulator, webhookEvent, webhookRequest } from '../../tools/simulator';
import { getPath, resultString, resultValue } from '../../tools/simulator/gjson';
import { renderGoTemplate } from '../../tools/simulator/go-template';

type Doc = Record<string, any>;

/** An official Argo Events example, loaded from the reference folder (never copied here). */
function example(name: string): Doc {
  return parse(readFileSync(referencePath('argo-events', 'examples', name), 'utf8')) as Doc;
}

function dependency(name: string, index = 0): Doc {
  return example(name).spec.dependencies[index] as Doc;
}

/** A simulator holding the official webhook EventSource (event webhook/example) and one example sensor. */
function simulatorFor(sensorFile: string): Simulator {
  const source = parseAllDocuments(readFileSync(referencePath('argo-events', 'examples', 'event-sources_webhook.yaml'), 'utf8')).map((d) => d.toJS());
  return new Simulator([...source, example(sensorFile)]);
}

describe.skipIf(!HAVE_REFERENCE)('simulator filter semantics, on the official examples', () => {
  it('string data filters are unanchored regular expressions, any value matching is enough (filter-with-data-simple-1)', () => {
    const dep = dependency('sensors_filter-with-data-simple-1.yaml');
    expect(filterEvent(dep, webhookEvent('webhook', 'example', { message: 'hello' })).pass).toBe(true);
    expect(filterEvent(dep, webhookEvent('webhook', 'example', { message: 'hey there' })).pass).toBe(true);
    // The tutorial's own request, which the sensor discards.
    expect(filterEvent(dep, webhookEvent('webhook', 'example', { message: 'this is my first webhook' })).pass).toBe(false);
  });

  it('number comparators parse both sides as floats (filter-with-data-simple-4: body.value > 50.0)', () => {
    const dep = dependency('sensors_filter-with-data-simple-4.yaml');
    expect(filterEvent(dep, webhookEvent('webhook', 'example', { value: 50.5 })).pass).toBe(true);
    expect(filterEvent(dep, webhookEvent('webhook', 'example', { value: 50 })).pass).toBe(false);
    expect(filterEvent(dep, webhookEvent('webhook', 'example', { value: '75' })).pass).toBe(true);
  });

  it('a missing path discards the event with an error in "and" mode', () => {
    const outcome = filterEvent(dependency('sensors_filter-with-data-simple-4.yaml'), webhookEvent('webhook', 'example', { other: 1 }));
    expect(outcome.pass).toBe(false);
    expect(outcome.errors.join()).toMatch(/path 'body.value' does not exist/);
  });

  it('bool, number and string filters all pass as the comments of filter-with-data-advanced say', () => {
    const dep = dependency('sensors_filter-with-data-advanced.yaml');
    const data = { a: true, b: { c: 3.14, d: 'hello, world' } };
    expect(filterEvent(dep, rawEvent('webhook', 'example', data)).pass).toBe(true);
    expect(filterEvent(dep, rawEvent('webhook', 'example', { ...data, b: { ...data.b, c: 3.15 } })).pass).toBe(false);
    expect(filterEvent(dep, rawEvent('webhook', 'example', { ...data, a: false })).pass).toBe(false);
  });

  it('expr filters bind fields by path and evaluate govaluate expressions (filter-with-expressions)', () => {
    const dep = dependency('sensors_filter-with-expressions.yaml');
    const data = { a: 'b', 'a-longer-name': 10, nested: { path: { 'can-get': { longer: false } } } };
    expect(filterEvent(dep, rawEvent('webhook', 'example', data)).pass).toBe(true);
    expect(filterEvent(dep, rawEvent('webhook', 'example', { ...data, a: 'x' })).pass).toBe(true); // c == 10 still holds
    expect(filterEvent(dep, rawEvent('webhook', 'example', { ...data, a: 'x', 'a-longer-name': 11 })).pass).toBe(false);
    expect(filterEvent(dep, rawEvent('webhook', 'example', { ...data, nested: { path: { 'can-get': { longer: true } } } })).pass).toBe(false);
  });

  it('dataLogicalOperator "or": one passing data filter is enough (filter-with-multiple-data-filters-in-or)', () => {
    const dep = dependency('sensors_filter-with-multiple-data-filters-in-or.yaml');
    expect(filterEvent(dep, rawEvent('webhook', 'example', { a: true, b: { c: 3.14, d: 'not there' } })).pass).toBe(true);
    expect(filterEvent(dep, rawEvent('webhook', 'example', { a: false, b: { c: 1, d: 'not there' } })).pass).toBe(false);
  });

  it('exprLogicalOperator "or": the second expression alone passes (filter-with-multiple-expr-filters-in-or)', () => {
    const dep = dependency('sensors_filter-with-multiple-expr-filters-in-or.yaml');
    const data = { a: 'x', 'a-longer-name': 10, nested: { path: { 'can-get': { longer: false } } } };
    expect(filterEvent(dep, rawEvent('webhook', 'example', data)).pass).toBe(true);
    expect(filterEvent(dep, rawEvent('webhook', 'example', { ...data, nested: { path: { 'can-get': { longer: true } } } })).pass).toBe(false);
  });

  it('filtersLogicalOperator "or" between filter kinds: passing exprs carry a failing data filter (filter-with-multiple-filters-mixed)', () => {
    const dep = dependency('sensors_filter-with-multiple-filters-mixed.yaml');
    const data = { a: 'b', c: 10, d: { e: false } }; // exprs: true, true; data: a true, c > 20 FALSE, d.e true
    expect(filterEvent(dep, rawEvent('webhook', 'example', data)).pass).toBe(true);
    // With "and" between the kinds the failing data filter would discard it.
    expect(filterEvent({ ...dep, filtersLogicalOperator: 'and' }, rawEvent('webhook', 'example', data)).pass).toBe(false);
    expect(filterEvent(dep, rawEvent('webhook', 'example', { a: 'x', c: 1, d: { e: true } })).pass).toBe(false);
  });

  it('filter-with-multiple-filters-in-or passes on the data its comments describe', () => {
    const dep = dependency('sensors_filter-with-multiple-filters-in-or.yaml');
    expect(filterEvent(dep, rawEvent('webhook', 'example', { a: 'b', c: 10, d: { e: false } })).pass).toBe(true);
  });

  it('context filters compare the CloudEvent context (filter-with-context)', () => {
    const dep = dependency('sensors_filter-with-context.yaml');
    expect(filterEvent(dep, rawEvent('webhook', 'example', {}, { source: 'custom-webhook' })).pass).toBe(true);
    expect(filterEvent(dep, rawEvent('webhook', 'example', {}, { source: 'webhook' })).pass).toBe(false);
  });

  it('time filters take [start, stop) in UTC (filter-with-time: 02:30 to 04:30)', () => {
    const dep = dependency('sensors_filter-with-time.yaml');
    expect(filterEvent(dep, rawEvent('webhook', 'example', {}, { time: '2026-03-01T03:00:00Z' })).pass).toBe(true);
    expect(filterEvent(dep, rawEvent('webhook', 'example', {}, { time: '2026-03-01T04:30:00Z' })).pass).toBe(false);
    expect(filterEvent(dep, rawEvent('webhook', 'example', {}, { time: '2026-03-01T02:30:00Z' })).pass).toBe(true);
  });

  it('trigger parameters: dataKey, contextKey, default value and prepend land at dest (tutorial 02, sensors 01-04)', () => {
    const value = (file: string, body: unknown): unknown => {
      const [firing] = simulatorFor(file).deliver(webhookEvent('webhook', 'example', body)).firings;
      return (firing.action as { resource: Doc }).resource.spec.arguments.parameters[0].value;
    };
    expect(value('tutorials_02-parameterization_sensor-01.yaml', { message: 'hi' })).toBe('webhook');
    expect(value('tutorials_02-parameterization_sensor-02.yaml', { message: 'this is my first webhook' })).toBe('this is my first webhook');
    expect(value('tutorials_02-parameterization_sensor-03.yaml', { message: 'hi' })).toBe('wow! a default value.');
    expect(value('tutorials_02-parameterization_sensor-04.yaml', { message: 'hey!!' })).toBe('hey!!hello world');
  });

  it('trigger-level parameters rewrite the trigger template before it runs (tutorial 02, sensor 05)', () => {
    const [firing] = simulatorFor('tutorials_02-parameterization_sensor-05.yaml').deliver(
      webhookEvent('webhook', 'example', { dependencyName: 'test-dep', dataKey: 'body.message', dest: 'spec.arguments.parameters.0.value', message: 'rewired' }),
    ).firings;
    expect((firing.action as { resource: Doc }).resource.spec.arguments.parameters[0].value).toBe('rewired');
  });

  it('conditions pick the dependencies a trigger needs; without conditions every dependency is needed (dependencies-conditions)', () => {
    const sensor = example('sensors_dependencies-conditions.yaml');
    const source = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'EventSource',
      metadata: { name: 'webhook' },
      spec: { webhook: { example: { port: '12000', endpoint: '/example', method: 'POST' }, 'example-foo': { port: '12000', endpoint: '/foo', method: 'POST' } } },
    };
    const sim = new Simulator([source, sensor]);
    // conditions "test-dep" / "test-dep-foo": each event fires only its own trigger.
    expect(sim.deliver(webhookEvent('webhook', 'example-foo', {})).firings.map((f) => f.trigger)).toEqual(['webhook-workflow-trigger-2']);
    expect(sim.deliver(webhookEvent('webhook', 'example', {})).firings.map((f) => f.trigger)).toEqual(['webhook-workflow-trigger']);
    // Drop the conditions: a trigger then waits for both dependencies, remembering the first event.
    const and = structuredClone(sensor);
    for (const t of and.spec.triggers as Doc[]) delete t.template.conditions;
    const both = new Simulator([source, and]);
    expect(both.deliver(webhookEvent('webhook', 'example', {})).firings).toHaveLength(0);
    const fired = both.deliver(webhookEvent('webhook', 'example-foo', {})).firings;
    expect(fired.map((f) => f.trigger)).toEqual(['webhook-workflow-trigger', 'webhook-workflow-trigger-2']);
    expect(Object.keys(fired[0].events).sort()).toEqual(['test-dep', 'test-dep-foo']);
    // The events were consumed: the next single event fires nothing.
    expect(both.deliver(webhookEvent('webhook', 'example', {})).firings).toHaveLength(0);
  });
});

describe('simulator path and template engines', () => {
  it('gjson multipaths leave out members that do not exist; @fromstr parses a JSON string', () => {
    const data = { body: { Message: JSON.stringify({ process: [{ workflow: 'a' }] }) } };
    expect(resultValue(getPath(data, 'body|[url,Message|@fromstr|process.0.workflow]'))).toEqual(['a']);
    expect(resultValue(getPath(data, 'body|[url]'))).toEqual([]);
    expect(resultValue(getPath({ p: [[{ w: 'a' }, { w: 'b' }]] }, 'p.0.#.w'))).toEqual(['a', 'b']);
    expect(resultValue(getPath({ p: [1, 2, 3] }, 'p.#'))).toBe(3);
    expect(resultValue(getPath({ 'fav.movie': 'x' }, 'fav\\.movie'))).toBe('x');
    expect(() => getPath({ a: [{ b: 'c' }] }, 'a.#(b=="c")')).toThrow(/queries/);
  });

  it('Go templates: sprig hashing, defaults, dict/toJson with sorted keys, missing keys print <no value>', () => {
    const input = { body: { uid: 'u1', b: 2, a: 'x<y' } };
    expect(renderGoTemplate('{{ print .Input.body.uid "/l" | sha256sum | trunc 8 }}', { Input: input })).toBe(createHash('sha256').update('u1/l').digest('hex').slice(0, 8));
    expect(renderGoTemplate('{{ toJson .Input.body }}', { Input: input })).toBe('{"a":"x\\u003cy","b":2,"uid":"u1"}');
    expect(renderGoTemplate('{{ .Input.body.MessageId | default .Input.body.uid }}', { Input: input })).toBe('u1');
    expect(renderGoTemplate('{{ .Input.body.none }}', { Input: input })).toBe('<no value>');
    expect(renderGoTemplate('{{ if .Input.body.b -}} yes {{- else -}} no {{- end }}', { Input: input })).toBe('yes');
    expect(renderGoTemplate('{{ .Input.body.b }} {{ 1000000 }}', { Input: input })).toBe('2 1e+06');
    expect(() => renderGoTemplate('{{ now }}', {})).toThrow(/"now" is not supported/);
    expect(() => renderGoTemplate('{{ .Input.body.a.b }}', { Input: input })).toThrow(/can't evaluate field b in type string/);
  });
});

describe('event data as Argo Events publishes and reads it (test/events/oracle.test.ts holds these against the Go libraries)', () => {
  it('embeds a request body as Go marshals a json.RawMessage: compacted, <>& escaped, other escapes and number spellings kept', () => {
    const event = webhookRequest('webhook', 'example', '{ "a": "x<y>&z\\/w", "n": 1.50, "e": 1e21 }', { 'content-type': ['application/json'], 'idempotency-key': ['k'] });
    expect(eventText(event)).toBe('{"header":{"Content-Type":["application/json"],"Idempotency-Key":["k"]},"body":{"a":"x\\u003cy\\u003e\\u0026z\\/w","n":1.50,"e":1e21}}');
    expect(() => webhookRequest('webhook', 'example', '{"a":1}{"b":2}', {})).toThrow(/RawMessage/);
  });

  it('canonicalizes header names as net/http does, keeping names with bytes outside HTTP tokens', () => {
    expect(goHttpHeader({ 'x-swoop-run': 'a', 'X-SWOOP-RUN': ['b'], idempotency_key: 'c', 'bad name': 'd' })).toEqual({ 'X-Swoop-Run': ['a', 'b'], 'bad name': ['d'], Idempotency_key: ['c'] });
  });

  it('gjson: the first of two equal keys wins, numbers print as gjson prints them, # is a key on objects', () => {
    const text = '{"a":1,"a":2,"big":1e21,"small":1e-7,"int":12345678901234567890,"half":1.50,"o":{"#":"hash"}}';
    expect(resultString(getPath(text, 'a'))).toBe('1');
    expect(resultValue(getPath(text, '@this'))).toMatchObject({ a: 1 });
    expect(['big', 'small', 'int', 'half'].map((k) => resultString(getPath(text, k)))).toEqual(['1000000000000000000000', '0.0000001', '12345678901234567890', '1.5']);
    expect(resultString(getPath(text, 'o.#'))).toBe('hash');
  });

  it('Go templates: nil prints <no value> (but <nil> in print), map keys sort by UTF-8 bytes, fromJson parses', () => {
    expect(renderGoTemplate('{{ .Input.x }}|{{ print .Input.x }}', { Input: { x: null } })).toBe('<no value>|<nil>');
    expect(renderGoTemplate('{{ toJson .Input }}', { Input: { '\u{1F600}': 2, '\uffff': 1 } })).toBe('{"\uffff":1,"\u{1F600}":2}');
    expect(renderGoTemplate('{{ (fromJson .Input.m).a }}', { Input: { m: '{"a":"b"}' } })).toBe('b');
  });
});

