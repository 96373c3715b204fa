import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lint, loadFiles, yamlFiles, type LintProblem, type Rule } from '../../tools/lint/index';
import { HAVE_REFERENCE, referencePath } from '../support/reference';

/**
 * The checker over the official Argo examples, each folder linted as one set. Every
 * problem it reports there is listed below with why it is right; anything else it reports
 * is a false positive and fails this test. `container-requests` and `image-pinning` are left
 * out of the table (almost no example sets requests or pins images; test/lint/images.test.ts
 * counts the latter) and tested on examples instead.
 */
function lintExamples(folder: string, disable: Rule[]): { problems: [string, string, string][]; parseFailures: string[] } {
  const { documents, problems: parse } = loadFiles(yamlFiles([referencePath(folder, 'examples')]));
  const row = (p: LintProblem): [string, string, string] => [basename(p.file), p.path, p.rule];
  return { problems: lint(documents, { disable }).map(row), parseFailures: [...new Set(parse.map((p) => basename(p.file)))] };
}

// Go's YAML parser (kubectl, Argo) accepts these; a YAML 1.2 parser does not: a multi-line
// quoted scalar inside `args: ["...` whose closing line `"]` is not indented deeper than
// its key (all but one), and a mapping with `annotations` twice (k8s-patch-json-workflow).
const WORKFLOW_PARSE_FAILURES = [
  'ci-output-artifact.yaml', 'ci.yaml', 'influxdb-ci.yaml', 'k8s-orchestration.yaml', 'k8s-patch-json-workflow.yaml',
  'nested-workflow.yaml', 'secrets.yaml', 'sidecar.yaml', 'volumes-emptydir.yaml',
];

const WORKFLOW_PROBLEMS: [string, string, string][] = [
  // Passes `message` to a steps template that declares no inputs; Argo ignores it, the linter
  // flags it because in generated code an unused argument is a misspelt name.
  ['cluster-workflow-template_mixed-cluster-namespaced-wftmpl-steps.yaml', 'spec.templates[hello-hello-hello].steps[1][hello2a]', 'undeclared-argument'],
  // `workflow.parameters.json` is used in a `when` expression but never declared.
  ['conditionals.yaml', 'spec.templates[conditional-example].steps[0][print-hello-expr-json].when', 'workflow-parameters'],
  // `generateName` is indented under `labels`, so the Workflow has no name at all.
  ['fun-with-gifs.yaml', 'metadata', 'metadata'],
  // `name: k8s-jobs` ended up inside the annotation's block scalar.
  ['k8s-jobs.yaml', 'metadata', 'metadata'],
  // The steps pass `seconds` to lock templates that declare no inputs (unused arguments).
  ['synchronization-db-mutex-tmpl-level.yaml', 'spec.templates[synchronization-db-tmpl-level-mutex-example].steps[0][synchronization-acquire-lock]', 'undeclared-argument'],
  ['synchronization-db-mutex-tmpl-level.yaml', 'spec.templates[synchronization-db-tmpl-level-mutex-example].steps[0][synchronization-acquire-lock1]', 'undeclared-argument'],
  ['synchronization-db-tmpl-level.yaml', 'spec.templates[synchronization-db-tmpl-level-example].steps[0][synchronization-acquire-lock]', 'undeclared-argument'],
  ['synchronization-mutex-tmpl-level.yaml', 'spec.templates[synchronization-tmpl-level-mutex-example].steps[0][synchronization-acquire-lock]', 'undeclared-argument'],
  ['synchronization-mutex-tmpl-level.yaml', 'spec.templates[synchronization-tmpl-level-mutex-example].steps[0][synchronization-acquire-lock1]', 'undeclared-argument'],
  ['synchronization-tmpl-level.yaml', 'spec.templates[synchronization-tmpl-level-example].steps[0][synchronization-acquire-lock]', 'undeclared-argument'],
  // `appellation` comes from a WorkflowEventBinding at submit time; the template does not declare it.
  ['workflow-event-binding_event-consumer-workflowtemplate.yaml', 'spec.templates[main].steps[0][a].arguments.parameters[appellation].value', 'workflow-parameters'],
  // Same unused `message` argument as the cluster-scoped variant above.
  ['workflow-template_steps.yaml', 'spec.templates[hello-hello-hello].steps[1][hello2a]', 'undeclared-argument'],
  // The entrypoint needs `message`, which the template does not declare; it only runs with `-p message=...`.
  ['workflow-template_templates.yaml', 'spec.entrypoint', 'required-input'],
];

const EVENTS_PROBLEMS: [string, string, string][] = [
  // These sensors expect webhook events (`example-foo`, `example1`) that the webhook
  // EventSource example does not define; each tutorial assumes its own edited copy.
  ['sensors_dependencies-conditions.yaml', 'spec.dependencies[test-dep-foo].eventName', 'sensor-dependency'],
  // The created Workflow passes message1/message2, but its template declares only `message`
  // and reads the undeclared message1/message2: a real bug in the example.
  ['sensors_multi-dependencies.yaml', 'spec.triggers[multi-dependencies-workflow-trigger].template.k8s.source.resource.spec.entrypoint', 'required-input'],
  ['sensors_multi-dependencies.yaml', 'spec.triggers[multi-dependencies-workflow-trigger].template.k8s.source.resource.spec.templates[print-message].container.args[0]', 'inputs'],
  ['sensors_multi-dependencies.yaml', 'spec.triggers[multi-dependencies-workflow-trigger].template.k8s.source.resource.spec.templates[print-message].container.args[1]', 'inputs'],
  ['sensors_time-filter-webhook.yaml', 'spec.dependencies[test-another-dep].eventName', 'sensor-dependency'],
  ['sensors_transform.yaml', 'spec.dependencies[test-dep-foo].eventName', 'sensor-dependency'],
  // A placeholder `THIS_WILL_BE_REPLACED` that a trigger-level parameter overwrites at run time.
  ['tutorials_02-parameterization_sensor-05.yaml', 'spec.triggers[webhook-workflow-trigger].template.argoWorkflow.parameters[0].src.dependencyName', 'trigger-parameters'],
];

describe.skipIf(!HAVE_REFERENCE)('lint over the official examples', () => {
  it('Argo Workflows examples: only the documented problems', () => {
    const { problems, parseFailures } = lintExamples('argo-workflows', ['container-requests', 'image-pinning']);
    expect(parseFailures).toEqual(WORKFLOW_PARSE_FAILURES);
    expect(problems).toEqual(WORKFLOW_PROBLEMS);
  });

  it('Argo Events examples: only the documented problems', () => {
    // The examples are alternatives, not one deployable set: many reuse the names
    // `webhook`, `minio` and `circuit`, so duplicate names are expected there.
    const { problems, parseFailures } = lintExamples('argo-events', ['container-requests', 'duplicate-name', 'image-pinning']);
    expect(parseFailures).toEqual([]);
    expect(problems).toEqual(EVENTS_PROBLEMS);
  });

  it('container requests: a limit alone satisfies them, no resources at all does not', () => {
    const run = (file: string) => {
      const { documents } = loadFiles([referencePath('argo-workflows', 'examples', file)]);
      return lint(documents, { disable: ['image-pinning'] }).map((p) => `${p.path}: ${p.message} [${p.rule}]`);
    };
    expect(run('dns-config.yaml')).toEqual([]);
    expect(run('hello-world.yaml')).toEqual([
      'spec.templates[hello-world].container: the container has no CPU request (set resources.requests.cpu) [container-requests]',
      'spec.templates[hello-world].container: the container has no memory request (set resources.requests.memory) [container-requests]',
    ]);
  });
});
