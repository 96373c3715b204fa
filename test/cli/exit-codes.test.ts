import { describe, expect, it } from 'vitest';
import { exitCodeOf } from '../../cli/commands/run';
import { EXIT } from '../../cli/io';
import { RUN_STATES } from '../../state/states';

describe('exit codes of `swoop run` (docs/cli.md)', () => {
  it('one per final state, 8 for a refused claim, 1 for a state that is not final', () => {
    const codes = Object.fromEntries(RUN_STATES.map((state) => [state, exitCodeOf({ state, claim: 'claimed' })]));
    expect(codes).toEqual({ PENDING: 1, QUEUED: 1, RUNNING: 1, SUCCESSFUL: 0, FAILED: 3, CANCELED: 5, TIMED_OUT: 4, INVALID: 6 });
    expect(exitCodeOf({ state: 'CANCELED', claim: 'refused' })).toBe(EXIT.refused);
    expect(new Set(Object.values(EXIT)).size).toBe(Object.values(EXIT).length);
  });
});
