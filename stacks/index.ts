/**
 * The Pulumi program: reads the validated stack config and wires the components together.
 * No decisions live here; they live in stacks/config.ts (what may be set) and infra/ (how).
 */
import * as pulumi from '@pulumi/pulumi';
import {
  ARGO_EVENTS_NAMESPACE, ARGO_NAMESPACE, ARGO_SERVER_SERVICE_ACCOUNT, Argo, ArtifactBucket, Cluster, Network, NodePools, Platform, SecretsSync, StateDatabase, WORKFLOW_SERVICE_ACCOUNT,
} from '../infra';
import { IngressQueue } from '../infra/ingress-queue';
import { StateServiceIdentity } from '../infra/state-service-identity';
import { ImageRepository } from '../infra/image-repository';
import { DataBuckets } from '../infra/data-buckets';
import { Monitoring } from '../infra/alarms';
import { LoadBalancerController } from '../infra/load-balancer-controller';
import { DashboardIngress } from '../infra/dashboard-ingress';
import { ArgoNetworkPolicies, WorkflowNetworkPolicies, sensorsUseKubernetesApi } from '../infra/network-policies';
import { API_SERVICE_IP, SERVICE_CIDR } from '../infra/cluster';
import { missingSecretInputs, secretReferences } from '../infra/manifest-secrets';
import { DEFAULT_PAYLOAD_PREFIX, PLATFORM_SECRETS, STATE_SERVICE_ACCOUNT, manifestsDirOf } from '../infra/platform';
import { loadStackConfig } from './config';

const stack = pulumi.getStack();
const cfg = loadStackConfig(pulumi.runtime.allConfig(), pulumi.getProject(), stack);
// Every Secret the manifests read must exist: made here, or given as a stack input.
const missingSecrets = missingSecretInputs(secretReferences(manifestsDirOf(cfg.delivery)), PLATFORM_SECRETS, cfg.workloadSecrets);
if (missingSecrets.length > 0) throw new Error(`invalid configuration for stack "${stack}":\n  - ${missingSecrets.join('\n  - ')}`);
const alarmActions = cfg.alarmTopicArn ? [cfg.alarmTopicArn] : [];
const tags = { 'swoop.dev/stack': stack, 'swoop.dev/environment': cfg.environment, 'managed-by': 'pulumi' };
const { keyDeletionWindowDays } = cfg;

const network = new Network('network', { cidrBlock: cfg.vpcCidr, natGateways: cfg.natGateways, clusterName: cfg.clusterName, interfaceEndpoints: cfg.environment === 'prod', tags });

const cluster = new Cluster('cluster', {
  clusterName: cfg.clusterName,
  version: cfg.kubernetesVersion,
  vpcId: network.vpcId,
  subnetIds: network.privateSubnetIds,
  publicAccessCidrs: cfg.apiAccessCidrs,
  adminPrincipalArns: cfg.adminPrincipalArns,
  logRetentionDays: cfg.logRetentionDays,
  addonVersions: cfg.addonVersions,
  keyDeletionWindowDays,
  tags,
});

const nodes = new NodePools('nodes', { cluster, subnetIds: network.privateSubnetIds, classes: cfg.computeClasses, addonVersions: cfg.addonVersions, tags });

const bucket = new ArtifactBucket('artifacts', {
  bucketName: cfg.artifacts.bucketName,
  intermediateExpiryDays: cfg.artifacts.intermediateExpiryDays,
  forceDestroy: cfg.artifacts.forceDestroy,
  keyDeletionWindowDays,
  clusterName: cluster.name,
  bindings: [
    { namespace: 'swoop', serviceAccount: WORKFLOW_SERVICE_ACCOUNT, access: 'read-write' },
    { namespace: ARGO_NAMESPACE, serviceAccount: ARGO_SERVER_SERVICE_ACCOUNT, access: 'read' },
    // POST /submit reads payloads passed by URL for their projections (docs/state.md): the payload store only.
    { namespace: 'swoop', serviceAccount: STATE_SERVICE_ACCOUNT, access: 'read', prefix: `${DEFAULT_PAYLOAD_PREFIX}/` },
  ],
  tags,
}, { protect: cfg.protectData });

new DataBuckets('data', {
  read: cfg.dataBuckets.read,
  write: cfg.dataBuckets.write,
  workflowRoleName: bucket.roleNames[`swoop/${WORKFLOW_SERVICE_ACCOUNT}`],
  forceDestroy: cfg.artifacts.forceDestroy,
  keyDeletionWindowDays,
  tags,
}, { protect: cfg.protectData });

const database = new StateDatabase('state', {
  vpcId: network.vpcId,
  subnetIds: network.databaseSubnetIds,
  clientSecurityGroupIds: [cluster.securityGroupId],
  ...cfg.database,
  keyDeletionWindowDays,
  tags,
}, { protect: cfg.protectData });

const secrets = new SecretsSync('secrets', {
  cluster,
  secretArns: [database.secretArn, database.serviceSecretArn, database.archiveSecretArn],
  keyArns: [database.keyArn],
  namespaces: ['swoop', ARGO_NAMESPACE],
}, { dependsOn: [nodes] });

// The internal ALBs of the Argo server and of the dashboard, only when the stack asks for
// them (else: port-forward).
const dashboardAlb = cfg.dashboardSso?.alb;
const albNamespaces = [...(cfg.argoIngress ? [ARGO_NAMESPACE] : []), ...(dashboardAlb ? ['swoop'] : [])];
const loadBalancers = albNamespaces.length > 0
  ? new LoadBalancerController('load-balancer-controller', { cluster, clusterName: cfg.clusterName, vpcId: network.vpcId, watchNamespaces: albNamespaces, tags }, { dependsOn: [nodes] })
  : undefined;

