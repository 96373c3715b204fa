import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_STATES, stateOfPhase } from '../../state/states';
import { BACKEND, createTestDb, type TestDb } from './support';

type Row = Record<string, unknown>;

describe('phase to state mapping (contracts.md)', () => {
  it.each([
    ['Pending', '', '', 'QUEUED'],
    ['Running', '', '', 'RUNNING'],
    ['Succeeded', '', '', 'SUCCESSFUL'],
    ['Failed', 'child "convert" failed', '', 'FAILED'],
    ['Error', 'pod deleted', '', 'FAILED'],
    ['Failed', 'Step exceeded its deadline: activeDeadlineSeconds', '', 'TIMED_OUT'],
    ['Failed', '', '[{"displayName":"cog","message":"Max duration limit exceeded"}]', 'TIMED_OUT'],
    ['Error', 'context deadline exceeded', '', 'TIMED_OUT'],
    ['Failed', "Stopped with strategy 'Stop'", '', 'CANCELED'],
    ['Failed', '', '[{"displayName":"cog","message":"pod terminated"}]', 'CANCELED'],
    ['Failed', 'workflow shutdown with strategy: Terminate', '', 'CANCELED'],
  ] as const)('%s "%s" %s -> %s', (phase, message, failures, state) => {
    expect(stateOfPhase(phase, message, failures)).toBe(state);
  });
  it('covers exactly the eight documented states', () => {
    expect(RUN_STATES).toEqual(['PENDING', 'QUEUED', 'RUNNING', 'SUCCESSFUL', 'FAILED', 'CANCELED', 'TIMED_OUT', 'INVALID']);
  });
});

