import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResourceRecorder, policy, valueOf, type Registered } from './support/pulumi-mocks';
import { testCluster } from './support/fixtures';
import { deliveredManifests, PROMETHEUS_OPERATOR_MANIFESTS, STATE_URL, type ManifestDelivery } from '../../infra/platform';
import { loadEnvironment } from '../../stacks/environment';

const database = {
  host: 'db.internal', port: 5432, databaseName: 'swoop',
  secretArn: 'arn:aws:secretsmanager:us-west-2:123456789012:secret:rds!db',
  serviceSecretArn: 'arn:aws:secretsmanager:us-west-2:123456789012:secret:swoop-state',
};
const FIXTURE_DIST = join(__dirname, 'fixtures', 'dist');
const REPO_DIST = join(__dirname, '..', '..', 'dist', 'dev');

async function makePlatform(id: string, delivery: ManifestDelivery, prometheusOperator?: boolean) {
  const { Platform } = await import('../../infra/platform');
  const { SecretsSync } = await import('../../infra/secrets-sync');
  const cluster = await testCluster(`c-${id}`);
  const secrets = new SecretsSync(`secrets-${id}`, { cluster, secretArns: [database.secretArn, database.serviceSecretArn], keyArns: ['arn:aws:kms:us-west-2:123456789012:key/db'], namespaces: ['swoop', 'argo'] });
  // The workflow values and task-token queues the dev stack sets: dist/dev/ reads the values and
  // sends to the queues (the check refuses a stack without them).
  const dev = loadEnvironment('dev');
  return new Platform(id, {
    cluster, namespace: 'swoop', bucketName: 'art-bucket', database, secrets, delivery, values: dev.workflowValues,
    taskTokenQueues: dev.taskTokenQueues.map((q) => q.url), prometheusOperator,
  });
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
      ...loadEnvironment('dev').workflowValues,
      'payload-store': 's3://art-bucket/payloads',
      'state-url': 'http://swoop-state.swoop.svc.cluster.local:8080',
      'lifecycle-url': 'http://swoop-lifecycle-eventsource-svc.swoop.svc.cluster.local:12000/lifecycle',
      'task-token-queues': loadEnvironment('dev').taskTokenQueues.map((q) => q.url).join(','),
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

  it('grants the workflow agent no Secret when no HTTP template sends one (an empty resourceNames would grant all)', () => {
    expect(rec.ofType('kubernetes:rbac.authorization.k8s.io/v1:Role').filter((r) => r.inputs.metadata.name === 'swoop-workflow-agent-secrets')).toEqual([]);
    expect(rec.ofType('kubernetes:rbac.authorization.k8s.io/v1:RoleBinding').filter((r) => r.inputs.metadata.name === 'swoop-workflow-agent-secrets')).toEqual([]);
  });

  it.each([
    ['swoop-state-db', 'the state service\'s own role', 'serviceSecretArn'],
    ['swoop-state-db-owner', 'the RDS master user (migrations only)', 'secretArn'],
  ] as const)('renders %s/url for %s through External Secrets, with TLS required', (secretName, _who, arn) => {
    const es = rec.kube('ExternalSecret', secretName)[0].inputs;
    expect(es.metadata.namespace).toBe('swoop');
    expect(es.spec.secretStoreRef).toEqual({ kind: 'ClusterSecretStore', name: 'aws-secrets-manager' });
    expect(es.spec.dataFrom).toEqual([{ extract: { key: database[arn] } }]);
    expect(es.spec.target.template.data.url).toBe('postgres://{{ .username | urlquery }}:{{ .password | urlquery }}@db.internal:5432/swoop?sslmode=require');
  });

  it('lets the secrets operator read only the listed secret and key', () => {
    const statements = policy(rec.one('aws:iam/rolePolicy:RolePolicy', 'secrets-platform-eso').inputs.policy).Statement;
    expect(statements).toEqual([
      { Sid: 'ReadListedSecrets', Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: [database.secretArn, database.serviceSecretArn] },
      { Sid: 'DecryptListedSecrets', Effect: 'Allow', Action: ['kms:Decrypt'], Resource: ['arn:aws:kms:us-west-2:123456789012:key/db'] },
    ]);
    const store = rec.kube('ClusterSecretStore')[0].inputs;
    expect(store.spec).toEqual({ provider: { aws: { service: 'SecretsManager', region: 'us-west-2' } }, conditions: [{ namespaces: ['swoop', 'argo'] }] });
  });

  it('declares no workload of its own: the state service arrives with the manifests', () => {
    for (const kind of ['Deployment', 'Job', 'Service', 'PodDisruptionBudget']) expect(rec.kube(kind), kind).toEqual([]);
    // Only the identity the state service resumes Argo nodes with, which (like its Secrets) infra owns.
    expect(rec.kube('ServiceAccount').map((r) => r.inputs.metadata.name)).toEqual(['swoop-state-argo']);
  });

  it('applies every manifest of the dist folder with yaml.ConfigGroup', () => {
    const group = rec.one('kubernetes:yaml:ConfigGroup');
    expect(group.inputs.files).toEqual([join(FIXTURE_DIST, 'example.yaml')]);
    expect(rec.kube('WorkflowTemplate', 'fixture-template')).toHaveLength(1);
    expect(rec.kube('ConfigMap', 'fixture-config')[0].inputs.metadata.namespace).toBe('swoop');
    expect(rec.ofType('kubernetes:argoproj.io/v1alpha1:Application')).toHaveLength(0);
  });
});

