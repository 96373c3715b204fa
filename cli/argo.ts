/**
 * The Argo Server API calls `swoop logs` makes (server-api.swagger.json): GET a Workflow
 * (WorkflowService_GetWorkflow) to find a step's nodes, and GET its logs
 * (WorkflowService_WorkflowLogs), a stream of `{"result": LogEntry}` lines. A workflow no
 * longer in the cluster is looked up in the workflow archive as the Argo UI does
 * (ArchivedWorkflowService_ListArchivedWorkflows by name, then _GetArchivedWorkflow by uid)
 * and its logs read from the artifact repository (ArtifactService_GetArtifactFile:
 * `/artifact-files/{ns}/archived-workflows/{uid}/{nodeId}/outputs/{container}-logs`, the
 * artifacts `archiveLogs` saves). A live workflow whose pods podGC removed streams nothing for
 * them (util/logs WorkflowLogs lists the workflow's pods and streams those it finds: a deleted
 * pod is no error, only no lines), so their logs are read from the live workflow's artifacts:
 * `/artifact-files/{ns}/workflows/{name}/...` (the swagger's enum spells it `workflow`; the
 * server's GetArtifactFile and the UI's artifactPath use `workflows`). node:http(s)
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
  /** `<container>-logs` artifacts are the container's archived logs */
  readonly outputs?: { readonly artifacts?: readonly { readonly name: string }[] };
}

export interface ArgoWorkflow {
  readonly metadata: { readonly name: string; readonly uid?: string; readonly creationTimestamp?: string; readonly annotations?: Record<string, string> };
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

/** Where a step's logs are: its pod and container, the step's node and the Pod node (whose outputs hold archived logs). */
export interface LogTarget {
  readonly pod: string;
  readonly container: string;
  readonly node: ArgoNode;
  readonly podNode: ArgoNode;
}

/** The (pod, container) pairs of a step: its Pod nodes (fan-outs have several), or its container inside a containerSet pod. */
export function stepPods(wf: ArgoWorkflow, step: string): LogTarget[] {
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
  return logTargets(wf, (n) => chosen.has(n.id));
}

/** Every Pod and Container node `wanted` picks, as log targets. */
export function logTargets(wf: ArgoWorkflow, wanted: (n: ArgoNode) => boolean = () => true): LogTarget[] {
  const nodes = Object.values(wf.status?.nodes ?? {});
  const pods: LogTarget[] = [];
  for (const n of nodes) {
    if (!wanted(n)) continue;
    if (n.type === 'Pod') pods.push({ pod: podNameOf(wf, n), container: 'main', node: n, podNode: n });
    else if (n.type === 'Container') {
      // A step of a containerSet group: its own container in the group's pod.
      const parent = nodes.find((p) => p.type === 'Pod' && p.children?.includes(n.id));
      if (parent) pods.push({ pod: podNameOf(wf, parent), container: n.displayName, node: n, podNode: parent });
    }
  }
  return pods;
}

/** Whether the controller archived this target's logs (an output artifact `<container>-logs` of its pod's node). */
export const hasArchivedLogs = (t: LogTarget): boolean => (t.podNode.outputs?.artifacts ?? []).some((a) => a.name === `${t.container}-logs`);

/** Phases after which a node's pod is done (and podGC may delete it). */
const FINISHED = new Set(['Succeeded', 'Failed', 'Error', 'Skipped', 'Omitted']);
export const finished = (n: ArgoNode): boolean => FINISHED.has(n.phase ?? '');

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

  private async json<T>(path: string, what: string): Promise<T | undefined> {
    const res = await this.open(path);
    if (res.statusCode === 404) {
      res.resume();
      return undefined;
    }
    if (res.statusCode !== 200) return this.fail(res, what);
    let text = '';
    for await (const c of res) text += c;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(`Argo Server at ${origin(this.url)} answered something that is not JSON; is argo.url the Argo Server's?`);
    }
  }

  /** The live Workflow; undefined when the cluster no longer (or never) had it. */
  async liveWorkflow(name: string): Promise<ArgoWorkflow | undefined> {
    return this.json<ArgoWorkflow>(`/api/v1/workflows/${encodeURIComponent(this.namespace)}/${encodeURIComponent(name)}`, `workflow "${name}"`);
  }

  async workflow(name: string): Promise<ArgoWorkflow> {
    const wf = await this.liveWorkflow(name);
    if (!wf) throw new CliError(`workflow "${name}": not found in namespace ${this.namespace} of the Argo Server (a wrong namespace, or the workflow was garbage-collected)`);
    return wf;
  }

  /**
   * The newest archived Workflow of that name (its nodes included); undefined when the archive
   * has none. The list names it exactly (field selector metadata.name, as the server's
   * BuildListOptions reads it) and carries no nodes, so the one found is read again by uid.
   */
  async archivedWorkflow(name: string): Promise<ArgoWorkflow | undefined> {
    const q = new URLSearchParams({ namespace: this.namespace, 'listOptions.fieldSelector': `metadata.name=${name}`, nameFilter: 'Exact' });
    const list = await this.json<{ items?: ArgoWorkflow[] | null }>(`/api/v1/archived-workflows?${q}`, 'the workflow archive');
    const newest = (list?.items ?? [])
      .filter((w) => w.metadata.name === name && w.metadata.uid)
      .sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''))[0];
    if (!newest) return undefined;
    return this.json<ArgoWorkflow>(`/api/v1/archived-workflows/${encodeURIComponent(newest.metadata.uid!)}?${new URLSearchParams({ namespace: this.namespace })}`, `archived workflow "${name}"`);
  }

  /**
   * The archived logs of one container (its pod node's `<container>-logs` artifact), as lines;
   * undefined when the artifact is gone. An archived workflow is addressed by uid, a live one
   * by name, as GetArtifactFile reads them.
   */
  async archivedLogs(wf: ArgoWorkflow, target: LogTarget, from: 'archive' | 'live' = 'archive'): Promise<string[] | undefined> {
    const [kind, id] = from === 'archive' ? ['archived-workflows', wf.metadata.uid ?? ''] : ['workflows', wf.metadata.name];
    const path = ['artifact-files', this.namespace, kind, id, target.podNode.id, 'outputs', `${target.container}-logs`].map(encodeURIComponent).join('/');
    const res = await this.open(`/${path}`);
    if (res.statusCode === 404) {
      res.resume();
      return undefined;
    }
    if (res.statusCode !== 200) return this.fail(res, `the archived logs of ${target.node.displayName}`);
    let text = '';
    for await (const c of res) text += c;
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    return lines;
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
