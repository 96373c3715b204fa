/**
 * One name per alert, wherever it is raised: the PrometheusRule of the state service
 * (constructs/state-monitoring.ts) and the stack's CloudWatch alarms (infra/alarms.ts,
 * infra/ingress-queue.ts, named `<clusterName>-<alert>`). A condition both watch carries the
 * same name in both, so an operator paged by either finds the same runbook entry
 * (docs/metrics.md lists them all).
 */
export const ALERTS = {
  /** Prometheus: the share of a workflow's finished runs that failed. */
  workflowFailureRate: 'SwoopWorkflowFailureRate',
  /** Prometheus: a run.finished notification undelivered for too long. */
  outboxStuck: 'SwoopStateOutboxStuck',
  /** Prometheus: accepted events waiting too long to be applied. */
  applyLag: 'SwoopStateApplyLag',
  /** Prometheus: events the recording rules refused. */
  journalRejects: 'SwoopStateJournalRejects',
  /** Prometheus: runs are active but no lifecycle event arrives. */
  noEvents: 'SwoopStateNoEvents',
  /** Prometheus: the sweeper ended runs that never reported their end. */
  runsSwept: 'SwoopStateRunsSwept',
  /** Prometheus: POST /submit cannot create a workflow's runs (the Kubernetes API is down or refuses them). */
  submissionsFailing: 'SwoopStateSubmissionsFailing',
  /** Prometheus and CloudWatch: nothing can record runs or claim payloads. */
  serviceNotReady: 'SwoopStateServiceNotReady',
  /** CloudWatch: the state database's CPU. */
  databaseCpu: 'SwoopStateDatabaseCpuHigh',
  /** CloudWatch: the state database's free storage. */
  databaseStorage: 'SwoopStateDatabaseStorageLow',
  /** CloudWatch: the state database's connections. */
  databaseConnections: 'SwoopStateDatabaseConnectionsHigh',
  /** CloudWatch: payloads in the ingress dead-letter queue. */
  ingressDeadLetters: 'SwoopIngressDeadLetters',
} as const;

export type AlertName = (typeof ALERTS)[keyof typeof ALERTS];

/** The CloudWatch alarm name of an alert in a cluster's account and region. */
export const cloudWatchAlarmName = (clusterName: string, alert: AlertName): string => `${clusterName}-${alert}`;
