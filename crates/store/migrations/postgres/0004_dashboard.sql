-- What the staff dashboard asks: today's sessions of one member of staff, their recordings whose
-- media never arrived, and recent integrity failures, each without scanning a whole table.
CREATE INDEX sessions_by_creator ON sessions (created_by, starts_at);
CREATE INDEX recordings_by_maker ON recordings (made_by, made_at);
CREATE INDEX audit_events_integrity_failures ON audit_events (at) WHERE action = 'media.integrity_failed';
