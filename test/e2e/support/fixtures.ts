/**
 * Payloads and runs of the e2e tests: a cirrus process payload shaped as
 * cirrus-swoop-semantics.md describes it, and run identities with fixed uids and times so
 * names and bodies are reproducible.
 */
import { createHash } from 'node:crypto';
import type { Doc, Submission } from './argo';

export function cirrusPayload(process: unknown, options: { id?: string; item?: string; cloudCover?: number } = {}): Doc {
  const item = options.item ?? 'S2B_17HQD_20201103_0_L2A';
  return {
    type: 'FeatureCollection',
    ...(options.id !== undefined ? { id: options.id } : {}),
    features: [{
      type: 'Feature',
      id: item,
      collection: 'sentinel-2-l2a',
      properties: { datetime: '2020-11-03T15:22:26Z', 'eo:cloud_cover': options.cloudCover ?? 12.5 },
      assets: { B04: { href: `s3://sentinel-cogs/${item}/B04.tif` }, B08: { href: `s3://sentinel-cogs/${item}/B08.tif` } },
      links: [],
    }],
    process,
  };
}

/** cirrus payload id: <collections>/workflow-<workflow>/<item ids>. */
export function cirrusId(workflow: string, item = 'S2B_17HQD_20201103_0_L2A'): string {
  return `sentinel-2-l2a/workflow-${workflow}/${item}`;
}

let counter = 0;

/** A run of `template` with a unique name and uid per call, created at a fixed second. */
export function newRun(template: string, args: Record<string, string>, name?: string): Submission {
  counter += 1;
  const suffix = createHash('sha256').update(`${template}/${counter}/${process.pid}/${Date.now()}`).digest('hex');
  return {
    name: name ?? `${template}-${suffix.slice(0, 5)}`,
    uid: `${suffix.slice(0, 8)}-${suffix.slice(8, 12)}-4${suffix.slice(13, 16)}-8${suffix.slice(17, 20)}-${suffix.slice(20, 32)}`,
    creationTimestamp: '2026-03-02T10:15:30Z',
    arguments: args,
  };
}

/** The deterministic run name the sensors give: `<prefix>-<16 hex of sha256(identity)>` (constructs/events/routing.ts). */
export function expectedRunName(prefix: string, identity: string): string {
  return `${prefix}-${createHash('sha256').update(identity).digest('hex').slice(0, 16)}`;
}
