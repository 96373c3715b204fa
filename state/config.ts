/**
 * Service configuration from the environment, checked up front so a misconfigured pod
 * fails at start with the variable's name instead of at its first request.
 */
import { readFileSync } from 'node:fs';
import { SQS_QUEUE_URL } from './sqs-queue-url';
import { randomBytes } from 'node:crypto';
import { METRICS_DEFAULT_PORT } from './metrics';
import { type AlbOidcOptions, type DashboardOptions, dashboardOptionsProblem, parseAlbOidc } from './dashboard/options';
import { type KubeConfig, kubeFromEnv } from './kube-config';
import type { ProcessDescription } from './ogc';
import { payloadStoreProblem, type PayloadReaderOptions } from './payload-reader';

export interface StateServiceConfig {
  /** DATABASE_URL; undefined means embedded PGlite. */
  readonly databaseUrl?: string;
  /** PGLITE_DIR: where PGlite keeps data; undefined means in memory. */
  readonly pgliteDir?: string;
  /** DATABASE_SCHEMA. Default: public. */
  readonly schema?: string;
  /** DATABASE_MAX_CONNECTIONS: pool size on PostgreSQL. Default: 10. */
  readonly maxConnections: number;
  readonly host: string;
  readonly port: number;
  /**
   * METRICS_PORT: where GET /metrics is served, without a token (state/metrics.ts). Default:
   * 9464, or any free port when PORT is 0 (tests, several services on one machine);
   * undefined: any free port.
   */
  readonly metricsPort?: number;
  readonly writerToken: string;
  readonly readerToken: string;
  /** True when tokens were generated because none were configured (PGlite only). */
  readonly generatedTokens: boolean;
  /** LOG_LEVEL for the JSON log (fatal, error, warn, info, debug). Default: info. */
  readonly logLevel: string;
  /** STATE_PUBLIC_URL: absolute base of the links in /jobs; undefined means root-relative links. */
  readonly publicUrl?: string;
  /**
   * STATE_PROCESSES: a JSON list of `{"id", "title", "description"}`, the workflows' OGC
   * process descriptions (the StateService construct synthesizes it from the app's workflows).
   * Default: none (GET /processes lists the workflows seen in runs).
   */
  readonly processes?: readonly ProcessDescription[];
  /** LIFECYCLE_URL; undefined disables forwarding. */
  readonly lifecycleUrl?: string;
  readonly lifecycleToken?: string;
  /**
   * The stuck-run sweeper (docs/state.md), from STUCK_RUN_SWEEP_INTERVAL_SECONDS (default 60;
   * 0 turns it off), STUCK_RUN_GRACE_SECONDS (default 600) and STUCK_RUN_MAX_SILENCE_SECONDS
   * (default 86400). Undefined: no sweeper.
   */
  readonly stuckRuns?: { readonly intervalMs: number; readonly graceMs: number; readonly maxSilenceMs: number };
  /**
   * The Argo Server that wait-for-callback answers resume nodes through (docs/callbacks.md):
   * ARGO_SERVER_URL and ARGO_TOKEN (a bearer token allowed to get and update Workflows).
   * Undefined: wait steps are refused (503) instead of waiting for ever.
   */
  readonly argoServer?: { readonly url: string; readonly token: string; readonly insecureSkipVerify: boolean; readonly ca?: string };
  /** TASK_TOKEN_QUEUES: the SQS queues wait steps may have their task tokens sent to (comma-separated URLs). */
  readonly taskTokenQueues?: readonly string[];
  /** The dashboard's DASHBOARD_ARGO_WORKFLOW_URL, DASHBOARD_SSO_HEADER, DASHBOARD_SSO_PORT, DASHBOARD_ALB_OIDC (DASHBOARD_ALB_KEY_URL) and DASHBOARD_ALB_PORT (state/dashboard/, docs/dashboard.md). */
  readonly dashboard?: DashboardOptions;
  /** The Kubernetes API POST /submit creates Workflows through (state/kube-config.ts). Undefined: /submit answers 503. */
  readonly kube?: KubeConfig;
  /**
   * Where POST /submit reads payloads passed by URL for their projections (state/payload-reader.ts):
   * PAYLOAD_STORE (`s3://bucket/prefix`, the platform ConfigMap's `payload-store`),
   * PAYLOAD_MAX_BYTES (default 16 MiB) and PAYLOAD_READ_TIMEOUT_SECONDS (default 5).
   * Undefined: such submissions answer 503.
   */
  readonly payloads?: PayloadReaderOptions;
}

const port = (raw: string | undefined) => (raw === undefined ? undefined : /^\d+$/.test(raw) ? Number(raw) : Number.NaN);

