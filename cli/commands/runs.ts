/** `swoop runs list`: runs by workflow, state, collection, payload and time, newest first (the service's /runs). */
import type { Command } from '@commander-js/extra-typings';
import { type Ctx, examples } from '../context';
import { printJson } from '../io';
import { type RunView, StateClient } from '../state-client';
import { parsePositive, parseStates, parseWhen } from '../time';
import { runRows } from './payload';

export function registerRuns(program: Command<[], any>, ctx: Ctx): void {
  const runs = program.command('runs').description('list runs recorded by the state service');
  runs
    .command('list')
    .description('runs newest first, filtered; a table, or --json')
    .option('--workflow <name>', 'only runs of this workflow')
    .option('--state <states>', 'only runs in these states, comma-separated (e.g. FAILED,TIMED_OUT)')
    .option('--collection <id>', 'only runs of payloads with items of this collection')
    .option('--payload-id <id>', 'only runs of this payload')
    .option('--since <when>', 'created at or after: 30m, 24h, 7d, today, yesterday, 2024-05-01 or RFC 3339')
    .option('--until <when>', 'created before (same forms as --since)')
    .option('--limit <n>', 'at most this many runs (pages are followed)', '50')
    .addHelpText('after', examples(
      'swoop -d dev runs list --workflow cog-archive --state FAILED --since yesterday',
      'swoop -d dev runs list --state RUNNING --json',
    ))
    .action(async (o) => {
      const limit = parsePositive('--limit', o.limit, 100_000);
      const query = {
        workflow: o.workflow,
        collection: o.collection,
        payloadId: o.payloadId,
        state: o.state === undefined ? undefined : parseStates('--state', o.state),
        since: o.since === undefined ? undefined : parseWhen('--since', o.since),
        until: o.until === undefined ? undefined : parseWhen('--until', o.until),
      };
      const found: RunView[] = [];
      for await (const run of new StateClient(ctx.deployment(), ctx.io.signal).allRuns(query, Math.floor(limit))) found.push(run);
      if (ctx.json) return printJson(ctx.io, { runs: found });
      ctx.io.stdout(runRows(found));
      if (found.length === Math.floor(limit)) ctx.io.stdout(`(first ${found.length}; --limit for more)\n`);
    });
}
