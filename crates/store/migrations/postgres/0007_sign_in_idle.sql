-- When each sign-in was last used, so an idle one ends after 30 minutes (ASVS 3.3.2); NULL means
-- not since it began.
ALTER TABLE staff_sessions ADD COLUMN last_seen_at timestamptz;
