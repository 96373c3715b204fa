/**
 * Assembles the running service: database, migrations (PGlite only: on PostgreSQL the
 * migration Job owns the schema), partition upkeep, the journal applier, the outbox
 * forwarder, the stuck-run sweeper and HTTP.
 */
import { SqsSender } from './sqs-delivery';
import type { FastifyInstance } from 'fastify';
import { ArgoClient } from './argo-client';
import { CallbackTaskLoop } from './callback-task-loop';
import { CallbackTasks } from './callback-tasks';
import type { StateServiceConfig } from './config';
import { type Db, openDb } from './db';
import { catchUp, JournalApplier } from './journal';
import { StateMetrics } from './metrics';
import { migrate } from './migrate';
import { OutboxForwarder } from './outbox';
import { buildStateServer } from './server';
import { listenAlb, listenSso, type SsoListener } from './dashboard/sso-listener';
import { KubeClient } from './kube-client';
import { StateStore } from './store';
import { Submitter } from './submit';
import { S3PayloadReader } from './payload-reader';
import { StuckRunSweeper } from './sweeper';

export interface RunningStateService {
  readonly db: Db;
  readonly app: FastifyInstance;
  readonly url: string;
  readonly applier: JournalApplier;
  readonly metrics: StateMetrics;
  /** Where GET /metrics is served (METRICS_PORT). */
  readonly metricsUrl: string;
  /** Where the dashboard believes the SSO proxy's header (DASHBOARD_SSO_PORT); undefined without DASHBOARD_SSO_HEADER. */
  readonly dashboardSsoUrl?: string;
  /** Where the dashboard believes the ALB's signed OIDC header (DASHBOARD_ALB_PORT); undefined without DASHBOARD_ALB_OIDC. */
  readonly dashboardAlbUrl?: string;
  readonly forwarder?: OutboxForwarder;
  readonly sweeper?: StuckRunSweeper;
  readonly callbackTaskLoop?: CallbackTaskLoop;
  close(): Promise<void>;
}

const HOUR_MS = 3_600_000;

export async function startStateService(config: StateServiceConfig, options: { log?: boolean } = {}): Promise<RunningStateService> {
  const db = await openDb({ url: config.databaseUrl, dataDir: config.pgliteDir, schema: config.schema, maxConnections: config.maxConnections });
  if (db.kind === 'pglite') await migrate(db);
  const log = (msg: string, fields?: Record<string, unknown>) => console.error(JSON.stringify({ msg, ...fields }));
  const metrics = new StateMetrics({ db });
  const forwarder = config.lifecycleUrl
    ? new OutboxForwarder({ db, url: config.lifecycleUrl, token: config.lifecycleToken, log, onAttempt: (ok) => metrics.delivery(ok) })
    : undefined;
  // A run that finished wakes the forwarder so its notification leaves at once.
  const applier = new JournalApplier({ db, log, onApplied: (n) => {
    metrics.eventsApplied(n);
    forwarder?.nudge();
  } });
  const store = new StateStore(db, { onAccepted: (n) => applier.nudge(n), observer: metrics });
  // Month partitions are made ahead; failures only matter once the default partition is
  // all that is left, so they are logged, not fatal.
  const upkeep = () => store.ensurePartitions().catch((err: Error) => log('partition upkeep failed', { error: err.message }));
  await upkeep();
  const timer = setInterval(upkeep, HOUR_MS);
  timer.unref();
  // Wait-for-callback answers resume Argo nodes only when an Argo Server is configured.
  const callbackTaskLoop = config.argoServer
    ? new CallbackTaskLoop({ db, argo: new ArgoClient(config.argoServer), log })
    : undefined;
  const callbackTasks = new CallbackTasks({
    db, canResume: callbackTaskLoop !== undefined, onAnswered: () => callbackTaskLoop?.nudge(),
    ...(config.taskTokenQueues?.length ? { sqs: new SqsSender({ allowedQueues: config.taskTokenQueues }) } : {}),
  });
  // Claim before create (POST /submit) needs the Kubernetes API; without it the route says so.
  const payloads = config.payloads ? new S3PayloadReader(config.payloads) : undefined;
  const submitter = config.kube ? new Submitter({
    store, kube: new KubeClient(config.kube), namespace: config.kube.namespace, payloads,
    onOutcome: (workflow, outcome) => metrics.submitted(workflow, outcome),
  }) : undefined;
  const app = buildStateServer({
    store,
    submitter,
    callbackTasks,
    writerToken: config.writerToken,
    readerToken: config.readerToken,
    publicUrl: config.publicUrl,
    processes: config.processes,
    metrics,
    dashboard: config.dashboard,
    logger: options.log ? { level: config.logLevel } : false,
  });
  const sweeper = config.stuckRuns
    ? new StuckRunSweeper({ db, ...config.stuckRuns, log, onEnded: (runs) => {
      metrics.runsSwept(runs);
      forwarder?.nudge();
    } })
    : undefined;
  const url = await app.listen({ host: config.host, port: config.port });
  const metricsUrl = await metrics.listen(config.host, config.metricsPort ?? 0);
  const sso: SsoListener | undefined = config.dashboard?.ssoHeader ? await listenSso(app, config.host, config.dashboard.ssoPort ?? 0) : undefined;
  const albListener: SsoListener | undefined = config.dashboard?.albOidc ? await listenAlb(app, config.host, config.dashboard.albPort ?? 0) : undefined;
  applier.start();
  forwarder?.start();
  sweeper?.start();
  callbackTaskLoop?.start();
  return {
    db,
    app,
    url,
    applier,
    metrics,
    metricsUrl,
    dashboardSsoUrl: sso?.url,
    dashboardAlbUrl: albListener?.url,
    forwarder,
    sweeper,
    callbackTaskLoop,
    close: async () => {
      clearInterval(timer);
      await callbackTaskLoop?.stop();
      await sweeper?.stop();
      await forwarder?.stop();
      await sso?.close();
      await albListener?.close();
      await app.close();
      await metrics.close();
      await applier.stop();
      // Apply what this replica accepted last, so nothing waits for another replica or the
      // next start; if the database is gone, the events stay in the journal for them.
      await catchUp(db).catch(() => undefined);
      await db.close();
      payloads?.destroy();
    },
  };
}
