/**
 * Accept, then apply (migration 0008, state/journal.ts): acceptance order per run, rejects
 * that never block the journal, catch-up for reads and claims, appliers sharing the
 * journal, and the background applier.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyJournal, catchUp, JournalApplier } from '../../state/journal';
import { StateStore } from '../../state/store';
import { parseEvent } from '../../state/validate';
import { BACKEND, createTestDb, HAVE_POSTGRES, lifecycle, payloadIdOf, POSTGRES_ONLY, type TestDb } from './support';

describe(`event journal (${BACKEND})`, () => {
  let t: TestDb;
  let store: StateStore;
  beforeEach(async () => {
    t = await createTestDb({ maxConnections: 4 });
    store = new StateStore(t.db); // no applier: each test applies explicitly
  });
  afterEach(async () => t.drop());

  const accept = (fields: Parameters<typeof lifecycle>[0]) => store.accept(parseEvent(lifecycle(fields)));
  const pending = async () => (await store.journal()).pending;
  const state = async (run: string) => (await t.db.query<{ state: string }>('SELECT state::text AS state FROM runs WHERE run = $1', [run]))[0]?.state;
  const history = async (run: string) => (await t.db.query<{ state: string; applied: boolean }>(
    'SELECT state::text AS state, applied FROM run_events WHERE run = $1 ORDER BY recorded_at, state', [run])).map((h) => [h.state, h.applied]);

  it('acknowledges once stored, and applies each run\'s events in the order they were accepted', async () => {
    expect(await accept({ type: 'running', run: 'in-order', phase: 'Running', payloadId: payloadIdOf(1) })).toEqual({ accepted: true, run: 'in-order' });
    await accept({ type: 'completed', run: 'in-order', phase: 'Succeeded', payloadId: payloadIdOf(1) });
    await accept({ type: 'completed', run: 'late-running', phase: 'Failed', payloadId: payloadIdOf(2), message: 'boom' });
    await accept({ type: 'running', run: 'late-running', phase: 'Running', payloadId: payloadIdOf(2) });
    for (let i = 0; i < 3; i++) await accept({ type: 'running', run: 'duplicated', phase: 'Running', payloadId: payloadIdOf(3) });
    expect(await pending()).toBe(7);
    expect(await state('in-order')).toBeUndefined(); // stored, not applied yet

    expect(await applyJournal(t.db, 500, false)).toBe(7); // one transaction, in rounds
    expect(await pending()).toBe(0);
    expect([await state('in-order'), await history('in-order')]).toEqual(['SUCCESSFUL', [['RUNNING', true], ['SUCCESSFUL', true]]]);
    // The completion came first: the late RUNNING is kept, not applied.
    expect([await state('late-running'), await history('late-running')]).toEqual(['FAILED', [['FAILED', true], ['RUNNING', false]]]);
    expect(await history('duplicated')).toEqual([['RUNNING', true]]);
    expect(await applyJournal(t.db, 500, false)).toBe(0);
  });

  it('applies in batches of the given size, oldest first', async () => {
    for (let i = 0; i < 5; i++) await accept({ type: 'running', run: `batch-${i}`, phase: 'Running', payloadId: payloadIdOf(i) });
    expect(await applyJournal(t.db, 2, false)).toBe(2);
    expect(await Promise.all([0, 1, 2].map((i) => state(`batch-${i}`)))).toEqual(['RUNNING', 'RUNNING', undefined]);
    expect(await applyJournal(t.db, 2, false)).toBe(2);
    expect(await applyJournal(t.db, 2, false)).toBe(1);
  });

  it('keeps an event the rules refuse in event_journal_rejects and applies the others', async () => {
    await accept({ type: 'running', run: 'good-1', phase: 'Running', payloadId: payloadIdOf(1) });
    // Input is checked before acceptance, so only a bug could store this; it must not block the journal.
    await t.db.query(`INSERT INTO event_journal (event) VALUES ($1)`, [JSON.stringify({ run: 'bad', workflow: 'w', state: 'DONE', source: 'running' })]);
    await accept({ type: 'running', run: 'good-2', phase: 'Running', payloadId: payloadIdOf(2) });
    expect(await store.journal()).toEqual({ pending: 3, oldestAcceptedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/), rejected: 0 });
    expect(await applyJournal(t.db, 500, false)).toBe(3);
    expect(await store.journal()).toEqual({ pending: 0, oldestAcceptedAt: null, rejected: 1 });
    expect([await state('good-1'), await state('good-2'), await state('bad')]).toEqual(['RUNNING', 'RUNNING', undefined]);
    const rejects = await t.db.query<{ event: { run: string }; error: string }>('SELECT event, error FROM event_journal_rejects');
    expect(rejects).toEqual([{ event: expect.objectContaining({ run: 'bad' }), error: expect.stringMatching(/^22P02: invalid input value for enum run_state: "DONE"/) }]);
    expect(await pending()).toBe(0);
  });

  it('reads and claims catch up first: nothing acknowledged is missed', async () => {
    const payloadId = payloadIdOf(7);
    expect(await store.claim({ payloadId, workflow: 'cog-archive', run: 'first', input: 's3://in', replace: false, parentRun: '', uid: '' }))
      .toMatchObject({ claimed: true });
    await accept({ type: 'running', run: 'other', phase: 'Running', payloadId: payloadIdOf(8) });
    expect((await store.run('other'))?.state).toBe('RUNNING');
    await accept({ type: 'completed', run: 'other', phase: 'Succeeded', payloadId: payloadIdOf(8) });
    expect((await store.counts({})).SUCCESSFUL).toBe(1);
    // The claim sees the success that is only in the journal: cirrus refuses a re-run.
    await accept({ type: 'completed', run: 'first', phase: 'Succeeded', payloadId });
    expect(await pending()).toBe(1);
    expect(await store.claim({ payloadId, workflow: 'cog-archive', run: 'second', input: 's3://in', replace: false, parentRun: '', uid: '' }))
      .toEqual({ claimed: false, reason: 'payload already succeeded: run first', run: 'first' });
    expect(await pending()).toBe(0);
  });

  it.skipIf(!HAVE_POSTGRES)(`appliers skip rows another holds; catching up waits for them, and takes them over when the holder dies${HAVE_POSTGRES ? '' : ` - ${POSTGRES_ONLY}`}`, async () => {
    for (let i = 0; i < 3; i++) await accept({ type: 'running', run: `held-${i}`, phase: 'Running', payloadId: payloadIdOf(i) });
    const replica = await t.open({ maxConnections: 1 });
    let release!: () => void;
    let holding!: () => void;
    const held = new Promise<void>((r) => (holding = r));
    // Another replica mid-apply: it holds the oldest row, then dies (rolls back).
    const dying = replica.transaction(async (tx) => {
      await tx.query('SELECT id FROM event_journal ORDER BY id LIMIT 1 FOR UPDATE');
      holding();
      await new Promise<void>((r) => (release = r));
      throw new Error('replica died');
    }).catch((e: Error) => e.message);
    await held;
    expect(await applyJournal(t.db, 500, false)).toBe(2); // skips the held row, never waits
    expect(await state('held-0')).toBeUndefined();
    let caughtUp = false;
    const catching = catchUp(t.db).then(() => (caughtUp = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(caughtUp).toBe(false); // waiting for the holder
    release();
    expect(await dying).toBe('replica died');
    await catching;
    expect(await state('held-0')).toBe('RUNNING');
    expect(await pending()).toBe(0);
  }, 20_000);
});

describe(`JournalApplier (${BACKEND})`, () => {
  let t: TestDb;
  beforeEach(async () => {
    t = await createTestDb();
  });
  afterEach(async () => t.drop());

  it('applies accepted events in the background, nudged by acceptance, and reports how many', async () => {
    const applied: number[] = [];
    const applier = new JournalApplier({ db: t.db, lingerMs: 5, pollIntervalMs: 60_000, onApplied: (n) => applied.push(n) });
    const store = new StateStore(t.db, { onAccepted: (n) => applier.nudge(n) });
    applier.start();
    try {
      await store.accept(parseEvent(lifecycle({ type: 'running', run: 'bg', phase: 'Running', payloadId: payloadIdOf(1) })));
      await store.accept(parseEvent(lifecycle({ type: 'completed', run: 'bg', phase: 'Succeeded', payloadId: payloadIdOf(1) })));
      const end = Date.now() + 10_000;
      // Read the table directly (no catch-up): only the applier can have moved it.
      const direct = async () => (await t.db.query<{ state: string }>("SELECT state::text AS state FROM runs WHERE run = 'bg'"))[0]?.state;
      while ((await direct()) !== 'SUCCESSFUL' && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      expect(await direct()).toBe('SUCCESSFUL');
      expect(applied.reduce((a, b) => a + b, 0)).toBe(2);
    } finally {
      await applier.stop();
    }
  });

  it('applies a stream once it goes quiet, batched, without waiting out the linger', async () => {
    const applied: number[] = [];
    const applier = new JournalApplier({ db: t.db, lingerMs: 60_000, quietMs: 300, pollIntervalMs: 60_000, onApplied: (n) => applied.push(n) });
    const store = new StateStore(t.db, { onAccepted: (n) => applier.nudge(n) });
    applier.start();
    try {
      // Each accept is one commit (milliseconds), far below quietMs: the applier waits for the stream to end.
      for (let i = 0; i < 20; i++) {
        await store.accept(parseEvent(lifecycle({ type: 'running', run: `quiet-${i}`, phase: 'Running', payloadId: payloadIdOf(i) })));
      }
      const end = Date.now() + 10_000;
      while (applied.reduce((a, b) => a + b, 0) < 20 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      expect(applied.reduce((a, b) => a + b, 0)).toBe(20);
      expect(applied.length).toBeLessThan(20); // batched, not one transaction per event
    } finally {
      await applier.stop();
    }
  });

  it('refuses nonsense settings, naming them', () => {
    expect(() => new JournalApplier({ db: t.db, batchSize: 0 })).toThrow('JournalApplier: batchSize must be an integer >= 1 (got 0)');
    expect(() => new JournalApplier({ db: t.db, lingerMs: -1 })).toThrow(/lingerMs must be an integer >= 0/);
    expect(() => new JournalApplier({ db: t.db, quietMs: 1.5 })).toThrow('JournalApplier: quietMs must be an integer >= 0 (got 1.5)');
  });
});
