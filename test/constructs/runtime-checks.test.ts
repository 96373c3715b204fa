import { Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-27';
import { describe, expect, it } from 'vitest';
import { ContainerTask, ServiceTask, synthesize, Workflow } from '../../constructs';
import { fixture, problemsOf } from './fixtures';

/**
 * What the constructs check themselves, with the type checker bypassed (`as any`, as plain
 * JavaScript or code run through tsx without tsc would): each row must throw exactly its
 * one-line `<construct path>: <what is wrong>; <what to do>`.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
type F = ReturnType<typeof fixture>;
const IMG = 'python:3.12.7';
const task = (f: F, props: Record<string, unknown>) => new ContainerTask(f.lib, 'bad', { image: IMG, ...props } as any);
const service = (f: F, props: Record<string, unknown>) => new ServiceTask(f.lib, 'bad', { image: IMG, ...props } as any);
const workflow = (f: F, props: Record<string, unknown>) => new Workflow(f.app, 'wf', props as any).addStep('a', f.tasks.small);
const step = (f: F, props: Record<string, unknown>) => {
  const wf = new Workflow(f.app, 'wf');
  const split = wf.addStep('split', f.tasks.split);
  return wf.addStep('a', f.tasks.small, { ...props, ...(props.dependsOn === 'split' ? { dependsOn: split } : {}) } as any);
};
const POLICIES = 'Always, OnFailure, OnError, OnTransientError';

const cases: [string, (f: F) => unknown, string][] = [
  ['task timeout as a number', (f) => task(f, { timeout: 3600 }), 'lib/bad: timeout is the number 3600, not a Duration; use Duration.seconds(3600) (Duration from cdk8s)'],
  ['task timeout as a string', (f) => task(f, { timeout: '1h' }), 'lib/bad: timeout is the string "1h", not a Duration; use Duration.minutes(30) (Duration from cdk8s)'],
  ['retry policy outside the union', (f) => task(f, { retry: { limit: 2, policy: 'Sometimes' } }), `lib/bad: retry.policy is the string "Sometimes", which is not one of ${POLICIES}; use one of them`],
  ['retry limit as a string', (f) => task(f, { retry: { limit: '2' } }), 'lib/bad: retry.limit is the string "2", not a number; give the number of retries'],
  ['retry as a number', (f) => task(f, { retry: 3 }), 'lib/bad: retry is the number 3, not a retry policy; give { limit, policy?, backoff? }, { rules, backoff? } or a list of rules'],
  ['a retry rule without limit', (f) => task(f, { retry: [{ on: ['throttled'] }] }), 'lib/bad: retry[0].limit is undefined, not a number; give the number of retries'],
  ['a retry rule message that is a number', (f) => task(f, { retry: { rules: [{ message: 503, limit: 2 }] } }), 'lib/bad: retry.rules[0].message is the number 503, neither a string nor a RegExp; give the text to find or a /pattern/'],
  ['backoff delay as a number', (f) => task(f, { retry: { limit: 1, backoff: { delay: 10 } } }), 'lib/bad: retry.backoff.delay is the number 10, not a Duration; use Duration.seconds(10) (Duration from cdk8s)'],
  ['backoff without a delay', (f) => task(f, { retry: { limit: 1, backoff: { factor: 2 } } }), 'lib/bad: retry.backoff has no delay; give delay: Duration.seconds(10)'],
  ['backoff factor as a string', (f) => task(f, { retry: { limit: 1, backoff: { delay: Duration.seconds(1), factor: '2' } } }), 'lib/bad: retry.backoff.factor is the string "2", not a number; give a number'],
  ['backoff maxDuration as a string', (f) => task(f, { retry: { limit: 1, backoff: { delay: Duration.seconds(1), maxDuration: '10m' } } }), 'lib/bad: retry.backoff.maxDuration is the string "10m", not a Duration; use Duration.minutes(30) (Duration from cdk8s)'],
  ['CPU request as a number', (f) => task(f, { resources: { cpu: { request: 2 } } }), 'lib/bad: resources.cpu.request is the number 2, not a Cpu; use Cpu.units(2) (Cpu from cdk8s-plus-27)'],
  ['CPU limit as a Size', (f) => task(f, { resources: { cpu: { limit: Size.gibibytes(1) } } }), 'lib/bad: resources.cpu.limit is a Size, not a Cpu; use Cpu.millis(500) (Cpu from cdk8s-plus-27)'],
  ['memory request as a string', (f) => task(f, { resources: { memory: { request: '4Gi' } } }), 'lib/bad: resources.memory.request is the string "4Gi", not a Size; use Size.gibibytes(4) (Size from cdk8s)'],
  ['memory as a Size instead of { request }', (f) => task(f, { resources: { memory: Size.gibibytes(4) } }), 'lib/bad: resources.memory is a Size, not { request?, limit? }; give e.g. { request: Size.gibibytes(1) }'],
  ['ephemeral storage limit as a number', (f) => task(f, { resources: { ephemeralStorage: { limit: 10 } } }), 'lib/bad: resources.ephemeralStorage.limit is the number 10, not a Size; use Size.mebibytes(10) (Size from cdk8s)'],
  ['gpus as a string', (f) => task(f, { gpus: '1' }), 'lib/bad: gpus is the string "1", not a number; give a number'],
  ['image missing', (f) => task(f, { image: undefined }), 'lib/bad: image is undefined, not a string; give a pinned image such as python:3.12.7'],
  ['args as a string', (f) => task(f, { args: 'run --fast' }), 'lib/bad: args is the string "run --fast", not a list of strings; give a list of strings'],
  ['task parameter default as a number', (f) => task(f, { inputs: { parameters: { level: { default: 5 } } } }), 'lib/bad: inputs.parameters.level.default is the number 5, not a string; give a string'],
  ['service timeout as a number', (f) => service(f, { timeout: 30 }), 'lib/bad: timeout is the number 30, not a Duration; use Duration.seconds(30) (Duration from cdk8s)'],
  ['service retry policy outside the union', (f) => service(f, { retry: { limit: 1, policy: 'OnTimeout' } }), `lib/bad: retry.policy is the string "OnTimeout", which is not one of ${POLICIES}; use one of them`],
  ['service port as a string', (f) => service(f, { port: '8080' }), 'lib/bad: port is the string "8080", not a number; give a number'],
  ['service memory limit as a number', (f) => service(f, { resources: { memory: { limit: 512 } } }), 'lib/bad: resources.memory.limit is the number 512, not a Size; use Size.mebibytes(512) (Size from cdk8s)'],
  ['workflow timeout as a number', (f) => workflow(f, { timeout: 3600 }), 'wf: timeout is the number 3600, not a Duration; use Duration.seconds(3600) (Duration from cdk8s)'],
  ['workflow ttl as a number', (f) => workflow(f, { ttl: { afterFailure: 86400 } }), 'wf: ttl.afterFailure is the number 86400, not a Duration; use Duration.seconds(86400) (Duration from cdk8s)'],
  ['podGC outside the union', (f) => workflow(f, { podGC: 'Never' }), 'wf: podGC is the string "Never", which is not one of OnPodCompletion, OnPodSuccess, OnWorkflowCompletion, OnWorkflowSuccess; use one of them'],
  ['parallelism as a string', (f) => workflow(f, { parallelism: '4' }), 'wf: parallelism is the string "4", not a number; give a number'],
  ['workflow parameter default as a boolean', (f) => workflow(f, { parameters: { full: { default: true } } }), 'wf: parameters.full.default is the boolean true, not a string; give a string'],
  ['step input undefined (read from something that does not exist)', (f) => step(f, { input: undefined }), "wf/a: input is undefined; pass a step's output (step.output), a reference (wf.params.x) or a string, or leave input out for the workflow input"],
  ['step input as a number', (f) => step(f, { input: 5 }), "wf/a: input is the number 5; pass a step's output (step.output), a reference (wf.params.x) or a string, or leave input out for the workflow input"],
  ['when as a string', (f) => step(f, { when: "x == 'y'" }), `wf/a: when is the string "x == 'y'", not a Condition; use ref.equals('x'), ref.isNotEmpty() or Condition.expression('...', ...refs)`],
  ['forEach as a string', (f) => step(f, { forEach: 'B04,B08' }), `wf/a: forEach is the string "B04,B08", not a reference or a list of strings; use a list output (step.outputs.parameters.x) or ['a', 'b']`],
  ['forEach over numbers', (f) => step(f, { forEach: [1, 2] }), `wf/a: forEach is an array, not a reference or a list of strings; use a list output (step.outputs.parameters.x) or ['a', 'b']`],
  ['dependsOn a single step', (f) => step(f, { dependsOn: 'split' }), 'wf/a: dependsOn is a Step, not a list of steps; give the steps to wait for, e.g. [split]'],
  ['continueOnFailure as a string', (f) => step(f, { continueOnFailure: 'yes' }), 'wf/a: continueOnFailure is the string "yes", not a boolean; use true or false'],
  ['group member input as a number', (f) => new Workflow(f.app, 'wf').addGroup('g').addStep('m', f.tasks.small, { input: 5 } as any), "wf/g/m: input is the number 5; pass a step's output (step.output), a reference (wf.params.x) or a string, or leave input out for the workflow input"],
];

describe('wrong-typed props throw at the construct path', () => {
  it.each(cases)('%s', (_name, build, message) => {
    expect(problemsOf(() => { const f = fixture(); build(f); return f.app; })).toEqual([message]);
    expect(message).toMatch(/^[^:\n]+: [^\n;]+; [^\n]+$/);
  });

  it('the same props, well typed, are accepted', () => {
    const f = fixture();
    new ContainerTask(f.lib, 'good', {
      image: IMG, timeout: Duration.hours(1), gpus: 0, args: ['run'],
      retry: { limit: 2, policy: 'OnError', backoff: { delay: Duration.seconds(10), factor: 2, maxDuration: Duration.minutes(5) } },
      resources: { cpu: { request: Cpu.units(1), limit: Cpu.units(2) }, memory: { request: Size.gibibytes(1) }, ephemeralStorage: { limit: Size.gibibytes(10) } },
      inputs: { parameters: { level: { default: '5', enum: ['5', '6'] } } },
    });
    new ServiceTask(f.lib, 'svc', { image: IMG, timeout: Duration.seconds(30), port: 8080, retry: { limit: 1, policy: 'OnFailure' } });
    const wf = new Workflow(f.app, 'wf', { timeout: Duration.hours(2), ttl: { afterFailure: Duration.days(1) }, podGC: 'OnWorkflowSuccess', parallelism: 4 });
    const split = wf.addStep('split', f.tasks.split);
    wf.addStep('a', f.tasks.small, { input: split.output, when: split.outputs.parameters.assets.isNotEmpty(), dependsOn: [split], continueOnFailure: true });
    expect(problemsOf(() => f.app)).toEqual([]);
    expect(synthesize(f.app).size).toBe(2);
  });
});

describe('reading a name nobody declared throws (a typed accessor, not undefined)', () => {
  it('the issue\'s case: a step input read from an undeclared output does not silently become the workflow input', () => {
    const f = fixture();
    const wf = new Workflow(f.app, 'wf');
    const split = wf.addStep('split', f.tasks.split);
    const outputs = split.outputs.parameters as any;
    expect(() => wf.addStep('merge', f.tasks.merge, { input: outputs.asset, parameters: { parts: outputs.assets } })).toThrow(
      'wf/split: step "split" has no output parameter "asset" (task "split" declares: assets); read a declared one or declare "asset" in the task\'s outputs',
    );
    // The declared name still wires the dependency.
    const merge = wf.addStep('merge', f.tasks.merge, { input: outputs.assets, parameters: { parts: outputs.assets } });
    expect(merge.dependencies.map((d) => d.name)).toEqual(['split']);
  });

  it('output artifacts, the output payload read as a parameter, and workflow parameters', () => {
    const f = fixture();
    const wf = new Workflow(f.app, 'wf', { parameters: { level: { default: '1' } } });
    const split = wf.addStep('split', f.tasks.split);
    expect(() => (split.outputs.artifacts as any).assets).toThrow(
      'wf/split: step "split" has no output artifact "assets" (task "split" declares: none); read a declared one or declare "assets" in the task\'s outputs',
    );
    expect(() => (split.outputs.parameters as any).output).toThrow('(the output payload is split.output)');
    expect(() => (wf.params as any).levle).toThrow(
      'wf: the workflow declares no parameter "levle" (declared: input, payload-id, parent-run, replace, payload-store, state-url, level); read a declared one or declare "levle" in the workflow\'s parameters',
    );
    expect(wf.params.level.text).toBe('{{workflow.parameters.level}}');
  });

  it('probes by libraries (promises, JSON, inspection) are not mistakes', async () => {
    const f = fixture();
    const split = new Workflow(f.app, 'wf').addStep('split', f.tasks.split);
    expect(JSON.stringify(Object.keys(split.outputs.parameters))).toBe('["assets"]');
    expect(await Promise.resolve(split.outputs.parameters)).toBe(split.outputs.parameters);
    expect(String(split.outputs.parameters)).toBe('[object Object]');
  });
});
