/**
 * Runs pages keep room for their rows' next versions (migration 0013), so applying a
 * claimed run's running and completed events updates it in place (HOT) instead of adding
 * an entry to every runs index. Counted with pg_stat_xact_user_tables, which holds the
 * current transaction's own counts: exact, whatever else the server is doing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Queryable } from '../../state/db';
import { applyJournal } from '../../state/journal';
import { StateStore } from '../../state/store';
import { parseEvent } from '../../state/validate';
import { BACKEND, createTestDb, lifecycle, type TestDb } from './support';

const RUNS = 300;

describe(`runs updates in place (0013) (${BACKEND})`, () => {
  let t: TestDb;
  let store: StateStore;
  beforeEach(async () => {
    t = await createTestDb({ maxConnections: 2 });
    store = new StateStore(t.db); // no applier: the test applies in its own transactions
  });
  afterEach(async () => t.drop());

  /**
   * Applies the journal in one transaction; returns its runs updates, all and HOT. The view
   * may also hold earlier transactions' counts not yet flushed to the shared statistics, so
   * the counts are read before and after, in the same transaction.
   */
  async function applyCounting(): Promise<{ updated: number; hot: number }> {
    return t.db.transaction(async (tx: Queryable) => {
      const counts = async () => (await tx.query<{ updated: number; hot: number }>(
        `SELECT coalesce(sum(n_tup_upd), 0)::int AS updated, coalesce(sum(n_tup_hot_upd), 0)::int AS hot
         FROM pg_stat_xact_user_tables WHERE relid = 'runs'::regclass`))[0]!;
      const before = await counts();
      while ((await applyJournal(tx, 500, false)) > 0);
      const after = await counts();
      return { updated: after.updated - before.updated, hot: after.hot - before.hot };
    });
  }

  it('sets fillfactor 50 on runs', async () => {
    const [row] = await t.db.query<{ options: string[] }>(`SELECT reloptions AS options FROM pg_class WHERE oid = 'runs'::regclass`);
    expect(row!.options).toEqual(['fillfactor=50']);
  });

  it('applies claimed runs\' running and completed events as HOT updates', async () => {
    const run = (i: number) => `hot-${i}`;
    await t.db.query(
      `SELECT count(*) FROM generate_series(0, $1::int - 1) g,
              LATERAL swoop_claim('sentinel-2-l2a/workflow-cog-archive/hot-' || g, 'cog-archive', 'hot-' || g, 's3://in/' || g, false)`, [RUNS]);
    const phases = [['running', 'Running'], ['completed', 'Succeeded']] as const;
    for (const [type, phase] of phases) {
      for (let i = 0; i < RUNS; i++) {
        await store.accept(parseEvent(lifecycle({ type, run: run(i), phase, payloadId: `sentinel-2-l2a/workflow-cog-archive/hot-${i}` })));
      }
      const { updated, hot } = await applyCounting();
      expect(updated).toBe(RUNS);
      // At 0005's fillfactor 85, 16% of these were HOT.
      expect(hot / updated).toBeGreaterThanOrEqual(0.8);
    }
    const [states] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM runs WHERE run LIKE 'hot-%' AND state = 'SUCCESSFUL'`);
    expect(states!.n).toBe(RUNS);
  });
});
