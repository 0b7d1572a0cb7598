-- The disposal queue is read a page at a time in (due_on, recording_id) order. Nothing to do
-- here: `recording_retention` has no rowid (0017), so its index on due_on already ends with the
-- id. PostgreSQL's index gains the id in its 0018; the numbers are kept in step.
SELECT 1;