function dashboard(env: NodeJS.ProcessEnv, taken: readonly number[]): DashboardOptions {
  const rawPort = env.DASHBOARD_SSO_PORT || undefined;
  const ssoPort = port(rawPort);
  const rawAlbPort = env.DASHBOARD_ALB_PORT || undefined;
  const albPort = port(rawAlbPort);
  let albOidc: AlbOidcOptions | undefined;
  if (env.DASHBOARD_ALB_OIDC) {
    const parsed = parseAlbOidc(env.DASHBOARD_ALB_OIDC, 'DASHBOARD_ALB_OIDC');
    if (typeof parsed === 'string') throw new Error(parsed);
    albOidc = { ...parsed, ...(env.DASHBOARD_ALB_KEY_URL ? { keyUrl: env.DASHBOARD_ALB_KEY_URL } : {}) };
  } else if (env.DASHBOARD_ALB_KEY_URL) {
    throw new Error('DASHBOARD_ALB_KEY_URL is set without DASHBOARD_ALB_OIDC; it only moves where that setting\'s keys are read (tests)');
  }
  const options = {
    argoWorkflowUrl: env.DASHBOARD_ARGO_WORKFLOW_URL || undefined,
    ssoHeader: env.DASHBOARD_SSO_HEADER || undefined,
    ...(ssoPort !== undefined ? { ssoPort } : {}),
    ...(albOidc ? { albOidc } : {}),
    ...(albPort !== undefined ? { albPort } : {}),
  };
  const problem = dashboardOptionsProblem(options, { argoWorkflowUrl: 'DASHBOARD_ARGO_WORKFLOW_URL', ssoHeader: 'DASHBOARD_SSO_HEADER', ssoPort: 'DASHBOARD_SSO_PORT', albOidc: 'DASHBOARD_ALB_OIDC', albPort: 'DASHBOARD_ALB_PORT' });
  if (problem !== undefined) {
    throw new Error(problem.replace('DASHBOARD_SSO_PORT must be a port number from 0 to 65535 (got "NaN")', `DASHBOARD_SSO_PORT must be a port number from 0 to 65535 (got "${rawPort}")`)
      .replace('DASHBOARD_ALB_PORT must be a port number from 0 to 65535 (got "NaN")', `DASHBOARD_ALB_PORT must be a port number from 0 to 65535 (got "${rawAlbPort}")`));
  }
  if (ssoPort !== undefined && ssoPort !== 0 && taken.includes(ssoPort)) throw new Error(`DASHBOARD_SSO_PORT must differ from PORT and METRICS_PORT (got "${rawPort}")`);
  if (albPort !== undefined && albPort !== 0 && taken.includes(albPort)) throw new Error(`DASHBOARD_ALB_PORT must differ from PORT and METRICS_PORT (got "${rawAlbPort}")`);
  return options;
}

function processes(raw: string | undefined): ProcessDescription[] | undefined {
  if (!raw) return undefined;
  const expected = 'STATE_PROCESSES must be a JSON list of {"id": "<workflow>", "title": "...", "description": "..."}';
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch {
    throw new Error(`${expected} (it is not JSON)`);
  }
  if (!Array.isArray(list)) throw new Error(expected);
  return list.map((p: unknown, i) => {
    const o = p as Record<string, unknown>;
    const ok = typeof o === 'object' && o !== null && typeof o.id === 'string' && o.id !== ''
      && Object.keys(o).every((k) => ['id', 'title', 'description'].includes(k) && typeof o[k] === 'string');
    if (!ok) throw new Error(`${expected} (element ${i} is ${JSON.stringify(p)})`);
    return o as unknown as ProcessDescription;
  });
}

