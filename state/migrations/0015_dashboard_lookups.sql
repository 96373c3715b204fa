-- Lookups the dashboard (state/dashboard/) needs at a million runs, each an index probe
-- instead of a scan:
-- * search by item id: payloads whose item_ids contain it (GIN; without the pending list of
--   fastupdate, which every search would scan linearly until a vacuum merges it: ~20 ms at a
--   million payloads, where the probe alone is well under one);
-- * search by collection, newest first: walk payloads by creation time, checking the
--   collection, or read its GIN entries when it is rare (the planner picks by statistics);
-- * chain links from a payload's runs to the runs they started (parent_run). Partial: only
--   chained runs get an entry, and parent_run is written when the run is created, so a run's
--   state changes stay HOT updates (no index here mentions state; docs/state.md, 0013).
CREATE INDEX payloads_item_ids ON payloads USING gin (item_ids) WITH (fastupdate = off);
CREATE INDEX payloads_by_time ON payloads (created_at DESC, payload_id);
CREATE INDEX runs_by_parent ON runs (parent_run) WHERE parent_run IS NOT NULL;