const argo = new Argo('argo', {
  cluster,
  bucketName: bucket.bucketName,
  bucketKeyArn: bucket.keyArn,
  database: { host: database.address, port: database.port, secretArn: database.secretArn, archiveSecretArn: database.archiveSecretArn },
  secrets,
  serverAuthModes: cfg.argoServerAuthModes,
  sso: cfg.argoSso && { ...cfg.argoSso, clientSecret: pulumi.secret(cfg.argoSso.clientSecret) },
  ingress: cfg.argoIngress && { ...cfg.argoIngress, inboundCidrs: cfg.argoIngress.inboundCidrs ?? [cfg.vpcCidr] },
  eventBus: cfg.eventBus,
  archiveTtlDays: cfg.environment === 'prod' ? 365 : 30,
}, { dependsOn: loadBalancers ? [nodes, loadBalancers] : [nodes] });

// Default-deny in the workflow namespace, then the platform's own flows (docs/infra.md).
new WorkflowNetworkPolicies('network-policies', {
  cluster, namespace: 'swoop', argoNamespace: ARGO_NAMESPACE, vpcCidr: cfg.vpcCidr, serviceCidr: SERVICE_CIDR, apiServiceIp: API_SERVICE_IP,
  sensorsUseKubernetesApi: sensorsUseKubernetesApi(manifestsDirOf(cfg.delivery)),
  ...(cfg.dashboardSso?.ssoProxy ? { dashboardSsoProxy: cfg.dashboardSso.ssoProxy } : {}),
  dashboardAlb: dashboardAlb !== undefined,
}, { dependsOn: [argo] });
// The dashboard's ALB with OIDC sign-in (stack setting dashboard.alb), to the state service's
// port that verifies the ALB's signed header.
if (dashboardAlb) {
  new DashboardIngress('dashboard', {
    cluster, namespace: 'swoop', alb: dashboardAlb, clientSecret: pulumi.secret(cfg.dashboardOidcClientSecret ?? ''), inboundCidrs: [cfg.vpcCidr],
  }, { dependsOn: [argo, ...(loadBalancers ? [loadBalancers] : [])] });
}
new ArgoNetworkPolicies('argo-network-policies', {
  cluster, argoNamespace: ARGO_NAMESPACE, eventsNamespace: ARGO_EVENTS_NAMESPACE, workflowNamespace: 'swoop',
  vpcCidr: cfg.vpcCidr, serviceCidr: SERVICE_CIDR, apiServiceIp: API_SERVICE_IP, serverIngress: cfg.argoIngress !== undefined,
}, { dependsOn: [argo] });

new Platform('platform', {
  cluster,
  namespace: argo.workflowNamespace,
  bucketName: bucket.bucketName,
  database: {
    host: database.address, port: database.port, databaseName: database.databaseName,
    secretArn: database.secretArn, serviceSecretArn: database.serviceSecretArn,
  },
  secrets,
  delivery: cfg.delivery,
  workloadSecrets: cfg.workloadSecrets,
  values: cfg.workflowValues,
  taskTokenQueues: cfg.taskTokenQueues.map((q) => q.url),
  checkManifests: { stateServiceImage: cfg.stateServiceImage },
  deployManifests: cfg.deployManifests,
  prometheusOperator: cfg.prometheusOperator,
  dependsOn: [argo.workflowsRelease, argo.eventsRelease],
}, { dependsOn: [argo] });

// The state service's own AWS identity: send task tokens to exactly the configured queues.
new StateServiceIdentity('state-service', { roleName: bucket.roleNames[`swoop/${STATE_SERVICE_ACCOUNT}`]!, taskTokenQueues: cfg.taskTokenQueues });

const ingress = new IngressQueue('ingress', {
  clusterName: cfg.clusterName,
  cluster,
  topic: cfg.ingress.topic,
  maxReceiveCount: cfg.ingress.maxReceiveCount,
  alarmActions: alarmActions,
  keyDeletionWindowDays,
  tags,
});

new Monitoring('monitoring', {
  cluster,
  clusterName: cfg.clusterName,
  addonVersion: cfg.addonVersions['amazon-cloudwatch-observability'],
  database: { identifier: database.identifier, instanceClass: cfg.database.instanceClass, allocatedStorageGiB: cfg.database.allocatedStorageGiB },
  alarmActions,
  tags,
}, { dependsOn: [nodes] });

const stateImages = new ImageRepository('state-image', { repositoryName: `${cfg.clusterName}/swoop-state`, forceDelete: !cfg.protectData, tags });

export const clusterName = cluster.name;
export const kubeconfig = cluster.kubeconfig;
export const bucketName = bucket.bucketName;
export const databaseEndpoint = database.address;
export const databaseSecretArn = database.secretArn;
export const argoServerUrl = argo.serverUrl;
/** Where operators open Argo: https://<argoIngress.host>, or https://localhost:2746 through port-forward. */
export const argoUrl = argo.url;
export const ingressQueueUrl = ingress.queueUrl;
export const ingressDeadLetterQueueUrl = ingress.dlqUrl;
/** Empty when the stack has no topic (`ingress.topic: false`). */
export const ingressTopicArn = ingress.topicArn ?? '';
/** Where CI pushes the state service image (docs/contracts.md). */
export const stateImageRepositoryUrl = stateImages.repositoryUrl;
