/**
 * Retries by error (Step Functions `Retry` with several retriers): rules that match a failed
 * attempt by its declared error name (an exit code), by Argo's failure class or by message,
 * combined into one Argo `retryStrategy`:
 *
 * - `expression` is a chain of `match ? retries < limit : next` over the rules in order, so
 *   the first matching rule decides, as the first matching retrier does in Step Functions;
 *   a failure no rule matches is not retried.
 * - `limit` is the largest rule limit (Argo stops at `limit` before it evaluates the
 *   expression); each rule's own limit is enforced in the expression through `retries`.
 *
 * Argo evaluates the expression over strings (workflow/controller/operator.go
 * buildRetryStrategyLocalScope): `retries`, `lastRetry.exitCode` ("-1" when the attempt has
 * none), `lastRetry.status` ("Failed" or "Error") and `lastRetry.message`; hence `asInt` and
 * quoted exit codes below.
 */
import type { Duration } from 'cdk8s';
import { quote } from './refs';

/**
 * Argo's failure classes: `Failed` the program exited non-zero; `Error` anything Argo marks
 * Error (pod deleted or evicted, spot interruption, image pull, agent errors); `transient`
 * an attempt whose message is one of the network/etcd texts Argo's own `OnTransientError`
 * policy treats as transient (util/errors isTransientNetworkErr, isTransientEtcdErr).
 */
export type ErrorClass = 'Failed' | 'Error' | 'transient';
export const ERROR_CLASSES: readonly ErrorClass[] = ['Failed', 'Error', 'transient'];

/**
 * The message texts Argo's `isTransientErr` recognises by text in a node message (the typed
 * Kubernetes API errors it also recognises never reach a node message as such). The
 * controller's TRANSIENT_ERROR_PATTERN environment variable is not known at synth.
 */
export const TRANSIENT_MESSAGES = [
  'etcdserver: leader changed',
  'etcdserver: request timed out',
  'etcdserver: too many requests',
  'Connection closed by foreign host',
  'net/http: TLS handshake timeout',
  'i/o timeout',
  'connection timed out',
  'connection reset by peer',
  'http2: client connection lost',
  'http2: server sent GOAWAY and closed the connection',
  'connect: connection refused',
  'invalid connection',
] as const;

/** One retry rule: which failed attempts it matches and how many retries it allows. */
export interface RetryRule {
  /**
   * Error names the task declares in `errors`, or failure classes (`Failed`, `Error`,
   * `transient`); any of them matches. @default any failure
   */
  readonly on?: readonly string[];
  /** Exit codes that match, besides those named in `on`. @default none (only `on` decides) */
  readonly exitCodes?: readonly number[];
  /** The attempt's message must contain this text (a string) or match this pattern (RE2; flag `i` only). @default any message */
  readonly message?: string | RegExp;
  /** Retries this rule allows, counted over all retries of the step. */
  readonly limit: number;
}

/** Backoff between attempts (one per task: Argo has one backoff per retryStrategy). */
export interface RetryBackoff {
  /** Wait before the first retry. */
  readonly delay: Duration;
  /** Multiplier after each retry (a whole number: Argo reads it as an int32). @default 2 */
  readonly factor?: number;
  /** Longest single wait (Step Functions `MaxDelaySeconds`; Argo `backoff.cap`). @default no cap */
  readonly cap?: Duration;
  /** Give up retrying once this long has passed since the first attempt started. @default no budget */
  readonly maxDuration?: Duration;
}

/** Declared error names of a task: name -> exit code, e.g. `{ throttled: 75 }`. */
export type ErrorNames = Readonly<Record<string, number>>;

