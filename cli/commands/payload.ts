/** `swoop payload get <id>` (the whole record) and `swoop payload state <id>` (its state and runs). */
import type { Command } from '@commander-js/extra-typings';
import { type Ctx, examples } from '../context';
import { printJson, table } from '../io';
import { type PayloadView, type RunView, StateClient } from '../state-client';

const short = (s: string | null | undefined, max = 100) => {
  const one = (s ?? '').replace(/\s+/g, ' ');
  return one.length > max ? `${one.slice(0, max - 3)}...` : one;
};

export function runRows(runs: readonly RunView[]): string {
  return table(['RUN', 'WORKFLOW', 'STATE', 'CLAIM', 'CREATED', 'FINISHED', 'ERROR'], runs.map((r) => [
    r.run, r.workflow, r.state, r.claim ?? '-', r.createdAt, r.finishedAt ?? '-', short(r.error, 80) || '-',
  ]));
}

function stateOf(p: PayloadView) {
  const latest = p.runs.find((r) => r.claim === 'claimed');
  return {
    payloadId: p.payloadId,
    state: p.state,
    latestRun: latest?.run ?? null,
    output: latest?.output || null,
    error: latest?.error || null,
    runs: p.runs.map((r) => ({ run: r.run, state: r.state, claim: r.claim, createdAt: r.createdAt, finishedAt: r.finishedAt, error: r.error })),
  };
}

export function registerPayload(program: Command<[], any>, ctx: Ctx): void {
  const payload = program.command('payload').description('a payload\'s state record and its runs');
  payload
    .command('get')
    .description('the whole record of a payload: ids, input, every run and the history of states')
    .argument('<id>', 'cirrus payload id (collections/workflow-<workflow>/items) or its 64-hex hash')
    .addHelpText('after', examples('swoop -d dev payload get sentinel-2-l2a/workflow-cog-archive/S2B_17HQD_20201103_0_L2A'))
    .action(async (id) => {
      const p = await new StateClient(ctx.deployment(), ctx.io.signal).payload(id);
      if (ctx.json) return printJson(ctx.io, p);
      ctx.io.stdout([
        `payload     ${p.payloadId}`,
        `hash        ${p.hash}`,
        `workflow    ${p.workflow}`,
        `state       ${p.state ?? '(no run claimed it yet)'}`,
        `collections ${p.collections.join(', ') || '-'}`,
        `items       ${p.itemIds.join(', ') || '-'}`,
        `created     ${p.createdAt}`,
        `input       ${short(p.input, 160) || '-'}`,
        '',
      ].join('\n'));
      ctx.io.stdout(runRows(p.runs));
      ctx.io.stdout('\nhistory\n');
      ctx.io.stdout(table(['RECORDED', 'RUN', 'STATE', 'SOURCE', 'APPLIED', 'MESSAGE'], p.history.map((h) => [
        h.recordedAt, h.run, h.state, h.source, h.applied ? 'yes' : 'no', short(h.message, 80) || '-',
      ])));
    });
  payload
    .command('state')
    .description('a payload\'s current state (that of its latest claimed run), its output or error, and its runs')
    .argument('<id>', 'cirrus payload id or its hash')
    .addHelpText('after', examples('swoop -d dev payload state sentinel-2-l2a/workflow-cog-archive/S2B_17HQD_20201103_0_L2A --json'))
    .action(async (id) => {
      const s = stateOf(await new StateClient(ctx.deployment(), ctx.io.signal).payload(id));
      if (ctx.json) return printJson(ctx.io, s);
      ctx.io.stdout(`${s.payloadId}: ${s.state ?? 'no run claimed it yet'}${s.latestRun ? ` (run ${s.latestRun})` : ''}\n`);
      if (s.output) ctx.io.stdout(`output ${s.output}\n`);
      if (s.error) ctx.io.stdout(`error  ${short(s.error, 300)}\n`);
      ctx.io.stdout(table(['RUN', 'STATE', 'CLAIM', 'CREATED', 'FINISHED'], s.runs.map((r) => [r.run, r.state, r.claim ?? '-', r.createdAt, r.finishedAt ?? '-'])));
    });
}
