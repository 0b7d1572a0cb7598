-- The sweeper reads every recording's retention row (D2); the state's words, about 1.2 KB of its
-- 1.3 KB, it never needs, so they are kept in their own table. `state_digest` (0016) is
-- SipHash-1-3 of the state.
CREATE TABLE recording_disposal_states (
    recording_id uuid PRIMARY KEY REFERENCES recordings (id),
    -- The reason in words, and the whole state as JSON for the API.
    reason text NOT NULL,
    state text NOT NULL
);
INSERT INTO recording_disposal_states (recording_id, reason, state)
    SELECT recording_id, reason, state FROM recording_retention;
ALTER TABLE recording_retention DROP COLUMN reason, DROP COLUMN state;
