import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Command } from '@commander-js/extra-typings';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../cli/main';
import { swoop } from './support';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');

async function npx(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['--no-install', 'swoop', ...args], { cwd: ROOT, env: { ...process.env, npm_config_engine_strict: 'false' } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

function leaves(cmd: Command<any, any>): Command<any, any>[] {
  const subs = cmd.commands as Command<any, any>[];
  return subs.length ? [...(cmd.parent ? [cmd] : []), ...subs.flatMap(leaves)] : [cmd];
}

describe('the swoop bin', () => {
  it('`npx swoop --help` works from the clone with no build step (package.json bin -> cli/swoop.cjs -> tsx)', async () => {
    const r = await npx(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: swoop \[options\] \[command\]/);
    for (const command of ['deployments', 'process', 'run', 'payload', 'runs', 'logs', 'rerun']) expect(r.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it('a usage error exits 2 with the problem and a pointer to --help; a run-time error exits 1 with one line', async () => {
    const usage = await npx(['runs', 'list', '--no-such-option']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("error: unknown option '--no-such-option'\n(add --help for usage and an example)\n");
    const cwd = mkdtempSync(join(tmpdir(), 'swoop-bin-'));
    const failure = await run('node', [join(ROOT, 'cli', 'swoop.cjs'), 'runs', 'list'], { cwd, env: { ...process.env, HOME: cwd } }).catch((e) => e);
    expect(failure.code).toBe(1);
    expect(failure.stderr).toBe('swoop: deployment "env": state.url is not set; set swoop.config.yaml (README "Operate"), or SWOOP_STATE_URL\n');
  });

  it('every command has --help with an example', async () => {
    const { program } = buildProgram({ stdout: () => {}, stderr: () => {}, stdin: process.stdin, env: {}, cwd: ROOT, signal: new AbortController().signal });
    const commands = leaves(program as unknown as Command<any, any>).filter((c) => (c.commands as unknown[]).length === 0);
    expect(commands.map((c) => c.name()).sort()).toEqual(['deployments', 'get', 'get', 'list', 'logs', 'process', 'rerun', 'state']);
    for (const c of commands) {
      const path: string[] = [];
      for (let x: Command<any, any> | null = c; x?.parent; x = x.parent as Command<any, any> | null) path.unshift(x.name());
      const r = await swoop([...path, '--help'], { cwd: ROOT });
      expect(r.code, path.join(' ')).toBe(0);
      expect(r.stdout, path.join(' ')).toMatch(/\nExamples?:\n {2}\$ swoop /);
    }
    const run = await swoop(['run', '--help'], { cwd: ROOT });
    expect(run.stdout).toMatch(/\nExamples?:\n {2}\$ swoop .*run /);
  });
});
