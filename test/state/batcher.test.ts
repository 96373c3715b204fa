import { describe, expect, it } from 'vitest';
import { Batcher } from '../../state/batcher';
import { DbUnavailableError } from '../../state/db';

describe('group commit batcher', () => {
  it('gathers concurrent submissions into batches and answers each with its own result', async () => {
    const batches: number[][] = [];
    const b = new Batcher<number, number>({
      maxInFlight: 1,
      maxBatch: 10,
      run: async (items) => {
        batches.push([...items]);
        await new Promise((r) => setTimeout(r, 5));
        return items.map((i) => i * 2);
      },
    });
    const results = await Promise.all([...Array(25).keys()].map((i) => b.submit(i)));
    expect(results).toEqual([...Array(25).keys()].map((i) => i * 2));
    expect(batches.flat().sort((x, y) => x - y)).toEqual([...Array(25).keys()]);
    expect(batches.length).toBeLessThan(25);
    expect(Math.max(...batches.map((x) => x.length))).toBeLessThanOrEqual(10);
  });

  it('retries each item alone when a batch fails, so one bad item fails only itself', async () => {
    const b = new Batcher<string, string>({
      run: async (items) => {
        if (items.includes('bad')) throw Object.assign(new Error('invalid input syntax'), { code: '22P02' });
        return items.map((s) => s.toUpperCase());
      },
    });
    const settled = await Promise.allSettled(['a', 'bad', 'c'].map((s) => b.submit(s)));
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual(['A', 'invalid input syntax', 'C']);
  });

  it('fails the whole batch at once when the database is unreachable (the callers retry)', async () => {
    let calls = 0;
    const b = new Batcher<string, string>({
      run: async () => {
        calls++;
        throw new DbUnavailableError(new Error('connect ECONNREFUSED'));
      },
    });
    const settled = await Promise.allSettled(['a', 'b', 'c'].map((s) => b.submit(s)));
    expect(settled.every((s) => s.status === 'rejected' && s.reason instanceof DbUnavailableError)).toBe(true);
    expect(calls).toBe(1);
  });
});
