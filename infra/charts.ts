/**
 * Every Helm chart the platform installs, pinned. Bumping a version is a reviewed change in
 * one place; the Argo pins match the values files the tests check keys against
 * (`<reference>/helm/<chart>-<version>-values.yaml`).
 */
export interface ChartPin {
  readonly chart: string;
  readonly version: string;
  readonly repo: string;
}

export const CHARTS = {
  argoWorkflows: { chart: 'argo-workflows', version: '1.0.18', repo: 'https://argoproj.github.io/argo-helm' },
  argoEvents: { chart: 'argo-events', version: '2.4.22', repo: 'https://argoproj.github.io/argo-helm' },
  argoCd: { chart: 'argo-cd', version: '8.1.3', repo: 'https://argoproj.github.io/argo-helm' },
  externalSecrets: { chart: 'external-secrets', version: '0.19.2', repo: 'https://charts.external-secrets.io' },
  clusterAutoscaler: { chart: 'cluster-autoscaler', version: '9.46.6', repo: 'https://kubernetes.github.io/autoscaler' },
  // Chart 1.16.0 ships controller v2.16.0 (aws/eks-charts release v0.0.217).
  awsLoadBalancerController: { chart: 'aws-load-balancer-controller', version: '1.16.0', repo: 'https://aws.github.io/eks-charts' },
  nvidiaDevicePlugin: { chart: 'nvidia-device-plugin', version: '0.17.1', repo: 'https://nvidia.github.io/k8s-device-plugin' },
} as const satisfies Record<string, ChartPin>;

/** The `chart`, `version` and `repositoryOpts` of a helm.v3.Release installing `pin`. */
export function chartSource(pin: ChartPin): { chart: string; version: string; repositoryOpts: { repo: string } } {
  return { chart: pin.chart, version: pin.version, repositoryOpts: { repo: pin.repo } };
}
