/**
 * The CLI's tests run `swoop` in-process (cli/main.ts `main`) with their own streams and
 * environment, against the e2e suites' platform on loopback: the real state service
 * (PGlite, or PostgreSQL with DATABASE_URL), the ingress webhook's own checks (endpoint,
 * method, Bearer token of its EventSource) and the suites' synthesized manifests, written to a
 * folder as a deployment's `dist/<stack>` would be. The "cluster" side of a delivery is the
 * same as test/e2e's: the simulator runs the received request through the sensors, and
 * The state service claims and creates the Workflow (POST /submit); ArgoRun drives it through
 * its running hook and exit handler.
 */
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { stringify } from 'yaml';
import type { ProgressStream } from '../../cli/io';
import { main } from '../../cli/main';
import { Simulator, type SimulatedEvent } from '../../tools/simulator';
import type { Doc } from '../e2e/support/argo';
import { startPlatform, synthesizeManifests, webhookOf, WebhookReceiver, type Manifests, type RunningPlatform, READER_TOKEN } from '../e2e/support/platform';
import { submissions } from '../support/submissions';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `swoop <argv>` in-process. */
export async function swoop(argv: readonly string[], o: { env?: NodeJS.ProcessEnv; cwd: string; stdin?: string; signal?: AbortSignal; progress?: ProgressStream }): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    stdin: Readable.from([o.stdin ?? '']),
    ...(o.progress ? { progress: o.progress } : {}),
    env: { HOME: o.cwd, ...o.env },
    cwd: o.cwd,
    signal: o.signal ?? new AbortController().signal,
  });
  return { code, stdout, stderr };
}

/** Writes manifests as `npm run synth` lays out dist/<stack>/ (one folder of YAML). */
export function writeManifests(dir: string, docs: readonly Doc[]): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'all.yaml'), docs.map((d) => stringify(d)).join('---\n'));
  return dir;
}

export const INGRESS_TOKEN_ENV = 'TEST_SWOOP_INGRESS_TOKEN';
export const READ_TOKEN_ENV = 'TEST_SWOOP_READ_TOKEN';

export interface CliPlatform {
  readonly manifests: Manifests;
  readonly platform: RunningPlatform;
  readonly ingress: WebhookReceiver;
  readonly ingressToken: string;
  /** a folder with swoop.config.yaml (deployment `test`) and manifests/ */
  readonly dir: string;
  /** the environment holding the tokens the config names */
  readonly env: NodeJS.ProcessEnv;
  readonly sim: Simulator;
  /** what the ingress sensor created for the i-th accepted delivery */
  submitted(event: SimulatedEvent): { name: string; template: string; params: Record<string, string> }[];
  /** drives the Workflow created for a delivery: claim, running, then completed with `phase` */
  runWorkflow(created: { name: string; template: string; params: Record<string, string> }, phase: 'Succeeded' | 'Failed' | 'Error' | 'claim-only', failures?: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startCliPlatform(): Promise<CliPlatform> {
  const manifests = synthesizeManifests();
  const platform = await startPlatform(manifests);
  const spec = webhookOf(manifests.find('EventSource', 'swoop-ingress'));
  const ingressToken = platform.cluster.secrets[spec.authSecret.name]![spec.authSecret.key]!;
  const ingress = new WebhookReceiver(spec, ingressToken);
  await ingress.start();
  const dir = mkdtempSync(join(tmpdir(), 'swoop-cli-'));
  writeManifests(join(dir, 'manifests'), manifests.docs);
  writeFileSync(join(dir, 'swoop.config.yaml'), stringify({
    default: 'test',
    deployments: {
      test: {
        state: { url: platform.stateUrl, readToken: { env: READ_TOKEN_ENV } },
        ingress: { via: 'webhook', webhook: { url: ingress.endpointUrl, token: { env: INGRESS_TOKEN_ENV } } },
        manifests: './manifests',
      },
    },
  }));
  const sim = new Simulator(manifests.docs);
  // The runs the sensor hands to the state service (POST /submit), as the service reads them.
  const submitted = (event: SimulatedEvent) => submissions(sim.deliver(event).firings).map(({ name, template, params }) => ({ name, template, params }));
  return {
    manifests, platform, ingress, ingressToken, dir, sim, submitted,
    env: { [READ_TOKEN_ENV]: READER_TOKEN, [INGRESS_TOKEN_ENV]: ingressToken },
    async runWorkflow(created, phase, failures = '') {
      // The state service claims the payload and creates the Workflow (nothing when refused).
      const answer = await platform.submit(created.template, created.params, { name: created.name, startedBy: 'ingress' });
      if (answer.status !== 200 && answer.status !== 201) throw new Error(`submit answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      if (phase === 'claim-only' || !answer.run) return;
      const run = answer.run;
      const running = await run.running();
      if (running.status !== 202) throw new Error(`running answered ${running.status}: ${running.body}`);
      const completed = await run.completed(phase, failures);
      if (completed.status !== 202) throw new Error(`completed answered ${completed.status}: ${completed.body}`);
    },
    async stop() {
      await ingress.stop();
      await platform.stop();
    },
  };
}

/** Waits until `n` deliveries reached the ingress. */
export async function deliveries(ingress: WebhookReceiver, n: number, timeoutMs = 10_000): Promise<WebhookReceiver['accepted']> {
  const until = Date.now() + timeoutMs;
  while (ingress.accepted.length < n) {
    if (Date.now() > until) throw new Error(`${ingress.accepted.length} deliveries, expected ${n}; rejected: ${JSON.stringify(ingress.rejected)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return ingress.accepted;
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
