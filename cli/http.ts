/**
 * HTTP for the CLI: every failure becomes one line naming what to fix (an unreachable URL,
 * a refused token, an unknown id, what the service said), never a stack trace.
 */
import { CliError } from './io';

export interface HttpAnswer {
  readonly status: number;
  readonly text: string;
  readonly headers: Headers;
}

export interface Request {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** what is being called, for errors: `state service`, `ingress webhook`, `Argo Server` */
  readonly what: string;
  /** the config key or variable holding the token, named when it is refused */
  readonly tokenHint?: string;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/** fetch, with a network failure turned into "<what> at <url> is unreachable (<cause>)". */
export async function send(url: string, r: Request): Promise<HttpAnswer> {
  const timeout = AbortSignal.timeout(r.timeoutMs ?? 30_000);
  const signal = r.signal ? AbortSignal.any([r.signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await fetch(url, { method: r.method ?? 'GET', headers: r.headers, body: r.body, signal });
  } catch (e) {
    if (r.signal?.aborted) throw new CliError('interrupted', 130);
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = timeout.aborted ? `no answer in ${(r.timeoutMs ?? 30_000) / 1000} s` : cause?.code ?? cause?.message ?? (e as Error).message;
    throw new CliError(`${r.what} at ${origin(url)} is unreachable (${why}); check its URL and that it is reachable (port-forward?)`);
  }
  return { status: res.status, text: await res.text(), headers: res.headers };
}

export function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/** The message of an error body: the state service's `{error, field, message}`, OGC's `detail`, grpc-gateway's `message`. */
export function errorText(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown; detail?: unknown; field?: unknown };
    const message = typeof body.message === 'string' ? body.message : typeof body.detail === 'string' ? body.detail : undefined;
    if (message) return typeof body.field === 'string' && !message.includes(body.field) ? `${body.field}: ${message}` : message;
  } catch {
    // not JSON
  }
  return text.trim().split('\n')[0]!.slice(0, 300) || '(empty body)';
}

/** Throws the one-line error an answer that is not 2xx deserves. */
export function failOn(answer: HttpAnswer, url: string, r: Request): void {
  if (answer.status >= 200 && answer.status < 300) return;
  const where = `${r.what} at ${origin(url)}`;
  if (answer.status === 401 || answer.status === 403) {
    throw new CliError(`${where} refused the token (${answer.status})${r.tokenHint ? `; check ${r.tokenHint}` : ''}`);
  }
  throw new CliError(`${where} answered ${answer.status}: ${errorText(answer.text)}`);
}

export function parseJson<T>(answer: HttpAnswer, url: string, what: string): T {
  try {
    return JSON.parse(answer.text) as T;
  } catch {
    throw new CliError(`${what} at ${origin(url)} answered something that is not JSON; is the URL the ${what}'s?`);
  }
}
