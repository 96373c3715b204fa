import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { synthesize } from '../../constructs';
import { formatLatencyTable, runLatency } from '../../constructs/latency';
import { podsPerRun } from '../../constructs/pods';
import { buildE2eApp } from '../e2e/support/app';

type Doc = Record<string, any>;

/** The suites' own app (three workflows, chains, callbacks), synthesized. */
function synthesized() {
  const swoop = buildE2eApp();
  const files = [...synthesize(swoop.app).values()];
  return { files, pods: swoop.workflows.map((w) => podsPerRun(w)) };
}

/**
 * The same manifests in the previous design: the sensors create the Workflow (a `k8s` trigger)
 * and its first DAG task is an HTTP `claim` every other root waits for.
 */
function claimInWorkflow(files: string[]): string[] {
  return files.map((text) => text.split(/^---$/m).filter((d) => d.trim()).map((part) => {
    const doc = parse(part) as Doc;
    if (doc.kind === 'WorkflowTemplate' && doc.metadata.labels?.['app.kubernetes.io/component'] === 'workflow') {
      const entry = doc.spec.templates.find((t: Doc) => t.name === doc.spec.entrypoint);
      for (const t of entry.dag.tasks) if (!t.depends) t.depends = 'claim';
      entry.dag.tasks.unshift({ name: 'claim', template: 'swoop-claim' });
      doc.spec.templates.push({ name: 'swoop-claim', http: { url: 'http://state/claim' } });
    }
    if (doc.kind === 'Sensor') {
      for (const t of doc.spec.triggers) {
        const http = t.template.http;
        if (!http || !/\/submit$/.test(http.url)) continue;
        const workflow = http.payload.find((p: Doc) => p.dest === 'workflow').src.value;
        delete t.template.http;
        t.template.k8s = { operation: 'create', source: { resource: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: {}, spec: { workflowTemplateRef: { name: workflow } } } } };
      }
    }
    return stringify(doc);
  }).join('---\n'));
}

describe('latency before the first task and the cost of a duplicate, read from the manifests', () => {
  it('the shipped design: one pod start (the first task\'s own) and nothing per duplicate, for every workflow', () => {
    const { files, pods } = synthesized();
    const rows = runLatency(files, pods);
    expect(rows.map((r) => r.workflow).sort()).toEqual(['e2e-cogs', 'e2e-mask', 'e2e-publish']);
    for (const r of rows) expect(r).toMatchObject({ podStartsBeforeFirstTask: 1, duplicatePods: 0, duplicateObjects: 0, submittedBy: 'state service' });
    const table = formatLatencyTable(rows);
    expect(table).toMatch(/e2e-cogs +1 +3 s +1 s +0 +0 +state service/);
    expect(table).toContain('Step Functions + Lambda');
  });

  it('the previous design (claim task, sensor creates the Workflow) reads as two pod starts and an agent pod plus a Workflow per duplicate', () => {
    const { files, pods } = synthesized();
    for (const r of runLatency(claimInWorkflow(files), pods)) {
      expect(r).toMatchObject({ podStartsBeforeFirstTask: 2, duplicatePods: 1, duplicateObjects: 2, submittedBy: 'k8s create' });
    }
  });
});
