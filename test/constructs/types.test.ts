import { describe, expect, it } from 'vitest';
import { ContainerTask, synthesize, validationErrors, Workflow } from '../../constructs';
import { fixture } from './fixtures';

/**
 * Wiring mistakes that must not compile. `npm test` runs `tsc --noEmit` over this file: each
 * `@ts-expect-error` line fails the build if the line below it ever type-checks.
 */
function wiring() {
  const f = fixture();
  const { split, convert, mask, stack, publish } = f.tasks;
  const wf = new Workflow(f.app, 'wf', { parameters: { collection: { default: 'sentinel-2-l2a' }, tiles: { default: '["a"]', list: true } } });
  const s = wf.addStep('split', split);
  const st = wf.addStep('stack', stack);

  // Declared outputs are there, with their declared names.
  const assets = s.outputs.parameters.assets;
  const stacked = st.outputs.artifacts.stack;
  // Reads of undeclared names: run by the test below, each must throw.
  const undeclaredReads = [
    // @ts-expect-error the task declares no output parameter "items"
    () => s.outputs.parameters.items,
    // @ts-expect-error the task declares no output artifact "mask"
    () => s.outputs.artifacts.mask,
    // @ts-expect-error an artifact is not a parameter
    () => st.outputs.parameters.stack,
    // @ts-expect-error the workflow declares no parameter "mode"
    () => wf.params.mode,
    // @ts-expect-error forEach needs a value declared as a list, not the output payload URL
    () => wf.addStep('f1', convert, { parameters: { asset: wf.item }, forEach: s.output }),
    // @ts-expect-error forEach needs a value declared as a list, not a one-value workflow parameter
    () => wf.addStep('f2', convert, { parameters: { asset: wf.item }, forEach: wf.params.collection }),
  ];

  // @ts-expect-error "asset" is required, so props are required
  wf.addStep('c1', convert);
  // @ts-expect-error "asset" is required inside parameters
  wf.addStep('c2', convert, { parameters: { compression: 'ZSTD' } });
  // @ts-expect-error the task declares no input parameter "level"
  wf.addStep('c3', convert, { parameters: { asset: assets, level: '9' } });
  // @ts-expect-error parameters take strings or refs, not artifacts
  wf.addStep('c4', convert, { parameters: { asset: stacked } });
  // @ts-expect-error the required input artifact "stack" is missing
  wf.addStep('m1', mask, {});
  // @ts-expect-error artifacts take output artifacts, not parameters
  wf.addStep('m2', mask, { artifacts: { stack: assets } });
  // @ts-expect-error a container group runs containers, not HTTP service tasks
  wf.addGroup('g').addStep('p', publish);
  // @ts-expect-error then() chains workflows, not tasks
  wf.then(split);

  const argsApp = fixture();
  // @ts-expect-error the args function only sees declared inputs
  new ContainerTask(argsApp.lib, 'x1', { image: 'python:3.12.7', inputs: { parameters: { a: {} } }, args: (io) => [io.parameters.b] });
  // @ts-expect-error the system pool is not a task compute class
  new ContainerTask(f.lib, 'x2', { image: 'python:3.12.7', computeClass: 'system' });

  // These compile: optional parameters may be omitted, declared names are typed.
  wf.addStep('ok1', convert, { parameters: { asset: wf.item }, forEach: assets, input: s.output });
  wf.addStep('ok2', mask, { artifacts: { stack: stacked }, parameters: {} });
  wf.addStep('ok3', publish, { parameters: { collection: wf.params.collection } });
  wf.addStep('ok4', convert, { parameters: { asset: wf.item }, forEach: wf.params.tiles });
  return { app: f.app, undeclaredReads, argsApp: argsApp.app };
}

describe('typed wiring', () => {
  it('the ill-typed lines also fail at synth, for callers without the type checker', () => {
    const { app, undeclaredReads, argsApp } = wiring();
    expect(undeclaredReads.map((read) => { try { read(); return 'no error'; } catch (e) { return (e as Error).message; } })).toEqual([
      'wf/split: step "split" has no output parameter "items" (task "split" declares: assets); read a declared one or declare "items" in the task\'s outputs',
      'wf/split: step "split" has no output artifact "mask" (task "split" declares: none); read a declared one or declare "mask" in the task\'s outputs',
      'wf/stack: step "stack" has no output parameter "stack" (task "stack" declares: none); read a declared one or declare "stack" in the task\'s outputs',
      'wf: the workflow declares no parameter "mode" (declared: input, payload-id, parent-run, replace, payload-store, state-url, collection, tiles); read a declared one or declare "mode" in the workflow\'s parameters',
      'wf/f1: forEach is the output payload URL of step "split" (one URL), not a list, so Argo would fail the run parsing it as withParam; ' +
        'fan out over a value declared as a list (list: true on the output or workflow parameter that holds a JSON list) or over literal items',
      'wf/f2: forEach is workflow parameter {{workflow.parameters.collection}}, declared as one value, not a list, so Argo would fail the run parsing it as withParam; ' +
        'fan out over a value declared as a list (list: true on the output or workflow parameter that holds a JSON list) or over literal items',
    ]);
    expect(() => synthesize(argsApp)).toThrow(
      'lib/x1: args/env read io.parameters.b, but the task declares no input parameter "b" (declared: a); declare it in the task\'s inputs',
    );
    const problems = validationErrors(app).map((e) => `${e.path}: ${e.message}`);
    expect(problems).toEqual(expect.arrayContaining([
      'wf/c1: missing required input parameter "asset" of task "convert"; pass it in parameters',
      'wf/c2: missing required input parameter "asset" of task "convert"; pass it in parameters',
      'wf/c3: task "convert" declares no input parameter "level" (declared: asset, compression); pass only declared parameters or declare it in the task\'s inputs',
      'wf/c4: input parameter "asset" must be a string or a reference (step.outputs.parameters.x, wf.params.x, wf.item); an artifact goes in artifacts',
      'wf/m1: missing required input artifact "stack" of task "mask"; pass another step\'s output artifact in artifacts',
      'wf/m2: input artifact "stack" must be another step\'s output artifact (step.outputs.artifacts.x)',
      'wf/g/p: task "publish" is a ServiceTask (an HTTP call), but a container group runs containers only; add it with wf.addStep()',
      'wf: then() was given lib/split, which is not a Workflow; chains start workflows',
      'lib/x2: compute class "system" is reserved for the platform; use one of general, memory, gpu',
    ]));
    expect(problems.filter((p) => p.startsWith('wf/ok'))).toEqual([]);
  });
});
