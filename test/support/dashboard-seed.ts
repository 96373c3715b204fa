/**
 * A small, realistic history written through the state service's real write API (POST
 * /claim, POST /events with the writer token), as the claim step, the lifecycle hooks and
 * ingress write it: the dashboard tests and `npm run screenshots` read it back.
 * - a sentinel-2 payload converted by cog-archive, which succeeded and chained into publish
 *   (a second payload, whose run is still running);
 * - a landsat payload whose cog-archive run failed, with the failed step's message;
 * - a second cog-archive run of the same sentinel-2 payload, refused by de-duplication;
 * - an ingress report of a payload that named no workflow (INVALID);
 * - a timed-out run of another workflow.
 */
export const SEED = {
  chained: { payloadId: 'sentinel-2-l2a/workflow-cog-archive/S2B_17HQD_20201103_0_L2A', run: 'cog-archive-s2-7xk2p', item: 'S2B_17HQD_20201103_0_L2A', collection: 'sentinel-2-l2a' },
  child: { payloadId: 'sentinel-2-l2a-cogs/workflow-publish/S2B_17HQD_20201103_0_L2A', run: 'publish-s2-m4q9z' },
  failed: { payloadId: 'landsat-c2-l2/workflow-cog-archive/LC09_L2SP_042034_20231005', run: 'cog-archive-lc9-p3f8d',
    error: 'convert: gdal_translate exited with 1: TIFFReadDirectory: Incorrect count for "StripOffsets"' },
  refused: { run: 'cog-archive-s2-dup-r2b6c' },
  timedOut: { payloadId: 'sentinel-1-grd/workflow-sar-rtc/S1A_IW_GRDH_1SDV_20231005', run: 'sar-rtc-s1-h8w3n' },
  output: 'https://data.example.com/sentinel-2-l2a-cogs/S2B_17HQD_20201103_0_L2A/item.json',
} as const;

type Post = (path: string, body: Record<string, unknown>) => Promise<void>;

function poster(base: string, writerToken: string): Post {
  return async (path, body) => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${writerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 200 && res.status !== 202) throw new Error(`POST ${path} ${JSON.stringify(body)}: HTTP ${res.status} ${await res.text()}`);
  };
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

function lifecycleEvent(f: { type: 'running' | 'completed'; workflow: string; run: string; payloadId: string; phase: string; parentRun?: string;
  message?: string; failures?: string; output?: string; input: string; startedAt: string; finishedAt?: string }): Record<string, string> {
  return {
    type: f.type, workflow: f.workflow, run: f.run, uid: `uid-${f.run}`, payloadId: f.payloadId, parentRun: f.parentRun ?? '',
    phase: f.phase, startedAt: f.startedAt, finishedAt: f.finishedAt ?? '', message: f.message ?? '', failures: f.failures ?? '',
    input: f.input, output: f.output ?? '',
  };
}

/** Writes the seed history through the service at `base`; its clock is `now` (events report times just before it). */
export async function seedDashboard(base: string, writerToken: string, now = Date.now()): Promise<void> {
  const post = poster(base, writerToken);
  const started = iso(now - 20 * 60_000);
  const finished = iso(now - 5 * 60_000);
  const s = SEED;
  // The chained payload: claimed, ran, succeeded; its input's process array names publish next.
  const chainInput = JSON.stringify({ type: 'FeatureCollection', features: [{ id: s.chained.item, collection: s.chained.collection }],
    process: [{ workflow: 'cog-archive' }, { workflow: 'publish' }] });
  await post('/claim', { payloadId: s.chained.payloadId, workflow: 'cog-archive', run: s.chained.run, input: chainInput, uid: `uid-${s.chained.run}` });
  await post('/events', lifecycleEvent({ type: 'running', workflow: 'cog-archive', run: s.chained.run, payloadId: s.chained.payloadId, phase: 'Running', input: chainInput, startedAt: started }));
  await post('/events', lifecycleEvent({ type: 'completed', workflow: 'cog-archive', run: s.chained.run, payloadId: s.chained.payloadId, phase: 'Succeeded',
    input: chainInput, startedAt: started, finishedAt: finished, output: s.output }));
  // A second run of the same payload while it is done: refused (cirrus de-duplication).
  await post('/claim', { payloadId: s.chained.payloadId, workflow: 'cog-archive', run: s.refused.run, input: chainInput });
  // The chain's next workflow, started by the first run's notification, still running.
  await post('/claim', { payloadId: s.child.payloadId, workflow: 'publish', run: s.child.run, input: s.output, parentRun: s.chained.run, uid: `uid-${s.child.run}` });
  await post('/events', lifecycleEvent({ type: 'running', workflow: 'publish', run: s.child.run, payloadId: s.child.payloadId, phase: 'Running',
    parentRun: s.chained.run, input: s.output, startedAt: finished }));
  // A failure with the failed step's message (workflow.failures, as Argo hands it over).
  const failures = JSON.stringify([{ displayName: 'convert', message: s.failed.error.replace(/^convert: /, '') }]);
  await post('/claim', { payloadId: s.failed.payloadId, workflow: 'cog-archive', run: s.failed.run, input: 's3://swoop-payloads/lc9/input.json' });
  await post('/events', lifecycleEvent({ type: 'running', workflow: 'cog-archive', run: s.failed.run, payloadId: s.failed.payloadId, phase: 'Running',
    input: 's3://swoop-payloads/lc9/input.json', startedAt: started }));
  await post('/events', lifecycleEvent({ type: 'completed', workflow: 'cog-archive', run: s.failed.run, payloadId: s.failed.payloadId, phase: 'Failed',
    input: 's3://swoop-payloads/lc9/input.json', startedAt: started, finishedAt: finished, failures }));
  // A timed-out run of another workflow.
  await post('/claim', { payloadId: s.timedOut.payloadId, workflow: 'sar-rtc', run: s.timedOut.run, input: 's3://swoop-payloads/s1/input.json' });
  await post('/events', lifecycleEvent({ type: 'completed', workflow: 'sar-rtc', run: s.timedOut.run, payloadId: s.timedOut.payloadId, phase: 'Failed',
    input: 's3://swoop-payloads/s1/input.json', startedAt: started, finishedAt: finished, message: 'Step exceeded its deadline: activeDeadlineSeconds' }));
  // Ingress: a payload naming a workflow that does not exist.
  await post('/events', { type: 'invalid', source: 'sqs', workflow: 'cog-archiv', payloadId: '', message: 'unknown workflow "cog-archiv"',
    detail: 'process[0].workflow names no deployed workflow', input: JSON.stringify({ type: 'FeatureCollection', features: [{ id: 'x1', collection: 'naip' }], process: [{ workflow: 'cog-archiv' }] }) });
}
