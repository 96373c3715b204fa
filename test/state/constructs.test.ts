import { App, Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { StateService, StateServiceChart } from '../../constructs/state-service';
import { HAVE_REFERENCE } from '../support/reference';
import { validateWorkflowsDefinition } from '../support/schema';

type Json = Record<string, any>;

function synth(props: Partial<ConstructorParameters<typeof StateServiceChart>[2]> = {}): Json[] {
  const app = Testing.app();
  const chart = new StateServiceChart(app, 'state', { image: 'ghcr.io/acme/swoop-state:0.1.0', ...props });
  return Testing.synth(chart) as Json[];
}

const byKind = (docs: Json[], kind: string) => docs.filter((d) => d.kind === kind);

describe('StateService constructs', () => {
  const docs = synth();
  const [deployment] = byKind(docs, 'Deployment');
  const [service] = byKind(docs, 'Service');
  const [budget] = byKind(docs, 'PodDisruptionBudget');
  const [job] = byKind(docs, 'Job');

  it('emits a Deployment, Service, PodDisruptionBudget and migration Job in namespace swoop, and the service account that may create Workflows there', () => {
    expect(docs.map((d) => d.kind).sort()).toEqual(['Deployment', 'Job', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
    expect(docs.every((d) => d.metadata.namespace === 'swoop')).toBe(true);
    // POST /submit creates Workflows: that verb on that resource, in this namespace, nothing else.
    expect(byKind(docs, 'Role')[0]!.rules).toEqual([{ apiGroups: ['argoproj.io'], resources: ['workflows'], verbs: ['create'] }]);
    expect(byKind(docs, 'RoleBinding')[0]!.subjects).toEqual([{ apiGroup: '', kind: 'ServiceAccount', name: 'swoop-state', namespace: 'swoop' }]);
    expect(deployment!.spec.template.spec).toMatchObject({ serviceAccountName: 'swoop-state', automountServiceAccountToken: true });
    const env = Object.fromEntries(deployment!.spec.template.spec.containers[0].env.map((e: Json) => [e.name, e.value ?? e.valueFrom]));
    expect(env.WORKFLOW_NAMESPACE).toBe('swoop');
    // The migration Job talks to no Kubernetes API.
    expect(byKind(docs, 'Job')[0]!.spec.template.spec.automountServiceAccountToken).toBe(false);
  });

  it('runs 2 replicas that roll without losing capacity and prefer different nodes of the system pool', () => {
    expect(deployment!.spec.replicas).toBe(2);
    expect(deployment!.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    const pod = deployment!.spec.template.spec;
    expect(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions)
      .toEqual([{ key: 'swoop.dev/compute-class', operator: 'In', values: ['system'] }]);
    expect(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey).toBe('kubernetes.io/hostname');
    expect(pod.tolerations).toEqual([{ key: 'CriticalAddonsOnly', operator: 'Equal', value: 'true', effect: 'NoSchedule' }]);
  });

  it('probes liveness on /healthz and readiness on /readyz, and takes every secret by reference', () => {
    const [c] = deployment!.spec.template.spec.containers;
    expect(c.livenessProbe.httpGet).toMatchObject({ path: '/healthz', port: 8080 });
    expect(c.readinessProbe.httpGet).toMatchObject({ path: '/readyz', port: 8080 });
    const env = Object.fromEntries(c.env.map((e: Json) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({
      DATABASE_URL: { secretKeyRef: { name: 'swoop-state-db', key: 'url' } },
      STATE_WRITE_TOKEN: { secretKeyRef: { name: 'swoop-state-tokens', key: 'writer' } },
      STATE_READ_TOKEN: { secretKeyRef: { name: 'swoop-state-tokens', key: 'reader' } },
      LIFECYCLE_URL: { configMapKeyRef: { name: 'swoop-platform', key: 'lifecycle-url' } },
      LIFECYCLE_TOKEN: { secretKeyRef: { name: 'swoop-lifecycle-token', key: 'token' } },
      PORT: '8080',
    });
    expect(byKind(docs, 'Secret')).toEqual([]);
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true, runAsUser: 1000, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] },
    });
    expect(deployment!.spec.template.spec.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
  });

  it('exposes swoop-state:8080, the state-url of the contract, to the Deployment pods', () => {
    expect(service!.metadata.name).toBe('swoop-state');
    // and the metrics port the ServiceMonitor scrapes (docs/metrics.md)
    expect(service!.spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 8080 }, { name: 'metrics', port: 9464, targetPort: 9464 }]);
    expect(service!.spec.selector).toEqual(deployment!.spec.selector.matchLabels);
    const s = new StateService(Testing.chart(), 'S', { image: 'x:1' });
    expect(s.url).toBe('http://swoop-state.swoop.svc.cluster.local:8080');
  });

  it('keeps one replica through drains with a PodDisruptionBudget on the same pods', () => {
    expect(budget!.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: deployment!.spec.selector.matchLabels } });
  });

  it('migrates with a Job named after the migration set, as the schema owner, granting the service URL\'s role', () => {
    expect(job!.metadata.name).toMatch(/^swoop-state-migrate-[0-9a-f]{10}$/);
    const [c] = job!.spec.template.spec.containers;
    expect(c.command).toEqual(['node', 'state/migrate-cli.js']);
    expect(c.image).toBe('ghcr.io/acme/swoop-state:0.1.0');
    expect(c.env).toEqual([
      { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'swoop-state-db-owner', key: 'url' } } },
      { name: 'STATE_APP_URL', valueFrom: { secretKeyRef: { name: 'swoop-state-db', key: 'url' } } },
    ]);
    expect(job!.spec.template.spec.restartPolicy).toBe('Never');
    expect(job!.spec.backoffLimit).toBe(6);
  });

  it('synthesizes the same manifests every time', () => {
    expect(synth()).toEqual(docs);
  });

  it('honours overrides of namespace, replicas and secret names', () => {
    const custom = synth({ namespace: 'geo', replicas: 3, databaseUrl: { name: 'pg', key: 'dsn' }, ownerDatabaseUrl: { name: 'pg-owner', key: 'dsn' }, tokensSecret: 'tok' });
    const d = byKind(custom, 'Deployment')[0]!;
    expect(d.metadata.namespace).toBe('geo');
    expect(d.spec.replicas).toBe(3);
    const env = d.spec.template.spec.containers[0].env as Json[];
    expect(env.find((e) => e.name === 'DATABASE_URL')!.valueFrom.secretKeyRef).toEqual({ name: 'pg', key: 'dsn' });
    expect(env.find((e) => e.name === 'STATE_READ_TOKEN')!.valueFrom.secretKeyRef).toEqual({ name: 'tok', key: 'reader' });
    const jobEnv = byKind(custom, 'Job')[0]!.spec.template.spec.containers[0].env as Json[];
    expect(jobEnv.map((e) => [e.name, e.valueFrom.secretKeyRef.name])).toEqual([['DATABASE_URL', 'pg-owner'], ['STATE_APP_URL', 'pg']]);
  });

  it('passes the dashboard\'s Argo link and SSO header when given, and refuses bad ones naming the construct path', () => {
    const env = (d: Json[]) => byKind(d, 'Deployment')[0]!.spec.template.spec.containers[0].env as Json[];
    expect(env(docs).filter((e) => e.name.startsWith('DASHBOARD_'))).toEqual([]);
    const custom = synth({ dashboard: { argoWorkflowUrl: 'https://argo.example.com/workflows/swoop/{name}?uid={uid}', ssoHeader: 'x-auth-request-email' } });
    expect(env(custom).filter((e) => e.name.startsWith('DASHBOARD_'))).toEqual([
      { name: 'DASHBOARD_ARGO_WORKFLOW_URL', value: 'https://argo.example.com/workflows/swoop/{name}?uid={uid}' },
      { name: 'DASHBOARD_SSO_HEADER', value: 'x-auth-request-email' },
      { name: 'DASHBOARD_SSO_PORT', value: '8081' },
    ]);
    // the header is believed only on that port, which the Service exposes as dashboard-sso
    expect(byKind(custom, 'Service')[0]!.spec.ports.map((p: Json) => [p.name, p.port])).toEqual([['http', 8080], ['metrics', 9464], ['dashboard-sso', 8081]]);
    expect(byKind(docs, 'Service')[0]!.spec.ports.map((p: Json) => p.name)).toEqual(['http', 'metrics']);
    expect(() => new StateServiceChart(new App(), 'c', { image: 'x:1', dashboard: { argoWorkflowUrl: 'https://argo.example.com/workflows/swoop' } }))
      .toThrow(/^c\/StateService: dashboard.argoWorkflowUrl must be an http\(s\) URL containing \{name\}/);
    expect(() => new StateServiceChart(new App(), 'c', { image: 'x:1', dashboard: { ssoHeader: 'Cookie' } }))
      .toThrow(/^c\/StateService: dashboard.ssoHeader must name the header your SSO proxy sets/);
  });

  it('verifies the Argo Server against a CA bundle from a ConfigMap (ARGO_CA_FILE), never together with skipping verification', () => {
    const d = byKind(synth({ argoServer: { ca: { configMap: 'argo-server-ca', key: 'ca.crt' } } }), 'Deployment')[0]!;
    const pod = d.spec.template.spec;
    const env = pod.containers[0].env as Json[];
    expect(env.find((e) => e.name === 'ARGO_CA_FILE')).toEqual({ name: 'ARGO_CA_FILE', value: '/etc/swoop/argo-ca/ca.crt' });
    expect(env.find((e) => e.name === 'ARGO_INSECURE_SKIP_VERIFY')!.value).toBe('false');
    expect(pod.containers[0].volumeMounts).toEqual([{ name: 'argo-ca', mountPath: '/etc/swoop/argo-ca', readOnly: true }]);
    expect(pod.volumes).toEqual([{ name: 'argo-ca', configMap: { name: 'argo-server-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }]);
    expect(() => synth({ argoServer: { ca: { configMap: 'c', key: 'k' }, insecureSkipVerify: true } })).toThrow(
      'state/StateService: argoServer has both ca and insecureSkipVerify; keep ca (the server is verified against it) and drop insecureSkipVerify',
    );
  });

  it('refuses fewer than two replicas and a missing image, naming the construct path', () => {
    expect(() => new StateServiceChart(new App(), 'c', { image: 'x:1', replicas: 1 }))
      .toThrow(/^c\/StateService: replicas is 1; use an integer of at least 2/);
    expect(() => new StateServiceChart(new App(), 'c', { image: '' }))
      .toThrow(/^c\/StateService: image "" is not an image reference/);
  });

  describe.skipIf(!HAVE_REFERENCE)('against the upstream Kubernetes definitions (Argo Workflows v4.0.6 schema)', () => {
    // The Argo schema embeds the core Kubernetes types; objects are closed so unknown fields fail.
    const check = validateWorkflowsDefinition;

    it.each(['Deployment', 'Job'])('%s pod: containers, security context, affinity and tolerations are valid', (kind) => {
      const pod = byKind(docs, kind)[0]!.spec.template.spec;
      for (const c of pod.containers) expect(check('io.k8s.api.core.v1.Container', c)).toEqual([]);
      expect(check('io.k8s.api.core.v1.PodSecurityContext', pod.securityContext)).toEqual([]);
      expect(check('io.k8s.api.core.v1.Affinity', pod.affinity)).toEqual([]);
      for (const t of pod.tolerations) expect(check('io.k8s.api.core.v1.Toleration', t)).toEqual([]);
    });

    it('every object has valid metadata; the budget spec and service ports are valid', () => {
      for (const d of docs) expect(check('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', d.metadata)).toEqual([]);
      expect(check('io.k8s.api.policy.v1.PodDisruptionBudgetSpec', budget!.spec)).toEqual([]);
      for (const p of service!.spec.ports) expect(check('io.k8s.api.core.v1.ServicePort', p)).toEqual([]);
    });

    it('the checker does catch a misplaced field', () => {
      const [c] = deployment!.spec.template.spec.containers;
      expect(check('io.k8s.api.core.v1.Container', { ...c, replicas: 2 })).not.toEqual([]);
    });
  });
});
