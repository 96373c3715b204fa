-- Payloads and runs. Every rule that keeps the record correct under at-least-once,
-- out-of-order and concurrent delivery lives here, so no client can bypass it.

CREATE TYPE run_state AS ENUM
  ('PENDING', 'QUEUED', 'RUNNING', 'SUCCESSFUL', 'FAILED', 'CANCELED', 'TIMED_OUT', 'INVALID');

-- Progress order. All final states share the top rank: the first final state recorded
-- for a run is its outcome and nothing later replaces it.
CREATE FUNCTION swoop_state_rank(s run_state) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE s
    WHEN 'PENDING' THEN 0
    WHEN 'QUEUED' THEN 1
    WHEN 'RUNNING' THEN 2
    ELSE 3
  END
$$;

CREATE FUNCTION swoop_state_is_final(s run_state) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT swoop_state_rank(s) = 3 $$;

-- Identity as cirrus builds it: <collections joined by "/">/workflow-<workflow>/<item ids
-- joined by "/">. The hash is the fixed-size key for de-duplication and lookups.
CREATE TABLE payloads (
  payload_id  text PRIMARY KEY CHECK (payload_id <> ''),
  hash        text NOT NULL UNIQUE,
  workflow    text NOT NULL,
  collections text[] NOT NULL,
  item_ids    text[] NOT NULL,
  input       text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payloads_collections ON payloads USING gin (collections);

-- One row per workflow execution (run = Argo workflow.name).
-- claim: NULL until the run's claim step asked; 'claimed' when it owns the payload;
-- 'refused' when de-duplication stopped it (then the run is CANCELED).
CREATE TABLE runs (
  run          text PRIMARY KEY CHECK (run <> ''),
  uid          text,
  workflow     text NOT NULL,
  payload_id   text REFERENCES payloads (payload_id),
  attempt      int NOT NULL DEFAULT 1 CHECK (attempt >= 1),
  parent_run   text,
  state        run_state NOT NULL,
  claim        text CHECK (claim IN ('claimed', 'refused')),
  claim_reason text,
  claim_owner  text,
  input        text,
  output       text,
  error        text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  started_at   timestamptz,
  finished_at  timestamptz,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CHECK (swoop_state_is_final(state) = (finished_at IS NOT NULL))
);
CREATE INDEX runs_by_payload ON runs (payload_id, attempt DESC);
CREATE INDEX runs_by_time ON runs (created_at DESC, run DESC);
CREATE INDEX runs_by_workflow ON runs (workflow, created_at DESC, run DESC);
CREATE INDEX runs_by_state ON runs (state, created_at DESC, run DESC);

-- The guard: a state may only move up in rank, and a final state never changes.
CREATE FUNCTION swoop_runs_monotonic() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF swoop_state_rank(NEW.state) < swoop_state_rank(OLD.state)
     OR (swoop_state_is_final(OLD.state) AND NEW.state <> OLD.state) THEN
    RAISE EXCEPTION 'run %: state % cannot follow %', OLD.run, NEW.state, OLD.state
      USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.claim IS DISTINCT FROM OLD.claim AND OLD.claim IS NOT NULL THEN
    RAISE EXCEPTION 'run %: claim % cannot change to %', OLD.run, OLD.claim, NEW.claim
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER runs_monotonic BEFORE UPDATE ON runs
  FOR EACH ROW EXECUTE FUNCTION swoop_runs_monotonic();
