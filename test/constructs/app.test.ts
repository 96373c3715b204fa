import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { compareFiles, podsPerRun, synthesize } from '../../constructs';
import { buildApp, STATE_SERVICE_IMAGE } from '../../workflows/app';
import { HAVE_REFERENCE } from '../support/reference';
import { validateArgoDocument } from '../support/schema';

const ROOT = resolve(__dirname, '..', '..');
const DIST = join(ROOT, 'dist');

describe('the workflows/ app', () => {
  it('synthesizes byte-identical output on every run', () => {
    const first = synthesize(buildApp().app);
    const second = synthesize(buildApp().app);
    expect([...second.keys()]).toEqual([...first.keys()]);
    for (const [name, content] of first) expect(second.get(name), name).toBe(content);
  });

  it('matches the committed dist/', () => {
    expect(compareFiles(synthesize(buildApp().app), DIST)).toEqual({ stale: [], missing: [], extra: [] });
  });

  it('writes one file per chart, the state service included', () => {
    expect([...synthesize(buildApp().app).keys()]).toEqual([
      'cog-conversion.yaml', 'copy-and-publish.yaml', 'events.yaml', 'sentinel2-cloud-mask.yaml', 'state-service.yaml', 'task-library.yaml',
    ]);
  });

  it('synthesizes the state service (its only definition) with the pinned image', () => {
    const docs = parseAllDocuments(synthesize(buildApp().app).get('state-service.yaml')!).map((d) => d.toJS());
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      'Deployment/swoop-state', 'Service/swoop-state', 'PodDisruptionBudget/swoop-state', expect.stringMatching(/^Job\/swoop-state-migrate-[0-9a-f]{10}$/),
    ]);
    const images = docs.filter((d) => d.spec.template).map((d) => d.spec.template.spec.containers[0].image);
    expect(images).toEqual([STATE_SERVICE_IMAGE, STATE_SERVICE_IMAGE]);
    expect(STATE_SERVICE_IMAGE).toMatch(/^[^\s:]+:\d+\.\d+\.\d+$/);
  });

  it('ships a GPU workflow, a fan-out/fan-in workflow and a mostly lightweight one', () => {
    const { workflows } = buildApp();
    const byName = new Map(workflows.map((w) => [w.templateName, w]));
    expect(byName.get('sentinel2-cloud-mask')?.nodes.some((n) => 'task' in n && (n.task as { settings?: { gpus?: number } }).settings?.gpus)).toBe(true);
    expect(byName.get('cog-conversion')?.nodes.some((n) => n.fanOut)).toBe(true);
    expect(podsPerRun(byName.get('copy-and-publish')!)).toMatchObject({ pods: 2, naivePods: 7, httpSteps: 4 });
  });

  it('records the chain links for the events layer', () => {
    const { workflows } = buildApp();
    const [cloudMask, cog, publish] = workflows;
    expect(cloudMask.chainLinks).toEqual([{ to: cog, filter: '@.properties.eo:cloud_cover < 50' }]);
    expect(cog.chainLinks).toEqual([{ to: publish }]);
  });
});

describe.skipIf(!HAVE_REFERENCE)('upstream schema', () => {
  it('accepts every synthesized document, unknown fields rejected', () => {
    const files = synthesize(buildApp().app);
    let argoDocs = 0;
    for (const [name, content] of files) {
      for (const doc of parseAllDocuments(content).map((d) => d.toJS())) {
        expect(validateArgoDocument(doc), `${name} ${doc.kind}/${doc.metadata.name}`).toEqual([]);
        if (String(doc.apiVersion).startsWith('argoproj.io/')) argoDocs++;
      }
    }
    expect(argoDocs).toBeGreaterThanOrEqual(14);
  });

  it('rejects a misplaced field (the check can fail)', () => {
    const files = synthesize(buildApp().app);
    const doc = parseAllDocuments(files.get('cog-conversion.yaml')!)[0].toJS();
    doc.spec.templates[0].dag.tasks[1].retries = 3;
    expect(validateArgoDocument(doc).join('\n')).toContain("must NOT have additional properties 'retries'");
  });
});

describe('npm run synth -- --check', () => {
  const run = (dist: string) =>
    spawnSync(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'workflows', 'main.ts'), '--check', '--dist', dist], {
      encoding: 'utf8',
    });

  it('passes on a fresh copy and lists stale, missing and extra files otherwise', () => {
    const dir = mkdtempSync(join(tmpdir(), 'swoop-dist-'));
    try {
      cpSync(DIST, dir, { recursive: true });
      const fresh = run(dir);
      expect(fresh.status, fresh.stderr).toBe(0);
      expect(fresh.stdout).toContain('dist/ is up to date');

      appendFileSync(join(dir, 'cog-conversion.yaml'), '# hand edit\n');
      rmSync(join(dir, 'copy-and-publish.yaml'));
      writeFileSync(join(dir, 'old-workflow.yaml'), 'kind: WorkflowTemplate\n');
      const stale = run(dir);
      expect(stale.status).toBe(1);
      expect(stale.stderr).toContain('stale:   dist/cog-conversion.yaml');
      expect(stale.stderr).toContain('missing: dist/copy-and-publish.yaml');
      expect(stale.stderr).toContain('extra:   dist/old-workflow.yaml');
      expect(readdirSync(dir)).toContain('old-workflow.yaml');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
