-- Wrong sign-ins under names no account has, so an unknown name locks after as many tries as a
-- real one and the answer does not tell which names exist (ASVS 2.2.1). The name is kept only as
-- its SHA-256 digest: a password typed into the name box must not be stored. Forgotten after the
-- lockout's span.
CREATE TABLE unknown_sign_in_failures (
    name_digest BLOB NOT NULL,
    at TEXT NOT NULL
) STRICT;
CREATE INDEX unknown_sign_in_failures_by_name ON unknown_sign_in_failures (name_digest, at);
