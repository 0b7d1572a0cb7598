-- Retention, disposal and legal holds (D2–D10). The rules themselves live in the code
-- (`custodian_core::retention`); the register keeps the facts they need that it did not have,
-- each recording's disposal state as last worked out (so the queue is a query), reviews,
-- tasks, changes to the schedule's periods, and when the sweeper last ran.

-- Legal holds (D7): a matter, who placed it and when, and, once, who lifted it and why.
CREATE TABLE legal_holds (
    id uuid PRIMARY KEY,
    matter_kind text NOT NULL,
    matter_reference text NOT NULL,
    placed_at timestamptz NOT NULL,
    placed_by uuid NOT NULL REFERENCES staff (id),
    lifted_at timestamptz,
    lifted_by uuid REFERENCES staff (id),
    lifted_reason text
);

CREATE TABLE legal_hold_recordings (
    hold_id uuid NOT NULL REFERENCES legal_holds (id),
    recording_id uuid NOT NULL REFERENCES recordings (id),
    PRIMARY KEY (hold_id, recording_id)
);
CREATE INDEX legal_hold_recordings_by_recording ON legal_hold_recordings (recording_id);

CREATE TABLE legal_hold_persons (
    hold_id uuid NOT NULL REFERENCES legal_holds (id),
    person_id uuid NOT NULL REFERENCES persons (id),
    PRIMARY KEY (hold_id, person_id)
);
CREATE INDEX legal_hold_persons_by_person ON legal_hold_persons (person_id);

-- What retention needs to know about a person that the register lacked (D3, D4, D6).
CREATE TABLE person_retention (
    person_id uuid PRIMARY KEY REFERENCES persons (id),
    care_ended_on date,
    died_on date,
    left_service_on date,
    deletion_requested_on date
);

-- What retention needs to know about a recording, and its disposal state as last worked out:
-- the date it is due (none while waiting for a trigger), the action, the rule that governs
-- it, the reason in words, and the whole state as JSON for the API.
CREATE TABLE recording_retention (
    recording_id uuid PRIMARY KEY REFERENCES recordings (id),
    record_category text,
    transcript_made_on date,
    found_no_longer_relevant_on date,
    superseded_on date,
    published_online boolean NOT NULL,
    due_on date,
    action text NOT NULL,
    governing_rule text,
    reason text NOT NULL,
    state text NOT NULL,
    computed_at timestamptz NOT NULL,
    -- The due date a notice was last recorded for, so the sweeper tells once, not daily.
    noticed_due_on date
);
CREATE INDEX recording_retention_by_due ON recording_retention (due_on);

-- A records manager's review of a recording that came due (D2): approved, or extended to a
-- later date with a reason. An approval is carried out (destroyed) at most once.
CREATE TABLE disposal_reviews (
    id uuid PRIMARY KEY,
    recording_id uuid NOT NULL REFERENCES recordings (id),
    outcome text NOT NULL,
    action text NOT NULL,
    reason text NOT NULL,
    extended_until date,
    reviewed_by uuid NOT NULL REFERENCES staff (id),
    reviewed_at timestamptz NOT NULL,
    carried_out_at timestamptz
);
CREATE INDEX disposal_reviews_by_recording ON disposal_reviews (recording_id);

-- Work a disposal state asks for besides the disposal itself: carrying out the person's
-- choice on withdrawal (C8), taking a published recording down (D10).
CREATE TABLE disposal_tasks (
    recording_id uuid NOT NULL REFERENCES recordings (id),
    task text NOT NULL,
    detail text NOT NULL,
    raised_at timestamptz NOT NULL,
    done_at timestamptz,
    PRIMARY KEY (recording_id, task)
);

-- Changes to the schedule's periods, in order: the schedule in force is the shipped one with
-- these applied. Each is audited as well, with before and after.
CREATE TABLE retention_period_changes (
    seq bigint PRIMARY KEY,
    rule text NOT NULL,
    years bigint NOT NULL,
    months bigint NOT NULL,
    days bigint NOT NULL,
    changed_by uuid NOT NULL REFERENCES staff (id),
    changed_at timestamptz NOT NULL
);

-- One row: when the sweeper last ran. Sweeps lock it, so two servers never sweep at once.
CREATE TABLE retention_sweeps (
    id bigint PRIMARY KEY,
    last_sweep_at timestamptz
);
INSERT INTO retention_sweeps (id, last_sweep_at) VALUES (1, NULL);
