/**
 * A `script` template's pod, run the way Argo runs it for one node, on this machine: S3 is a
 * local folder (`LocalS3`), the pod's filesystem paths live under a temporary folder, and:
 * - input artifacts load as Argo's S3 driver loads them (workflow/artifacts/s3): a key naming
 *   an object is downloaded to the artifact's path; a key with objects under `<key>/` is
 *   downloaded as a directory; neither is "not found", skipped when the artifact is
 *   `optional`, an error otherwise;
 * - the template's fields are rendered with the node's scope (inputs, workflow variables),
 *   `{{=...}}` included, and `script.source` runs with `command` (node) and the rendered env;
 * - a non-zero exit fails the node; output parameters are read from `valueFrom.path`, output
 *   artifacts (`archive: none`) are uploaded: a file to its key, a directory's files under it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { renderTags, type Doc } from './argo';

export class LocalS3 {
  constructor(readonly root: string) {}

  private file(bucket: string, key: string): string {
    if (!bucket || !key || key.startsWith('/') || key.split('/').includes('..')) throw new Error(`bad S3 location ${bucket}/${key}`);
    return join(this.root, bucket, key);
  }

  static parse(url: string): { bucket: string; key: string } {
    const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
    if (!m) throw new Error(`not an s3:// URL: ${url}`);
    return { bucket: m[1]!, key: m[2]! };
  }

  put(url: string, text: string): void {
    const { bucket, key } = LocalS3.parse(url);
    const f = this.file(bucket, key);
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f, text);
  }

  get(url: string): string {
    const { bucket, key } = LocalS3.parse(url);
    return readFileSync(this.file(bucket, key), 'utf8');
  }

  /** Argo's S3 Load: an object, else a "directory" of objects under `<key>/`, else not found. */
  load(bucket: string, key: string, to: string): 'file' | 'directory' | 'not-found' {
    const f = this.file(bucket, key.replace(/\/+$/, ''));
    if (existsSync(f) && statSync(f).isFile()) {
      mkdirSync(dirname(to), { recursive: true });
      writeFileSync(to, readFileSync(f));
      return 'file';
    }
    if (existsSync(f) && statSync(f).isDirectory() && walk(f).length) {
      for (const file of walk(f)) {
        const dest = join(to, relative(f, file));
        mkdirSync(dirname(dest), { recursive: true });
        writeFileSync(dest, readFileSync(file));
      }
      return 'directory';
    }
    return 'not-found';
  }

  /** Argo's S3 Save of an unarchived artifact: a file to `key`, a directory's files under `key/`. */
  save(from: string, bucket: string, key: string): void {
    const target = this.file(bucket, key.replace(/\/+$/, ''));
    if (statSync(from).isFile()) {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, readFileSync(from));
      return;
    }
    for (const file of walk(from)) {
      const dest = join(target, relative(from, file));
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, readFileSync(file));
    }
  }
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)])).sort();
}

export interface ScriptNode {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly outputs: Record<string, string>;
  /** What each input artifact loaded as. */
  readonly artifacts: Record<string, 'file' | 'directory' | 'not-found'>;
}

/** Runs `template` (a script template) with `scope` (workflow variables plus `inputs.parameters.*`). */
export function runScriptPod(template: Doc, scope: Readonly<Record<string, string>>, s3: LocalS3, podRoot: string): ScriptNode {
  const where = `template ${template.name}`;
  const render = (text: unknown, what: string) => renderTags(String(text), scope, `${where} ${what}`);
  const local = (path: string) => {
    if (!path.startsWith('/')) throw new Error(`${where}: artifact path ${path} is not absolute`);
    return join(podRoot, path);
  };
  rmSync(podRoot, { recursive: true, force: true });
  mkdirSync(podRoot, { recursive: true });
  const artifacts: ScriptNode['artifacts'] = {};
  for (const a of (template.inputs?.artifacts ?? []) as Doc[]) {
    const loaded = s3.load(render(a.s3.bucket, `artifact ${a.name} bucket`), render(a.s3.key, `artifact ${a.name} key`), local(String(a.path)));
    if (loaded === 'not-found' && !a.optional) throw new Error(`${where}: input artifact ${a.name} not found`);
    artifacts[a.name] = loaded;
  }
  for (const m of (template.script.volumeMounts ?? []) as Doc[]) mkdirSync(local(String(m.mountPath)), { recursive: true });
  // Paths the pod sees are mapped under podRoot: every env value naming an absolute /tmp path.
  const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
  for (const e of (template.script.env ?? []) as Doc[]) {
    if (e.valueFrom) throw new Error(`${where}: env ${e.name} from a Secret or ConfigMap is not modelled`);
    const value = render(e.value, `env ${e.name}`);
    env[e.name] = value.startsWith('/tmp/') ? local(value) : value;
  }
  const source = join(podRoot, 'script');
  writeFileSync(source, String(template.script.source));
  const [command, ...args] = template.script.command as string[];
  if (command !== 'node') throw new Error(`${where}: only node scripts are run here, got ${command}`);
  const run = spawnSync(process.execPath, [...args, source], { env, encoding: 'utf8', timeout: 30_000 });
  const node = { exitCode: run.status ?? -1, stdout: run.stdout, stderr: run.stderr, artifacts, outputs: {} as Record<string, string> };
  if (node.exitCode !== 0) return node;
  for (const p of (template.outputs?.parameters ?? []) as Doc[]) node.outputs[p.name] = readFileSync(local(String(p.valueFrom.path)), 'utf8');
  for (const a of (template.outputs?.artifacts ?? []) as Doc[]) {
    if (!a.archive?.none) throw new Error(`${where}: output artifact ${a.name} is archived; only archive: none is modelled`);
    s3.save(local(String(a.path)), render(a.s3.bucket, `artifact ${a.name} bucket`), render(a.s3.key, `artifact ${a.name} key`));
  }
  return node;
}
