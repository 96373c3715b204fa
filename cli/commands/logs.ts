/**
 * `swoop logs <run> [--step <step>]`: task logs through the Argo Server API, each line prefixed
 * with its step. A workflow still in the cluster streams its pods' logs; one garbage-collected
 * since is read from the workflow archive, its logs from the artifacts `archiveLogs` saved.
 * A live workflow's finished step whose pod streamed nothing (the Argo Server answers a pod
 * podGC deleted with an empty stream, not an error) is read from its logs artifact too.
 */
import type { Command } from '@commander-js/extra-typings';
import { type ArgoWorkflow, ArgoClient, finished, hasArchivedLogs, type LogTarget, logTargets, podNameOf, stepPods } from '../argo';
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

/** `--grep` as a local regular expression (the artifact server has no grep), compiled when first needed. */
function localGrep(pattern: string | undefined): RegExp | undefined {
  try {
    return pattern === undefined ? undefined : new RegExp(pattern);
  } catch (e) {
    throw new CliError(`--grep "${pattern}": not a regular expression (${(e as Error).message})`);
  }
}

const stepNames = (ts: readonly LogTarget[]) => [...new Set(ts.map((t) => t.node.displayName))].join(', ');

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
      const emitted = { n: 0 };
      const emit = (step: string, pod: string, content: string) => {
        emitted.n++;
        if (ctx.json) lines.push({ step, pod, content });
        else ctx.io.stdout(`${step}: ${content}\n`);
      };
      const targets = o.step !== undefined ? stepTargets(wf, run, o.step) : undefined;
      if (archived) {
        const grep = localGrep(o.grep);
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
      } else {
        // Targets whose pod streamed nothing: deleted by podGC (or silent, or not matching --grep).
        let quiet: LogTarget[];
        if (targets) {
          quiet = [];
          for (const p of targets) {
            let n = 0;
            for await (const l of argo.logs(run, { podName: p.pod, container: p.container, grep: o.grep })) {
              n++;
              emit(p.node.displayName, l.podName || p.pod, l.content);
            }
            if (n === 0) quiet.push(p);
          }
        } else {
          const nodes = Object.values(wf.status?.nodes ?? {});
          const stepOfPod = new Map(nodes.filter((n) => n.type === 'Pod').map((n) => [podNameOf(wf, n), n.displayName]));
          const streamed = new Set<string>();
          for await (const l of argo.logs(run, { grep: o.grep })) {
            streamed.add(l.podName);
            emit(stepOfPod.get(l.podName) ?? l.podName, l.podName, l.content);
          }
          // The whole-run stream reads each pod's `main` container: a containerSet pod has none.
          const containerSet = (n: { children?: readonly string[] }) => (n.children ?? []).some((c) => wf.status?.nodes?.[c]?.type === 'Container');
          quiet = logTargets(wf, (n) => n.type === 'Pod' && !containerSet(n)).filter((t) => !streamed.has(t.pod));
        }
        quiet = quiet.filter((t) => finished(t.node));
        const saved = quiet.filter(hasArchivedLogs);
        const lost = quiet.filter((t) => !hasArchivedLogs(t));
        if (saved.length > 0 && !ctx.json) ctx.io.stderr(`${run}: ${stepNames(saved)} streamed nothing (pod gone, e.g. podGC): logs from the artifact repository\n`);
        const grep = saved.length > 0 ? localGrep(o.grep) : undefined;
        for (const t of saved) {
          const content = await argo.archivedLogs(wf, t, 'live');
          if (content === undefined) {
            lost.push(t);
            continue;
          }
          for (const line of content) if (!grep || grep.test(line)) emit(t.node.displayName, t.pod, line);
        }
        // With --grep an empty stream may only mean no line matched: nothing to report then.
        if (lost.length > 0 && o.grep === undefined) {
          const what = `run ${run}: ${stepNames(lost)} finished but streamed no logs and has no archived logs (its pod is gone, e.g. podGC, or printed nothing); keep logs past podGC with the controller's archiveLogs (infra/argo.ts)`;
          if (emitted.n === 0) throw new CliError(what);
          ctx.io.stderr(`swoop: ${what}\n`);
        }
      }
      if (ctx.json) printJson(ctx.io, { run, archived: archived !== undefined, lines });
    });
}
