-- Time-based one-time passwords (RFC 6238) as a second factor (ASVS 2.7, 2.8).
-- The secret is kept sealed to the vault's key-encryption key, never in the clear; an account
-- counts as enrolled only once a code from its authenticator has been confirmed.
ALTER TABLE staff ADD COLUMN totp_enrolled_at timestamptz;

CREATE TABLE staff_totp (
    staff_id uuid PRIMARY KEY REFERENCES staff (id),
    sealed_secret bytea NOT NULL,
    created_at timestamptz NOT NULL
);

-- Each time-step whose code an account has used: a code is accepted once (ASVS 2.8.4).
CREATE TABLE totp_used_steps (
    staff_id uuid NOT NULL REFERENCES staff (id),
    step bigint NOT NULL,
    used_at timestamptz NOT NULL,
    PRIMARY KEY (staff_id, step)
);

-- Passwords given but codes not yet: a half sign-in, usable for nothing but the code step.
CREATE TABLE sign_in_pending (
    token_hash bytea PRIMARY KEY,
    staff_id uuid NOT NULL REFERENCES staff (id),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sign_in_pending_by_staff ON sign_in_pending (staff_id);