describe(`SQL rules (${BACKEND})`, () => {
  let t: TestDb;
  let n = 0;
  const fresh = () => `run-${++n}`;
  beforeAll(async () => {
    t = await createTestDb();
  });
  afterAll(async () => t.drop());

  const record = async (run: string, state: string, extra = '') =>
    (await t.db.query<Row>(`SELECT state::text AS state, recorded, applied FROM swoop_record_event($1, 'wf', $2::run_state, 'test'${extra})`, [run, state]))[0]!;
  const claim = async (payload: string, run: string, replace = false) =>
    (await t.db.query<Row>('SELECT * FROM swoop_claim($1, $2, $3, $4, $5)', [payload, 'wf', run, 's3://in', replace]))[0]!;
  const history = async (run: string) =>
    t.db.query<Row>('SELECT state::text AS state, applied FROM run_events WHERE run = $1 ORDER BY recorded_at', [run]);
  const outbox = async (run: string) => t.db.query<Row>('SELECT body FROM outbox WHERE run = $1', [run]);
  const stateOf = async (run: string) => (await t.db.query<Row>('SELECT state::text AS state FROM runs WHERE run = $1', [run]))[0]?.state;

  it('a late RUNNING never overwrites a final state, but is kept in history as not applied', async () => {
    const run = fresh();
    expect(await record(run, 'SUCCESSFUL')).toEqual({ state: 'SUCCESSFUL', recorded: true, applied: true });
    expect(await record(run, 'RUNNING')).toEqual({ state: 'SUCCESSFUL', recorded: true, applied: false });
    expect(await stateOf(run)).toBe('SUCCESSFUL');
    expect(await history(run)).toEqual([
      { state: 'SUCCESSFUL', applied: true },
      { state: 'RUNNING', applied: false },
    ]);
  });

  it('the first final state wins; a different final state later changes nothing', async () => {
    const run = fresh();
    await record(run, 'RUNNING');
    await record(run, 'FAILED');
    expect(await record(run, 'SUCCESSFUL')).toEqual({ state: 'FAILED', recorded: true, applied: false });
    expect(await stateOf(run)).toBe('FAILED');
  });

  it('a duplicate adds no history row', async () => {
    const run = fresh();
    await record(run, 'RUNNING');
    expect(await record(run, 'RUNNING')).toEqual({ state: 'RUNNING', recorded: false, applied: false });
    await record(run, 'SUCCESSFUL');
    expect(await record(run, 'SUCCESSFUL')).toEqual({ state: 'SUCCESSFUL', recorded: false, applied: false });
    expect(await history(run)).toHaveLength(2);
  });

  it('the database itself refuses a backwards or final-changing UPDATE, whoever issues it', async () => {
    const run = fresh();
    await record(run, 'SUCCESSFUL');
    await expect(t.db.query(`UPDATE runs SET state = 'RUNNING' WHERE run = $1`, [run])).rejects.toThrow(/state RUNNING cannot follow SUCCESSFUL/);
    await expect(t.db.query(`UPDATE runs SET state = 'FAILED' WHERE run = $1`, [run])).rejects.toThrow(/state FAILED cannot follow SUCCESSFUL/);
    const other = fresh();
    await record(other, 'RUNNING');
    await expect(t.db.query(`UPDATE runs SET state = 'QUEUED' WHERE run = $1`, [other])).rejects.toThrow(/state QUEUED cannot follow RUNNING/);
    await expect(t.db.query(`INSERT INTO run_events (run, run_created_at, state, applied, source)
      SELECT run, created_at, 'RUNNING', false, 'sneaky' FROM runs WHERE run = $1`, [other])).rejects.toThrow(/duplicate key|unique/);
  });

  it('history is append-only', async () => {
    const run = fresh();
    await record(run, 'RUNNING');
    await expect(t.db.query(`UPDATE run_events SET message = 'x' WHERE run = $1`, [run])).rejects.toThrow(/append-only/);
    await expect(t.db.query('DELETE FROM run_events WHERE run = $1', [run])).rejects.toThrow(/append-only/);
  });

  it('a final state needs a finish time and vice versa (CHECK)', async () => {
    await expect(t.db.query(`INSERT INTO runs (run, workflow, state) VALUES ($1, 'wf', 'FAILED')`, [fresh()])).rejects.toThrow(/check constraint/);
  });

  it('claims: new payload, active, succeeded, retry after failure, replace, and a repeated claim', async () => {
    const p = 'landsat-c2l2/workflow-wf/LC09_001';
    expect(await claim(p, 'a1')).toEqual({ claimed: true, reason: 'new payload', owner: 'a1' });
    expect(await claim(p, 'a1')).toEqual({ claimed: true, reason: 'new payload', owner: 'a1' });
    expect(await claim(p, 'a2')).toEqual({ claimed: false, reason: 'payload is active: run a1 is QUEUED', owner: 'a1' });
    expect(await stateOf('a2')).toBe('CANCELED');
    await record('a1', 'RUNNING');
    await record('a1', 'FAILED');
    expect(await claim(p, 'a3')).toEqual({ claimed: true, reason: 'retry after run a1 FAILED', owner: 'a3' });
    await record('a3', 'SUCCESSFUL');
    expect(await claim(p, 'a4')).toEqual({ claimed: false, reason: 'payload already succeeded: run a3', owner: 'a3' });
    expect(await claim(p, 'a4')).toEqual({ claimed: false, reason: 'payload already succeeded: run a3', owner: 'a3' });
    expect(await claim(p, 'a5', true)).toEqual({ claimed: true, reason: 'replace: supersedes run a3 (SUCCESSFUL)', owner: 'a5' });
    const runs = await t.db.query<Row>(`SELECT run, attempt, claim, state::text AS state FROM runs WHERE payload_id = $1 ORDER BY attempt`, [p]);
    expect(runs).toEqual([
      { run: 'a1', attempt: 1, claim: 'claimed', state: 'FAILED' },
      { run: 'a2', attempt: 2, claim: 'refused', state: 'CANCELED' },
      { run: 'a3', attempt: 3, claim: 'claimed', state: 'SUCCESSFUL' },
      { run: 'a4', attempt: 4, claim: 'refused', state: 'CANCELED' },
      { run: 'a5', attempt: 5, claim: 'claimed', state: 'QUEUED' },
    ]);
    const [payload] = await t.db.query<Row>('SELECT workflow, collections, item_ids, length(hash) AS hl FROM payloads WHERE payload_id = $1', [p]);
    expect(payload).toEqual({ workflow: 'wf', collections: ['landsat-c2l2'], item_ids: ['LC09_001'], hl: 64 });
  });

  it('a claim after the running event keeps RUNNING and marks the run claimed', async () => {
    const p = 'c/workflow-wf/running-first';
    await t.db.query(`SELECT * FROM swoop_record_event('rf', 'wf', 'RUNNING', 'running', p_payload_id => $1)`, [p]);
    expect(await claim(p, 'rf')).toMatchObject({ claimed: true });
    expect(await stateOf('rf')).toBe('RUNNING');
    expect(await history('rf')).toEqual([{ state: 'RUNNING', applied: true }, { state: 'QUEUED', applied: false }]);
  });

  it('a claim names the payload of a run whose events came first without one', async () => {
    await record('nameless', 'RUNNING');
    expect(await claim('c/workflow-wf/named-late', 'nameless')).toMatchObject({ claimed: true });
    const [row] = await t.db.query<Row>(`SELECT payload_id, attempt, claim, state::text AS state FROM runs WHERE run = 'nameless'`);
    expect(row).toEqual({ payload_id: 'c/workflow-wf/named-late', attempt: 1, claim: 'claimed', state: 'RUNNING' });
  });

  it('the outbox gets exactly one run.finished per claimed run, none for refused or unclaimed runs', async () => {
    const p = 'c/workflow-wf/outbox';
    await claim(p, 'o1');
    await record('o1', 'RUNNING');
    await claim(p, 'o2'); // refused: o1 active
    await record('o2', 'SUCCESSFUL'); // the refused run's own exit handler
    await record('o1', 'TIMED_OUT', ", p_error => 'deadline'");
    await record('o1', 'TIMED_OUT');
    await record('o1', 'FAILED');
    await record('lonely', 'SUCCESSFUL'); // never claimed
    expect(await outbox('o1')).toEqual([{ body: expect.objectContaining({ event: 'run.finished', state: 'TIMED_OUT', run: 'o1', payloadId: p, error: 'deadline' }) }]);
    expect(await outbox('o2')).toEqual([]);
    expect(await outbox('lonely')).toEqual([]);
  });

  it('`next` is the rest of an inline payload\'s process array, and [] for anything else (as in 0005; 0011 skips the exception)', async () => {
    const cases: [string | null, unknown][] = [
      [null, []],
      ['', []],
      ['s3://bucket/payloads/x/input.json', []],
      ['{not json', []],
      ['[{"process": [1, 2]}]', []],
      ['"{\\"process\\": [1, 2]}"', []],
      ['{"process": "cog-archive"}', []],
      ['{"process": [{"workflow": "only"}]}', []],
      ['{"process": [{"workflow": "a"}, {"workflow": "b"}, [{"workflow": "c"}]]}', [{ workflow: 'b' }, [{ workflow: 'c' }]]],
      [' \t\r\n{"process": [1, 2, 3]}', [2, 3]],
    ];
    for (const [input, next] of cases) {
      const [row] = await t.db.query<Row>('SELECT swoop_next_process($1) AS next', [input]);
      expect(row!.next, String(input)).toEqual(next);
    }
  });
});
