/** `npm run state:serve`: the state service from the environment (see docs/state.md). */
import { configFromEnv } from './config';
import { startStateService } from './service';

async function main(): Promise<void> {
  const config = configFromEnv();
  const service = await startStateService(config, { log: true });
  const lines = [
    `swoop state service listening on ${service.url}`,
    `  metrics: ${service.metricsUrl}/metrics (no token)`,
    `  dashboard: ${service.url}/dashboard${service.dashboardSsoUrl ? `; behind the SSO proxy ${service.dashboardSsoUrl}/dashboard (header ${config.dashboard?.ssoHeader} believed only there)` : ''}${service.dashboardAlbUrl ? `; behind the ALB ${service.dashboardAlbUrl}/dashboard (its signed x-amzn-oidc-data verified, by ${config.dashboard?.albOidc?.signer})` : ''}`,
    `  database: ${service.db.location}`,
    `  lifecycle forwarding: ${config.lifecycleUrl ?? 'off (LIFECYCLE_URL unset)'}`,
    `  submissions (POST /submit): ${config.kube
      ? `claim, then create Workflows in namespace ${config.kube.namespace} through ${config.kube.url}`
      : 'refused (no Kubernetes API: run in the cluster, or set KUBE_API_URL, KUBE_TOKEN_FILE and WORKFLOW_NAMESPACE)'}`,
    `  wait-for-callback steps: ${config.argoServer ? `resumed through ${config.argoServer.url}` : 'refused (ARGO_SERVER_URL unset)'}`,
    `  stuck-run sweeper: ${config.stuckRuns
      ? `every ${config.stuckRuns.intervalMs / 1000} s (grace ${config.stuckRuns.graceMs / 1000} s, max silence ${config.stuckRuns.maxSilenceMs / 1000} s)`
      : 'off (STUCK_RUN_SWEEP_INTERVAL_SECONDS=0)'}`,
  ];
  if (config.generatedTokens) {
    lines.push(`  writer token: ${config.writerToken}`, `  reader token: ${config.readerToken}`,
      '  (generated for this run; set STATE_WRITE_TOKEN / STATE_READ_TOKEN to choose them)');
  }
  console.log(lines.join('\n'));
  const shutdown = () => {
    service.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((err: Error) => {
  console.error(`state:serve: ${err.message}`);
  process.exit(1);
});
