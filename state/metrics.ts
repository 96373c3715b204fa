/**
 * The state service's Prometheus metrics (prom-client), served on a port of their own
 * (METRICS_PORT, default 9464) without a token: they hold counts by workflow and route, no
 * payload, and Prometheus then needs no credential that reads payloads (docs/metrics.md).
 *
 * Two kinds, chosen so every replica's numbers add up or agree:
 * - Counters of what this replica did (events accepted, claims answered, submissions,
 *   events applied, deliveries, runs swept, HTTP requests): each request or round happens in one replica,
 *   so `sum` over replicas is the service's total.
 * - Gauges read from the database on each scrape (journal backlog and its age, outbox
 *   pending, oldest and failing rows, active runs): one bounded query, the same answer in
 *   every replica, so alerts take `max` over replicas. Each sub-query reads at most
 *   `scanLimit` rows through an index or the head of a queue table, so a scrape stays cheap
 *   at millions of runs; a count that reaches the limit reads "at least this many".
 *
 * Label values are bounded: workflow names are capped at `maxWorkflows` distinct values per
 * process (ingress reports payloads naming workflows that do not exist; past the cap they
 * count as "_other"), routes are fastify's route templates (`/runs/:run`), never raw URLs,
 * and no label carries a payload id or run name.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Queryable } from './db';
import { RUN_STATES, type RunState } from './states';
import type { ClaimResult } from './store';
import type { EndedRun } from './sweeper';

export const METRICS_DEFAULT_PORT = 9464;
export const METRICS_PATH = '/metrics';
/** What a workflow label reads once `maxWorkflows` distinct names were seen. */
export const OTHER_WORKFLOW = '_other';
/** The route label of requests no route matched (404s). */
export const UNMATCHED_ROUTE = '_unmatched';

export interface StateMetricsProps {
  /** Where the scrape-time gauges are read. */
  readonly db: Queryable;
  /** Distinct workflow label values per process; more count as "_other". Default: 200. */
  readonly maxWorkflows?: number;
  /** Most rows each scrape-time sub-query reads. Default: 10000. */
  readonly scanLimit?: number;
  /** A pending outbox row that failed this many deliveries counts as a dead letter. Default: 10 (about 20 minutes of retries). */
  readonly deadLetterAttempts?: number;
  /** Process metrics (CPU, memory, event loop lag, GC). Default: true. */
  readonly processMetrics?: boolean;
}

/** How a claim was answered, from swoop_claim's reason (0005): a bounded label. */
export function claimReasonKind(result: Pick<ClaimResult, 'claimed' | 'reason'>): string {
  const r = result.reason;
  if (result.claimed) return r.startsWith('replace') ? 'replace' : r.startsWith('retry') ? 'retry' : 'new';
  if (r.startsWith('payload is active')) return 'active';
  if (r.startsWith('payload already succeeded')) return 'succeeded';
  return 'mismatch'; // the run belongs to another payload or already finished
}

/** Why the sweeper ended a run (0007's reason text): a bounded label. */
export function sweepReasonKind(reason: string): 'deadline' | 'silence' {
  return reason.includes('by the deadline') ? 'deadline' : 'silence';
}

interface ScrapeRow {
  journal_pending: number;
  journal_oldest_age: number | null;
  journal_rejected: number;
  outbox_pending: number;
  outbox_oldest_age: number | null;
  outbox_dead_letters: number;
  runs_active: number;
}

// One round trip per scrape. Every sub-query is bounded by $1 rows: the journal and the
// outbox's pending rows through their primary key and partial index (outbox_due), the
// active runs among the $1 most recently created (runs_by_time): no index on runs carries
// state (docs/state.md), so "all active runs" would be a scan of the whole table.
const SCRAPE_SQL = `SELECT
  (SELECT count(*) FROM (SELECT 1 FROM event_journal LIMIT $1) x)::int AS journal_pending,
  (SELECT extract(epoch FROM now() - accepted_at) FROM event_journal ORDER BY id LIMIT 1)::float8 AS journal_oldest_age,
  (SELECT count(*) FROM (SELECT 1 FROM event_journal_rejects LIMIT $1) x)::int AS journal_rejected,
  (SELECT count(*) FROM (SELECT 1 FROM outbox WHERE delivered_at IS NULL LIMIT $1) x)::int AS outbox_pending,
  (SELECT extract(epoch FROM now() - min(created_at)) FROM (SELECT created_at FROM outbox WHERE delivered_at IS NULL LIMIT $1) x)::float8 AS outbox_oldest_age,
  (SELECT count(*) FROM (SELECT 1 FROM outbox WHERE delivered_at IS NULL AND attempts >= $2 LIMIT $1) x)::int AS outbox_dead_letters,
  (SELECT count(*) FROM (SELECT state FROM runs ORDER BY created_at DESC, run DESC LIMIT $1) x
   WHERE x.state IN ('PENDING', 'QUEUED', 'RUNNING'))::int AS runs_active`;

