/**
 * The workflow namespace's NetworkPolicies, evaluated with the Kubernetes semantics
 * (support/network-policy.ts, itself held against the documentation's examples below) over
 * the pods the platform actually runs: labels read from dist/ (state service, migration Job,
 * service tasks, event sources, sensors, event bus) and the ones Argo gives workflow and agent
 * pods (workflow/controller: workflows.argoproj.io/workflow, .../component: agent).
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { Cluster, selects, type Endpoint, type Policy } from './support/network-policy';
import { PODS, POD_IDENTITY_AGENT, argoNetworkPolicies, sensorsUseKubernetesApi, workflowNetworkPolicies } from '../../infra/network-policies';
import { API_SERVICE_IP, SERVICE_CIDR } from '../../infra/cluster';
import { ResourceRecorder, valueOf } from './support/pulumi-mocks';
import { testCluster } from './support/fixtures';

describe('the evaluator follows the Kubernetes documentation', () => {
  // concepts/services-networking/network-policies: the "test-network-policy" example.
  const example: Policy = {
    metadata: { name: 'test-network-policy', namespace: 'default' },
    spec: {
      podSelector: { matchLabels: { role: 'db' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{
        from: [
          { ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } },
          { namespaceSelector: { matchLabels: { project: 'myproject' } } },
          { podSelector: { matchLabels: { role: 'frontend' } } },
        ],
        ports: [{ protocol: 'TCP', port: 6379 }],
      }],
      egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: [{ protocol: 'TCP', port: 5978 }] }],
    },
  };
  const cluster = new Cluster([example], { default: {}, mine: { project: 'myproject' }, other: {} });
  const db: Endpoint = { name: 'db', namespace: 'default', labels: { role: 'db' }, ip: '10.1.0.5' };
  const frontend: Endpoint = { name: 'fe', namespace: 'default', labels: { role: 'frontend' }, ip: '10.1.0.6' };
  const frontendElsewhere: Endpoint = { name: 'fe2', namespace: 'other', labels: { role: 'frontend' }, ip: '10.1.0.7' };
  const anyInMine: Endpoint = { name: 'x', namespace: 'mine', labels: {}, ip: '10.1.0.8' };
  const ext = (ip: string): Endpoint => ({ name: ip, ip });

  it('ingress: the three peers are ORed, only on TCP 6379; except carves out of the ipBlock', () => {
    expect(cluster.allows(frontend, db, 6379)).toBe(true);
    expect(cluster.allows(frontend, db, 6380)).toBe(false);
    expect(cluster.allows(frontend, db, 6379, 'UDP')).toBe(false);
    expect(cluster.allows(anyInMine, db, 6379)).toBe(true);
    expect(cluster.allows(frontendElsewhere, db, 6379)).toBe(false); // podSelector alone: the policy's namespace
    expect(cluster.allows(ext('172.17.0.9'), db, 6379)).toBe(true);
    expect(cluster.allows(ext('172.17.1.9'), db, 6379)).toBe(false);
  });

  it('egress: only 10.0.0.0/24 on 5978; pods no policy selects are not restricted', () => {
    expect(cluster.allows(db, ext('10.0.0.200'), 5978)).toBe(true);
    expect(cluster.allows(db, ext('10.0.1.1'), 5978)).toBe(false);
    expect(cluster.allows(db, frontend, 80)).toBe(false);
    expect(cluster.allows(frontend, ext('8.8.8.8'), 443)).toBe(true);
  });

  it('namespaceSelector and podSelector in one peer are ANDed, in two peers ORed (the docs\' alice/client example)', () => {
    const and: Policy = { metadata: { name: 'and', namespace: 'default' }, spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { user: 'alice' } }, podSelector: { matchLabels: { role: 'client' } } }] }] } };
    const or: Policy = { metadata: { name: 'or', namespace: 'default' }, spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { user: 'alice' } } }, { podSelector: { matchLabels: { role: 'client' } } }] }] } };
    const namespaces = { default: {}, alice: { user: 'alice' } };
    const aliceClient: Endpoint = { name: 'ac', namespace: 'alice', labels: { role: 'client' }, ip: '10.2.0.1' };
    const aliceOther: Endpoint = { name: 'ao', namespace: 'alice', labels: {}, ip: '10.2.0.2' };
    const localClient: Endpoint = { name: 'lc', namespace: 'default', labels: { role: 'client' }, ip: '10.2.0.3' };
    const target: Endpoint = { name: 't', namespace: 'default', labels: {}, ip: '10.2.0.4' };
    const a = new Cluster([and], namespaces);
    expect([a.allows(aliceClient, target, 80), a.allows(aliceOther, target, 80), a.allows(localClient, target, 80)]).toEqual([true, false, false]);
    const o = new Cluster([or], namespaces);
    expect([o.allows(aliceClient, target, 80), o.allows(aliceOther, target, 80), o.allows(localClient, target, 80)]).toEqual([true, true, true]);
  });

  it('default deny (podSelector {}, no rules) isolates every pod of its namespace, only in its policy types', () => {
    const denyIngress: Policy = { metadata: { name: 'd', namespace: 'default' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } };
    const c = new Cluster([denyIngress], { default: {} });
    expect(c.allows(frontend, db, 6379)).toBe(false);
    expect(c.allows(db, ext('1.1.1.1'), 443)).toBe(true);
  });

  it('named ports resolve on the destination pod; endPort makes a range; matchExpressions', () => {
    const p: Policy = {
      metadata: { name: 'p', namespace: 'default' },
      spec: { podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['api'] }] }, ingress: [{ ports: [{ port: 'http' }, { port: 9000, endPort: 9010 }] }] },
    };
    const api: Endpoint = { name: 'api', namespace: 'default', labels: { tier: 'api' }, ip: '10.3.0.1', namedPorts: { http: 8080 } };
    const c = new Cluster([p], { default: {} });
    expect([c.allows(frontend, api, 8080), c.allows(frontend, api, 9005), c.allows(frontend, api, 9011), c.allows(frontend, api, 80)]).toEqual([true, true, false, false]);
  });
});

// ---- the platform's policies ----

const VPC = '10.20.0.0/16';
const DIST_DEV = join(__dirname, '..', '..', 'dist', 'dev');
// Sensors reach the API server only while some sensor creates objects itself (k8s triggers).
const SENSORS_USE_API = sensorsUseKubernetesApi(DIST_DEV);
const policies = workflowNetworkPolicies({ namespace: 'swoop', argoNamespace: 'argo', vpcCidr: VPC, serviceCidr: SERVICE_CIDR, apiServiceIp: API_SERVICE_IP, sensorsUseKubernetesApi: SENSORS_USE_API });
const NAMESPACES = { swoop: {}, argo: {}, 'kube-system': {}, 'argo-events': {}, other: {}, monitoring: {} };

type Doc = Record<string, any>;
const docs: Doc[] = readdirSync(join(__dirname, '..', '..', 'dist', 'dev')).flatMap((f) =>
  parseAllDocuments(readFileSync(join(__dirname, '..', '..', 'dist', 'dev', f), 'utf8')).map((d) => d.toJS() as Doc).filter(Boolean));
const templateLabels = (kind: string, component: string): Record<string, string> =>
  docs.find((d) => d.kind === kind && d.spec?.template?.metadata?.labels?.['app.kubernetes.io/component'] === component)!.spec.template.metadata.labels;
const named = (kind: string, name: string) => {
  const found = docs.find((d) => d.kind === kind && d.metadata.name === name);
  if (!found) throw new Error(`dist/dev has no ${kind} ${name}`);
  return found.metadata.name as string;
};

let n = 10;
const pod = (name: string, labels: Record<string, string>, namespace = 'swoop'): Endpoint => ({ name, namespace, labels, ip: `10.20.64.${n++}` });
const ext = (name: string, ip: string): Endpoint => ({ name, ip });

const E = {
  state: pod('state service', templateLabels('Deployment', 'state')),
  migration: pod('state migration Job', templateLabels('Job', 'state-migration')),
  serviceTask: pod('service task publish-stac', templateLabels('Deployment', 'service-task')),
  // Argo Events labels its pods <kind>-name: <object name> (pkg/apis/common LabelSensorName, LabelEventSourceName).
  sensor: pod('sensor swoop-ingress', { 'sensor-name': named('Sensor', 'swoop-ingress'), controller: 'sensor-controller' }),
  callbacksSensor: pod('sensor swoop-callbacks', { 'sensor-name': named('Sensor', 'swoop-callbacks'), controller: 'sensor-controller' }),
  lifecycle: pod('event source swoop-lifecycle', { 'eventsource-name': named('EventSource', 'swoop-lifecycle') }),
  ingressWebhook: pod('event source swoop-ingress', { 'eventsource-name': named('EventSource', 'swoop-ingress') }),
  sqs: pod('event source swoop-ingress-sqs', { 'eventsource-name': named('EventSource', 'swoop-ingress-sqs') }),
  bus: pod('event bus pod', { 'eventbus-name': named('EventBus', 'default'), controller: 'eventbus-controller' }),
  bus2: pod('another event bus pod', { 'eventbus-name': 'default', controller: 'eventbus-controller' }),
  task: pod('workflow task pod', { 'workflows.argoproj.io/workflow': 'copy-and-publish-x1', 'workflows.argoproj.io/completed': 'false' }),
  agent: pod('workflow agent pod', { 'workflows.argoproj.io/workflow': 'copy-and-publish-x1', 'workflows.argoproj.io/component': 'agent', 'workflows.argoproj.io/completed': 'false' }),
  argoServer: pod('argo server', { 'app.kubernetes.io/name': 'argo-workflows-server', 'app.kubernetes.io/component': 'server' }, 'argo'),
  argoController: pod('argo controller', { 'app.kubernetes.io/name': 'argo-workflows-workflow-controller' }, 'argo'),
  dns: pod('coredns', { 'k8s-app': 'kube-dns' }, 'kube-system'),
  elsewhere: pod('a pod in another namespace', { app: 'client' }, 'other'),
  prometheus: pod('prometheus', { 'app.kubernetes.io/name': 'prometheus' }, 'monitoring'),
  apiService: ext('kubernetes Service ClusterIP', API_SERVICE_IP),
  apiEni: ext('EKS API endpoint ENI', '10.20.33.4'),
  rds: ext('RDS PostgreSQL', '10.20.200.10'),
  s3: ext('S3 (gateway endpoint prefix list)', '52.218.128.10'),
  hooks: ext('a callback URL on the internet', '93.184.216.34'),
  podIdentity: ext('EKS Pod Identity agent', POD_IDENTITY_AGENT.split('/')[0]),
  imds: ext('EC2 instance metadata', '169.254.169.254'),
};

/** Every flow the platform needs: [from, to, port, protocol?]. */
const NEEDED: [Endpoint, Endpoint, number, string?][] = [
  [E.agent, E.state, 8080], // HTTP templates post events and callbacks
  [E.sensor, E.state, 8080], // sensors' HTTP triggers (and, with the state service creating runs, every route)
  [E.task, E.state, 8080], // the dispatch workflow posts events
  [E.state, E.lifecycle, 12000], // the outbox delivers run-finished
  [E.state, E.rds, 5432],
  [E.migration, E.rds, 5432],
  [E.state, E.argoServer, 2746], // resuming suspended nodes
  [E.state, E.apiService, 443], // creating Workflows
  [E.state, E.apiEni, 443],
  // Payload projections read payloads passed by URL from S3 with its Pod Identity role. S3's
  // addresses (the gateway endpoint's prefix list) cannot be named in a NetworkPolicy, so this
  // is HTTPS out of the VPC, as for workflow pods; the role limits it to the payload store.
  [E.state, E.s3, 443],
  [E.state, E.podIdentity, 80],
  ...(SENSORS_USE_API ? [[E.sensor, E.apiService, 443] as [Endpoint, Endpoint, number]] : []), // k8s triggers create Workflows
  [E.sensor, E.bus, 4222],
  [E.lifecycle, E.bus, 4222],
  [E.ingressWebhook, E.bus, 4222],
  [E.sqs, E.bus, 4222],
  [E.bus, E.bus2, 6222], // JetStream cluster routes
  [E.bus, E.bus2, 4222],
  [E.sqs, E.s3, 443], // SQS's public endpoint
  [E.sqs, E.podIdentity, 80],
  [E.callbacksSensor, E.hooks, 443], // alert callbacks to their URL
  [E.task, E.s3, 443], // payloads and artifacts
  [E.task, E.podIdentity, 80],
  [E.task, E.apiService, 443], // the executor reports results
  [E.task, E.ingressWebhook, 12000], // dispatch forwards {url, process}
  [E.task, E.serviceTask, 8080],
  [E.agent, E.apiService, 443], // the agent watches its WorkflowTaskSet
  [E.agent, E.hooks, 443], // per-feature callbacks
  [E.elsewhere, E.ingressWebhook, 12000], // the documented payload entry point
  [E.prometheus, E.state, 9464], // the ServiceMonitor's scrape of /metrics (docs/metrics.md)
  [E.serviceTask, E.hooks, 443],
  ...[E.state, E.migration, E.sensor, E.lifecycle, E.sqs, E.bus, E.task, E.agent, E.serviceTask].flatMap((from) => [[from, E.dns, 53, 'UDP'], [from, E.dns, 53, 'TCP']] as [Endpoint, Endpoint, number, string][]),
];

