/**
 * Deployments by name: a small YAML (or JSON) file says where each deployment's state
 * service, ingress (webhook, SQS) and Argo Server are, and which environment variables hold
 * their tokens; SWOOP_* variables override any value. Tokens are read when a command needs
 * them and never printed: `swoop deployments` says only whether each one is set and where from.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { CliError } from './io';

/** A secret: a literal in the file, or the name of the environment variable holding it. */
type SecretSource = string | { readonly env: string };

export interface Secret {
  /** the value, undefined when not set */
  readonly value: string | undefined;
  /** where it comes from, for people: `env DEV_TOKEN`, `config file`, `missing` */
  readonly from: string;
}

export interface Deployment {
  readonly name: string;
  /** the file it was read from, or undefined when only environment variables define it */
  readonly file: string | undefined;
  readonly state: { readonly url: string | undefined; readonly readToken: Secret };
  readonly ingress: {
    /** where `process` sends payloads: `sqs` when a queue is configured, else `webhook` (unless `via` says) */
    readonly via: 'sqs' | 'webhook' | undefined;
    readonly webhook: { readonly url: string | undefined; readonly token: Secret };
    readonly sqs: { readonly queueUrl: string | undefined; readonly region: string | undefined };
  };
  readonly argo: { readonly url: string | undefined; readonly token: Secret; readonly namespace: string; readonly insecureSkipVerify: boolean };
  /** the deployment's synthesized manifests (dist/<stack>), read to predict run names */
  readonly manifests: string | undefined;
}

/** Environment variables that override a deployment's values (documented in docs/cli.md). */
export const ENV = {
  deployment: 'SWOOP_DEPLOYMENT',
  config: 'SWOOP_CONFIG',
  stateUrl: 'SWOOP_STATE_URL',
  stateReadToken: 'SWOOP_STATE_READ_TOKEN',
  webhookUrl: 'SWOOP_WEBHOOK_URL',
  webhookToken: 'SWOOP_WEBHOOK_TOKEN',
  sqsQueueUrl: 'SWOOP_SQS_QUEUE_URL',
  argoUrl: 'SWOOP_ARGO_URL',
  argoToken: 'SWOOP_ARGO_TOKEN',
  argoNamespace: 'SWOOP_ARGO_NAMESPACE',
  manifests: 'SWOOP_MANIFESTS',
} as const;

export const CONFIG_FILE = 'swoop.config.yaml';

/** Where the config file is: --config, $SWOOP_CONFIG, ./swoop.config.yaml, ~/.config/swoop/config.yaml. */
export function findConfigFile(explicit: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const given = explicit ?? env[ENV.config];
  if (given) {
    const path = resolve(cwd, given);
    if (!existsSync(path)) throw new CliError(`${given}: no such config file; check --config / ${ENV.config}`);
    return path;
  }
  for (const candidate of [join(cwd, CONFIG_FILE), join(env.HOME ?? homedir(), '.config', 'swoop', 'config.yaml')]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

type Obj = Record<string, unknown>;

const DEPLOYMENT_KEYS = ['state', 'ingress', 'argo', 'manifests'];
const KEYS: Record<string, readonly string[]> = {
  state: ['url', 'readToken'],
  ingress: ['via', 'webhook', 'sqs'],
  webhook: ['url', 'token'],
  sqs: ['queueUrl', 'region'],
  argo: ['url', 'token', 'namespace', 'insecureSkipVerify'],
};

class ConfigReader {
  constructor(private readonly file: string) {}

  fail(path: string, message: string): never {
    throw new CliError(`${this.file}: ${path}: ${message}`);
  }

  object(v: unknown, path: string, known: readonly string[]): Obj {
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(path, 'must be a mapping');
    for (const key of Object.keys(v as Obj)) {
      if (!known.includes(key)) this.fail(`${path}.${key}`, `unknown key; expected ${known.join(', ')}`);
    }
    return v as Obj;
  }

  string(v: unknown, path: string): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v === '') this.fail(path, 'must be a non-empty string');
    return v;
  }

  url(v: unknown, path: string): string | undefined {
    const s = this.string(v, path);
    if (s !== undefined) checkUrl(s, `${this.file}: ${path}`);
    return s;
  }

  secret(v: unknown, path: string): SecretSource | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'object' && !Array.isArray(v)) {
      const o = this.object(v, path, ['env']);
      const env = this.string(o.env, `${path}.env`);
      if (env) return { env };
    }
    return this.fail(path, 'must be the token itself or {env: VARIABLE_HOLDING_IT}');
  }
}

