import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, loadStackConfig } from '../../stacks/config';
import { stackConfig } from '../infra/support/stack-run';
import { deadLetterQueueName, loadEnvironment, processQueueName } from '../../stacks/environment';
import { readmeSection } from '../support/readme';

/**
 * The deployment runbook in the README uses only what the code supports: config keys the
 * program accepts, npm scripts that exist, stack outputs the program exports, files in the
 * repository, and the names the stack gives the queue, the image repository and the service.
 */
const ROOT = resolve(__dirname, '..', '..');
const section = readmeSection('Deploying the platform (Pulumi)');
const commands = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n'));
const dev = loadEnvironment('dev');

describe('README runbook (Deploying the platform)', () => {
  it('shows commands', () => {
    expect(commands.length).toBeGreaterThan(20);
  });

  it('sets only config keys stacks/config.ts accepts (CONFIG_KEYS), secrets with --secret', () => {
    const sets = commands.filter((c) => /\bpulumi config set\b/.test(c));
    expect(sets.length).toBeGreaterThanOrEqual(4);
    for (const line of sets) {
      const args = line.split(/pulumi config set\s+/)[1]!.split(/\s+/).filter((a) => !a.startsWith('--'));
      const key = args[0]!.replace(/^'|'$/g, '').split('.')[0]!;
      expect(Object.keys(CONFIG_KEYS), line).toContain(key);
      if (/workloadSecrets|ClientSecret/.test(key)) expect(line).toContain('--secret');
    }
    // The check can fail: a key the program does not know is reported.
    expect(Object.keys(CONFIG_KEYS)).not.toContain('stateImage');
  });

  it('runs only npm scripts package.json defines', () => {
    const scripts = Object.keys(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts);
    const used = [...section.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!);
    expect(used).toContain('synth');
    // The image build runs the bundle script too.
    expect(readFileSync(join(ROOT, 'state', 'Dockerfile'), 'utf8')).toContain('npm run build:state');
    expect(scripts).toContain('build:state');
    expect(used.filter((s) => !scripts.includes(s))).toEqual([]);
  });

  it('reads only stack outputs stacks/index.ts exports', () => {
    const program = readFileSync(join(ROOT, 'stacks', 'index.ts'), 'utf8');
    const exported = [...program.matchAll(/^export const (\w+)/gm)].map((m) => m[1]!);
    const used = [...section.matchAll(/pulumi stack output (\w+)/g)].map((m) => m[1]!);
    expect(used).toEqual(expect.arrayContaining(['ingressQueueUrl', 'stateImageRepositoryUrl']));
    expect(used.filter((o) => !exported.includes(o))).toEqual([]);
  });

  it('names files that exist: the payload it sends, the image build, the CI workflow', () => {
    const files = [...section.matchAll(/file:\/\/(\S+)/g), ...section.matchAll(/-f (state\/\S+)/g)].map((m) => m[1]!);
    files.push('.github/workflows/state-image.yml');
    expect(files).toContain('workflows/samples/copy-and-publish/s2-cogs.json');
    expect(files.filter((f) => !existsSync(join(ROOT, f)))).toEqual([]);
    const payload = JSON.parse(readFileSync(join(ROOT, 'workflows/samples/copy-and-publish/s2-cogs.json'), 'utf8'));
    expect([payload.process].flat()[0].workflow).toBe('copy-and-publish');
    expect(readFileSync(join(ROOT, '.github/workflows/state-image.yml'), 'utf8')).toMatch(/npm run build:state[\s\S]*file: state\/Dockerfile/);
  });

  it('uses the names the dev stack gives the cluster, queue, image repository and state service', () => {
    expect(section).toContain(`--name ${dev.clusterName} --region ${dev.region}`);
    expect(section).toContain(`--cluster-name ${dev.clusterName}`);
    expect(section).toContain(`queue \`${processQueueName(dev.clusterName)}\``);
    expect(section).toContain(`\`${deadLetterQueueName(dev.clusterName)}\``);
    expect(section).toContain(`--repository-name ${dev.clusterName}/swoop-state`);
    const docs = parseAllDocuments(readFileSync(join(ROOT, 'dist', 'dev', 'state-service.yaml'), 'utf8')).map((d) => d.toJS());
    const service = docs.find((d) => d.kind === 'Service');
    expect(section).toContain(`svc/${service.metadata.name} ${service.spec.ports[0].port}:`);
    const sqs = parseAllDocuments(readFileSync(join(ROOT, 'dist', 'dev', 'events.yaml'), 'utf8')).map((d) => d.toJS()).find((d) => d.kind === 'EventSource' && d.spec.sqs);
    expect(section).toContain(`\`${sqs.metadata.name}\``);
    expect(sqs.spec.sqs.payload.queue).toBe(processQueueName(dev.clusterName));
  });

  it('shows the error the program gives for the committed example digest, and how the first run avoids it', () => {
    let message = '';
    try {
      loadStackConfig(stackConfig('dev'), 'swoop-platform', 'dev');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('swoop-platform:stateServiceImage is the example digest');
    expect(section).toContain(message);
    expect(commands).toContain('pulumi config set deployManifests false');
    expect(commands).toContain('pulumi config set deployManifests true');
  });
});
