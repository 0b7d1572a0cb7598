-- Single sign-on (OpenID Connect). An administrator links an account to the provider's subject
-- (`sub`), which is unique only together with the provider's issuer; unlinked accounts sign in
-- with their password only.
ALTER TABLE staff ADD COLUMN sso_issuer TEXT;
ALTER TABLE staff ADD COLUMN sso_subject TEXT;
CREATE UNIQUE INDEX staff_by_sso_subject ON staff (sso_issuer, sso_subject);

-- Sign-ins started at the provider and not yet finished, found by the hash of a random value in
-- the browser's cookie: each is used once, and only by the browser that started it.
CREATE TABLE sso_logins (
    browser_hash BLOB PRIMARY KEY,
    state TEXT NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    return_to TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX sso_logins_by_expiry ON sso_logins (expires_at);
