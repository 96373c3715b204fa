import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheFiles, configKey, startTypecheck, typecheck } from '../../constructs/typecheck';
import { askChecker, checkerAllowed, processAlive, stopChecker } from '../../constructs/typecheck-server';
import { APP_HEAD, fixtureDir, ROOT, runTs, TSX } from './cli-fixture';

/**
 * `npm run synth` type-checks the app's entry and what it imports before building anything
 * (synthCommand's `entry`), on a fixture app of its own. One app, edited step by step, so the
 * incremental build info and the up-to-date stamp are exercised too.
 */
const app = fixtureDir();
afterAll(() => app.remove());
const rel = (name: string) => relative(ROOT, join(app.dir, name));

/** workflows.ts: the fixture's workflow; `merge` reads `read` from split's outputs. */
const workflows = (read: string, extra = '') => `${APP_HEAD}
export function build(outdir: string) {
  const app = new App({ outdir });
  const t = tasks(app);
  const wf = new Workflow(app, 'wf');
  const split = wf.addStep('split', t.split);
  wf.addStep('merge', t.merge, { input: split.output, parameters: { parts: split.outputs.parameters.${read} } });
  ${extra}
  return { app };
}
`;
const MAIN = `import { synthCommand } from '../../constructs';
import { build } from './workflows';

void synthCommand({ dist: __dirname + '/dist', entry: __filename, build });
`;
const synth = (...args: string[]) => runTs(join(app.dir, 'main.ts'), args);
const dist = () => (existsSync(join(app.dir, 'dist')) ? readdirSync(join(app.dir, 'dist')) : []);

describe('npm run synth type-checks the app first', () => {
  app.write('main.ts', MAIN);
  // A file with a type error that the app does not import: not the app's concern.
  app.write('unrelated.ts', `export const n: number = 'not a number';\n`);

  it('a good app passes and writes its files', () => {
    app.write('workflows.ts', workflows('assets'));
    const run = synth();
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(dist()).toEqual(['lib.yaml', 'wf.yaml']);
  }, 180_000);

  it('an undeclared output read fails with file:line, before anything is written', () => {
    app.write('workflows.ts', workflows('asset'));
    const line = workflows('asset').split('\n').findIndex((l) => l.includes('parameters.asset }')) + 1;
    for (const args of [[], ['--check']]) {
      const run = synth(...args, '--dist', join(app.dir, 'other-dist'));
      expect(run.lines).toEqual([
        expect.stringMatching(new RegExp(`^${rel('workflows.ts')}:${line}:\\d+: error TS2551: Property 'asset' does not exist on type .*Did you mean 'assets'\\?$`)),
        `synth: 1 type error(s) in ${rel('main.ts')} or what it imports; fix them and run synth again (nothing was written)`,
      ]);
      expect(run.status).toBe(1);
      expect(existsSync(join(app.dir, 'other-dist'))).toBe(false);
    }
  }, 180_000);

  it('a type error only the type checker sees (no runtime check could) fails too, one line per diagnostic', () => {
    app.write('workflows.ts', workflows('assets', `const retries: number = '3';\n  const n: string = 5;\n  void retries; void n;`));
    const run = synth();
    expect(run.lines.filter((l) => / error TS2322: /.test(l))).toEqual([
      expect.stringMatching(new RegExp(`^${rel('workflows.ts')}:\\d+:\\d+: error TS2322: Type 'string' is not assignable to type 'number'.$`)),
      expect.stringMatching(new RegExp(`^${rel('workflows.ts')}:\\d+:\\d+: error TS2322: Type 'number' is not assignable to type 'string'.$`)),
    ]);
    expect(run.lines).toHaveLength(3);
    expect(run.status).toBe(1);
  }, 180_000);

  it('after a clean check nothing changed is up to date without the compiler; any edit of an imported file is seen', () => {
    app.write('workflows.ts', workflows('assets', '// edited since the last check'));
    const entry = join(app.dir, 'main.ts');
    expect(typecheck(entry, ROOT)).toEqual({ problems: [], upToDate: false });
    expect(typecheck(entry, ROOT)).toEqual({ problems: [], upToDate: true });
    app.write('workflows.ts', workflows('assets', 'const late: number = "x"; void late;'));
    const edited = typecheck(entry, ROOT);
    expect(edited.upToDate).toBe(false);
    expect(edited.problems.map((p) => `${p.file}: TS${p.code}`)).toEqual([`${rel('workflows.ts')}: TS2322`]);
  }, 180_000);
});

/**
 * The warm checker (constructs/typecheck-server.ts): a process that outlives synth, asked over
 * a unix socket. Under tests it starts only when SWOOP_SYNTH_CHECKER=server asks; each test
 * here stops what it started and shows the process is gone.
 */