/** Flows nothing needs, each of which a looser policy would let through. */
const NOT_NEEDED: [Endpoint, Endpoint, number, string?][] = [
  [E.task, E.rds, 5432], // only the state service and its migration talk to the database
  [E.sensor, E.rds, 5432],
  [E.task, E.bus, 4222], // workflows do not publish events directly
  [E.agent, E.lifecycle, 12000], // only the state service's outbox reports run-finished
  [E.task, E.lifecycle, 12000],
  [E.elsewhere, E.state, 8080], // the state service is not open to other namespaces
  [E.prometheus, E.state, 8080], // Prometheus reaches the metrics port, not the API
  [E.elsewhere, E.lifecycle, 12000],
  [E.elsewhere, E.bus, 4222],
  [E.argoController, E.state, 8080],
  [E.state, E.imds, 80], // the state service's AWS identity is its Pod Identity role, never the node's
  [E.state, E.imds, 443],
  [E.migration, E.apiService, 443],
  [E.lifecycle, E.hooks, 443], // webhook sources receive, they do not call out
  [E.lifecycle, E.apiService, 443],
  [E.sqs, E.apiService, 443],
  [E.sqs, E.state, 8080],
  [E.sqs, E.imds, 443],
  [E.agent, ext('another Service ClusterIP', '172.20.14.2'), 443],
  [E.bus, E.hooks, 443],
  [E.sensor, E.argoServer, 2746],
  ...(SENSORS_USE_API ? [] : [[E.sensor, E.apiService, 443] as [Endpoint, Endpoint, number]]),
  [E.sensor, E.podIdentity, 80], // only the SQS source and workflow pods have AWS roles
  [E.task, E.imds, 80],
  [E.task, E.state, 5432],
  [E.task, E.migration, 8080],
  [E.agent, E.rds, 5432],
  [E.agent, E.s3, 80], // plain HTTP out is never allowed
  [E.task, E.dns, 5353, 'UDP'],
  [E.serviceTask, E.state, 8080],
];

