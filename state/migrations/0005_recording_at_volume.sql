-- Recording at volume. The payload row is locked without rewriting it (0004 rewrote it on
-- every event), and swoop_record_events records many events in one transaction so the
-- service commits once per batch of concurrent requests instead of once per request
-- (group commit). A batch takes its locks in (payload id, run) order -- payload row before
-- run row, as single events and claims do -- so concurrent batches do not deadlock.

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
