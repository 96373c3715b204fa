/**
 * Image pinning: a task's image must name an immutable build, so a manifest in dist/ always
 * runs the same code. A digest is immutable; a version tag is accepted as a pin; tags that
 * are documented to move (latest, stable, a bare major version, ...) are rejected.
 */
const DIGEST = /@sha256:[a-f0-9]{64}$/;
const MOVING_TAGS = new Set([
  'latest', 'stable', 'edge', 'nightly', 'main', 'master', 'dev', 'develop', 'head', 'canary', 'current', 'lts', 'release', 'rolling',
]);
const MAJOR_ONLY = /^v?\d+$/;

export interface ImageParts {
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

export function parseImage(image: string): ImageParts {
  const at = image.indexOf('@');
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  const named = at >= 0 ? image.slice(0, at) : image;
  const lastSlash = named.lastIndexOf('/');
  const colon = named.indexOf(':', lastSlash + 1);
  return colon >= 0
    ? { repository: named.slice(0, colon), tag: named.slice(colon + 1), digest }
    : { repository: named, digest };
}

/** Returns why `image` is not pinned, or undefined when it is. */
export function imagePinProblem(image: string): string | undefined {
  if (!image || /\s/.test(image)) return `image "${image}" is not a valid image reference`;
  const { repository, tag, digest } = parseImage(image);
  if (digest !== undefined) {
    return DIGEST.test(`@${digest}`) ? undefined : `image "${image}" has a malformed digest; use @sha256: followed by 64 hex digits`;
  }
  const fix = `pin a version tag (e.g. ${repository}:1.2.3) or a digest (${repository}@sha256:<64 hex digits>)`;
  if (tag === undefined || tag === '') return `image "${image}" has no tag and would float to :latest; ${fix}`;
  if (MOVING_TAGS.has(tag.toLowerCase())) return `image "${image}" uses the moving tag "${tag}"; ${fix}`;
  if (MAJOR_ONLY.test(tag)) return `image "${image}" uses the major-only tag "${tag}", which moves with every release; ${fix}`;
  return undefined;
}
