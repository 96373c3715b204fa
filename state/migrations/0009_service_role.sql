-- Least privilege. The migration Job connects as the schema's owner; the service connects
-- as its own role (state/roles.ts grants it), which reads everything but writes only
-- through the journal (INSERT), the outbox's delivery bookkeeping, and these functions.
-- They run as the owner (SECURITY DEFINER) and hold every rule, so a leaked service
-- credential cannot rewrite history, move a run around the monotonic rule, or change the
-- schema. The search_path is pinned, as a definer function's must be, so a caller's
-- objects cannot stand in for the schema's; only roles granted EXECUTE may call them.
DO $$
DECLARE
  f text;
BEGIN
  FOREACH f IN ARRAY ARRAY[
    'swoop_apply_journal(int, boolean)',
    'swoop_claim(text, text, text, text, boolean, text, text)',
    'swoop_end_stuck_runs(timestamptz, interval, interval, int)',
    'swoop_ensure_event_partitions(timestamptz, int)'] LOOP
    EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = %I, pg_temp', f, current_schema());
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
  END LOOP;
END
$$;
