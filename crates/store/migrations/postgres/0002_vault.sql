-- The media vault: where each recording's encrypted media is, its fingerprint and its wrapped
-- content key; destructions with their signed certificates; and the vault's own settings.

CREATE TABLE recording_media (
    recording_id uuid PRIMARY KEY REFERENCES recordings (id),
    object_key text NOT NULL UNIQUE,
    content_type text NOT NULL,
    size bigint NOT NULL,
    sha256 bytea NOT NULL,
    -- The recording's content key, encrypted to the key-encryption key; NULL once destroyed.
    wrapped_key bytea,
    filename text,
    stored_at timestamptz NOT NULL,
    stored_by uuid NOT NULL REFERENCES staff (id)
);

CREATE TABLE destructions (
    recording_id uuid PRIMARY KEY REFERENCES recordings (id),
    destroyed_at timestamptz NOT NULL,
    destroyed_by uuid NOT NULL REFERENCES staff (id),
    reason text NOT NULL,
    rule text NOT NULL,
    certificate text NOT NULL
);

CREATE TABLE vault_settings (
    name text PRIMARY KEY,
    value bytea NOT NULL
);
