-- The register on SQLite: persons, consent, sessions, recordings, staff and the audit trail.
-- Small link tables are WITHOUT ROWID (their key is the table), so a write touches fewer pages.
-- Column types mirror migrations/postgres/0001_register.sql (a test checks they agree):
-- uuid and bytea are BLOB, timestamptz and date are TEXT, boolean and bigint are INTEGER.

CREATE TABLE staff (
    id BLOB PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    is_administrator INTEGER NOT NULL,
    must_change_password INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    disabled_at TEXT
) STRICT;

CREATE TABLE staff_sessions (
    token_hash BLOB PRIMARY KEY,
    staff_id BLOB NOT NULL REFERENCES staff (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
) STRICT;
CREATE INDEX staff_sessions_by_staff ON staff_sessions (staff_id);

CREATE TABLE api_tokens (
    id BLOB PRIMARY KEY,
    staff_id BLOB NOT NULL REFERENCES staff (id),
    name TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    last_used_at TEXT,
    revoked_at TEXT
) STRICT;
CREATE INDEX api_tokens_by_staff ON api_tokens (staff_id);

CREATE TABLE persons (
    id BLOB PRIMARY KEY,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    date_of_birth TEXT NOT NULL,
    nhs_number TEXT UNIQUE,
    local_identifier TEXT UNIQUE,
    capacity TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by BLOB NOT NULL REFERENCES staff (id),
    CHECK (nhs_number IS NOT NULL OR local_identifier IS NOT NULL)
) STRICT;
CREATE INDEX persons_by_name ON persons (family_name, given_name);

CREATE TABLE representatives (
    id BLOB PRIMARY KEY,
    person_id BLOB NOT NULL REFERENCES persons (id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    contact TEXT,
    created_at TEXT NOT NULL,
    created_by BLOB NOT NULL REFERENCES staff (id)
) STRICT;
CREATE INDEX representatives_by_person ON representatives (person_id);

CREATE TABLE courses (
    id BLOB PRIMARY KEY,
    service TEXT NOT NULL,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by BLOB NOT NULL REFERENCES staff (id)
) STRICT;

CREATE TABLE sessions (
    id BLOB PRIMARY KEY,
    kind TEXT NOT NULL,
    personal_meeting_kind TEXT,
    service TEXT NOT NULL,
    course_id BLOB REFERENCES courses (id),
    title TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    attendees_informed_at TEXT,
    created_at TEXT NOT NULL,
    created_by BLOB NOT NULL REFERENCES staff (id)
) STRICT;
CREATE INDEX sessions_by_course ON sessions (course_id);
CREATE INDEX sessions_by_start ON sessions (starts_at);

CREATE TABLE session_participants (
    session_id BLOB NOT NULL REFERENCES sessions (id),
    person_id BLOB NOT NULL REFERENCES persons (id),
    PRIMARY KEY (session_id, person_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX session_participants_by_person ON session_participants (person_id);

CREATE TABLE recordings (
    id BLOB PRIMARY KEY,
    kind TEXT NOT NULL,
    service TEXT NOT NULL,
    session_id BLOB REFERENCES sessions (id),
    made_by BLOB NOT NULL REFERENCES staff (id),
    device TEXT NOT NULL,
    made_at TEXT NOT NULL,
    captured_at TEXT NOT NULL,
    location TEXT NOT NULL,
    source_id BLOB REFERENCES recordings (id),
    original_id BLOB REFERENCES recordings (id),
    derivation_kind TEXT,
    de_identified INTEGER NOT NULL,
    derivation_method TEXT,
    registered_at TEXT NOT NULL,
    registered_by BLOB NOT NULL REFERENCES staff (id)
) STRICT;
CREATE INDEX recordings_by_session ON recordings (session_id);
CREATE INDEX recordings_by_source ON recordings (source_id);

CREATE TABLE recording_subjects (
    recording_id BLOB NOT NULL REFERENCES recordings (id),
    person_id BLOB NOT NULL REFERENCES persons (id),
    PRIMARY KEY (recording_id, person_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX recording_subjects_by_person ON recording_subjects (person_id);

CREATE TABLE recording_purposes (
    recording_id BLOB NOT NULL REFERENCES recordings (id),
    purpose TEXT NOT NULL,
    PRIMARY KEY (recording_id, purpose)
) STRICT, WITHOUT ROWID;

CREATE TABLE recording_removed_persons (
    recording_id BLOB NOT NULL REFERENCES recordings (id),
    person_id BLOB NOT NULL REFERENCES persons (id),
    PRIMARY KEY (recording_id, person_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE consents (
    id BLOB PRIMARY KEY,
    person_id BLOB NOT NULL REFERENCES persons (id),
    answer TEXT NOT NULL,
    giver_kind TEXT NOT NULL,
    representative_id BLOB REFERENCES representatives (id),
    capacity_assessed_on TEXT,
    capacity_assessed_by TEXT,
    capacity_decision TEXT,
    best_interest_note TEXT,
    scope_kind TEXT NOT NULL,
    scope_service TEXT,
    scope_course_id BLOB REFERENCES courses (id),
    scope_session_id BLOB REFERENCES sessions (id),
    scope_recording_id BLOB REFERENCES recordings (id),
    signed_at TEXT NOT NULL,
    signature_method TEXT NOT NULL,
    signed_by TEXT NOT NULL,
    signature_witness TEXT,
    representatives_may_have_copies INTEGER NOT NULL,
    research_study TEXT,
    research_ethics_reference TEXT,
    notes TEXT,
    recorded_at TEXT NOT NULL,
    recorded_by BLOB NOT NULL REFERENCES staff (id)
) STRICT;
CREATE INDEX consents_by_person ON consents (person_id);

CREATE TABLE consent_purposes (
    consent_id BLOB NOT NULL REFERENCES consents (id),
    purpose TEXT NOT NULL,
    PRIMARY KEY (consent_id, purpose)
) STRICT, WITHOUT ROWID;

CREATE TABLE withdrawals (
    id BLOB PRIMARY KEY,
    consent_id BLOB NOT NULL REFERENCES consents (id),
    person_id BLOB NOT NULL REFERENCES persons (id),
    at TEXT NOT NULL,
    withdrawn_by_kind TEXT NOT NULL,
    had_capacity INTEGER,
    representative_id BLOB REFERENCES representatives (id),
    existing_recordings TEXT NOT NULL,
    note TEXT,
    recorded_at TEXT NOT NULL,
    recorded_by BLOB NOT NULL REFERENCES staff (id)
) STRICT;
CREATE INDEX withdrawals_by_person ON withdrawals (person_id);
CREATE INDEX withdrawals_by_consent ON withdrawals (consent_id);

CREATE TABLE withdrawal_purposes (
    withdrawal_id BLOB NOT NULL REFERENCES withdrawals (id),
    purpose TEXT NOT NULL,
    PRIMARY KEY (withdrawal_id, purpose)
) STRICT, WITHOUT ROWID;

CREATE TABLE confirmations (
    id BLOB PRIMARY KEY,
    session_id BLOB NOT NULL REFERENCES sessions (id),
    person_id BLOB NOT NULL REFERENCES persons (id),
    willing INTEGER NOT NULL,
    at TEXT NOT NULL,
    confirmed_by_kind TEXT NOT NULL,
    representative_id BLOB REFERENCES representatives (id),
    note TEXT,
    recorded_at TEXT NOT NULL,
    recorded_by BLOB NOT NULL REFERENCES staff (id)
) STRICT;
CREATE INDEX confirmations_by_session ON confirmations (session_id);

CREATE TABLE session_stops (
    id BLOB PRIMARY KEY,
    session_id BLOB NOT NULL REFERENCES sessions (id),
    at TEXT NOT NULL,
    choice TEXT NOT NULL,
    requested_by BLOB REFERENCES persons (id),
    note TEXT,
    recorded_at TEXT NOT NULL,
    recorded_by BLOB NOT NULL REFERENCES staff (id)
) STRICT;
CREATE INDEX session_stops_by_session ON session_stops (session_id);

-- The audit trail. Person and recording ids are not foreign keys: the trail must outlive what it describes.
CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    at TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id BLOB,
    action TEXT NOT NULL,
    person_id BLOB,
    recording_id BLOB,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL
) STRICT;
CREATE INDEX audit_events_by_person ON audit_events (person_id) WHERE person_id IS NOT NULL;
CREATE INDEX audit_events_by_recording ON audit_events (recording_id) WHERE recording_id IS NOT NULL;

-- The end of the chain, updated with every append; appending locks it, so events are numbered in commit order.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL
) STRICT;
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, zeroblob(32));

-- The head always names the last event appended, whoever appends it.
CREATE TRIGGER audit_head_follows_events AFTER INSERT ON audit_events
BEGIN
    UPDATE audit_head SET hash = NEW.hash WHERE id = 1;
END;

CREATE TRIGGER audit_events_are_never_updated BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;

CREATE TRIGGER audit_events_are_never_deleted BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
