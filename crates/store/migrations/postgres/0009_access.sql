-- Access control (issue 5): roles and services of staff, the services caring for each person,
-- personal connections (S3), emergency access, and the organisation's own access policies.

CREATE TABLE staff_roles (
    staff_id uuid NOT NULL REFERENCES staff (id),
    role text NOT NULL,
    PRIMARY KEY (staff_id, role)
);

CREATE TABLE staff_services (
    staff_id uuid NOT NULL REFERENCES staff (id),
    service text NOT NULL,
    PRIMARY KEY (staff_id, service)
);

-- Which services care for a person: their staff see the person by default (S2).
CREATE TABLE person_services (
    person_id uuid NOT NULL REFERENCES persons (id),
    service text NOT NULL,
    added_at timestamptz NOT NULL,
    added_by uuid NOT NULL REFERENCES staff (id),
    PRIMARY KEY (person_id, service)
);

-- A member of staff's declared connection to a person: they are refused that person (S3).
CREATE TABLE personal_connections (
    id uuid PRIMARY KEY,
    staff_id uuid NOT NULL REFERENCES staff (id),
    person_id uuid NOT NULL REFERENCES persons (id),
    kind text NOT NULL,
    declared_at timestamptz NOT NULL,
    UNIQUE (staff_id, person_id)
);

-- Emergency ("break-glass") access: a reason, a time limit, and the IG lead's acknowledgement.
CREATE TABLE emergency_access (
    id uuid PRIMARY KEY,
    staff_id uuid NOT NULL REFERENCES staff (id),
    person_id uuid NOT NULL REFERENCES persons (id),
    reason text NOT NULL,
    connected boolean NOT NULL,
    started_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    reviewed_at timestamptz,
    reviewed_by uuid REFERENCES staff (id)
);
CREATE INDEX emergency_access_by_staff ON emergency_access (staff_id, person_id, ends_at);
CREATE INDEX emergency_access_to_review ON emergency_access (started_at) WHERE reviewed_at IS NULL;

-- The organisation's own access policies in Cedar, beside the shipped ones (X6).
CREATE TABLE local_policies (
    name text PRIMARY KEY,
    text text NOT NULL,
    changed_at timestamptz NOT NULL,
    changed_by uuid NOT NULL REFERENCES staff (id)
);

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
