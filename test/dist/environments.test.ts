import { submissions } from '../support/submissions';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { loadEnvironment, stackNames } from '../../stacks/environment';
import { Simulator, snsEnvelope, sqsEvent } from '../../tools/simulator';
import { readEnvironmentDist } from '../../workflows/environments';
import { HAVE_REFERENCE } from '../support/reference';
import { validateArgoDocument } from '../support/schema';

/** The environment-specific parts of dist/<stack>/: the SQS ingress and the state image. */
const ROOT = resolve(__dirname, '..', '..');
const DIST = join(ROOT, 'dist');
const docsOf = (stack: string, file: string) => parseAllDocuments(readEnvironmentDist(DIST, stack).get(file)!).map((d) => d.toJS());

describe.each(stackNames())('dist/%s/', (stack) => {
  const env = loadEnvironment(stack);
  const events = docsOf(stack, 'events.yaml');
  const sqs = events.find((d) => d.kind === 'EventSource' && d.metadata.name === 'swoop-ingress-sqs');

  it('reads the stack\'s process queue with an SQS EventSource running as swoop-events-source', () => {
    expect(env.queueName).toBe(`${env.clusterName}-process`);
    expect(sqs.metadata.namespace).toBe('swoop');
    expect(sqs.spec.template.serviceAccountName).toBe('swoop-events-source');
    expect(sqs.spec.sqs).toEqual({ payload: { queue: env.queueName, region: env.region, waitTimeSeconds: 20, jsonBody: true, dlq: true } });
    const account = events.find((d) => d.kind === 'ServiceAccount' && d.metadata.name === 'swoop-events-source');
    expect(account.metadata.namespace).toBe('swoop');
  });

  it.skipIf(!HAVE_REFERENCE)('whose EventSource is valid for upstream Argo Events (and a misplaced field is not)', () => {
    expect(validateArgoDocument(sqs)).toEqual([]);
    const broken = structuredClone(sqs);
    broken.spec.sqs.payload.waitTime = 20;
    expect(validateArgoDocument(broken).join('\n')).toContain("additional properties 'waitTime'");
  });

  it('routes raw and SNS-wrapped queue messages to the workflow they name, once per message', () => {
    const simulator = Simulator.fromPath(join(DIST, stack));
    const payload = { type: 'FeatureCollection', features: [{ id: 'S2B_1', collection: 'sentinel-2-l2a' }], process: [{ workflow: 'cog-conversion' }] };
    for (const event of [sqsEvent('swoop-ingress-sqs', 'payload', payload, 'm-1'), sqsEvent('swoop-ingress-sqs', 'payload', snsEnvelope(payload, 'sns-1'), 'm-2')]) {
      const first = submissions(simulator.deliver(event).firings);
      expect(first.map((r) => [r.template, r.claim])).toEqual([['cog-conversion', true]]);
      expect(first[0]!.name).toMatch(/^cog-conversion-[0-9a-f]{16}$/);
      expect(first[0]!.resource.spec.workflowTemplateRef).toEqual({ name: 'cog-conversion' });
      // A redelivery is the same run name, which the state service creates once (test/state/submit.test.ts).
      expect(submissions(simulator.deliver(event).firings).map((r) => r.name)).toEqual([first[0]!.name]);
    }
  });

  it('runs the state service image the stack setting names, by digest', () => {
    const images = docsOf(stack, 'state-service.yaml').filter((d) => d.spec?.template).map((d) => d.spec.template.spec.containers[0].image);
    expect(images).toEqual([env.stateServiceImage, env.stateServiceImage]);
    expect(env.stateServiceImage).toMatch(new RegExp(`/${env.clusterName}/swoop-state@sha256:[0-9a-f]{64}$`));
  });
});

describe('npm run simulate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swoop-env-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads dist/dev/ by default, SQS ingress included', () => {
    const file = join(dir, 'payload.json');
    writeFileSync(file, JSON.stringify({ type: 'FeatureCollection', features: [{ id: 'a', collection: 'c' }], process: [{ workflow: 'copy-and-publish' }] }));
    const out = execFileSync(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'tools', 'simulate.ts'), file, '--via', 'sns'], { cwd: ROOT, encoding: 'utf8' });
    expect(out).toMatch(/start-copy-and-publish-from-sqs: submit Workflow\/swoop\/copy-and-publish-[0-9a-f]{16} from WorkflowTemplate copy-and-publish to the state service/);
  });
});
