-- Physical media (D9): tapes, discs, USB sticks and prints holding recordings, and, once, the
-- record of their destruction: how, who did it, who saw it, when, the certificate, who recorded it.
CREATE TABLE physical_media (
    id uuid PRIMARY KEY,
    kind text NOT NULL,
    description text,
    label text NOT NULL,
    location text NOT NULL,
    registered_by uuid NOT NULL REFERENCES staff (id),
    registered_at timestamptz NOT NULL,
    destruction_method text,
    destroyed_by text,
    witness text,
    destroyed_at timestamptz,
    certificate text,
    destruction_recorded_by uuid REFERENCES staff (id),
    destruction_recorded_at timestamptz
);

CREATE TABLE physical_media_recordings (
    medium_id uuid NOT NULL REFERENCES physical_media (id),
    recording_id uuid NOT NULL REFERENCES recordings (id),
    PRIMARY KEY (medium_id, recording_id)
);
CREATE INDEX physical_media_recordings_by_recording ON physical_media_recordings (recording_id);
