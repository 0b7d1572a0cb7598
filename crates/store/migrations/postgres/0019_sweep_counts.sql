-- How many recordings the last finished sweep found in each part of the queue, so the queue can
-- say how long each part is without counting millions of rows on every page. NULL until a sweep
-- finishes after this migration.
ALTER TABLE retention_sweeps ADD COLUMN due_now bigint;
ALTER TABLE retention_sweeps ADD COLUMN due_within_90_days bigint;
ALTER TABLE retention_sweeps ADD COLUMN later bigint;
ALTER TABLE retention_sweeps ADD COLUMN waiting bigint;
ALTER TABLE retention_sweeps ADD COLUMN held bigint;
