/**
 * The type check `npm run synth` runs before it writes anything: the app's entry file and
 * what it imports (not infra/, stacks/ or tests), with the compiler options of
 * tsconfig.synth.json. tsx only strips types, so without this a mistake the types would catch
 * (an undeclared output, a misspelt option) reaches the manifests or fails later, elsewhere.
 *
 * Fast because it mostly does not run, and otherwise runs beside the app's build:
 * - after a clean check a stamp records a fingerprint of every file the program read
 *   (contents for the project's files, size and mtime for node_modules); while they all
 *   match, the compiler is not even loaded;
 * - otherwise the check runs in the warm checker (constructs/typecheck-server.ts: a process
 *   that keeps the parsed declaration files between synth runs and exits when idle), or, where
 *   no such process may start (CI, tests, SWOOP_SYNTH_CHECKER=off), in a worker thread; both
 *   while the app is built, and synth writes nothing until the check is clean;
 * - the program is incremental: its build info keeps the results of unchanged files.
 * Stamp and build info live in node_modules/.cache/swoop-synth/, outside git. The compiler
 * side is constructs/typecheck-program.ts, loaded by path so the checked program does not
 * include the compiler's own declarations.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { askChecker, checkerAllowed } from './typecheck-server';

const ROOT = resolve(__dirname, '..');
export const SYNTH_TSCONFIG = join(ROOT, 'tsconfig.synth.json');
export const CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'swoop-synth');
const PROGRAM_FILE = join(__dirname, 'typecheck-program.ts');

export interface TypeProblem {
  /** Relative to the working directory, or absolute outside it. */
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly code: number;
  readonly message: string;
}

export interface TypecheckResult {
  readonly problems: TypeProblem[];
  /** Whether the stamp showed nothing changed since the last clean check (the compiler did not run). */
  readonly upToDate: boolean;
}

/** `file:line:col: error TS2339: message`, on one line. */
export function formatTypeProblem(p: TypeProblem): string {
  const where = p.file ? `${p.file}${p.line !== undefined ? `:${p.line}:${p.column}` : ''}: ` : '';
  return `${where}error TS${p.code}: ${p.message}`;
}

interface Stamp {
  readonly key: string;
  readonly files: Record<string, string>;
}

function sha1(text: string | Buffer): string {
  return createHash('sha1').update(text).digest('hex');
}

/** A file's fingerprint: size and mtime in node_modules, else a hash of its text (`text` when the caller already read it). */
export function projectFingerprint(file: string, text?: string): string {
  try {
    if (file.includes(`${'/'}node_modules/`)) {
      const s = statSync(file);
      return `${s.size}:${s.mtimeMs}`;
    }
    return sha1(text ?? readFileSync(file, 'utf8'));
  } catch {
    return 'missing';
  }
}

/**
 * What invalidates every result: the entry, the compiler version, the configuration files,
 * the installed packages (npm's lock of node_modules) and the checker's own code.
 */
export function configKey(entry: string): string {
  const tsVersion = (JSON.parse(readFileSync(require.resolve('typescript/package.json'), 'utf8')) as { version: string }).version;
  const files = [SYNTH_TSCONFIG, join(ROOT, 'tsconfig.json'), join(ROOT, 'node_modules', '.package-lock.json'), __filename, PROGRAM_FILE, join(__dirname, 'typecheck-server.ts')];
  return sha1([entry, tsVersion, ...files.map((f) => projectFingerprint(f))].join('\n'));
}

