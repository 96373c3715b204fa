/**
 * The type check `npm run synth` runs before it builds anything: the app's entry file and
 * what it imports (not infra/, stacks/ or tests), with the compiler options of
 * tsconfig.synth.json. tsx only strips types, so without this a mistake the types would catch
 * (an undeclared output, a misspelt option) reaches the manifests or fails later, elsewhere.
 *
 * Fast because it mostly does not run: after a clean check a stamp records a fingerprint of
 * every file the program read (contents for the project's files, size and mtime for
 * node_modules); while they all match, the compiler is not even loaded. Otherwise it is an
 * incremental program, whose build info keeps the results of unchanged files. Both live in
 * node_modules/.cache/swoop-synth/, outside git.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type * as TS from 'typescript';

const ROOT = resolve(__dirname, '..');
export const SYNTH_TSCONFIG = join(ROOT, 'tsconfig.synth.json');
const CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'swoop-synth');

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

function fingerprint(file: string): string {
  try {
    if (file.includes(`${'/'}node_modules/`)) {
      const s = statSync(file);
      return `${s.size}:${s.mtimeMs}`;
    }
    return sha1(readFileSync(file));
  } catch {
    return 'missing';
  }
}

/** What invalidates every result: the compiler version and the configuration files. */
function configKey(entry: string): string {
  const tsVersion = (JSON.parse(readFileSync(require.resolve('typescript/package.json'), 'utf8')) as { version: string }).version;
  const configs = [SYNTH_TSCONFIG, join(ROOT, 'tsconfig.json')].map((f) => fingerprint(f));
  return sha1([entry, tsVersion, ...configs].join('\n'));
}

function writeAtomically(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

function readStamp(file: string): Stamp | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}

function cacheFiles(entry: string): { stampFile: string; buildInfo: string } {
  const id = sha1(resolve(entry)).slice(0, 16);
  return { stampFile: join(CACHE_DIR, `${id}.stamp.json`), buildInfo: join(CACHE_DIR, `${id}.tsbuildinfo`) };
}

/** The cache files of an entry's type check (the bench removes them to measure a cold check). */
export function typecheckCacheFiles(entry: string): string[] {
  const { stampFile, buildInfo } = cacheFiles(entry);
  return [stampFile, buildInfo];
}

/** Type-checks `entry` and everything it imports. */
export function typecheck(entry: string, cwd = process.cwd()): TypecheckResult {
  const root = resolve(entry);
  const { stampFile, buildInfo } = cacheFiles(root);
  const key = configKey(root);
  const stamp = readStamp(stampFile);
  if (stamp?.key === key && Object.entries(stamp.files).every(([f, print]) => fingerprint(f) === print)) {
    return { problems: [], upToDate: true };
  }

  // Loaded only when something changed: requiring the compiler alone costs a few hundred ms.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require('typescript') as typeof TS;
  const config = ts.getParsedCommandLineOfConfigFile(SYNTH_TSCONFIG, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (!config) throw new Error(`${relative(cwd, SYNTH_TSCONFIG)} cannot be read`);
  const options: TS.CompilerOptions = { ...config.options, noEmit: true, incremental: true, tsBuildInfoFile: buildInfo };
  const host = ts.createIncrementalCompilerHost(options);
  host.writeFile = (file, text) => writeAtomically(file, text);
  const program = ts.createIncrementalProgram({ rootNames: [root], options, host });
  const diagnostics = [
    ...config.errors,
    ...program.getConfigFileParsingDiagnostics(),
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...program.getSyntacticDiagnostics(),
    ...program.getSemanticDiagnostics(),
  ].filter((d) => d.category === ts.DiagnosticCategory.Error);
  program.emit(); // with noEmit, writes only the build info
  const problems = diagnostics.map((d): TypeProblem => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, ' ').replace(/\s+/g, ' ').trim();
    if (!d.file || d.start === undefined) return { code: d.code, message, ...(d.file ? { file: relative(cwd, d.file.fileName) } : {}) };
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    const file = relative(cwd, d.file.fileName);
    return { file: file.startsWith('..') ? d.file.fileName : file, line: line + 1, column: character + 1, code: d.code, message };
  });
  if (problems.length === 0) {
    const files = Object.fromEntries(program.getSourceFiles().map((f) => [f.fileName, fingerprint(f.fileName)]));
    writeAtomically(stampFile, JSON.stringify({ key, files } satisfies Stamp));
  }
  return { problems, upToDate: false };
}
