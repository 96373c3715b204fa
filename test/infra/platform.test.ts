import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ResourceRecorder, policy, valueOf } from './support/pulumi-mocks';
import { testCluster } from './support/fixtures';
import type { ManifestDelivery } from '../../infra/platform';

const database = { host: 'db.internal', port: 5432, databaseName: 'swoop', secretArn: 'arn:aws:secretsmanager:us-west-2:123456789012:secret:rds!db' };
const FIXTURE_DIST = join(__dirname, 'fixtures', 'dist');

async function makePlatform(id: string, delivery: ManifestDelivery, extra: Record<string, unknown> = {}) {
  const { Platform } = await import('../../infra/platform');
  const { SecretsSync } = await import('../../infra/secrets-sync');
  const cluster = await testCluster(`c-${id}`);
  const secrets = new SecretsSync(`secrets-${id}`, { cluster, secretArns: [database.secretArn], keyArns: ['arn:aws:kms:us-west-2:123456789012:key/db'], namespaces: ['swoop', 'argo'] });
  return new Platform(id, { cluster, namespace: 'swoop', bucketName: 'art-bucket', database, secrets, stateImage: 'ghcr.io/x/state:1.2.3', delivery, ...extra });
}

describe('Platform (manifests applied by Pulumi)', () => {
  const rec = new ResourceRecorder();
  beforeAll(async () => {
    await rec.install('unit');
    await makePlatform('platform', { mode: 'pulumi', manifestsDir: FIXTURE_DIST });
    await rec.settle();
  });

  it('writes the swoop-platform ConfigMap with the keys and URLs of docs/contracts.md', () => {
    const cm = rec.kube('ConfigMap', 'swoop-platform')[0].inputs;
    // Argo ignores configMapKeyRef parameters from a ConfigMap without this label.
    expect(cm.metadata.labels).toEqual({ 'workflows.argoproj.io/configmap-type': 'Parameter' });
    expect(cm.metadata.namespace).toBe('swoop');
    expect(cm.data).toEqual({
      'payload-store': 's3://art-bucket/payloads',
      'state-url': 'http://swoop-state.swoop.svc.cluster.local:8080',
      'lifecycle-url': 'http://swoop-lifecycle-eventsource-svc.swoop.svc.cluster.local:12000/lifecycle',
    });
  });

  it('creates the token Secrets the state service and the events layer read, with generated values', () => {
    const tokens = rec.kube('Secret', 'swoop-state-tokens')[0].inputs;
    expect(tokens.stringData).toEqual({
      writer: 'generated-platform-writer-token',
      reader: 'generated-platform-reader-token',
      'writer-authorization': 'Bearer generated-platform-writer-token',
    });
    expect(rec.kube('Secret', 'swoop-lifecycle-token')[0].inputs.stringData).toEqual({ token: 'generated-platform-lifecycle-token' });
    expect(rec.kube('Secret', 'swoop-ingress-token')[0].inputs.stringData).toEqual({ token: 'generated-platform-ingress-token' });
    const passwords = rec.ofType('random:index/randomPassword:RandomPassword');
    expect(passwords).toHaveLength(4);
    for (const p of passwords) expect(p.inputs).toMatchObject({ length: 48, special: false });
  });

  it('lets the workflow agent read the state token Secret and nothing else', () => {
    const role = rec.ofType('kubernetes:rbac.authorization.k8s.io/v1:Role').find((r) => r.inputs.metadata.name === 'swoop-workflow-agent-secrets')!;
    expect(role.inputs.rules).toEqual([{ apiGroups: [''], resources: ['secrets'], resourceNames: ['swoop-state-tokens'], verbs: ['get'] }]);
    const binding = rec.ofType('kubernetes:rbac.authorization.k8s.io/v1:RoleBinding').find((r) => r.inputs.metadata.name === 'swoop-workflow-agent-secrets')!;
    expect(binding.inputs.subjects).toEqual([{ kind: 'ServiceAccount', name: 'swoop-workflow', namespace: 'swoop' }]);
    expect(binding.inputs.roleRef.name).toBe('swoop-workflow-agent-secrets');
  });

  it('renders swoop-state-db/url from the RDS master secret through External Secrets, with TLS required', () => {
    const es = rec.kube('ExternalSecret', 'swoop-state-db')[0].inputs;
    expect(es.metadata.namespace).toBe('swoop');
    expect(es.spec.secretStoreRef).toEqual({ kind: 'ClusterSecretStore', name: 'aws-secrets-manager' });
    expect(es.spec.dataFrom).toEqual([{ extract: { key: database.secretArn } }]);
    expect(es.spec.target.template.data.url).toBe('postgres://{{ .username | urlquery }}:{{ .password | urlquery }}@db.internal:5432/swoop?sslmode=require');
  });

  it('lets the secrets operator read only the listed secret and key', () => {
    const statements = policy(rec.one('aws:iam/rolePolicy:RolePolicy', 'secrets-platform-eso').inputs.policy).Statement;
    expect(statements).toEqual([
      { Sid: 'ReadListedSecrets', Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: [database.secretArn] },
      { Sid: 'DecryptListedSecrets', Effect: 'Allow', Action: ['kms:Decrypt'], Resource: ['arn:aws:kms:us-west-2:123456789012:key/db'] },
    ]);
    const store = rec.kube('ClusterSecretStore')[0].inputs;
    expect(store.spec).toEqual({ provider: { aws: { service: 'SecretsManager', region: 'us-west-2' } }, conditions: [{ namespaces: ['swoop', 'argo'] }] });
  });

  it('runs the migration Job, then the state Deployment and Service, all reading the DB URL from the secret', () => {
    const job = rec.kube('Job', 'swoop-state-migrate')[0].inputs.spec.template.spec;
    expect(job.containers[0]).toMatchObject({ image: 'ghcr.io/x/state:1.2.3', command: ['npm', 'run', 'state:migrate'] });
    const dbEnv = { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'swoop-state-db', key: 'url' } } };
    expect(job.containers[0].env).toContainEqual(dbEnv);
    const deployment = rec.kube('Deployment', 'swoop-state')[0].inputs;
    const container = deployment.spec.template.spec.containers[0];
    expect(deployment.spec.replicas).toBe(2);
    expect(container.env).toContainEqual(dbEnv);
    // The names state/config.ts reads.
    expect(container.env.map((e: any) => e.name)).toEqual(['DATABASE_URL', 'STATE_WRITE_TOKEN', 'STATE_READ_TOKEN', 'LIFECYCLE_URL', 'LIFECYCLE_TOKEN', 'PORT', 'HOME']);
    expect(container.env).toContainEqual({ name: 'STATE_WRITE_TOKEN', valueFrom: { secretKeyRef: { name: 'swoop-state-tokens', key: 'writer' } } });
    expect(container.readinessProbe.httpGet.path).toBe('/healthz');
    expect(container.ports).toEqual([{ name: 'http', containerPort: 8080 }]);
    expect(JSON.stringify(deployment)).not.toMatch(/postgres:\/\//);
    const service = rec.kube('Service', 'swoop-state')[0].inputs;
    expect(service.spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 'http' }]);
  });

  it('applies every manifest of the dist folder with yaml.ConfigGroup', () => {
    const group = rec.one('kubernetes:yaml:ConfigGroup');
    expect(group.inputs.files).toEqual([join(FIXTURE_DIST, '**', '*.yaml')]);
    expect(rec.kube('WorkflowTemplate', 'fixture-template')).toHaveLength(1);
    expect(rec.kube('ConfigMap', 'fixture-config')[0].inputs.metadata.namespace).toBe('swoop');
    expect(rec.ofType('kubernetes:argoproj.io/v1alpha1:Application')).toHaveLength(0);
  });

  it('refuses an unpinned state image, naming the field', async () => {
    await expect(makePlatform('bad', { mode: 'pulumi', manifestsDir: FIXTURE_DIST }, { stateImage: 'ghcr.io/x/state:latest' })).rejects.toThrow(/stateImage must be a pinned image reference/);
    await rec.settle();
  });
});