const show = ([from, to, port, protocol]: [Endpoint, Endpoint, number, string?]) => `${from.name} -> ${to.name} :${port}/${protocol ?? 'TCP'}`;

describe('workflow namespace NetworkPolicies', () => {
  const cluster = new Cluster(policies, NAMESPACES);

  it('deny every flow by default in swoop: a policy selecting all pods for ingress and egress, with no rules', () => {
    const deny = policies.find((p) => p.metadata.name === 'default-deny')!;
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    // With only the default deny, nothing the platform needs gets through.
    const denyOnly = new Cluster([deny], NAMESPACES);
    expect(NEEDED.filter(([f, t, p, pr]) => denyOnly.allows(f, t, p, pr)).map(show)).toEqual([]);
    expect(policies.every((p) => p.metadata.namespace === 'swoop')).toBe(true);
  });

  it('allows every flow the platform needs', () => {
    expect(NEEDED.filter(([f, t, p, pr]) => !cluster.allows(f, t, p, pr)).map(show)).toEqual([]);
  });

  it('denies the flows nothing needs', () => {
    expect(NOT_NEEDED.filter(([f, t, p, pr]) => cluster.allows(f, t, p, pr)).map(show)).toEqual([]);
  });

  it('selects every pod the namespace runs with some policy of its own (none relies on the default deny alone)', () => {
    const own = (ep: Endpoint) => policies.filter((p) => p.metadata.name !== 'default-deny' && p.metadata.name !== 'allow-dns' && selects(p.spec.podSelector, ep.labels));
    for (const ep of [E.state, E.migration, E.serviceTask, E.sensor, E.lifecycle, E.ingressWebhook, E.sqs, E.bus, E.task, E.agent]) expect(own(ep).length, ep.name).toBeGreaterThan(0);
  });

  it('can fail: a policy broken on purpose drops a needed flow or lets an unneeded one through', () => {
    const broken = (name: string, change: (p: any) => void) => {
      const copy = structuredClone(policies) as any[];
      change(copy.find((p) => p.metadata.name === name));
      return new Cluster(copy, NAMESPACES);
    };
    // The lifecycle webhook admitting the wrong port: the outbox cannot deliver.
    expect(broken('lifecycle-webhook', (p) => { p.spec.ingress[0].ports[0].port = 12001; }).allows(E.state, E.lifecycle, 12000)).toBe(false);
    // The state service's ingress open to all: another namespace gets in.
    expect(broken('state-service', (p) => { delete p.spec.ingress[0].from; }).allows(E.elsewhere, E.state, 8080)).toBe(true);
    // Sensors losing their event bus rule: no events reach them.
    expect(broken('sensors', (p) => { p.spec.egress.shift(); }).allows(E.sensor, E.bus, 4222)).toBe(false);
    // The workflow pods' "internet" rule without its except: they reach the database.
    expect(broken('workflow-pods', (p) => { delete p.spec.egress[1].to[0].ipBlock.except; }).allows(E.task, E.rds, 443)).toBe(true);
  });

  it('lets sensors reach the API server exactly when a sensor of the manifests creates objects itself', () => {
    const dir = mkdtempSync(join(tmpdir(), 'swoop-netpol-'));
    const sensor = (template: Record<string, unknown>) => `apiVersion: argoproj.io/v1alpha1\nkind: Sensor\nmetadata: {name: s}\nspec:\n  triggers:\n    - template: ${JSON.stringify({ name: 't', ...template })}\n`;
    writeFileSync(join(dir, 'events.yaml'), sensor({ http: { url: 'http://swoop-state.swoop.svc:8080/events' } }));
    expect(sensorsUseKubernetesApi(dir)).toBe(false);
    writeFileSync(join(dir, 'more.yaml'), sensor({ k8s: { operation: 'create' } }));
    expect(sensorsUseKubernetesApi(dir)).toBe(true);
    const args = { namespace: 'swoop', argoNamespace: 'argo', vpcCidr: VPC, serviceCidr: SERVICE_CIDR, apiServiceIp: API_SERVICE_IP };
    expect(new Cluster(workflowNetworkPolicies({ ...args, sensorsUseKubernetesApi: false }), NAMESPACES).allows(E.sensor, E.apiService, 443)).toBe(false);
    expect(new Cluster(workflowNetworkPolicies({ ...args, sensorsUseKubernetesApi: true }), NAMESPACES).allows(E.sensor, E.apiService, 443)).toBe(true);
  });

  it('the dashboard\'s SSO port: closed without dashboard.ssoProxy; with it, open to the proxy\'s pods only, never the API port to them', () => {
    const proxy = pod('oauth2-proxy', { 'app.kubernetes.io/name': 'oauth2-proxy' }, 'auth');
    const neighbour = pod('another pod of the proxy namespace', { app: 'other' }, 'auth');
    const namespaces = { ...NAMESPACES, auth: {} };
    expect(new Cluster(policies, namespaces).allows(proxy, E.state, 8081)).toBe(false);
    const args = { namespace: 'swoop', argoNamespace: 'argo', vpcCidr: VPC, serviceCidr: SERVICE_CIDR, apiServiceIp: API_SERVICE_IP, sensorsUseKubernetesApi: SENSORS_USE_API };
    const withSso = new Cluster(workflowNetworkPolicies({ ...args, dashboardSsoProxy: { namespace: 'auth', podLabels: { 'app.kubernetes.io/name': 'oauth2-proxy' } } }), namespaces);
    expect(withSso.allows(proxy, E.state, 8081)).toBe(true);
    expect(withSso.allows(proxy, E.state, 8080)).toBe(false);
    for (const other of [neighbour, E.elsewhere, E.task, E.agent, E.sensor, E.prometheus]) expect(withSso.allows(other, E.state, 8081), other.name).toBe(false);
    // without podLabels: every pod of the proxy's namespace, still no other namespace
    const byNamespace = new Cluster(workflowNetworkPolicies({ ...args, dashboardSsoProxy: { namespace: 'auth' } }), namespaces);
    expect([byNamespace.allows(neighbour, E.state, 8081), byNamespace.allows(E.elsewhere, E.state, 8081)]).toEqual([true, false]);
  });

  it('the dashboard\'s ALB port: closed without dashboard.alb; with it, open to the VPC (the ALB\'s interfaces) on 8082 only', () => {
    const alb = ext('the dashboard\'s internal ALB (its ENI in the VPC)', '10.20.3.17');
    const outside = ext('an address outside the VPC', '203.0.113.9');
    const args = { namespace: 'swoop', argoNamespace: 'argo', vpcCidr: VPC, serviceCidr: SERVICE_CIDR, apiServiceIp: API_SERVICE_IP, sensorsUseKubernetesApi: SENSORS_USE_API };
    expect(new Cluster(policies, NAMESPACES).allows(alb, E.state, 8082)).toBe(false);
    const withAlb = new Cluster(workflowNetworkPolicies({ ...args, dashboardAlb: true }), NAMESPACES);
    expect(withAlb.allows(alb, E.state, 8082)).toBe(true);
    // nothing else of the state service, and no other pod, opens to it
    for (const port of [8080, 8081]) expect(withAlb.allows(alb, E.state, port), String(port)).toBe(false);
    expect(withAlb.allows(alb, E.migration, 8082)).toBe(false);
    expect(withAlb.allows(alb, E.lifecycle, 12000)).toBe(false);
    expect(withAlb.allows(outside, E.state, 8082)).toBe(false);
    // As for the Argo server's ALB: pods have VPC addresses, so the rule admits pods whose own
    // egress is open (another namespace's); the port believes only a header the ALB signed
    // (docs/dashboard.md). The workflow namespace's pods stay out by their egress policies.
    expect(withAlb.allows(E.elsewhere, E.state, 8082)).toBe(true);
    expect(withAlb.allows(E.task, E.state, 8082)).toBe(false);
  });

  it('selects pods by the labels they really carry (dist/ and the Argo projects), not by made-up ones', () => {
    expect(E.state.labels).toMatchObject(PODS.stateService.matchLabels);
    expect(E.migration.labels).toMatchObject(PODS.stateMigration.matchLabels);
    expect(E.serviceTask.labels).toMatchObject(PODS.serviceTasks.matchLabels);
    expect(E.lifecycle.labels).toEqual(PODS.lifecycleWebhook.matchLabels);
  });
});