/** An http(s) URL, else a one-line error naming where it came from. */
export function checkUrl(s: string, where: string): void {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new CliError(`${where}: "${s}" is not a URL; give e.g. http://127.0.0.1:8080`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new CliError(`${where}: "${s}" must be an http:// or https:// URL`);
}

function secretFrom(override: string | undefined, overrideName: string, source: SecretSource | undefined, env: NodeJS.ProcessEnv): Secret {
  if (override !== undefined && override !== '') return { value: override, from: `env ${overrideName}` };
  if (source === undefined) return { value: undefined, from: 'missing' };
  if (typeof source === 'string') return { value: source, from: 'config file' };
  const value = env[source.env];
  return value ? { value, from: `env ${source.env}` } : { value: undefined, from: `missing (env ${source.env} is not set)` };
}

interface RawDeployment {
  readonly name: string;
  readonly file: string | undefined;
  readonly fields: Obj;
  readonly reader: ConfigReader;
}

/** Every deployment of the config file (none without one), in file order. */
export function readDeployments(file: string | undefined): { deployments: RawDeployment[]; defaultName: string | undefined } {
  if (!file) return { deployments: [], defaultName: undefined };
  const reader = new ConfigReader(file);
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CliError(`${file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const top = reader.object(doc, '(top)', ['default', 'deployments']);
  const all = reader.object(top.deployments, 'deployments', Object.keys((top.deployments as Obj | undefined) ?? {}));
  const deployments = Object.entries(all).map(([name, fields]) => ({
    name, file, reader, fields: reader.object(fields, `deployments.${name}`, DEPLOYMENT_KEYS),
  }));
  const defaultName = reader.string(top.default, 'default');
  if (defaultName !== undefined && !deployments.some((d) => d.name === defaultName)) {
    reader.fail('default', `names no deployment (have: ${deployments.map((d) => d.name).join(', ') || 'none'})`);
  }
  return { deployments, defaultName };
}

function resolveDeployment(raw: RawDeployment, env: NodeJS.ProcessEnv, cwd: string): Deployment {
  const { reader, name } = raw;
  const at = `deployments.${name}`;
  const state = reader.object(raw.fields.state, `${at}.state`, KEYS.state!);
  const ingress = reader.object(raw.fields.ingress, `${at}.ingress`, KEYS.ingress!);
  const webhook = reader.object(ingress.webhook, `${at}.ingress.webhook`, KEYS.webhook!);
  const sqs = reader.object(ingress.sqs, `${at}.ingress.sqs`, KEYS.sqs!);
  const argo = reader.object(raw.fields.argo, `${at}.argo`, KEYS.argo!);
  const via = reader.string(ingress.via, `${at}.ingress.via`);
  if (via !== undefined && via !== 'sqs' && via !== 'webhook') reader.fail(`${at}.ingress.via`, 'must be sqs or webhook');
  if (argo.insecureSkipVerify !== undefined && typeof argo.insecureSkipVerify !== 'boolean') reader.fail(`${at}.argo.insecureSkipVerify`, 'must be true or false');
  const base = raw.file ? dirname(raw.file) : cwd;
  const manifests = reader.string(raw.fields.manifests, `${at}.manifests`);
  return withOverrides({
    name,
    file: raw.file,
    state: { url: reader.url(state.url, `${at}.state.url`), readToken: secretFrom(undefined, '', reader.secret(state.readToken, `${at}.state.readToken`), env) },
    ingress: {
      via: via as 'sqs' | 'webhook' | undefined,
      webhook: { url: reader.url(webhook.url, `${at}.ingress.webhook.url`), token: secretFrom(undefined, '', reader.secret(webhook.token, `${at}.ingress.webhook.token`), env) },
      sqs: { queueUrl: reader.url(sqs.queueUrl, `${at}.ingress.sqs.queueUrl`), region: reader.string(sqs.region, `${at}.ingress.sqs.region`) },
    },
    argo: {
      url: reader.url(argo.url, `${at}.argo.url`),
      token: secretFrom(undefined, '', reader.secret(argo.token, `${at}.argo.token`), env),
      namespace: reader.string(argo.namespace, `${at}.argo.namespace`) ?? 'swoop',
      insecureSkipVerify: argo.insecureSkipVerify === true,
    },
    manifests: manifests === undefined ? undefined : isAbsolute(manifests) ? manifests : resolve(base, manifests),
  }, env, cwd);
}

/** SWOOP_* variables win over the file (or define a deployment on their own). */
function withOverrides(d: Deployment, env: NodeJS.ProcessEnv, cwd: string): Deployment {
  const url = (name: string, fallback: string | undefined) => {
    const v = env[name];
    if (v === undefined || v === '') return fallback;
    checkUrl(v, name);
    return v;
  };
  const keep = (name: string, s: Secret) => (env[name] ? secretFrom(env[name], name, undefined, env) : s);
  const manifests = env[ENV.manifests] ? resolve(cwd, env[ENV.manifests]!) : d.manifests;
  return {
    ...d,
    state: { url: url(ENV.stateUrl, d.state.url), readToken: keep(ENV.stateReadToken, d.state.readToken) },
    ingress: {
      via: d.ingress.via,
      webhook: { url: url(ENV.webhookUrl, d.ingress.webhook.url), token: keep(ENV.webhookToken, d.ingress.webhook.token) },
      sqs: { queueUrl: url(ENV.sqsQueueUrl, d.ingress.sqs.queueUrl), region: d.ingress.sqs.region },
    },
    argo: { ...d.argo, url: url(ENV.argoUrl, d.argo.url), token: keep(ENV.argoToken, d.argo.token), namespace: env[ENV.argoNamespace] || d.argo.namespace },
    manifests: manifests ?? defaultManifests(d.name, cwd),
  };
}

/** dist/<deployment> of the repository, when it exists (deployments are usually named after stacks). */
function defaultManifests(name: string, cwd: string): string | undefined {
  for (const dir of [join(cwd, 'dist', name), join(__dirname, '..', 'dist', name)]) {
    if (existsSync(dir)) return dir;
  }
  return undefined;
}

export interface LoadOptions {
  readonly deployment?: string;
  readonly config?: string;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/** Every configured deployment with overrides applied (for `swoop deployments`). */
export function listDeployments(o: LoadOptions): { file: string | undefined; defaultName: string | undefined; deployments: Deployment[] } {
  const file = findConfigFile(o.config, o.env, o.cwd);
  const { deployments, defaultName } = readDeployments(file);
  return { file, defaultName, deployments: deployments.map((d) => resolveDeployment(d, o.env, o.cwd)) };
}

/**
 * The deployment a command acts on: --deployment, $SWOOP_DEPLOYMENT, the file's `default`, its
 * only deployment, or, with no file, one made of SWOOP_* variables alone.
 */
export function loadDeployment(o: LoadOptions): Deployment {
  const file = findConfigFile(o.config, o.env, o.cwd);
  const { deployments, defaultName } = readDeployments(file);
  const wanted = o.deployment ?? o.env[ENV.deployment] ?? defaultName ?? (deployments.length === 1 ? deployments[0]!.name : undefined);
  if (wanted !== undefined) {
    const raw = deployments.find((d) => d.name === wanted);
    if (!raw) {
      throw new CliError(file
        ? `deployment "${wanted}": not in ${file} (have: ${deployments.map((d) => d.name).join(', ') || 'none'}); see \`swoop deployments\``
        : `deployment "${wanted}": no config file found; create ./${CONFIG_FILE} (README "Operate") or pass --config`);
    }
    return resolveDeployment(raw, o.env, o.cwd);
  }
  if (deployments.length > 1) {
    throw new CliError(`${file}: several deployments (${deployments.map((d) => d.name).join(', ')}) and no default; pass --deployment <name> or set default:`);
  }
  return resolveDeployment({ name: 'env', file: undefined, fields: {}, reader: new ConfigReader('(environment)') }, o.env, o.cwd);
}

/** The deployment's value, or a one-line error saying which key or variable to set. */
export function need<T>(value: T | undefined, deployment: Deployment, key: string, variable: string): T {
  if (value === undefined || value === '') {
    const where = deployment.file ? `deployments.${deployment.name}.${key} in ${deployment.file}` : `${CONFIG_FILE} (README "Operate")`;
    throw new CliError(`deployment "${deployment.name}": ${key} is not set; set ${where}, or ${variable}`);
  }
  return value;
}

export function needSecret(secret: Secret, deployment: Deployment, key: string, variable: string): string {
  if (secret.value === undefined) {
    const hint = secret.from.startsWith('missing (') ? ` ${secret.from.slice(9, -1)};` : '';
    const where = deployment.file ? `deployments.${deployment.name}.${key} in ${deployment.file}` : CONFIG_FILE;
    throw new CliError(`deployment "${deployment.name}": ${key} is not set;${hint} set ${where} ({env: VARIABLE}), or ${variable}`);
  }
  return secret.value;
}
