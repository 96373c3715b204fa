import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { HAVE_REFERENCE, REFERENCE_DIR } from '../support/reference';
import { platform } from './fixtures';

const ROOT = resolve(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const dir = mkdtempSync(join(tmpdir(), 'swoop-lint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, docs: unknown[]): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, docs.map((d) => stringify(d)).join('---\n'));
  return path;
}

function lintCli(args: string[], referenceDir = '/nonexistent-reference') {
  const env = { ...process.env, SWOOP_REFERENCE_DIR: referenceDir, CI: '' };
  const run = spawnSync(TSX, ['tools/lint.ts', ...args], { cwd: ROOT, env, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout.trim().split('\n').filter(Boolean), stderr: run.stderr };
}

describe('npm run lint', () => {
  it('exits 0 on a correct directory, without the reference schemas', () => {
    const good = join(dir, 'good');
    const docs = platform();
    write('good/tasks.yaml', docs.slice(0, 3));
    write('good/events/ingress.yml', docs.slice(3));
    const run = lintCli([good]);
    expect(run.stdout).toEqual([]);
    expect(run.stderr).toContain('0 problem(s) in 6 document(s) from 2 file(s); strict schema validation skipped');
    expect(run.status).toBe(0);
  });

  it('prints file: kind/name: path: problem and exits 1', () => {
    const docs = platform();
    docs[1].spec.templates[0].dag.tasks[1].depends = 'cpy';
    const file = write('broken/workflow.yaml', docs);
    const bad = write('broken/bad.yaml', []);
    writeFileSync(bad, 'kind: [unclosed\n');
    const run = lintCli([file, bad]);
    expect(run.stdout).toEqual([
      `${file}: WorkflowTemplate/sentinel2-cogs: spec.templates[main].dag.tasks[mask].arguments.parameters[input].value: {{tasks.copy.outputs.parameters.output}}: task "mask" uses outputs of "copy" without depending on it (add "copy" to depends) [task-outputs]`,
      `${file}: WorkflowTemplate/sentinel2-cogs: spec.templates[main].dag.tasks[mask]: depends on task "cpy", which template "main" does not have [depends]`,
      expect.stringMatching(new RegExp(`^${bad}: document 1: : Flow sequence .* \\[parse\\]$`)),
    ]);
    expect(run.status).toBe(1);
  });

  it('exits 2 on a missing path, an empty directory or an unknown rule', () => {
    mkdirSync(join(dir, 'empty'));
    expect(lintCli([join(dir, 'nope')])).toMatchObject({ status: 2 });
    expect(lintCli([join(dir, 'empty')]).stderr).toContain('no YAML documents found');
    expect(lintCli(['--disable', 'cycles', join(dir, 'good')]).stderr).toContain('unknown rule "cycles"');
  });

  it.skipIf(!HAVE_REFERENCE)('runs strict upstream-schema validation when the reference is available', () => {
    const docs = platform();
    docs[0].spec.templates[0].container.imagePullPolicy = 'Always';
    docs[0].spec.templates[0].container.imagePulPolicy = 'Always';
    const file = write('schema/tasks.yaml', docs);
    const run = lintCli([file], REFERENCE_DIR);
    expect(run.stdout).toEqual([
      `${file}: WorkflowTemplate/swoop-tasks: spec.templates[copy-assets].container: must NOT have additional properties 'imagePulPolicy' [schema]`,
    ]);
    expect(run.stderr).toContain('strict schema validation on');
    expect(run.status).toBe(1);
  });
});
