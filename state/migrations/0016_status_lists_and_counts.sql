-- Status-filtered lists and counts without scanning runs (issue 15 item 3, docs/state.md).
-- An index on runs that mentions `state` (even in a partial index's predicate) would turn
-- every state change into a non-HOT update touching every runs index (0005, 0013), so
-- nothing here indexes runs. Instead, statement-level triggers on runs keep:
--
-- * finished_runs: one row per finished run (collection NULL) plus one per distinct
--   collection of its payload. A final state never changes (the monotonic rule), so the
--   table is insert-only: a run's rows are written once, when it first becomes final, and
--   its collection rows when a claim names the payload of a run that finished without one.
--   Lists filtered by final states read one ordered index range per (workflow or
--   collection, state) and merge them.
-- * run_count_changes: append-only count deltas per (hour of the run's creation, UTC;
--   workflow; collection, NULL meaning every run; state), summed within the statement so a
--   batch of 500 events writes a handful of rows. Upserting counter rows instead would make
--   concurrent appliers wait on one another and could deadlock against claims (which lock
--   payload, then run rows). swoop_roll_up_run_counts, called by the JournalApplier, moves
--   them into run_counts_by_hour and run_counts_total in one transaction, so a reader
--   summing the rolled-up rows and the pending deltas in one statement is always exact.
--
-- A run's workflow and creation time never change and its payload is set at most once; the
-- deltas are computed as +1 for every new row version and -1 for every old one, so they
-- stay right whatever a statement changes.

CREATE TABLE finished_runs (
  run        text NOT NULL,
  -- NULL: the row every finished run has; otherwise one of its payload's collections
  collection text,
  workflow   text NOT NULL,
  state      run_state NOT NULL CHECK (state IN ('SUCCESSFUL', 'FAILED', 'CANCELED', 'TIMED_OUT', 'INVALID')),
  created_at timestamptz NOT NULL
);
CREATE INDEX finished_runs_by_workflow ON finished_runs (workflow, state, created_at DESC, run DESC) WHERE collection IS NULL;
CREATE INDEX finished_runs_by_collection ON finished_runs (collection, state, created_at DESC, run DESC) WHERE collection IS NOT NULL;

CREATE TABLE run_count_changes (
  hour       timestamptz NOT NULL,
  workflow   text NOT NULL,
  collection text,
  state      run_state NOT NULL,
  n          int NOT NULL
);

CREATE TABLE run_counts_by_hour (
  hour       timestamptz NOT NULL,
  workflow   text NOT NULL,
  collection text,
  state      run_state NOT NULL,
  n          bigint NOT NULL,
  UNIQUE NULLS NOT DISTINCT (hour, workflow, collection, state)
);

-- the oldest hour with an active run: lists of active states scan runs back to it
CREATE INDEX run_counts_by_hour_active ON run_counts_by_hour (hour) WHERE state IN ('PENDING', 'QUEUED', 'RUNNING');

CREATE TABLE run_counts_total (
  workflow   text NOT NULL,
  collection text,
  state      run_state NOT NULL,
  n          bigint NOT NULL,
  UNIQUE NULLS NOT DISTINCT (workflow, collection, state)
);

-- The hour a run is counted in: its creation, truncated in UTC (the session's time zone
-- must not move runs between hours).
CREATE FUNCTION swoop_run_hour(t timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT date_trunc('hour', t AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' $$;

-- A payload's collections are the part of its cirrus id before "/workflow-" (every path
-- that creates payloads derives them so; the CHECK below makes it a rule), so the triggers
-- read them from the run's payload_id instead of looking up each payload: this key, split
-- on "/"; NULL when the payload has none (or the run no payload).
CREATE FUNCTION swoop_collections_key(p_payload_id text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN position('/workflow-' IN p_payload_id) > 1 THEN left(p_payload_id, position('/workflow-' IN p_payload_id) - 1) END
$$;
ALTER TABLE payloads ADD CONSTRAINT payloads_collections_from_id
  CHECK (collections = coalesce(string_to_array(swoop_collections_key(payload_id), '/'), '{}'));

CREATE FUNCTION swoop_runs_counted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO run_count_changes (hour, workflow, collection, state, n)
    SELECT g.hour, g.workflow, c.collection, g.state, sum(g.n)
    FROM (SELECT swoop_run_hour(r.created_at) AS hour, r.workflow, swoop_collections_key(r.payload_id) AS ckey, r.state, count(*)::int AS n
          FROM new_runs r GROUP BY 1, 2, 3, 4) g
    CROSS JOIN LATERAL (SELECT NULL::text UNION ALL SELECT DISTINCT unnest(string_to_array(g.ckey, '/'))) c(collection)
    GROUP BY 1, 2, 3, 4;

    INSERT INTO finished_runs (run, collection, workflow, state, created_at)
    SELECT r.run, c.collection, r.workflow, r.state, r.created_at
    FROM new_runs r
    CROSS JOIN LATERAL (SELECT NULL::text UNION ALL SELECT DISTINCT unnest(string_to_array(swoop_collections_key(r.payload_id), '/'))) c(collection)
    WHERE r.state IN ('SUCCESSFUL', 'FAILED', 'CANCELED', 'TIMED_OUT', 'INVALID');
  ELSIF TG_OP = 'UPDATE' THEN
    -- Unchanged rows cancel out (+1 and -1 in the same group) before collections are split.
    INSERT INTO run_count_changes (hour, workflow, collection, state, n)
    SELECT g.hour, g.workflow, c.collection, g.state, sum(g.n)
    FROM (SELECT d.hour, d.workflow, d.ckey, d.state, sum(d.n)::int AS n
          FROM (SELECT swoop_run_hour(r.created_at) AS hour, r.workflow, swoop_collections_key(r.payload_id) AS ckey, r.state, 1 AS n FROM new_runs r
                UNION ALL
                SELECT swoop_run_hour(r.created_at), r.workflow, swoop_collections_key(r.payload_id), r.state, -1 FROM old_runs r) d
          GROUP BY 1, 2, 3, 4 HAVING sum(d.n) <> 0) g
    CROSS JOIN LATERAL (SELECT NULL::text UNION ALL SELECT DISTINCT unnest(string_to_array(g.ckey, '/'))) c(collection)
    GROUP BY 1, 2, 3, 4
    HAVING sum(g.n) <> 0;

    -- Runs that just became final; and finished runs a claim just gave a payload (their
    -- collection rows). NOT IN / IN over the (few) old rows that were final: hashed
    -- subplans (a join of the transition tables, which have no statistics, planned badly: 0012).
    INSERT INTO finished_runs (run, collection, workflow, state, created_at)
    SELECT r.run, c.collection, r.workflow, r.state, r.created_at
    FROM new_runs r
    CROSS JOIN LATERAL (SELECT NULL::text UNION ALL SELECT DISTINCT unnest(string_to_array(swoop_collections_key(r.payload_id), '/'))) c(collection)
    WHERE r.state IN ('SUCCESSFUL', 'FAILED', 'CANCELED', 'TIMED_OUT', 'INVALID')
      AND (r.run NOT IN (SELECT o.run FROM old_runs o WHERE o.state IN ('SUCCESSFUL', 'FAILED', 'CANCELED', 'TIMED_OUT', 'INVALID'))
           OR (c.collection IS NOT NULL
               AND r.run IN (SELECT o.run FROM old_runs o
                             WHERE o.state IN ('SUCCESSFUL', 'FAILED', 'CANCELED', 'TIMED_OUT', 'INVALID') AND o.payload_id IS NULL)));
  ELSE
    -- Nothing deletes runs today; a retention job that does keeps the counts and lists right
    -- (finished_runs has no index on run: such a statement scans it once).
    INSERT INTO run_count_changes (hour, workflow, collection, state, n)
    SELECT g.hour, g.workflow, c.collection, g.state, -sum(g.n)
    FROM (SELECT swoop_run_hour(r.created_at) AS hour, r.workflow, swoop_collections_key(r.payload_id) AS ckey, r.state, count(*)::int AS n
          FROM old_runs r GROUP BY 1, 2, 3, 4) g
    CROSS JOIN LATERAL (SELECT NULL::text UNION ALL SELECT DISTINCT unnest(string_to_array(g.ckey, '/'))) c(collection)
    GROUP BY 1, 2, 3, 4;
    DELETE FROM finished_runs f WHERE f.run IN (SELECT o.run FROM old_runs o);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER runs_counted_insert AFTER INSERT ON runs
  REFERENCING NEW TABLE AS new_runs
  FOR EACH STATEMENT EXECUTE FUNCTION swoop_runs_counted();
CREATE TRIGGER runs_counted_update AFTER UPDATE ON runs
  REFERENCING OLD TABLE AS old_runs NEW TABLE AS new_runs
  FOR EACH STATEMENT EXECUTE FUNCTION swoop_runs_counted();
CREATE TRIGGER runs_counted_delete AFTER DELETE ON runs
  REFERENCING OLD TABLE AS old_runs
  FOR EACH STATEMENT EXECUTE FUNCTION swoop_runs_counted();

-- Moves the pending deltas into the rolled-up counts; returns how many delta rows it moved
-- (0 also when another session is rolling up: one at a time, the others skip). Rows whose
-- count drops to 0 (every run of an hour left RUNNING) are removed.
CREATE FUNCTION swoop_roll_up_run_counts() RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
  moved   int;
  changes jsonb;
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtext('swoop-run-counts:' || current_schema())) THEN
    RETURN 0;
  END IF;
  WITH taken AS (DELETE FROM run_count_changes RETURNING *)
  SELECT (SELECT count(*)::int FROM taken),
         (SELECT jsonb_agg(jsonb_build_object('hour', g.hour, 'workflow', g.workflow, 'collection', g.collection, 'state', g.state, 'n', g.n)
                           ORDER BY g.hour, g.workflow, g.collection, g.state)
          FROM (SELECT t.hour, t.workflow, t.collection, t.state, sum(t.n) AS n FROM taken t
                GROUP BY 1, 2, 3, 4 HAVING sum(t.n) <> 0) g)
  INTO moved, changes;
  IF changes IS NULL THEN
    RETURN moved;
  END IF;

  INSERT INTO run_counts_by_hour AS x (hour, workflow, collection, state, n)
  SELECT c.hour, c.workflow, c.collection, c.state, c.n
  FROM jsonb_to_recordset(changes) AS c(hour timestamptz, workflow text, collection text, state run_state, n bigint)
  ON CONFLICT (hour, workflow, collection, state) DO UPDATE SET n = x.n + EXCLUDED.n;
  DELETE FROM run_counts_by_hour x
  USING jsonb_to_recordset(changes) AS c(hour timestamptz, workflow text, collection text, state run_state)
  WHERE x.hour = c.hour AND x.workflow = c.workflow AND x.collection IS NOT DISTINCT FROM c.collection
    AND x.state = c.state AND x.n = 0;

  INSERT INTO run_counts_total AS x (workflow, collection, state, n)
  SELECT c.workflow, c.collection, c.state, sum(c.n)
  FROM jsonb_to_recordset(changes) AS c(workflow text, collection text, state run_state, n bigint)
  GROUP BY 1, 2, 3
  HAVING sum(c.n) <> 0
  ORDER BY 1, 2, 3
  ON CONFLICT (workflow, collection, state) DO UPDATE SET n = x.n + EXCLUDED.n;
  DELETE FROM run_counts_total x
  USING (SELECT DISTINCT c.workflow, c.collection, c.state
         FROM jsonb_to_recordset(changes) AS c(workflow text, collection text, state run_state)) c
  WHERE x.workflow = c.workflow AND x.collection IS NOT DISTINCT FROM c.collection AND x.state = c.state AND x.n = 0;
  RETURN moved;
END
$$;

-- As the other entry points (0009): runs as the owner, only the service role may call it.
DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION swoop_roll_up_run_counts() SECURITY DEFINER SET search_path = %I, pg_temp', current_schema());
  REVOKE EXECUTE ON FUNCTION swoop_roll_up_run_counts() FROM PUBLIC;
END
$$;

-- The runs already recorded.
INSERT INTO finished_runs (run, collection, workflow, state, created_at)
SELECT r.run, c.collection, r.workflow, r.state, r.created_at
FROM runs r
CROSS JOIN LATERAL (SELECT NULL::text UNION ALL SELECT DISTINCT unnest(string_to_array(swoop_collections_key(r.payload_id), '/'))) c(collection)
WHERE r.state IN ('SUCCESSFUL', 'FAILED', 'CANCELED', 'TIMED_OUT', 'INVALID');

INSERT INTO run_counts_by_hour (hour, workflow, collection, state, n)
SELECT swoop_run_hour(r.created_at), r.workflow, c.collection, r.state, count(*)
FROM runs r
CROSS JOIN LATERAL (SELECT NULL::text UNION ALL SELECT DISTINCT unnest(string_to_array(swoop_collections_key(r.payload_id), '/'))) c(collection)
GROUP BY 1, 2, 3, 4;

INSERT INTO run_counts_total (workflow, collection, state, n)
SELECT workflow, collection, state, sum(n) FROM run_counts_by_hour GROUP BY 1, 2, 3;
