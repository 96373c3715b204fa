/**
 * The warm checker: one process per app entry that keeps synth's type check
 * (constructs/typecheck-program.ts) loaded between `npm run synth` runs, as `tsc --watch` and
 * fork-ts-checker do, so a check after an edit re-parses the edited file and not the ~300
 * declaration files the app's imports pull in. It listens on a unix socket in
 * node_modules/.cache/swoop-synth/, answers one check per request (in order), and exits after
 * SWOOP_SYNTH_CHECKER_IDLE seconds (default 600) without one.
 *
 * Never stale: each check reads every file again (only text equal to what is on disk keeps
 * its parse, every import is resolved again), and a request carries the key of the compiler
 * version, configuration, installed packages and this code; on another key the process
 * removes its socket and exits, and the client starts a new one.
 *
 * Started by synth only where a leftover process is harmless: not when CI or VITEST is set,
 * unless SWOOP_SYNTH_CHECKER=server asks for it (a test does); SWOOP_SYNTH_CHECKER=off never.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, statSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { CACHE_DIR, cacheFiles, loadProgram, type TypecheckResult } from './typecheck';

const ROOT = resolve(__dirname, '..');
const DEFAULT_IDLE_SECONDS = 600;
/** How long a client waits for a checker it started to listen (it does so before loading the compiler). */
const START_TIMEOUT_MS = 30_000;

/** Whether synth may use (and start) the warm checker here (and the socket path fits a unix socket's limit). */
export function checkerAllowed(env: NodeJS.ProcessEnv = process.env, socket = ''): boolean {
  if (socket.length > 100 || process.platform === 'win32') return false;
  if (env.SWOOP_SYNTH_CHECKER === 'server') return true;
  return !(env.SWOOP_SYNTH_CHECKER === 'off' || env.CI || env.VITEST);
}

/** A checker's answer: the result, and which process checked. */
export interface Checked {
  readonly result: TypecheckResult;
  readonly pid: number;
}

type Request = { readonly key: string; readonly cwd: string } | { readonly stop: true };
type Answer =
  | { readonly result: TypecheckResult; readonly pid: number }
  | { readonly restart: true; readonly pid: number }
  | { readonly stopped: true; readonly pid: number }
  | { readonly failed: string; readonly pid: number };

