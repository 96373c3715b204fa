/**
 * The synthesized ServiceMonitor and PrometheusRule: shaped as the Prometheus operator's CRDs
 * require, and pointing at what the state service really serves. No upstream schema of the
 * operator's kinds is in the reference set, so SCHEMAS below is a minimal one written from the
 * CRDs (monitoring.coreos.com_servicemonitors.yaml and _prometheusrules.yaml, operator 0.8x):
 * the fields this project sets, their types and duration patterns, required fields, and every
 * object closed so a misspelt field fails here instead of being pruned by the API server.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { StateMonitoring } from '../../constructs/state-monitoring';
import { STATE_METRICS_PORT } from '../../constructs/state-service';
import { PORTS } from '../../infra/network-policies';
import { METRICS_DEFAULT_PORT, METRICS_PATH } from '../../state/metrics';

const ROOT = join(__dirname, '..', '..');
const DURATION = { type: 'string', pattern: '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$' };
const STRING_MAP = { type: 'object', additionalProperties: { type: 'string' } };
const METADATA = {
  type: 'object', required: ['name', 'namespace'], additionalProperties: false,
  properties: { name: { type: 'string', minLength: 1 }, namespace: { type: 'string', minLength: 1 }, labels: STRING_MAP, annotations: STRING_MAP },
};
const object = (kind: string, spec: object) => ({
  type: 'object', required: ['apiVersion', 'kind', 'metadata', 'spec'], additionalProperties: false,
  properties: { apiVersion: { const: 'monitoring.coreos.com/v1' }, kind: { const: kind }, metadata: METADATA, spec },
});
const SCHEMAS: Record<string, object> = {
  ServiceMonitor: object('ServiceMonitor', {
    type: 'object', required: ['endpoints', 'selector'], additionalProperties: false,
    properties: {
      endpoints: {
        type: 'array',
        items: {
          type: 'object', additionalProperties: false,
          properties: {
            port: { type: 'string' }, path: { type: 'string' }, scheme: { enum: ['http', 'https'] },
            interval: DURATION, scrapeTimeout: DURATION, honorLabels: { type: 'boolean' },
            targetPort: { anyOf: [{ type: 'integer' }, { type: 'string' }] },
          },
        },
      },
      selector: {
        type: 'object', additionalProperties: false,
        properties: { matchLabels: STRING_MAP, matchExpressions: { type: 'array' } },
      },
      namespaceSelector: {
        type: 'object', additionalProperties: false,
        properties: { any: { type: 'boolean' }, matchNames: { type: 'array', items: { type: 'string' } } },
      },
      jobLabel: { type: 'string' },
      targetLabels: { type: 'array', items: { type: 'string' } },
      podTargetLabels: { type: 'array', items: { type: 'string' } },
    },
  }),
  PrometheusRule: object('PrometheusRule', {
    type: 'object', additionalProperties: false,
    properties: {
      groups: {
        type: 'array',
        items: {
          type: 'object', required: ['name'], additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1 }, interval: DURATION, limit: { type: 'integer' },
            rules: {
              type: 'array',
              items: {
                type: 'object', required: ['expr'], additionalProperties: false,
                properties: {
                  alert: { type: 'string' }, record: { type: 'string' },
                  expr: { anyOf: [{ type: 'integer' }, { type: 'string' }] },
                  for: DURATION, keep_firing_for: { ...DURATION, minLength: 1 },
                  labels: STRING_MAP, annotations: STRING_MAP,
                },
                // "Only one of `record` and `alert` must be set."
                oneOf: [{ required: ['alert'] }, { required: ['record'] }],
              },
            },
          },
        },
      },
    },
  }),
};

const ajv = new Ajv({ allErrors: true });
const validators = Object.fromEntries(Object.entries(SCHEMAS).map(([kind, s]) => [kind, ajv.compile(s)]));
const problems = (doc: { kind?: unknown }): string[] => {
  const kind = String(doc.kind);
  const validate = validators[kind];
  if (!validate) return [`no schema for kind ${kind}`];
  return validate(doc) ? [] : validate.errors!.map((e) => `${kind}${e.instancePath}: ${e.message}`);
};

const read = (stack: string, file: string) =>
  parseAllDocuments(readFileSync(join(ROOT, 'dist', stack, file), 'utf8')).map((d) => d.toJS() as Record<string, any>);

describe.each(['dev', 'prod'])('dist/%s/state-monitoring.yaml', (stack) => {
  const docs = read(stack, 'state-monitoring.yaml');
  const state = read(stack, 'state-service.yaml');
  const service = state.find((d) => d.kind === 'Service')!;
  const deployment = state.find((d) => d.kind === 'Deployment')!;
  const monitor = docs.find((d) => d.kind === 'ServiceMonitor')!;

  it('holds one ServiceMonitor and one PrometheusRule, valid against the CRDs\' shape', () => {
    expect(docs.map((d) => d.kind).sort()).toEqual(['PrometheusRule', 'ServiceMonitor']);
    for (const doc of docs) expect(problems(doc)).toEqual([]);
  });

  it('selects the state Service in its namespace and scrapes its metrics port without a token', () => {
    expect(monitor.metadata.namespace).toBe(service.metadata.namespace);
    expect(monitor.spec.namespaceSelector.matchNames).toEqual([service.metadata.namespace]);
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) expect(service.metadata.labels[k], k).toBe(v);
    const [endpoint] = monitor.spec.endpoints;
    expect(endpoint).toMatchObject({ path: METRICS_PATH, scheme: 'http' });
    expect(endpoint.authorization ?? endpoint.bearerTokenSecret).toBeUndefined();
    const port = service.spec.ports.find((p: { name: string }) => p.name === endpoint.port);
    expect(port).toEqual({ name: 'metrics', port: METRICS_DEFAULT_PORT, targetPort: METRICS_DEFAULT_PORT });
    const container = deployment.spec.template.spec.containers[0];
    expect(container.ports).toContainEqual({ containerPort: port.targetPort, name: 'metrics' });
    expect(container.env).toContainEqual({ name: 'METRICS_PORT', value: String(port.targetPort) });
  });
});

describe('StateMonitoring', () => {
  it('uses the service\'s default metrics port, the one the NetworkPolicy opens', () => {
    expect(STATE_METRICS_PORT).toBe(METRICS_DEFAULT_PORT);
    expect(PORTS.stateMetrics).toBe(METRICS_DEFAULT_PORT);
  });

  it('the schema check can fail: a misspelt field, a bad duration, a rule with neither alert nor record', () => {
    const chart = Testing.chart();
    const m = new StateMonitoring(chart, 'm');
    const rule = JSON.parse(JSON.stringify(m.rule.toJson()));
    rule.spec.groups[0].rules[0].for = '5 minutes';
    rule.spec.groups[0].rules[1].exprs = 'x';
    delete rule.spec.groups[0].rules[2].alert;
    const monitor = JSON.parse(JSON.stringify(m.serviceMonitor.toJson()));
    monitor.spec.endpoints[0].intervall = '30s';
    expect(problems(rule)).toEqual(expect.arrayContaining([
      'PrometheusRule/spec/groups/0/rules/0/for: must match pattern "^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"',
      'PrometheusRule/spec/groups/0/rules/1: must NOT have additional properties',
      'PrometheusRule/spec/groups/0/rules/2: must match exactly one schema in oneOf',
    ]));
    expect(problems(monitor)).toEqual(['ServiceMonitor/spec/endpoints/0: must NOT have additional properties']);
  });

  it('takes thresholds, the scrape interval and the Prometheus selector labels', () => {
    const chart = Testing.chart();
    const m = new StateMonitoring(chart, 'm', { failureRatio: 0.5, outboxMaxAgeSeconds: 120, scrapeInterval: '15s', selectorLabels: { release: 'kube-prometheus-stack' } });
    const rules = m.rule.toJson().spec.groups[0].rules as { alert: string; expr: string }[];
    expect(rules.find((r) => r.alert === 'SwoopWorkflowFailureRate')!.expr).toContain('> 0.5 and');
    expect(rules.find((r) => r.alert === 'SwoopStateOutboxStuck')!.expr).toMatch(/> 120$/);
    expect(m.serviceMonitor.toJson().spec.endpoints[0].interval).toBe('15s');
    expect(m.rule.metadata.getLabel('release')).toBe('kube-prometheus-stack');
    expect(m.serviceMonitor.metadata.getLabel('release')).toBe('kube-prometheus-stack');
  });

  it.each([
    [{ failureRatio: 1.5 }, 'failureRatio is 1.5; use a share between 0 and 1'],
    [{ outboxMaxAgeSeconds: 0 }, 'outboxMaxAgeSeconds is 0; use a positive whole number'],
    [{ failureMinRuns: 2.5 }, 'failureMinRuns is 2.5; use a positive whole number'],
  ])('refuses %o naming the construct path', (props, message) => {
    expect(() => new StateMonitoring(Testing.chart(), 'mon', props)).toThrow(message);
    expect(() => new StateMonitoring(Testing.chart(), 'mon', props)).toThrow(/mon/);
  });
});
