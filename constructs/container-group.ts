import { Construct } from 'constructs';
import { placementProblems, resolveComputeClass, type Demand, demandOf } from './container';
import type { ContainerTask } from './container-task';
import { dnsLabelProblem } from './names';
import { INPUT_PARAM, OUTPUT_PARAM } from './platform';
import { Ref, render, type ArtifactRef, type Producer, type Value } from './refs';
import {
  DagNode, RESERVED_STEP_NAMES, checkArguments, checkStepOptions, outputUrl, outputUrlExpression, refsOf,
  type StepArgs, type StepOptions, type StepProps, type WorkflowContext,
} from './step';
import { renderRetry, retryLimit, type InputArtifacts, type InputParameters, type None, type OutputArtifacts, type OutputParameters, type RetryPolicy } from './task';

/** A container inside a ContainerGroup. */
export class GroupMember extends Construct implements Producer {
  public readonly name: string;
  public readonly path: string;
  public readonly workflowPath: string;
  public readonly task: ContainerTask<InputParameters, OutputParameters, InputArtifacts, OutputArtifacts>;
  /** The member's output payload URL (a plain string: readable outside the group too). */
  public readonly output: Ref;
  /** @internal */
  public readonly options: StepOptions;
  /** @internal */
  public readonly parameters: Record<string, Value>;
  /** @internal */
  public readonly defaultInput: Value;

  /** @internal use ContainerGroup.addStep */
  constructor(
    group: ContainerGroup, context: WorkflowContext, name: string,
    task: ContainerTask<InputParameters, OutputParameters, InputArtifacts, OutputArtifacts>,
    props: StepProps<InputParameters, InputArtifacts>, defaultInput: Value,
  ) {
    context.claimStepName(name, group);
    super(group, name);
    checkStepOptions(this.node.path, props);
    this.name = name;
    this.path = this.node.path;
    this.workflowPath = context.node.path;
    this.task = task;
    this.options = props;
    this.parameters = { ...((props.parameters ?? {}) as Record<string, Value>) };
    this.defaultInput = defaultInput;
    this.output = new Ref(outputUrl(name, group.fanOut), outputUrlExpression(name), 'step-payload', this, group);
    this.node.addValidation({ validate: () => this.validateMember(group) });
  }

  public get input(): Value {
    return this.options.input ?? this.defaultInput;
  }

  private validateMember(group: ContainerGroup): string[] {
    const errors: string[] = [];
    if (this.task.kind !== 'container') {
      return [`task "${this.task.taskName}" is a ${this.task.constructor.name} (an HTTP call), but a container group runs containers only; add it with wf.addStep()`];
    }
    const nameProblem = dnsLabelProblem('step name', this.name);
    if (nameProblem) errors.push(nameProblem);
    if (RESERVED_STEP_NAMES.has(this.name)) errors.push(`step name "${this.name}" is reserved (claim, main, wait, init); rename the step`);
    errors.push(...checkArguments(this.task, this.parameters, {}));
    if (Object.keys(this.task.inputArtifacts).length || Object.keys(this.task.outputArtifacts).length) {
      errors.push(`task "${this.task.taskName}" declares artifacts, which a container group cannot pass between its containers; run it as its own step`);
    }
    if (this.options.forEach || this.options.when || this.options.continueOnFailure || (this.options as { artifacts?: unknown }).artifacts) {
      errors.push('forEach, when, continueOnFailure and artifacts apply to the whole group; set them in addGroup(name, options)');
    }
    for (const ref of refsOf(this.options, this.parameters, {})) {
      if (ref instanceof Ref && ref.kind === 'step-parameter' && ref.producer instanceof GroupMember) {
        errors.push(`reads output parameter of group member "${ref.producer.name}"; inside a group only .output (the payload URL) passes between containers`);
      }
    }
    if (group.members.length > 0 && this.task.computeClass !== group.members[0].task.computeClass) {
      errors.push(
        `runs on compute class "${this.task.computeClass}" but the group's first member "${group.members[0].name}" runs on ` +
          `"${group.members[0].task.computeClass}"; a group is one pod on one node, so split the group`,
      );
    }
    return errors;
  }
}

export interface ContainerGroupOptions extends Omit<StepOptions, 'input'> {
  /** Retries of the whole pod. @default the largest retry limit of its members */
  readonly retry?: RetryPolicy;
}

/**
 * Consecutive lightweight container steps run as one pod (Argo `containerSet`), so they
 * pay one pod start instead of one each. Members pass payloads by URL like steps do.
 */
export class ContainerGroup extends DagNode {
  private readonly memberList: GroupMember[] = [];
  private readonly retry?: RetryPolicy;

  /** @internal use Workflow.addGroup */
  constructor(scope: Construct, context: WorkflowContext, name: string, options: ContainerGroupOptions, private readonly defaultInput: Value) {
    super(scope, context, name, options);
    this.retry = options.retry;
  }

