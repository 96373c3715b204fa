import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFiles } from '../../constructs';
import { eventsFixture } from './fixture';

const ROOT = resolve(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

describe('npm run simulate (the CLI, on synthesized manifests in a directory)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swoop-simulate-'));
  writeFiles(eventsFixture().files, join(dir, 'dist'));
  const payloadFile = join(dir, 'payload.json');
  writeFileSync(payloadFile, JSON.stringify({ type: 'FeatureCollection', features: [{ id: 'a', collection: 'c' }], process: [[{ workflow: 'cog' }, { workflow: 'thumbs' }]] }));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the triggers that fire and the runs they create, and what a second delivery does', () => {
    const out = execFileSync(TSX, [join(ROOT, 'tools', 'simulate.ts'), payloadFile, '--manifests', join(dir, 'dist'), '--via', 'sqs', '--twice'], { encoding: 'utf8' });
    expect(out).toMatch(/swoop-ingress -> start-cog-from-sqs: submit Workflow\/swoop\/cog-[0-9a-f]{16} from WorkflowTemplate cog to the state service \(POST http:\/\/[^ ]+\/submit\)\n {4}the service claims the payload first/);
    expect(out).toMatch(/swoop-ingress -> start-thumbs-from-sqs: submit Workflow\/swoop\/thumbs-[0-9a-f]{16} from WorkflowTemplate thumbs to the state service/);
    const [first, again] = out.split('(delivered again)');
    expect(first).not.toMatch(/submitted before/);
    expect(again).toMatch(/cog-[0-9a-f]{16} from WorkflowTemplate cog to the state service .*\n.*\n {4}this run name was submitted before: the service answers 200 and nothing new starts/);
  });

  it('fails with a clear message and exit code 2 when there are no manifests', () => {
    const run = spawnSync(TSX, [join(ROOT, 'tools', 'simulate.ts'), payloadFile, '--manifests', join(dir, 'nowhere')], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/no manifests at .*nowhere; run `npm run synth` first/);
  });
});
