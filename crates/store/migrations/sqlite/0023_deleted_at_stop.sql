-- The day a recording's session was stopped with a choice that deletes it (C9): a fact of the
-- recording, like a transcript's date, so that every path that works out its disposal state
-- (a trigger, registration, the sweeper) brings it up for destruction at once.
ALTER TABLE recording_retention ADD COLUMN deleted_at_stop_on TEXT;
