import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HAVE_REFERENCE } from '../support/reference';
import { validateArgoDocument } from '../support/schema';
import { ResourceRecorder, valueOf, type Registered } from './support/pulumi-mocks';
import { testCluster } from './support/fixtures';
import { validateWorkflowsDefinition } from '../support/schema';
import { ARCHIVE_DATABASE_SCRIPT } from '../../infra/argo';

const rec = new ResourceRecorder();
const database = {
  host: 'db.internal', port: 5432,
  secretArn: 'arn:aws:secretsmanager:us-west-2:123456789012:secret:rds!db',
  archiveSecretArn: 'arn:aws:secretsmanager:us-west-2:123456789012:secret:argo-archive',
};

async function makeArgo(id: string, extra: Record<string, unknown> = {}) {
  const { Argo } = await import('../../infra/argo');
  const { SecretsSync } = await import('../../infra/secrets-sync');
  const cluster = await testCluster(`c-${id}`);
  const secrets = new SecretsSync(`secrets-${id}`, { cluster, secretArns: [database.secretArn, database.archiveSecretArn], keyArns: ['arn:aws:kms:us-west-2:123456789012:key/db'], namespaces: ['swoop', 'argo'] });
  return new Argo(id, { cluster, bucketName: 'art-bucket', bucketKeyArn: 'arn:aws:kms:us-west-2:123456789012:key/art', database, secrets, ...extra });
}
const release = (chart: string): Registered => rec.ofType('kubernetes:helm.sh/v3:Release').find((r) => r.inputs.chart === chart)!;

describe('Argo', () => {
  let serverUrl: string;
  let releaseUrn: string;
  beforeAll(async () => {
    await rec.install('unit');
    const argo = await makeArgo('argo');
    serverUrl = await valueOf(argo.serverUrl);
    releaseUrn = await valueOf(argo.workflowsRelease.urn);
    await rec.settle();
  });

  it('installs argo-workflows 1.0.18 and argo-events 2.4.22 into their contract namespaces', () => {
    expect(release('argo-workflows').inputs).toMatchObject({ version: '1.0.18', namespace: 'argo', name: 'argo-workflows' });
    expect(release('argo-events').inputs).toMatchObject({ version: '2.4.22', namespace: 'argo-events' });
    expect(rec.kube('Namespace').map((n) => n.inputs.metadata.name).sort()).toEqual(['argo', 'argo-events', 'swoop']);
    expect(serverUrl).toBe('https://argo-workflows-server.argo.svc.cluster.local:2746');
  });

  it('parents the releases to the component', () => {
    expect(releaseUrn).toContain('::swoop:infra:Argo$kubernetes:helm.sh/v3:Release::argo-workflows');
  });

  it('runs the Argo server with client auth only, over TLS', () => {
    expect(release('argo-workflows').inputs.values.server).toMatchObject({ authModes: ['client'], secure: true });
  });

  it('persists the workflow archive to the state database as its own role, from the synced secret', () => {
    const persistence = release('argo-workflows').inputs.values.controller.persistence;
    expect(persistence).toEqual({
      archive: true,
      archiveTTL: '180d', // the default; stacks set 30d (dev) and 365d (prod)
      nodeStatusOffLoad: true,
      postgresql: {
        host: 'db.internal', port: 5432, database: 'argo', tableName: 'argo_workflows',
        userNameSecret: { name: 'argo-postgres-config', key: 'username' },
        passwordSecret: { name: 'argo-postgres-config', key: 'password' },
        ssl: true, sslMode: 'require',
      },
    });
    for (const [secretName, arn] of [['argo-postgres-config', database.archiveSecretArn], ['argo-postgres-owner', database.secretArn]]) {
      const synced = rec.kube('ExternalSecret', secretName)[0].inputs;
      expect(synced.metadata.namespace).toBe('argo');
      expect(synced.spec.dataFrom).toEqual([{ extract: { key: arn } }]);
      expect(synced.spec.target.template.data).toEqual({ username: '{{ .username }}', password: '{{ .password }}' });
    }
  });

  it('creates the archive role and database as the master user, before the controller starts', () => {
    const job = rec.kube('Job', 'argo-archive-database')[0].inputs;
    const container = job.spec.template.spec.containers[0];
    expect(container.command).toEqual(['sh', '-c', ARCHIVE_DATABASE_SCRIPT]);
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? `${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`]));
    expect(env).toEqual({
      PGHOST: 'db.internal', PGPORT: '5432', PGDATABASE: 'postgres', PGSSLMODE: 'require',
      PGUSER: 'argo-postgres-owner/username', PGPASSWORD: 'argo-postgres-owner/password',
      ARCHIVE_USER: 'argo-postgres-config/username', ARCHIVE_PASSWORD: 'argo-postgres-config/password', ARCHIVE_DATABASE: 'argo',
    });
  });

  it('gives workflows the swoop-workflow service account with agent and artifact GC permissions', () => {
    const values = release('argo-workflows').inputs.values;
    expect(values.workflow).toEqual({ serviceAccount: { create: true, name: 'swoop-workflow' }, rbac: { create: true, agentPermissions: true, artifactGC: true } });
    expect(values.controller.workflowNamespaces).toEqual(['swoop']);
    expect(values.controller.workflowDefaults.spec.serviceAccountName).toBe('swoop-workflow');
  });

  it('writes the artifact-repositories ConfigMap (contract: namespace swoop, key default) pointing at the bucket', () => {
    const cm = rec.kube('ConfigMap', 'artifact-repositories')[0].inputs;
    expect(cm.metadata.namespace).toBe('swoop');
    expect(cm.metadata.annotations['workflows.argoproj.io/default-artifact-repository']).toBe('default');
    const repo = parse(cm.data.default);
    expect(repo.s3).toMatchObject({ bucket: 'art-bucket', region: 'us-west-2', useSDKCreds: true, encryptionOptions: { enableEncryption: true, kmsKeyId: 'arn:aws:kms:us-west-2:123456789012:key/art' } });
    expect(repo.s3.keyFormat.startsWith('artifacts/')).toBe(true);
  });

  it('creates a three-replica JetStream EventBus with encrypted persistent storage', () => {
    const bus = rec.kube('EventBus')[0].inputs;
    expect(bus.metadata).toEqual({ name: 'default', namespace: 'swoop' });
    expect(bus.spec.jetstream).toMatchObject({ version: '2.10.10', replicas: 3, persistence: { storageClassName: 'gp3-encrypted' } });
  });

  describe.skipIf(!HAVE_REFERENCE)('against the upstream schemas', () => {
    it('the EventBus is a valid Argo Events EventBus', () => {
      expect(validateArgoDocument(rec.kube('EventBus')[0].inputs)).toEqual([]);
    });
    it('the artifact repository entry is a valid ArtifactRepository', () => {
      const repo = parse(rec.kube('ConfigMap', 'artifact-repositories')[0].inputs.data.default);
      expect(validateWorkflowsDefinition('io.argoproj.workflow.v1alpha1.ArtifactRepository', repo)).toEqual([]);
      expect(validateWorkflowsDefinition('io.argoproj.workflow.v1alpha1.ArtifactRepository', { s3: { bucket: 'b', kmsKeyId: 'x' } })).not.toEqual([]);
    });
    it('the controller workflowDefaults are a valid Workflow spec', () => {
      const spec = release('argo-workflows').inputs.values.controller.workflowDefaults.spec;
      expect(validateArgoDocument({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'defaults' }, spec })).toEqual([]);
    });
    it('the JetStream version is one the pinned argo-events chart ships', async () => {
      const { readFileSync } = await import('node:fs');
      const { referencePath } = await import('../support/reference');
      const values = parse(readFileSync(referencePath('helm', 'argo-events-2.4.22-values.yaml'), 'utf8'));
      expect(values.configs.jetstream.versions.map((v: any) => v.version)).toContain(rec.kube('EventBus')[0].inputs.spec.jetstream.version);
    });
  });

  it('refuses the unauthenticated "server" mode, sso without settings and an even event bus', async () => {
    await expect(makeArgo('a1', { serverAuthModes: ['server'] })).rejects.toThrow(/"server" is not allowed; use "client" and\/or "sso"/);
    await expect(makeArgo('a2', { serverAuthModes: [] })).rejects.toThrow(/at least one of "client", "sso"/);
    await expect(makeArgo('a3', { serverAuthModes: ['sso'] })).rejects.toThrow(/"sso" auth mode and the sso settings/);
    await expect(makeArgo('a4', { eventBus: { replicas: 2 } })).rejects.toThrow(/eventBus\.replicas must be an odd number >= 3 for a JetStream quorum \(got 2\)/);
    await rec.settle();
  });
});

