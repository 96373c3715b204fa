import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { compareFiles, synthesize, taskTokenQueueReads, writeFiles } from '../constructs';
import { platformValueReads } from '../constructs/environment';
import { EnvironmentError, loadEnvironments, type Environment } from '../stacks/environment';
import { buildApp, type SwoopApp } from './app';

/** The manifests of one stack: `dist/<stack>/<file>`. */
export interface EnvironmentManifests {
  readonly environment: Environment;
  readonly swoop: SwoopApp;
  readonly files: Map<string, string>;
}

/**
 * Synthesizes the app once per stack settings file (`stacks/Pulumi.<stack>.yaml`), in stack
 * order, so `dist/<stack>/` holds exactly what that environment runs: its queue, region,
 * state image and workflow values. Same settings and code, byte-identical files.
 */
export function synthesizeEnvironments(environments: readonly Environment[] = loadEnvironments()): EnvironmentManifests[] {
  return environments.map((environment) => {
    const swoop = buildApp(environment);
    const files = synthesize(swoop.app);
    const problems = environmentProblems(environment, files);
    if (problems.length > 0) throw new EnvironmentError(problems.join('\n'));
    return { environment, swoop, files };
  });
}

/** Everything in a stack's manifests that its settings do not provide: `npm run synth` fails with these lines. */
export function environmentProblems(environment: Environment, files: ReadonlyMap<string, string>): string[] {
  return [...missingValues(environment, files), ...unlistedTaskTokenQueues(environment, files)];
}

/**
 * A `swoop-platform` key a manifest reads that the stack does not set would only fail when a
 * run starts (Argo cannot resolve the parameter): refuse it here, naming the setting to add.
 */
export function missingValues(environment: Environment, files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const [file, text] of files) {
    for (const doc of parseAllDocuments(text).map((d) => d.toJS() as { kind?: string; metadata?: { name?: string } } | null)) {
      for (const key of platformValueReads(doc)) {
        if (!environment.valueKeys.includes(key)) {
          problems.push(
            `dist/${environment.stack}/${file}: ${doc?.kind}/${doc?.metadata?.name} reads "${key}" from ConfigMap swoop-platform, which stack ${environment.stack} does not set; add it under swoop-platform:workflowValues in stacks/Pulumi.${environment.stack}.yaml`,
          );
        }
      }
    }
  }
  return problems;
}

/**
 * A wait step's SQS queue that the stack's `taskTokenQueues` does not list would only fail
 * when a run reaches the step (the state service refuses the open, Argo retries it, the run
 * fails): refuse it here. The queue is the literal URL, or the stack's value of the
 * `env.value(key)` it reads; a key the stack does not set is missingValues' to report.
 */
export function unlistedTaskTokenQueues(environment: Environment, files: ReadonlyMap<string, string>): string[] {
  const listed = environment.taskTokenQueues.map((q) => q.url);
  const values: Readonly<Record<string, string>> = { ...environment.workflowValues, 'task-token-queues': listed.join(',') };
  const setting = `stacks/Pulumi.${environment.stack}.yaml`;
  const problems: string[] = [];
  for (const [file, text] of files) {
    for (const doc of parseAllDocuments(text).map((d) => d.toJS() as unknown)) {
      for (const read of taskTokenQueueReads(doc)) {
        if (read.key !== undefined && !environment.valueKeys.includes(read.key)) continue;
        const url = read.key !== undefined ? values[read.key] : read.queueUrl;
        if (url !== undefined && listed.includes(url)) continue;
        const at = `dist/${environment.stack}/${file}: ${read.resource} (template ${read.template})`;
        if (url === undefined) {
          problems.push(`${at} reads its task-token queue from "${read.key}", which the platform sets to no queue URL; read it from a key of swoop-platform:workflowValues in ${setting}`);
        } else {
          const from = read.key !== undefined ? ` (env.value("${read.key}") in stack ${environment.stack})` : '';
          const or = read.key !== undefined ? `, or set swoop-platform:workflowValues.${read.key} to a listed queue` : '';
          problems.push(`${at} sends task tokens to SQS queue ${url}${from}, which stack ${environment.stack} does not list in taskTokenQueues, so the state service would refuse it; add {url: ${url}} to swoop-platform:taskTokenQueues in ${setting}${or}`);
        }
      }
    }
  }
  return problems;
}

/**
 * Writes `dist/<stack>/` for each environment; removes YAML files at the top of `dist/` and
 * folders of stacks that no longer exist, so dist/ holds only what some stack deploys.
 */
export function writeEnvironments(manifests: readonly EnvironmentManifests[], dist: string): void {
  const stacks = new Set(manifests.map((m) => m.environment.stack));
  for (const entry of existsSync(dist) ? readdirSync(dist) : []) {
    const path = join(dist, entry);
    if (statSync(path).isDirectory() ? !stacks.has(entry) && onlyYaml(path) : entry.endsWith('.yaml')) rmSync(path, { recursive: true });
  }
  for (const m of manifests) writeFiles(m.files, join(dist, m.environment.stack));
}

/** How `dist` differs from `manifests`, one `stale|missing|extra: dist/<path>` line per file. */
export function compareEnvironments(manifests: readonly EnvironmentManifests[], dist: string): string[] {
  const stacks = new Set(manifests.map((m) => m.environment.stack));
  const problems: string[] = [];
  for (const entry of existsSync(dist) ? readdirSync(dist).sort() : []) {
    const path = join(dist, entry);
    if (statSync(path).isDirectory() ? !stacks.has(entry) : entry.endsWith('.yaml')) problems.push(`extra:   dist/${entry}`);
  }
  for (const m of manifests) {
    const diff = compareFiles(m.files, join(dist, m.environment.stack));
    const at = (f: string) => `dist/${m.environment.stack}/${f}`;
    problems.push(...diff.stale.map((f) => `stale:   ${at(f)}`), ...diff.missing.map((f) => `missing: ${at(f)}`), ...diff.extra.map((f) => `extra:   ${at(f)}`));
  }
  return problems;
}

function onlyYaml(dir: string): boolean {
  return readdirSync(dir).every((f) => f.endsWith('.yaml') && statSync(join(dir, f)).isFile());
}

/** Reads `dist/<stack>/` back as a Map of file name -> text (tests, tools). */
export function readEnvironmentDist(dist: string, stack: string): Map<string, string> {
  const dir = join(dist, stack);
  return new Map(readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}