/**
 * Keeps the first `max` distinct values; later ones read OTHER_WORKFLOW. `onFirst` is told of
 * each value kept (and of OTHER_WORKFLOW) the first time.
 */
class BoundedValues {
  private readonly seen = new Set<string>();
  private other = false;
  constructor(private readonly max: number, private readonly onFirst: (value: string) => void) {}

  of(value: string): string {
    if (this.seen.has(value)) return value;
    if (this.seen.size < this.max) {
      this.seen.add(value);
      this.onFirst(value);
      return value;
    }
    if (!this.other) {
      this.other = true;
      this.onFirst(OTHER_WORKFLOW);
    }
    return OTHER_WORKFLOW;
  }
}

const CLAIM_REASONS = { claimed: ['new', 'retry', 'replace'], refused: ['active', 'succeeded', 'mismatch'] } as const;

/**
 * How `POST /submit` ended (state/submit.ts): `created` the Workflow; `duplicate` nothing to
 * do (the Workflow already exists, or the run already finished); `refused` the claim was
 * refused; `unavailable` the API server could not take it (503, the trigger retries);
 * `failed` the API server refused it for good (502, the run recorded FAILED).
 */
export const SUBMIT_OUTCOMES = ['created', 'duplicate', 'refused', 'unavailable', 'failed'] as const;
export type SubmitOutcome = (typeof SUBMIT_OUTCOMES)[number];

export class StateMetrics {
  readonly registry = new Registry();
  private readonly workflows: BoundedValues;
  private readonly scanLimit: number;
  private readonly deadLetterAttempts: number;
  private refreshing?: Promise<void>;
  private server?: Server;

  private readonly events: Counter<'workflow' | 'state'>;
  private readonly claims: Counter<'workflow' | 'outcome' | 'reason'>;
  private readonly applied: Counter;
  private readonly deliveries: Counter<'outcome'>;
  private readonly swept: Counter<'workflow' | 'reason'>;
  private readonly submissions: Counter<'workflow' | 'outcome'>;
  private readonly http: Histogram<'method' | 'route' | 'status'>;
  private readonly gauges: Record<keyof ScrapeRow, Gauge>;
  private readonly databaseUp: Gauge;

