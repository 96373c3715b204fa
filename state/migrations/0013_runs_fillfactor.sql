-- More room on each runs page for its rows' next versions. A run is written three times in
-- quick succession (claimed, running, completed) and none of those updates changes an
-- indexed column, so each can be a HOT update (the new version on the same page, no index
-- entries) -- if the page has room. 0005 left 15% (fillfactor 85) for that; measured,
-- only 16-25% of the updates of applying claimed runs' running and completed events were
-- HOT, the rest inserting an entry into each of the four runs indexes (~4.3 index
-- insertions per running event). At 50, over 80% are HOT, and the WAL of applying a
-- running event is ~25% smaller (PostgreSQL 15, pg_walinspect). Pages written from now on
-- keep the room; existing ones only after a VACUUM FULL or CLUSTER, if ever wanted.
ALTER TABLE runs SET (fillfactor = 50);
