import { describe, expect, it } from 'vitest';
import { stateOfPhase } from '../../state/states';

// The Argo phase and the texts Argo v4 writes for each way a run ends (contracts.md mapping).
describe('stateOfPhase', () => {
  it.each([
    ['Running', '', '', 'RUNNING'],
    ['Succeeded', '', '', 'SUCCESSFUL'],
    ['Failed', 'child failed', '', 'FAILED'],
    ['Error', 'pod deleted', '', 'FAILED'],
    ['Failed', 'Max duration limit exceeded', '', 'TIMED_OUT'],
    ['Failed', '', '[{"displayName":"convert","message":"Step exceeded its deadline"}]', 'TIMED_OUT'],
    ['Failed', '', '[{"displayName":"convert","message":"retry exceeded workflow deadline 2026-11-28 10:00:00 +0000 UTC"}]', 'TIMED_OUT'],
    ['Failed', 'Stopped with strategy \'Stop\'', '', 'CANCELED'],
    ['Failed', '', '[{"displayName":"convert","message":"workflow shutdown with strategy:  Terminate"}]', 'CANCELED'],
  ] as const)('%s with "%s%s" is %s', (phase, message, failures, state) => {
    expect(stateOfPhase(phase, message, failures)).toBe(state);
  });
});
