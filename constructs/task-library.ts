import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { SWOOP_NAMESPACE } from './platform';
import { Task, type InputArtifacts, type InputParameters, type OutputArtifacts, type OutputParameters } from './task';

export interface TaskLibraryProps {
  /** Namespace of the task WorkflowTemplates and services (workflows must run in the same one). @default 'swoop' */
  readonly namespace?: string;
}

/**
 * The chart that holds every task: one WorkflowTemplate per task (plus a Deployment and a
 * Service per ServiceTask), written to one file. Workflows reference tasks by `templateRef`,
 * so a task is versioned and deployed in exactly one place.
 */
export class TaskLibrary extends Chart {
  public static isTaskLibrary(x: unknown): x is TaskLibrary {
    return x !== null && typeof x === 'object' && (x as { [MARK]?: boolean })[MARK] === true;
  }

  /** Finds the library a task was defined in. */
  public static of(task: Construct): TaskLibrary {
    for (let scope = task.node.scope; scope; scope = scope.node.scope) {
      if (TaskLibrary.isTaskLibrary(scope)) return scope;
    }
    throw new Error(`${task.node.path}: a task must be defined inside a TaskLibrary (new ContainerTask(library, id, props))`);
  }

  public override readonly namespace: string;

  constructor(scope: Construct, id: string, props: TaskLibraryProps = {}) {
    const namespace = props.namespace ?? SWOOP_NAMESPACE;
    super(scope, id, { namespace, disableResourceNameHashes: true });
    Object.defineProperty(this, MARK, { value: true });
    this.namespace = namespace;
  }

  /** Every task of the library, in definition order. */
  public get tasks(): Task<InputParameters, OutputParameters, InputArtifacts, OutputArtifacts>[] {
    return this.node.children.filter((c) => Task.isTask(c)) as Task<InputParameters, OutputParameters, InputArtifacts, OutputArtifacts>[];
  }
}

const MARK = Symbol.for('swoop-platform.TaskLibrary');
