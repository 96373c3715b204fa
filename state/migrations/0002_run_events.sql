-- Append-only history: one row per (run, state) ever reported. A duplicate event hits
-- the primary key and adds nothing. Rows are partitioned by the month the run was
-- created, so all of a run's history sits in one partition (the unique key must contain
-- the partition key) and dropping an old month drops whole runs.

CREATE TABLE run_events (
  run            text NOT NULL,
  run_created_at timestamptz NOT NULL,
  state          run_state NOT NULL,
  -- whether this report changed the run's current state (false: late or superseded)
  applied        boolean NOT NULL,
  source         text NOT NULL,
  payload_id     text,
  occurred_at    timestamptz,
  recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  message        text,
  PRIMARY KEY (run, state, run_created_at)
) PARTITION BY RANGE (run_created_at);

-- Safety net: a row whose month partition does not exist yet still lands somewhere.
CREATE TABLE run_events_default PARTITION OF run_events DEFAULT;

CREATE FUNCTION swoop_run_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'run_events is append-only (% refused)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER run_events_append_only BEFORE UPDATE OR DELETE ON run_events
  FOR EACH ROW EXECUTE FUNCTION swoop_run_events_append_only();

-- Creates the month partitions covering [month of from_ts, + months). Rows already in
-- the default partition for such a month are moved into the new partition first
-- (attaching would fail otherwise). Serialized by an advisory lock so replicas and the
-- migration job can all call it.
CREATE FUNCTION swoop_ensure_event_partitions(from_ts timestamptz, months int)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  m       int;
  lo      timestamptz;
  hi      timestamptz;
  part    text;
  created int := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('swoop-partitions:' || current_schema()));
  FOR m IN 0 .. months - 1 LOOP
    lo := date_trunc('month', from_ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + make_interval(months => m);
    hi := lo + interval '1 month';
    part := 'run_events_' || to_char(lo AT TIME ZONE 'UTC', 'YYYY_MM');
    CONTINUE WHEN to_regclass(quote_ident(current_schema()) || '.' || quote_ident(part)) IS NOT NULL;
    EXECUTE format('CREATE TABLE %I.%I (LIKE run_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                   current_schema(), part);
    -- Moving rows out of the default partition is the one sanctioned rewrite of history.
    ALTER TABLE run_events_default DISABLE TRIGGER USER;
    EXECUTE format('WITH moved AS (DELETE FROM run_events_default WHERE run_created_at >= $1 AND run_created_at < $2 RETURNING *)
                    INSERT INTO %I.%I SELECT * FROM moved', current_schema(), part) USING lo, hi;
    ALTER TABLE run_events_default ENABLE TRIGGER USER;
    EXECUTE format('ALTER TABLE run_events ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
                   current_schema(), part, lo, hi);
    created := created + 1;
  END LOOP;
  RETURN created;
END
$$;

SELECT swoop_ensure_event_partitions(now(), 3);
