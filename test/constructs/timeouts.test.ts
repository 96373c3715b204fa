import { Duration } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { ContainerTask, Workflow } from '../../constructs';
import { fixture, problemsOf } from './fixtures';

/** A task timeout longer than its workflow's can never fire: synth says so, and which deadline wins. */
describe('task timeout versus workflow timeout', () => {
  const WINS = "the workflow's activeDeadlineSeconds ends the run first, so the task's timeout never applies: lower the task's timeout or raise the workflow's";

  it('a step whose task timeout exceeds the workflow timeout (default 6 hours)', () => {
    expect(problemsOf(() => {
      const f = fixture();
      const slow = new ContainerTask(f.lib, 'slow', { image: 'ghcr.io/example/stac-tools:2.1.0', timeout: Duration.hours(8) });
      new Workflow(f.app, 'wf').addStep('run', slow);
      return f.app;
    })).toEqual([`wf/run: runs task "slow" whose timeout (8h) is longer than the workflow's timeout (6h); ${WINS}`]);
  });

  it('a container group member, against an explicit workflow timeout', () => {
    expect(problemsOf(() => {
      const f = fixture();
      const slow = new ContainerTask(f.lib, 'slow', { image: 'ghcr.io/example/stac-tools:2.1.0', timeout: Duration.minutes(90) });
      const group = new Workflow(f.app, 'wf', { timeout: Duration.hours(1) }).addGroup('g');
      group.addStep('a', f.tasks.small);
      group.addStep('b', slow);
      return f.app;
    })).toEqual([`wf/g: member "b" runs task "slow" whose timeout (1h30m) is longer than the workflow's timeout (1h); ${WINS}`]);
  });

  it('a task timeout within the workflow timeout, or equal to it, is fine', () => {
    expect(problemsOf(() => {
      const f = fixture();
      const task = new ContainerTask(f.lib, 'slow', { image: 'ghcr.io/example/stac-tools:2.1.0', timeout: Duration.hours(2) });
      new Workflow(f.app, 'a', { timeout: Duration.hours(2) }).addStep('run', task);
      new Workflow(f.app, 'b').addStep('run', task);
      return f.app;
    })).toEqual([]);
  });
});
