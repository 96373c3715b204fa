-- Recording at volume. The payload row is locked without rewriting it (0004 rewrote it on
-- every event), and swoop_record_events records many events in one transaction so the
-- service commits once per batch of concurrent requests instead of once per request
-- (group commit). A batch takes its locks in (payload id, run) order -- payload row before
-- run row, as single events and claims do -- so concurrent batches do not deadlock.

-- No index contains `state`, and pages keep free space, so a state change is a HOT
-- update that touches no index. State filters ride the time and workflow indexes (runs
-- are listed newest first, and the states people filter on are recent).
DROP INDEX runs_by_state;
ALTER TABLE runs SET (fillfactor = 85);

-- The same rules as 0001/0003 with the final-state test written inline: per-row checks
-- and trigger conditions then cost no function call (a third of the per-row time).
ALTER TABLE runs DROP CONSTRAINT runs_check;
ALTER TABLE runs ADD CONSTRAINT runs_finished_iff_final
  CHECK ((state IN ('SUCCESSFUL', 'FAILED', 'CANCELED', 'TIMED_OUT', 'INVALID')) = (finished_at IS NOT NULL));
DROP TRIGGER runs_monotonic ON runs;
CREATE TRIGGER runs_monotonic BEFORE UPDATE ON runs
  FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.claim IS DISTINCT FROM NEW.claim)
  EXECUTE FUNCTION swoop_runs_monotonic();
DROP TRIGGER runs_outbox_insert ON runs;
CREATE TRIGGER runs_outbox_insert AFTER INSERT ON runs
  FOR EACH ROW WHEN (NEW.claim = 'claimed' AND NEW.state IN ('SUCCESSFUL', 'FAILED', 'CANCELED', 'TIMED_OUT', 'INVALID'))
  EXECUTE FUNCTION swoop_outbox_run_finished();
DROP TRIGGER runs_outbox_update ON runs;
CREATE TRIGGER runs_outbox_update AFTER UPDATE ON runs
  FOR EACH ROW WHEN (NEW.claim = 'claimed' AND NEW.state IN ('SUCCESSFUL', 'FAILED', 'CANCELED', 'TIMED_OUT', 'INVALID')
                     AND NOT (OLD.claim = 'claimed' AND OLD.state IN ('SUCCESSFUL', 'FAILED', 'CANCELED', 'TIMED_OUT', 'INVALID')))
  EXECUTE FUNCTION swoop_outbox_run_finished();

CREATE OR REPLACE FUNCTION swoop_lock_payload(p_id text, p_workflow text, p_input text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  marker int := position('/workflow-' IN p_id);
  rest   text;
  wf     text := p_workflow;
  cols   text[] := '{}';
  items  text[] := '{}';
  known  text;
BEGIN
  SELECT input INTO known FROM payloads WHERE payload_id = p_id FOR UPDATE;
  IF FOUND THEN
    IF known IS NULL AND nullif(p_input, '') IS NOT NULL THEN
      UPDATE payloads SET input = p_input WHERE payload_id = p_id;
    END IF;
    RETURN;
  END IF;
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
  ON CONFLICT (payload_id) DO NOTHING;
  -- lost a race to create it: wait for the winner and lock its row
  IF NOT FOUND THEN
    PERFORM 1 FROM payloads WHERE payload_id = p_id FOR UPDATE;
  END IF;
END
$$;

-- p_events: a JSON array of objects with the parameters of swoop_record_event in
-- camelCase (run, workflow, state, source, uid, payloadId, parentRun, input, output,
-- error, startedAt, finishedAt, claim, claimReason, claimOwner). Returns one row per
-- element, idx being its 0-based position in the array.
CREATE FUNCTION swoop_record_events(p_events jsonb)
RETURNS TABLE (idx int, state run_state, recorded boolean, applied boolean)
LANGUAGE plpgsql AS $$
DECLARE
  e   record;
  res record;
BEGIN
  FOR e IN
    SELECT (x.ord - 1)::int AS i, x.v
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(v, ord)
    ORDER BY coalesce(x.v->>'payloadId', ''), x.v->>'run', x.ord
  LOOP
    SELECT * INTO res FROM swoop_record_event(
      e.v->>'run', e.v->>'workflow', (e.v->>'state')::run_state, e.v->>'source',
      e.v->>'uid', e.v->>'payloadId', e.v->>'parentRun', e.v->>'input', e.v->>'output',
      e.v->>'error', (e.v->>'startedAt')::timestamptz, (e.v->>'finishedAt')::timestamptz,
      e.v->>'claim', e.v->>'claimReason', e.v->>'claimOwner');
    idx := e.i;
    state := res.state;
    recorded := res.recorded;
    applied := res.applied;
    RETURN NEXT;
  END LOOP;
END
$$;

-- run.finished carries `next`: the rest of the run's cirrus `process` array after its
-- first element, read from the run's input (an inline payload or a reference object);
-- [] when the input is a bare URL, not JSON, or has no further steps.
CREATE OR REPLACE FUNCTION swoop_next_process(input text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  doc jsonb;
BEGIN
  BEGIN
    doc := input::jsonb;
  EXCEPTION WHEN others THEN
    RETURN '[]'::jsonb;
  END;
  IF jsonb_typeof(doc) <> 'object' OR jsonb_typeof(doc->'process') IS DISTINCT FROM 'array' THEN
    RETURN '[]'::jsonb;
  END IF;
  RETURN coalesce((SELECT jsonb_agg(x.e ORDER BY x.o) FROM jsonb_array_elements(doc->'process') WITH ORDINALITY x(e, o)
                   WHERE x.o > 1), '[]'::jsonb);
END
$$;

CREATE OR REPLACE FUNCTION swoop_outbox_run_finished() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO outbox (run, body) VALUES (NEW.run, jsonb_build_object(
    'event', 'run.finished',
    'state', NEW.state,
    'workflow', NEW.workflow,
    'run', NEW.run,
    'uid', coalesce(NEW.uid, ''),
    'payloadId', coalesce(NEW.payload_id, ''),
    'parentRun', coalesce(NEW.parent_run, ''),
    'startedAt', swoop_rfc3339(NEW.started_at),
    'finishedAt', swoop_rfc3339(NEW.finished_at),
    'error', coalesce(NEW.error, ''),
    'input', coalesce(NEW.input, ''),
    'output', coalesce(NEW.output, ''),
    'next', swoop_next_process(NEW.input)))
  ON CONFLICT (run) DO NOTHING;
  RETURN NULL;
END
$$;

-- A claim may name the payload of a run whose lifecycle events arrived first without one
-- (chained runs carry no payload id; the service derives it for the claim).
CREATE OR REPLACE FUNCTION swoop_claim(
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
  IF FOUND AND r.payload_id IS NULL THEN
    -- its lifecycle events came first and carried no payload id: the claim names it
    UPDATE runs x SET payload_id = p_payload_id, updated_at = now(),
      attempt = 1 + (SELECT count(*) FROM runs c WHERE c.payload_id = p_payload_id)
    WHERE x.run = p_run
    RETURNING * INTO r;
  END IF;
  IF r.run IS NOT NULL AND r.payload_id IS DISTINCT FROM p_payload_id THEN
    why := format('run %s belongs to payload %s', p_run, coalesce(r.payload_id, '(none)'));
  ELSIF r.run IS NOT NULL AND swoop_state_is_final(r.state) THEN
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
