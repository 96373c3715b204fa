/**
 * A loopback Argo Server for the two calls that complete suspended nodes, `PUT
 * /api/v1/workflows/{namespace}/{name}/set` and `.../resume`, holding the workflows'
 * nodes the way the controller stores them. What it does is taken from the Argo source:
 * server/workflow/workflow_server.go SetWorkflow (phase must be Succeeded, Failed, Error or
 * empty; outputParameters is a JSON object of strings) and workflow/util/util.go
 * (updateSuspendedNode, ResumeWorkflow, SelectorMatchesNode: fields displayName,
 * templateName, phase, name, id, inputs.parameters.<name>.value; only active suspend nodes
 * match; no match is an error; an output parameter must be `valueFrom.supplied`).
 * Every request body is validated with ajv against the request definition of the upstream
 * swagger (server-api.swagger.json at SWOOP_REFERENCE_DIR), with unknown fields refused;
 * a request that fails is answered 400 and kept in `invalid`, so tests assert it is empty.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Ajv, { type ValidateFunction } from 'ajv';
import { referencePath } from './reference';

export interface SuspendNode {
  readonly id: string;
  /** status.nodes name, e.g. `<run>.<step>.wait` */
  readonly name: string;
  readonly displayName: string;
  readonly templateName: string;
  type: 'Suspend' | 'Pod' | 'DAG' | 'HTTP';
  phase: 'Running' | 'Succeeded' | 'Failed' | 'Error' | 'Pending';
  message?: string;
  inputs?: { parameters: { name: string; value: string }[] };
  outputs?: { parameters: { name: string; value?: string; valueFrom?: { supplied?: Record<string, never>; default?: string } }[] };
}

export interface FakeWorkflow {
  readonly namespace: string;
  readonly name: string;
  readonly nodes: Map<string, SuspendNode>;
}

export interface ArgoServerRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: unknown;
  readonly status: number;
}

const SWAGGER = 'argo-workflows/server-api.swagger.json';

/** The request-body definition of one swagger operation, by path and method. */
function bodySchemaRef(swagger: any, path: string, method: string): string {
  const op = swagger.paths?.[path]?.[method];
  const body = (op?.parameters ?? []).find((p: any) => p.in === 'body');
  if (!body?.schema?.$ref) throw new Error(`the swagger has no body for ${method.toUpperCase()} ${path}`);
  return body.schema.$ref as string;
}

function closeObjects(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(closeObjects);
  if (!node || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  if (o.properties && o.additionalProperties === undefined) o.additionalProperties = false;
  for (const [k, v] of Object.entries(o)) {
    if (k === 'properties' && v && typeof v === 'object') Object.values(v).forEach(closeObjects);
    else closeObjects(v);
  }
}

/** ajv validators of the set and resume request bodies, from the upstream swagger. */
export function argoRequestValidators(): { set: ValidateFunction; resume: ValidateFunction } {
  const swagger = JSON.parse(readFileSync(referencePath(SWAGGER), 'utf8'));
  const setRef = bodySchemaRef(swagger, '/api/v1/workflows/{namespace}/{name}/set', 'put');
  const resumeRef = bodySchemaRef(swagger, '/api/v1/workflows/{namespace}/{name}/resume', 'put');
  const definitions = structuredClone(swagger.definitions);
  closeObjects(definitions);
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema({ $id: 'argo-server-api', definitions });
  const get = (ref: string) => ajv.getSchema(`argo-server-api${ref}`)!;
  return { set: get(setRef), resume: get(resumeRef) };
}

/** k8s fields.ParseSelector for the forms Argo users write: key=value, key==value, key!=value, comma-separated. */
function parseSelector(selector: string): { key: string; op: '=' | '!='; value: string }[] {
  const terms: string[] = [];
  let current = '';
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i]!;
    if (c === '\\' && i + 1 < selector.length) {
      current += c + selector[++i];
    } else if (c === ',') {
      terms.push(current);
      current = '';
    } else current += c;
  }
  terms.push(current);
  return terms.filter((t) => t.trim() !== '').map((t) => {
    const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(t.trim());
    if (!m) throw new Error(`invalid selector: '${selector}'`);
    return { key: m[1]!.trim(), op: m[2] === '!=' ? '!=' : '=', value: m[3]!.replace(/\\(.)/g, '$1') };
  });
}

function nodeFields(node: SuspendNode): Record<string, string> {
  const f: Record<string, string> = {
    displayName: node.displayName, templateName: node.templateName, phase: node.phase, name: node.name, id: node.id,
  };
  for (const p of node.inputs?.parameters ?? []) f[`inputs.parameters.${p.name}.value`] = p.value;
  return f;
}

function matches(selector: string, node: SuspendNode): boolean {
  const fields = nodeFields(node);
  return parseSelector(selector).every((t) => (t.op === '=' ? fields[t.key] === t.value : fields[t.key] !== t.value));
}

const isActiveSuspend = (n: SuspendNode) => n.type === 'Suspend' && n.phase === 'Running';

export class FakeArgoServer {
  public readonly workflows = new Map<string, FakeWorkflow>();
  public readonly requests: ArgoServerRequest[] = [];
  /** Requests whose body or path failed the swagger: must stay empty. */
  public readonly invalid: { path: string; problems: string[] }[] = [];
  /** Answer the next N requests with this status (an outage), before doing anything. */
  public failNext: { count: number; status: number } = { count: 0, status: 503 };
  private server?: Server;
  private validators = argoRequestValidators();
  public url = '';

  constructor(private readonly token: string) {}

  addWorkflow(namespace: string, name: string, nodes: SuspendNode[] = []): FakeWorkflow {
    const wf = { namespace, name, nodes: new Map(nodes.map((n) => [n.id, n])) };
    this.workflows.set(`${namespace}/${name}`, wf);
    return wf;
  }

