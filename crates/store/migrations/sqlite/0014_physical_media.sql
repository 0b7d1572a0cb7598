-- Physical media (D9): tapes, discs, USB sticks and prints holding recordings, and, once, the
-- record of their destruction: how, who did it, who saw it, when, the certificate, who recorded it.
CREATE TABLE physical_media (
    id BLOB PRIMARY KEY,
    kind TEXT NOT NULL,
    description TEXT,
    label TEXT NOT NULL,
    location TEXT NOT NULL,
    registered_by BLOB NOT NULL REFERENCES staff (id),
    registered_at TEXT NOT NULL,
    destruction_method TEXT,
    destroyed_by TEXT,
    witness TEXT,
    destroyed_at TEXT,
    certificate TEXT,
    destruction_recorded_by BLOB REFERENCES staff (id),
    destruction_recorded_at TEXT
) STRICT;

CREATE TABLE physical_media_recordings (
    medium_id BLOB NOT NULL REFERENCES physical_media (id),
    recording_id BLOB NOT NULL REFERENCES recordings (id),
    PRIMARY KEY (medium_id, recording_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX physical_media_recordings_by_recording ON physical_media_recordings (recording_id);