describe('the warm checker', () => {
  const warm = fixtureDir();
  const entry = join(warm.dir, 'main.ts');
  const started = new Set<number>();
  const env = { ...process.env, SWOOP_SYNTH_CHECKER: 'server' };
  const synthWarm = (...args: string[]) => {
    const run = spawnSync(process.execPath, [TSX, entry, ...args], { cwd: ROOT, encoding: 'utf8', env });
    return { status: run.status, lines: run.stderr.split('\n').filter(Boolean) };
  };
  /** Asks as synth does (the stamp first), with the checker allowed. */
  const ask = async () => {
    const saved = process.env.SWOOP_SYNTH_CHECKER;
    process.env.SWOOP_SYNTH_CHECKER = 'server';
    try {
      const pending = await startTypecheck(entry, ROOT);
      return { where: pending.where, result: await pending.result };
    } finally {
      if (saved === undefined) delete process.env.SWOOP_SYNTH_CHECKER;
      else process.env.SWOOP_SYNTH_CHECKER = saved;
    }
  };
  const errorsIn = (r: { result: { problems: { file?: string; code: number }[] } }) => r.result.problems.map((p) => `${p.file}: TS${p.code}`);
  const warmRel = (name: string) => relative(ROOT, join(warm.dir, name));
  afterAll(async () => {
    const pid = await stopChecker(entry);
    if (pid) started.add(pid);
    for (const p of started) expect(processAlive(p), `checker ${p} left running`).toBe(false);
    warm.remove();
  });
  warm.write('main.ts', MAIN);

  it('is allowed only outside CI and tests, unless asked for', () => {
    expect(checkerAllowed({})).toBe(true);
    expect(checkerAllowed({ CI: 'true' })).toBe(false);
    expect(checkerAllowed({ VITEST: 'true' })).toBe(false);
    expect(checkerAllowed({ CI: 'true', SWOOP_SYNTH_CHECKER: 'server' })).toBe(true);
    expect(checkerAllowed({ SWOOP_SYNTH_CHECKER: 'off' })).toBe(false);
  });

  it('synth starts it, it answers the next synth after an edit, and it is never stale', async () => {
    warm.write('workflows.ts', workflows('assets'));
    const first = synthWarm();
    expect(first.lines).toEqual([]);
    expect(first.status).toBe(0);
    // An edit with a type error: refused with file:line, nothing written, by the warm checker.
    warm.write('workflows.ts', workflows('asset'));
    const refused = synthWarm('--dist', join(warm.dir, 'other-dist'));
    expect(refused.lines[0]).toMatch(new RegExp(`^${warmRel('workflows.ts')}:\\d+:\\d+: error TS2551: `));
    expect(refused.status).toBe(1);
    expect(existsSync(join(warm.dir, 'other-dist'))).toBe(false);
    // Edits asked about at once, no waiting: each answer is about the text on disk then.
    for (const [text, expected] of [
      [workflows('assets', 'const a: number = "x"; void a;'), [`${warmRel('workflows.ts')}: TS2322`]],
      [workflows('assets', '// fixed'), []],
      [workflows('asset', '// broken again'), [`${warmRel('workflows.ts')}: TS2551`]],
      [workflows('assets'), []],
    ] as const) {
      warm.write('workflows.ts', text);
      const answer = await ask();
      expect(answer.where).toBe('checker');
      expect(errorsIn(answer)).toEqual(expected);
    }
    // Nothing changed since that clean check: once the checker has written the stamp (it
    // answers first, then writes), the stamp answers and the checker is not asked.
    let again = await ask();
    for (let i = 0; i < 20 && again.where !== 'stamp'; i++) {
      expect(again.result.problems).toEqual([]);
      await new Promise((r) => setTimeout(r, 100));
      again = await ask();
    }
    expect(again.where).toBe('stamp');
    const pid = await stopChecker(entry);
    expect(pid).toBeGreaterThan(0);
    started.add(pid!);
    expect(processAlive(pid!)).toBe(false);
    expect(existsSync(cacheFiles(entry).socket)).toBe(false);
  }, 300_000);

  it('one asked with another key (new compiler, config or checker code) exits and a new one answers', async () => {
    warm.write('workflows.ts', workflows('assets', '// first'));
    const first = await (await askChecker(entry, configKey(entry), ROOT)).answer;
    expect(first?.result.problems).toEqual([]);
    started.add(first!.pid);
    const second = await (await askChecker(entry, 'another key', ROOT)).answer;
    expect(second?.result.problems).toEqual([]);
    started.add(second!.pid);
    // The answer came from a new process, and the first one is gone.
    expect(second!.pid).not.toBe(first!.pid);
    expect(processAlive(first!.pid)).toBe(false);
    expect(await stopChecker(entry)).toBe(second!.pid);
    expect(processAlive(second!.pid)).toBe(false);
  }, 300_000);

  it('exits by itself when idle and removes its socket', async () => {
    process.env.SWOOP_SYNTH_CHECKER_IDLE = '2';
    try {
      warm.write('workflows.ts', workflows('assets', '// idle'));
      expect((await ask()).where).toBe('checker');
    } finally {
      delete process.env.SWOOP_SYNTH_CHECKER_IDLE;
    }
    const socket = cacheFiles(entry).socket;
    for (let i = 0; i < 200 && existsSync(socket); i++) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(socket)).toBe(false);
    expect(await stopChecker(entry)).toBeUndefined();
  }, 300_000);
});

describe('without the warm checker (CI, tests)', () => {
  it('the check runs in a worker thread beside the build', async () => {
    const app2 = fixtureDir();
    try {
      app2.write('main.ts', MAIN);
      app2.write('workflows.ts', workflows('asset'));
      const pending = await startTypecheck(join(app2.dir, 'main.ts'), ROOT);
      expect(pending.where).toBe('worker');
      expect((await pending.result).problems.map((p) => p.code)).toEqual([2551]);
    } finally {
      app2.remove();
    }
  }, 180_000);
});
