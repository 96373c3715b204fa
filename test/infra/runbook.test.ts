import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Command } from '@commander-js/extra-typings';
import { parseAllDocuments } from 'yaml';
import { buildProgram } from '../../cli/main';
import { CONFIG_KEYS, loadStackConfig } from '../../stacks/config';
import { loadEnvironment } from '../../stacks/environment';
import { ARGO_NAMESPACE } from '../../infra/argo';
import { DASHBOARD_INGRESS_NAME } from '../../infra/dashboard-ingress';
import { PLATFORM_SECRETS } from '../../infra/platform';
import { missingSecretInputs, secretReferences } from '../../infra/manifest-secrets';
import { TEST_BUILD_DIGEST, builtStackConfig } from './support/stack-run';

/**
 * Every command the README shows (its sh code blocks) that names something of this project is
 * checked against the code: config keys and paths against the stack config schema (by applying
 * them to the stack file and loading it), stack outputs against the program's exports, kubectl
 * names against dist/ and what infra creates, AWS names against the stack settings, swoop verbs
 * and flags against the CLI's commander program, npm scripts against package.json.
 */
const ROOT = join(__dirname, '..', '..');
const P = 'swoop-platform';
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The README's shell commands: one per line of a sh block (continuations joined, comments dropped), and each `$(...)` inside. */
function readmeCommands(text: string): string[] {
  const blocks = [...text.matchAll(/^```(?:sh|bash|shell)\n([\s\S]*?)^```/gm)].map((m) => m[1]!);
  const lines = blocks.flatMap((b) => b.replace(/\\\n\s*/g, ' ').split('\n'))
    .map((l) => l.replace(/(^|\s)#.*$/, '').trim()).filter(Boolean);
  const out: string[] = [];
  for (const line of lines) {
    // `$(...)` first (innermost out), then the pipeline's and list's parts.
    let rest = line;
    for (let m = /\$\(([^()]*)\)/.exec(rest); m; m = /\$\(([^()]*)\)/.exec(rest)) {
      out.push(...parts(m[1]!));
      rest = rest.slice(0, m.index) + '"$SUBST"' + rest.slice(m.index + m[0].length);
    }
    out.push(...parts(rest));
  }
  return out;
}
const parts = (s: string) => s.split(/\s*(?:\|\||&&|\||;|&)\s*/).map((p) => p.trim()).filter(Boolean);

/** Shell words of a command (quotes removed, `VAR=value` prefixes dropped). */
function words(command: string): string[] {
  const ws = [...command.matchAll(/'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
  while (ws.length && /^[A-Z_]+=/.test(ws[0]!)) ws.shift();
  return ws;
}

const COMMANDS = readmeCommands(README);
const of = (tool: string) => COMMANDS.map(words).filter((w) => w[0] === tool);
const option = (w: string[], ...names: string[]) => { const i = w.findIndex((x) => names.includes(x)); return i < 0 ? undefined : w[i + 1]; };

/** Values of the shell variables the runbook sets or asks for, as a real run would have them. */
const SAMPLES: Record<string, string> = {
  STAC_API_TOKEN: 'stac-token', ALERTS_TOKEN: 'alerts-token', REVIEW_TOKEN: 'review-token', OIDC_CLIENT_SECRET: 'oidc-secret', DASHBOARD_OIDC_CLIENT_SECRET: 'dashboard-oidc-secret',
  REPO: '123456789012.dkr.ecr.us-west-2.amazonaws.com/swoop-dev/swoop-state', DIGEST: TEST_BUILD_DIGEST,
  CERTIFICATE_ARN: 'arn:aws:acm:us-west-2:123456789012:certificate/11111111-2222-3333-4444-555555555555',
};
const expand = (v: string) => v.replace(/\$\{?([A-Z_]+)\}?/g, (_, name: string) => {
  if (!(name in SAMPLES)) throw new Error(`README sets config from $${name}, which this test has no sample for: add one to SAMPLES`);
  return SAMPLES[name]!;
});

/** `pulumi config set [--path] key value` applied to a stack's config (`--path`: nested, `a.b[0]`). */
function configSet(config: Record<string, string>, w: string[]): void {
  const args = w.slice(3).filter((x) => !['--secret', '--plaintext'].includes(x));
  const path = args.includes('--path');
  const positional = args.filter((x, i) => x !== '--path' && x !== '-s' && args[i - 1] !== '-s');
  const [key, value] = positional as [string, string];
  if (!path) {
    config[key.includes(':') ? key : `${P}:${key}`] = expand(value);
    return;
  }
  const steps = key.split(/\.|(?=\[)/).map((s) => (/^\[\d+\]$/.test(s) ? Number(s.slice(1, -1)) : s));
  const rootKey = `${P}:${steps[0]}`;
  const root = config[rootKey] !== undefined ? JSON.parse(config[rootKey]!) : typeof steps[1] === 'number' ? [] : {};
  let node = root;
  steps.slice(1, -1).forEach((s, i) => { node[s] ??= typeof steps[i + 2] === 'number' ? [] : {}; node = node[s]; });
  node[steps[steps.length - 1]!] = expand(value);
  config[rootKey] = JSON.stringify(root);
}

/** Each stack's config after the runbook: its commands without `-s` for every stack (the runbook says so), `-s <stack>` ones for that one. */
function configAfterRunbook(stack: string): Record<string, string> {
  const config = builtStackConfig(stack);
  for (const w of of('pulumi').filter((x) => x[1] === 'config' && x[2] === 'set')) {
    const target = option(w, '-s', '--stack');
    if (target === undefined || target === stack) configSet(config, w);
  }
  return config;
}

/** Names per kind in dist/<stack>/ (`<namespace>/<kind>/<name>`), with each Service's ports. */
function distObjects(stack: string): Map<string, Record<string, any>> {
  const dir = join(ROOT, 'dist', stack);
  const out = new Map<string, Record<string, any>>();
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml'))) {
    for (const d of parseAllDocuments(readFileSync(join(dir, f), 'utf8'))) {
      const o = d.toJSON();
      if (o?.metadata) out.set(`${o.metadata.namespace ?? 'swoop'}/${o.kind}/${o.metadata.name}`, o);
    }
  }
  return out;
}

describe('README commands match the code', () => {
  it('finds the runbook\'s commands (config, outputs, kubectl, aws, swoop)', () => {
    for (const tool of ['pulumi', 'kubectl', 'aws', 'swoop', 'npm']) expect(of(tool).length, tool).toBeGreaterThan(2);
    expect(COMMANDS).toContain('pulumi stack output ingressQueueUrl');
  });

  it.each(['dev', 'prod'])('every `pulumi config set` is a key and path the %s stack accepts, and the result loads', (stack) => {
    const config = configAfterRunbook(stack);
    expect(() => loadStackConfig(config, P, stack)).not.toThrow();
  });

  it('every key of the README\'s settings table is a config key (dotted: a field the key describes)', () => {
    const table = README.slice(README.indexOf('Common settings (`pulumi config set'));
    const keys = [...table.slice(0, table.indexOf('\n\n', table.indexOf('| key |'))).matchAll(/^\| ([^|]+) \|/gm)].slice(2)
      .flatMap((m) => [...m[1]!.matchAll(/`([\w.]+)`/g)].map((k) => k[1]!));
    expect(keys.length).toBeGreaterThan(10);
    expect(keys.filter((k) => { const [root, field] = k.split('.'); return !(root! in CONFIG_KEYS) || (field !== undefined && !CONFIG_KEYS[root as keyof typeof CONFIG_KEYS].includes(field)); })).toEqual([]);
  });

  it('a wrong key or path in the runbook would be refused (the check can fail)', () => {
    const bad = builtStackConfig('dev');
    configSet(bad, words("pulumi config set --path 'argoSso.adminGroup[0]' admins"));
    expect(() => loadStackConfig(bad, P, 'dev')).toThrow(/argoSso/);
    const typo = builtStackConfig('dev');
    configSet(typo, words('pulumi config set deployManifest false'));
    expect(() => loadStackConfig(typo, P, 'dev')).toThrow(/deployManifest/);
  });

  it.each(['dev', 'prod'])('sets every workload Secret dist/%s references that the stack does not create', (stack) => {
    const cfg = loadStackConfig(configAfterRunbook(stack), P, stack);
    expect(missingSecretInputs(secretReferences(join(ROOT, 'dist', stack)), PLATFORM_SECRETS, cfg.workloadSecrets)).toEqual([]);
  });

  it('every `pulumi stack output` names an output the program exports', () => {
    const exported = new Set([...readFileSync(join(ROOT, 'stacks', 'index.ts'), 'utf8').matchAll(/^export const (\w+)/gm)].map((m) => m[1]));
    const used = of('pulumi').filter((w) => w[1] === 'stack' && w[2] === 'output').map((w) => w[3]!);
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((o) => !exported.has(o))).toEqual([]);
    // The outputs paragraph lists exports too.
    const paragraph = /Outputs: ([\s\S]*?)\.\s+[A-Z]/.exec(README)![1]!;
    const listed = [...paragraph.matchAll(/`(\w+)`/g)].map((m) => m[1]!);
    expect(listed).toContain('ingressQueueUrl');
    expect(listed.filter((o) => !exported.has(o))).toEqual([]);
  });

  it('every kubectl object is one dist/ or infra creates, in that namespace, on a port it serves', () => {
    const dist = distObjects('dev');
    const argoServer = new URL(`https://argo-workflows-server.${ARGO_NAMESPACE}.svc.cluster.local:2746`);
    // Objects the Argo charts create, as infra names them (Argo.serverUrl, the SSO/ingress values).
    const argoSource = readFileSync(join(ROOT, 'infra', 'argo.ts'), 'utf8');
    expect(argoSource).toContain(`https://${argoServer.hostname.split('.')[0]}.\${ARGO_NAMESPACE}.svc.cluster.local:${argoServer.port}`);
    const KINDS: Record<string, string> = { deploy: 'Deployment', deployment: 'Deployment', svc: 'Service', service: 'Service', secret: 'Secret', ingress: 'Ingress' };
    const problems: string[] = [];
    for (const w of of('kubectl')) {
      const ns = option(w, '-n', '--namespace') ?? 'default';
      const rest = w.slice(1).filter((x, i, a) => !x.startsWith('-') && !['-n', '--namespace', '-o'].includes(a[i - 1]!));
      const [verb, ...objs] = rest;
      if (!['swoop', ARGO_NAMESPACE].includes(ns)) problems.push(`${w.join(' ')}: namespace ${ns} is not the platform's`);
      if (verb === 'port-forward') {
        const [target, ports] = objs as [string, string];
        const [kind, name] = target.split('/') as [string, string];
        const remote = Number(ports.split(':')[1]);
        if (KINDS[kind] !== 'Service') problems.push(`${w.join(' ')}: forwards a ${kind}`);
        else if (ns === ARGO_NAMESPACE) { if (name !== argoServer.hostname.split('.')[0] || remote !== Number(argoServer.port)) problems.push(`${w.join(' ')}: the Argo server is ${argoServer.host}`); }
        else if (!dist.get(`${ns}/Service/${name}`)?.spec.ports.some((p: { port: number }) => p.port === remote)) problems.push(`${w.join(' ')}: no Service ${ns}/${name} on port ${remote} in dist/`);
      } else if (['get', 'delete'].includes(verb!) && objs.length === 2) {
        const [kind, name] = [KINDS[objs[0]!], objs[1]!];
        const known = (kind === 'Secret' && ns === 'swoop' && name in PLATFORM_SECRETS)
          || (kind === 'Ingress' && ns === ARGO_NAMESPACE && name === argoServer.hostname.split('.')[0])
          || (kind === 'Ingress' && ns === 'swoop' && name === DASHBOARD_INGRESS_NAME)
          || dist.has(`${ns}/${kind}/${name}`);
        if (!known) problems.push(`${w.join(' ')}: no ${kind} ${ns}/${name}`);
        const key = /\{\.data\.([\w-]+)\}/.exec(option(w, '-o') ?? '')?.[1];
        if (kind === 'Secret' && key && !PLATFORM_SECRETS[name]?.includes(key)) problems.push(`${w.join(' ')}: Secret ${name} has no key ${key}`);
      }
    }
    // In-cluster URLs the commands call: a Service of dist/ on that port, or the one the Argo Events
    // controller makes for an EventSource of dist/ (`<name>-eventsource-svc`, its spec.service ports).
    for (const [url, name, ns, port] of COMMANDS.flatMap((c) => [...c.matchAll(/https?:\/\/([a-z0-9-]+)\.([a-z0-9-]+)(?:\.svc[.a-z]*)?:(\d+)\//g)])) {
      const service = dist.get(`${ns}/Service/${name}`) ?? dist.get(`${ns}/EventSource/${name!.replace(/-eventsource-svc$/, '')}`)?.spec.service;
      const ports = service?.spec?.ports ?? service?.ports ?? [];
      if (!ports.some((p: { port: number }) => p.port === Number(port))) problems.push(`${url}: no Service ${ns}/${name} on port ${port} in dist/`);
    }
    expect(COMMANDS.some((c) => c.includes('swoop-ingress-eventsource-svc.swoop:12000'))).toBe(true);
    expect(problems).toEqual([]);
  });

  it('every AWS name is the stack\'s: cluster, region, image repository, sample files', () => {
    const env = loadEnvironment('dev');
    const program = readFileSync(join(ROOT, 'stacks', 'index.ts'), 'utf8');
    expect(program).toContain('repositoryName: `${cfg.clusterName}/swoop-state`');
    const problems: string[] = [];
    for (const w of of('aws')) {
      const cluster = option(w, '--name', '--cluster-name');
      if (cluster !== undefined && cluster !== env.clusterName) problems.push(`${w.join(' ')}: the dev cluster is ${env.clusterName}`);
      const region = option(w, '--region');
      if (region !== undefined && region !== env.region) problems.push(`${w.join(' ')}: the dev region is ${env.region}`);
      const repo = option(w, '--repository-name');
      if (repo !== undefined && repo !== `${env.clusterName}/swoop-state`) problems.push(`${w.join(' ')}: the repository is ${env.clusterName}/swoop-state`);
      const body = option(w, '--message-body');
      if (body?.startsWith('file://') && !existsSync(join(ROOT, body.slice('file://'.length)))) problems.push(`${w.join(' ')}: no file ${body}`);
    }
    expect(problems).toEqual([]);
  });

  it('every npm script and file the commands use exists', () => {
    const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
    const missing = of('npm').filter((w) => w[1] === 'run' && !(w[2]! in scripts)).map((w) => w.join(' '));
    missing.push(...COMMANDS.map(words).filter((w) => w[0] === 'docker' && w[1] === 'build').map((w) => option(w, '-f')!).filter((f) => !existsSync(join(ROOT, f))));
    expect(missing).toEqual([]);
  });

  it('every swoop verb and flag is one the CLI defines', () => {
    const { program } = buildProgram({ stdout: () => {}, stderr: () => {} } as never);
    const problems = of('swoop').flatMap((w) => cliProblems(program as unknown as Command, w.slice(1)).map((p) => `${w.join(' ')}: ${p}`));
    expect(problems).toEqual([]);
    // and the check can fail
    expect(cliProblems(program as unknown as Command, ['runs', 'lst'])).not.toEqual([]);
    expect(cliProblems(program as unknown as Command, ['runs', 'list', '--status', 'FAILED'])).not.toEqual([]);
  });
});

/** Problems of `args` against commander's definition: unknown subcommand, unknown option, too many arguments. */
function cliProblems(root: Command, args: string[]): string[] {
  const chain: Command[] = [root];
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const cmd = chain[chain.length - 1]!;
    if (a.startsWith('-')) {
      const opt = chain.flatMap((c) => c.options).find((o) => o.short === a || o.long === a);
      if (!opt) return [`unknown option ${a} of ${chain.map((c) => c.name()).join(' ')}`];
      if (opt.required || opt.optional) i++;
    } else if (positional.length === 0 && cmd.commands.length > 0) {
      const sub = cmd.commands.find((c) => c.name() === a || c.aliases().includes(a));
      // A command with subcommands may take arguments itself (`swoop run <payload>` beside `swoop run get`).
      if (sub) chain.push(sub as Command);
      else if (argumentsOf(cmd).length > 0) positional.push(a);
      else return [`unknown command ${a} of ${chain.map((c) => c.name()).join(' ')}`];
    } else positional.push(a);
  }
  const last = chain[chain.length - 1]!;
  if (last.commands.length > 0 && chain.length === 1) return ['no command'];
  const declared = argumentsOf(last);
  if (!declared.some((d) => d.variadic) && positional.length > declared.length) return [`${positional.length} arguments, ${last.name()} takes ${declared.length}`];
  return [];
}

const argumentsOf = (c: Command): { variadic: boolean }[] => (c as unknown as { registeredArguments: { variadic: boolean }[] }).registeredArguments;
