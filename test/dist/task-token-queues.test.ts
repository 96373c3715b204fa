/**
 * A wait step's SQS queue must be one the stack lets the state service send to
 * (`taskTokenQueues`), whether the step names it or reads it with env.value(key): checked by
 * `npm run synth` per stack and by Platform before `pulumi up` deploys, so a wrong queue is
 * not first found by a run that waits for ever. Fixture apps only (never workflows/).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-27';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { ContainerTask, environmentValues, synthesize, TaskLibrary, TaskTokenTarget, Workflow } from '../../constructs';
import { manifestProblems } from '../../infra/manifest-check';
import { loadEnvironment, type Environment } from '../../stacks/environment';
import { environmentProblems } from '../../workflows/environments';

const LISTED = 'https://sqs.us-west-2.amazonaws.com/123456789012/review-tasks';
const FIFO = 'https://sqs.us-west-2.amazonaws.com/123456789012/review-tasks.fifo';
const UNLISTED = 'https://sqs.us-west-2.amazonaws.com/123456789012/other-tasks';
const IMAGE = `123456789012.dkr.ecr.us-west-2.amazonaws.com/swoop-t/swoop-state@sha256:${'a'.repeat(64)}`;

const tmp = mkdtempSync(join(tmpdir(), 'swoop-token-queues-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A stack settings file with these taskTokenQueues and workflowValues, read as `npm run synth` reads it. */
function stack(config: Record<string, unknown>): Environment {
  const dir = mkdtempSync(join(tmp, 'stacks-'));
  writeFileSync(join(dir, 'Pulumi.t.yaml'), stringify({ config: { 'aws:region': 'us-west-2', 'swoop-platform:stateServiceImage': IMAGE, ...config } }));
  return loadEnvironment('t', dir);
}

const env = environmentValues({ 'review-queue': 'the queue reviewers take task tokens from' });

/** One workflow whose wait step sends tokens to `queueUrl`. */
function files(queueUrl: string | ReturnType<typeof env.value>): Map<string, string> {
  const app = new App();
  const lib = new TaskLibrary(app, 'lib');
  const publish = new ContainerTask(lib, 'publish', { image: 'ghcr.io/example/publish:1.0.0', resources: { cpu: { request: Cpu.millis(100) }, memory: { request: Size.mebibytes(128) } } });
  const wf = new Workflow(app, 'review');
  const wait = wf.addWaitForCallback('approve', { send: TaskTokenTarget.sqs({ queueUrl }) });
  wf.addStep('publish', publish, { input: wait.output });
  return synthesize(app);
}

const queues = (...urls: string[]) => ({ 'swoop-platform:taskTokenQueues': urls.map((url) => ({ url })) });

describe('the stack setting taskTokenQueues, as npm run synth reads it', () => {
  it('is read from stacks/Pulumi.<stack>.yaml with the reader pulumi up uses (one function, same errors)', () => {
    expect(stack(queues(LISTED, FIFO)).taskTokenQueues).toEqual([{ url: LISTED }, { url: FIFO }]);
    expect(stack({}).taskTokenQueues).toEqual([]);
    expect(() => stack(queues('review-tasks'))).toThrow(
      'stacks/Pulumi.t.yaml: swoop-platform:taskTokenQueues[0].url must be an SQS queue URL https://sqs.<region>.amazonaws.com/<account>/<queue> (got "review-tasks")',
    );
    expect(() => stack(queues(LISTED, LISTED))).toThrow(`swoop-platform:taskTokenQueues[1].url ${LISTED} is listed twice`);
    expect(() => stack({ 'swoop-platform:taskTokenQueues': { url: LISTED } })).toThrow('swoop-platform:taskTokenQueues must be a list of {url, kmsKeyArn?}');
  });
});