describe('WorkflowNetworkPolicies (Pulumi)', () => {
  const rec = new ResourceRecorder();
  beforeAll(async () => {
    await rec.install('netpol');
    const { WorkflowNetworkPolicies } = await import('../../infra/network-policies');
    const cluster = await testCluster('netpol');
    new WorkflowNetworkPolicies('np', { cluster, namespace: 'swoop', argoNamespace: 'argo', vpcCidr: VPC, serviceCidr: SERVICE_CIDR, apiServiceIp: API_SERVICE_IP, sensorsUseKubernetesApi: SENSORS_USE_API });
    await valueOf(cluster.name);
    await rec.settle();
  });

  it('declares each policy as a networking.k8s.io/v1 NetworkPolicy, exactly as evaluated', () => {
    const declared = rec.ofType('kubernetes:networking.k8s.io/v1:NetworkPolicy').map((r) => r.inputs);
    expect(declared.map((p) => p.metadata.name).sort()).toEqual(policies.map((p) => p.metadata.name).sort());
    for (const p of policies) expect(declared.find((d) => d.metadata.name === p.metadata.name)).toMatchObject(JSON.parse(JSON.stringify(p)));
  });

  it('fixes the service CIDR so the API ClusterIP the policies name is the real one', () => {
    const eks = rec.ofType('aws:eks/cluster:Cluster')[0].inputs;
    expect(eks.kubernetesNetworkConfig.serviceIpv4Cidr).toBe('172.20.0.0/16');
    expect(API_SERVICE_IP).toBe('172.20.0.1');
  });
});

