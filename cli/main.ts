/**
 * `swoop`: the operator's command for a deployment of the platform (README "Operate",
 * docs/cli.md). One file per command group under cli/commands/; this file wires them, maps
 * failures to one line and an exit code, and is what the bin (cli/swoop.cjs) runs.
 */
import { Command, CommanderError } from '@commander-js/extra-typings';
import { registerDeployments } from './commands/deployments';
import { registerLogs } from './commands/logs';
import { registerPayload } from './commands/payload';
import { registerProcess } from './commands/process';
import { registerRerun } from './commands/rerun';
import { registerRun } from './commands/run';
import { registerRuns } from './commands/runs';
import { Ctx, examples } from './context';
import { CliError, EXIT, type Io } from './io';

export function buildProgram(io: Io): { program: Command<[], { deployment?: string; config?: string; json?: true }>; ctx: Ctx } {
  const program = new Command('swoop')
    .description('operate a swoop-platform deployment: send payloads, follow runs, read states and logs, re-run failures')
    .option('-d, --deployment <name>', 'deployment of the config file (default: $SWOOP_DEPLOYMENT, the file\'s default, or its only one)')
    .option('--config <file>', 'config file (default: $SWOOP_CONFIG, ./swoop.config.yaml, ~/.config/swoop/config.yaml)')
    .option('--json', 'print JSON (for scripts)')
    .option('--debug', 'print the stack trace of an unexpected failure')
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()
    .addHelpText('after', examples(
      'swoop deployments',
      'swoop -d dev run payload.json --timeout 30m',
      'swoop -d dev runs list --workflow cog-archive --state FAILED --since yesterday',
      'swoop -d dev rerun --workflow cog-archive --state FAILED --since yesterday',
    ));
  const ctx = new Ctx(io, program as unknown as Command<[], { deployment?: string; config?: string; json?: boolean }>);
  registerDeployments(program, ctx);
  registerProcess(program, ctx);
  registerRun(program, ctx);
  registerPayload(program, ctx);
  registerRuns(program, ctx);
  registerLogs(program, ctx);
  registerRerun(program, ctx);
  // Subcommands report usage errors through the same override, with their own help.
  const override = (cmd: Command<any, any>) => {
    cmd.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr }).showHelpAfterError('(add --help for usage and an example)');
    cmd.commands.forEach((c) => override(c as Command<any, any>));
  };
  override(program);
  return { program, ctx };
}

/** Runs the command line `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const { program, ctx } = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander printed the message (or the help) already
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof CliError) {
      io.stderr(`swoop: ${e.message}\n`);
      return e.exitCode;
    }
    const err = e as Error;
    io.stderr(argv.includes('--debug') ? `${err.stack ?? err.message}\n` : `swoop: unexpected failure: ${err.message ?? String(e)}; run again with --debug for the stack trace\n`);
    return EXIT.error;
  }
}

/** The bin's entry: real streams, Ctrl-C aborts the command (rerun keeps its checkpoint). */
export function run(argv: readonly string[]): void {
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  process.once('SIGTERM', () => abort.abort());
  // `swoop runs list | head`: a closed pipe ends the command quietly.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  void main(argv, {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    stdin: process.stdin,
    progress: process.stderr.isTTY ? process.stderr : undefined,
    env: process.env,
    cwd: process.cwd(),
    signal: abort.signal,
  }).then((code) => {
    process.exitCode = code;
    // Ctrl-C: exit now rather than wait for idle sockets.
    if (abort.signal.aborted) process.exit(code);
  });
}