  node(namespace: string, workflow: string, name: string): SuspendNode | undefined {
    return [...(this.workflows.get(`${namespace}/${workflow}`)?.nodes.values() ?? [])].find((n) => n.name === name);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c));
      req.on('end', () => {
        const path = (req.url ?? '').split('?')[0]!;
        const reply = (status: number, body: unknown) => {
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // keep the text
          }
          this.requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, body: parsed, status });
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        };
        // grpc-gateway's error body: {"code": <grpc code>, "message": ...}
        const grpcError = (status: number, code: number, message: string) => reply(status, { code, message });
        if (req.headers.authorization !== `Bearer ${this.token}`) return grpcError(401, 16, 'token not valid');
        if (this.failNext.count > 0) {
          this.failNext.count--;
          return grpcError(this.failNext.status, 14, 'the server is unavailable');
        }
        const m = /^\/api\/v1\/workflows\/([^/]+)\/([^/]+)\/(set|resume)$/.exec(path);
        if (!m || req.method !== 'PUT') {
          this.invalid.push({ path, problems: [`${req.method} ${path} is not an operation of the swagger this fake serves`] });
          return grpcError(404, 5, `no route ${req.method} ${path}`);
        }
        let body: any;
        try {
          body = JSON.parse(text);
        } catch {
          this.invalid.push({ path, problems: ['body is not JSON'] });
          return grpcError(400, 3, 'body is not JSON');
        }
        const validate = m[3] === 'set' ? this.validators.set : this.validators.resume;
        if (!validate(structuredClone(body))) {
          this.invalid.push({ path, problems: (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`) });
          return grpcError(400, 3, 'request does not match the swagger');
        }
        const [namespace, name] = [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)];
        if ((body.namespace ?? namespace) !== namespace || (body.name ?? name) !== name) {
          this.invalid.push({ path, problems: [`body names ${body.namespace}/${body.name}, the path ${namespace}/${name}`] });
        }
        const wf = this.workflows.get(`${namespace}/${name}`);
        if (!wf) return grpcError(404, 5, `workflows.argoproj.io "${name}" not found`);
        try {
          if (m[3] === 'set') this.set(wf, body);
          else this.resume(wf, body);
        } catch (e) {
          return grpcError((e as { status?: number }).status ?? 500, (e as { code?: number }).code ?? 13, (e as Error).message);
        }
        return reply(200, { metadata: { name, namespace }, status: { nodes: Object.fromEntries(wf.nodes) } });
      });
    });
    this.server!.keepAliveTimeout = 120_000; // longer than fetch keeps idle connections (see e2e/support/platform.ts)
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** workflow_server.go SetWorkflow + util.go updateSuspendedNode. */
  private set(wf: FakeWorkflow, body: { nodeFieldSelector?: string; phase?: string; message?: string; outputParameters?: string }): void {
    const phase = body.phase ?? '';
    if (!['Succeeded', 'Failed', 'Error', ''].includes(phase)) {
      throw Object.assign(new Error(`${phase} is an invalid phase to set to`), { status: 400, code: 3 });
    }
    let outputs: Record<string, string> = {};
    if (body.outputParameters) {
      try {
        outputs = JSON.parse(body.outputParameters);
      } catch (e) {
        throw Object.assign(new Error(`unable to parse output parameter set request: ${(e as Error).message}`), { status: 400, code: 3 });
      }
      if (typeof outputs !== 'object' || outputs === null || Object.values(outputs).some((v) => typeof v !== 'string')) {
        throw Object.assign(new Error('unable to parse output parameter set request: not a map of strings'), { status: 400, code: 3 });
      }
    }
    const selector = body.nodeFieldSelector ?? '';
    let updated = false;
    const changes: (() => void)[] = [];
    for (const node of wf.nodes.values()) {
      if (!isActiveSuspend(node) || !matches(selector, node)) continue;
      if (phase) {
        changes.push(() => (node.phase = phase as SuspendNode['phase']));
        updated = true;
      }
      if (body.message) {
        changes.push(() => (node.message = body.message));
        updated = true;
      }
      for (const [pname, value] of Object.entries(outputs)) {
        if (!node.outputs) throw new Error('cannot set output parameters because node is not expecting any raw parameters');
        const param = node.outputs.parameters.find((p) => p.name === pname);
        if (!param) throw new Error(`node is not expecting output parameter '${pname}'`);
        if (!param.valueFrom?.supplied) throw new Error(`cannot set output parameter '${pname}' because it does not use valueFrom.raw or it was already set`);
        changes.push(() => {
          param.value = value;
          delete param.valueFrom;
        });
        updated = true;
      }
    }
    if (!updated) throw new Error(`currently, set only targets suspend nodes: no suspend nodes matching nodeFieldSelector: ${selector}`);
    changes.forEach((c) => c());
  }

  /** util.go ResumeWorkflow with a selector: matching active suspend nodes succeed, supplied outputs take their default. */
  private resume(wf: FakeWorkflow, body: { nodeFieldSelector?: string }): void {
    for (const node of wf.nodes.values()) {
      if (!isActiveSuspend(node) || (body.nodeFieldSelector && !matches(body.nodeFieldSelector, node))) continue;
      for (const p of node.outputs?.parameters ?? []) {
        if (p.valueFrom?.supplied) {
          if (p.valueFrom.default === undefined) throw new Error(`raw output parameter '${p.name}' has not been set and does not have a default value`);
          p.value = p.valueFrom.default;
          delete p.valueFrom;
        }
      }
      node.phase = 'Succeeded';
    }
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
