/**
 * The state service's read API (README "Ask questions"), with the reader token. Shapes are
 * the service's own (state/store.ts), imported as types so the CLI cannot drift from them.
 */
import type { HistoryEntry, PayloadView, RunPage, RunView } from '../state/store';
import { type Deployment, ENV, need, needSecret } from './config';
import { CliError } from './io';
import { failOn, parseJson, send } from './http';

export type { HistoryEntry, PayloadView, RunPage, RunView };
export type RunWithHistory = RunView & { history: HistoryEntry[] };

export interface RunQuery {
  readonly workflow?: string;
  readonly collection?: string;
  readonly payloadId?: string;
  readonly state?: string;
  readonly since?: string;
  readonly until?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

export class StateClient {
  private readonly url: string;
  private readonly token: string;

  constructor(
    private readonly deployment: Deployment,
    private readonly signal?: AbortSignal,
  ) {
    this.url = need(deployment.state.url, deployment, 'state.url', ENV.stateUrl).replace(/\/+$/, '');
    this.token = needSecret(deployment.state.readToken, deployment, 'state.readToken', ENV.stateReadToken);
  }

  /** GET a path; undefined on 404 when `missing` is given (an unknown id is the caller's error to word). */
  private async get<T>(path: string, missing?: 'undefined'): Promise<T | undefined> {
    const url = `${this.url}${path}`;
    const r = { what: 'state service', tokenHint: `state.readToken of deployment "${this.deployment.name}" or ${ENV.stateReadToken}`, signal: this.signal };
    const answer = await send(url, { ...r, headers: { authorization: `Bearer ${this.token}` } });
    if (answer.status === 404 && missing) {
      // A 404 from the service itself (JSON with field) is an unknown id; anything else is a wrong URL.
      const body = (() => { try { return JSON.parse(answer.text) as { field?: string }; } catch { return {}; } })();
      if (body.field && body.field !== 'path') return undefined;
    }
    failOn(answer, url, r);
    return parseJson<T>(answer, url, 'state service');
  }

  /** A payload by cirrus id or hash, with its runs and history; a one-line error when unknown. */
  async payload(id: string): Promise<PayloadView> {
    const found = await this.get<PayloadView>(`/payloads/${id.split('/').map(encodeURIComponent).join('/')}`, 'undefined');
    if (!found) throw new CliError(`payload "${id}": unknown to the state service of deployment "${this.deployment.name}"; give a cirrus payload id or its hash (\`swoop runs list\` shows them)`);
    return found;
  }

  /** A payload, or undefined when the service has no record of it yet. */
  async payloadIfKnown(id: string): Promise<PayloadView | undefined> {
    return this.get<PayloadView>(`/payloads/${id.split('/').map(encodeURIComponent).join('/')}`, 'undefined');
  }

  async run(name: string): Promise<RunWithHistory> {
    const found = await this.runIfKnown(name);
    if (!found) throw new CliError(`run "${name}": unknown to the state service of deployment "${this.deployment.name}"; \`swoop runs list\` shows run names`);
    return found;
  }

  async runIfKnown(name: string): Promise<RunWithHistory | undefined> {
    return this.get<RunWithHistory>(`/runs/${encodeURIComponent(name)}`, 'undefined');
  }

  async runs(q: RunQuery): Promise<RunPage> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') params.set(k, String(v));
    const query = params.toString();
    return (await this.get<RunPage>(`/runs${query ? `?${query}` : ''}`))!;
  }

  /** Every run the query selects, following `next`, at most `max`. */
  async *allRuns(q: RunQuery, max = Infinity, pageSize = 1000): AsyncGenerator<RunView> {
    let cursor: string | undefined;
    let n = 0;
    do {
      const page = await this.runs({ ...q, limit: Math.min(pageSize, Math.max(1, max - n)), cursor });
      for (const run of page.runs) {
        if (n++ >= max) return;
        yield run;
      }
      cursor = page.next ?? undefined;
    } while (cursor && n < max);
  }
}

/** The final states: a run in one of them will not change (docs/state.md). */
export const FINAL_STATES = ['SUCCESSFUL', 'FAILED', 'CANCELED', 'TIMED_OUT', 'INVALID'] as const;
export const isFinal = (state: string) => (FINAL_STATES as readonly string[]).includes(state);
