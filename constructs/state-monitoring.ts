/**
 * Prometheus-operator objects for the state service: a ServiceMonitor scraping its `metrics`
 * port (state/metrics.ts, no token) and a PrometheusRule with its alerts (docs/metrics.md).
 * Every expression reads only what the service exposes plus the scrape's own `up`; the
 * tests evaluate each one with promtool over series taken from the real service's /metrics.
 *
 * Counters are per replica, so expressions `sum` them; the database gauges are the same in
 * every replica, so expressions take their `max`.
 */
import { Chart, type ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { ALERTS } from './alert-names';
import { failAt, standardLabels } from './names';
import { SWOOP_NAMESPACE } from './platform';
import { type PromDuration, PrometheusRule, type RuleGroup, ServiceMonitor } from './prometheus';
import { STATE_METRICS_PORT_NAME, STATE_SERVICE_NAME } from './state-service';

export interface StateAlertThresholds {
  /** Share of a workflow's finished runs (SUCCESSFUL, FAILED, TIMED_OUT) that failed, over `failureWindow`. Default: 0.25. */
  readonly failureRatio?: number;
  /** Fewest finished runs in the window before the share counts. Default: 4. */
  readonly failureMinRuns?: number;
  /** Default: 1h. */
  readonly failureWindow?: PromDuration;
  /** Oldest undelivered run.finished notification, seconds. Default: 900 (retries back off to 5 minutes). */
  readonly outboxMaxAgeSeconds?: number;
  /** Oldest accepted, unapplied event, seconds. Default: 60 (the applier normally takes them within 250 ms). */
  readonly applyLagSeconds?: number;
  /**
   * No lifecycle event for this long while runs are active. Set it above your longest
   * workflow's run time: a run reports when it starts and when it ends, nothing between.
   * Default: 1h.
   */
  readonly noEventsFor?: PromDuration;
}

export interface StateMonitoringProps extends StateAlertThresholds {
  /** Namespace of the state service (and of these objects). Default: `swoop`. */
  readonly namespace?: string;
  /** Default: 30s. */
  readonly scrapeInterval?: PromDuration;
  /**
   * Labels the Prometheus's `serviceMonitorSelector` / `ruleSelector` match (kube-prometheus-stack
   * selects `release: <its release name>` by default). Default: none.
   */
  readonly selectorLabels?: Readonly<Record<string, string>>;
}

/** The `job` label Prometheus gives the service's targets: the Service's name (no jobLabel). */
export const STATE_METRICS_JOB = STATE_SERVICE_NAME;

const seconds = (d: PromDuration | undefined, fallback: PromDuration): PromDuration => d ?? fallback;

/** The alert rules, by name (constructs/alert-names.ts). */
export function stateAlertRules(props: StateAlertThresholds & { readonly namespace?: string } = {}): RuleGroup[] {
  const ns = props.namespace ?? SWOOP_NAMESPACE;
  const ratio = props.failureRatio ?? 0.25;
  const minRuns = props.failureMinRuns ?? 4;
  const window = seconds(props.failureWindow, '1h');
  const quiet = seconds(props.noEventsFor, '1h');
  const outboxAge = props.outboxMaxAgeSeconds ?? 900;
  const lag = props.applyLagSeconds ?? 60;
  const sel = `job="${STATE_METRICS_JOB}", namespace="${ns}"`;
  const events = (states: string) => `sum by (workflow) (increase(swoop_state_lifecycle_events_total{${sel}, state=~"${states}"}[${window}]))`;
  const finished = events('SUCCESSFUL|FAILED|TIMED_OUT');
  const submissions = (outcome: string, range: PromDuration) => `sum by (workflow) (increase(swoop_state_submissions_total{${sel}, outcome="${outcome}"}[${range}])) > 0`;
  return [{
    name: 'swoop-state',
    rules: [
      {
        alert: ALERTS.serviceNotReady,
        // No replica answers the scrape, or none can read the database: nothing records runs
        // or claims payloads (CloudWatch raises the same alarm from pod readiness).
        expr: `(sum(up{${sel}}) or vector(0)) == 0 or max(swoop_state_database_up{${sel}}) == 0`,
        for: '5m',
        labels: { severity: 'critical' },
        annotations: {
          summary: 'The state service cannot record runs',
          description: `No ${ns}/${STATE_SERVICE_NAME} replica answers its metrics scrape, or none can read the state database, for 5 minutes: lifecycle events and claims fail and are retried by their callers.`,
        },
      },
      {
        alert: ALERTS.workflowFailureRate,
        expr: `(${events('FAILED|TIMED_OUT')} / ${finished}) > ${ratio} and ${finished} >= ${minRuns}`,
        for: '10m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Workflow {{ $labels.workflow }} is failing',
          description: `More than ${ratio * 100}% of the finished runs of workflow {{ $labels.workflow }} failed or timed out over ${window}. List them: GET /runs?workflow={{ $labels.workflow }}&state=FAILED.`,
        },
      },
      {
        alert: ALERTS.outboxStuck,
        expr: `max(swoop_state_outbox_oldest_pending_age_seconds{${sel}}) > ${outboxAge}`,
        for: '5m',
        labels: { severity: 'critical' },
        annotations: {
          summary: 'run.finished notifications are not delivered',
          description: `A run.finished notification has waited more than ${outboxAge} s: chains and callbacks do not fire. The lifecycle webhook refuses or is unreachable (swoop_state_outbox_deliveries_total{outcome="failed"}, outbox.last_error).`,
        },
      },
      {
        alert: ALERTS.applyLag,
        expr: `max(swoop_state_journal_oldest_age_seconds{${sel}}) > ${lag}`,
        for: '5m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Accepted events are not being applied',
          description: `An accepted lifecycle event has waited more than ${lag} s to be recorded (GET /journal). Reads and claims still catch up first, but each pays for the backlog.`,
        },
      },
      {
        alert: ALERTS.journalRejects,
        expr: `max(swoop_state_journal_rejected{${sel}}) > 0`,
        labels: { severity: 'warning' },
        annotations: {
          summary: 'The recording rules refused accepted events',
          description: 'event_journal_rejects holds events that were accepted and could not be recorded: a bug to look at; replay them after the fix (docs/state.md).',
        },
      },
      {
        alert: ALERTS.noEvents,
        expr: `max(swoop_state_runs_active{${sel}}) > 0 and (sum(increase(swoop_state_lifecycle_events_total{${sel}}[${quiet}])) or vector(0)) == 0`,
        for: '5m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Runs are active but no lifecycle event arrives',
          description: `Runs are PENDING, QUEUED or RUNNING but no lifecycle event has reached the state service for ${quiet}: the workflows' hooks cannot reach it (token, network) or Argo stopped running workflows.`,
        },
      },
      {
        alert: ALERTS.submissionsFailing,
        // A Workflow refused for good (its run recorded FAILED) is worth a look at once; an API
        // server that cannot take Workflows is retried by the sensors, so only when it lasts.
        expr: `${submissions('failed', '15m')} or ${submissions('unavailable', '5m')}`,
        for: '10m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Runs of {{ $labels.workflow }} cannot be created',
          description: 'POST /submit could not create Workflows of {{ $labels.workflow }}: the Kubernetes API refused one for good in the last 15 minutes (its run is recorded FAILED with the API server\'s answer: swoop runs list --workflow {{ $labels.workflow }} --state FAILED), or has answered unavailable (the sensors retry) for 10 minutes; check the API server and the state service\'s Role.',
        },
      },
      {
        alert: ALERTS.runsSwept,
        expr: `sum by (workflow) (increase(swoop_state_sweeper_runs_ended_total{${sel}}[1h])) > 0`,
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Runs of {{ $labels.workflow }} never reported their end',
          description: 'The stuck-run sweeper recorded TIMED_OUT for runs of workflow {{ $labels.workflow }} in the last hour: they were terminated, deleted or lost, or their exit handler cannot reach the state service.',
        },
      },
    ],
  }];
}

