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
    expect(out).toMatch(/swoop-ingress -> start-cog-from-sqs: create Workflow\/swoop\/cog-[0-9a-f]{16} from WorkflowTemplate cog: created/);
    expect(out).toMatch(/swoop-ingress -> start-thumbs-from-sqs: create Workflow\/swoop\/thumbs-[0-9a-f]{16} from WorkflowTemplate thumbs: created/);
    expect(out.split('(delivered again)')[1]).toMatch(/cog-[0-9a-f]{16} from WorkflowTemplate cog: AlreadyExists \(nothing new starts\)/);
  });

  it('fails with a clear message and exit code 2 when there are no manifests', () => {
    const run = spawnSync(TSX, [join(ROOT, 'tools', 'simulate.ts'), payloadFile, '--manifests', join(dir, 'nowhere')], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/no manifests at .*nowhere; run `npm run synth` first/);
  });
});