  /** Adds a container; it waits for the members whose outputs it reads. */
  public addStep<IP extends InputParameters, OP extends OutputParameters, IA extends InputArtifacts, OA extends OutputArtifacts>(
    name: string, task: ContainerTask<IP, OP, IA, OA>, ...props: StepArgs<IP, None>
  ): GroupMember {
    const member = new GroupMember(
      this, this.context, name,
      task as unknown as ContainerTask<InputParameters, OutputParameters, InputArtifacts, OutputArtifacts>,
      (props[0] ?? {}) as StepProps<InputParameters, InputArtifacts>, this.defaultInput,
    );
    this.memberList.push(member);
    return member;
  }

  public get members(): readonly GroupMember[] {
    return this.memberList;
  }

  public get templateName(): string {
    return `group-${this.name}`;
  }

  public get refs(): (Ref | ArtifactRef)[] {
    const refs: (Ref | ArtifactRef)[] = [];
    if (this.options.when) refs.push(...this.options.when.refs);
    if (this.options.forEach instanceof Ref) refs.push(this.options.forEach);
    for (const m of this.memberList) {
      refs.push(...refsOf({ input: m.input }, m.parameters, {}));
    }
    return refs;
  }

  protected get argumentTexts(): string[] {
    return this.memberList.flatMap((m) => [m.input, ...Object.values(m.parameters)]).filter((v): v is string => typeof v === 'string');
  }

  /** Total requests of the pod (containers of a containerSet run side by side). */
  public get demand(): Demand {
    return this.memberList.reduce<Demand>(
      (sum, m) => {
        const d = demandOf(m.task.settings);
        return { cpuMillis: sum.cpuMillis + d.cpuMillis, memoryMiB: sum.memoryMiB + d.memoryMiB, gpus: sum.gpus + d.gpus };
      },
      { cpuMillis: 0, memoryMiB: 0, gpus: 0 },
    );
  }

  protected renderCall(): Record<string, unknown> {
    return {
      template: this.templateName,
      arguments: {
        parameters: this.memberList.flatMap((m) => [
          { name: `${m.name}-${INPUT_PARAM}`, value: render(m.input) },
          { name: `${m.name}-${OUTPUT_PARAM}`, value: outputUrl(m.name, this.fanOut) },
          ...Object.entries(m.parameters).map(([p, v]) => ({ name: `${m.name}-${p}`, value: render(v) })),
        ]),
      },
    };
  }

  /** The workflow-local containerSet template. @internal */
  public renderTemplate(labels: Record<string, string>): Record<string, unknown> {
    const first = this.memberList[0];
    const memberOf = (ref: Ref | ArtifactRef) => (ref instanceof Ref && ref.producer instanceof GroupMember ? ref.producer : undefined);
    // The member with the most retries lends its policy (and the error names its rules use).
    const lender = this.memberList.map((m) => m.task).reduce((a, b) => (retryLimit(b.retry) > retryLimit(a.retry) ? b : a), first?.task);
    const retry = this.retry ?? lender?.retry;
    return {
      name: this.templateName,
      metadata: { labels },
      inputs: {
        parameters: this.memberList.flatMap((m) => [
          { name: `${m.name}-${INPUT_PARAM}` },
          { name: `${m.name}-${OUTPUT_PARAM}` },
          ...Object.entries(m.task.inputParameters).map(([p, spec]) => ({
            name: `${m.name}-${p}`,
            ...(spec.default !== undefined ? { value: spec.default } : {}),
          })),
        ]),
      },
      containerSet: {
        containers: this.memberList.map((m) => {
          const deps = new Set<string>();
          for (const ref of refsOf({ input: m.input }, m.parameters, {})) {
            const producer = memberOf(ref);
            if (producer && producer !== m && this.memberList.includes(producer)) deps.add(producer.name);
          }
          return {
            name: m.name,
            ...m.task.renderContainer((p) => `${m.name}-${p}`),
            ...(deps.size ? { dependencies: [...deps].sort() } : {}),
          };
        }),
      },
      ...(first ? first.task.renderPodFields() : {}),
      ...(first && retry ? { retryStrategy: renderRetry(retry, this.retry ? {} : lender?.errors) } : {}),
      // Containers run one after another at worst, so the pod's deadline is the sum of theirs.
      ...(this.memberList.length && this.memberList.every((m) => m.task.timeout)
        ? { activeDeadlineSeconds: this.memberList.reduce((sum, m) => sum + m.task.timeout!.toSeconds(), 0) }
        : {}),
    };
  }

  protected validateSpecific(): string[] {
    if (this.memberList.length === 0) return ['the group has no containers; add them with group.addStep()'];
    // A member that is not a container reports itself; the pod cannot be sized without it.
    if (this.memberList.some((m) => m.task.kind !== 'container')) return [];
    const errors: string[] = [];
    const computeClass = resolveComputeClass(this.memberList[0].task.settings);
    const each = this.memberList.every((m) => m.task.computeClass === computeClass);
    if (each) errors.push(...placementProblems(computeClass, this.demand, 'its containers together request'));
    if (this.fanOut) {
      for (const c of this.context.node.findAll()) {
        if (c instanceof DagNode && c !== this && c.refs.some((r) => r instanceof Ref && r.dependency === this)) {
          errors.push(`step "${c.name}" reads a member output of fanned-out group "${this.name}", which has one output per item; fan in with a ContainerTask step instead`);
        }
      }
    }
    return errors;
  }
}
