import { describe, expect, it } from 'vitest';
import { ARGO_PHASES, isRunState, OGC_STATUS, RUN_STATES, stateOfPhase } from '../../state/states';

// The Argo phase and the texts Argo v4 writes for each way a run ends (contracts.md mapping).
describe('stateOfPhase', () => {
  it.each([
    ['Pending', '', '', 'QUEUED'],
    ['Running', '', '', 'RUNNING'],
    ['Succeeded', '', '', 'SUCCESSFUL'],
    ['Succeeded', 'activeDeadlineSeconds', 'terminated', 'SUCCESSFUL'],
    ['Running', 'Stopped with strategy \'Stop\'', '', 'RUNNING'],
    ['Failed', 'child failed', '', 'FAILED'],
    ['Error', 'pod deleted', '', 'FAILED'],
    ['Failed', 'Max duration limit exceeded', '', 'TIMED_OUT'],
    ['Error', 'Pod was active on the node longer than the specified deadline: activeDeadlineSeconds', '', 'TIMED_OUT'],
    ['Failed', 'DEADLINE EXCEEDED', '', 'TIMED_OUT'],
    ['Failed', '', '[{"displayName":"convert","message":"Step exceeded its deadline"}]', 'TIMED_OUT'],
    ['Failed', '', '[{"displayName":"convert","message":"retry exceeded workflow deadline 2026-11-28 10:00:00 +0000 UTC"}]', 'TIMED_OUT'],
    ['Failed', 'Stopped with strategy \'Stop\'', '', 'CANCELED'],
    ['Error', 'Terminated', '', 'CANCELED'],
    ['Failed', '', '[{"displayName":"convert","message":"workflow shutdown with strategy:  Terminate"}]', 'CANCELED'],
    // A run stopped because it ran out of time is a timeout, whichever text says it.
    ['Failed', 'terminated', '[{"message":"Step exceeded its deadline"}]', 'TIMED_OUT'],
  ] as const)('%s with "%s" / "%s" is %s', (phase, message, failures, state) => {
    expect(stateOfPhase(phase, message, failures)).toBe(state);
  });

  it('reads no text when none is given', () => {
    expect(stateOfPhase('Failed')).toBe('FAILED');
    expect(stateOfPhase('Error', 'deadline exceeded')).toBe('TIMED_OUT');
  });
});

describe('the state vocabulary', () => {
  it('has exactly the states and phases of contracts.md', () => {
    expect(RUN_STATES).toEqual(['PENDING', 'QUEUED', 'RUNNING', 'SUCCESSFUL', 'FAILED', 'CANCELED', 'TIMED_OUT', 'INVALID']);
    expect(ARGO_PHASES).toEqual(['Pending', 'Running', 'Succeeded', 'Failed', 'Error']);
  });

  it('recognizes exactly the run states, case-sensitively', () => {
    for (const s of RUN_STATES) expect(isRunState(s)).toBe(true);
    for (const s of ['running', 'Running', '', 'DONE', 'FAILED ']) expect(isRunState(s)).toBe(false);
  });

  it('maps every run state to its OGC API - Processes status', () => {
    expect(OGC_STATUS).toEqual({
      PENDING: 'accepted', QUEUED: 'accepted', RUNNING: 'running', SUCCESSFUL: 'successful',
      FAILED: 'failed', TIMED_OUT: 'failed', INVALID: 'failed', CANCELED: 'dismissed',
    });
  });
});
