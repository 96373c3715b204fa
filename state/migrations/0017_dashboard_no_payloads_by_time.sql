-- The dashboard's collection search reads finished_runs_by_collection (0016), one bounded
-- range per final state, instead of walking payloads by creation time (0015's
-- payloads_by_time), which for a rare or absent collection read every payload. Nothing else
-- reads that index; every new payload paid for it.
DROP INDEX payloads_by_time;
