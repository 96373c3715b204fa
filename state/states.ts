/**
 * Run states and how Argo workflow phases map onto them (contracts.md). The ranking that
 * makes recording monotonic lives in SQL (swoop_state_rank); this is the vocabulary.
 */

export const RUN_STATES = ['PENDING', 'QUEUED', 'RUNNING', 'SUCCESSFUL', 'FAILED', 'CANCELED', 'TIMED_OUT', 'INVALID'] as const;
export type RunState = (typeof RUN_STATES)[number];

export const ARGO_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Error'] as const;
export type ArgoPhase = (typeof ARGO_PHASES)[number];

export function isRunState(s: string): s is RunState {
  return (RUN_STATES as readonly string[]).includes(s);
}

// Argo reports a deadline and a stop/terminate both as Failed; only the text tells them apart.
// Pods cut by the workflow deadline say "Step exceeded its deadline"; a retrying step says
// "retry exceeded workflow deadline".
const DEADLINE = /activeDeadlineSeconds|max duration|deadline exceeded|exceeded its deadline|exceeded workflow deadline/i;
const STOPPED = /stopped with strategy|terminated|shutdown/i;

/**
 * The state a workflow phase means. `message` and `failures` are the workflow's failure
 * message and its `workflow.failures` JSON text (either may be empty).
 */
export function stateOfPhase(phase: ArgoPhase, message = '', failures = ''): RunState {
  switch (phase) {
    case 'Pending':
      return 'QUEUED';
    case 'Running':
      return 'RUNNING';
    case 'Succeeded':
      return 'SUCCESSFUL';
    case 'Failed':
    case 'Error': {
      const text = `${message}\n${failures}`;
      if (DEADLINE.test(text)) return 'TIMED_OUT';
      if (STOPPED.test(text)) return 'CANCELED';
      return 'FAILED';
    }
  }
}

/** OGC API - Processes job status (statusCode) of a run state. */
export type OgcStatus = 'accepted' | 'running' | 'successful' | 'failed' | 'dismissed';

export const OGC_STATUS: Record<RunState, OgcStatus> = {
  PENDING: 'accepted',
  QUEUED: 'accepted',
  RUNNING: 'running',
  SUCCESSFUL: 'successful',
  FAILED: 'failed',
  TIMED_OUT: 'failed',
  INVALID: 'failed',
  CANCELED: 'dismissed',
};
