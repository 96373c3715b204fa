import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { synthesize } from '../../constructs';
import { loadEnvironment } from '../../stacks/environment';
import { buildApp } from '../../workflows/app';
import { compareEnvironments, synthesizeEnvironments } from '../../workflows/environments';
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

  it('matches the committed dist/<stack>/ of every stack', () => {
    const manifests = synthesizeEnvironments();
    expect(manifests.map((m) => m.environment.stack)).toEqual(['dev', 'prod']);
    expect(compareEnvironments(manifests, DIST)).toEqual([]);
  });

  it('writes one file per workflow, plus the task library, the events layer, the state service and its monitoring', () => {
    const { app, workflows } = buildApp();
    const expected = [...workflows.map((w) => `${w.node.id}.yaml`), 'events.yaml', 'state-monitoring.yaml', 'state-service.yaml', 'task-library.yaml'].sort();
    expect([...synthesize(app).keys()]).toEqual(expected);
  });

  it('synthesizes the state service (its only definition) with the stack\'s image, by digest', () => {
    const docs = parseAllDocuments(synthesize(buildApp().app).get('state-service.yaml')!).map((d) => d.toJS());
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      'ServiceAccount/swoop-state', 'Role/swoop-state-create-workflows', 'RoleBinding/swoop-state-create-workflows',
      'Deployment/swoop-state', 'Service/swoop-state', 'PodDisruptionBudget/swoop-state', expect.stringMatching(/^Job\/swoop-state-migrate-[0-9a-f]{10}$/),
    ]);
    // Least privilege: it may create Workflows in its namespace, nothing else.
    expect(docs.find((d) => d.kind === 'Role').rules).toEqual([{ apiGroups: ['argoproj.io'], resources: ['workflows'], verbs: ['create'] }]);
    const images = docs.filter((d) => d.spec?.template).map((d) => d.spec.template.spec.containers[0].image);
    const image = loadEnvironment('dev').stateServiceImage;
    expect(images).toEqual([image, image]);
    expect(image).toMatch(/^[^\s@]+\/swoop-state@sha256:[0-9a-f]{64}$/);
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
    // Each workflow, each task of the library, and the events layer's bus, sources and sensors.
    expect(argoDocs).toBeGreaterThan(buildApp().workflows.length);
  });

  it('rejects a misplaced field (the check can fail)', () => {
    const { app, workflows } = buildApp();
    const doc = parseAllDocuments(synthesize(app).get(`${workflows[0]!.node.id}.yaml`)!)[0].toJS();
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

      appendFileSync(join(dir, 'dev', 'task-library.yaml'), '# hand edit\n');
      rmSync(join(dir, 'prod', 'events.yaml'));
      writeFileSync(join(dir, 'dev', 'old-workflow.yaml'), 'kind: WorkflowTemplate\n');
      writeFileSync(join(dir, 'events.yaml'), 'kind: EventSource\n');
      const stale = run(dir);
      expect(stale.status).toBe(1);
      expect(stale.stderr).toContain('stale:   dist/dev/task-library.yaml');
      expect(stale.stderr).toContain('missing: dist/prod/events.yaml');
      expect(stale.stderr).toContain('extra:   dist/dev/old-workflow.yaml');
      expect(stale.stderr).toContain('extra:   dist/events.yaml');
      expect(readdirSync(join(dir, 'dev'))).toContain('old-workflow.yaml');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000); // two synth runs, each type-checking the app first: slow on a loaded 2-core machine
});
