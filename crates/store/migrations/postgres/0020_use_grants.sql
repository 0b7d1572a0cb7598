-- Grants to use a recording's content (issue 19, X1): the first request for a recording's media
-- names a purpose and is decided (access and consent); a grant then lets that member of staff's
-- byte-range requests for that recording and purpose through for a few minutes without a new
-- decision. A change that could turn the answer (a withdrawal, a refusal, a stop, a destruction,
-- an access change) revokes the grants it concerns in its own transaction, so every server sees
-- it on the next request. Only the secret's SHA-256 is kept.
CREATE TABLE use_grants (
    id uuid PRIMARY KEY,
    token_hash bytea NOT NULL UNIQUE,
    staff_id uuid NOT NULL REFERENCES staff (id),
    recording_id uuid NOT NULL REFERENCES recordings (id),
    purpose text NOT NULL,
    study text,
    issued_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    revoked_because text
);
CREATE INDEX use_grants_by_recording ON use_grants (recording_id);
CREATE INDEX use_grants_by_staff ON use_grants (staff_id);
CREATE INDEX use_grants_by_expiry ON use_grants (expires_at);

-- The people whose consent and access a grant rested on: a change about any of them revokes it.
CREATE TABLE use_grant_persons (
    person_id uuid NOT NULL REFERENCES persons (id),
    grant_id uuid NOT NULL REFERENCES use_grants (id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, grant_id)
);
CREATE INDEX use_grant_persons_by_grant ON use_grant_persons (grant_id);