  constructor(private readonly props: StateMetricsProps) {
    const maxWorkflows = props.maxWorkflows ?? 200;
    this.scanLimit = props.scanLimit ?? 10_000;
    this.deadLetterAttempts = props.deadLetterAttempts ?? 10;
    for (const [name, v] of [['maxWorkflows', maxWorkflows], ['scanLimit', this.scanLimit], ['deadLetterAttempts', this.deadLetterAttempts]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`StateMetrics: ${name} must be a positive integer (got ${v})`);
    }
    this.workflows = new BoundedValues(maxWorkflows, (w) => this.zeroSeries(w));
    const registers = [this.registry];
    this.events = new Counter({
      name: 'swoop_state_lifecycle_events_total', registers, labelNames: ['workflow', 'state'],
      help: 'Lifecycle events accepted, by workflow and the state they report (RUNNING: a run started; SUCCESSFUL, FAILED, TIMED_OUT, CANCELED: a run finished; INVALID: ingress refused a payload).',
    });
    this.claims = new Counter({
      name: 'swoop_state_claims_total', registers, labelNames: ['workflow', 'outcome', 'reason'],
      help: 'Claims answered, by workflow, outcome (claimed, refused) and reason (new, retry, replace; active, succeeded, mismatch).',
    });
    this.applied = new Counter({
      name: 'swoop_state_journal_applied_total', registers,
      help: "Accepted events this replica's background applier recorded (reads and claims catching up apply the rest).",
    });
    this.deliveries = new Counter({
      name: 'swoop_state_outbox_deliveries_total', registers, labelNames: ['outcome'],
      help: 'run.finished notifications posted to the lifecycle webhook, by outcome (delivered, failed: retried later).',
    });
    this.swept = new Counter({
      name: 'swoop_state_sweeper_runs_ended_total', registers, labelNames: ['workflow', 'reason'],
      help: 'Runs the stuck-run sweeper recorded TIMED_OUT, by workflow and reason (deadline: past its deadline and grace; silence: no deadline and silent too long).',
    });
    this.submissions = new Counter({
      name: 'swoop_state_submissions_total', registers, labelNames: ['workflow', 'outcome'],
      help: 'POST /submit answers by workflow and outcome (created; duplicate: already created or finished; refused: claim refused; unavailable: the Kubernetes API could not take it, retried; failed: refused for good, run recorded FAILED).',
    });
    this.http = new Histogram({
      name: 'swoop_state_http_request_duration_seconds', registers, labelNames: ['method', 'route', 'status'],
      help: `HTTP requests by method, route template and status code (route ${UNMATCHED_ROUTE}: no route matched).`,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
    for (const outcome of ['delivered', 'failed']) this.deliveries.inc({ outcome }, 0);
    const gauge = (name: string, help: string) => new Gauge({ name, help, registers });
    const bound = `read on scrape, counting at most ${this.scanLimit}`;
    this.gauges = {
      journal_pending: gauge('swoop_state_journal_pending', `Events accepted and not applied yet (${bound}).`),
      journal_oldest_age: gauge('swoop_state_journal_oldest_age_seconds', 'Age of the oldest event accepted and not applied: the apply lag (0 when none waits).'),
      journal_rejected: gauge('swoop_state_journal_rejected', `Accepted events the recording rules refused (event_journal_rejects; should stay 0; ${bound}).`),
      outbox_pending: gauge('swoop_state_outbox_pending', `run.finished notifications not delivered yet (${bound}).`),
      outbox_oldest_age: gauge('swoop_state_outbox_oldest_pending_age_seconds', `Age of the oldest undelivered notification (0 when none; among the first ${this.scanLimit} pending).`),
      outbox_dead_letters: gauge('swoop_state_outbox_dead_letters', `Undelivered notifications that failed at least ${this.deadLetterAttempts} deliveries (${bound}).`),
      runs_active: gauge('swoop_state_runs_active', `Runs PENDING, QUEUED or RUNNING among the ${this.scanLimit} most recently created.`),
    };
    this.databaseUp = gauge('swoop_state_database_up', '1 when the last scrape could read the state database, else 0 (the database gauges then read NaN).');
    if (props.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Creates a workflow's series at 0 when it is first seen: `increase()` and `rate()` count
   * nothing for a series' first sample, so without them a workflow's first failures or
   * sweeps in each process would be invisible to the alerts.
   */
  private zeroSeries(workflow: string): void {
    for (const state of RUN_STATES) this.events.inc({ workflow, state }, 0);
    for (const [outcome, reasons] of Object.entries(CLAIM_REASONS)) for (const reason of reasons) this.claims.inc({ workflow, outcome, reason }, 0);
    for (const reason of ['deadline', 'silence']) this.swept.inc({ workflow, reason }, 0);
    for (const outcome of SUBMIT_OUTCOMES) this.submissions.inc({ workflow, outcome }, 0);
  }

  /** A lifecycle event was durably accepted. */
  eventAccepted(workflow: string, state: RunState): void {
    this.events.inc({ workflow: this.workflows.of(workflow), state });
  }

  /** A claim was answered (after its commit). */
  claimAnswered(workflow: string, result: Pick<ClaimResult, 'claimed' | 'reason'>): void {
    this.claims.inc({ workflow: this.workflows.of(workflow), outcome: result.claimed ? 'claimed' : 'refused', reason: claimReasonKind(result) });
  }

  /** A submission (POST /submit) was answered. */
  submitted(workflow: string, outcome: SubmitOutcome): void {
    this.submissions.inc({ workflow: this.workflows.of(workflow), outcome });
  }

  /** The background applier recorded `count` events. */
  eventsApplied(count: number): void {
    this.applied.inc(count);
  }

  /** One delivery attempt of a notification ended. */
  delivery(delivered: boolean): void {
    this.deliveries.inc({ outcome: delivered ? 'delivered' : 'failed' });
  }

  /** The sweeper ended these runs. */
  runsSwept(runs: readonly Pick<EndedRun, 'workflow' | 'reason'>[]): void {
    for (const r of runs) this.swept.inc({ workflow: this.workflows.of(r.workflow), reason: sweepReasonKind(r.reason) });
  }

  /** Times every request of `app` by its route template. Call before the app is ready. */
  instrument(app: FastifyInstance): void {
    app.addHook('onResponse', async (req, reply) => {
      const route = req.routeOptions.url ?? UNMATCHED_ROUTE;
      this.http.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    });
  }

  /** Reads the database gauges (one bounded query; concurrent scrapes share it). */
  refresh(): Promise<void> {
    this.refreshing ??= this.readDatabase().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async readDatabase(): Promise<void> {
    try {
      const [row] = await this.props.db.query<ScrapeRow>(SCRAPE_SQL, [this.scanLimit, this.deadLetterAttempts]);
      for (const [key, g] of Object.entries(this.gauges) as [keyof ScrapeRow, Gauge][]) g.set(Number(row![key] ?? 0));
      this.databaseUp.set(1);
    } catch {
      // Unknown, not stale: alerts on these gauges go quiet and SwoopStateServiceNotReady speaks.
      for (const g of Object.values(this.gauges)) g.set(Number.NaN);
      this.databaseUp.set(0);
    }
  }

  /** The exposition, database gauges read first. */
  async exposition(): Promise<string> {
    await this.refresh();
    return this.registry.metrics();
  }

  /** Serves GET /metrics on its own port; returns the base URL. */
  async listen(host: string, port: number): Promise<string> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method !== 'GET' || path !== METRICS_PATH) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end(`only GET ${METRICS_PATH} is served on this port\n`);
        return;
      }
      this.exposition().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const address = server.address() as AddressInfo;
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${shown}:${address.port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
