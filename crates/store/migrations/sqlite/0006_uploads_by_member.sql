-- The dashboard's uploads still waiting for the capture device's copy to be confirmed deleted
-- (R8): one member of staff's recent uploads, found without reading every stored media row.
CREATE INDEX recording_media_by_uploader ON recording_media (stored_by, stored_at);
