import { describe, expect, it } from 'vitest';
import { cirrusPayloadId, derivePayloadId } from '../../state/payload-id';

const item = (id: string, collection: string) => ({ type: 'Feature', id, collection });

describe('cirrus payload id', () => {
  it('joins sorted collections, the workflow and sorted item ids', () => {
    const payload = { type: 'FeatureCollection', features: [item('S2B_2', 'sentinel-2-l2a'), item('S2A_1', 'sentinel-2-l1c')], process: [{ workflow: 'cog-archive' }] };
    expect(cirrusPayloadId(JSON.stringify(payload), 'cog-archive')).toBe('sentinel-2-l1c/sentinel-2-l2a/workflow-cog-archive/S2A_1/S2B_2');
  });
  it('uses the process collections when given, and the single-object process form', () => {
    const payload = { features: [item('a', 'x'), item('b', 'x')], process: { workflow: 'publish', collections: ['z', 'y'] } };
    expect(cirrusPayloadId(JSON.stringify(payload), 'publish')).toBe('y/z/workflow-publish/a/b');
  });
  it('picks the process element of the claiming workflow among parallel ones', () => {
    const payload = { features: [item('a', 'x')], process: [[{ workflow: 'one', collections: ['c1'] }, { workflow: 'two', collections: ['c2'] }]] };
    expect(cirrusPayloadId(JSON.stringify(payload), 'two')).toBe('c2/workflow-two/a');
  });
  it('has no cirrus id for references, URLs and malformed text; those hash the reference', () => {
    expect(cirrusPayloadId('{"url": "s3://b/k.json"}', 'w')).toBeUndefined();
    expect(cirrusPayloadId('{not json', 'w')).toBeUndefined();
    const a = derivePayloadId('{"url": "s3://b/k.json", "process": [{"workflow": "w"}]}', 'w');
    expect(a).toMatch(/^ref\/workflow-w\/[0-9a-f]{32}$/);
    expect(derivePayloadId('{"url": "s3://b/k.json"}', 'w')).toBe(a); // same reference, same id
    expect(derivePayloadId('s3://b/k.json', 'w')).toBe(a);
    expect(derivePayloadId('s3://b/other.json', 'w')).not.toBe(a);
  });
});
