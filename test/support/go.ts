/**
 * Builds the Go oracle programs (tools/argo-*-oracle) in GOPATH mode against Debian's library
 * packages, once per source version, into the temp folder.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's GOPATH; SWOOP_GOPATH points at the same packages unpacked elsewhere (dpkg -x) without installing them. */
export const GOPATH = process.env.SWOOP_GOPATH ?? '/usr/share/gocode';

/** Whether `go` and every library (an import path under GOPATH) are installed. */
export function haveGo(libraries: readonly string[]): boolean {
  return spawnSync('go', ['version']).status === 0 && libraries.every((lib) => existsSync(join(GOPATH, 'src', lib)));
}

/** The path of the built program; `source` is its main.go. */
export function buildGoProgram(source: string, name: string): string {
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), `swoop-${name}`);
  const binary = join(dir, `${name}-${hash}`);
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  const built = spawnSync('go', ['build', '-o', binary, source], {
    encoding: 'utf8',
    env: { ...process.env, GO111MODULE: 'off', GOPATH, GOCACHE: join(dir, 'cache'), GOFLAGS: '' },
  });
  if (built.status !== 0) throw new Error(`go build of ${source} failed:\n${built.stderr}`);
  return binary;
}
