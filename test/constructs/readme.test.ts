import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { readmeSection } from '../support/readme';

const ROOT = resolve(__dirname, '..', '..');

describe('README: Writing tasks and workflows', () => {
  it('its code blocks, in order, type-check, run and synthesize an app', () => {
    const doc = readmeSection('Writing tasks and workflows');
    const code = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
    expect(code).toContain('synthesize(app)');
    // Written beside the constructs so '../constructs' resolves as in workflows/.
    const dir = mkdtempSync(join(ROOT, 'workflows', '.readme-'));
    const file = join(dir, 'example.ts');
    try {
      writeFileSync(file, `${code.replace(/'\.\.\/constructs'/g, "'../../constructs'")}\nconsole.log(JSON.stringify([...files.keys()]));\n`);
      const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
      const program = ts.createProgram([file], config.options);
      const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      expect(diagnostics).toEqual([]);
      const run = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), file], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toEqual(['cloud-masking.yaml', 'cog-conversion.yaml', 'copy-and-publish.yaml', 'task-library.yaml']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
