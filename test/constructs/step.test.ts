/**
 * A step's wiring at its edges (constructs/step.ts): what it waits for (refs, hand-written
 * tags, fan-out lists, joins, explicit dependencies), how its DAG task renders (depends order,
 * when, continueOn; also wait-for-callback and map iteration steps), and each problem it
 * reports, with the message a user acts on. Written against the mutants of
 * `npm run mutate -- constructs/step.ts` (docs/mutation.md).
 */
import { type App } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Condition, ContainerTask, type MapIteration, synthesize, TaskTokenTarget, Workflow } from '../../constructs';
import { fixture, problemsOf } from './fixtures';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The tasks of one DAG template (the workflow's `main` by default), by name. */
function dag(app: App, wf = 'wf', template = 'main'): Record<string, Json> {
  const all = [...synthesize(app).values()].flatMap((text) => parseAllDocuments(text).map((d) => d.toJS() as Json));
  const tasks = all.find((d) => d.metadata?.name === wf && d.kind === 'WorkflowTemplate')!.spec.templates.find((t: Json) => t.name === template).dag.tasks as Json[];
  return Object.fromEntries(tasks.map((t) => [t.name, t]));
}

const waitTarget = () => TaskTokenTarget.http({ url: 'https://review.example.com/queue' });

/** A task reading one input artifact `stack`, and one reading two parameters. */
function extraTasks(f: ReturnType<typeof fixture>) {
  const useStack = new ContainerTask(f.lib, 'use-stack', { image: 'ghcr.io/example/stac-tools:2.1.0', inputs: { artifacts: { stack: { path: '/tmp/stack' } } } });
  const two = new ContainerTask(f.lib, 'two', { image: 'ghcr.io/example/stac-tools:2.1.0', inputs: { parameters: { a: {}, b: { default: '' } } } });
  return { useStack, two };
}

describe('what a step waits for', () => {
  it('every step whose output it reads (input, parameter, fan-out list), explicit ones, sorted by name', () => {
    const f = fixture();
    const wf = new Workflow(f.app, 'wf');
    const zeta = wf.addStep('zeta', f.tasks.split);
    const alpha = wf.addStep('alpha', f.tasks.small);
    const mid = wf.addStep('mid', f.tasks.small);
    const last = wf.addStep('last', f.tasks.small);
    // forEach over zeta's list, input from alpha, a parameter from mid, and last explicitly.
    wf.addStep('fan', f.tasks.convert, { forEach: zeta.outputs.parameters.assets, input: alpha.output, parameters: { asset: wf.item }, dependsOn: [last] });
    wf.addStep('reads', f.tasks.merge, { parameters: { parts: mid.output } });
    const tasks = dag(f.app);
    expect(tasks.fan!.depends).toBe('alpha && last && zeta');
    expect(tasks.fan!.withParam).toBe('{{tasks.zeta.outputs.parameters.assets}}');
    expect(tasks.reads!.depends).toBe('mid');
    expect(tasks.zeta!.depends).toBeUndefined();
  });

  it('a hand-written {{tasks.X.outputs...}} tag, never the step itself', () => {
    const f = fixture();
    const wf = new Workflow(f.app, 'wf');
    wf.addStep('split', f.tasks.split);
    wf.addStep('b-step', f.tasks.small);
    wf.addStep('merge', f.tasks.merge, { input: '{{tasks.b-step.outputs.parameters.output}}', parameters: { parts: '{{tasks.split.outputs.parameters.assets}}' } });
    expect(dag(f.app).merge!.depends).toBe('b-step && split');
    const self = fixture();
    const wf2 = new Workflow(self.app, 'wf');
    const s = wf2.addStep('merge', self.tasks.merge, { parameters: { parts: '{{tasks.merge.outputs.parameters.output}}' } });
    expect(s.dependencies).toEqual([]);
  });

  it('every branch of a join it reads (wf.firstOf)', () => {
    const f = fixture();
    const wf = new Workflow(f.app, 'wf');
    const a = wf.addStep('a', f.tasks.small);
    const b = wf.addStep('b', f.tasks.small);
    wf.addStep('after', f.tasks.merge, { parameters: { parts: wf.firstOf(a.output, b.output) } });
    expect(dag(f.app).after!.depends).toBe('a && b');
  });

  it('its references are the values it reads, not its literal texts', () => {
    const f = fixture();
    const wf = new Workflow(f.app, 'wf', { parameters: { level: { default: '1' } } });
    const literal = wf.addStep('literal', f.tasks.convert, { input: 's3://in', parameters: { asset: 'B04', compression: wf.params.level } });
    expect(literal.refs.map((r) => r.text)).toEqual(['{{workflow.parameters.level}}']);
    const plain = wf.addStep('plain', f.tasks.small);
    expect(plain.refs.map((r) => r.text)).toEqual(['{{workflow.parameters.input}}']);
  });

  it('a wait-for-callback step waits for what its input and parameters read, hand-written tags included, and checks those tags', () => {
    const f = fixture();
    const wf = new Workflow(f.app, 'wf');
    const split = wf.addStep('split', f.tasks.split);
    wf.addStep('stack', f.tasks.stack);
    wf.addWaitForCallback('approve', { send: waitTarget(), input: split.output, parameters: { stack: '{{tasks.stack.outputs.artifacts.stack}}', level: wf.input } });
    wf.addWaitForCallback('review', { send: waitTarget(), input: '{{tasks.split.outputs.parameters.assets}}' });
    const tasks = dag(f.app);
    expect(tasks.approve!.depends).toBe('split && stack');
    expect(tasks.review!.depends).toBe('split');
    expect(problemsOf(() => {
      const g = fixture();
      const w = new Workflow(g.app, 'wf');
      w.addWaitForCallback('approve', { send: waitTarget(), parameters: { who: '{{tasks.nope.outputs.parameters.x}}' } });
      return g.app;
    })).toEqual(['wf/approve: reads {{tasks.nope.outputs.parameters.x}} but the workflow has no step "nope"; name an existing step (or use its outputs object)']);
  });

  it('never a step of another workflow, whose output it cannot read', () => {
    let reader: ReturnType<Workflow['addStep']> | undefined;
    const problems = problemsOf(() => {
      const f = fixture();
      const split = new Workflow(f.app, 'one').addStep('split', f.tasks.split);
      reader = new Workflow(f.app, 'two').addStep('merge', f.tasks.merge, { parameters: { parts: split.outputs.parameters.assets } });
      return f.app;
    });
    expect(problems).toEqual([
      'two/merge: reads an output of step "split" of another workflow (one); workflows exchange payloads through then() chains, not step outputs',
    ]);
    expect(reader!.dependencies).toEqual([]);
  });
});

describe('the rendered DAG task', () => {
  it('when: one condition as it is, several each in parentheses', () => {
    const f = fixture();
    const wf = new Workflow(f.app, 'wf', { parameters: { mode: { default: 'a', enum: ['a', 'b'] } } });
    wf.addStep('one', f.tasks.small, { when: wf.params.mode.equals('a') });
    // After a caught step, its own condition and "the caught step did not fail".
    const caught = wf.addStep('caught', f.tasks.split).onFailure(wf.addStep('handler', f.tasks.small));
    wf.addStep('two', f.tasks.merge, { parameters: { parts: caught.output }, when: wf.params.mode.equals('b') });
    const tasks = dag(f.app);
    expect(tasks.one!.when).toBe("{{=workflow.parameters['mode'] == 'a'}}");
    expect(tasks.two!.when).toBe("{{=(workflow.parameters['mode'] == 'b') && (!(tasks['caught'].status in ['Failed', 'Error']))}}");
  });

  it('a condition on a fan-out\'s output reads the list of its outputs', () => {
    const f = fixture();
    const wf = new Workflow(f.app, 'wf');
    const split = wf.addStep('split', f.tasks.split);
    const fan = wf.addStep('fan', f.tasks.convert, { forEach: split.outputs.parameters.assets, parameters: { asset: wf.item } });
    wf.addStep('after', f.tasks.small, { when: fan.output.isNotEmpty() });
    expect(dag(f.app).after!.when).toBe("{{=len(fromJSON(tasks['fan'].outputs.parameters.output)) > 0}}");
  });

  it('a hand-written when is evaluated with the values a workflow parameter\'s enum allows', () => {
    const build = (enumerated: boolean) => problemsOf(() => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf', { parameters: { mode: { default: 'full', ...(enumerated ? { enum: ['full', 'quick'] } : {}) } } });
      wf.addStep('s', f.tasks.small, { overrides: { when: '{{workflow.parameters.mode}} == full' } });
      return f.app;
    });
    expect(build(true)).toEqual([]);
    expect(build(false)).toEqual([expect.stringMatching(/^wf\/s: when "\{\{workflow.parameters.mode\}\} == full" is not a condition Argo can evaluate/)]);
  });

  it('a step of a map iteration writes its output under the iteration, not the workflow', () => {
    const f = fixture();
    const wf = new Workflow(f.app, 'wf');
    wf.addMap('each', (iteration) => {
      iteration.addStep('a', f.tasks.small);
    });
    expect(dag(f.app, 'wf', 'swoop-map-each-iteration').a!.arguments.parameters).toContainEqual({
      name: 'output', value: '{{workflow.parameters.payload-store}}/{{workflow.name}}/each/items/{{inputs.parameters.index}}/a/output.json',
    });
  });

  it('continueOnFailure renders continueOn.failed, and nothing when false or absent', () => {
    const f = fixture();
    const wf = new Workflow(f.app, 'wf');
    wf.addStep('tolerant', f.tasks.small, { continueOnFailure: true });
    wf.addStep('strict', f.tasks.stack, { continueOnFailure: false });
    wf.addStep('plain', f.tasks.split);
    const tasks = dag(f.app);
    expect(tasks.tolerant!.continueOn).toEqual({ failed: true });
    expect(tasks.strict!.continueOn).toBeUndefined();
    expect(tasks.plain!.continueOn).toBeUndefined();
  });

  it('a fan-out step writes one output per item, and its output is the list of them', () => {
    const f = fixture();
    const wf = new Workflow(f.app, 'wf');
    const split = wf.addStep('split', f.tasks.split);
    const fan = wf.addStep('fan', f.tasks.convert, { forEach: split.outputs.parameters.assets, parameters: { asset: wf.item } });
    expect(fan.output.text).toBe('{{tasks.fan.outputs.parameters.output}}');
    expect(split.output.text).toBe('{{workflow.parameters.payload-store}}/{{workflow.name}}/split/output.json');
    expect(dag(f.app).fan!.arguments.parameters).toContainEqual({ name: 'output', value: '{{workflow.parameters.payload-store}}/{{workflow.name}}/fan/{{=sprig.sha1sum(toJson(item))}}/output.json' });
  });
});

