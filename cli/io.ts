/**
 * What every command shares: where it writes, its exit codes, and the one-line error it ends
 * with. Commands never call process.exit: they throw a CliError (or return a code), so the
 * tests run them in-process with their own streams and environment.
 */
import type { Readable } from 'node:stream';

/** Exit codes (docs/cli.md). A run's final state maps to its own code so scripts can branch. */
export const EXIT = {
  ok: 0,
  /** anything failed: bad input, unreachable URL, 401, unknown id, a send that failed */
  error: 1,
  /** the command line itself is wrong (unknown option, missing argument) */
  usage: 2,
  FAILED: 3,
  TIMED_OUT: 4,
  CANCELED: 5,
  INVALID: 6,
  /** `run --wait --timeout` passed while the run was still active */
  waitTimeout: 7,
  /** the run's claim was refused: the payload is active or already succeeded (send replace) */
  refused: 8,
  /** interrupted (Ctrl-C); `rerun` keeps its checkpoint */
  interrupted: 130,
} as const;

/** A failure the user can fix: one line, `<what>: <what is wrong>; <what to do>`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.error,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** What cli-progress draws on: a terminal's write, with its width. */
export interface ProgressStream {
  readonly isTTY: boolean;
  readonly columns?: number;
  write(text: string): boolean;
}

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stdin: Readable;
  /** where progress bars are drawn: stderr when it is a terminal, else none */
  readonly progress?: ProgressStream;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** aborted on Ctrl-C */
  readonly signal: AbortSignal;
}

/** Prints `value` as one JSON document (the `--json` output of every command). */
export function printJson(io: Io, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** A plain text table: a header row and aligned columns, nothing for no rows but the header. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

/** Sleeps, or rejects at once when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CliError('interrupted', EXIT.interrupted));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CliError('interrupted', EXIT.interrupted));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
