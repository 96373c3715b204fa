import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderTags, workflowFailures, type Doc, type FailedNode, type TaskOutputs } from './support/argo';
import { cirrusId, cirrusPayload, newRun } from './support/fixtures';
import { BACKEND, LIFECYCLE_TOKEN, PAYLOAD_STORE, startPlatform, synthesizeManifests, type RunningPlatform } from './support/platform';
import { ArgoRun } from './support/run';

const manifests = synthesizeManifests();
const templates = manifests.docs.filter((d) => d.kind === 'WorkflowTemplate' && d.metadata.labels?.['app.kubernetes.io/component'] === 'workflow');
const NAMES = templates.map((t) => t.metadata.name as string);

/** What the user steps of the suite's workflows (support/app.ts) output, for the `when`s that read them. */
const STEP_OUTPUTS: TaskOutputs = {
  'split-assets': { parameters: { assets: '["B04","B08"]' } },
  'cloud-mask': { parameters: { 'cloud-cover': '12.5' } },
};

function template(name: string): Doc {
  return structuredClone(manifests.find('WorkflowTemplate', name));
}

/** Every output payload URL a single (not fanned-out) DAG task of this run writes, rendered. */
function stepOutputs(run: ArgoRun): string[] {
  return run.dagTasks.filter((t) => !t.withParam && !t.withItems).flatMap((t) => ((t.arguments?.parameters ?? []) as Doc[])
    .filter((p) => p.name === 'output' || String(p.name).endsWith('-output'))
    .map((p) => renderTags(String(p.value), run.scope(), `task ${t.name}`)));
}

function failed(message: string, displayName = 'convert(0:B04)'): FailedNode {
  return { displayName, message, templateName: 'main', phase: 'Failed', podName: `pod-${displayName.length}`, finishedAt: '2026-03-02T10:45:00Z' };
}