describe('Platform (GitOps)', () => {
  it('installs Argo CD and an Application syncing the repository\'s dist/ instead of applying it', async () => {
    const rec = new ResourceRecorder();
    await rec.install('unit-gitops');
    const platform = await makePlatform('platform', { mode: 'gitops', repoUrl: 'https://git.example.com/swoop.git', revision: 'v1.2.0', path: 'dist' });
    expect(await valueOf(platform.application!)).toBe('swoop-manifests');
    await rec.settle();
    expect(rec.ofType('kubernetes:yaml:ConfigGroup')).toHaveLength(0);
    expect(rec.ofType('kubernetes:helm.sh/v3:Release').map((r) => r.inputs.chart)).toContain('argo-cd');
    const app = rec.one('kubernetes:argoproj.io/v1alpha1:Application').inputs;
    expect(app.spec.source).toEqual({ repoURL: 'https://git.example.com/swoop.git', targetRevision: 'v1.2.0', path: 'dist', directory: { recurse: true } });
    expect(app.spec.destination).toEqual({ server: 'https://kubernetes.default.svc', namespace: 'swoop' });
    expect(app.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
    // The state service stays with Pulumi: it depends on infrastructure outputs.
    expect(rec.kube('Deployment', 'swoop-state')).toHaveLength(1);
  });
});