export function writeAtomically(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** Records a clean check of `files` under `key`. */
export function writeStamp(stampFile: string, key: string, files: readonly string[], print: (file: string) => string): void {
  writeAtomically(stampFile, JSON.stringify({ key, files: Object.fromEntries(files.map((f) => [f, print(f)])) } satisfies Stamp));
}

function upToDate(stampFile: string, key: string): boolean {
  let stamp: Stamp;
  try {
    stamp = JSON.parse(readFileSync(stampFile, 'utf8')) as Stamp;
  } catch {
    return false;
  }
  return stamp.key === key && Object.entries(stamp.files).every(([f, print]) => projectFingerprint(f) === print);
}

export function cacheFiles(entry: string): { stampFile: string; buildInfo: string; socket: string } {
  const id = sha1(resolve(entry)).slice(0, 16);
  return { stampFile: join(CACHE_DIR, `${id}.stamp.json`), buildInfo: join(CACHE_DIR, `${id}.tsbuildinfo`), socket: join(CACHE_DIR, `${id}.sock`) };
}

/** The cache files of an entry's type check (the bench removes them to measure a cold check). */
export function typecheckCacheFiles(entry: string): string[] {
  const { stampFile, buildInfo } = cacheFiles(entry);
  return [stampFile, buildInfo];
}

interface ProgramModule {
  ProgramChecker: new (entry: string, key: string) => { check(cwd: string): TypecheckResult; persist(): void };
}

/** The compiler side, loaded through tsx whatever runs this (tsx, vitest, node). */
export function loadProgram(): ProgramModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tsx = require('tsx/cjs/api') as { require: (id: string, from: string) => unknown };
  return tsx.require(PROGRAM_FILE, __filename) as ProgramModule;
}

/** Type-checks `entry` and everything it imports, in this process. */
export function typecheck(entry: string, cwd = process.cwd()): TypecheckResult {
  const root = resolve(entry);
  const key = configKey(root);
  if (upToDate(cacheFiles(root).stampFile, key)) return { problems: [], upToDate: true };
  // Loaded only when something changed: requiring the compiler alone costs a few hundred ms.
  const { ProgramChecker } = loadProgram();
  const checker = new ProgramChecker(root, key);
  const result = checker.check(cwd);
  checker.persist();
  return result;
}

/** A type check under way; `result` settles once it is done. */
export interface PendingTypecheck {
  readonly result: Promise<TypecheckResult>;
  /** Where it runs: the stamp answered, the warm checker, or a worker thread. */
  readonly where: 'stamp' | 'checker' | 'worker';
}

/**
 * Starts the type check of `entry` beside whatever the caller does next (synth builds the
 * app meanwhile). Resolves once the check is under way; await `result` before writing.
 */
export async function startTypecheck(entry: string, cwd = process.cwd()): Promise<PendingTypecheck> {
  const root = resolve(entry);
  const key = configKey(root);
  if (upToDate(cacheFiles(root).stampFile, key)) return { result: Promise.resolve({ problems: [], upToDate: true }), where: 'stamp' };
  if (checkerAllowed(process.env, cacheFiles(root).socket)) {
    const { answer } = await askChecker(root, key, cwd);
    return { result: answer.then((a) => a?.result ?? typecheck(root, cwd)), where: 'checker' };
  }
  return { result: inWorker(root, key, cwd), where: 'worker' };
}

/** The check in a worker thread (the compiler loaded there through tsx); in this thread if the worker fails. */
function inWorker(entry: string, key: string, cwd: string): Promise<TypecheckResult> {
  const tsx = require.resolve('tsx/cjs/api');
  const code = `require(${JSON.stringify(tsx)}).register();
const { parentPort, workerData } = require('node:worker_threads');
const { ProgramChecker } = require(${JSON.stringify(PROGRAM_FILE)});
const checker = new ProgramChecker(workerData.entry, workerData.key);
parentPort.postMessage(checker.check(workerData.cwd));
checker.persist();`;
  return new Promise((done) => {
    const worker = new Worker(code, { eval: true, execArgv: [], workerData: { entry, key, cwd }, stdout: false, stderr: false });
    let answered = false;
    worker.once('message', (result: TypecheckResult) => {
      answered = true;
      done(result);
    });
    worker.once('error', () => {
      answered = true;
      done(typecheck(entry, cwd));
    });
    worker.once('exit', () => {
      if (!answered) done(typecheck(entry, cwd));
    });
  });
}
