import { relative } from 'node:path';
import { ValidationError } from './synth';

/**
 * A mistake in how a construct was built, found while building it (before validation can
 * run): `message` is `<construct path>: <what is wrong>; <what to do>`, so a command prints
 * it as-is, without a stack trace.
 */
export class ConstructPathError extends Error {
  constructor(
    public readonly path: string,
    public readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = 'ConstructPathError';
  }
}

/** Throws a ConstructPathError: the same `<path>: <problem>` shape validation errors have. */
export function failAt(path: string, message: string): never {
  throw new ConstructPathError(path, message);
}

// What the `constructs` library throws for a duplicate id: "There is already a Construct with name 'x' in TaskLibrary [lib]".
const DUPLICATE_ID = /^There is already a Construct with name '([^']*)' in (\S+)(?: \[([^\]]*)\])?/;

/**
 * The lines a command prints for a failure: one `<construct path>: <problem>` per problem.
 * Anything else (a bug in user code or here) is one line too, with where it was thrown when
 * that is a file of the project, and a pointer to `--debug` for the stack trace.
 */
export function problemLines(error: unknown, cwd = process.cwd()): string[] {
  if (error instanceof ValidationError) return error.errors.map((e) => oneLine(`${e.path}: ${e.message}`));
  if (error instanceof ConstructPathError) return [oneLine(error.message)];
  const message = error instanceof Error ? error.message : String(error);
  const duplicate = DUPLICATE_ID.exec(message);
  if (duplicate) {
    const [, id, type, scope] = duplicate;
    return [`${scope ? `${scope}/` : ''}${id}: another construct in ${scope ? `${type} ${scope}` : `the ${type}`} already has the id "${id}"; give each one its own id`];
  }
  const where = error instanceof Error ? thrownAt(error, cwd) : undefined;
  const name = error instanceof Error && error.name !== 'Error' ? `${error.name}: ` : '';
  return [`${where ? `${where}: ` : ''}${name}${oneLine(message)}; run with --debug for the stack trace`];
}

/** `file:line` of the first stack frame in a project file (not node_modules, not node internals). */
function thrownAt(error: Error, cwd: string): string | undefined {
  for (const line of (error.stack ?? '').split('\n').slice(1)) {
    const m = /\(?((?:file:\/\/)?\/[^():]+):(\d+):\d+\)?\s*$/.exec(line);
    if (!m) continue;
    const file = m[1].replace(/^file:\/\//, '');
    if (file.includes('/node_modules/') || !file.startsWith(cwd)) continue;
    return `${relative(cwd, file)}:${m[2]}`;
  }
  return undefined;
}

function oneLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
}

/**
 * Runs a command's `main` and sets the exit code: what it returns, or 1 with one line per
 * problem when it throws. `--debug` (removed from argv before `main` sees it) prints the
 * stack trace instead.
 */
export async function runCommand(main: (argv: string[]) => number | Promise<number>, argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const debug = argv.includes('--debug');
  try {
    process.exitCode = await main(argv.filter((a) => a !== '--debug'));
  } catch (e) {
    process.stderr.write(debug && e instanceof Error ? `${e.stack ?? e.message}\n` : `${problemLines(e).join('\n')}\n`);
    process.exitCode = 1;
  }
}
