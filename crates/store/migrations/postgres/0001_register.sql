-- The register on PostgreSQL: persons, consent, sessions, recordings, staff and the audit trail.
-- Tables and columns mirror migrations/sqlite/0001_register.sql (a test checks they agree).

CREATE TABLE staff (
    id uuid PRIMARY KEY,
    username text NOT NULL UNIQUE,
    display_name text NOT NULL,
    password_hash text NOT NULL,
    is_administrator boolean NOT NULL,
    must_change_password boolean NOT NULL,
    created_at timestamptz NOT NULL,
    disabled_at timestamptz
);

CREATE TABLE staff_sessions (
    token_hash bytea PRIMARY KEY,
    staff_id uuid NOT NULL REFERENCES staff (id),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX staff_sessions_by_staff ON staff_sessions (staff_id);

CREATE TABLE api_tokens (
    id uuid PRIMARY KEY,
    staff_id uuid NOT NULL REFERENCES staff (id),
    name text NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz,
    last_used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX api_tokens_by_staff ON api_tokens (staff_id);

CREATE TABLE persons (
    id uuid PRIMARY KEY,
    given_name text NOT NULL,
    family_name text NOT NULL,
    date_of_birth date NOT NULL,
    nhs_number text UNIQUE,
    local_identifier text UNIQUE,
    capacity text NOT NULL,
    created_at timestamptz NOT NULL,
    created_by uuid NOT NULL REFERENCES staff (id),
    CHECK (nhs_number IS NOT NULL OR local_identifier IS NOT NULL)
);
CREATE INDEX persons_by_name ON persons (family_name, given_name);

CREATE TABLE representatives (
    id uuid PRIMARY KEY,
    person_id uuid NOT NULL REFERENCES persons (id),
    name text NOT NULL,
    kind text NOT NULL,
    contact text,
    created_at timestamptz NOT NULL,
    created_by uuid NOT NULL REFERENCES staff (id)
);
CREATE INDEX representatives_by_person ON representatives (person_id);

CREATE TABLE courses (
    id uuid PRIMARY KEY,
    service text NOT NULL,
    title text NOT NULL,
    created_at timestamptz NOT NULL,
    created_by uuid NOT NULL REFERENCES staff (id)
);

CREATE TABLE sessions (
    id uuid PRIMARY KEY,
    kind text NOT NULL,
    personal_meeting_kind text,
    service text NOT NULL,
    course_id uuid REFERENCES courses (id),
    title text NOT NULL,
    starts_at timestamptz NOT NULL,
    attendees_informed_at timestamptz,
    created_at timestamptz NOT NULL,
    created_by uuid NOT NULL REFERENCES staff (id)
);
CREATE INDEX sessions_by_course ON sessions (course_id);
CREATE INDEX sessions_by_start ON sessions (starts_at);

CREATE TABLE session_participants (
    session_id uuid NOT NULL REFERENCES sessions (id),
    person_id uuid NOT NULL REFERENCES persons (id),
    PRIMARY KEY (session_id, person_id)
);
CREATE INDEX session_participants_by_person ON session_participants (person_id);

CREATE TABLE recordings (
    id uuid PRIMARY KEY,
    kind text NOT NULL,
    service text NOT NULL,
    session_id uuid REFERENCES sessions (id),
    made_by uuid NOT NULL REFERENCES staff (id),
    device text NOT NULL,
    made_at timestamptz NOT NULL,
    captured_at timestamptz NOT NULL,
    location text NOT NULL,
    source_id uuid REFERENCES recordings (id),
    original_id uuid REFERENCES recordings (id),
    derivation_kind text,
    de_identified boolean NOT NULL,
    derivation_method text,
    registered_at timestamptz NOT NULL,
    registered_by uuid NOT NULL REFERENCES staff (id)
);
CREATE INDEX recordings_by_session ON recordings (session_id);
CREATE INDEX recordings_by_source ON recordings (source_id);

CREATE TABLE recording_subjects (
    recording_id uuid NOT NULL REFERENCES recordings (id),
    person_id uuid NOT NULL REFERENCES persons (id),
    PRIMARY KEY (recording_id, person_id)
);
CREATE INDEX recording_subjects_by_person ON recording_subjects (person_id);

CREATE TABLE recording_purposes (
    recording_id uuid NOT NULL REFERENCES recordings (id),
    purpose text NOT NULL,
    PRIMARY KEY (recording_id, purpose)
);

CREATE TABLE recording_removed_persons (
    recording_id uuid NOT NULL REFERENCES recordings (id),
    person_id uuid NOT NULL REFERENCES persons (id),
    PRIMARY KEY (recording_id, person_id)
);

CREATE TABLE consents (
    id uuid PRIMARY KEY,
    person_id uuid NOT NULL REFERENCES persons (id),
    answer text NOT NULL,
    giver_kind text NOT NULL,
    representative_id uuid REFERENCES representatives (id),
    capacity_assessed_on date,
    capacity_assessed_by text,
    capacity_decision text,
    best_interest_note text,
    scope_kind text NOT NULL,
    scope_service text,
    scope_course_id uuid REFERENCES courses (id),
    scope_session_id uuid REFERENCES sessions (id),
    scope_recording_id uuid REFERENCES recordings (id),
    signed_at timestamptz NOT NULL,
    signature_method text NOT NULL,
    signed_by text NOT NULL,
    signature_witness text,
    representatives_may_have_copies boolean NOT NULL,
    research_study text,
    research_ethics_reference text,
    notes text,
    recorded_at timestamptz NOT NULL,
    recorded_by uuid NOT NULL REFERENCES staff (id)
);
CREATE INDEX consents_by_person ON consents (person_id);

CREATE TABLE consent_purposes (
    consent_id uuid NOT NULL REFERENCES consents (id),
    purpose text NOT NULL,
    PRIMARY KEY (consent_id, purpose)
);

CREATE TABLE withdrawals (
    id uuid PRIMARY KEY,
    consent_id uuid NOT NULL REFERENCES consents (id),
    person_id uuid NOT NULL REFERENCES persons (id),
    at timestamptz NOT NULL,
    withdrawn_by_kind text NOT NULL,
    had_capacity boolean,
    representative_id uuid REFERENCES representatives (id),
    existing_recordings text NOT NULL,
    note text,
    recorded_at timestamptz NOT NULL,
    recorded_by uuid NOT NULL REFERENCES staff (id)
);
CREATE INDEX withdrawals_by_person ON withdrawals (person_id);
CREATE INDEX withdrawals_by_consent ON withdrawals (consent_id);

CREATE TABLE withdrawal_purposes (
    withdrawal_id uuid NOT NULL REFERENCES withdrawals (id),
    purpose text NOT NULL,
    PRIMARY KEY (withdrawal_id, purpose)
);

CREATE TABLE confirmations (
    id uuid PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES sessions (id),
    person_id uuid NOT NULL REFERENCES persons (id),
    willing boolean NOT NULL,
    at timestamptz NOT NULL,
    confirmed_by_kind text NOT NULL,
    representative_id uuid REFERENCES representatives (id),
    note text,
    recorded_at timestamptz NOT NULL,
    recorded_by uuid NOT NULL REFERENCES staff (id)
);
CREATE INDEX confirmations_by_session ON confirmations (session_id);

CREATE TABLE session_stops (
    id uuid PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES sessions (id),
    at timestamptz NOT NULL,
    choice text NOT NULL,
    requested_by uuid REFERENCES persons (id),
    note text,
    recorded_at timestamptz NOT NULL,
    recorded_by uuid NOT NULL REFERENCES staff (id)
);
CREATE INDEX session_stops_by_session ON session_stops (session_id);

-- The audit trail. Person and recording ids are not foreign keys: the trail must outlive what it describes.
CREATE TABLE audit_events (
    seq bigint PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    at timestamptz NOT NULL,
    actor_kind text NOT NULL,
    actor_id uuid,
    action text NOT NULL,
    person_id uuid,
    recording_id uuid,
    outcome text NOT NULL,
    detail text NOT NULL,
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL
);
CREATE INDEX audit_events_by_person ON audit_events (person_id) WHERE person_id IS NOT NULL;
CREATE INDEX audit_events_by_recording ON audit_events (recording_id) WHERE recording_id IS NOT NULL;

-- The end of the chain, updated with every append; appending locks it, so events are numbered in commit order.
CREATE TABLE audit_head (
    id integer PRIMARY KEY CHECK (id = 1),
    seq bigint NOT NULL,
    hash bytea NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));

CREATE FUNCTION audit_events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END;
$$;

-- The head always names the last event appended, whoever appends it.
CREATE FUNCTION audit_head_follows_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE audit_head SET hash = NEW.hash WHERE id = 1;
    RETURN NEW;
END;
$$;

CREATE TRIGGER audit_head_follows_events AFTER INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_head_follows_events();

CREATE TRIGGER audit_events_are_never_updated BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_are_append_only();

CREATE TRIGGER audit_events_are_never_deleted BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_are_append_only();

CREATE TRIGGER audit_events_are_never_truncated BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_are_append_only();
