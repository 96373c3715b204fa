import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { HAVE_REFERENCE, REFERENCE_MISSING_MESSAGE } from '../support/reference';
import { schemaSecretFields, typedKind, typedSecretReferences } from './support/schema-secrets';
import { httpTemplateSecrets, SECRET_KEY_SELECTOR_FIELDS, SECRET_OBJECT_FIELDS, secretReferences } from '../../infra/manifest-secrets';

const DIST = join(__dirname, '..', '..', 'dist');

/** `<file>: <ns>/<name>[/<key>]` per reference, by the schema-typed walk, for every object of `dir`. */
function typedReferences(dir: string): string[] {
  const out: string[] = [];
  for (const file of (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const obj = doc.toJSON();
      if (!obj) continue;
      if (typedKind(obj.kind)) out.push(...typedSecretReferences(obj, obj.metadata?.namespace ?? 'swoop').map((r) => `${file}: ${r}`));
      // Kinds the schemas cannot type (Service, Role, ServiceMonitor...) must hold no Secret-like field at all.
      else expect(JSON.stringify(obj), `${file}: ${obj.kind}/${obj.metadata?.name}`).not.toMatch(/"[A-Za-z]*[Ss]ecret[A-Za-z]*":/);
    }
  }
  return out.sort();
}
const programReferences = (dir: string): string[] =>
  secretReferences(dir).map((r) => `${r.file}: ${[r.namespace, r.name, ...(r.key === undefined ? [] : [r.key])].join('/')}`).sort();

describe.skipIf(!HAVE_REFERENCE)('Secret references of the synthesized manifests, held against the upstream schemas', () => {
  it('the program knows every field the Argo Workflows, Argo Events and Kubernetes schemas type as a Secret', () => {
    const schema = schemaSecretFields();
    expect([...SECRET_KEY_SELECTOR_FIELDS].sort()).toEqual([...schema.selector].sort());
    expect([...SECRET_OBJECT_FIELDS].sort()).toEqual([...schema.object].sort());
    expect([...schema.volume]).toEqual(['secret']);
  });

  it.each(['dev', 'prod'])('finds in dist/%s exactly the references the schema-typed walk finds, HTTP template headers included', (stack) => {
    const typed = typedReferences(join(DIST, stack));
    expect(programReferences(join(DIST, stack))).toEqual(typed);
    // The callback step's auth header (workflows/review-cloudy-scenes) is among them.
    expect(typed).toContain('review-cloudy-scenes.yaml: swoop/swoop-review/authorization');
  });

  describe('over every position kind (a manifest holding each)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'swoop-secret-refs-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const pod = {
      imagePullSecrets: [{ name: 'pull' }],
      containers: [{ name: 'c', image: 'i', env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'env', key: 'a' } } }], envFrom: [{ secretRef: { name: 'env-from' } }] }],
      volumes: [
        { name: 'v', secret: { secretName: 'vol', items: [{ key: 'k', path: 'p' }] } },
        { name: 'p', projected: { sources: [{ secret: { name: 'proj' } }] } },
        { name: 'csi', csi: { driver: 'd', nodePublishSecretRef: { name: 'csi' } } },
      ],
    };
    writeFileSync(join(dir, 'all.yaml'), [
      { apiVersion: 'argoproj.io/v1alpha1', kind: 'WorkflowTemplate', metadata: { name: 'w', namespace: 'swoop' }, spec: { templates: [
        { name: 'h', http: { url: 'https://x', headers: [{ name: 'Authorization', valueFrom: { secretKeyRef: { name: 'header', key: 'h' } } }] } },
        { name: 'c', container: pod.containers[0], volumes: pod.volumes },
        { name: 's3', container: { image: 'i' }, outputs: { artifacts: [{ name: 'a', path: '/a', s3: { key: 'k', accessKeySecret: { name: 's3', key: 'ak' }, secretKeySecret: { name: 's3', key: 'sk' } } }] } },
      ] } },
      { apiVersion: 'argoproj.io/v1alpha1', kind: 'EventSource', metadata: { name: 'e', namespace: 'swoop' }, spec: { webhook: { x: { port: '12000', endpoint: '/x', method: 'POST', authSecret: { name: 'webhook', key: 't' } } } } },
      { apiVersion: 'argoproj.io/v1alpha1', kind: 'Sensor', metadata: { name: 's', namespace: 'swoop' }, spec: { triggers: [{ template: { name: 't', http: { url: 'https://x', basicAuth: { username: { name: 'basic', key: 'u' }, password: { name: 'basic', key: 'p' } }, secureHeaders: [{ name: 'H', valueFrom: { secretKeyRef: { name: 'sensor-header', key: 'h' } } }] } } }] } },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'other' }, spec: { template: { spec: pod } } },
    ].map((d) => stringify(d)).join('---\n'));

    it('the program and the schema-typed walk agree, and the walk sees each kind', () => {
      const typed = typedReferences(dir);
      expect(programReferences(dir)).toEqual(typed);
      for (const ref of ['swoop/header/h', 'swoop/env/a', 'swoop/env-from', 'other/pull', 'swoop/vol/k', 'swoop/proj', 'swoop/csi', 'swoop/s3/ak', 'swoop/webhook/t', 'swoop/basic/u', 'swoop/sensor-header/h', 'other/env-from']) {
        expect(typed, ref).toContain(`all.yaml: ${ref}`);
      }
    });

    it('a field the program does not know is a difference the comparison reports', () => {
      const known = SECRET_KEY_SELECTOR_FIELDS as Set<string>;
      known.delete('username');
      try {
        expect(programReferences(dir)).not.toEqual(typedReferences(dir));
        expect(typedReferences(dir).filter((r) => !programReferences(dir).includes(r))).toEqual(['all.yaml: swoop/basic/u']);
      } finally {
        known.add('username');
      }
    });

    it('lists the Secrets HTTP templates send as headers (the agent reads those), not sensors\' or pods\'', () => {
      expect(httpTemplateSecrets(dir)).toEqual(['header']);
      expect(httpTemplateSecrets(join(dir, 'missing'))).toEqual([]);
    });
  });
});

// Defined only without the reference, so a run that has it counts no skipped test.
if (!HAVE_REFERENCE) {
  describe('Secret references (no reference material)', () => {
    it('needs the upstream schemas', () => expect.fail(REFERENCE_MISSING_MESSAGE));
  });
}
