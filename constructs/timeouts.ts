import type { Duration } from 'cdk8s';

/** What the timeout check reads of a DAG node: a step's task, or a container group's members. */
interface TimedNode {
  readonly task?: TimedTask;
  readonly members?: readonly { readonly name: string; readonly task: TimedTask }[];
}
interface TimedTask {
  readonly kind: string;
  readonly taskName: string;
  readonly timeout?: Duration;
}

/**
 * A container task's timeout (its pod's `activeDeadlineSeconds`, per attempt) longer than the
 * workflow's timeout can never fire: the workflow's `activeDeadlineSeconds` ends the run
 * first. Synth has no warnings, and configuration that cannot take effect is a mistake, so it
 * is an error that says which deadline wins.
 */
export function taskTimeoutProblems(node: TimedNode, workflowTimeout: Duration): string[] {
  const tasks = node.members ? node.members.map((m) => ({ who: `member "${m.name}" runs task`, task: m.task })) : node.task ? [{ who: 'runs task', task: node.task }] : [];
  const limit = workflowTimeout.toSeconds();
  return tasks
    .filter(({ task }) => task.kind === 'container' && task.timeout !== undefined && task.timeout.toSeconds() > limit)
    .map(({ who, task }) =>
      `${who} "${task.taskName}" whose timeout (${compact(task.timeout!.toSeconds())}) is longer than the workflow's timeout (${compact(limit)}); ` +
        "the workflow's activeDeadlineSeconds ends the run first, so the task's timeout never applies: lower the task's timeout or raise the workflow's",
    );
}

/** `8h`, `1h30m`, `45s`: Duration.toHumanString() says "7 hours 60 minutes" for 8 hours. */
function compact(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h ? `${h}h` : '', m ? `${m}m` : '', s || seconds === 0 ? `${s}s` : ''].join('');
}
