import { beforeAll, describe, expect, it } from 'vitest';
import { HAVE_REFERENCE, referencePath } from '../support/reference';
import { CHARTS } from '../../infra/charts';
import { documentedValues, undocumentedPaths } from './support/helm-values';
import { runStack, type StackRun } from './support/stack-run';

const VALUES_FILES = {
  'argo-workflows': `helm/argo-workflows-${CHARTS.argoWorkflows.version}-values.yaml`,
  'argo-events': `helm/argo-events-${CHARTS.argoEvents.version}-values.yaml`,
} as const;

/**
 * Keys the chart passes through verbatim into the controller's ConfigMap (`controller.persistence`
 * is rendered with toYaml) that its values file does not show: fields of Argo's own
 * PersistConfig (config/config.go, `ArchiveTTL TTL json:"archiveTTL"`, a duration like "30d").
 */
const ARGO_CONFIG_PASSTHROUGH = ['controller.persistence.archiveTTL'];

describe.skipIf(!HAVE_REFERENCE)('Argo Helm values exist in the pinned charts', () => {
  let runs: StackRun[];
  beforeAll(async () => {
    runs = [await runStack('dev'), await runStack('prod', { 'swoop-platform:argoSsoClientSecret': 's', 'swoop-platform:dashboardOidcClientSecret': 's' })];
  });

  it('pins the chart versions whose values files are the reference', () => {
    expect(CHARTS.argoWorkflows.version).toBe('1.0.18');
    expect(CHARTS.argoEvents.version).toBe('2.4.22');
  });

  for (const [chart, file] of Object.entries(VALUES_FILES)) {
    it(`every value set on ${chart} is a key of ${file} (dev and prod)`, () => {
      const documented = documentedValues(referencePath(file));
      for (const run of runs) {
        const release = run.resources.find((r) => r.type === 'kubernetes:helm.sh/v3:Release' && r.inputs.chart === chart);
        expect(release, chart).toBeDefined();
        expect(release!.inputs.version).toBe(file.match(/-(\d+\.\d+\.\d+)-values/)![1]);
        expect(undocumentedPaths(release!.inputs.values, documented).filter((p) => !ARGO_CONFIG_PASSTHROUGH.includes(p))).toEqual([]);
      }
    });
  }

  it('the checker reads commented examples and still rejects misspelt or unknown keys', () => {
    const documented = documentedValues(referencePath(VALUES_FILES['argo-workflows']));
    // Only documented in the comment under `controller.persistence: {}`.
    expect(undocumentedPaths({ controller: { persistence: { postgresql: { sslMode: 'require' } } } }, documented)).toEqual([]);
    expect(undocumentedPaths({ controller: { persistence: { archiveTTL: '7d' } } }, documented)).toEqual(['controller.persistence.archiveTTL']);
    expect(undocumentedPaths({ server: { authModez: ['client'] } }, documented)).toEqual(['server.authModez']);
    expect(undocumentedPaths({ server: { secure: { x: 1 } } }, documented)).toEqual(['server.secure (documented as false, not a map)']);
  });
});
