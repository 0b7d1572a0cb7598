-- How many recordings the last finished sweep found in each part of the queue, so the queue can
-- say how long each part is without counting millions of rows on every page. NULL until a sweep
-- finishes after this migration.
ALTER TABLE retention_sweeps ADD COLUMN due_now INTEGER;
ALTER TABLE retention_sweeps ADD COLUMN due_within_90_days INTEGER;
ALTER TABLE retention_sweeps ADD COLUMN later INTEGER;
ALTER TABLE retention_sweeps ADD COLUMN waiting INTEGER;
ALTER TABLE retention_sweeps ADD COLUMN held INTEGER;
