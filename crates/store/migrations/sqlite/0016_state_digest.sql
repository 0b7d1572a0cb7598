-- A digest of each recording's stored disposal state (the first 8 bytes of the SHA-256 of its
-- JSON): the sweeper compares it with the state it works out, rather than reading and comparing
-- the whole JSON for every recording. NULL until the state is next stored.
ALTER TABLE recording_retention ADD COLUMN state_digest INTEGER;
