/** `swoop logs <run> [--step <step>]`: task logs through the Argo Server API, each line prefixed with its step. */
import type { Command } from '@commander-js/extra-typings';
import { ArgoClient, podNameOf, stepPods } from '../argo';
import { type Ctx, examples } from '../context';
import { CliError, printJson } from '../io';

export function registerLogs(program: Command<[], any>, ctx: Ctx): void {
  program
    .command('logs')
    .description('the task logs of a run (its Argo workflow), through the Argo Server API; --step for one step')
    .argument('<run>', 'the run name (the Argo workflow name)')
    .option('--step <step>', 'only this step (its fan-out items and retries included)')
    .option('--grep <pattern>', 'only lines matching this regular expression (applied by the Argo Server)')
    .addHelpText('after', examples('swoop -d dev logs cog-archive-7f3a1c2d9e8b4a60 --step convert'))
    .action(async (run, o) => {
      const argo = new ArgoClient(ctx.deployment(), ctx.io.signal);
      const wf = await argo.workflow(run);
      const nodes = Object.values(wf.status?.nodes ?? {});
      const lines: { step: string; pod: string; content: string }[] = [];
      const emit = (step: string, pod: string, content: string) => {
        if (ctx.json) lines.push({ step, pod, content });
        else ctx.io.stdout(`${step}: ${content}\n`);
      };
      if (o.step !== undefined) {
        const pods = stepPods(wf, o.step);
        if (pods.length === 0) {
          const http = nodes.some((n) => n.displayName === o.step && n.type === 'HTTP');
          if (http) throw new CliError(`step "${o.step}" of run ${run} is an HTTP step (it runs in the workflow's agent pod and has no logs of its own); its outcome is in \`swoop run get ${run}\``);
          const steps = [...new Set(nodes.filter((n) => n.type === 'Pod' || n.type === 'Container').map((n) => n.displayName.replace(/\(.*$/, '')))].sort();
          throw new CliError(`step "${o.step}": run ${run} has no such step with logs (steps: ${steps.join(', ') || 'none started yet'})`);
        }
        for (const p of pods) {
          for await (const l of argo.logs(run, { podName: p.pod, container: p.container, grep: o.grep })) emit(p.node.displayName, l.podName || p.pod, l.content);
        }
      } else {
        const stepOfPod = new Map(nodes.filter((n) => n.type === 'Pod').map((n) => [podNameOf(wf, n), n.displayName]));
        for await (const l of argo.logs(run, { grep: o.grep })) emit(stepOfPod.get(l.podName) ?? l.podName, l.podName, l.content);
      }
      if (ctx.json) printJson(ctx.io, { run, lines });
    });
}
