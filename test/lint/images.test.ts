import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lint, lintObjects, loadFiles, yamlFiles } from '../../tools/lint/index';
import { HAVE_REFERENCE, referencePath } from '../support/reference';
import { platform, type Doc } from './fixtures';

/** The `image-pinning` rule: the construct's pinning rule (constructs/image.ts) over hand-written YAML. */
function lintWith(mutate: (lib: Doc, svc: Doc) => void): string[] {
  const docs = platform();
  const [lib, , svc] = docs;
  mutate(lib, svc);
  return lintObjects(docs).map((p) => `${p.resource}: ${p.path}: ${p.message} [${p.rule}]`);
}

const LIB = 'WorkflowTemplate/swoop-tasks';
const template = (lib: Doc, name: string): Doc => lib.spec.templates.find((t: Doc) => t.name === name);

describe('lint: image pinning', () => {
  it('flags :latest, a missing tag and moving tags wherever a template runs a container', () => {
    expect(lintWith((lib, svc) => {
      template(lib, 'copy-assets').container.image = 'ghcr.io/stac-utils/stac-task:latest';
      template(lib, 'copy-assets').initContainers = [{ name: 'fetch', image: 'alpine', resources: { requests: { cpu: '10m', memory: '8Mi' } } }];
      template(lib, 'copy-assets').sidecars = [{ name: 'proxy', image: 'envoyproxy/envoy:v1', resources: { requests: { cpu: '10m', memory: '8Mi' } } }];
      template(lib, 'publish').containerSet.containers[1].image = 'ghcr.io/example/stac-post:stable';
      lib.spec.templates.push({ name: 'say', script: { image: 'python:3', source: 'print(1)', resources: { requests: { cpu: '10m', memory: '8Mi' } } } });
      svc.spec.template.spec.containers[0].image = 'ghcr.io/example/stac-post@sha256:abc';
    })).toEqual([
      `${LIB}: spec.templates[copy-assets].container.image: image "ghcr.io/stac-utils/stac-task:latest" uses the moving tag "latest"; pin a version tag (e.g. ghcr.io/stac-utils/stac-task:1.2.3) or a digest (ghcr.io/stac-utils/stac-task@sha256:<64 hex digits>) [image-pinning]`,
      `${LIB}: spec.templates[copy-assets].initContainers[fetch].image: image "alpine" has no tag and would float to :latest; pin a version tag (e.g. alpine:1.2.3) or a digest (alpine@sha256:<64 hex digits>) [image-pinning]`,
      `${LIB}: spec.templates[copy-assets].sidecars[proxy].image: image "envoyproxy/envoy:v1" uses the major-only tag "v1", which moves with every release; pin a version tag (e.g. envoyproxy/envoy:1.2.3) or a digest (envoyproxy/envoy@sha256:<64 hex digits>) [image-pinning]`,
      `${LIB}: spec.templates[publish].containerSet.containers[post].image: image "ghcr.io/example/stac-post:stable" uses the moving tag "stable"; pin a version tag (e.g. ghcr.io/example/stac-post:1.2.3) or a digest (ghcr.io/example/stac-post@sha256:<64 hex digits>) [image-pinning]`,
      `${LIB}: spec.templates[say].script.image: image "python:3" uses the major-only tag "3", which moves with every release; pin a version tag (e.g. python:1.2.3) or a digest (python@sha256:<64 hex digits>) [image-pinning]`,
      'Deployment/stac-publish: spec.template.spec.containers[main].image: image "ghcr.io/example/stac-post@sha256:abc" has a malformed digest; use @sha256: followed by 64 hex digits [image-pinning]',
    ]);
  });

  it('accepts version tags, digests, and images only known at run time', () => {
    expect(lintWith((lib) => {
      template(lib, 'copy-assets').container.image = `ghcr.io/stac-utils/stac-task@sha256:${'a'.repeat(64)}`;
      template(lib, 'publish').inputs.parameters.push({ name: 'image', value: 'ghcr.io/example/stac-post:1.0.0' });
      template(lib, 'publish').containerSet.containers[1].image = '{{inputs.parameters.image}}';
    })).toEqual([]);
  });

  it.skipIf(!HAVE_REFERENCE)('counts the unpinned images of the official Argo Workflows examples (why the examples test disables the rule)', () => {
    const { documents } = loadFiles(yamlFiles([referencePath('argo-workflows', 'examples')]));
    const problems = lint(documents).filter((p) => p.rule === 'image-pinning');
    // e.g. `image: busybox` and `argoproj/argosay:v2`: tutorials, not deployments.
    expect(problems.length).toBeGreaterThan(100);
    expect(problems.find((p) => basename(p.file) === 'hello-world.yaml')?.message).toMatch(/^image "busybox" has no tag/);
  });
});
