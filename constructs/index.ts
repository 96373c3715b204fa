export * from './compute-classes';
export * from './platform';
export * from './refs';
export * from './image';
export { dnsLabelProblem, standardLabels } from './names';
export * from './task';
export * from './retry';
export { FailuresRef, type Catcher, type CatchClass } from './catch';
export * from './task-library';
export { EnvSource, type EnvEntry, type TaskIO, type ContainerSettings } from './container';
export * from './container-task';
export * from './service-task';
export {
  DagNode, Step, outputUrl,
  type StepOptions, type StepProps, type StepArgs, type StepOutputs, type ParameterArgs, type ArtifactArgs,
} from './step';
export { ContainerGroup, GroupMember, type ContainerGroupOptions } from './container-group';
export * from './workflow';
export {
  PAYLOAD_PROJECTION_ANNOTATION, PayloadCount, PayloadList, PayloadProjections, PayloadValue, TaskSettings, projectPayload, type PayloadDeclaration,
} from './payload';
export { MapItem, MapIteration, MapStep, MAP_IMAGE, MAP_SCRIPT_FILE, type MapOptions, type MapProps, type MapArgs, type MapIterationBuilder } from './map';
export { WaitForCallback, TaskTokenTarget, taskTokenQueueReads, type SqsTargetProps, type TaskTokenQueueRead, type WaitForCallbackProps } from './wait-for-callback';
export { EnvironmentValue, environmentValues, type EnvironmentValues } from './environment';
export * from './pods';
export * from './synth';
export * from './errors';
export { buildTypeChecked, synthCommand, type SynthCommandOptions } from './synth-cli';