export class StateMonitoring extends Construct {
  readonly serviceMonitor: ServiceMonitor;
  readonly rule: PrometheusRule;

  constructor(scope: Construct, id: string, props: StateMonitoringProps = {}) {
    super(scope, id);
    const namespace = props.namespace ?? SWOOP_NAMESPACE;
    const ratio = props.failureRatio ?? 0.25;
    if (!(ratio > 0 && ratio < 1)) failAt(this.node.path, `failureRatio is ${ratio}; use a share between 0 and 1 (0.25 = a quarter of the finished runs)`);
    for (const [name, v] of [['failureMinRuns', props.failureMinRuns], ['outboxMaxAgeSeconds', props.outboxMaxAgeSeconds], ['applyLagSeconds', props.applyLagSeconds]] as const) {
      if (v !== undefined && !(Number.isInteger(v) && v > 0)) failAt(this.node.path, `${name} is ${v}; use a positive whole number`);
    }
    const labels = { ...standardLabels(STATE_SERVICE_NAME, 'state'), ...props.selectorLabels };
    const service = standardLabels(STATE_SERVICE_NAME, 'state');
    this.serviceMonitor = new ServiceMonitor(this, 'ServiceMonitor', {
      metadata: { name: STATE_SERVICE_NAME, namespace, labels },
      spec: {
        selector: { matchLabels: { 'app.kubernetes.io/name': service['app.kubernetes.io/name']!, 'app.kubernetes.io/component': service['app.kubernetes.io/component']! } },
        namespaceSelector: { matchNames: [namespace] },
        endpoints: [{ port: STATE_METRICS_PORT_NAME, path: '/metrics', scheme: 'http', interval: props.scrapeInterval ?? '30s' }],
      },
    });
    this.rule = new PrometheusRule(this, 'Rules', {
      metadata: { name: STATE_SERVICE_NAME, namespace, labels },
      spec: { groups: stateAlertRules({ ...props, namespace }) },
    });
  }
}

export interface StateMonitoringChartProps extends ChartProps, StateMonitoringProps {}

/**
 * A chart of its own (`dist/<stack>/state-monitoring.yaml`): these kinds exist only where the
 * Prometheus operator's CRDs are installed, so delivery applies the file only in stacks that
 * say so (`prometheusOperator`, infra/platform.ts).
 */
export class StateMonitoringChart extends Chart {
  readonly monitoring: StateMonitoring;

  constructor(scope: Construct, id: string, props: StateMonitoringChartProps = {}) {
    super(scope, id, { ...props, namespace: props.namespace ?? SWOOP_NAMESPACE });
    this.monitoring = new StateMonitoring(this, 'StateMonitoring', props);
  }
}