describe('Argo without its own EventBus', () => {
  it('leaves the EventBus to the manifests when eventBus is false', async () => {
    const r = new ResourceRecorder();
    await r.install('unit-nobus');
    const argo = await makeArgo('nobus', { eventBus: false });
    await valueOf(argo.serverUrl);
    await r.settle();
    expect(argo.eventBus).toBeUndefined();
    expect(r.kube('EventBus')).toHaveLength(0);
    expect(r.ofType('kubernetes:helm.sh/v3:Release').map((x) => x.inputs.chart).sort()).toEqual(['argo-events', 'argo-workflows', 'external-secrets']);
  });
});

describe('Argo with SSO', () => {
  it('enables SSO on the server and keeps the client secret in a Kubernetes Secret, not in values', async () => {
    const r = new ResourceRecorder();
    await r.install('unit-sso');
    const argo = await makeArgo('sso', {
      serverAuthModes: ['sso', 'client'],
      sso: { issuer: 'https://idp.example.com', clientId: 'argo', clientSecret: 'top-secret', redirectUrl: 'https://argo.example.com/oauth2/callback', adminGroups: ['admins'], readOnlyGroups: [] },
    });
    await valueOf(argo.serverUrl);
    await r.settle();
    const values = r.ofType('kubernetes:helm.sh/v3:Release').find((x) => x.inputs.chart === 'argo-workflows')!.inputs.values;
    expect(values.server.authModes).toEqual(['sso', 'client']);
    expect(values.server.sso).toEqual({
      enabled: true, issuer: 'https://idp.example.com', redirectUrl: 'https://argo.example.com/oauth2/callback', scopes: ['groups'],
      rbac: { enabled: true, secretWhitelist: ['argo-sso-admin.service-account-token', 'argo-sso-read-only.service-account-token'] },
    });
    expect(JSON.stringify(values)).not.toContain('top-secret');
    expect(r.kube('Secret', 'argo-server-sso')[0].inputs.stringData).toEqual({ 'client-id': 'argo', 'client-secret': 'top-secret' });
  });
});
