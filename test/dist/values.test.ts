import { App, Testing } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { ContainerTask, TaskLibrary, Workflow, environmentValues, synthesize } from '../../constructs';
import { platformValueReads } from '../../constructs/environment';
import { EnvironmentError, loadEnvironment, stackNames } from '../../stacks/environment';
import { missingValues, readEnvironmentDist, synthesizeEnvironments } from '../../workflows/environments';
import { runStack, type StackRun } from '../infra/support/stack-run';
import { HAVE_REFERENCE } from '../support/reference';
import { validateArgoDocument } from '../support/schema';
import { join, resolve } from 'node:path';

/** Per-environment values: env.value(key) in a workflow, set per stack, checked at synth and at deploy. */
const DIST = join(resolve(__dirname, '..', '..'), 'dist');

function fixture() {
  const app = new App();
  const env = environmentValues({ 'out-bucket': 'where outputs are copied' });
  const library = new TaskLibrary(app, 'lib');
  const copy = new ContainerTask(library, 'copy', {
    image: 'ghcr.io/acme/copy:1.0.0', inputs: { parameters: { to: {} } },
    env: { OUT_BUCKET: env.value('out-bucket') },
  });
  const wf = new Workflow(app, 'copy-out', { parameters: { to: { default: env.value('out-bucket') } } });
  wf.addStep('copy', copy, { parameters: { to: wf.params.to } });
  return { app, env };
}

describe('env.value(key)', () => {
  it('renders a workflow parameter (and a task env var) read from ConfigMap swoop-platform, valid upstream', () => {
    const files = synthesize(fixture().app);
    const wt = parseAllDocuments(files.get('copy-out.yaml')!).map((d) => d.toJS())[0];
    expect(wt.spec.arguments.parameters.find((p: { name: string }) => p.name === 'to')).toEqual({ name: 'to', valueFrom: { configMapKeyRef: { name: 'swoop-platform', key: 'out-bucket' } } });
    const lib = parseAllDocuments(files.get('lib.yaml')!).map((d) => d.toJS())[0];
    expect(lib.spec.templates[0].container.env).toContainEqual({ name: 'OUT_BUCKET', valueFrom: { configMapKeyRef: { name: 'swoop-platform', key: 'out-bucket' } } });
    expect(platformValueReads(wt)).toEqual(['out-bucket', 'payload-store', 'state-url']);
    if (HAVE_REFERENCE) for (const doc of [wt, lib]) expect(validateArgoDocument(doc)).toEqual([]);
  });

  it('is typed against the declared keys and refuses a key ConfigMaps cannot hold', () => {
    const { env } = fixture();
    // @ts-expect-error: 'out-buket' is not a declared environment value
    expect(env.value('out-buket').key).toBe('out-buket');
    expect(() => environmentValues({ 'out bucket': 'x' })).toThrow('environment value "out bucket" is not a ConfigMap key; use letters, digits, "-", "_" and "."');
  });
});

describe('a value the workflows read but the stack does not set', () => {
  it('fails npm run synth naming the file, the object, the key and the setting to add', () => {
    const dev = loadEnvironment('dev');
    const { 'publish-bucket': _dropped, ...rest } = dev.workflowValues;
    const without = { ...dev, workflowValues: rest, valueKeys: dev.valueKeys.filter((k) => k !== 'publish-bucket') };
    expect(() => synthesizeEnvironments([without])).toThrow(EnvironmentError);
    expect(missingValues(without, new Map([['t.yaml', Testing.synth(fixture().app.node.findChild('copy-out') as never).map((d) => JSON.stringify(d)).join('\n---\n')]]))).toEqual([
      'dist/dev/t.yaml: WorkflowTemplate/copy-out reads "out-bucket" from ConfigMap swoop-platform, which stack dev does not set; add it under swoop-platform:workflowValues in stacks/Pulumi.dev.yaml',
    ]);
    expect(() => synthesizeEnvironments([without])).toThrow(/dist\/dev\/copy-and-publish\.yaml: WorkflowTemplate\/copy-and-publish reads "publish-bucket" from ConfigMap swoop-platform, which stack dev does not set/);
  });
});

describe.each(stackNames())('dist/%s/', (stack) => {
  it('copy-and-publish reads its bucket and public URL from the environment, not a literal', () => {
    const wt = parseAllDocuments(readEnvironmentDist(DIST, stack).get('copy-and-publish.yaml')!).map((d) => d.toJS())[0];
    expect(platformValueReads(wt)).toEqual(['payload-store', 'public-url', 'publish-bucket', 'state-url']);
    expect(JSON.stringify(wt)).not.toMatch(/s3:\/\/swoop-/);
    expect(loadEnvironment(stack).workflowValues['publish-bucket']).toMatch(/^s3:\/\//);
  });
});

describe('the Pulumi program (dev, under mocks)', () => {
  let dev: StackRun;
  beforeAll(async () => {
    dev = await runStack('dev');
  });

  it('writes the stack\'s workflow values into ConfigMap swoop-platform', () => {
    const cm = dev.resources.find((r) => r.type === 'kubernetes:core/v1:ConfigMap' && r.inputs.metadata?.name === 'swoop-platform')!;
    expect(cm.inputs.data).toMatchObject(loadEnvironment('dev').workflowValues);
  });

  it('fails naming the key when the stack does not set a value dist/dev/ reads', async () => {
    await expect(runStack('dev', { 'swoop-platform:workflowValues': JSON.stringify({ 'public-url': 'https://x.example.org' }) })).rejects.toThrow(
      /dist\/dev\/copy-and-publish\.yaml: WorkflowTemplate\/copy-and-publish reads key "publish-bucket" of ConfigMap swoop-platform, which this stack does not set/,
    );
  });
});
