-- Who marked a disposal task done (a withdrawal's choice carried out, a take-down made), beside
-- `done_at`: a task is done once, and the register says by whom.
ALTER TABLE disposal_tasks ADD COLUMN done_by BLOB REFERENCES staff (id);
