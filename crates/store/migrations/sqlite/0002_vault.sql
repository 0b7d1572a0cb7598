-- The media vault: where each recording's encrypted media is, its fingerprint and its wrapped
-- content key; destructions with their signed certificates; and the vault's own settings.

CREATE TABLE recording_media (
    recording_id BLOB PRIMARY KEY REFERENCES recordings (id),
    object_key TEXT NOT NULL UNIQUE,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 BLOB NOT NULL,
    -- The recording's content key, encrypted to the key-encryption key; NULL once destroyed.
    wrapped_key BLOB,
    filename TEXT,
    stored_at TEXT NOT NULL,
    stored_by BLOB NOT NULL REFERENCES staff (id)
) STRICT;

CREATE TABLE destructions (
    recording_id BLOB PRIMARY KEY REFERENCES recordings (id),
    destroyed_at TEXT NOT NULL,
    destroyed_by BLOB NOT NULL REFERENCES staff (id),
    reason TEXT NOT NULL,
    rule TEXT NOT NULL,
    certificate TEXT NOT NULL
) STRICT;

CREATE TABLE vault_settings (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;
