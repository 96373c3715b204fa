/**
 * Where the state service creates Workflows (docs/state.md, "Submissions"): the in-cluster
 * Kubernetes API as its own service account, or KUBE_API_URL / KUBE_TOKEN_FILE / KUBE_CA_FILE
 * elsewhere; WORKFLOW_NAMESPACE is the one namespace its Role covers. Checked at start, so a
 * misconfigured pod fails naming the variable.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_ACCOUNT_DIR } from './kube-client';

export interface KubeConfig {
  readonly url: string;
  readonly tokenFile: string;
  readonly caFile?: string;
  readonly namespace: string;
}

/** Undefined when no API server is known: POST /submit then answers 503 saying so. */
export function kubeFromEnv(env: NodeJS.ProcessEnv, accountDir = SERVICE_ACCOUNT_DIR): KubeConfig | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const inCluster = host ? `https://${host.includes(':') ? `[${host}]` : host}:${env.KUBERNETES_SERVICE_PORT || '443'}` : undefined;
  const url = env.KUBE_API_URL || inCluster;
  if (!url) return undefined;
  if (!/^https?:\/\/[^/\s]+\/?$/.test(url)) throw new Error(`KUBE_API_URL must be an http(s) URL without a path (got "${url}")`);
  const tokenFile = env.KUBE_TOKEN_FILE || join(accountDir, 'token');
  if (!existsSync(tokenFile)) {
    throw new Error(`the Kubernetes token file ${tokenFile} does not exist: mount the service account token (automountServiceAccountToken) or set KUBE_TOKEN_FILE`);
  }
  const defaultCa = join(accountDir, 'ca.crt');
  const caFile = env.KUBE_CA_FILE || (url.startsWith('https:') && existsSync(defaultCa) ? defaultCa : undefined);
  const namespaceFile = join(accountDir, 'namespace');
  const namespace = env.WORKFLOW_NAMESPACE || (existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : '');
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) || namespace.length > 63) {
    throw new Error(`WORKFLOW_NAMESPACE must name the namespace Workflows are created in (got "${namespace}")`);
  }
  return { url, tokenFile, caFile, namespace };
}