/** Argo's expression over `lastRetry` that a rule matches. */
export function ruleMatch(rule: RetryRule, errors: ErrorNames): string {
  const codes = new Set<number>(rule.exitCodes ?? []);
  const alternatives: string[] = [];
  for (const name of rule.on ?? []) {
    if (name in errors) codes.add(errors[name]);
    else if (name === 'Failed' || name === 'Error') alternatives.push(`lastRetry.status == ${quote(name)}`);
    else if (name === 'transient') alternatives.push(`lastRetry.message matches ${quote(TRANSIENT_MESSAGES.map(escapeRegExp).join('|'))}`);
  }
  if (codes.size) alternatives.unshift(`lastRetry.exitCode in [${[...codes].sort((a, b) => a - b).map((c) => quote(String(c))).join(', ')}]`);
  const message = rule.message === undefined ? undefined : messageMatch(rule.message);
  if (!alternatives.length) return message ?? 'true';
  const any = alternatives.join(' || ');
  if (message === undefined) return any;
  return `${alternatives.length > 1 ? `(${any})` : any} && ${message}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function messageMatch(message: string | RegExp): string {
  if (typeof message === 'string') return `lastRetry.message contains ${quote(message)}`;
  const flags = message.flags.includes('i') ? '(?i)' : '';
  return `lastRetry.message matches ${quote(flags + message.source)}`;
}

/** The `expression` of a retryStrategy for `rules`: the first matching rule decides. */
export function rulesExpression(rules: readonly RetryRule[], errors: ErrorNames): string {
  return rules.reduceRight<string>((otherwise, rule) => {
    const match = ruleMatch(rule, errors);
    const allow = `asInt(retries) < ${rule.limit}`;
    if (match === 'true') return allow;
    if (otherwise === 'false') return `(${match}) && ${allow}`;
    return `(${match}) ? ${allow} : ${otherwise.includes('?') ? `(${otherwise})` : otherwise}`;
  }, 'false');
}

/** Problems of a rule set, one line each, naming the rule (1-based) and what to do. */
export function rulesProblems(rules: readonly RetryRule[], errors: ErrorNames, opts: { exitCodes: boolean }): string[] {
  const problems: string[] = [];
  const declared = Object.keys(errors);
  rules.forEach((rule, i) => {
    const where = `retry rule ${i + 1}`;
    if (!Number.isInteger(rule.limit) || rule.limit < 0) problems.push(`${where}: limit must be a whole number >= 0; got ${rule.limit}`);
    for (const name of rule.on ?? []) {
      if ((ERROR_CLASSES as readonly string[]).includes(name)) continue;
      if (!(name in errors)) {
        problems.push(
          `${where} names error "${name}", which the task does not declare (declared: ${declared.join(', ') || 'none'}; classes: ${ERROR_CLASSES.join(', ')}); ` +
            'declare it in the task\'s errors or fix the name',
        );
      } else if (!opts.exitCodes) {
        problems.push(`${where} names error "${name}", an exit code, but an HTTP step has none; match a class or a message instead`);
      }
    }
    if (!opts.exitCodes && rule.exitCodes?.length) problems.push(`${where} matches exit codes, but an HTTP step has none; match a class or a message instead`);
    for (const code of rule.exitCodes ?? []) {
      if (!Number.isInteger(code) || code < 1 || code > 255) problems.push(`${where}: exit code ${code} is not 1-255; a failed container exits with 1-255`);
    }
    if (rule.message instanceof RegExp) {
      const problem = re2Problem(rule.message);
      if (problem) problems.push(`${where}: message pattern /${rule.message.source}/ ${problem}`);
    } else if (rule.message === '') problems.push(`${where}: message is empty, which matches everything; drop it`);
  });
  rules.forEach((rule, i) => {
    if (i < rules.length - 1 && ruleMatch(rule, errors) === 'true') {
      problems.push(`retry rule ${i + 1} matches every failure, so rules after it never apply; make it the last rule or narrow it`);
    }
  });
  return problems;
}

/** Argo matches with Go's RE2: no lookaround, no back-references, no flags but `i`. */
function re2Problem(re: RegExp): string | undefined {
  if (/\(\?<?[=!]/.test(re.source)) return 'uses a lookaround, which Go regular expressions (RE2) do not support; rewrite it without one';
  if (/\\[1-9]|\\k</.test(re.source)) return 'uses a back-reference, which Go regular expressions (RE2) do not support; rewrite it without one';
  const extra = re.flags.replace('i', '');
  if (extra) return `has flags "${extra}"; only "i" is supported`;
  return undefined;
}

/** Problems of an error declaration. */
export function errorNamesProblems(errors: ErrorNames): string[] {
  const problems: string[] = [];
  for (const [name, code] of Object.entries(errors)) {
    if ((ERROR_CLASSES as readonly string[]).includes(name)) problems.push(`error name "${name}" is a failure class; pick another name`);
    if (!/^[a-z][a-zA-Z0-9_-]*$/.test(name)) problems.push(`error name "${name}" must start with a lower-case letter and hold only letters, digits, "-" and "_"`);
    if (!Number.isInteger(code) || code < 1 || code > 255) problems.push(`error "${name}" has exit code ${code}; a failed container exits with 1-255`);
  }
  const byCode = new Map<number, string>();
  for (const [name, code] of Object.entries(errors)) {
    const other = byCode.get(code);
    if (other !== undefined) problems.push(`errors "${other}" and "${name}" share exit code ${code}; a rule could not tell them apart`);
    else byCode.set(code, name);
  }
  return problems;
}

/** Problems of a backoff: Argo parses `factor` as an int32 and refuses a cap it cannot reach. */
export function backoffProblems(backoff: RetryBackoff | undefined): string[] {
  if (!backoff) return [];
  const problems: string[] = [];
  const factor = backoff.factor ?? 2;
  if (!Number.isInteger(factor) || factor < 1) problems.push(`backoff factor must be a whole number >= 1 (Argo reads it as an integer); got ${factor}`);
  if (backoff.delay.toMilliseconds() < 1000) problems.push('backoff delay must be at least 1 second (Argo renders it in seconds)');
  if (backoff.cap && backoff.cap.toSeconds() < backoff.delay.toSeconds()) problems.push('backoff cap is shorter than its delay, so every wait would be the cap; raise the cap or drop it');
  return problems;
}
