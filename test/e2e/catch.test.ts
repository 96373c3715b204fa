/**
 * Catch, end to end: a fixture workflow whose first step declares a `not-found` error caught
 * by a handler. The synthesized DAG is run the way the controller decides it
 * (support/dag.ts: depends, when over tasks.X.status/exitCode, assessDAGPhase), and the
 * run's phase and failed nodes go through the generated lifecycle templates to the real
 * state service.
 */
import { App } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerTask, TaskLibrary, Workflow } from '../../constructs';
import { renderTags, workflowFailures, type Doc, type FailedNode } from './support/argo';
import { runDag, type TaskOutcome } from './support/dag';
import { fixtureManifests } from './support/fixture-app';
import { cirrusId, cirrusPayload } from './support/fixtures';
import { BACKEND, PAYLOAD_STORE, startPlatform, type RunningPlatform } from './support/platform';

function buildApp() {
  const app = new App();
  const lib = new TaskLibrary(app, 'lib');
  const image = 'ghcr.io/example/stac-tools:2.1.0';
  const fetch = new ContainerTask(lib, 'fetch', { image, errors: { 'not-found': 44, throttled: 75 } });
  const convert = new ContainerTask(lib, 'convert', { image });
  const publish = new ContainerTask(lib, 'publish', { image });
  const report = new ContainerTask(lib, 'report-missing', { image });
  const notify = new ContainerTask(lib, 'notify', { image, inputs: { parameters: { failures: {} } } });
  const wf = new Workflow(app, 'fetch-convert');
  const fetched = wf.addStep('fetch', fetch);
  const converted = wf.addStep('convert', convert, { input: fetched.output });
  wf.addStep('publish', publish, { input: converted.output });
  fetched.onFailure(wf.addStep('report-missing', report), { on: ['not-found'] });
  wf.addExitStep('notify', notify, { parameters: { failures: wf.failures.json } });
  return fixtureManifests(app, [wf]);
}

const manifests = buildApp();
const fail = (exitCode: number): TaskOutcome => ({ phase: 'Failed', exitCode });
const failedNode = (displayName: string, message: string): FailedNode => ({
  displayName, message, templateName: 'main', phase: 'Failed', podName: `fetch-convert-${displayName}`, finishedAt: '2026-03-02T10:45:00Z',
});

describe(`a caught failure through the controller's DAG rules and the state service (${BACKEND})`, () => {
  let platform: RunningPlatform;
  beforeAll(async () => {
    platform = await startPlatform(manifests);
  });
  afterAll(async () => platform?.stop());

  const cases: [string, Record<string, TaskOutcome>, Record<string, string>, string, string][] = [
    ['no failure: the handler is omitted, every step runs', {},
      { fetch: 'Succeeded', convert: 'Succeeded', publish: 'Succeeded', 'report-missing': 'Omitted' }, 'Succeeded', 'SUCCESSFUL'],
    ['a caught not-found: the handler runs, the steps after fetch are skipped, the run succeeds', { fetch: fail(44) },
      { fetch: 'Failed', convert: 'Skipped', publish: 'Skipped', 'report-missing': 'Succeeded' }, 'Succeeded', 'SUCCESSFUL'],
    ['a failure no catch matches: the handler is skipped, the steps after are omitted, the run fails', { fetch: fail(1) },
      { fetch: 'Failed', convert: 'Omitted', publish: 'Omitted', 'report-missing': 'Skipped' }, 'Failed', 'FAILED'],
    ['a deleted pod (no exit code) is not a not-found: the run fails', { fetch: { phase: 'Error' } },
      { fetch: 'Error', convert: 'Omitted', publish: 'Omitted', 'report-missing': 'Skipped' }, 'Error', 'FAILED'],
    ['a failing handler fails the run', { fetch: fail(44), 'report-missing': fail(1) },
      { fetch: 'Failed', convert: 'Omitted', publish: 'Omitted', 'report-missing': 'Failed' }, 'Failed', 'FAILED'],
  ];

  it.each(cases)('%s', async (name, outcomes, expectedPhases, dagPhase, state) => {
    const payloadId = cirrusId('fetch-convert', `CATCH-${name.length}`);
    const run = await platform.start('fetch-convert', {
      input: JSON.stringify(cirrusPayload([{ workflow: 'fetch-convert' }], { id: payloadId })), 'payload-id': payloadId,
    });

    // The generic app checks ask which steps run when all succeed: every step but the handler.
    expect(run.userTasksThatRun()).toEqual({ fetch: true, convert: true, publish: true, 'report-missing': false });
    const dag = runDag(run.dagTasks, run.scope(), outcomes);
    expect(dag.phases).toEqual(expectedPhases);
    expect(dag.phase).toBe(dagPhase);

    // workflow.failures lists every Failed/Error node (operator.go), caught ones included.
    const failed = Object.entries(dag.phases).filter(([, p]) => p === 'Failed' || p === 'Error')
      .map(([task, p]) => ({ ...failedNode(task, `Error (exit code ${outcomes[task]?.exitCode ?? 'none'})`), phase: p as 'Failed' | 'Error' }));
    const failures = workflowFailures(failed);
    // The exit step's typed wf.failures.json renders to the failed nodes as a JSON list.
    const notify = ((manifests.find('WorkflowTemplate', 'fetch-convert').spec.templates as Doc[]).find((t) => t.name === 'swoop-exit')!.dag.tasks as Doc[]).find((t) => t.name === 'notify')!;
    const arg = (notify.arguments.parameters as Doc[]).find((p) => p.name === 'failures')!;
    expect(JSON.parse(renderTags(String(arg.value), run.scope({ status: dag.phase, failures }), 'notify failures'))).toEqual(failed.length ? failed : null);

    expect((await run.running()).succeeded).toBe(true);
    expect((await run.completed(dag.phase, failures)).succeeded).toBe(true);
    const recorded = await platform.read(`/runs/${run.run.name}`);
    expect(recorded.state).toBe(state);
    // The output is publish's payload only when publish ran.
    expect(recorded.output).toBe(expectedPhases.publish === 'Succeeded' ? `${PAYLOAD_STORE}/${run.run.name}/publish/output.json` : null);
    if (state === 'FAILED') expect(recorded.error).toContain('fetch: Error (exit code');
  });

  it('a refused claim runs nothing at all, the handler included: no Workflow is created', async () => {
    const payloadId = cirrusId('fetch-convert', 'CATCH-REFUSED');
    const args = { input: 's3://in/refused.json', 'payload-id': payloadId };
    const first = await platform.start('fetch-convert', args);
    await first.completed('Succeeded', workflowFailures([]));
    const workflows = platform.kube.workflows.size;
    const second = await platform.submit('fetch-convert', args);
    expect([second.status, second.body.claimed, second.body.created, second.run]).toEqual([200, false, false, undefined]);
    expect(platform.kube.workflows.size).toBe(workflows);
  });
});