describe('Platform (GitOps)', () => {
  it('installs Argo CD and an Application syncing the repository\'s dist/ instead of applying it', async () => {
    const rec = new ResourceRecorder();
    await rec.install('unit-gitops');
    const platform = await makePlatform('platform', { mode: 'gitops', repoUrl: 'https://git.example.com/swoop.git', revision: 'v1.2.0', path: 'dist/dev' });
    expect(await valueOf(platform.application!)).toBe('swoop-manifests');
    await rec.settle();
    expect(rec.ofType('kubernetes:yaml:ConfigGroup')).toHaveLength(0);
    expect(rec.ofType('kubernetes:helm.sh/v3:Release').map((r) => r.inputs.chart)).toContain('argo-cd');
    const app = rec.one('kubernetes:argoproj.io/v1alpha1:Application').inputs;
    // without the Prometheus operator in the cluster, its objects' file is not synced
    expect(app.spec.source).toEqual({ repoURL: 'https://git.example.com/swoop.git', targetRevision: 'v1.2.0', path: 'dist/dev', directory: { recurse: true, exclude: 'state-monitoring.yaml' } });
    expect(app.spec.destination).toEqual({ server: 'https://kubernetes.default.svc', namespace: 'swoop' });
    expect(app.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
    // The state service is in the synced dist/, like every other manifest.
    expect(rec.kube('Deployment')).toEqual([]);
  });
});

describe('Prometheus-operator objects (the state service\'s ServiceMonitor and PrometheusRule)', () => {
  const monitoring = (rec: ResourceRecorder) => rec.resources.filter((r) => String(r.inputs?.apiVersion ?? '').startsWith('monitoring.coreos.com/'))
    .map((r) => `${r.inputs.kind}/${r.inputs.metadata.name}`).sort();

  it('are exactly the files PROMETHEUS_OPERATOR_MANIFESTS names, in every stack\'s dist/', () => {
    for (const stack of ['dev', 'prod']) {
      const dir = join(__dirname, '..', '..', 'dist', stack);
      const holding = readdirSync(dir).filter((f) => f.endsWith('.yaml') && /^apiVersion: monitoring\.coreos\.com\//m.test(readFileSync(join(dir, f), 'utf8')));
      expect(holding).toEqual([...PROMETHEUS_OPERATOR_MANIFESTS]);
      expect(deliveredManifests(dir, false)).not.toContain('state-monitoring.yaml');
      expect(deliveredManifests(dir, true)).toContain('state-monitoring.yaml');
    }
  });

  it('are not applied where the cluster has no Prometheus operator (the default), and are with prometheusOperator', async () => {
    const without = new ResourceRecorder();
    await without.install('unit-no-operator');
    await makePlatform('platform', { mode: 'pulumi', manifestsDir: REPO_DIST });
    await without.settle();
    expect(monitoring(without)).toEqual([]);
    expect(without.kube('Deployment', 'swoop-state')).toHaveLength(1);
    const withOperator = new ResourceRecorder();
    await withOperator.install('unit-operator');
    await makePlatform('platform', { mode: 'pulumi', manifestsDir: REPO_DIST }, true);
    await withOperator.settle();
    expect(monitoring(withOperator)).toEqual(['PrometheusRule/swoop-state', 'ServiceMonitor/swoop-state']);
    expect(withOperator.one('kubernetes:yaml:ConfigGroup').inputs.files).toEqual([join(REPO_DIST, '**', '*.yaml')]);
  });

  it('are synced by Argo CD with prometheusOperator', async () => {
    const rec = new ResourceRecorder();
    await rec.install('unit-gitops-operator');
    await makePlatform('platform', { mode: 'gitops', repoUrl: 'https://git.example.com/swoop.git', revision: 'v1.2.0', path: 'dist/dev' }, true);
    await rec.settle();
    expect(rec.one('kubernetes:argoproj.io/v1alpha1:Application').inputs.spec.source.directory).toEqual({ recurse: true });
  });
});

describe('Platform with the committed dist/ (the state service\'s only definition)', () => {
  const rec = new ResourceRecorder();
  beforeAll(async () => {
    await rec.install('unit-dist');
    await makePlatform('platform', { mode: 'pulumi', manifestsDir: REPO_DIST });
    await rec.settle();
  });
  // ConfigGroup names what it applies `<namespace>/<name>`; Platform's own objects have plain names.
  const fromDist = (r: Registered) => r.name.includes('/');
  const stateObjects = () => rec.resources.filter((r) => r.type.startsWith('kubernetes:') && r.inputs.metadata?.labels?.['app.kubernetes.io/name'] === 'swoop-state');

  it('applies the state service from dist/ once: Deployment, Service, PodDisruptionBudget, migration Job, and its service account that may create Workflows', () => {
    expect(stateObjects().map((r) => `${r.inputs.kind}/${r.inputs.metadata.name}`).sort()).toEqual([
      'Deployment/swoop-state', expect.stringMatching(/^Job\/swoop-state-migrate-[0-9a-f]{10}$/), 'PodDisruptionBudget/swoop-state',
      'Role/swoop-state-create-workflows', 'RoleBinding/swoop-state-create-workflows', 'Service/swoop-state', 'ServiceAccount/swoop-state',
    ]);
    expect(stateObjects().every(fromDist)).toBe(true);
  });

  it('lets the workflow agent get exactly the Secrets dist/\'s HTTP templates send as headers', () => {
    const role = rec.ofType('kubernetes:rbac.authorization.k8s.io/v1:Role').filter((r) => !fromDist(r) && r.inputs.metadata.name === 'swoop-workflow-agent-secrets');
    // swoop-state-tokens: every platform HTTP step; swoop-review: review-cloudy-scenes' callback auth.
    expect(role.map((r) => r.inputs.rules)).toEqual([[{ apiGroups: [''], resources: ['secrets'], resourceNames: ['swoop-review', 'swoop-state-tokens'], verbs: ['get'] }]]);
    const binding = rec.ofType('kubernetes:rbac.authorization.k8s.io/v1:RoleBinding').find((r) => r.inputs.metadata.name === 'swoop-workflow-agent-secrets')!;
    expect(binding.inputs.subjects).toEqual([{ kind: 'ServiceAccount', name: 'swoop-workflow', namespace: 'swoop' }]);
    expect(binding.inputs.roleRef.name).toBe('swoop-workflow-agent-secrets');
    // The agent runs as the workflow's service account: every WorkflowTemplate with HTTP templates names that
    // one, or none (a library template, called by templateRef, runs in the calling workflow).
    const withHttp = rec.kube('WorkflowTemplate').filter((r) => r.inputs.spec.templates.some((t: { http?: unknown }) => t.http));
    expect(withHttp.length).toBeGreaterThan(0);
    const accounts = new Set(withHttp.map((r) => r.inputs.spec.serviceAccountName ?? '(caller)'));
    expect([...accounts].sort()).toEqual(['(caller)', 'swoop-workflow']);
  });

  it('creates every Secret key and ConfigMap key the state service pods read', () => {
    const pods = stateObjects().filter((r) => r.inputs.spec?.template).map((r) => r.inputs.spec.template.spec);
    const refs = [...new Set(pods.flatMap(podReferences))].sort();
    expect(refs).toEqual([
      'ConfigMap swoop-platform/lifecycle-url',
      'ConfigMap swoop-platform/payload-store',
      'ConfigMap swoop-platform/task-token-queues',
      'Secret swoop-lifecycle-token/token',
      'Secret swoop-state-argo-token/token',
      'Secret swoop-state-db-owner/url',
      'Secret swoop-state-db/url',
      'Secret swoop-state-tokens/reader',
      'Secret swoop-state-tokens/writer',
    ]);
    const provided = new Set(rec.resources.filter((r) => r.type.startsWith('kubernetes:') && !fromDist(r)).flatMap(providedKeys));
    expect(refs.filter((ref) => !provided.has(ref))).toEqual([]);
    // The comparison can fail: a key infra does not create is reported.
    expect(['Secret swoop-state-tokens/writer-token'].filter((ref) => !provided.has(ref))).toEqual(['Secret swoop-state-tokens/writer-token']);
  });

  it('points state-url (the ConfigMap and Platform.stateUrl) at the Service dist/ declares', () => {
    const service = rec.kube('Service', 'swoop-state').filter(fromDist)[0].inputs;
    const container = rec.kube('Deployment', 'swoop-state')[0].inputs.spec.template.spec.containers[0];
    const url = new URL(rec.kube('ConfigMap', 'swoop-platform')[0].inputs.data['state-url']);
    expect(url.toString()).toBe(new URL(STATE_URL).toString());
    expect(url.hostname).toBe(`${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`);
    const port = service.spec.ports.find((p: { port: number }) => p.port === Number(url.port));
    expect(port).toBeDefined();
    expect(container.ports.map((p: { containerPort: number }) => p.containerPort)).toContain(port.targetPort);
  });
});

/** `Secret <name>/<key>` and `ConfigMap <name>/<key>` for every reference of a pod spec's containers. */
function podReferences(spec: any): string[] {
  return [...(spec.initContainers ?? []), ...spec.containers].flatMap((c: any) => {
    if (c.envFrom?.length) throw new Error(`container ${c.name} uses envFrom: list its keys so this check can see them`);
    return (c.env ?? []).flatMap((e: any) => {
      const s = e.valueFrom?.secretKeyRef;
      const m = e.valueFrom?.configMapKeyRef;
      return s ? [`Secret ${s.name}/${s.key}`] : m ? [`ConfigMap ${m.name}/${m.key}`] : [];
    });
  });
}

/** The keys a Kubernetes object Platform declares makes available, in podReferences' form. */
function providedKeys(r: Registered): string[] {
  const kind = r.type.split(':').pop();
  const { metadata, stringData, data, spec } = r.inputs;
  // The control plane fills a service-account-token Secret's token, ca.crt and namespace.
  if (kind === 'Secret' && r.inputs.type === 'kubernetes.io/service-account-token') return ['token', 'ca.crt', 'namespace'].map((k) => `Secret ${metadata.name}/${k}`);
  if (kind === 'Secret') return Object.keys({ ...data, ...stringData }).map((k) => `Secret ${metadata.name}/${k}`);
  if (kind === 'ConfigMap') return Object.keys(data ?? {}).map((k) => `ConfigMap ${metadata.name}/${k}`);
  // External Secrets writes a Secret named target.name with the template's keys.
  if (kind === 'ExternalSecret') return Object.keys(spec.target.template?.data ?? {}).map((k) => `Secret ${spec.target.name ?? metadata.name}/${k}`);
  return [];
}

describe('Platform checks the synthesized manifests against the stack before deploying', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swoop-manifests-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const image = `123456789012.dkr.ecr.us-west-2.amazonaws.com/swoop-dev/swoop-state@sha256:${'b'.repeat(64)}`;
  writeFileSync(join(dir, 'publish.yaml'), stringify({
    apiVersion: 'argoproj.io/v1alpha1', kind: 'WorkflowTemplate', metadata: { name: 'publish', namespace: 'swoop' },
    spec: { arguments: { parameters: [{ name: 'destination', valueFrom: { configMapKeyRef: { name: 'swoop-platform', key: 'publish-bucket' } } }] } },
  }));
  writeFileSync(join(dir, 'state-service.yaml'), stringify({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'swoop-state', namespace: 'swoop' },
    spec: { template: { spec: { containers: [{ name: 'state', image }] } } },
  }));
  const platform = async (id: string, values?: Record<string, string>, stateServiceImage = image) => {
    const { Platform } = await import('../../infra/platform');
    const { SecretsSync } = await import('../../infra/secrets-sync');
    const cluster = await testCluster(`c-${id}`);
    const secrets = new SecretsSync(`secrets-${id}`, { cluster, secretArns: [database.secretArn, database.serviceSecretArn], keyArns: ['arn:aws:kms:us-west-2:123456789012:key/db'], namespaces: ['swoop', 'argo'] });
    return new Platform(id, { cluster, namespace: 'swoop', bucketName: 'art-bucket', database, secrets, delivery: { mode: 'pulumi', manifestsDir: dir }, values, checkManifests: { stateServiceImage } });
  };

  it('refuses a workflow value the stack does not set, naming the file, the object and the key', async () => {
    const rec = new ResourceRecorder();
    await rec.install('unit-values-missing');
    await expect(platform('missing')).rejects.toThrow(
      /publish\.yaml: WorkflowTemplate\/publish reads key "publish-bucket" of ConfigMap swoop-platform, which this stack does not set; add it to the stack setting swoop-platform:workflowValues/,
    );
    await rec.settle();
  });

  it('writes the values the stack sets into the swoop-platform ConfigMap', async () => {
    const rec = new ResourceRecorder();
    await rec.install('unit-values');
    await platform('values', { 'publish-bucket': 's3://swoop-dev-public' });
    await rec.settle();
    expect(rec.kube('ConfigMap', 'swoop-platform')[0].inputs.data).toMatchObject({ 'publish-bucket': 's3://swoop-dev-public', 'payload-store': 's3://art-bucket/payloads' });
  });

  it('refuses a wait step whose SQS queue (read from the environment) is not in taskTokenQueues, and deploys it when it is', async () => {
    const sqsDir = mkdtempSync(join(tmpdir(), 'swoop-manifests-sqs-'));
    try {
      writeFileSync(join(sqsDir, 'review.yaml'), stringify({
        apiVersion: 'argoproj.io/v1alpha1', kind: 'WorkflowTemplate', metadata: { name: 'review', namespace: 'swoop' },
        spec: { templates: [{ name: 'swoop-wait-approve-send', inputs: { parameters: [{ name: 'input' }, { name: 'sqs-queue-url', valueFrom: { configMapKeyRef: { name: 'swoop-platform', key: 'review-queue' } } }] }, http: { url: 'x' } }] },
      }));
      const queue = 'https://sqs.us-west-2.amazonaws.com/123456789012/review-tasks';
      const withQueues = async (id: string, taskTokenQueues: string[]) => {
        const { Platform } = await import('../../infra/platform');
        const { SecretsSync } = await import('../../infra/secrets-sync');
        const cluster = await testCluster(`c-${id}`);
        const secrets = new SecretsSync(`secrets-${id}`, { cluster, secretArns: [database.secretArn, database.serviceSecretArn], keyArns: ['arn:aws:kms:us-west-2:123456789012:key/db'], namespaces: ['swoop', 'argo'] });
        return new Platform(id, { cluster, namespace: 'swoop', bucketName: 'art-bucket', database, secrets, delivery: { mode: 'pulumi', manifestsDir: sqsDir }, values: { 'review-queue': queue }, taskTokenQueues, checkManifests: {} });
      };
      const rec = new ResourceRecorder();
      await rec.install('unit-token-queues');
      await expect(withQueues('unlisted', [])).rejects.toThrow(
        `review.yaml: WorkflowTemplate/review (template swoop-wait-approve-send) sends task tokens to SQS queue ${queue} (key "review-queue"), which the state service may not send to; add {url: ${queue}} to the stack setting swoop-platform:taskTokenQueues`,
      );
      await withQueues('listed', [queue]);
      await rec.settle();
      expect(rec.kube('ConfigMap', 'swoop-platform').map((c) => c.inputs.data['task-token-queues'])).toContain(queue);
    } finally {
      rmSync(sqsDir, { recursive: true, force: true });
    }
  });

  it('refuses manifests whose state service image is not the stack setting (a stale dist/)', async () => {
    const rec = new ResourceRecorder();
    await rec.install('unit-image');
    await expect(platform('image', { 'publish-bucket': 's3://p' }, image.replace('bbbb', 'cccc'))).rejects.toThrow(
      /state-service\.yaml: Deployment\/swoop-state runs image \S+@sha256:b{64}, but the stack setting stateServiceImage is \S+; run `npm run synth` and commit dist\//,
    );
    await rec.settle();
  });
});
