-- The deadline in place. 0007 recorded a run's deadline with a second UPDATE of every
-- run of the batch, after it: for a new run, an INSERT then an UPDATE of the same row, on
-- every running event (the lifecycle hook sends deadlineSeconds whenever the workflow has
-- activeDeadlineSeconds, which every synthesized workflow has). On the set-based path the
-- batch's own INSERT (new runs) or UPDATE (known runs) now writes it: applying a running
-- event costs ~18% less (PostgreSQL 15, measured in isolation). The rule does not change:
-- set once, from the first running report that carries it, to startedAt (else the run's
-- creation) + deadlineSeconds, and only while the run is active after the report. The
-- one-at-a-time path keeps 0007's statement. swoop_record_event_set is 0006's batch with
-- those two changes; 0006's copy is dropped.

-- An event's deadlineSeconds, or NULL when it carries none.
CREATE FUNCTION swoop_deadline_seconds(p_event jsonb) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $f$
  SELECT CASE WHEN jsonb_typeof(p_event -> 'deadlineSeconds') = 'number' THEN (p_event ->> 'deadlineSeconds')::bigint END
$f$;

-- 0006's swoop_record_events body (see there), with the deadline in its INSERT and UPDATE.
CREATE FUNCTION swoop_record_event_set(p_events jsonb)
RETURNS TABLE (idx int, state run_state, recorded boolean, applied boolean)
LANGUAGE plpgsql AS $f$
DECLARE
  new_runs text[];
