import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, openDb, quoteIdent } from '../../state/db';
import { grantServiceRole } from '../../state/roles';
import { type RunningStateService, startStateService } from '../../state/service';
import {
  call, createTestDb, DATABASE_URL, databaseUrlAs, HAVE_POSTGRES, lifecycle, payloadIdOf, POSTGRES_ONLY, READER, type TestDb, until, webhookReceiver, WRITER,
} from './support';

describe.skipIf(!HAVE_POSTGRES)(`the state service's own database role${HAVE_POSTGRES ? '' : ` - ${POSTGRES_ONLY}`}`, () => {
  let t: TestDb;
  let asService: Db;
  let serviceUrl: string;
  const role = `swoop_test_svc_${randomBytes(5).toString('hex')}`;

  beforeAll(async () => {
    t = await createTestDb();
    expect(await grantServiceRole(t.db, { name: role, password: 'first-password' })).toBe('granted');
    serviceUrl = databaseUrlAs(role, { password: 'first-password' });
    asService = await openDb({ url: serviceUrl, schema: t.schema, maxConnections: 2 });
  });

  afterAll(async () => {
    await asService?.close();
    await t?.drop();
    const admin = await openDb({ url: DATABASE_URL });
    await admin.exec(`DROP OWNED BY ${quoteIdent(role)}; DROP ROLE IF EXISTS ${quoteIdent(role)}`);
    await admin.close();
  });

  it('runs the whole service: accept, apply, read, claim, outbox delivery, stuck-run sweep, partition upkeep', async () => {
    const receiver = await webhookReceiver();
    let svc: RunningStateService | undefined;
    try {
      svc = await startStateService({
        databaseUrl: serviceUrl, schema: t.schema, maxConnections: 4, host: '127.0.0.1', port: 0,
        writerToken: WRITER, readerToken: READER, generatedTokens: false, logLevel: 'warn',
        lifecycleUrl: receiver.url,
        stuckRuns: { intervalMs: 3_600_000, graceMs: 0, maxSilenceMs: 60_000 },
      });
      const payloadId = payloadIdOf(1);
      const claim = await call(svc.url, 'POST', '/claim', { token: WRITER, body: { payloadId, workflow: 'cog-archive', run: 'done-1' } });
      expect(claim.body).toMatchObject({ claimed: true, run: 'done-1' });
      for (const type of ['running', 'completed'] as const) {
        const ev = lifecycle({ type, run: 'done-1', payloadId, phase: type === 'running' ? 'Running' : 'Succeeded' });
        expect((await call(svc.url, 'POST', '/events', { token: WRITER, body: ev })).status).toBe(202);
      }
      const payload = await call(svc.url, 'GET', `/payloads/${payloadId}`, { token: READER });
      expect(payload.body.state).toBe('SUCCESSFUL');
      await until(() => receiver.accepted.some((r) => r.body.run === 'done-1'));

      await call(svc.url, 'POST', '/claim', { token: WRITER, body: { payloadId: payloadIdOf(2), workflow: 'cog-archive', run: 'lost-2' } });
      await call(svc.url, 'POST', '/events', { token: WRITER, body: lifecycle({ type: 'running', run: 'lost-2', payloadId: payloadIdOf(2), phase: 'Running' }) });
      await call(svc.url, 'GET', '/runs/lost-2', { token: READER });
      const ended = await svc.sweeper!.sweep(new Date(Date.now() + 2 * 86_400_000));
      expect(ended.map((e) => e.run)).toEqual(['lost-2']);
      expect((await call(svc.url, 'GET', '/runs/lost-2', { token: READER })).body.state).toBe('TIMED_OUT');
      expect((await call(svc.url, 'GET', '/journal', { token: READER })).body).toMatchObject({ pending: 0, rejected: 0 });
    } finally {
      await svc?.close();
      await receiver.close();
    }
    const [made] = await asService.query<{ n: number }>(`SELECT swoop_ensure_event_partitions(now() + interval '3 years', 1) AS n`);
    expect(made!.n).toBe(1);
  });

  it.each([
    ['moving a run around the monotonic rule', `UPDATE runs SET state = 'PENDING'`],
    ['rewriting history', 'DELETE FROM run_events'],
    ['inserting a run directly', `INSERT INTO runs (run, workflow, state) VALUES ('forged', 'w', 'RUNNING')`],
    ['recording without the journal', `SELECT * FROM swoop_record_events('[{"run":"forged","workflow":"w","state":"RUNNING","source":"x"}]')`],
    ['dropping accepted events', 'DELETE FROM event_journal'],
    ['changing a notification', `UPDATE outbox SET body = '{}'`],
    ['changing the schema', 'DROP TABLE event_journal'],
    ['creating tables', 'CREATE TABLE forged (x int)'],
  ])('is refused %s', async (_what, sql) => {
    await expect(asService.exec(sql)).rejects.toMatchObject({ code: '42501' });
  });

  it('keeps the service unready, naming what its role lacks, until the migration grants it', async () => {
    const config = {
      databaseUrl: serviceUrl, schema: t.schema, maxConnections: 2, host: '127.0.0.1', port: 0,
      writerToken: WRITER, readerToken: READER, generatedTokens: false, logLevel: 'warn',
    };
    const svc = await startStateService(config);
    try {
      expect((await call(svc.url, 'GET', '/readyz')).status).toBe(200);
      await t.db.exec(`REVOKE EXECUTE ON FUNCTION swoop_claim(text, text, text, text, boolean, text, text) FROM ${quoteIdent(role)}`);
      const unready = await call(svc.url, 'GET', '/readyz');
      expect(unready.status).toBe(503);
      expect(unready.body.message).toBe(`the database role ${role} lacks EXECUTE on swoop_claim(text, text, text, text, boolean, text, text): `
        + 'run the migration as the schema owner with STATE_APP_URL set to this service\'s database URL, which grants them (docs/state.md)');
      await grantServiceRole(t.db, { name: role });
      expect((await call(svc.url, 'GET', '/readyz')).status).toBe(200);
    } finally {
      await svc.close();
    }
    // A role never granted sees no schema at all.
    const stranger = `${role}_stranger`;
    await t.db.exec(`CREATE ROLE ${quoteIdent(stranger)} LOGIN`);
    const other = await startStateService({ ...config, databaseUrl: databaseUrlAs(stranger) }).catch((e: Error) => e);
    try {
      expect(other).not.toBeInstanceOf(Error);
      const answer = await call((other as RunningStateService).url, 'GET', '/readyz');
      expect(answer.status).toBe(503);
      expect(answer.body.message).toMatch(/schema is at version 0.*STATE_APP_URL/);
    } finally {
      if (!(other instanceof Error)) await other.close();
      await t.db.exec(`DROP ROLE ${quoteIdent(stranger)}`);
    }
  });

  it('is granted again idempotently, taking a new password, and not to the owner itself', async () => {
    const admin = await t.open();
    const secret = async () => (await admin.query<{ p: string }>('SELECT rolpassword AS p FROM pg_authid WHERE rolname = $1', [role]))[0]!.p;
    const before = await secret();
    expect(before).toMatch(/^SCRAM-SHA-256\$/);
    expect(await grantServiceRole(t.db, { name: role, password: 'rotated-password' })).toBe('granted');
    expect(await secret()).not.toBe(before);
    const [me] = await t.db.query<{ u: string }>('SELECT current_user AS u');
    expect(await grantServiceRole(t.db, { name: me!.u })).toBe('same-as-owner');
    await expect(asService.query('SELECT count(*) FROM runs')).resolves.toHaveLength(1);
  });
});
