-- Access control (issue 5): roles and services of staff, the services caring for each person,
-- personal connections (S3), emergency access, and the organisation's own access policies.

CREATE TABLE staff_roles (
    staff_id BLOB NOT NULL REFERENCES staff (id),
    role TEXT NOT NULL,
    PRIMARY KEY (staff_id, role)
) STRICT, WITHOUT ROWID;

CREATE TABLE staff_services (
    staff_id BLOB NOT NULL REFERENCES staff (id),
    service TEXT NOT NULL,
    PRIMARY KEY (staff_id, service)
) STRICT, WITHOUT ROWID;

-- Which services care for a person: their staff see the person by default (S2).
CREATE TABLE person_services (
    person_id BLOB NOT NULL REFERENCES persons (id),
    service TEXT NOT NULL,
    added_at TEXT NOT NULL,
    added_by BLOB NOT NULL REFERENCES staff (id),
    PRIMARY KEY (person_id, service)
) STRICT, WITHOUT ROWID;

-- A member of staff's declared connection to a person: they are refused that person (S3).
CREATE TABLE personal_connections (
    id BLOB PRIMARY KEY,
    staff_id BLOB NOT NULL REFERENCES staff (id),
    person_id BLOB NOT NULL REFERENCES persons (id),
    kind TEXT NOT NULL,
    declared_at TEXT NOT NULL,
    UNIQUE (staff_id, person_id)
) STRICT;

-- Emergency ("break-glass") access: a reason, a time limit, and the IG lead's acknowledgement.
CREATE TABLE emergency_access (
    id BLOB PRIMARY KEY,
    staff_id BLOB NOT NULL REFERENCES staff (id),
    person_id BLOB NOT NULL REFERENCES persons (id),
    reason TEXT NOT NULL,
    connected INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    reviewed_at TEXT,
    reviewed_by BLOB REFERENCES staff (id)
) STRICT;
CREATE INDEX emergency_access_by_staff ON emergency_access (staff_id, person_id, ends_at);
CREATE INDEX emergency_access_to_review ON emergency_access (started_at) WHERE reviewed_at IS NULL;

-- The organisation's own access policies in Cedar, beside the shipped ones (X6).
CREATE TABLE local_policies (
    name TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    changed_by BLOB NOT NULL REFERENCES staff (id)
) STRICT;

-- Refused attempts by time, for the refusal report (S5).
CREATE INDEX audit_events_refusals ON audit_events (at) WHERE action = 'access.refused';

-- Existing accounts keep what they could do: administrators administer, everyone else is a
-- practitioner in one service that cares for everyone already registered.
INSERT INTO staff_roles (staff_id, role)
SELECT id, CASE WHEN is_administrator THEN 'administrator' ELSE 'practitioner' END FROM staff;
INSERT INTO staff_services (staff_id, service) SELECT id, 'GENERAL' FROM staff WHERE NOT is_administrator;
INSERT INTO person_services (person_id, service, added_at, added_by)
SELECT id, 'GENERAL', created_at, created_by FROM persons;
ALTER TABLE staff DROP COLUMN is_administrator;
