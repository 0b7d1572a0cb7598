-- The day the item a derived item was made from was destroyed (R6): a fact of the derived
-- item, so the sweeper and every recalculation bring a still up for destruction with its source,
-- and say why a transcript, redaction or de-identified copy outlives it.
ALTER TABLE recording_retention ADD COLUMN source_destroyed_on TEXT;
