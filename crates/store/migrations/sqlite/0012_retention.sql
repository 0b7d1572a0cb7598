-- Retention, disposal and legal holds (D2–D10). The rules themselves live in the code
-- (`custodian_core::retention`); the register keeps the facts they need that it did not have,
-- each recording's disposal state as last worked out (so the queue is a query), reviews,
-- tasks, changes to the schedule's periods, and when the sweeper last ran.

-- Legal holds (D7): a matter, who placed it and when, and, once, who lifted it and why.
CREATE TABLE legal_holds (
    id BLOB PRIMARY KEY,
    matter_kind TEXT NOT NULL,
    matter_reference TEXT NOT NULL,
    placed_at TEXT NOT NULL,
    placed_by BLOB NOT NULL REFERENCES staff (id),
    lifted_at TEXT,
    lifted_by BLOB REFERENCES staff (id),
    lifted_reason TEXT
) STRICT;

CREATE TABLE legal_hold_recordings (
    hold_id BLOB NOT NULL REFERENCES legal_holds (id),
    recording_id BLOB NOT NULL REFERENCES recordings (id),
    PRIMARY KEY (hold_id, recording_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX legal_hold_recordings_by_recording ON legal_hold_recordings (recording_id);

CREATE TABLE legal_hold_persons (
    hold_id BLOB NOT NULL REFERENCES legal_holds (id),
    person_id BLOB NOT NULL REFERENCES persons (id),
    PRIMARY KEY (hold_id, person_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX legal_hold_persons_by_person ON legal_hold_persons (person_id);

-- What retention needs to know about a person that the register lacked (D3, D4, D6).
CREATE TABLE person_retention (
    person_id BLOB PRIMARY KEY REFERENCES persons (id),
    care_ended_on TEXT,
    died_on TEXT,
    left_service_on TEXT,
    deletion_requested_on TEXT
) STRICT;

-- What retention needs to know about a recording, and its disposal state as last worked out:
-- the date it is due (none while waiting for a trigger), the action, the rule that governs
-- it, the reason in words, and the whole state as JSON for the API.
CREATE TABLE recording_retention (
    recording_id BLOB PRIMARY KEY REFERENCES recordings (id),
    record_category TEXT,
    transcript_made_on TEXT,
    found_no_longer_relevant_on TEXT,
    superseded_on TEXT,
    published_online INTEGER NOT NULL,
    due_on TEXT,
    action TEXT NOT NULL,
    governing_rule TEXT,
    reason TEXT NOT NULL,
    state TEXT NOT NULL,
    computed_at TEXT NOT NULL,
    -- The due date a notice was last recorded for, so the sweeper tells once, not daily.
    noticed_due_on TEXT
) STRICT;
CREATE INDEX recording_retention_by_due ON recording_retention (due_on);

-- A records manager's review of a recording that came due (D2): approved, or extended to a
-- later date with a reason. An approval is carried out (destroyed) at most once.
CREATE TABLE disposal_reviews (
    id BLOB PRIMARY KEY,
    recording_id BLOB NOT NULL REFERENCES recordings (id),
    outcome TEXT NOT NULL,
    action TEXT NOT NULL,
    reason TEXT NOT NULL,
    extended_until TEXT,
    reviewed_by BLOB NOT NULL REFERENCES staff (id),
    reviewed_at TEXT NOT NULL,
    carried_out_at TEXT
) STRICT;
CREATE INDEX disposal_reviews_by_recording ON disposal_reviews (recording_id);

-- Work a disposal state asks for besides the disposal itself: carrying out the person's
-- choice on withdrawal (C8), taking a published recording down (D10).
CREATE TABLE disposal_tasks (
    recording_id BLOB NOT NULL REFERENCES recordings (id),
    task TEXT NOT NULL,
    detail TEXT NOT NULL,
    raised_at TEXT NOT NULL,
    done_at TEXT,
    PRIMARY KEY (recording_id, task)
) STRICT, WITHOUT ROWID;

-- Changes to the schedule's periods, in order: the schedule in force is the shipped one with
-- these applied. Each is audited as well, with before and after.
CREATE TABLE retention_period_changes (
    seq INTEGER PRIMARY KEY,
    rule TEXT NOT NULL,
    years INTEGER NOT NULL,
    months INTEGER NOT NULL,
    days INTEGER NOT NULL,
    changed_by BLOB NOT NULL REFERENCES staff (id),
    changed_at TEXT NOT NULL
) STRICT;

-- One row: when the sweeper last ran. Sweeps lock it, so two servers never sweep at once.
CREATE TABLE retention_sweeps (
    id INTEGER PRIMARY KEY,
    last_sweep_at TEXT
) STRICT;
INSERT INTO retention_sweeps (id, last_sweep_at) VALUES (1, NULL);