describe('npm run synth: a wait step\'s SQS queue must be in the stack\'s taskTokenQueues', () => {
  it('a literal queue the stack lists: no problem', () => {
    expect(environmentProblems(stack(queues(UNLISTED, LISTED)), files(LISTED))).toEqual([]);
  });

  it('a literal queue the stack does not list: one line naming the file, the queue and the fix', () => {
    expect(environmentProblems(stack(queues(FIFO)), files(LISTED))).toEqual([
      `dist/t/review.yaml: WorkflowTemplate/review (template swoop-wait-approve-send) sends task tokens to SQS queue ${LISTED}, which stack t does not list in taskTokenQueues, so the state service would refuse it; add {url: ${LISTED}} to swoop-platform:taskTokenQueues in stacks/Pulumi.t.yaml`,
    ]);
  });

  it('env.value(key) whose stack value is a listed queue: no problem', () => {
    const environment = stack({ ...queues(LISTED), 'swoop-platform:workflowValues': { 'review-queue': LISTED } });
    expect(environmentProblems(environment, files(env.value('review-queue')))).toEqual([]);
  });

  it('env.value(key) whose stack value is not a listed queue: one line naming the key too', () => {
    const environment = stack({ ...queues(LISTED), 'swoop-platform:workflowValues': { 'review-queue': UNLISTED } });
    expect(environmentProblems(environment, files(env.value('review-queue')))).toEqual([
      `dist/t/review.yaml: WorkflowTemplate/review (template swoop-wait-approve-send) sends task tokens to SQS queue ${UNLISTED} (env.value("review-queue") in stack t), which stack t does not list in taskTokenQueues, so the state service would refuse it; add {url: ${UNLISTED}} to swoop-platform:taskTokenQueues in stacks/Pulumi.t.yaml, or set swoop-platform:workflowValues.review-queue to a listed queue`,
    ]);
  });

  it('env.value(key) the stack does not set: the missing-value error, and no second one about the queue', () => {
    expect(environmentProblems(stack(queues(LISTED)), files(env.value('review-queue')))).toEqual([
      'dist/t/review.yaml: WorkflowTemplate/review reads "review-queue" from ConfigMap swoop-platform, which stack t does not set; add it under swoop-platform:workflowValues in stacks/Pulumi.t.yaml',
    ]);
  });

  it('env.value of the platform\'s own task-token-queues holds the list: fine with one queue, refused with two', () => {
    const builtIn = (environmentValues({ 'task-token-queues': 'the platform\'s own' })).value('task-token-queues');
    expect(environmentProblems(stack(queues(LISTED)), files(builtIn))).toEqual([]);
    expect(environmentProblems(stack(queues(LISTED, FIFO)), files(builtIn))).toEqual([expect.stringContaining(`sends task tokens to SQS queue ${LISTED},${FIFO} (env.value("task-token-queues") in stack t)`)]);
  });
});

describe('pulumi up: Platform\'s check of dist/<stack>/ before deploying (infra/manifest-check.ts)', () => {
  const dist = (name: string, manifests: Map<string, string>) => {
    const dir = join(tmp, name);
    mkdirSync(dir);
    for (const [f, text] of manifests) writeFileSync(join(dir, f), text);
    return dir;
  };
  const valueKeys = ['payload-store', 'state-url', 'lifecycle-url', 'task-token-queues', 'review-queue'];

  it('passes a listed queue, literal or read from the environment', () => {
    expect(manifestProblems(dist('literal-ok', files(LISTED)), { valueKeys, taskTokenQueues: { queues: [LISTED], values: {} } })).toEqual([]);
    expect(manifestProblems(dist('env-ok', files(env.value('review-queue'))), { valueKeys, taskTokenQueues: { queues: [LISTED], values: { 'review-queue': LISTED } } })).toEqual([]);
  });

  it('refuses an unlisted queue, naming the file, the object, the queue and the setting', () => {
    expect(manifestProblems(dist('literal-bad', files(LISTED)), { valueKeys, taskTokenQueues: { queues: [], values: {} } })).toEqual([
      expect.stringMatching(new RegExp(`literal-bad/review\\.yaml: WorkflowTemplate/review \\(template swoop-wait-approve-send\\) sends task tokens to SQS queue ${LISTED}, which the state service may not send to; add \\{url: ${LISTED}\\} to the stack setting swoop-platform:taskTokenQueues$`)),
    ]);
    expect(manifestProblems(dist('env-bad', files(env.value('review-queue'))), { valueKeys, taskTokenQueues: { queues: [LISTED], values: { 'review-queue': UNLISTED } } })).toEqual([
      expect.stringContaining(`sends task tokens to SQS queue ${UNLISTED} (key "review-queue"), which the state service may not send to`),
    ]);
  });
});
