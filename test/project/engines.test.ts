import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

/**
 * package.json's `engines.node` is honest: every Node version it admits is admitted by every
 * locked dependency that states an engine, so `npm ci` never warns EBADENGINE on a supported
 * Node. (Node 20 is past its end of life: .ci/run still runs the suite on it, unsupported.)
 */
const root = join(__dirname, '..', '..');
const ours: string = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines.node;
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { engines?: { node?: string } | string[] }>;
};

describe('engines', () => {
  it('is a valid range that excludes Node 20 and admits Node 24 LTS', () => {
    expect(semver.validRange(ours)).not.toBeNull();
    expect(semver.satisfies('20.20.2', ours)).toBe(false);
    expect(semver.satisfies('24.11.0', ours)).toBe(true); // Node 24's first LTS release
  });

  it('admits no Node version that a locked dependency refuses', () => {
    const refusing = Object.entries(lock.packages)
      .flatMap(([path, pkg]) => {
        const wanted = !Array.isArray(pkg.engines) ? pkg.engines?.node : undefined;
        return path && wanted && !semver.subset(ours, wanted) ? [`${path.replace(/^node_modules\//, '')} wants node ${wanted}`] : [];
      });
    expect(refusing).toEqual([]);
  });
});