function seconds(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  const v = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(v) || v < min) {
    throw new Error(`${name} must be a whole number of seconds, at least ${min} (got "${raw}")`);
  }
  return v * 1000;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): StateServiceConfig {
  const databaseUrl = env.DATABASE_URL || undefined;
  const port = Number(env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be an integer from 0 to 65535 (got "${env.PORT}")`);
  }
  const metricsPort = Number(env.METRICS_PORT || (port === 0 ? 0 : METRICS_DEFAULT_PORT));
  if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535 || (metricsPort === port && port !== 0)) {
    throw new Error(`METRICS_PORT must be an integer from 0 to 65535 other than PORT (got "${env.METRICS_PORT}")`);
  }
  const maxConnections = Number(env.DATABASE_MAX_CONNECTIONS ?? 10);
  if (!Number.isInteger(maxConnections) || maxConnections < 1) {
    throw new Error(`DATABASE_MAX_CONNECTIONS must be a positive integer (got "${env.DATABASE_MAX_CONNECTIONS}")`);
  }
  let writerToken = env.STATE_WRITE_TOKEN ?? '';
  let readerToken = env.STATE_READ_TOKEN ?? '';
  const generatedTokens = !writerToken || !readerToken;
  if (generatedTokens) {
    if (databaseUrl) {
      throw new Error('STATE_WRITE_TOKEN and STATE_READ_TOKEN are required with DATABASE_URL (Secret swoop-state-tokens, keys writer and reader)');
    }
    writerToken ||= randomBytes(18).toString('base64url');
    readerToken ||= randomBytes(18).toString('base64url');
  }
  if (env.LIFECYCLE_URL && !/^https?:\/\//.test(env.LIFECYCLE_URL)) {
    throw new Error(`LIFECYCLE_URL must be an http(s) URL (got "${env.LIFECYCLE_URL}")`);
  }
  if (env.STATE_PUBLIC_URL && !/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(env.STATE_PUBLIC_URL)) {
    throw new Error(`STATE_PUBLIC_URL must be an http(s) URL without query or fragment (got "${env.STATE_PUBLIC_URL}")`);
  }
  const argoUrl = env.ARGO_SERVER_URL || undefined;
  if (argoUrl && !/^https?:\/\//.test(argoUrl)) throw new Error(`ARGO_SERVER_URL must be an http(s) URL (got "${argoUrl}")`);
  if (!['', 'true', 'false'].includes(env.ARGO_INSECURE_SKIP_VERIFY ?? '')) {
    throw new Error(`ARGO_INSECURE_SKIP_VERIFY must be true or false (got "${env.ARGO_INSECURE_SKIP_VERIFY}")`);
  }
  if (argoUrl && !env.ARGO_TOKEN) throw new Error('ARGO_TOKEN is required with ARGO_SERVER_URL (a bearer token allowed to get and update Workflows)');
  const argoCa = argoCaBundle(env);
  const taskTokenQueues = (env.TASK_TOKEN_QUEUES ?? '').split(',').map((q) => q.trim()).filter(Boolean);
  for (const q of taskTokenQueues) {
    if (!SQS_QUEUE_URL.test(q)) throw new Error(`TASK_TOKEN_QUEUES holds "${q}", which is not an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<queue>)`);
  }
  const store = env.PAYLOAD_STORE || undefined;
  const storeProblem = store === undefined ? undefined : payloadStoreProblem(store);
  if (storeProblem) throw new Error(storeProblem);
  const maxBytes = Number(env.PAYLOAD_MAX_BYTES || 16 * 1024 * 1024);
  if (!Number.isInteger(maxBytes) || maxBytes < 1024) throw new Error(`PAYLOAD_MAX_BYTES must be a whole number of bytes, at least 1024 (got "${env.PAYLOAD_MAX_BYTES}")`);
  // Within the trigger's 30 s, beside the claim and the create (10 s).
  const readTimeoutMs = seconds(env, 'PAYLOAD_READ_TIMEOUT_SECONDS', 5, 1);
  if (readTimeoutMs > 15_000) throw new Error(`PAYLOAD_READ_TIMEOUT_SECONDS must be at most 15 (the sensors' trigger waits 30 s for the whole submission; got "${env.PAYLOAD_READ_TIMEOUT_SECONDS}")`);
  const sweepIntervalMs = seconds(env, 'STUCK_RUN_SWEEP_INTERVAL_SECONDS', 60, 0);
  const stuckRuns = {
    intervalMs: sweepIntervalMs,
    graceMs: seconds(env, 'STUCK_RUN_GRACE_SECONDS', 600, 0),
    maxSilenceMs: seconds(env, 'STUCK_RUN_MAX_SILENCE_SECONDS', 86_400, 1),
  };
  return {
    databaseUrl,
    pgliteDir: env.PGLITE_DIR || undefined,
    schema: env.DATABASE_SCHEMA || undefined,
    maxConnections,
    logLevel: env.LOG_LEVEL || 'info',
    host: env.HOST ?? (databaseUrl ? '0.0.0.0' : '127.0.0.1'),
    port,
    metricsPort,
    writerToken,
    readerToken,
    generatedTokens,
    publicUrl: env.STATE_PUBLIC_URL || undefined,
    processes: processes(env.STATE_PROCESSES),
    lifecycleUrl: env.LIFECYCLE_URL || undefined,
    lifecycleToken: env.LIFECYCLE_TOKEN || undefined,
    stuckRuns: sweepIntervalMs > 0 ? stuckRuns : undefined,
    kube: kubeFromEnv(env),
    payloads: store ? { store, maxBytes, timeoutMs: readTimeoutMs } : undefined,
    dashboard: dashboard(env, [port, metricsPort]),
    taskTokenQueues,
    argoServer: argoUrl
      ? { url: argoUrl, token: env.ARGO_TOKEN!, insecureSkipVerify: env.ARGO_INSECURE_SKIP_VERIFY === 'true', ...(argoCa ? { ca: argoCa } : {}) }
      : undefined,
  };
}

/**
 * ARGO_CA_FILE: the PEM bundle the Argo Server's certificate is verified against (its own
 * self-signed certificate, or the CA that signed it), read once at start so a wrong path
 * fails the service at once rather than every resume.
 */
function argoCaBundle(env: Record<string, string | undefined>): string | undefined {
  const file = env.ARGO_CA_FILE || undefined;
  if (!file) return undefined;
  if (env.ARGO_INSECURE_SKIP_VERIFY === 'true') {
    throw new Error('ARGO_CA_FILE and ARGO_INSECURE_SKIP_VERIFY=true are both set; keep ARGO_CA_FILE (the server is verified against it) and drop ARGO_INSECURE_SKIP_VERIFY');
  }
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`ARGO_CA_FILE ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); mount the CA bundle there or unset ARGO_CA_FILE`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`ARGO_CA_FILE ${file} holds no PEM certificate; give the CA bundle that signed the Argo Server's certificate`);
  }
  return pem;
}
