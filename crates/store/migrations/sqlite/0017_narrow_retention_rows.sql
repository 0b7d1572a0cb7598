-- The sweeper reads every recording's retention row (D2), and a person's retention facts for
-- every person in it. These tables are rebuilt narrow and keyed without a rowid, so that read
-- is one walk of a compact tree (`docs/retention.md`, "How fast").

-- The state's words, about 1.2 KB of a row's 1.3 KB, which the sweeper never needs: a million
-- retention rows took 0.8 s to read with them, 0.3 s without. Rows this long keep their rowid.
CREATE TABLE recording_disposal_states (
    recording_id BLOB PRIMARY KEY REFERENCES recordings (id),
    -- The reason in words, and the whole state as JSON for the API.
    reason TEXT NOT NULL,
    state TEXT NOT NULL
) STRICT;
INSERT INTO recording_disposal_states (recording_id, reason, state)
    SELECT recording_id, reason, state FROM recording_retention ORDER BY recording_id;

-- Rebuilt rather than its columns dropped: dropping them would leave each row alone on its
-- page. `state_digest` (0016) is SipHash-1-3 of the state, not of its JSON.
CREATE TABLE recording_retention_narrow (
    recording_id BLOB PRIMARY KEY REFERENCES recordings (id),
    record_category TEXT,
    transcript_made_on TEXT,
    found_no_longer_relevant_on TEXT,
    superseded_on TEXT,
    published_online INTEGER NOT NULL,
    due_on TEXT,
    action TEXT NOT NULL,
    governing_rule TEXT,
    state_digest INTEGER,
    computed_at TEXT NOT NULL,
    -- The due date a notice was last recorded for, so the sweeper tells once, not daily.
    noticed_due_on TEXT
) STRICT, WITHOUT ROWID;
INSERT INTO recording_retention_narrow (recording_id, record_category, transcript_made_on,
        found_no_longer_relevant_on, superseded_on, published_online, due_on, action, governing_rule,
        state_digest, computed_at, noticed_due_on)
    SELECT recording_id, record_category, transcript_made_on, found_no_longer_relevant_on,
        superseded_on, published_online, due_on, action, governing_rule, state_digest, computed_at,
        noticed_due_on
    FROM recording_retention ORDER BY recording_id;
DROP TABLE recording_retention;
ALTER TABLE recording_retention_narrow RENAME TO recording_retention;
CREATE INDEX recording_retention_by_due ON recording_retention (due_on);

-- Without a rowid, looking a person's facts up is one search, not two.
CREATE TABLE person_retention_by_person (
    person_id BLOB PRIMARY KEY REFERENCES persons (id),
    care_ended_on TEXT,
    died_on TEXT,
    left_service_on TEXT,
    deletion_requested_on TEXT
) STRICT, WITHOUT ROWID;
INSERT INTO person_retention_by_person (person_id, care_ended_on, died_on, left_service_on, deletion_requested_on)
    SELECT person_id, care_ended_on, died_on, left_service_on, deletion_requested_on FROM person_retention;
DROP TABLE person_retention;
ALTER TABLE person_retention_by_person RENAME TO person_retention;
