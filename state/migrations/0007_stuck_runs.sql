-- Runs that never report their end. Argo skips the exit handler of a terminated workflow,
-- and a workflow can be lost (deleted, controller or cluster failure); such runs would stay
-- RUNNING forever (cirrus's "stuck in PROCESSING"). The running event carries the
-- workflow's deadline; a sweeper in the service records TIMED_OUT for active runs past it
-- (plus a grace period), or silent for too long when they have none.

-- When Argo would have ended the run (startedAt + activeDeadlineSeconds). Set once, from
-- the first running event that carries it.
ALTER TABLE runs ADD COLUMN deadline_at timestamptz;

-- Recording keeps 0006's function and adds the deadline after it. Every run of the batch
-- is locked by then, so this takes no new lock (no new lock order), and the update changes
-- no indexed column, so it stays a HOT update.
ALTER FUNCTION swoop_record_events(jsonb) RENAME TO swoop_record_event_batch;

CREATE FUNCTION swoop_record_events(p_events jsonb)
RETURNS TABLE (idx int, state run_state, recorded boolean, applied boolean)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY SELECT * FROM swoop_record_event_batch(p_events);
  UPDATE runs x SET deadline_at = coalesce(x.started_at, x.created_at) + d.secs * interval '1 second'
  FROM (SELECT e.v->>'run' AS run, min((e.v->>'deadlineSeconds')::bigint) AS secs
        FROM jsonb_array_elements(p_events) AS e(v)
        WHERE jsonb_typeof(e.v->'deadlineSeconds') = 'number'
        GROUP BY e.v->>'run') d
  WHERE x.run = d.run AND x.deadline_at IS NULL AND x.state IN ('PENDING', 'QUEUED', 'RUNNING');
END
$$;

-- Records TIMED_OUT, through swoop_record_event (monotonic rule, history, outbox), for up
-- to p_limit active runs whose deadline plus p_grace has passed at p_now, or that have no
-- deadline and were last updated p_max_silence before p_now. Returns the runs it ended.
--
-- It never waits for a lock: writers lock the payload row, then the run row, and this
-- finds runs first, so waiting could deadlock. A busy payload or run is skipped (SKIP
-- LOCKED) and taken by a later round; the run's condition is checked again under its
-- lock, so concurrent sweepers and a completion arriving meanwhile are safe. A run ended
-- here is final: a completion arriving later is kept in the history (applied = false)
-- and changes nothing.
--
-- Candidates are found by a sequential scan: no index on runs contains state, so state
-- changes stay HOT updates (0005); active runs are a small share and this runs once a
-- minute, not per event.
CREATE FUNCTION swoop_end_stuck_runs(p_now timestamptz, p_grace interval, p_max_silence interval, p_limit int)
RETURNS TABLE (run text, payload_id text, reason text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  c   record;
  r   runs%ROWTYPE;
  why text;
BEGIN
  FOR c IN
    SELECT s.run, s.payload_id FROM runs s
    WHERE s.state IN ('QUEUED', 'RUNNING')
      AND CASE WHEN s.deadline_at IS NOT NULL THEN s.deadline_at + p_grace <= p_now
               ELSE s.updated_at + p_max_silence <= p_now END
    ORDER BY s.run
    LIMIT p_limit
  LOOP
    IF c.payload_id IS NOT NULL THEN
      PERFORM 1 FROM payloads p WHERE p.payload_id = c.payload_id FOR UPDATE SKIP LOCKED;
      CONTINUE WHEN NOT FOUND;
    END IF;
    SELECT * INTO r FROM runs s
    WHERE s.run = c.run AND s.state IN ('QUEUED', 'RUNNING')
      AND s.payload_id IS NOT DISTINCT FROM c.payload_id
      AND CASE WHEN s.deadline_at IS NOT NULL THEN s.deadline_at + p_grace <= p_now
               ELSE s.updated_at + p_max_silence <= p_now END
    FOR UPDATE SKIP LOCKED;
    CONTINUE WHEN NOT FOUND;
    why := CASE WHEN r.deadline_at IS NOT NULL
      THEN format('no completion was reported by the deadline %s (plus %s grace): the workflow was terminated or lost; recorded by the state service',
                  swoop_rfc3339(r.deadline_at), p_grace)
      ELSE format('no completion was reported and the run has no deadline; nothing was heard from it for %s since %s: the workflow was terminated or lost; recorded by the state service',
                  p_max_silence, swoop_rfc3339(r.updated_at))
    END;
    PERFORM swoop_record_event(r.run, r.workflow, 'TIMED_OUT', 'sweeper', NULL, r.payload_id,
      NULL, NULL, NULL, why, NULL, p_now);
    run := r.run;
    payload_id := r.payload_id;
    reason := why;
    RETURN NEXT;
  END LOOP;
END
$$;
