import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubeFromEnv } from '../../state/kube-config';

/** A service-account directory as the kubelet projects it. */
function accountDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'swoop-sa-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('where POST /submit creates Workflows (state/kube-config.ts)', () => {
  it('in a pod: the API server from KUBERNETES_SERVICE_HOST/PORT, the projected token, CA and namespace', () => {
    const dir = accountDir({ token: 't', 'ca.crt': 'pem', namespace: 'swoop\n' });
    expect(kubeFromEnv({ KUBERNETES_SERVICE_HOST: '10.100.0.1', KUBERNETES_SERVICE_PORT: '443' }, dir)).toEqual({
      url: 'https://10.100.0.1:443', tokenFile: join(dir, 'token'), caFile: join(dir, 'ca.crt'), namespace: 'swoop',
    });
    expect(kubeFromEnv({ KUBERNETES_SERVICE_HOST: 'fd00::1', WORKFLOW_NAMESPACE: 'other' }, dir)).toMatchObject({ url: 'https://[fd00::1]:443', namespace: 'other' });
  });

  it('outside a cluster: nothing unless KUBE_API_URL is set (POST /submit then answers 503)', () => {
    expect(kubeFromEnv({}, accountDir({}))).toBeUndefined();
    const dir = accountDir({ token: 't' });
    expect(kubeFromEnv({ KUBE_API_URL: 'http://127.0.0.1:6443', KUBE_TOKEN_FILE: join(dir, 'token'), WORKFLOW_NAMESPACE: 'swoop' }, dir))
      .toEqual({ url: 'http://127.0.0.1:6443', tokenFile: join(dir, 'token'), caFile: undefined, namespace: 'swoop' });
  });

  it('refuses at start, naming the variable, what cannot work', () => {
    const dir = accountDir({ token: 't' });
    expect(() => kubeFromEnv({ KUBE_API_URL: 'https://api/x', WORKFLOW_NAMESPACE: 'swoop' }, dir)).toThrow(/KUBE_API_URL must be an http\(s\) URL without a path/);
    expect(() => kubeFromEnv({ KUBE_API_URL: 'https://api', WORKFLOW_NAMESPACE: 'swoop' }, accountDir({}))).toThrow(/token file .* does not exist/);
    expect(() => kubeFromEnv({ KUBE_API_URL: 'https://api' }, dir)).toThrow(/WORKFLOW_NAMESPACE must name the namespace/);
    expect(() => kubeFromEnv({ KUBE_API_URL: 'https://api', WORKFLOW_NAMESPACE: 'Not_A_Namespace' }, dir)).toThrow(/WORKFLOW_NAMESPACE/);
  });
});