describe('problems a step reports', () => {
  const at = (path: string, message: string) => `${path}: ${message}`;

  it('reserved names: the platform\'s own, swoop-* and group-*', () => {
    for (const name of ['claim', 'main', 'wait', 'init', 'swoop-x', 'group-x']) {
      expect(problemsOf(() => {
        const f = fixture();
        new Workflow(f.app, 'wf').addStep(name, f.tasks.small);
        return f.app;
      }), name).toEqual([at(`wf/${name}`, `step name "${name}" is reserved by the platform (claim, main, wait, init, swoop-*, group-*); rename the step`)]);
    }
    for (const name of ['claims', 'mywait', 'swoopy', 'my-group-x', 'grouped']) {
      expect(problemsOf(() => {
        const f = fixture();
        new Workflow(f.app, 'wf').addStep(name, f.tasks.small);
        return f.app;
      }), name).toEqual([]);
    }
  });

  it('a fan-out\'s output list as a single input, naming the fan-out step', () => {
    expect(problemsOf(() => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      const split = wf.addStep('split', f.tasks.split);
      const fan = wf.addStep('fan', f.tasks.convert, { forEach: split.outputs.parameters.assets, parameters: { asset: wf.item } });
      wf.addStep('merge', f.tasks.merge, { input: fan.output, parameters: { parts: '[]' } });
      return f.app;
    })).toEqual([at('wf/merge', 'input is the fan-out output of step "fan" (a JSON list of output URLs); pass that list as a parameter and give input a single payload')]);
  });

  it('hand-written tags naming no step, an undeclared output, an undeclared workflow parameter', () => {
    const problems = problemsOf(() => {
      const f = fixture();
      const { two } = extraTasks(f);
      const wf = new Workflow(f.app, 'wf', { parameters: { mode: { default: 'a' } } });
      wf.addStep('split', f.tasks.split);
      wf.addStep('stack', f.tasks.stack);
      wf.addStep('ok', two, {
        parameters: { a: '{{tasks.split.outputs.parameters.output}} {{tasks.split.outputs.parameters.assets}} {{tasks.stack.outputs.artifacts.stack}}', b: '{{workflow.parameters.mode}}' },
      });
      wf.addStep('bad', two, {
        parameters: { a: '{{tasks.nope.outputs.parameters.x}} {{tasks.split.outputs.parameters.colour}}', b: '{{tasks.split.outputs.artifacts.assets}} {{workflow.parameters.nope}}' },
      });
      return f.app;
    });
    expect(problems).toEqual([
      at('wf/bad', 'reads {{tasks.nope.outputs.parameters.x}} but the workflow has no step "nope"; name an existing step (or use its outputs object)'),
      at('wf/bad', 'reads output parameter "colour" of step "split", which its task "split" does not declare; read a declared output or declare it in the task\'s outputs'),
      at('wf/bad', 'reads output artifact "assets" of step "split", which its task "split" does not declare; read a declared output or declare it in the task\'s outputs'),
      at('wf/bad', 'reads {{workflow.parameters.nope}} but the workflow declares no parameter "nope"; declare it in the workflow\'s parameters'),
    ]);
  });

  it('a hand-written tag naming a node that is not a task step (a group, a map, a wait): read its output object instead', () => {
    expect(problemsOf(() => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      wf.addGroup('grp').addStep('inner', f.tasks.small);
      wf.addStep('reads', f.tasks.merge, { parameters: { parts: '{{tasks.grp.outputs.parameters.output}}' } });
      return f.app;
    })).toEqual([at('wf/reads', 'reads {{tasks.grp.outputs.parameters.output}}, but "grp" is a ContainerGroup, not a task step, so synth cannot check the tag; read the typed reference it offers instead (its output, or its steps\' outputs)')]);
  });

  it('a map iteration\'s values read outside the iteration', () => {
    expect(problemsOf(() => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      let outside: MapIteration | undefined;
      wf.addMap('each', (iteration) => {
        outside = iteration;
        iteration.addStep('a', f.tasks.convert, { parameters: { asset: iteration.item.id } });
      });
      wf.addStep('after', f.tasks.convert, { parameters: { asset: outside!.item.id } });
      return f.app;
    })).toEqual([at('wf/after', 'reads {{inputs.parameters.item-s0}}, a value of the iteration of map "each", outside it; only that iteration\'s steps (iteration.addStep) can read it')]);
  });

  it('a condition that does not parse, once (not again as the rendered when)', () => {
    const problems = problemsOf(() => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      wf.addStep('odd', f.tasks.small, { when: Condition.expression('((') });
      return f.app;
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^wf\/odd: /);
  });

  it('a tag in an overridden when is checked like any other text', () => {
    const problems = problemsOf(() => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      wf.addStep('hand', f.tasks.small, { overrides: { when: '{{tasks.x.status == Failed' } });
      return f.app;
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^wf\/hand: when: /);
  });

  it('a catch naming the step itself', () => {
    const problems = problemsOf(() => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      const s = wf.addStep('self', f.tasks.small);
      s.onFailure(s);
      return f.app;
    });
    expect(problems).toContain(at('wf/self', 'catch 1 names the step itself as its handler; name another step'));
  });

  it('props that are not an object (null is no props), an input that is neither text nor a reference, a single value as forEach, dependsOn of non-steps', () => {
    const thrown = (props: unknown) => problemsOf(() => {
      const f = fixture();
      (new Workflow(f.app, 'wf').addStep as (...a: unknown[]) => unknown)('s', f.tasks.small, props);
      return f.app;
    });
    expect(thrown('x')).toEqual([expect.stringMatching(/^wf\/s: the step's props are .*"x"; give an object$/)]);
    expect(thrown({ input: 7 })).toEqual([expect.stringMatching(/^wf\/s: input is .*7; pass a step's output \(step.output\), a reference \(wf.params.x\) or a string, or leave input out for the workflow input$/)]);
    expect(thrown({ input: 's3://in' })).toEqual([]);
    expect(thrown({ input: undefined })[0]).toMatch(/^wf\/s: input is undefined;/);
    expect(thrown({ dependsOn: ['split'] })).toEqual([expect.stringMatching(/^wf\/s: dependsOn is .*, not a list of steps; give the steps to wait for, e.g. \[split\]$/)]);
    expect(problemsOf(() => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      wf.addStep('s', f.tasks.small, { dependsOn: [wf.addStep('split', f.tasks.split), 'merge'] as never });
      return f.app;
    })).toEqual(['wf/s: dependsOn is an array, not a list of steps; give the steps to wait for, e.g. [split]']);
    // Props are checked for every kind of node, not only task steps.
    expect(problemsOf(() => {
      const f = fixture();
      new Workflow(f.app, 'wf').addGroup('g', null as never);
      return f.app;
    })).toEqual(["wf/g: the step's props are null; give an object"]);
    expect(problemsOf(() => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      wf.addStep('s', f.tasks.convert, { forEach: wf.addStep('split', f.tasks.split).output as never, parameters: { asset: wf.item } });
      return f.app;
    })).toEqual([expect.stringMatching(/^wf\/s: forEach is the output payload URL of step "split" \(one URL\), not a list, /)]);
    expect(problemsOf(() => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf', { parameters: { one: { default: 'x' } } });
      wf.addStep('s', f.tasks.convert, { forEach: wf.params.one as never, parameters: { asset: wf.item } });
      return f.app;
    })[0]).toMatch(/^wf\/s: forEach is .*, not a list, so Argo would fail the run parsing it as withParam; fan out over a value declared as a list/);
  });

  it('arguments: a parameter that is not text or not declared, artifacts undeclared or not another step\'s output', () => {
    const problems = problemsOf(() => {
      const f = fixture();
      const { useStack } = extraTasks(f);
      const wf = new Workflow(f.app, 'wf');
      const stack = wf.addStep('stack', f.tasks.stack);
      wf.addStep('none', f.tasks.small, { parameters: { level: '1' } as never });
      wf.addStep('num', f.tasks.convert, { parameters: { asset: 4 as never } });
      wf.addStep('extra', useStack, { artifacts: { stack: stack.outputs.artifacts.stack, other: stack.outputs.artifacts.stack } as never });
      wf.addStep('text', useStack, { artifacts: { stack: 's3://x' as never } });
      return f.app;
    });
    expect(problems).toEqual([
      at('wf/none', 'task "small" declares no input parameter "level" (declared: none); pass only declared parameters or declare it in the task\'s inputs'),
      at('wf/num', 'input parameter "asset" must be a string or a reference (step.outputs.parameters.x, wf.params.x, wf.item); an artifact goes in artifacts'),
      at('wf/extra', 'task "use-stack" declares no input artifact "other"; pass only declared artifacts or declare it in the task\'s inputs'),
      at('wf/text', 'input artifact "stack" must be another step\'s output artifact (step.outputs.artifacts.x)'),
    ]);
  });

  it('a step collecting the fan-out output of a service task step (an HTTP step cannot report it)', () => {
    const problems = problemsOf(() => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      const split = wf.addStep('split', f.tasks.split);
      const pub = wf.addStep('pub', f.tasks.publish, { forEach: split.outputs.parameters.assets });
      wf.addStep('collect', f.tasks.merge, { parameters: { parts: pub.output } });
      return f.app;
    });
    expect(problems).toEqual([at('wf/pub', 'step "collect" collects the fan-out output of service task step "pub", which an HTTP step cannot report; use a ContainerTask to fan in')]);
    // A container task's fan-out may be collected, also beside a service task's fan-out.
    expect(problemsOf(() => {
      const f = fixture();
      const wf = new Workflow(f.app, 'wf');
      const split = wf.addStep('split', f.tasks.split);
      const fan = wf.addStep('fan', f.tasks.convert, { forEach: split.outputs.parameters.assets, parameters: { asset: wf.item } });
      wf.addStep('pub', f.tasks.publish, { forEach: split.outputs.parameters.assets });
      wf.addStep('collect', f.tasks.merge, { parameters: { parts: fan.output } });
      return f.app;
    })).toEqual([]);
  });
});
