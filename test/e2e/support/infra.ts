/**
 * The ConfigMap and Secrets the infrastructure's Platform component creates, read from a
 * Pulumi program run under mocks (test/infra/support/pulumi-mocks.ts), as the cluster
 * objects the renderer and the state service resolve references against.
 */
import { join } from 'node:path';
import { loadEnvironment } from '../../../stacks/environment';
import { testCluster } from '../../infra/support/fixtures';
import { ResourceRecorder } from '../../infra/support/pulumi-mocks';
import type { ClusterObjects } from './argo';

const DB_SECRET = 'arn:aws:secretsmanager:us-west-2:123456789012:secret:rds!db';
const SERVICE_DB_SECRET = 'arn:aws:secretsmanager:us-west-2:123456789012:secret:swoop-state';

export async function infraObjects(): Promise<ClusterObjects> {
  const rec = new ResourceRecorder();
  await rec.install('e2e');
  const { Platform } = await import('../../../infra/platform');
  const { SecretsSync } = await import('../../../infra/secrets-sync');
  const cluster = await testCluster('e2e');
  const secrets = new SecretsSync('secrets-e2e', { cluster, secretArns: [DB_SECRET, SERVICE_DB_SECRET], keyArns: ['arn:aws:kms:us-west-2:123456789012:key/db'], namespaces: ['swoop', 'argo'] });
  const dev = loadEnvironment('dev');
  new Platform('e2e', {
    cluster,
    namespace: 'swoop',
    bucketName: 'swoop-e2e',
    database: { host: 'db.internal', port: 5432, databaseName: 'swoop', secretArn: DB_SECRET, serviceSecretArn: SERVICE_DB_SECRET },
    secrets,
    delivery: { mode: 'pulumi', manifestsDir: join(__dirname, '..', '..', '..', 'dist', 'dev') },
    // What the dev stack sets: dist/dev/ reads these values and sends task tokens to these queues.
    values: dev.workflowValues,
    taskTokenQueues: dev.taskTokenQueues.map((q) => q.url),
  });
  await rec.settle();
  const configMaps: Record<string, ClusterObjects['configMaps'][string]> = {};
  for (const cm of rec.kube('ConfigMap')) configMaps[cm.inputs.metadata.name] = { labels: cm.inputs.metadata.labels, data: cm.inputs.data ?? {} };
  const secretData: Record<string, Record<string, string>> = {};
  for (const s of rec.kube('Secret')) {
    // The control plane fills a service-account-token Secret's token; stand in for it.
    secretData[s.inputs.metadata.name] = s.inputs.type === 'kubernetes.io/service-account-token'
      ? { token: `token of service account ${s.inputs.metadata.annotations['kubernetes.io/service-account.name']}` }
      : s.inputs.stringData ?? {};
  }
  return { configMaps, secrets: secretData };
}
