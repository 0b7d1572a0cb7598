-- Wrong passwords per account, so repeated guessing locks the account for a while (ASVS 2.2.1).
-- Forgotten once the member of staff signs in.
CREATE TABLE sign_in_failures (
    staff_id BLOB NOT NULL REFERENCES staff (id),
    at TEXT NOT NULL
) STRICT;
CREATE INDEX sign_in_failures_by_staff ON sign_in_failures (staff_id, at);
