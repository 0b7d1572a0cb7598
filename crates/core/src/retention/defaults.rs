//! The shipped retention schedule: the NHS Records Management Code of Practice 2021 rows that apply, and the policies' own rules.

use crate::purpose::{Purpose, PurposeSet};
use crate::retention::period::RetentionPeriod;
use crate::retention::rule::{DisposalAction, RecordCategory, RetentionRule, RuleId, RuleSource};
use crate::retention::trigger::Trigger;

const CODE: &str = "NHS Records Management Code of Practice 2021, Appendix II";

/// The optional purposes (purpose B of the council procedure): what D3 calls non-essential.
const NON_ESSENTIAL: [Purpose; 6] = [
    Purpose::Activities,
    Purpose::Outings,
    Purpose::FamilyAndVisitors,
    Purpose::Newsletters,
    Purpose::AwardEntries,
    Purpose::SocialMedia,
];

/// The rules Custodian ships with. Rows from the Code come first: they set how long a care
/// record must at least be kept. `docs/retention.md` explains each row and how they combine.
pub(crate) fn shipped_rules() -> Vec<RetentionRule> {
    let every_category = RecordCategory::ALL.to_vec();
    let all_but = |left_out: &[Purpose]| -> PurposeSet {
        Purpose::ALL
            .iter()
            .copied()
            .filter(|p| !left_out.contains(p))
            .collect()
    };
    let non_essential: PurposeSet = NON_ESSENTIAL.into_iter().collect();
    let teaching_and_training: PurposeSet = [Purpose::Teaching, Purpose::SupervisionAndTraining]
        .into_iter()
        .collect();
    vec![
        code_row(
            "rm-adult-care",
            RecordCategory::AdultCare,
            Trigger::EndOfCare,
            8,
            "adult health and social care records: 8 years after the conclusion of treatment or care, or after death",
        ),
        code_row(
            "rm-children",
            RecordCategory::Children,
            Trigger::ChildhoodBirthday,
            0,
            "children's records: until the 25th birthday, or the 26th if the young person was 17 at the conclusion of treatment",
        ),
        code_row(
            "rm-children-death",
            RecordCategory::Children,
            Trigger::Death,
            8,
            "children's records: or 8 years after death",
        ),
        code_row(
            "rm-mental-health",
            RecordCategory::MentalHealth,
            Trigger::EndOfCare,
            20,
            "mental health records: 20 years after no further treatment is considered necessary",
        ),
        code_row(
            "rm-mental-health-death",
            RecordCategory::MentalHealth,
            Trigger::Death,
            10,
            "mental health records: or 10 years after the patient's death, if sooner",
        ),
        rule(
            "rm-content-in-care-record",
            every_category,
            PurposeSet::EMPTY,
            Trigger::TranscriptMade,
            0,
            DisposalAction::Destroy,
            "NHS Records Management Code of Practice 2021: a recording whose content is transcribed or summarised into the care record need not be kept once that is done; 001 §6.2 (D5)",
        ),
        purpose_rule(
            "d1-identification-superseded",
            PurposeSet::only(Purpose::Identification),
            Trigger::Superseded,
            0,
            DisposalAction::Destroy,
            "000 Retention §1 (D1): only the current identification recording is kept",
        ),
        purpose_rule(
            "d1-identification-with-file",
            PurposeSet::only(Purpose::Identification),
            Trigger::EndOfCare,
            8,
            DisposalAction::Review,
            "000 Retention §1 (D1): the current identification recording is kept as long as the person's file (the adult record's 8 years unless changed)",
        ),
        purpose_rule(
            "d4-clinical-with-care-record",
            PurposeSet::only(Purpose::Clinical),
            Trigger::EndOfCare,
            8,
            DisposalAction::Review,
            "001 §6.2 (D4): clinical recordings are part of the clinical record and follow the Code's schedule; 8 years after care for an adult, longer where the record category says so",
        ),
        purpose_rule(
            "d5-transcript",
            PurposeSet::only(Purpose::Clinical),
            Trigger::TranscriptMade,
            0,
            DisposalAction::Destroy,
            "001 §6.2 (D5): when a transcript is made for clinical purposes the recording should be deleted",
        ),
        purpose_rule(
            "d6-deletion-on-request",
            all_but(&[Purpose::Identification]),
            Trigger::DeletionRequested,
            0,
            DisposalAction::Destroy,
            "001 §6.2 (D6): the recording may be deleted after an episode of care if the person requests or consents to it",
        ),
        purpose_rule(
            "d2-yearly-review",
            all_but(&[Purpose::Identification, Purpose::Clinical]),
            Trigger::Created,
            1,
            DisposalAction::Review,
            "000 Retention §1–2 (D2): recordings for other purposes are destroyed once no longer relevant, so each has a review date (yearly unless changed)",
        ),
        purpose_rule(
            "d2-no-longer-relevant",
            all_but(&[
                Purpose::Identification,
                Purpose::Teaching,
                Purpose::SupervisionAndTraining,
            ]),
            Trigger::NoLongerRelevant,
            0,
            DisposalAction::Destroy,
            "000 Retention §1–2 (D2): recordings for other purposes are destroyed once no longer relevant",
        ),
        purpose_rule(
            "d8-clinician-discretion",
            teaching_and_training,
            Trigger::NoLongerRelevant,
            0,
            DisposalAction::Destroy,
            "001 §6.2 (D8): recordings for teaching, training and supervision may be erased at the clinician's discretion",
        ),
        purpose_rule(
            "d3-left-service",
            non_essential,
            Trigger::LeftService,
            0,
            DisposalAction::Destroy,
            "000 Retention §3 (D3): when the person leaves the service, recordings no longer relevant are deleted",
        ),
    ]
}

fn code_row(
    id: &'static str,
    category: RecordCategory,
    trigger: Trigger,
    years: u16,
    row: &'static str,
) -> RetentionRule {
    RetentionRule {
        id: RuleId::shipped(id),
        categories: vec![category],
        purposes: PurposeSet::EMPTY,
        period: RetentionPeriod::years(years),
        trigger,
        action: DisposalAction::Review,
        source: RuleSource::shipped_owned(format!("{CODE}, {row}")),
    }
}

fn purpose_rule(
    id: &'static str,
    purposes: PurposeSet,
    trigger: Trigger,
    years: u16,
    action: DisposalAction,
    source: &'static str,
) -> RetentionRule {
    rule(id, Vec::new(), purposes, trigger, years, action, source)
}

fn rule(
    id: &'static str,
    categories: Vec<RecordCategory>,
    purposes: PurposeSet,
    trigger: Trigger,
    years: u16,
    action: DisposalAction,
    source: &'static str,
) -> RetentionRule {
    RetentionRule {
        id: RuleId::shipped(id),
        categories,
        purposes,
        period: RetentionPeriod::years(years),
        trigger,
        action,
        source: RuleSource::shipped_owned(source.to_owned()),
    }
}
