/**
 * Typed cdk8s objects of the Prometheus operator (monitoring.coreos.com/v1): a ServiceMonitor
 * and a PrometheusRule, with the fields this project sets. The field names and shapes follow
 * the operator's CRDs (`monitoring.coreos.com_servicemonitors.yaml`,
 * `..._prometheusrules.yaml`); test/constructs/state-monitoring.test.ts holds a minimal schema
 * of both and checks every synthesized object against it.
 */
import { ApiObject, type ApiObjectMetadata } from 'cdk8s';
import type { Construct } from 'constructs';

export const MONITORING_API_VERSION = 'monitoring.coreos.com/v1';

/** A Prometheus duration as the CRDs accept it (`30s`, `5m`, `1h`). */
export type PromDuration = `${number}${'ms' | 's' | 'm' | 'h' | 'd' | 'w' | 'y'}`;

export interface ServiceMonitorEndpoint {
  /** Name of the Service port to scrape. */
  readonly port: string;
  readonly path?: string;
  readonly scheme?: 'http' | 'https';
  readonly interval?: PromDuration;
  readonly scrapeTimeout?: PromDuration;
}

export interface ServiceMonitorSpec {
  readonly selector: { readonly matchLabels: Readonly<Record<string, string>> };
  readonly namespaceSelector?: { readonly matchNames: readonly string[] };
  readonly endpoints: readonly ServiceMonitorEndpoint[];
  /** Service label whose value becomes `job`; unset: the Service's name. */
  readonly jobLabel?: string;
}

export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: PromDuration;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface RuleGroup {
  readonly name: string;
  readonly interval?: PromDuration;
  readonly rules: readonly AlertingRule[];
}

export class ServiceMonitor extends ApiObject {
  constructor(scope: Construct, id: string, props: { readonly metadata: ApiObjectMetadata; readonly spec: ServiceMonitorSpec }) {
    super(scope, id, { apiVersion: MONITORING_API_VERSION, kind: 'ServiceMonitor', metadata: props.metadata, spec: props.spec });
  }
}

export class PrometheusRule extends ApiObject {
  constructor(scope: Construct, id: string, props: { readonly metadata: ApiObjectMetadata; readonly spec: { readonly groups: readonly RuleGroup[] } }) {
    super(scope, id, { apiVersion: MONITORING_API_VERSION, kind: 'PrometheusRule', metadata: props.metadata, spec: props.spec });
  }
}