describe(`one run's lifecycle through the real state service (${BACKEND})`, () => {
  let platform: RunningPlatform;
  beforeAll(async () => {
    platform = await startPlatform(manifests);
  });
  afterAll(async () => platform?.stop());

  /** A run the state service claimed and created (POST /submit, as the sensors hand runs over). */
  const submit = (name: string, args: Record<string, string>) => platform.start(name, args);

  it('finds the three workflows of its app in the synthesized manifests', () => {
    expect(NAMES.sort()).toEqual(['e2e-cogs', 'e2e-mask', 'e2e-publish']);
  });

  describe('the lifecycle templates as generated', () => {
    it.each(NAMES)('%s: no task waits for a claim: the first tasks depend on nothing (no claim task, no agent pod before them)', (name) => {
      const tasks = new ArgoRun(template(name), newRun(name, { input: 's3://in/x.json' }), platform.cluster).dagTasks;
      expect(tasks.map((t) => t.name)).not.toContain('claim');
      expect(tasks.filter((t) => !t.depends && !t.dependencies).length).toBeGreaterThan(0);
      for (const t of tasks) expect(String(t.when ?? '')).not.toContain('tasks.claim');
    });

    it.each(NAMES)('%s: the state service claims, then creates a Workflow the upstream schema accepts, with the arguments given', async (name) => {
      const args = { input: 's3://in/a.json', 'payload-id': cirrusId(name, 'AUTH') };
      const answer = await platform.submit(name, args);
      expect({ status: answer.status, body: answer.body }).toEqual({ status: 201, body: { created: true, claimed: true, reason: 'new payload', run: answer.run!.run.name } });
      expect(answer.run!.parameters).toMatchObject(args);
      expect(platform.kube.invalid).toEqual([]);
      expect((await platform.read(`/runs/${answer.run!.run.name}`)).state).toBe('QUEUED');
    });

    it.each(NAMES)('%s: the running event is accepted (startedAt is RFC 3339)', async (name) => {
      const run = await submit(name, { input: 's3://in/b.json', 'payload-id': cirrusId(name, 'TIME') });
      const sent = JSON.parse(run.runningRequest().body);
      const outcome = await run.running();
      expect({ startedAt: sent.startedAt, status: outcome.status, body: outcome.body }).toMatchObject({ startedAt: run.run.creationTimestamp, status: 202 });
      // It carries the workflow's deadline, which the service turns into the run's deadlineAt.
      const deadlineSeconds = template(name).spec.activeDeadlineSeconds as number;
      expect(sent.deadlineSeconds).toBe(deadlineSeconds);
      const recorded = await platform.read(`/runs/${run.run.name}`);
      expect(Date.parse(recorded.deadlineAt)).toBe(Date.parse(run.run.creationTimestamp) + deadlineSeconds * 1000);
    });
  });

  describe('whole runs', () => {
    it.each(NAMES)('%s: submit (claim) -> running -> completed(Succeeded) records SUCCESSFUL with its history, forwarded once', async (name) => {
      const input = JSON.stringify(cirrusPayload([{ workflow: name }], { id: cirrusId(name, `OK-${name}`) }));
      const run = await submit(name, { input, 'payload-id': cirrusId(name, `OK-${name}`) });

      const steps = run.userTasksThatRun(STEP_OUTPUTS);
      expect(Object.values(steps).every(Boolean)).toBe(true);

      const running = await run.running();
      expect([running.succeeded, JSON.parse(running.body)]).toEqual([true, { accepted: true, run: run.run.name }]);
      expect((await platform.read(`/runs/${run.run.name}`)).state).toBe('RUNNING');
      const completed = await run.completed('Succeeded', workflowFailures([]));
      expect([completed.succeeded, JSON.parse(completed.body)]).toEqual([true, { accepted: true, run: run.run.name }]);

      const recorded = await platform.read(`/runs/${run.run.name}`);
      expect(recorded).toMatchObject({
        run: run.run.name, uid: run.run.uid, workflow: name, payloadId: cirrusId(name, `OK-${name}`), state: 'SUCCESSFUL',
        claim: 'claimed', input, error: null,
      });
      // The output is the payload one of the run's steps wrote, under this run's prefix.
      expect(stepOutputs(run)).toContain(recorded.output);
      expect(recorded.output).toMatch(new RegExp(`^${PAYLOAD_STORE}/${run.run.name}/[a-z0-9-]+/output\\.json$`));
      expect(Date.parse(recorded.startedAt)).toBe(Date.parse(run.run.creationTimestamp));
      expect(recorded.history.map((h: Doc) => [h.state, h.source])).toEqual([['QUEUED', 'claim'], ['RUNNING', 'running'], ['SUCCESSFUL', 'completed']]);

      const forwarded = await platform.lifecycle.waitFor((r) => r.body.run === run.run.name);
      expect(forwarded.headers.authorization).toBe(`Bearer ${LIFECYCLE_TOKEN}`);
      expect(forwarded.body).toEqual({
        event: 'run.finished', state: 'SUCCESSFUL', workflow: name, run: run.run.name, uid: run.run.uid,
        payloadId: cirrusId(name, `OK-${name}`), parentRun: '', startedAt: run.run.creationTimestamp,
        finishedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/), error: '', input, output: recorded.output, next: [],
      });

      // The exit handler's retry (or a replayed request) delivers the same event again.
      const again = await run.completed('Succeeded', workflowFailures([]));
      expect([again.succeeded, JSON.parse(again.body)]).toEqual([true, { accepted: true, run: run.run.name }]);
      expect((await platform.read(`/runs/${run.run.name}`)).history).toHaveLength(3); // the duplicate added nothing
      const outbox = await platform.state.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE run = $1', [run.run.name]);
      expect(outbox[0]!.n).toBe(1);
    });

    it('a second run of a succeeded payload is refused before any Workflow exists: no object, no pod, and the refusal changes nothing', async () => {
      const name = 'e2e-cogs';
      const payloadId = cirrusId(name, 'DUP');
      const args = { input: 's3://in/dup.json', 'payload-id': payloadId };
      const first = await submit(name, args);
      await first.running();
      await first.completed('Succeeded', workflowFailures([]));
      await platform.lifecycle.waitFor((r) => r.body.run === first.run.name);
      const before = await platform.read(`/payloads/${encodeURIComponent(payloadId)}`);

      const workflows = platform.kube.workflows.size;
      const second = await platform.submit(name, args);
      // A refusal is an answer (2xx: the trigger counts it delivered), not an HTTP error.
      expect([second.status, second.body]).toEqual([200, { created: false, claimed: false, reason: `payload already succeeded: run ${first.run.name}`, run: first.run.name }]);
      expect(second.run).toBeUndefined();
      expect(platform.kube.workflows.size).toBe(workflows);
      const refusedName = (await platform.read(`/runs?payloadId=${encodeURIComponent(payloadId)}`)).runs.map((r: Doc) => r.run).find((r: string) => r !== first.run.name);
      const refused = await platform.read(`/runs/${refusedName}`);
      expect(refused).toMatchObject({ state: 'CANCELED', claim: 'refused', output: null });
      const after = await platform.read(`/payloads/${encodeURIComponent(payloadId)}`);
      expect(after.state).toBe('SUCCESSFUL');
      expect(after.runs.find((r: Doc) => r.run === first.run.name)).toEqual(before.runs.find((r: Doc) => r.run === first.run.name));
      const outbox = await platform.state.db.query('SELECT run FROM outbox WHERE run = $1', [refusedName]);
      expect(outbox).toEqual([]);
    });

    it('replace: "true" claims a succeeded payload again', async () => {
      const name = 'e2e-publish';
      const payloadId = cirrusId(name, 'REPLACE');
      const first = await submit(name, { input: 's3://in/r.json', 'payload-id': payloadId });
      await first.completed('Succeeded', workflowFailures([]));
      const again = await platform.submit(name, { input: 's3://in/r.json', 'payload-id': payloadId, replace: 'true' });
      expect(again.body).toEqual({ created: true, claimed: true, reason: `replace: supersedes run ${first.run.name} (SUCCESSFUL)`, run: again.run!.run.name });
      expect(Object.values(again.run!.userTasksThatRun(STEP_OUTPUTS)).every(Boolean)).toBe(true);
    });

    it('a replace value outside the parameter enum is refused by the state service before anything is claimed or created (Argo would refuse the run)', async () => {
      expect(() => new ArgoRun(template('e2e-publish'), newRun('e2e-publish', { input: 's3://in/x.json', replace: 'yes' }), platform.cluster)).toThrow('parameter "replace" is "yes", not one of its enum values false, true');
      const requests = platform.kube.requests.length;
      const answer = await platform.submit('e2e-publish', { input: 's3://in/x.json', replace: 'yes' });
      expect([answer.status, answer.body.field]).toEqual([400, 'replace']);
      expect(platform.kube.requests.length).toBe(requests);
    });

    it("records a failed run's error as its failed steps, read from Argo's quoted workflow.failures", async () => {
      const run = await submit('e2e-cogs', { input: 's3://in/e.json', 'payload-id': cirrusId('e2e-cogs', 'ERRTEXT') });
      await run.completed('Failed', workflowFailures([failed('Error (exit code 1)'), failed('OOMKilled (exit code 137)', 'merge-assets')]));
      expect((await platform.read(`/runs/${run.run.name}`)).error).toBe('convert(0:B04): Error (exit code 1); merge-assets: OOMKilled (exit code 137)');
    });

    const finals: [string, string, 'Failed' | 'Error', FailedNode[]][] = [
      ['a failed step', 'FAILED', 'Failed', [failed('Error (exit code 1)')]],
      ['an error of the controller', 'FAILED', 'Error', [{ ...failed('failed to resolve artifact repository'), phase: 'Error' }]],
      ['a stop (retry nodes report the strategy)', 'CANCELED', 'Failed', [failed("Stopped with strategy 'Stop'", 'convert(0:B04)(0)')]],
      ['a retry backoff over its maxDuration', 'TIMED_OUT', 'Failed', [failed('Max duration limit exceeded')]],
      ['the workflow deadline (running pods are marked "Step exceeded its deadline")', 'TIMED_OUT', 'Failed', [failed('Step exceeded its deadline')]],
      ['the workflow deadline reached by a retrying step', 'TIMED_OUT', 'Failed', [failed('retry exceeded workflow deadline 2026-03-02 10:45:30 +0000 UTC')]],
    ];
    it.each(finals)('%s is recorded %s with its error, and forwarded', async (_what, state, phase, nodes) => {
      const name = 'e2e-cogs';
      const run = await submit(name, { input: 's3://in/f.json', 'payload-id': cirrusId(name, `F-${nodes[0]!.message.length}-${phase}`) });
      await run.running();
      const completed = await run.completed(phase, workflowFailures(nodes));
      expect(completed.succeeded).toBe(true);
      const recorded = await platform.read(`/runs/${run.run.name}`);
      expect({ state: recorded.state, output: recorded.output }).toEqual({ state, output: null });
      expect(recorded.error).toContain(nodes[0]!.message);
      const forwarded = await platform.lifecycle.waitFor((r) => r.body.run === run.run.name);
      expect(forwarded.body).toMatchObject({ state, output: '', error: recorded.error });
    });
  });
});
