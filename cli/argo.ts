/**
 * The Argo Server API calls `swoop logs` makes (server-api.swagger.json): GET a Workflow
 * (WorkflowService_GetWorkflow) to find a step's nodes, and GET its logs
 * (WorkflowService_WorkflowLogs), a stream of `{"result": LogEntry}` lines. node:http(s)
 * rather than fetch, so Argo's default self-signed certificate can be accepted when the
 * deployment says `insecureSkipVerify`, as the Argo CLI's ARGO_INSECURE_SKIP_VERIFY does.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createInterface } from 'node:readline';
import { type Deployment, ENV, need, needSecret } from './config';
import { CliError } from './io';
import { errorText, origin } from './http';

export interface ArgoNode {
  readonly id: string;
  readonly name: string;
  readonly displayName: string;
  readonly type: string;
  readonly phase?: string;
  readonly message?: string;
  readonly templateName?: string;
  readonly templateRef?: { readonly name?: string; readonly template?: string };
  readonly children?: readonly string[];
}

export interface ArgoWorkflow {
  readonly metadata: { readonly name: string; readonly annotations?: Record<string, string> };
  readonly status?: { readonly phase?: string; readonly nodes?: Record<string, ArgoNode> };
}

export interface LogLine {
  readonly podName: string;
  readonly content: string;
}

/** 32-bit FNV-1a, the hash Argo puts in pod names (Go's hash/fnv New32a). */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The pod of a node, as Argo names it (workflow/util pod names): format v1 is the node id;
 * v2 (the default, or annotation workflows.argoproj.io/pod-name-format) is
 * `<workflow>-<template>-<fnv32a(node name)>`, the prefix cut to fit 253 characters.
 */
export function podNameOf(wf: ArgoWorkflow, node: ArgoNode): string {
  if (wf.metadata.annotations?.['workflows.argoproj.io/pod-name-format'] === 'v1') return node.id;
  const name = wf.metadata.name;
  if (node.name === name) return name;
  const template = node.templateName || node.templateRef?.template || '';
  const prefix = (template ? `${name}-${template}` : name).slice(0, 253 - 10 - 1);
  return `${prefix}-${fnv1a32(node.name)}`;
}

/** The (pod, container) pairs of a step: its Pod nodes (fan-outs have several), or its container inside a containerSet pod. */
export function stepPods(wf: ArgoWorkflow, step: string): { pod: string; container: string; node: ArgoNode }[] {
  const nodes = Object.values(wf.status?.nodes ?? {});
  const matches = nodes.filter((n) => n.displayName === step || n.displayName.startsWith(`${step}(`));
  // Nodes with logs: the matches themselves, or (for retry and fan-out group nodes) their Pod descendants.
  const chosen = new Set<string>();
  for (const n of matches) {
    const stack = [n.id];
    while (stack.length) {
      const x = wf.status?.nodes?.[stack.pop()!];
      if (!x) continue;
      if (x.type === 'Pod' || x.type === 'Container') chosen.add(x.id);
      else stack.push(...(x.children ?? []));
    }
  }
  const pods: { pod: string; container: string; node: ArgoNode }[] = [];
  for (const n of nodes) {
    if (!chosen.has(n.id)) continue;
    if (n.type === 'Pod') pods.push({ pod: podNameOf(wf, n), container: 'main', node: n });
    else {
      // A step of a containerSet group: its own container in the group's pod.
      const parent = nodes.find((p) => p.type === 'Pod' && p.children?.includes(n.id));
      if (parent) pods.push({ pod: podNameOf(wf, parent), container: n.displayName, node: n });
    }
  }
  return pods;
}

export class ArgoClient {
  private readonly url: string;
  private readonly token: string;
  readonly namespace: string;

  constructor(
    private readonly deployment: Deployment,
    private readonly signal?: AbortSignal,
  ) {
    this.url = need(deployment.argo.url, deployment, 'argo.url', ENV.argoUrl).replace(/\/+$/, '');
    this.token = needSecret(deployment.argo.token, deployment, 'argo.token', ENV.argoToken);
    this.namespace = deployment.argo.namespace;
  }

  private open(path: string): Promise<IncomingMessage> {
    const url = new URL(`${this.url}${path}`);
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(url, {
        method: 'GET',
        headers: { authorization: `Bearer ${this.token}`, accept: 'application/json' },
        ...(url.protocol === 'https:' ? { rejectUnauthorized: !this.deployment.argo.insecureSkipVerify } : {}),
        signal: this.signal,
        timeout: 30_000,
      }, resolve);
      req.on('timeout', () => req.destroy(new Error('no answer in 30 s')));
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (this.signal?.aborted) return reject(new CliError('interrupted', 130));
        const tls = /certificate|self.signed/i.test(e.message) ? '; set argo.insecureSkipVerify: true for a self-signed certificate' : '';
        reject(new CliError(`Argo Server at ${origin(this.url)} is unreachable (${e.code ?? e.message})${tls || '; check argo.url and that it is reachable (port-forward?)'}`));
      });
      req.end();
    });
  }

  private async fail(res: IncomingMessage, what: string): Promise<never> {
    let text = '';
    for await (const c of res) text += c;
    if (res.statusCode === 401 || res.statusCode === 403) {
      throw new CliError(`Argo Server at ${origin(this.url)} refused the token (${res.statusCode}); check argo.token of deployment "${this.deployment.name}" or ${ENV.argoToken}`);
    }
    if (res.statusCode === 404) throw new CliError(`${what}: not found in namespace ${this.namespace} of the Argo Server (a wrong namespace, or the workflow was garbage-collected)`);
    throw new CliError(`Argo Server at ${origin(this.url)} answered ${res.statusCode}: ${errorText(text)}`);
  }

  async workflow(name: string): Promise<ArgoWorkflow> {
    const res = await this.open(`/api/v1/workflows/${encodeURIComponent(this.namespace)}/${encodeURIComponent(name)}`);
    if (res.statusCode !== 200) return this.fail(res, `workflow "${name}"`);
    let text = '';
    for await (const c of res) text += c;
    try {
      return JSON.parse(text) as ArgoWorkflow;
    } catch {
      throw new CliError(`Argo Server at ${origin(this.url)} answered something that is not JSON; is argo.url the Argo Server's?`);
    }
  }

  /** The workflow's log lines (WorkflowLogs), of one pod and container or of all pods' `main`. */
  async *logs(name: string, o: { podName?: string; container?: string; grep?: string } = {}): AsyncGenerator<LogLine> {
    const q = new URLSearchParams();
    if (o.podName) q.set('podName', o.podName);
    q.set('logOptions.container', o.container ?? 'main');
    if (o.grep) q.set('grep', o.grep);
    const res = await this.open(`/api/v1/workflows/${encodeURIComponent(this.namespace)}/${encodeURIComponent(name)}/log?${q}`);
    if (res.statusCode !== 200) await this.fail(res, `workflow "${name}"`);
    for await (const line of createInterface({ input: res, crlfDelay: Infinity })) {
      if (line.trim() === '') continue;
      let entry: { result?: { content?: string; podName?: string }; error?: { message?: string } };
      try {
        entry = JSON.parse(line);
      } catch {
        throw new CliError(`Argo Server at ${origin(this.url)} streamed a line that is not JSON; is argo.url the Argo Server's?`);
      }
      if (entry.error) throw new CliError(`Argo Server at ${origin(this.url)}: the log stream failed: ${entry.error.message ?? JSON.stringify(entry.error)}`);
      if (entry.result) yield { podName: entry.result.podName ?? '', content: entry.result.content ?? '' };
    }
  }
}
