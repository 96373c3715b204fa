/**
 * The one Kubernetes API call the state service makes: `POST
 * /apis/argoproj.io/v1alpha1/namespaces/{ns}/workflows` (create a Workflow), as the pod's
 * own service account. That account's Role allows `create` on `workflows` in the service's
 * namespace and nothing else (docs/state.md, "Submissions"). In a pod the API server is
 * `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`, the token and CA are the
 * projected files under /var/run/secrets/kubernetes.io/serviceaccount; the token is read
 * again every minute, as client-go does, because the kubelet rotates bound tokens.
 * node:https rather than fetch, so the cluster CA can be given per request.
 */
import { readFileSync } from 'node:fs';
import { sendJson, type JsonAnswer } from './json-request';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeClientProps {
  /** API server base URL, e.g. `https://10.100.0.1:443`. */
  readonly url: string;
  /** File holding the bearer token (re-read every `tokenTtlMs`). */
  readonly tokenFile: string;
  /** PEM file of the CA the API server's certificate chains to; undefined: the system CAs. */
  readonly caFile?: string;
  /** Per-request timeout, ms. Default: 10000. */
  readonly timeoutMs?: number;
  /** How long a token read from the file is used. Default: 60000. */
  readonly tokenTtlMs?: number;
}

export interface KubeAnswer {
  /** HTTP status; 0 when no answer came (network error, timeout). */
  readonly status: number;
  /** The Status `reason` of a failure (`AlreadyExists`, `Forbidden`, `Invalid`, ...), else ''. */
  readonly reason: string;
  /** The Status `message` of a failure, or the transport error; '' on success. */
  readonly message: string;
  /** `metadata.uid` of the created object; '' otherwise. */
  readonly uid: string;
}

export class KubeClient {
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly ca?: Buffer;
  private token?: { value: string; readAt: number };

  constructor(private readonly props: KubeClientProps) {
    if (!/^https?:\/\/[^/]+/.test(props.url)) throw new Error(`KUBE_API_URL must be an http(s) URL (got "${props.url}")`);
    this.base = props.url.replace(/\/+$/, '');
    this.timeoutMs = props.timeoutMs ?? 10_000;
    this.ca = props.caFile ? readFileSync(props.caFile) : undefined;
    this.readToken();
  }

  /** Creates `workflow` (a Workflow object) in `namespace`. Never throws: failures are answers. */
  async createWorkflow(namespace: string, workflow: Record<string, unknown>): Promise<KubeAnswer> {
    const path = `/apis/argoproj.io/v1alpha1/namespaces/${encodeURIComponent(namespace)}/workflows`;
    try {
      const { status, text } = await this.send('POST', path, JSON.stringify(workflow));
      let parsed: { reason?: unknown; message?: unknown; metadata?: { uid?: unknown } } = {};
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        // a proxy's HTML error page: keep the text
      }
      const ok = status >= 200 && status < 300;
      return {
        status,
        reason: !ok && typeof parsed.reason === 'string' ? parsed.reason : '',
        message: ok ? '' : typeof parsed.message === 'string' ? parsed.message : text.slice(0, 500),
        uid: ok && typeof parsed.metadata?.uid === 'string' ? parsed.metadata.uid : '',
      };
    } catch (err) {
      return { status: 0, reason: '', message: err instanceof Error ? `${err.name}: ${err.message}` : String(err), uid: '' };
    }
  }

  private readToken(): string {
    const now = Date.now();
    if (!this.token || now - this.token.readAt > (this.props.tokenTtlMs ?? 60_000)) {
      const value = readFileSync(this.props.tokenFile, 'utf8').trim();
      if (!value) throw new Error(`the service account token file ${this.props.tokenFile} is empty`);
      this.token = { value, readAt: now };
    }
    return this.token.value;
  }

  private send(method: string, path: string, body: string): Promise<JsonAnswer> {
    return sendJson(new URL(`${this.base}${path}`), {
      method, body, token: this.readToken(), timeoutMs: this.timeoutMs,
      headers: { accept: 'application/json' },
      tls: this.ca ? { ca: this.ca } : undefined,
    });
  }
}
