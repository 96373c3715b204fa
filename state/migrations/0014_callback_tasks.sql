-- Wait-for-callback steps (docs/callbacks.md), Step Functions' .waitForTaskToken: a step of
-- a run opens a task, the service hands a token to an external system, and that system's
-- answer (success with an output, failure with error and cause) resumes the step's Argo
-- node. One task per step of a run (uid, step); each delivery attempt mints a token, and
-- every token of a task answers it, once: the first answer closes the task for all of them.
-- Tokens are stored only as their SHA-256, so the table never holds a usable token.

CREATE TABLE callback_tasks (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  namespace         text NOT NULL,
  workflow          text NOT NULL,
  run               text NOT NULL REFERENCES runs (run),
  uid               text NOT NULL CHECK (uid <> ''),
  step              text NOT NULL CHECK (step <> ''),
  -- the Argo node the answer resumes (its status.nodes name)
  node              text NOT NULL CHECK (node <> ''),
  created_at        timestamptz NOT NULL DEFAULT now(),
  heartbeat_seconds int CHECK (heartbeat_seconds > 0),
  heartbeat_at      timestamptz NOT NULL DEFAULT now(),
  deadline_at       timestamptz,
  state             text NOT NULL DEFAULT 'WAITING' CHECK (state IN ('WAITING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT')),
  answered_at       timestamptz,
  output            text,
  error             text,
  cause             text,
  -- applying the answer to Argo (state/task-resumer.ts), at least once, like the outbox
  apply_attempts    int NOT NULL DEFAULT 0,
  next_apply_at     timestamptz,
  applied_at        timestamptz,
  apply_error       text,
  UNIQUE (uid, step),
  CHECK ((state = 'WAITING') = (answered_at IS NULL))
);
CREATE INDEX callback_tasks_waiting ON callback_tasks (created_at) WHERE state = 'WAITING';
CREATE INDEX callback_tasks_apply_due ON callback_tasks (next_apply_at, id)
  WHERE applied_at IS NULL AND next_apply_at IS NOT NULL;

