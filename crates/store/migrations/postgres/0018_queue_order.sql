-- The disposal queue is read a page at a time in (due_on, recording_id) order; with the id in
-- the index, each page is a walk from where the last one stopped, not a sort of every row due.
-- SQLite's index on due_on already ends with the id: `recording_retention` has no rowid (0017).
DROP INDEX recording_retention_by_due;
CREATE INDEX recording_retention_by_due ON recording_retention (due_on, recording_id);
