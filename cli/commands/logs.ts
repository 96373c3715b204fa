/**
 * `swoop logs <run> [--step <step>]`: task logs through the Argo Server API, each line prefixed
 * with its step. A workflow still in the cluster streams its pods' logs; one garbage-collected
 * since is read from the workflow archive, its logs from the artifacts `archiveLogs` saved.
 */
import type { Command } from '@commander-js/extra-typings';
import { type ArgoWorkflow, ArgoClient, hasArchivedLogs, logTargets, podNameOf, stepPods } from '../argo';
import { type Ctx, examples } from '../context';
import { CliError, printJson } from '../io';

function stepTargets(wf: ArgoWorkflow, run: string, step: string) {
  const nodes = Object.values(wf.status?.nodes ?? {});
  const pods = stepPods(wf, step);
  if (pods.length === 0) {
    const http = nodes.some((n) => n.displayName === step && n.type === 'HTTP');
    if (http) throw new CliError(`step "${step}" of run ${run} is an HTTP step (it runs in the workflow's agent pod and has no logs of its own); its outcome is in \`swoop run get ${run}\``);
    const steps = [...new Set(nodes.filter((n) => n.type === 'Pod' || n.type === 'Container').map((n) => n.displayName.replace(/\(.*$/, '')))].sort();
    throw new CliError(`step "${step}": run ${run} has no such step with logs (steps: ${steps.join(', ') || 'none started yet'})`);
  }
  return pods;
}

export function registerLogs(program: Command<[], any>, ctx: Ctx): void {
  program
    .command('logs')
    .description('the task logs of a run (its Argo workflow, live or archived), through the Argo Server API; --step for one step')
    .argument('<run>', 'the run name (the Argo workflow name)')
    .option('--step <step>', 'only this step (its fan-out items and retries included)')
    .option('--grep <pattern>', 'only lines matching this regular expression')
    .addHelpText('after', examples('swoop -d dev logs cog-archive-7f3a1c2d9e8b4a60 --step convert'))
    .action(async (run, o) => {
      const argo = new ArgoClient(ctx.deployment(), ctx.io.signal);
      const live = await argo.liveWorkflow(run);
      const archived = live ? undefined : await argo.archivedWorkflow(run);
      const wf = live ?? archived;
      if (!wf) {
        throw new CliError(`run ${run}: no workflow of that name in namespace ${argo.namespace} of the Argo Server, live or archived; check the name (\`swoop run get ${run}\`) and argo.namespace (archived workflows are kept for the archive's TTL)`);
      }
      const lines: { step: string; pod: string; content: string }[] = [];
      const emit = (step: string, pod: string, content: string) => {
        if (ctx.json) lines.push({ step, pod, content });
        else ctx.io.stdout(`${step}: ${content}\n`);
      };
      const targets = o.step !== undefined ? stepTargets(wf, run, o.step) : undefined;
      if (archived) {
        // The artifact server has no grep: applied here, as the Argo UI does for archived logs.
        let grep: RegExp | undefined;
        try {
          grep = o.grep === undefined ? undefined : new RegExp(o.grep);
        } catch (e) {
          throw new CliError(`--grep "${o.grep}": not a regular expression (${(e as Error).message})`);
        }
        const kept = (targets ?? logTargets(archived)).filter(hasArchivedLogs);
        if (kept.length === 0) {
          throw new CliError(`run ${run} is archived (no longer in the cluster) and ${o.step !== undefined ? `step "${o.step}"` : 'none of its steps'} has archived logs; pods' logs are archived only with the controller's archiveLogs (infra/argo.ts) and only for pods that ran to the end`);
        }
        if (!ctx.json) ctx.io.stderr(`${run} is archived: logs from the artifact repository\n`);
        for (const t of kept) {
          const content = await argo.archivedLogs(archived, t);
          if (content === undefined) throw new CliError(`run ${run}: the archived logs of ${t.node.displayName} are gone from the artifact repository (its lifecycle rule expired them?)`);
          for (const line of content) if (!grep || grep.test(line)) emit(t.node.displayName, t.pod, line);
        }
      } else if (targets) {
        for (const p of targets) {
          for await (const l of argo.logs(run, { podName: p.pod, container: p.container, grep: o.grep })) emit(p.node.displayName, l.podName || p.pod, l.content);
        }
      } else {
        const nodes = Object.values(wf.status?.nodes ?? {});
        const stepOfPod = new Map(nodes.filter((n) => n.type === 'Pod').map((n) => [podNameOf(wf, n), n.displayName]));
        for await (const l of argo.logs(run, { grep: o.grep })) emit(stepOfPod.get(l.podName) ?? l.podName, l.podName, l.content);
      }
      if (ctx.json) printJson(ctx.io, { run, archived: archived !== undefined, lines });
    });
}
