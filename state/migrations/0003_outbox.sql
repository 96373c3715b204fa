-- Outbox of run.finished events (contracts.md "Forwarded event"). The row is written by
-- a trigger in the same transaction as the state change, so a recorded final state and
-- its notification commit or roll back together; UNIQUE (run) makes it exactly one.

CREATE TABLE outbox (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run             text NOT NULL UNIQUE REFERENCES runs (run),
  body            jsonb NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  attempts        int NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  delivered_at    timestamptz,
  last_error      text
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE delivered_at IS NULL;

CREATE FUNCTION swoop_rfc3339(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), '')
$$;

CREATE FUNCTION swoop_outbox_run_finished() RETURNS trigger
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
    'output', coalesce(NEW.output, '')))
  ON CONFLICT (run) DO NOTHING;
  RETURN NULL;
END
$$;

-- Only claimed runs notify: refused duplicates and runs whose claim never happened did
-- no work, so chains and callbacks must not fire for them.
CREATE TRIGGER runs_outbox_insert AFTER INSERT ON runs
  FOR EACH ROW WHEN (swoop_state_is_final(NEW.state) AND NEW.claim = 'claimed')
  EXECUTE FUNCTION swoop_outbox_run_finished();
CREATE TRIGGER runs_outbox_update AFTER UPDATE ON runs
  FOR EACH ROW WHEN (swoop_state_is_final(NEW.state) AND NEW.claim = 'claimed'
                     AND NOT (swoop_state_is_final(OLD.state) AND OLD.claim = 'claimed'))
  EXECUTE FUNCTION swoop_outbox_run_finished();
