/**
 * A loopback Kubernetes API server for the one call the state service makes: `POST
 * /apis/argoproj.io/v1alpha1/namespaces/{namespace}/workflows`. As the API server does, it
 * checks the bearer token, the content type, that the object's namespace matches the path's,
 * that a name is given, answers 409 with a `Status` of reason AlreadyExists when the name is
 * taken, and 201 with the stored object (uid, creationTimestamp, resourceVersion added).
 * Stricter than the API server (whose Workflow CRD preserves unknown fields): every body is
 * validated against the upstream Argo Workflows schema with unknown fields refused
 * (test/support/schema.ts), answered 422 Invalid and kept in `invalid`, so tests assert that
 * list is empty. `failNext` and `delayMs` make it fail or slow, as an API server under load or
 * restarting does.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { argoWorkflowsSchema } from './schema';

type Doc = Record<string, any>;

export interface KubeRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly name?: string;
}

const PATH = /^\/apis\/argoproj\.io\/v1alpha1\/namespaces\/([a-z0-9-]+)\/workflows$/;

function status(code: number, reason: string, message: string, details: Doc = {}): Doc {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code };
}

export class FakeKubeApi {
  /** Created Workflows by `<namespace>/<name>`, in creation order. */
  public readonly workflows = new Map<string, Doc>();
  public readonly requests: KubeRequest[] = [];
  /** Bodies that failed the upstream schema (answered 422). */
  public readonly invalid: { body: unknown; problems: string[] }[] = [];
  /** Wait this long before answering each request. */
  public delayMs = 0;
  private failures: { status: number; reason: string }[] = [];
  private server?: Server;
  private base = '';

  constructor(private readonly token: string) {}

  get url(): string {
    return this.base;
  }

  /** The next `count` creates fail with `status` (before anything is stored); 0 drops the connection. */
  failNext(count: number, code = 503, reason = 'ServiceUnavailable'): void {
    for (let i = 0; i < count; i++) this.failures.push({ status: code, reason });
  }

  /** Removes a Workflow, as the controller's TTL / garbage collection does after a run. */
  collect(namespace: string, name: string): boolean {
    return this.workflows.delete(`${namespace}/${name}`);
  }

  async start(): Promise<void> {
    // Compiling the upstream schema takes seconds: once here, not inside a request's timeout.
    argoWorkflowsSchema().validate({ kind: 'Workflow' });
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = (req.url ?? '').split('?')[0]!;
        const answer = (code: number, body: Doc, name?: string) => {
          this.requests.push({ method: req.method ?? '', path, status: code, name });
          const send = () => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
          if (this.delayMs > 0) setTimeout(send, this.delayMs);
          else send();
        };
        if (req.headers.authorization !== `Bearer ${this.token}`) return answer(401, status(401, 'Unauthorized', 'Unauthorized'));
        const match = PATH.exec(path);
        if (!match) return answer(404, status(404, 'NotFound', `the server could not find the requested resource (${req.method} ${path})`));
        if (req.method !== 'POST') return answer(405, status(405, 'MethodNotAllowed', `${req.method} is not supported`));
        if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
          return answer(415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format: ${req.headers['content-type']}`));
        }
        const failure = this.failures.shift();
        if (failure?.status === 0) {
          this.requests.push({ method: req.method ?? '', path, status: 0 });
          return req.socket.destroy();
        }
        if (failure) return answer(failure.status, status(failure.status, failure.reason, 'injected failure'));
        let body: Doc;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Doc;
        } catch (err) {
          return answer(400, status(400, 'BadRequest', `the body is not JSON: ${(err as Error).message}`));
        }
        const namespace = match[1]!;
        const name = body?.metadata?.name;
        if (body?.metadata?.namespace !== undefined && body.metadata.namespace !== namespace) {
          return answer(400, status(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request'));
        }
        const problems = argoWorkflowsSchema().validate(body);
        if (body?.apiVersion !== 'argoproj.io/v1alpha1') problems.push(`apiVersion is ${body?.apiVersion}`);
        if (typeof name !== 'string' || name === '') problems.push('metadata.name: Required value: name or generateName is required');
        if (problems.length > 0) {
          this.invalid.push({ body, problems });
          return answer(422, status(422, 'Invalid', `Workflow.argoproj.io is invalid: ${problems.join('; ')}`), name);
        }
        const key = `${namespace}/${name}`;
        if (this.workflows.has(key)) {
          return answer(409, status(409, 'AlreadyExists', `workflows.argoproj.io "${name}" already exists`, { name, group: 'argoproj.io', kind: 'workflows' }), name);
        }
        const stored = {
          ...body,
          metadata: { ...body.metadata, namespace, uid: randomUUID(), resourceVersion: String(this.requests.length + 1), creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
        };
        this.workflows.set(key, stored);
        return answer(201, stored, name);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