describe('Argo namespaces NetworkPolicies (argo, argo-events)', () => {
  const args = { argoNamespace: 'argo', eventsNamespace: 'argo-events', workflowNamespace: 'swoop', vpcCidr: VPC, serviceCidr: SERVICE_CIDR, apiServiceIp: API_SERVICE_IP };
  // dev: no ALB (port-forward); the ALB's own test below.
  const argoPolicies = argoNetworkPolicies({ ...args, serverIngress: false });
  // The whole cluster: the workflow namespace's policies too (the state service's side of its flow to the server).
  const cluster = new Cluster([...policies, ...argoPolicies], NAMESPACES);
  const A = {
    server: E.argoServer,
    controller: E.argoController,
    // Kubernetes labels a Job's pods with job-name and batch.kubernetes.io/job-name.
    archiveJob: pod('archive database Job', { 'batch.kubernetes.io/job-name': 'argo-archive-database', 'job-name': 'argo-archive-database', 'batch.kubernetes.io/controller-uid': 'u' }, 'argo'),
    eventsController: pod('argo-events controller', { 'app.kubernetes.io/name': 'controller-manager', 'app.kubernetes.io/instance': 'argo-events' }, 'argo-events'),
    alb: ext('the internal ALB (its ENI in the VPC)', '10.20.1.50'),
    oidc: ext('the OIDC issuer', '104.16.0.1'),
  };

  const NEEDED_ARGO: [Endpoint, Endpoint, number, string?][] = [
    [E.state, A.server, 2746], // callbacks resume nodes through the server
    [A.server, E.apiService, 443], [A.server, E.apiEni, 443],
    [A.server, E.rds, 5432], // archived workflows
    [A.server, E.s3, 443], [A.server, E.podIdentity, 80], // artifacts in the UI, with its role
    [A.server, A.oidc, 443], // SSO
    [A.controller, E.apiService, 443], [A.controller, E.apiEni, 443],
    [A.controller, E.rds, 5432], // archive and node status offload
    [E.prometheus, A.controller, 9090],
    [A.archiveJob, E.rds, 5432],
    [A.eventsController, E.apiService, 443], [A.eventsController, E.apiEni, 443],
    [E.prometheus, A.eventsController, 7777],
    ...[A.server, A.controller, A.archiveJob, A.eventsController].flatMap((from) => [[from, E.dns, 53, 'UDP'], [from, E.dns, 53, 'TCP']] as [Endpoint, Endpoint, number, string][]),
  ];
  const NOT_NEEDED_ARGO: [Endpoint, Endpoint, number, string?][] = [
    [E.elsewhere, A.server, 2746], // only the state service reaches the server (port-forward is not a network flow)
    [A.alb, A.server, 2746], // no ALB in this stack
    [E.task, A.server, 2746],
    [E.sensor, A.server, 2746],
    [E.prometheus, A.server, 2746],
    [A.controller, E.hooks, 443], // the controller does not call the internet
    [A.controller, E.imds, 80],
    [A.controller, E.state, 8080],
    [A.server, E.state, 8080],
    [A.server, E.imds, 80],
    [A.server, E.hooks, 80], // plain HTTP out
    [A.archiveJob, E.apiService, 443],
    [A.archiveJob, E.hooks, 443],
    [A.eventsController, E.rds, 5432],
    [A.eventsController, E.hooks, 443],
    [E.elsewhere, A.eventsController, 8081],
    [E.elsewhere, A.controller, 6060],
    [E.task, A.controller, 9090], // workflow pods' egress stays theirs
  ];

  it('deny every flow by default in both namespaces, each with its own default-deny', () => {
    for (const ns of ['argo', 'argo-events']) {
      expect(argoPolicies.find((p) => p.metadata.namespace === ns && p.metadata.name === 'default-deny')!.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    }
    const denyOnly = new Cluster(argoPolicies.filter((p) => p.metadata.name === 'default-deny'), NAMESPACES);
    expect(NEEDED_ARGO.filter(([f, t, p, pr]) => f.namespace !== 'swoop' && denyOnly.allows(f, t, p, pr)).map(show)).toEqual([]);
  });

  it('allows every flow the Argo controllers and server need', () => {
    expect(NEEDED_ARGO.filter(([f, t, p, pr]) => !cluster.allows(f, t, p, pr)).map(show)).toEqual([]);
  });

  it('denies the flows nothing needs', () => {
    expect(NOT_NEEDED_ARGO.filter(([f, t, p, pr]) => cluster.allows(f, t, p, pr)).map(show)).toEqual([]);
  });

  it('admits the VPC to the server only with the ALB Ingress, which (pods having VPC addresses) admits every pod to 2746 too', () => {
    const withAlb = new Cluster([...policies, ...argoNetworkPolicies({ ...args, serverIngress: true })], NAMESPACES);
    expect(withAlb.allows(A.alb, A.server, 2746)).toBe(true);
    expect(withAlb.allows(E.state, A.server, 2746)).toBe(true);
    // The limit, stated in docs/infra.md: the ALB shares the private subnets with the pods, so
    // the VPC rule cannot tell them apart; the server still requires a token or SSO.
    expect(withAlb.allows(E.elsewhere, A.server, 2746)).toBe(true);
    expect(withAlb.allows(A.alb, A.server, 2747)).toBe(false);
    expect(withAlb.allows(A.alb, A.controller, 9091)).toBe(false);
    expect(cluster.allows(A.alb, A.server, 2746)).toBe(false);
  });

  it('selects every Argo pod with a policy of its own, by the labels the charts and Kubernetes give them', () => {
    const own = (ep: Endpoint) => argoPolicies.filter((p) => p.metadata.namespace === ep.namespace && !['default-deny', 'allow-dns'].includes(p.metadata.name) && selects(p.spec.podSelector, ep.labels));
    for (const ep of [A.server, A.controller, A.archiveJob, A.eventsController]) expect(own(ep).map((p) => p.metadata.name), ep.name).toHaveLength(1);
  });

  it('can fail: a policy broken on purpose drops a needed flow or lets an unneeded one through', () => {
    const broken = (ns: string, name: string, change: (p: any) => void) => {
      const copy = structuredClone(argoPolicies) as any[];
      change(copy.find((p) => p.metadata.namespace === ns && p.metadata.name === name));
      return new Cluster([...policies, ...copy], NAMESPACES);
    };
    expect(broken('argo', 'server', (p) => { delete p.spec.ingress[0].from; }).allows(E.elsewhere, A.server, 2746)).toBe(true);
    expect(broken('argo', 'workflow-controller', (p) => { p.spec.egress.pop(); }).allows(A.controller, E.rds, 5432)).toBe(false);
    expect(broken('argo-events', 'events-controller', (p) => { delete p.spec.egress[0].to; }).allows(A.eventsController, E.hooks, 443)).toBe(true);
    // Only the default deny isolates the archive Job for ingress.
    expect(broken('argo', 'default-deny', (p) => { p.spec.policyTypes = ['Egress']; }).allows(E.elsewhere, A.archiveJob, 8080)).toBe(true);
    expect(broken('argo', 'allow-dns', (p) => { p.spec.egress[0].ports = [{ protocol: 'UDP', port: 5353 }]; }).allows(A.server, E.dns, 53, 'UDP')).toBe(false);
  });

  it('are declared by ArgoNetworkPolicies, exactly as evaluated, and by the stack', async () => {
    const rec = new ResourceRecorder();
    await rec.install('argo-netpol');
    const { ArgoNetworkPolicies } = await import('../../infra/network-policies');
    const c = await testCluster('argo-netpol');
    new ArgoNetworkPolicies('anp', { cluster: c, ...args, serverIngress: false });
    await valueOf(c.name);
    await rec.settle();
    const declared = rec.ofType('kubernetes:networking.k8s.io/v1:NetworkPolicy').map((r) => r.inputs);
    expect(declared.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).sort()).toEqual(argoPolicies.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).sort());
    for (const p of argoPolicies) expect(declared.find((d) => d.metadata.namespace === p.metadata.namespace && d.metadata.name === p.metadata.name)).toMatchObject(JSON.parse(JSON.stringify(p)));
  });
});