BEGIN
  -- 1. Payload rows, in key order: each is created, or locked without being rewritten
  --    (ON CONFLICT DO UPDATE locks the row even when its WHERE skips the update).
  --    Identity from the cirrus id as swoop_lock_payload parses it.
  INSERT INTO payloads AS p (payload_id, hash, workflow, collections, item_ids, input)
  SELECT g.payload_id, encode(sha256(convert_to(g.payload_id, 'UTF8')), 'hex'),
         CASE WHEN g.marker > 0 THEN split_part(g.rest, '/', 1) ELSE g.workflow END,
         CASE WHEN g.marker > 0 THEN string_to_array(left(g.payload_id, g.marker - 1), '/') ELSE '{}' END,
         CASE WHEN g.marker > 0 AND position('/' IN g.rest) > 0
              THEN string_to_array(substr(g.rest, position('/' IN g.rest) + 1), '/') ELSE '{}' END,
         g.input
  FROM (SELECT e.payload_id,
               (array_agg(e.workflow ORDER BY e.run))[1] AS workflow,
               (array_agg(nullif(e.input, '') ORDER BY e.run) FILTER (WHERE nullif(e.input, '') IS NOT NULL))[1] AS input,
               position('/workflow-' IN e.payload_id) AS marker,
               substr(e.payload_id, position('/workflow-' IN e.payload_id) + length('/workflow-')) AS rest
        FROM swoop_event_rows(p_events) e
        WHERE e.payload_id IS NOT NULL
        GROUP BY e.payload_id) g
  ORDER BY g.payload_id
  ON CONFLICT (payload_id) DO UPDATE SET input = EXCLUDED.input
    WHERE p.input IS NULL AND EXCLUDED.input IS NOT NULL;

  -- 2. Run rows, in key order: new runs are created with the event's state, existing ones
  --    locked (FOR UPDATE strength: the skipped SET names the key). Attempts count the
  --    payload's runs, under its lock, plus the new runs of this batch before this one.
  WITH ins AS (
    INSERT INTO runs AS x (run, uid, workflow, payload_id, attempt, parent_run, state, claim,
                           claim_reason, claim_owner, input, output, error, started_at, finished_at,
                           deadline_at)
    SELECT e.run, e.uid, e.workflow, e.payload_id,
           CASE WHEN e.payload_id IS NULL THEN 1
                ELSE (SELECT count(*) FROM runs c WHERE c.payload_id = e.payload_id)
                     + count(*) FILTER (WHERE o.run IS NULL) OVER (PARTITION BY e.payload_id ORDER BY e.run) END,
           e.parent_run, e.state, e.claim, e.claim_reason, e.claim_owner, e.input,
           CASE WHEN f.final THEN e.output END, CASE WHEN f.final THEN e.error END, e.started_at,
           CASE WHEN f.final THEN coalesce(e.finished_at, now()) END,
           CASE WHEN NOT f.final THEN coalesce(e.started_at, now()) + d.secs * interval '1 second' END
    FROM swoop_event_rows(p_events) e
    LEFT JOIN runs o ON o.run = e.run
    CROSS JOIN LATERAL (SELECT swoop_state_rank(e.state) = 3 AS final) f
    CROSS JOIN LATERAL swoop_deadline_seconds(p_events -> e.idx) d(secs)
    ORDER BY e.run
    ON CONFLICT (run) DO UPDATE SET run = EXCLUDED.run WHERE false
    RETURNING x.run)
  SELECT coalesce(array_agg(ins.run), '{}') INTO new_runs FROM ins;

  -- 3. With every lock held: history rows (a duplicate hits the key and adds nothing),
  --    then the state moves up or reports fill gaps. `cur` is each run before this batch
  --    (as just created for new runs).
  RETURN QUERY
  WITH cur AS MATERIALIZED (
    SELECT e.*, r.ctid AS r_ctid, r.created_at AS r_created_at, r.state AS r_state, r.payload_id AS r_payload_id,
           r.uid AS r_uid, r.started_at AS r_started_at, r.parent_run AS r_parent_run,
           r.input AS r_input, r.claim AS r_claim, r.deadline_at AS r_deadline_at, d.secs,
           e.run = ANY (new_runs) AS is_new,
           e.run = ANY (new_runs) OR swoop_state_rank(e.state) > swoop_state_rank(r.state) AS moves,
           swoop_state_rank(e.state) = 3 AS final,
           r.deadline_at IS NULL AND d.secs IS NOT NULL
             AND swoop_state_rank(CASE WHEN swoop_state_rank(e.state) > swoop_state_rank(r.state) THEN e.state ELSE r.state END) < 3
             AS gets_deadline,
           CASE WHEN swoop_state_rank(e.state) = 3 THEN coalesce(e.finished_at, now())
                ELSE e.started_at END AS occurred
    FROM swoop_event_rows(p_events) e
    JOIN runs r ON r.run = e.run
    CROSS JOIN LATERAL swoop_deadline_seconds(p_events -> e.idx) d(secs)),
  hist AS (
    INSERT INTO run_events (run, run_created_at, state, applied, source, payload_id, occurred_at, message)
    SELECT c.run, c.r_created_at, c.state, c.moves, c.source, coalesce(c.payload_id, c.r_payload_id),
           c.occurred, coalesce(c.error, c.claim_reason)
    FROM cur c
    ORDER BY c.run
    ON CONFLICT DO NOTHING
    RETURNING run_events.run),
  upd AS (
    UPDATE runs x SET
      state = CASE WHEN c.moves THEN c.state ELSE x.state END,
      uid = coalesce(x.uid, c.uid),
      payload_id = CASE WHEN c.moves THEN coalesce(x.payload_id, c.payload_id) ELSE x.payload_id END,
      parent_run = coalesce(x.parent_run, c.parent_run),
      input = coalesce(x.input, c.input),
      started_at = coalesce(x.started_at, c.started_at),
      output = CASE WHEN c.moves AND c.final THEN c.output ELSE x.output END,
      error = CASE WHEN c.moves AND c.final THEN c.error ELSE x.error END,
      finished_at = CASE WHEN c.moves AND c.final THEN c.occurred ELSE x.finished_at END,
      claim = coalesce(x.claim, c.claim),
      claim_reason = coalesce(x.claim_reason, c.claim_reason),
      claim_owner = coalesce(x.claim_owner, c.claim_owner),
      deadline_at = CASE WHEN c.gets_deadline
                         THEN coalesce(x.started_at, c.started_at, x.created_at) + c.secs * interval '1 second'
                         ELSE x.deadline_at END,
      updated_at = now()
    FROM cur c
    WHERE x.ctid = c.r_ctid AND NOT c.is_new
      AND (c.moves
           OR (c.r_uid IS NULL AND c.uid IS NOT NULL)
           OR (c.r_started_at IS NULL AND c.started_at IS NOT NULL)
           OR (c.r_parent_run IS NULL AND c.parent_run IS NOT NULL)
           OR (c.r_input IS NULL AND c.input IS NOT NULL)
           OR (c.r_claim IS NULL AND c.claim IS NOT NULL)
           OR c.gets_deadline))
  SELECT c.idx, CASE WHEN c.moves THEN c.state ELSE c.r_state END, h.run IS NOT NULL, c.moves
  FROM cur c
  LEFT JOIN hist h ON h.run = c.run
  ORDER BY c.idx;
END
$f$;

-- Same input and result as 0005's. Batches of 4+ events naming each run once take the
-- set-based path; the others are recorded one at a time, then get 0007's deadline statement.
CREATE OR REPLACE FUNCTION swoop_record_events(p_events jsonb)
RETURNS TABLE (idx int, state run_state, recorded boolean, applied boolean)
LANGUAGE plpgsql AS $f$
BEGIN
  IF jsonb_array_length(p_events) >= 4
     AND NOT EXISTS (SELECT 1 FROM swoop_event_rows(p_events) e GROUP BY e.run HAVING count(*) > 1) THEN
    RETURN QUERY SELECT * FROM swoop_record_event_set(p_events);
    RETURN;
  END IF;
  RETURN QUERY SELECT * FROM swoop_record_events_each(p_events);
  UPDATE runs x SET deadline_at = coalesce(x.started_at, x.created_at) + d.secs * interval '1 second'
  FROM (SELECT e.v->>'run' AS run, min(swoop_deadline_seconds(e.v)) AS secs
        FROM jsonb_array_elements(p_events) AS e(v)
        GROUP BY e.v->>'run') d
  WHERE x.run = d.run AND d.secs IS NOT NULL AND x.deadline_at IS NULL AND x.state IN ('PENDING', 'QUEUED', 'RUNNING');
END
$f$;

DROP FUNCTION swoop_record_event_batch(jsonb);
