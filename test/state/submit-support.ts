/** A state service that creates Workflows through a loopback Kubernetes API, and what triggers send it (metrics and alert tests). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromEnv } from '../../state/config';
import { type RunningStateService, startStateService } from '../../state/service';
import { FakeKubeApi } from '../support/kube-api';
import { DATABASE_URL, READER, WRITER } from './support';

/** What an ingress trigger hands POST /submit for one payload of `workflow` (docs/events.md). */
export function submission(workflow: string, name: string, item: string) {
  const input = JSON.stringify({ type: 'FeatureCollection', features: [{ id: item, collection: 'c1' }], process: [{ workflow }] });
  return { workflow, name, namespace: 'swoop', startedBy: 'ingress', arguments: { input, 'payload-id': '', replace: 'false' } };
}

/** A state service that creates Workflows through a loopback Kubernetes API (test/support/kube-api.ts). */
export async function startWithKube(schema: string | undefined, extra: Partial<Parameters<typeof startStateService>[0]> = {}): Promise<{ svc: RunningStateService; kube: FakeKubeApi; stop(): Promise<void> }> {
  const kube = new FakeKubeApi('kube-token');
  await kube.start();
  const tokenFile = join(mkdtempSync(join(tmpdir(), 'swoop-kube-')), 'token');
  writeFileSync(tokenFile, 'kube-token\n');
  const svc = await startStateService({
    ...configFromEnv({ STATE_WRITE_TOKEN: WRITER, STATE_READ_TOKEN: READER, HOST: '127.0.0.1', PORT: '0' }),
    databaseUrl: DATABASE_URL, schema, kube: { url: kube.url, tokenFile, namespace: 'swoop' }, ...extra,
  });
  return { svc, kube, stop: async () => {
    await svc.close();
    await kube.stop();
  } };
}
