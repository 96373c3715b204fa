/**
 * The one Argo Server API call the state service makes: `PUT /api/v1/workflows/{ns}/{name}/set`
 * (WorkflowService_SetWorkflow, the body is io.argoproj.workflow.v1alpha1.WorkflowSetRequest),
 * which completes a suspended node with a phase, a message and output parameters
 * (workflow/util/util.go updateSuspendedNode). It needs a token of a Kubernetes identity that
 * may get and update Workflows in the namespace (the server runs in `client` auth mode).
 * node:http(s) rather than fetch, so a server with a self-signed certificate (Argo's default)
 * is verified against a CA bundle (`ca`, ARGO_CA_FILE), or, as the Argo CLI's
 * ARGO_INSECURE_SKIP_VERIFY does, not verified (`insecureSkipVerify`).
 */
import { rootCertificates } from 'node:tls';
import { sendJson, type JsonAnswer } from './json-request';

export interface ArgoClientProps {
  /** Base URL of the Argo Server, e.g. `https://argo-workflows-server.argo.svc.cluster.local:2746`. */
  readonly url: string;
  /** Bearer token sent as `Authorization: Bearer <token>`. */
  readonly token: string;
  /** Per-request timeout, ms. Default: 10000. */
  readonly timeoutMs?: number;
  /** Accept any TLS certificate (ARGO_INSECURE_SKIP_VERIFY). Default: false. */
  readonly insecureSkipVerify?: boolean;
  /** PEM bundle trusted besides the public roots (ARGO_CA_FILE): how to verify a self-signed server. Default: none. */
  readonly ca?: string;
}

/** WorkflowSetRequest, as the swagger names its fields. */
export interface WorkflowSetRequest {
  readonly namespace: string;
  readonly name: string;
  readonly nodeFieldSelector: string;
  readonly phase: 'Succeeded' | 'Failed';
  readonly message?: string;
  /** A JSON object of strings, as text: the server unmarshals it into map[string]string. */
  readonly outputParameters?: string;
}

export interface ArgoAnswer {
  /** HTTP status; 0 when no answer came (network error, timeout). */
  readonly status: number;
  /** The server's error message, or the transport error. */
  readonly message: string;
}

export class ArgoClient {
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(private readonly props: ArgoClientProps) {
    if (!/^https?:\/\//.test(props.url)) throw new Error(`ARGO_SERVER_URL must be an http(s) URL (got "${props.url}")`);
    if (!props.token) throw new Error('ARGO_TOKEN is empty: the Argo Server needs a bearer token (Secret, see docs/callbacks.md)');
    this.base = props.url.replace(/\/+$/, '');
    this.timeoutMs = props.timeoutMs ?? 10_000;
  }

  async setNode(request: WorkflowSetRequest): Promise<ArgoAnswer> {
    const path = `/api/v1/workflows/${encodeURIComponent(request.namespace)}/${encodeURIComponent(request.name)}/set`;
    try {
      const { status, text } = await this.send('PUT', path, JSON.stringify(request));
      const ok = status >= 200 && status < 300;
      let message = text.slice(0, 500);
      try {
        // grpc-gateway errors: {"code": <grpc code>, "message": "..."}
        const parsed = JSON.parse(text) as { message?: unknown };
        if (!ok && typeof parsed.message === 'string') message = parsed.message;
      } catch {
        // not JSON: keep the text
      }
      return { status, message: ok ? '' : message };
    } catch (err) {
      return { status: 0, message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
    }
  }

  private send(method: string, path: string, body: string): Promise<JsonAnswer> {
    const tls = {
      ...(this.props.insecureSkipVerify ? { rejectUnauthorized: false } : {}),
      ...(this.props.ca ? { ca: [...rootCertificates, this.props.ca] } : {}),
    };
    return sendJson(new URL(`${this.base}${path}`), { method, body, token: this.props.token, timeoutMs: this.timeoutMs, tls });
  }
}
