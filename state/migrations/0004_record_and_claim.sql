-- The two write paths. Each is one statement for the caller (one round trip, one
-- transaction) and takes its locks in one order -- payload row, then run row -- so
-- concurrent writers serialize per payload and never deadlock.

-- Upserts the payload (identity parsed from the cirrus id) and locks its row.
CREATE FUNCTION swoop_lock_payload(p_id text, p_workflow text, p_input text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  marker int := position('/workflow-' IN p_id);
  rest   text;
  wf     text := p_workflow;
  cols   text[] := '{}';
  items  text[] := '{}';
BEGIN
  IF marker > 0 THEN
    cols := string_to_array(left(p_id, marker - 1), '/');
    rest := substr(p_id, marker + length('/workflow-'));
    wf := split_part(rest, '/', 1);
    IF position('/' IN rest) > 0 THEN
      items := string_to_array(substr(rest, position('/' IN rest) + 1), '/');
    END IF;
  END IF;
  INSERT INTO payloads (payload_id, hash, workflow, collections, item_ids, input)
  VALUES (p_id, encode(sha256(convert_to(p_id, 'UTF8')), 'hex'), wf, cols, items, nullif(p_input, ''))
  ON CONFLICT (payload_id) DO UPDATE SET input = coalesce(payloads.input, EXCLUDED.input);
END
$$;

-- Records one report of a run's state. Returns the run's current state, whether the
-- report added a history row (false: duplicate), and whether it changed the state
-- (false: late or superseded report; fields it carries only fill gaps).
CREATE FUNCTION swoop_record_event(
  p_run text, p_workflow text, p_state run_state, p_source text,
  p_uid text DEFAULT NULL, p_payload_id text DEFAULT NULL, p_parent_run text DEFAULT NULL,
  p_input text DEFAULT NULL, p_output text DEFAULT NULL, p_error text DEFAULT NULL,
  p_started_at timestamptz DEFAULT NULL, p_finished_at timestamptz DEFAULT NULL,
  p_claim text DEFAULT NULL, p_claim_reason text DEFAULT NULL, p_claim_owner text DEFAULT NULL)
RETURNS TABLE (state run_state, recorded boolean, applied boolean)
LANGUAGE plpgsql AS $$
DECLARE
  r        runs%ROWTYPE;
  final    boolean := swoop_state_is_final(p_state);
  occurred timestamptz := CASE WHEN swoop_state_is_final(p_state)
                               THEN coalesce(p_finished_at, now()) ELSE p_started_at END;
  message  text := coalesce(p_error, p_claim_reason);
  is_new   boolean := false;
  did_add  boolean;
  moves    boolean;
BEGIN
  IF p_payload_id IS NOT NULL THEN
    PERFORM swoop_lock_payload(p_payload_id, p_workflow, p_input);
  END IF;

  SELECT * INTO r FROM runs WHERE runs.run = p_run FOR UPDATE;
  IF NOT FOUND THEN
    INSERT INTO runs AS x (run, uid, workflow, payload_id, attempt, parent_run, state, claim,
                           claim_reason, claim_owner, input, output, error, started_at, finished_at)
    VALUES (p_run, p_uid, p_workflow, p_payload_id,
            CASE WHEN p_payload_id IS NULL THEN 1
                 ELSE 1 + (SELECT count(*) FROM runs c WHERE c.payload_id = p_payload_id) END,
            p_parent_run, p_state, p_claim, p_claim_reason, p_claim_owner, p_input,
            CASE WHEN final THEN p_output END, CASE WHEN final THEN p_error END,
            p_started_at, CASE WHEN final THEN occurred END)
    ON CONFLICT (run) DO NOTHING
    RETURNING * INTO r;
    is_new := FOUND;
    IF NOT is_new THEN
      -- Another writer created it first (only possible without a payload to lock).
      SELECT * INTO r FROM runs WHERE runs.run = p_run FOR UPDATE;
    END IF;
  END IF;

  moves := is_new OR swoop_state_rank(p_state) > swoop_state_rank(r.state);
  INSERT INTO run_events (run, run_created_at, state, applied, source, payload_id,
                          occurred_at, message)
  VALUES (p_run, r.created_at, p_state, moves, p_source, coalesce(p_payload_id, r.payload_id),
          occurred, message)
  ON CONFLICT DO NOTHING;
  did_add := FOUND;

  IF is_new THEN
    RETURN QUERY SELECT r.state, did_add, true;
    RETURN;
  END IF;

  IF moves THEN
    UPDATE runs x SET
      state = p_state,
      uid = coalesce(x.uid, p_uid),
      payload_id = coalesce(x.payload_id, p_payload_id),
      parent_run = coalesce(x.parent_run, p_parent_run),
      input = coalesce(x.input, p_input),
      started_at = coalesce(x.started_at, p_started_at),
      output = CASE WHEN final THEN p_output ELSE x.output END,
      error = CASE WHEN final THEN p_error ELSE x.error END,
      finished_at = CASE WHEN final THEN occurred ELSE x.finished_at END,
      claim = coalesce(x.claim, p_claim),
      claim_reason = coalesce(x.claim_reason, p_claim_reason),
      claim_owner = coalesce(x.claim_owner, p_claim_owner),
      updated_at = now()
    WHERE x.run = p_run;
  ELSIF (r.uid IS NULL AND p_uid IS NOT NULL)
     OR (r.started_at IS NULL AND p_started_at IS NOT NULL)
     OR (r.parent_run IS NULL AND p_parent_run IS NOT NULL)
     OR (r.input IS NULL AND p_input IS NOT NULL)
     OR (r.claim IS NULL AND p_claim IS NOT NULL) THEN
    UPDATE runs x SET
      uid = coalesce(x.uid, p_uid),
      parent_run = coalesce(x.parent_run, p_parent_run),
      input = coalesce(x.input, p_input),
      started_at = coalesce(x.started_at, p_started_at),
      claim = coalesce(x.claim, p_claim),
      claim_reason = coalesce(x.claim_reason, p_claim_reason),
      claim_owner = coalesce(x.claim_owner, p_claim_owner),
      updated_at = now()
    WHERE x.run = p_run;
  END IF;
  RETURN QUERY SELECT CASE WHEN moves THEN p_state ELSE r.state END, did_add, moves;
END
$$;

-- cirrus de-duplication: the run may do the work unless another claimed run of the
-- payload is active, or the latest claimed run succeeded; `replace` overrides both (as
-- in cirrus, and it is the way out of a run stuck active). A repeated claim by the same
-- run gets the same answer. A refused run is recorded CANCELED, so its own lifecycle
-- events are absorbed by the monotonic rule and it never notifies.
CREATE FUNCTION swoop_claim(
  p_payload_id text, p_workflow text, p_run text, p_input text, p_replace boolean,
  p_parent_run text DEFAULT NULL, p_uid text DEFAULT NULL)
RETURNS TABLE (claimed boolean, reason text, owner text)
LANGUAGE plpgsql AS $$
DECLARE
  r      runs%ROWTYPE;
  active runs%ROWTYPE;
  latest runs%ROWTYPE;
  why    text;
BEGIN
  PERFORM swoop_lock_payload(p_payload_id, p_workflow, p_input);

  SELECT * INTO r FROM runs WHERE runs.run = p_run FOR UPDATE;
  IF FOUND AND r.claim IS NOT NULL THEN
    RETURN QUERY SELECT r.claim = 'claimed', r.claim_reason, r.claim_owner;
    RETURN;
  END IF;
  IF FOUND AND r.payload_id IS DISTINCT FROM p_payload_id THEN
    why := format('run %s belongs to payload %s', p_run, coalesce(r.payload_id, '(none)'));
  ELSIF FOUND AND swoop_state_is_final(r.state) THEN
    why := format('run %s already finished %s', p_run, r.state);
  END IF;
  IF why IS NOT NULL THEN
    UPDATE runs x SET claim = 'refused', claim_reason = why, claim_owner = p_run, updated_at = now()
    WHERE x.run = p_run;
    RETURN QUERY SELECT false, why, p_run;
    RETURN;
  END IF;

  SELECT * INTO active FROM runs x
  WHERE x.payload_id = p_payload_id AND x.claim = 'claimed' AND x.run <> p_run
    AND NOT swoop_state_is_final(x.state)
  ORDER BY x.attempt DESC LIMIT 1;
  SELECT * INTO latest FROM runs x
  WHERE x.payload_id = p_payload_id AND x.claim = 'claimed' AND x.run <> p_run
  ORDER BY x.attempt DESC LIMIT 1;

  IF active.run IS NOT NULL AND NOT p_replace THEN
    why := format('payload is active: run %s is %s', active.run, active.state);
    PERFORM swoop_record_event(p_run, p_workflow, 'CANCELED', 'claim', p_uid, p_payload_id,
      p_parent_run, p_input, NULL, 'claim refused: ' || why, NULL, NULL, 'refused', why, active.run);
    RETURN QUERY SELECT false, why, active.run;
    RETURN;
  END IF;
  IF latest.state = 'SUCCESSFUL' AND NOT p_replace THEN
    why := format('payload already succeeded: run %s', latest.run);
    PERFORM swoop_record_event(p_run, p_workflow, 'CANCELED', 'claim', p_uid, p_payload_id,
      p_parent_run, p_input, NULL, 'claim refused: ' || why, NULL, NULL, 'refused', why, latest.run);
    RETURN QUERY SELECT false, why, latest.run;
    RETURN;
  END IF;

  why := CASE
    WHEN latest.run IS NULL THEN 'new payload'
    WHEN active.run IS NOT NULL OR latest.state = 'SUCCESSFUL'
      THEN format('replace: supersedes run %s (%s)', coalesce(active.run, latest.run),
                  coalesce(active.state, latest.state))
    ELSE format('retry after run %s %s', latest.run, latest.state)
  END;
  PERFORM swoop_record_event(p_run, p_workflow, 'QUEUED', 'claim', p_uid, p_payload_id,
    p_parent_run, p_input, NULL, NULL, NULL, NULL, 'claimed', why, p_run);
  RETURN QUERY SELECT true, why, p_run;
END
$$;
