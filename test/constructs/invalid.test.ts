import { Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-27';
import { describe, expect, it } from 'vitest';
import { Condition, ContainerTask, Ref, TaskLibrary, Workflow } from '../../constructs';
import { fixture, problemsOf } from './fixtures';

const PIN = 'pin a version tag (e.g. python:1.2.3) or a digest (python@sha256:<64 hex digits>)';

/** Each row builds one invalid construction; exactly that one error (path and message) must be reported. */
const cases: { name: string; build: () => ReturnType<typeof fixture>['app']; path: string; message: string }[] = [
  {
    name: 'image without a tag',
    build: () => { const f = fixture(); new ContainerTask(f.lib, 'bad', { image: 'python' }); return f.app; },
    path: 'lib/bad',
    message: `image "python" has no tag and would float to :latest; ${PIN}`,
  },
  {
    name: 'image with :latest',
    build: () => { const f = fixture(); new ContainerTask(f.lib, 'bad', { image: 'python:latest' }); return f.app; },
    path: 'lib/bad',
    message: `image "python:latest" uses the moving tag "latest"; ${PIN}`,
  },
  {
    name: 'image with a major-only tag',
    build: () => { const f = fixture(); new ContainerTask(f.lib, 'bad', { image: 'python:3' }); return f.app; },
    path: 'lib/bad',
    message: `image "python:3" uses the major-only tag "3", which moves with every release; ${PIN}`,
  },
  {
    name: 'image with a malformed digest',
    build: () => { const f = fixture(); new ContainerTask(f.lib, 'bad', { image: 'python@sha256:abc' }); return f.app; },
    path: 'lib/bad',
    message: 'image "python@sha256:abc" has a malformed digest; use @sha256: followed by 64 hex digits',
  },
  {
    name: 'negative GPUs',
    build: () => { const f = fixture(); new ContainerTask(f.lib, 'bad', { image: 'python:3.12.7', gpus: -1 }); return f.app; },
    path: 'lib/bad',
    message: 'gpus is -1; use a whole number >= 0',
  },
  {
    name: 'fractional GPUs',
    build: () => { const f = fixture(); new ContainerTask(f.lib, 'bad', { image: 'python:3.12.7', gpus: 0.5 }); return f.app; },
    path: 'lib/bad',
    message: 'gpus is 0.5; use a whole number >= 0',
  },
  {
    name: 'GPU count on a non-GPU class',
    build: () => { const f = fixture(); new ContainerTask(f.lib, 'bad', { image: 'python:3.12.7', gpus: 1, computeClass: 'general' }); return f.app; },
    path: 'lib/bad',
    message: `requests 1 GPU(s) but compute class "general" has no GPUs; use computeClass 'gpu' or remove gpus`,
  },
  {
    name: 'more GPUs than a GPU node offers a pod',
    build: () => { const f = fixture(); new ContainerTask(f.lib, 'bad', { image: 'python:3.12.7', gpus: 8 }); return f.app; },
    path: 'lib/bad',
    message: 'requests 8 GPUs but a pod on compute class "gpu" can get at most 4; request at most 4',
  },
  {
    name: 'unknown compute class',
    build: () => { const f = fixture(); new ContainerTask(f.lib, 'bad', { image: 'python:3.12.7', computeClass: 'huge' as never }); return f.app; },
    path: 'lib/bad',
    message: 'compute class "huge" does not exist; use one of general, memory, gpu (constructs/compute-classes.ts)',
  },
  {
    name: 'the platform-only compute class',
    build: () => { const f = fixture(); new ContainerTask(f.lib, 'bad', { image: 'python:3.12.7', computeClass: 'system' as never }); return f.app; },
    path: 'lib/bad',
    message: 'compute class "system" is reserved for the platform; use one of general, memory, gpu',
  },
  {
    name: 'CPU request over the class maximum',
    build: () => {
      const f = fixture();
      new ContainerTask(f.lib, 'bad', { image: 'python:3.12.7', resources: { cpu: { request: Cpu.units(20) } } });
      return f.app;
    },
    path: 'lib/bad',
    message: 'requests 20000m CPU but a pod on compute class "general" can get at most 15800m; lower it or choose a class that fits (memory, gpu)',
  },
  {
    name: 'memory request over the class maximum',
    build: () => {
      const f = fixture();
      new ContainerTask(f.lib, 'bad', { image: 'python:3.12.7', computeClass: 'memory', resources: { memory: { request: Size.gibibytes(300) } } });
      return f.app;
    },
    path: 'lib/bad',
    message: 'requests 307200Mi memory but a pod on compute class "memory" can get at most 250000Mi; lower it or choose a class that fits (none)',
  },
  {
    name: 'memory limit below its request',
    build: () => {
      const f = fixture();
      new ContainerTask(f.lib, 'bad', { image: 'python:3.12.7', resources: { memory: { request: Size.gibibytes(2), limit: Size.gibibytes(1) } } });
      return f.app;
    },
    path: 'lib/bad',
    message: 'memory limit 1024Mi is below its request 2048Mi; raise the limit',
  },
  {
    name: 'root user',
    build: () => { const f = fixture(); new ContainerTask(f.lib, 'bad', { image: 'python:3.12.7', runAsUser: 0 }); return f.app; },
    path: 'lib/bad',
    message: 'runAsUser 0 is root; tasks run as non-root, pick a non-zero UID',
  },
  {
    name: 'invalid task name',
    build: () => { const f = fixture(); new ContainerTask(f.lib, 'bad', { name: 'Cloud_Mask', image: 'python:3.12.7' }); return f.app; },
    path: 'lib/bad',
    message: `task name "Cloud_Mask" is not a valid Kubernetes name; use lowercase letters, digits and '-', starting and ending with a letter or digit`,
  },
  {
    name: 'version that is not a label value',
    build: () => { const f = fixture(); new ContainerTask(f.lib, 'bad', { image: 'python:3.12.7', version: 'v1.0 beta' }); return f.app; },
    path: 'lib/bad',
    message: `version "v1.0 beta" is not a valid label value; use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`,
  },
  {
    name: 'input parameter named like the task interface',
    build: () => { const f = fixture(); new ContainerTask(f.lib, 'bad', { image: 'python:3.12.7', inputs: { parameters: { output: { default: 'x' } } } }); return f.app; },
    path: 'lib/bad',
    message: 'input parameter "output" is reserved by the task interface (the payload locations); rename it',
  },
  {
    name: 'task parameter default outside its enum',
    build: () => {
      const f = fixture();
      new ContainerTask(f.lib, 'bad', { image: 'python:3.12.7', inputs: { parameters: { mode: { default: 'fast', enum: ['full', 'quick'] } } } });
      return f.app;
    },
    path: 'lib/bad',
    message: 'input parameter "mode" default "fast" is not one of its enum values (full, quick); make the default one of them',
  },
  {
    name: 'negative retry limit',
    build: () => { const f = fixture(); new ContainerTask(f.lib, 'bad', { image: 'python:3.12.7', retry: { limit: -1 } }); return f.app; },
    path: 'lib/bad',
    message: 'retry limit is -1; use a whole number >= 0',
  },
  {
    name: 'duplicate step names',
    build: () => { const f = fixture(); const wf = new Workflow(f.app, 'wf'); wf.addStep('a', f.tasks.small); wf.addStep('a', f.tasks.split); return f.app; },
    path: 'wf/a',
    message: 'duplicate step name "a" (already used by wf/a); every step of a workflow needs its own name',
  },
  {
    name: 'duplicate task ids in the library',
    build: () => { const f = fixture(); new ContainerTask(f.lib, 'split', { image: 'python:3.12.7' }); return f.app; },
    path: 'lib/split',
    message: 'the task library already has a task with the id "split"; give each task its own id',
  },
  {
    name: 'duplicate task names (ids differ)',
    build: () => { const f = fixture(); new ContainerTask(f.lib, 'split-2', { name: 'split', image: 'python:3.12.7' }); return f.app; },
    path: 'lib/split-2',
    message: 'WorkflowTemplate "split" in namespace "swoop" is also defined by lib/split; give one of them another name',
  },
  {
    name: 'invalid step name',
    build: () => { const f = fixture(); new Workflow(f.app, 'wf').addStep('Split Assets', f.tasks.small); return f.app; },
    path: 'wf/Split Assets',
    message: `step name "Split Assets" is not a valid Kubernetes name; use lowercase letters, digits and '-', starting and ending with a letter or digit`,
  },
  {
    name: 'reserved step name',
    build: () => { const f = fixture(); new Workflow(f.app, 'wf').addStep('claim', f.tasks.small); return f.app; },
    path: 'wf/claim',
    message: 'step name "claim" is reserved by the platform (claim, main, wait, init, swoop-*, group-*); rename the step',
  },
  {
    name: 'missing required input parameter',
    build: () => { const f = fixture(); new Workflow(f.app, 'wf').addStep('convert', f.tasks.convert, {} as never); return f.app; },
    path: 'wf/convert',
    message: 'missing required input parameter "asset" of task "convert"; pass it in parameters',
  },
  {
    name: 'undeclared input parameter',
    build: () => {
      const f = fixture();
      new Workflow(f.app, 'wf').addStep('convert', f.tasks.convert, { parameters: { asset: 'B04', level: '9' } as never });
      return f.app;
    },
    path: 'wf/convert',
    message: 'task "convert" declares no input parameter "level" (declared: asset, compression); pass only declared parameters or declare it in the task\'s inputs',
  },
  {
    name: 'missing required input artifact',
    build: () => { const f = fixture(); new Workflow(f.app, 'wf').addStep('mask', f.tasks.mask, {} as never); return f.app; },
    path: 'wf/mask',
    message: `missing required input artifact "stack" of task "mask"; pass another step's output artifact in artifacts`,
  },
  {
    name: 'dangling output: a step that does not exist',
    build: () => {
      const f = fixture();
      new Workflow(f.app, 'wf').addStep('merge', f.tasks.merge, { parameters: { parts: '{{tasks.convert.outputs.parameters.output}}' } });
      return f.app;
    },
    path: 'wf/merge',
    message: 'reads {{tasks.convert.outputs.parameters.output}} but the workflow has no step "convert"; name an existing step (or use its outputs object)',
  },
  {
    name: 'dangling output: an output the task does not declare',
    build: () => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      wf.addStep('split', f.tasks.split);
      wf.addStep('merge', f.tasks.merge, { parameters: { parts: '{{tasks.split.outputs.parameters.items}}' } });
      return f.app;
    },
    path: 'wf/merge',
    message: 'reads output parameter "items" of step "split", which its task "split" does not declare; read a declared output or declare it in the task\'s outputs',
  },
  {
    name: 'output of a step of another workflow',
    build: () => {
      const f = fixture();
      const other = new Workflow(f.app, 'other');
      const split = other.addStep('split', f.tasks.split);
      new Workflow(f.app, 'wf').addStep('merge', f.tasks.merge, { parameters: { parts: split.outputs.parameters.assets } });
      return f.app;
    },
    path: 'wf/merge',
    message: 'reads an output of step "split" of another workflow (other); workflows exchange payloads through then() chains, not step outputs',
  },
  {
    name: 'dependency cycle',
    build: () => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      const a = wf.addStep('a', f.tasks.small);
      const b = wf.addStep('b', f.tasks.small, { input: a.output });
      a.addDependency(b);
      return f.app;
    },
    path: 'wf',
    message: 'steps form a cycle: a -> b -> a; remove one of these dependencies',
  },
  {
    name: 'item used without forEach',
    build: () => { const f = fixture(); const wf = new Workflow(f.app, 'wf'); wf.addStep('convert', f.tasks.convert, { parameters: { asset: wf.item } }); return f.app; },
    path: 'wf/convert',
    message: 'uses {{item}} but has no forEach; add forEach or remove the item reference',
  },
  {
    name: 'fan-out output list used as a payload input',
    build: () => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      const convert = wf.addStep('convert', f.tasks.convert, { forEach: ['B04', 'B08'], parameters: { asset: wf.item } });
      wf.addStep('after', f.tasks.small, { input: convert.output });
      return f.app;
    },
    path: 'wf/after',
    message: 'input is the fan-out output of step "convert" (a JSON list of output URLs); pass that list as a parameter and give input a single payload',
  },
  {
    name: 'empty forEach list',
    build: () => { const f = fixture(); const wf = new Workflow(f.app, 'wf'); wf.addStep('convert', f.tasks.convert, { forEach: [], parameters: { asset: wf.item } }); return f.app; },
    path: 'wf/convert',
    message: 'forEach is an empty list, so the step would never run; give it items or drop forEach',
  },
  {
    name: 'list workflow parameter whose default is not a JSON list',
    build: () => { const f = fixture(); const wf = new Workflow(f.app, 'wf', { parameters: { tiles: { default: 'a,b', list: true } } }); wf.addStep('convert', f.tasks.convert, { forEach: wf.params.tiles, parameters: { asset: wf.item } }); return f.app; },
    path: 'wf',
    message: 'parameter "tiles" is declared a list but its default "a,b" is not a JSON list; give a default like \'["a", "b"]\' or drop list',
  },
  {
    name: 'list output parameter whose default is not a JSON list',
    build: () => { const f = fixture(); new ContainerTask(f.lib, 'bad', { image: 'python:3.12.7', outputs: { parameters: { ids: { path: '/tmp/ids', default: '', list: true } } } }); return f.app; },
    path: 'lib/bad',
    message: 'output parameter "ids" is declared a list but its default "" is not a JSON list; give a default like \'[]\' or drop list',
  },
  {
    name: 'workflow without steps',
    build: () => { const f = fixture(); new Workflow(f.app, 'wf'); return f.app; },
    path: 'wf',
    message: 'the workflow has no steps; add one with addStep()',
  },
  {
    name: 'invalid workflow name',
    build: () => { const f = fixture(); new Workflow(f.app, 'wf', { name: 'COG.conversion' }).addStep('a', f.tasks.small); return f.app; },
    path: 'wf',
    message: `workflow name "COG.conversion" is not a valid Kubernetes name; use lowercase letters, digits and '-', starting and ending with a letter or digit`,
  },
  {
    name: 'workflow parameter shadowing a standard one',
    build: () => { const f = fixture(); new Workflow(f.app, 'wf', { parameters: { replace: { default: 'true' } } }).addStep('a', f.tasks.small); return f.app; },
    path: 'wf',
    message: 'parameter "replace" is a standard parameter every workflow declares; rename yours',
  },
  {
    name: 'workflow parameter default outside its enum',
    build: () => {
      const f = fixture();
      new Workflow(f.app, 'wf', { parameters: { compression: { default: 'JPEG', enum: ['DEFLATE', 'ZSTD'] } } }).addStep('a', f.tasks.small);
      return f.app;
    },
    path: 'wf',
    message: 'parameter "compression" default "JPEG" is not one of its enum values (DEFLATE, ZSTD); make the default one of them',
  },
  {
    name: 'undeclared workflow parameter in a hand-written tag',
    build: () => {
      const f = fixture();
      new Workflow(f.app, 'wf').addStep('convert', f.tasks.convert, { parameters: { asset: '{{workflow.parameters.asset}}' } });
      return f.app;
    },
    path: 'wf/convert',
    message: `reads {{workflow.parameters.asset}} but the workflow declares no parameter "asset"; declare it in the workflow's parameters`,
  },
  {
    name: 'container group on two compute classes',
    build: () => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      const g = wf.addGroup('prepare');
      g.addStep('small', f.tasks.small);
      const gpu = new ContainerTask(f.lib, 'gpu-small', { image: 'python:3.12.7', gpus: 1 });
      g.addStep('gpu', gpu);
      return f.app;
    },
    path: 'wf/prepare/gpu',
    message: 'runs on compute class "gpu" but the group\'s first member "small" runs on "general"; a group is one pod on one node, so split the group',
  },
  {
    name: 'container group whose containers together exceed the class',
    build: () => {
      const f = fixture();
      const big = new ContainerTask(f.lib, 'big', { image: 'python:3.12.7', resources: { cpu: { request: Cpu.units(10) } } });
      const g = new Workflow(f.app, 'wf').addGroup('prepare');
      g.addStep('one', big);
      g.addStep('two', big);
      return f.app;
    },
    path: 'wf/prepare',
    message: 'its containers together request 20000m CPU but a pod on compute class "general" can get at most 15800m; lower it or choose a class that fits (memory, gpu)',
  },
  {
    name: 'empty container group',
    build: () => { const f = fixture(); const wf = new Workflow(f.app, 'wf'); wf.addStep('a', f.tasks.small); wf.addGroup('prepare'); return f.app; },
    path: 'wf/prepare',
    message: 'the group has no containers; add them with group.addStep()',
  },
  {
    name: 'exit step reading a step output',
    build: () => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      const split = wf.addStep('split', f.tasks.split);
      wf.addExitStep('report', f.tasks.merge, { parameters: { parts: split.outputs.parameters.assets } });
      return f.app;
    },
    path: 'wf',
    message: 'exit step "report" reads an output of step "split"; exit steps run after the DAG and may only read workflow parameters and wf.status',
  },
  {
    name: 'task library in another namespace',
    build: () => {
      const f = fixture();
      const elsewhere = new TaskLibrary(f.app, 'elsewhere', { namespace: 'science' });
      const t = new ContainerTask(elsewhere, 'remote', { image: 'python:3.12.7' });
      new Workflow(f.app, 'wf').addStep('remote', t);
      return f.app;
    },
    path: 'wf/remote',
    message: 'task "remote" lives in namespace "science" but the workflow runs in "swoop"; templateRef only resolves within one namespace',
  },
  {
    name: 'condition on an output of another workflow',
    build: () => {
      const f = fixture();
      const other = new Workflow(f.app, 'other');
      const split = other.addStep('split', f.tasks.split);
      new Workflow(f.app, 'wf').addStep('a', f.tasks.small, { when: split.outputs.parameters.assets.isNotEmpty() });
      return f.app;
    },
    path: 'wf/a',
    message: 'reads an output of step "split" of another workflow (other); workflows exchange payloads through then() chains, not step outputs',
  },
  {
    name: 'explicit dependency on a step of another workflow',
    build: () => {
      const f = fixture();
      const other = new Workflow(f.app, 'other');
      const first = other.addStep('first', f.tasks.small);
      new Workflow(f.app, 'wf').addStep('second', f.tasks.small, { dependsOn: [first] });
      return f.app;
    },
    path: 'wf/second',
    message: 'depends on step "first" of another workflow (other); a step can only wait for steps of its own workflow',
  },
  {
    name: 'service task in a container group',
    build: () => {
      const f = fixture();
      new Workflow(f.app, 'wf').addGroup('g').addStep('publish', f.tasks.publish as never, {} as never);
      return f.app;
    },
    path: 'wf/g/publish',
    message: 'task "publish" is a ServiceTask (an HTTP call), but a container group runs containers only; add it with wf.addStep()',
  },
  {
    name: 'workflow output from a conditional step',
    build: () => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf', { parameters: { mode: { default: 'full' } } });
      wf.setOutput(wf.addStep('a', f.tasks.small, { when: wf.params.mode.equals('full') }));
      return f.app;
    },
    path: 'wf',
    message: 'setOutput() names step "a", which is conditional; the output must exist whenever the run succeeds, so name a step that always runs once',
  },
  {
    name: 'a workflow named like a task (both are WorkflowTemplates)',
    build: () => { const f = fixture(); new Workflow(f.app, 'wf', { name: 'split' }).addStep('a', f.tasks.small); return f.app; },
    path: 'wf',
    message: 'WorkflowTemplate "split" in namespace "swoop" is also defined by lib/split; give one of them another name',
  },
  {
    name: 'service task path without a leading slash',
    build: () => {
      const f = fixture();
      new (f.tasks.publish.constructor as typeof import('../../constructs').ServiceTask)(f.lib, 'svc', { image: 'python:3.12.7', path: 'publish' });
      return f.app;
    },
    path: 'lib/svc',
    message: 'path "publish" does not start with "/"; use "/publish"',
  },
];

describe('invalid constructions', () => {
  it('has at least 25 cases with distinct names', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.each(cases)('$name', ({ build, path, message }) => {
    expect(problemsOf(build)).toEqual([`${path}: ${message}`]);
  });

  it.each(cases)('$name: one line, "<what is wrong>; <what to do>"', ({ message }) => {
    expect(message).toMatch(/^[^\n;]+; [^\n]+$/);
  });

  it('the fixture itself is valid', () => {
    const f = fixture();
    const wf = new Workflow(f.app, 'wf');
    const split = wf.addStep('split', f.tasks.split);
    wf.addStep('convert', f.tasks.convert, {
      input: split.output,
      forEach: split.outputs.parameters.assets,
      parameters: { asset: wf.item },
      when: Condition.expression('true'),
    });
    expect(problemsOf(() => f.app)).toEqual([]);
    expect(split.output).toBeInstanceOf(Ref);
  });
});
