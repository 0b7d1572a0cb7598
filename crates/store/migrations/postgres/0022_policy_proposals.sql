-- Changes to the organisation's own access policies wait here until a second person (an
-- information-governance lead) approves them: one administrator alone cannot change who may see
-- what. One proposal per policy name; a text of NULL proposes removing the policy.
CREATE TABLE policy_proposals (
    name text PRIMARY KEY,
    text text,
    proposed_at timestamptz NOT NULL,
    proposed_by uuid NOT NULL REFERENCES staff (id)
);
