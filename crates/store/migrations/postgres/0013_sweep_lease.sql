-- The sweeper works in short transactions, one batch of recordings at a time, so it no longer
-- holds its row locked for the whole sweep. Instead a sweep takes a lease: which run holds it,
-- since when, and until when it may be taken over (a server that died mid-sweep). A second
-- server finding the lease held leaves the sweep to the first.
ALTER TABLE retention_sweeps ADD COLUMN lease_holder uuid;
ALTER TABLE retention_sweeps ADD COLUMN lease_since timestamptz;
ALTER TABLE retention_sweeps ADD COLUMN lease_until timestamptz;
