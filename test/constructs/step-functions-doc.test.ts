import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ContainerTask, ServiceTask, synthesize, TaskLibrary, Workflow } from '../../constructs';
import { lintObjects } from '../../tools/lint/index';
import { HAVE_REFERENCE } from '../support/reference';
import { validateArgoDocument } from '../support/schema';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Runs the ported example of docs/step-functions.md as written. */
function portedExample(): App {
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'step-functions.md'), 'utf8');
  const code = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
  expect(code).toContain("new Workflow(app, 'cog-archive'");
  const app = new App();
  new Function('app', 'TaskLibrary', 'ContainerTask', 'ServiceTask', 'Workflow', 'Duration', code)(app, TaskLibrary, ContainerTask, ServiceTask, Workflow, Duration);
  return app;
}

describe('docs/step-functions.md: the ported cog-archive', () => {
  const docs = () => [...synthesize(portedExample()).values()].flatMap((t) => parseAllDocuments(t).map((d) => d.toJS() as Json));

  it('retries throttling 20 times with a capped backoff, and catches no-data with a handler', () => {
    const all = docs();
    const lib = (name: string) => all.find((d) => d.metadata?.name === name)!.spec.templates[0];
    expect(lib('copy-assets').retryStrategy).toMatchObject({ limit: 20, backoff: { duration: '10s', factor: 2, cap: '300s', maxDuration: '3600s' } });
    expect(lib('copy-assets').retryStrategy.expression).toMatch(/^\(lastRetry\.exitCode in \['75'\]\) \? asInt\(retries\) < 20 : /);
    expect(lib('convert-to-cog').activeDeadlineSeconds).toBe(3600);
    const dag = all.find((d) => d.metadata?.name === 'cog-archive')!.spec.templates.find((t: Json) => t.name === 'main').dag.tasks as Json[];
    const task = (n: string) => dag.find((t) => t.name === n)!;
    expect(task('report-empty').depends).toBe('(convert-to-cog.Failed || convert-to-cog.Errored) && copy-assets');
    expect(task('report-empty').when).toContain("(tasks['convert-to-cog'].exitCode ?? '') in ['65']");
    expect(task('publish').depends).toBe('(convert-to-cog.Succeeded || convert-to-cog.Skipped || convert-to-cog.Daemoned || report-empty.Succeeded)');
  });

  it('ports the Choice: branches on the payload\'s process.tasks and item count, joined by firstOf, with no extra step', () => {
    const wf = docs().find((d) => d.kind === 'WorkflowTemplate' && d.metadata?.name === 'publish-by-size')!;
    expect(JSON.parse(wf.metadata.annotations['swoop.dev/payload-projection'])).toEqual({ 'payload-item-count': 'item-count', 'payload-publish-batch': 'process.tasks.publish.batch' });
    const dag = wf.spec.templates.find((t: Json) => t.name === 'main').dag.tasks as Json[];
    expect(dag.map((t) => t.name)).toEqual(['publish-bulk', 'publish', 'report']);
    const bulk = "(workflow.parameters['payload-publish-batch'] == 'true') || (asInt(workflow.parameters['payload-item-count']) > 100)";
    expect(dag[0].when).toBe(`{{=${bulk}}}`);
    expect(dag[1].when).toContain(`!(${bulk})`);
    expect(dag[2].depends).toBe('publish && publish-bulk');
    expect(dag[2].arguments.parameters[0].value).toMatch(/^\{\{=\(tasks\['publish-bulk'\]\.status == 'Succeeded' \? /);
  });

  it('ports a Map whose ItemProcessor has several states: an iteration DAG with the item id, retry and catch, a 5% tolerance', () => {
    const all = docs();
    const wf = all.find((d) => d.kind === 'WorkflowTemplate' && d.metadata?.name === 'cog-per-item')!;
    const templates = wf.spec.templates as Json[];
    const map = templates.find((t) => t.name === 'swoop-map-per-item')!;
    expect(map.parallelism).toBe(8);
    expect(map.dag.failFast).toBe(false);
    expect(map.dag.tasks[1]).toMatchObject({ template: 'swoop-map-per-item-iteration', continueOn: { failed: true, error: true } });
    const iteration = templates.find((t) => t.name === 'swoop-map-per-item-iteration')!.dag.tasks as Json[];
    expect(iteration.map((t) => t.name)).toEqual(['copy-assets', 'convert', 'report-empty']);
    expect(iteration[1].arguments.parameters[2]).toEqual({ name: 'item', value: '{{inputs.parameters.item-s0}}' });
    expect(iteration[2].when).toContain("(tasks['convert'].exitCode ?? '') in ['65']");
    const merge = templates.find((t) => t.name === 'swoop-map-per-item-merge')!.script.env as Json[];
    expect(merge.find((e) => e.name === 'SWOOP_OUTPUT_PATHS')!.value).toBe('["convert/output.json","report-empty/output.json"]');
    expect(merge.find((e) => e.name === 'SWOOP_TOLERATED_PERCENTAGE')!.value).toBe('5');
    expect(all.find((d) => d.metadata?.name === 'convert-item')!.spec.templates[0].retryStrategy.limit).toBe(5);
  });

  it('ports the Map: one iteration per feature through split and merge, at most 8 at once, the merged payload published', () => {
    const wf = docs().find((d) => d.kind === 'WorkflowTemplate' && d.metadata?.name === 'item-thumbnails')!;
    const templates = wf.spec.templates as Json[];
    const dag = templates.find((t) => t.name === 'main')!.dag.tasks as Json[];
    expect(dag.map((t) => [t.name, t.template ?? t.templateRef?.name])).toEqual([['thumbnail', 'swoop-map-thumbnail'], ['publish', 'publish']]);
    const map = templates.find((t) => t.name === 'swoop-map-thumbnail')!;
    expect(map.parallelism).toBe(8);
    expect(map.dag.tasks.map((t: Json) => t.name)).toEqual(['split', 'item', 'merge']);
    expect(dag[1].arguments.parameters[0].value).toBe('{{workflow.parameters.payload-store}}/{{workflow.name}}/thumbnail/output.json');
  });

  it.skipIf(!HAVE_REFERENCE)('validates against the upstream schema and lints clean', () => {
    const all = docs();
    for (const d of all) expect(validateArgoDocument(d), `${d.kind}/${d.metadata?.name}`).toEqual([]);
    expect(lintObjects(all).map((p) => `${p.path}: ${p.message}`)).toEqual([]);
  });
});
