/**
 * Retries by error, end to end: a fixture task declares named errors and retry rules; the
 * synthesized retryStrategy (found by following the workflow's templateRef) is run by the
 * controller's retry algorithm (support/retry.ts) over scripted attempts, and the run's
 * outcome is reported through the generated lifecycle templates to the real state service.
 */
import { App, Duration } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerTask, TaskLibrary, Workflow } from '../../constructs';
import { workflowFailures, type Doc, type FailedNode } from './support/argo';
import { fixtureManifests } from './support/fixture-app';
import { cirrusId, cirrusPayload } from './support/fixtures';
import { BACKEND, startPlatform, type RunningPlatform } from './support/platform';
import { runRetryNode, type Attempt } from './support/retry';

function buildApp() {
  const app = new App();
  const lib = new TaskLibrary(app, 'lib');
  const fetch = new ContainerTask(lib, 'fetch-assets', {
    image: 'ghcr.io/example/stac-tools:2.1.0',
    errors: { throttled: 75, 'not-found': 44 },
    retry: {
      rules: [
        { on: ['throttled'], limit: 4 },
        { on: ['Failed'], message: /SlowDown|503 Service Unavailable/i, limit: 2 },
        { on: ['transient', 'Error'], limit: 1 },
      ],
      backoff: { delay: Duration.seconds(10), factor: 2, cap: Duration.seconds(30), maxDuration: Duration.minutes(10) },
    },
  });
  const wf = new Workflow(app, 'fetch-items');
  wf.addStep('fetch', fetch);
  return fixtureManifests(app, [wf]);
}

const manifests = buildApp();
const strategy = manifests.taskTemplate('fetch-items', 'fetch').retryStrategy as Doc;

const failed = (exitCode: number, message = `Error (exit code ${exitCode})`, seconds?: number): Attempt => ({ phase: 'Failed', exitCode, message, seconds });
const ok: Attempt = { phase: 'Succeeded', exitCode: 0, message: '' };

describe('retry rules as the controller applies them', () => {
  const cases: [string, Attempt[], { phase: string; message: string; attempts: number; waits: number[] }][] = [
    ['throttled twice, then done: retried with 10 s, 20 s', [failed(75), failed(75), ok], { phase: 'Succeeded', message: '', attempts: 3, waits: [10, 20] }],
    ['throttled every time: 4 retries (the cap holds waits at 30 s), then "No more retries left"', [failed(75)],
      { phase: 'Failed', message: 'No more retries left', attempts: 5, waits: [10, 20, 30, 30] }],
    ['not-found: never retried (Argo still waits the first backoff)', [failed(44)], { phase: 'Failed', message: 'retryStrategy.expression evaluated to false', attempts: 1, waits: [10] }],
    ['an S3 SlowDown message: its rule allows 2 retries', [failed(1, 'Error (exit code 1): SlowDown: please reduce your request rate')],
      { phase: 'Failed', message: 'retryStrategy.expression evaluated to false', attempts: 3, waits: [10, 20, 30] }],
    ['a transient network message: 1 retry', [failed(1, 'dial tcp: connection reset by peer'), ok], { phase: 'Succeeded', message: '', attempts: 2, waits: [10] }],
    ['a deleted pod (Error, no exit code): 1 retry', [{ phase: 'Error', message: 'pod deleted' }],
      { phase: 'Error', message: 'retryStrategy.expression evaluated to false', attempts: 2, waits: [10, 20] }],
    ['a plain program failure: no rule matches, not retried', [failed(1)], { phase: 'Failed', message: 'retryStrategy.expression evaluated to false', attempts: 1, waits: [10] }],
    ['290 s throttled attempts: the second backoff would end past maxDuration (600 s)', [failed(75, 'Error (exit code 75)', 290)],
      { phase: 'Failed', message: 'Backoff would exceed max duration limit', attempts: 2, waits: [10] }],
    ['280 s throttled attempts: the third ends past maxDuration', [failed(75, 'Error (exit code 75)', 280)],
      { phase: 'Failed', message: 'Max duration limit exceeded', attempts: 3, waits: [10, 20] }],
  ];

  it.each(cases)('%s', (_name, script, expected) => {
    expect(runRetryNode(strategy, script)).toEqual(expected);
  });
});

describe(`a retried step's run through the state service (${BACKEND})`, () => {
  let platform: RunningPlatform;
  beforeAll(async () => {
    platform = await startPlatform(manifests);
  });
  afterAll(async () => platform?.stop());

  /** The failed nodes a run reports: each failed attempt (`fetch(i)`) and, when it gave up, the retry node. */
  function failures(script: Attempt[], outcome: ReturnType<typeof runRetryNode>): FailedNode[] {
    const attempts = Array.from({ length: outcome.attempts }, (_, i) => script[Math.min(i, script.length - 1)]!);
    const nodes: FailedNode[] = attempts.flatMap((a, i) => (a.phase === 'Succeeded' ? [] : [{
      displayName: `fetch(${i})`, message: a.message, templateName: 'main', phase: a.phase, podName: `fetch-items-fetch-${i}`, finishedAt: '2026-03-02T10:45:00Z',
    }]));
    if (outcome.phase !== 'Succeeded') nodes.push({ displayName: 'fetch', message: outcome.message, templateName: 'main', phase: outcome.phase, podName: '', finishedAt: '2026-03-02T10:45:00Z' });
    return nodes;
  }

  const runs: [string, Attempt[], string, string | null][] = [
    ['a throttled step that succeeds on retry is SUCCESSFUL', [failed(75), failed(75), ok], 'SUCCESSFUL', null],
    ['a not-found step is FAILED at once, its error naming the attempt', [failed(44)], 'FAILED', 'fetch(0): Error (exit code 44); fetch: retryStrategy.expression evaluated to false'],
    ['retries cut by maxDuration are TIMED_OUT', [failed(75, 'Error (exit code 75)', 280)], 'TIMED_OUT',
      'fetch(0): Error (exit code 75); fetch(1): Error (exit code 75); fetch(2): Error (exit code 75); fetch: Max duration limit exceeded'],
  ];
  it.each(runs)('%s', async (_name, script, state, error) => {
    const outcome = runRetryNode(strategy, script);
    const payloadId = cirrusId('fetch-items', `RETRY-${script.length}-${state}`);
    const run = await platform.start('fetch-items', {
      input: JSON.stringify(cirrusPayload([{ workflow: 'fetch-items' }], { id: payloadId })), 'payload-id': payloadId,
    });
    expect(run.userTasksThatRun()).toEqual({ fetch: true });
    expect((await run.running()).succeeded).toBe(true);
    // A DAG with one task ends in that task's phase.
    expect((await run.completed(outcome.phase as 'Succeeded' | 'Failed' | 'Error', workflowFailures(failures(script, outcome)))).succeeded).toBe(true);
    const recorded = await platform.read(`/runs/${run.run.name}`);
    expect({ state: recorded.state, error: recorded.error }).toEqual({ state, error });
  });
});