/** Sends one request; undefined when nothing listens on the socket. */
function request(socket: string, body: Request): Promise<{ answer: Promise<Answer | undefined> } | undefined> {
  return new Promise((connected) => {
    const conn: Socket = connect(socket);
    conn.once('error', () => connected(undefined));
    conn.once('connect', () => {
      conn.removeAllListeners('error');
      const answer = new Promise<Answer | undefined>((done) => {
        let text = '';
        conn.setEncoding('utf8');
        conn.on('data', (chunk: string) => (text += chunk));
        conn.once('error', () => done(undefined));
        conn.once('close', () => {
          try {
            done(JSON.parse(text) as Answer);
          } catch {
            done(undefined);
          }
        });
      });
      conn.end(`${JSON.stringify(body)}\n`);
      connected({ answer });
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a checker for `entry` in its own session (it outlives this process until idle). */
function startChecker(entry: string, key: string): { exited: boolean } {
  const tsx = require.resolve('tsx/cjs/api');
  const code = `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(__filename)}).serve(${JSON.stringify(entry)}, ${JSON.stringify(key)});`;
  const child = spawn(process.execPath, ['-e', code], { cwd: ROOT, detached: true, stdio: 'ignore', env: process.env });
  const state = { exited: false };
  child.once('exit', () => (state.exited = true));
  child.once('error', () => (state.exited = true));
  child.unref();
  return state;
}

/** Connects to a checker that is starting; gives up when it exits first (another one may listen) or after START_TIMEOUT_MS. */
async function untilListening(socket: string, body: Request, started: { exited: boolean }): Promise<{ answer: Promise<Answer | undefined> } | undefined> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const exited = started.exited;
    const asked = await request(socket, body);
    if (asked) return asked;
    if (exited) return undefined;
    await sleep(25);
  }
  return undefined;
}

/**
 * Asks the warm checker of `entry` for a check, starting it when none runs. Resolves once the
 * request is on its way (or a checker is starting); `answer` is undefined when no checker
 * answered (it failed or did not start in time: check in-process then).
 */
export async function askChecker(entry: string, key: string, cwd: string): Promise<{ answer: Promise<Checked | undefined> }> {
  const { socket } = cacheFiles(entry);
  const body: Request = { key, cwd };
  const viaNew = async (started: { exited: boolean }): Promise<Checked | undefined> => {
    const asked = await untilListening(socket, body, started);
    const answer = asked && (await asked.answer);
    return answer && 'result' in answer ? answer : undefined;
  };
  const asked = await request(socket, body);
  if (!asked) {
    return { answer: viaNew(startChecker(entry, key)) };
  }
  const answer = asked.answer.then((answer) => {
    if (answer && 'result' in answer) return answer;
    // Another key: the old checker removed its socket and exits; this one starts afresh.
    if (answer && 'restart' in answer) {
      return viaNew(startChecker(entry, key));
    }
    return undefined;
  });
  return { answer };
}

/** Stops the warm checker of `entry` if one runs and waits until its process is gone; its pid, or undefined. */
export async function stopChecker(entry: string): Promise<number | undefined> {
  const asked = await request(cacheFiles(resolve(entry)).socket, { stop: true });
  const answer = asked && (await asked.answer);
  if (!answer) return undefined;
  for (let i = 0; i < 400 && processAlive(answer.pid); i++) await sleep(25);
  return answer.pid;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The checker process's main (started by startChecker). */
export function serve(entry: string, key: string): void {
  const { socket } = cacheFiles(entry);
  const idleMs = Number(process.env.SWOOP_SYNTH_CHECKER_IDLE ?? DEFAULT_IDLE_SECONDS) * 1000;
  let ino: number | undefined;
  const server = createServer({ allowHalfOpen: true });
  const shutdown = () => {
    server.close();
    // Only our own socket: a newer checker may already listen on the same path.
    try {
      if (ino !== undefined && statSync(socket).ino === ino) unlinkSync(socket);
    } catch {
      // already gone
    }
  };
  let idle = setTimeout(() => (shutdown(), process.exit(0)), idleMs);

  const { ProgramChecker } = loadProgram();
  let checker: InstanceType<typeof ProgramChecker> | undefined;

  server.on('connection', (conn) => {
    let text = '';
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => (text += chunk));
    conn.on('error', () => undefined);
    conn.once('end', () => {
      clearTimeout(idle);
      idle = setTimeout(() => (shutdown(), process.exit(0)), idleMs);
      let body: Request;
      try {
        body = JSON.parse(text) as Request;
      } catch {
        conn.destroy();
        return;
      }
      const pid = process.pid;
      if ('stop' in body || body.key !== key) {
        shutdown();
        conn.end(JSON.stringify('stop' in body ? { stopped: true, pid } : { restart: true, pid }), () => process.exit(0));
        return;
      }
      let answer: Answer;
      try {
        checker ??= new ProgramChecker(entry, key);
        answer = { result: checker.check(body.cwd), pid };
      } catch (e) {
        answer = { failed: (e as Error).message, pid };
      }
      // Answer first; the build info and the stamp are written while synth writes its files.
      conn.end(JSON.stringify(answer), () => checker?.persist());
    });
  });
  server.once('listening', () => {
    ino = statSync(socket).ino;
    // Start on the check right away: the client that started this process is building its app meanwhile.
    setImmediate(() => {
      try {
        checker ??= new ProgramChecker(entry, key);
        checker.check(ROOT);
        checker.persist();
      } catch {
        // answered (as failed) when asked
      }
    });
  });
  server.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EADDRINUSE') process.exit(1);
    // A socket file is there: another checker listens (leave it be), or one died without removing it.
    const probe = connect(socket);
    probe.once('connect', () => (probe.destroy(), process.exit(0)));
    probe.once('error', () => {
      try {
        unlinkSync(socket);
      } catch {
        // gone meanwhile
      }
      server.listen(socket);
    });
  });
  mkdirSync(CACHE_DIR, { recursive: true });
  server.listen(socket);
}
