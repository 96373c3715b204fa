import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/io';
import { readmeSection } from '../support/readme';
import { closedPort, swoop } from './support';

const section = readmeSection('Operate: the `swoop` command');
const block = (lang: string) => {
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section);
  if (!m) throw new Error(`README "Operate" has no ${lang} block`);
  return m[1]!;
};

describe('README "Operate" holds to the CLI', () => {
  it('its config file is one the CLI reads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swoop-readme-'));
    writeFileSync(join(dir, 'swoop.config.yaml'), block('yaml'));
    const r = await swoop(['deployments', '--json'], { cwd: dir, env: { SWOOP_DEV_READ_TOKEN: 'r' } });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).deployments[0]).toMatchObject({
      name: 'dev', default: true,
      state: { url: 'http://127.0.0.1:8080', readToken: 'env SWOOP_DEV_READ_TOKEN' },
      ingress: { via: 'sqs', webhook: { token: 'missing (env SWOOP_DEV_INGRESS_TOKEN is not set)' } },
      argo: { token: 'missing (env SWOOP_DEV_ARGO_TOKEN is not set)' },
      manifests: join(dir, 'dist', 'dev'),
    });
  });

  it('every command it shows exists with those options (no usage error)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swoop-readme-'));
    writeFileSync(join(dir, 'swoop.config.yaml'), block('yaml'));
    const port = await closedPort();
    const lines = block('sh').split('\n').map((l) => l.replace(/#.*$/, '').trim()).filter((l) => l.startsWith('swoop '));
    expect(lines.length).toBeGreaterThanOrEqual(8);
    for (const line of lines) {
      const argv = line.split(/\s+/).slice(1);
      // Nothing is reachable here: each command gets past parsing and fails on the deployment (or its file).
      const r = await swoop(argv, { cwd: dir, env: { SWOOP_STATE_URL: `http://127.0.0.1:${port}`, SWOOP_ARGO_URL: `http://127.0.0.1:${port}`, SWOOP_DEV_READ_TOKEN: 'r', SWOOP_DEV_ARGO_TOKEN: 'a' } });
      expect(r.code, `${line}: ${r.stderr}`).not.toBe(EXIT.usage);
      expect(r.stderr, line).not.toMatch(/unknown option|too many arguments|missing required argument/);
    }
  });
});
