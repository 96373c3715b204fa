import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * tools/argo-sso-rbac-oracle: the SSO RBAC account choice of Argo Server, with the expr
 * library Argo evaluates rbac-rule annotations with (Debian's golang-github-antonmedv-expr-dev).
 */
const GOPATH = '/usr/share/gocode';
const SOURCE = join(__dirname, '..', '..', '..', 'tools', 'argo-sso-rbac-oracle', 'main.go');
export const HAVE_SSO_ORACLE = spawnSync('go', ['version']).status === 0 && existsSync(join(GOPATH, 'src', 'github.com', 'antonmedv', 'expr'));
export const MISSING_SSO_ORACLE = 'needs Go and the expr library Argo evaluates rbac-rule with: apt-get install golang-go golang-github-antonmedv-expr-dev (.ci/run installs them)';

export interface OracleAccount {
  readonly name: string;
  readonly annotations: Record<string, string>;
}
export interface OracleChoice {
  readonly serviceAccount: string | null;
  readonly error?: string;
}

let binary: string | undefined;
function build(): string {
  if (binary) return binary;
  const hash = createHash('sha256').update(readFileSync(SOURCE)).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), 'swoop-argo-sso-rbac-oracle');
  const out = join(dir, `oracle-${hash}`);
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    const built = spawnSync('go', ['build', '-o', out, SOURCE], {
      encoding: 'utf8',
      env: { ...process.env, GO111MODULE: 'off', GOPATH, GOCACHE: join(dir, 'cache'), GOFLAGS: '' },
    });
    if (built.status !== 0) throw new Error(`go build of the SSO RBAC oracle failed:\n${built.stderr}`);
  }
  binary = out;
  return out;
}

/** The account Argo would pick for each user's claims (null with the reason when denied). */
export function argoSsoAccounts(accounts: readonly OracleAccount[], users: readonly Record<string, unknown>[]): OracleChoice[] {
  const run = spawnSync(build(), [], { input: JSON.stringify({ serviceAccounts: accounts, users }), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`the SSO RBAC oracle failed: ${run.stderr}`);
  return run.stdout.trim().split('\n').map((line) => JSON.parse(line) as OracleChoice);
}
