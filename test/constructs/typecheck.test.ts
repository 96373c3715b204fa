import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { typecheck } from '../../constructs/typecheck';
import { APP_HEAD, fixtureDir, ROOT, runTs } from './cli-fixture';

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
