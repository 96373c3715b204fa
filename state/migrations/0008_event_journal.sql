-- Accept, then apply. POST /events used to answer only after its event was recorded: a
-- payload row, a run row, a history row and their indexes, in a transaction per batch.
-- Now an event is acknowledged once it is durably stored here, one narrow row, and
-- appliers move accepted events through swoop_record_events in large batches. Every rule
-- of recording still lives in that function and the tables' constraints; the journal only
-- changes when the work happens. Readers, claims and the sweeper apply what is pending
-- first (swoop_apply_journal with p_wait), so nothing reads around an acknowledged event.

CREATE TABLE event_journal (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- one element of swoop_record_events' argument
  event       jsonb NOT NULL CHECK (jsonb_typeof(event) = 'object' AND event ? 'run'),
  accepted_at timestamptz NOT NULL DEFAULT now()
);

-- Accepted events the recording rules refused. Input is checked before it is accepted, so
-- a row here is a bug to look at; it is kept, not lost, and never blocks the journal.
CREATE TABLE event_journal_rejects (
  id          bigint PRIMARY KEY,
  event       jsonb NOT NULL,
  accepted_at timestamptz NOT NULL,
  rejected_at timestamptz NOT NULL DEFAULT now(),
  error       text NOT NULL
);

-- Applies up to p_limit accepted events, oldest first, and returns how many it took.
-- p_wait = false: rows another applier holds are skipped (background appliers in any
--   number of replicas share the journal).
-- p_wait = true: such rows are waited for, so on return the oldest p_limit events
--   acknowledged before the call have been applied (by this call, or by the holder, which
--   has committed); callers repeat until it returns less than p_limit.
-- A run's events are applied in acceptance order: the batch is split into rounds, the
-- first event of each run, then the second, ..., each round one swoop_record_events call
-- with distinct runs (its set-based path). A round that fails is retried one event at a
-- time; an event that still fails goes to event_journal_rejects (replay after a fix:
-- INSERT INTO event_journal (event) SELECT event FROM event_journal_rejects ...). Lock
-- timeouts, deadlocks, resource shortages (disk full, ...) and cancellations are not the
-- event's fault: they abort the whole call, and the rows stay in the journal for the next.
CREATE FUNCTION swoop_apply_journal(p_limit int, p_wait boolean) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
  taken  jsonb;
  rounds int;
  ev     record;
BEGIN
  IF p_wait THEN
    WITH t AS (
      DELETE FROM event_journal j
      WHERE j.id IN (SELECT s.id FROM event_journal s ORDER BY s.id LIMIT p_limit FOR UPDATE)
      RETURNING j.id, j.event, j.accepted_at),
    n AS (SELECT t.*, row_number() OVER (PARTITION BY t.event->>'run' ORDER BY t.id) AS rnd FROM t)
    SELECT jsonb_agg(jsonb_build_object('id', n.id, 'event', n.event, 'acceptedAt', n.accepted_at, 'rnd', n.rnd)), max(n.rnd)
    INTO taken, rounds FROM n;
  ELSE
    WITH t AS (
      DELETE FROM event_journal j
      WHERE j.id IN (SELECT s.id FROM event_journal s ORDER BY s.id LIMIT p_limit FOR UPDATE SKIP LOCKED)
      RETURNING j.id, j.event, j.accepted_at),
    n AS (SELECT t.*, row_number() OVER (PARTITION BY t.event->>'run' ORDER BY t.id) AS rnd FROM t)
    SELECT jsonb_agg(jsonb_build_object('id', n.id, 'event', n.event, 'acceptedAt', n.accepted_at, 'rnd', n.rnd)), max(n.rnd)
    INTO taken, rounds FROM n;
  END IF;
  IF taken IS NULL THEN
    RETURN 0;
  END IF;

  FOR r IN 1 .. rounds LOOP
    BEGIN
      PERFORM swoop_record_events((SELECT jsonb_agg(x.event ORDER BY x.id)
                                   FROM jsonb_to_recordset(taken) AS x(id bigint, event jsonb, rnd int)
                                   WHERE x.rnd = r));
    EXCEPTION
      WHEN deadlock_detected OR serialization_failure OR lock_not_available OR insufficient_resources THEN RAISE;
      WHEN OTHERS THEN
        FOR ev IN SELECT x.id, x.event, x."acceptedAt" AS accepted_at
                  FROM jsonb_to_recordset(taken) AS x(id bigint, event jsonb, "acceptedAt" timestamptz, rnd int)
                  WHERE x.rnd = r ORDER BY x.id LOOP
          BEGIN
            PERFORM swoop_record_events(jsonb_build_array(ev.event));
          EXCEPTION
            WHEN deadlock_detected OR serialization_failure OR lock_not_available OR insufficient_resources THEN RAISE;
            WHEN OTHERS THEN
              INSERT INTO event_journal_rejects (id, event, accepted_at, error)
              VALUES (ev.id, ev.event, ev.accepted_at, SQLSTATE || ': ' || SQLERRM);
          END;
        END LOOP;
    END;
  END LOOP;
  RETURN jsonb_array_length(taken);
END
$$;

-- The payload hash is sha256(payload_id), so the primary key already makes it unique. The
-- unique constraint on it also raced: two first reports of one payload inserting at once
-- (ON CONFLICT arbitrates on payload_id only) could fail the loser on the hash index
-- instead of resolving as a conflict. A CHECK states how the hash is made; a plain index
-- serves lookups by hash.
ALTER TABLE payloads DROP CONSTRAINT payloads_hash_key;
ALTER TABLE payloads ADD CONSTRAINT payloads_hash_of_id CHECK (hash = encode(sha256(convert_to(payload_id, 'UTF8')), 'hex'));
CREATE INDEX payloads_by_hash ON payloads (hash);