CREATE TABLE callback_tokens (
  token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
  task       bigint NOT NULL REFERENCES callback_tasks (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX callback_tokens_task ON callback_tokens (task);

-- Opens (or re-opens, on a retried delivery) the task of one step of a claimed run and
-- adds a token to it. outcome: 'opened'; 'answered' when the task already has its answer
-- (the delivery was retried after the answer came: nothing new to deliver); 'unclaimed'
-- when the run never claimed its payload (the claim gate); 'run-ended' when it finished.
CREATE FUNCTION swoop_task_open(
  p_hash bytea, p_namespace text, p_workflow text, p_run text, p_uid text, p_step text, p_node text,
  p_heartbeat_seconds int, p_timeout_seconds int)
RETURNS TABLE (outcome text, task bigint, state text)
LANGUAGE plpgsql AS $$
DECLARE
  r runs%ROWTYPE;
  t callback_tasks%ROWTYPE;
BEGIN
  SELECT * INTO r FROM runs WHERE runs.run = p_run;
  IF NOT FOUND OR r.claim IS DISTINCT FROM 'claimed' OR (r.uid IS NOT NULL AND r.uid <> '' AND r.uid <> p_uid) THEN
    RETURN QUERY SELECT 'unclaimed'::text, NULL::bigint, NULL::text;
    RETURN;
  END IF;
  IF swoop_state_is_final(r.state) THEN
    RETURN QUERY SELECT 'run-ended'::text, NULL::bigint, r.state::text;
    RETURN;
  END IF;
  INSERT INTO callback_tasks AS c (namespace, workflow, run, uid, step, node, heartbeat_seconds, deadline_at)
  VALUES (p_namespace, p_workflow, p_run, p_uid, p_step, p_node, p_heartbeat_seconds,
          now() + p_timeout_seconds * interval '1 second')
  ON CONFLICT (uid, step) DO NOTHING;
  SELECT * INTO t FROM callback_tasks c WHERE c.uid = p_uid AND c.step = p_step FOR UPDATE;
  IF t.state <> 'WAITING' THEN
    RETURN QUERY SELECT 'answered'::text, t.id, t.state;
    RETURN;
  END IF;
  INSERT INTO callback_tokens (token_hash, task) VALUES (p_hash, t.id);
  RETURN QUERY SELECT 'opened'::text, t.id, t.state;
END
$$;

-- Closes waiting tasks whose overall deadline or heartbeat passed (Step Functions'
-- States.Timeout and States.HeartbeatTimeout) and queues their failure for Argo.
CREATE FUNCTION swoop_task_expire(p_limit int, p_only bigint DEFAULT NULL)
RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
  n int;
BEGIN
  UPDATE callback_tasks c SET
    state = 'TIMED_OUT',
    answered_at = now(),
    error = CASE WHEN c.deadline_at IS NOT NULL AND c.deadline_at <= now() THEN 'States.Timeout' ELSE 'States.HeartbeatTimeout' END,
    cause = CASE WHEN c.deadline_at IS NOT NULL AND c.deadline_at <= now()
      THEN format('no answer within %s seconds of the task opening', round(extract(epoch FROM c.deadline_at - c.created_at)))
      ELSE format('no heartbeat or answer for %s seconds', c.heartbeat_seconds) END,
    next_apply_at = now()
  WHERE c.id IN (SELECT id FROM callback_tasks w
                 WHERE w.state = 'WAITING' AND (p_only IS NULL OR w.id = p_only)
                   AND (w.deadline_at <= now()
                        OR (w.heartbeat_seconds IS NOT NULL AND w.heartbeat_at + w.heartbeat_seconds * interval '1 second' <= now()))
                 ORDER BY w.created_at LIMIT p_limit
                 FOR UPDATE SKIP LOCKED);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;

-- An answer to a token: p_kind 'success' (p_output), 'failure' (p_error, p_cause) or
-- 'heartbeat'. outcome: 'unknown' (no such token), 'closed' (the task has its answer or
-- timed out: state says which), 'run-ended' (the run finished first), 'heartbeat', or
-- 'answered'. Only 'answered' queues the answer for Argo.
CREATE FUNCTION swoop_task_answer(p_hash bytea, p_kind text, p_output text, p_error text, p_cause text)
RETURNS TABLE (outcome text, task bigint, run text, step text, state text, answered_at timestamptz, heartbeat_due timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
  t callback_tasks%ROWTYPE;
  run_state_now run_state;
BEGIN
  SELECT c.* INTO t FROM callback_tokens k JOIN callback_tasks c ON c.id = k.task
   WHERE k.token_hash = p_hash FOR UPDATE OF c;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'unknown'::text, NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::timestamptz, NULL::timestamptz;
    RETURN;
  END IF;
  IF t.state = 'WAITING' AND (t.deadline_at <= now()
      OR (t.heartbeat_seconds IS NOT NULL AND t.heartbeat_at + t.heartbeat_seconds * interval '1 second' <= now())) THEN
    -- Expired but not yet swept: close it now, so a late answer never wins over the timeout.
    PERFORM swoop_task_expire(1, t.id);
    SELECT * INTO t FROM callback_tasks c WHERE c.id = t.id;
  END IF;
  IF t.state <> 'WAITING' THEN
    RETURN QUERY SELECT 'closed'::text, t.id, t.run, t.step, t.state, t.answered_at, NULL::timestamptz;
    RETURN;
  END IF;
  SELECT r.state INTO run_state_now FROM runs r WHERE r.run = t.run;
  IF swoop_state_is_final(run_state_now) THEN
    RETURN QUERY SELECT 'run-ended'::text, t.id, t.run, t.step, run_state_now::text, NULL::timestamptz, NULL::timestamptz;
    RETURN;
  END IF;
  IF p_kind = 'heartbeat' THEN
    UPDATE callback_tasks c SET heartbeat_at = now() WHERE c.id = t.id;
    RETURN QUERY SELECT 'heartbeat'::text, t.id, t.run, t.step, t.state, NULL::timestamptz,
      CASE WHEN t.heartbeat_seconds IS NULL THEN NULL ELSE now() + t.heartbeat_seconds * interval '1 second' END;
    RETURN;
  END IF;
  UPDATE callback_tasks c SET
    state = CASE WHEN p_kind = 'success' THEN 'SUCCEEDED' ELSE 'FAILED' END,
    answered_at = now(), output = p_output, error = p_error, cause = p_cause, next_apply_at = now()
  WHERE c.id = t.id
  RETURNING c.* INTO t;
  RETURN QUERY SELECT 'answered'::text, t.id, t.run, t.step, t.state, t.answered_at, NULL::timestamptz;
END
$$;

-- As 0009: the service role calls these as the owner; they hold the rules above.
DO $$
DECLARE
  f text;
BEGIN
  FOREACH f IN ARRAY ARRAY[
    'swoop_task_open(bytea, text, text, text, text, text, text, int, int)',
    'swoop_task_expire(int, bigint)',
    'swoop_task_answer(bytea, text, text, text, text)'] LOOP
    EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = %I, pg_temp', f, current_schema());
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
  END LOOP;
END
$$;
