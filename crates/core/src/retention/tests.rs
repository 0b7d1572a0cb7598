//! Scenario tests of the retention core, named after the requirement or Code row each proves.

use time::macros::{date, datetime};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::*;
use crate::consent::Disposition;
use crate::ids::{LegalHoldId, PersonId, RecordingId, StaffId};
use crate::purpose::{Purpose, PurposeSet};
use crate::text::Note;

/// When the scenarios' recordings were made.
pub(super) const MADE: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

pub(super) fn purposes(list: &[Purpose]) -> PurposeSet {
    list.iter().copied().collect()
}

pub(super) fn facts(list: &[Purpose]) -> RecordingFacts {
    RecordingFacts::new(MADE, purposes(list))
}

pub(super) fn noon(day: Date) -> OffsetDateTime {
    day.with_hms(12, 0, 0).unwrap().assume_utc()
}

pub(super) fn recording(n: u128) -> RecordingId {
    RecordingId::from_uuid(Uuid::from_u128(n))
}

pub(super) fn person(n: u128) -> PersonId {
    PersonId::from_uuid(Uuid::from_u128(0x1000 + n))
}

pub(super) fn records_manager() -> StaffId {
    StaffId::from_uuid(Uuid::from_u128(0xB0B))
}

pub(super) fn hold(
    n: u128,
    kind: MatterKind,
    recordings: &[RecordingId],
    persons: &[PersonId],
) -> LegalHold {
    LegalHold::new(
        LegalHoldId::from_uuid(Uuid::from_u128(0x4000 + n)),
        HoldForm {
            kind,
            reference: format!("REF-{n}"),
            recordings: recordings.to_vec(),
            persons: persons.to_vec(),
            placed_by: records_manager(),
            placed_at: MADE,
        },
        MADE,
    )
    .unwrap()
}

fn state(facts: &RecordingFacts, today: Date) -> DisposalState {
    disposal_state(&RetentionSchedule::default(), facts, noon(today))
}

fn governing_rule(state: &DisposalState) -> &str {
    match &state.governed_by {
        Governor::Rule { rule, .. } | Governor::Extension { rule, .. } => rule.as_str(),
        other => panic!("expected a rule to govern, got {other:?}"),
    }
}

fn note(text: &str) -> Note {
    Note::parse("reason", text).unwrap()
}

// The schedule.

#[test]
fn d4_the_shipped_schedule_is_valid_and_every_rule_names_its_source() {
    let shipped = RetentionSchedule::default();
    let checked = RetentionSchedule::new(shipped.rules().to_vec()).unwrap();
    assert_eq!(checked, shipped);
    for rule in shipped.rules() {
        let source = rule.source.as_str();
        assert!(
            source.starts_with("NHS Records Management Code of Practice 2021")
                || source.starts_with("000 ")
                || source.starts_with("001 "),
            "{}: {source}",
            rule.id
        );
    }
    let json = serde_json::to_string(&shipped).unwrap();
    let back: RetentionSchedule = serde_json::from_str(&json).unwrap();
    assert_eq!(back, shipped);
}

#[test]
fn d4_an_organisation_schedule_with_an_unknown_trigger_is_refused_with_a_clear_message() {
    let json = r#"{"rules":[{"id":"x","purposes":["clinical"],"period":{"years":8},
        "trigger":"discharge_party","action":"review","source":"local"}]}"#;
    let error = serde_json::from_str::<RetentionSchedule>(json).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("`discharge_party` is not a known retention trigger"),
        "{error}"
    );
    assert!(error.to_string().contains("end_of_care"), "{error}");
}

#[test]
fn d4_an_organisation_schedule_with_a_negative_period_names_the_rule() {
    let mut spec = ScheduleSpec::from(RetentionSchedule::default());
    spec.rules.iter_mut().for_each(|r| {
        if r.id == "rm-adult-care" {
            r.period.years = -8;
        }
    });
    let error = RetentionSchedule::parse(spec).unwrap_err();
    assert_eq!(error.code(), "retention.negative_period");
    assert!(error.to_string().contains("`rm-adult-care`"), "{error}");
}

#[test]
fn d4_duplicate_rule_ids_are_refused() {
    let mut rules = RetentionSchedule::default().rules().to_vec();
    rules.push(rules.first().unwrap().clone());
    let error = RetentionSchedule::new(rules).unwrap_err();
    assert_eq!(error.code(), "retention.duplicate_rule");
    assert!(error.to_string().contains("`rm-adult-care`"), "{error}");
}

#[test]
fn d2_a_purpose_without_a_rule_is_a_gap_and_is_refused() {
    let rules: Vec<RetentionRule> = RetentionSchedule::default()
        .rules()
        .iter()
        .map(|r| RetentionRule {
            purposes: r
                .purposes
                .iter()
                .filter(|p| *p != Purpose::Newsletters)
                .collect(),
            ..r.clone()
        })
        .filter(|r| !(r.purposes.is_empty() && r.categories.is_empty()))
        .collect();
    let error = RetentionSchedule::new(rules).unwrap_err();
    assert_eq!(error.code(), "retention.gap");
    assert_eq!(error.requirement(), Some(crate::Requirement::D2));
    assert!(
        error.to_string().contains("purpose `newsletters`"),
        "{error}"
    );
    let no_children: Vec<RetentionRule> = RetentionSchedule::default()
        .rules()
        .iter()
        .filter(|r| !r.covers_category(RecordCategory::Children))
        .cloned()
        .collect();
    let error = RetentionSchedule::new(no_children).unwrap_err();
    assert!(
        error.to_string().contains("record category `children`"),
        "{error}"
    );
}

#[test]
fn d4_changing_a_period_returns_what_changed_for_the_audit_trail() {
    let mut schedule = RetentionSchedule::default();
    let rule = RuleId::parse("d2-yearly-review").unwrap();
    let two_years = RetentionPeriod::new(
        "d2-yearly-review",
        PeriodSpec {
            years: 2,
            ..PeriodSpec::default()
        },
    )
    .unwrap();
    let change = schedule.change_period(&rule, two_years).unwrap().unwrap();
    assert_eq!(change.rule, rule);
    assert_eq!(change.from.to_string(), "1 year");
    assert_eq!(change.to.to_string(), "2 years");
    assert!(!change.shortens());
    assert_eq!(schedule.rule(&rule).unwrap().period, two_years);
    assert_eq!(
        schedule.change_period(&rule, two_years).unwrap(),
        None,
        "no change, nothing to audit"
    );
    let unknown = schedule
        .change_period(&RuleId::parse("d99-nothing").unwrap(), two_years)
        .unwrap_err();
    assert_eq!(unknown.code(), "retention.unknown_rule");
    assert!(unknown.to_string().contains("rm-adult-care"), "{unknown}");
    let changes = RetentionSchedule::default().changes_to(&schedule);
    assert_eq!(changes, vec![ScheduleChange::PeriodChanged(change)]);
    let back = schedule
        .change_period(&rule, RetentionPeriod::years(1))
        .unwrap()
        .unwrap();
    assert!(
        back.shortens(),
        "two years back to one keeps recordings for less time"
    );
}

#[test]
fn d4_loading_an_organisation_schedule_lists_every_change_from_the_shipped_one() {
    let shipped = RetentionSchedule::default();
    let mut spec = ScheduleSpec::from(shipped.clone());
    spec.rules.retain(|r| r.id != "d3-left-service");
    spec.rules.iter_mut().for_each(|r| {
        if r.id == "d3-left-service" || r.id == "d2-no-longer-relevant" {
            r.purposes.push("activities".to_owned());
        }
        if r.id == "d8-clinician-discretion" {
            r.action = "review".to_owned();
        }
    });
    spec.rules.push(RuleSpec {
        id: "local-research-archive".to_owned(),
        categories: Vec::new(),
        purposes: vec!["research".to_owned()],
        period: PeriodSpec {
            years: 5,
            ..PeriodSpec::default()
        },
        trigger: "created".to_owned(),
        action: "transfer_to_archive".to_owned(),
        source: "Trust research data policy §4".to_owned(),
    });
    let local = RetentionSchedule::parse(spec).unwrap();
    let changes = shipped.changes_to(&local);
    let id = |s: &str| RuleId::parse(s).unwrap();
    assert_eq!(
        changes,
        vec![
            ScheduleChange::Reworded {
                rule: id("d8-clinician-discretion")
            },
            ScheduleChange::Added {
                rule: id("local-research-archive")
            },
            ScheduleChange::Removed {
                rule: id("d3-left-service")
            },
        ]
    );
}

// The NHS Records Management Code of Practice rows.

#[test]
fn rm_code_an_adult_record_is_kept_8_years_after_last_contact() {
    let mut facts = facts(&[Purpose::Clinical]);
    facts.record_category = Some(RecordCategory::AdultCare);
    let during = state(&facts, date!(2027 - 01 - 01));
    assert_eq!(during.due_on, None, "kept while care goes on");
    assert!(
        during.reason.contains("the end of care or last contact"),
        "{}",
        during.reason
    );
    facts.care_ended_on = Some(date!(2027 - 05 - 10));
    let after = state(&facts, date!(2027 - 06 - 01));
    assert_eq!(after.due_on, Some(date!(2035 - 05 - 10)));
    assert_eq!(after.action, DisposalAction::Review);
    assert_eq!(governing_rule(&after), "rm-adult-care");
    assert!(
        after
            .reason
            .contains("NHS Records Management Code of Practice 2021"),
        "{}",
        after.reason
    );
}

#[test]
fn rm_code_a_child_seen_last_at_17_is_kept_until_their_26th_birthday() {
    let mut facts = facts(&[Purpose::Clinical]);
    facts.record_category = Some(RecordCategory::Children);
    facts.date_of_birth = Some(date!(2009 - 04 - 20));
    facts.care_ended_on = Some(date!(2026 - 09 - 01)); // 17
    let state = state(&facts, date!(2026 - 10 - 01));
    assert_eq!(state.due_on, Some(date!(2035 - 04 - 20)));
    assert_eq!(governing_rule(&state), "rm-children");
    match &state.governed_by {
        Governor::Rule {
            trigger,
            triggered_on,
            ..
        } => {
            assert_eq!(*trigger, Trigger::ChildhoodBirthday);
            assert_eq!(*triggered_on, date!(2035 - 04 - 20));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn rm_code_a_child_seen_last_at_12_is_kept_until_their_25th_birthday() {
    let mut facts = facts(&[Purpose::HealthAndWellbeing]);
    facts.record_category = Some(RecordCategory::Children);
    facts.date_of_birth = Some(date!(2014 - 01 - 15));
    facts.care_ended_on = Some(date!(2026 - 06 - 30)); // 12
    let state = state(&facts, date!(2026 - 07 - 01));
    assert_eq!(state.due_on, Some(date!(2039 - 01 - 15)));
    assert_eq!(governing_rule(&state), "rm-children");
    assert!(
        state
            .set_aside
            .iter()
            .any(|s| s.rule.as_str() == "d2-yearly-review"),
        "the purpose's yearly review is outlasted by the Code: {:?}",
        state.set_aside
    );
}

#[test]
fn rm_code_a_childs_record_without_a_date_of_birth_says_what_is_missing() {
    let mut facts = facts(&[Purpose::Clinical]);
    facts.record_category = Some(RecordCategory::Children);
    facts.care_ended_on = Some(date!(2026 - 06 - 30));
    let state = state(&facts, date!(2026 - 07 - 01));
    assert_eq!(state.due_on, None);
    assert!(
        state.reason.contains("date of birth is not recorded"),
        "{}",
        state.reason
    );
}

#[test]
fn rm_code_a_child_who_died_is_kept_8_years_after_death() {
    let mut facts = facts(&[Purpose::Clinical]);
    facts.record_category = Some(RecordCategory::Children);
    facts.date_of_birth = Some(date!(2016 - 02 - 01));
    facts.died_on = Some(date!(2026 - 08 - 01));
    let state = state(&facts, date!(2026 - 09 - 01));
    assert_eq!(state.due_on, Some(date!(2034 - 08 - 01)));
    assert_eq!(governing_rule(&state), "rm-children-death");
}

#[test]
fn rm_code_mental_health_is_kept_20_years_after_care_or_10_after_death_if_sooner() {
    let mut facts = facts(&[Purpose::Clinical]);
    facts.record_category = Some(RecordCategory::MentalHealth);
    facts.care_ended_on = Some(date!(2027 - 01 - 01));
    let alive = state(&facts, date!(2027 - 02 - 01));
    assert_eq!(alive.due_on, Some(date!(2047 - 01 - 01)));
    assert_eq!(governing_rule(&alive), "rm-mental-health");
    facts.died_on = Some(date!(2030 - 01 - 01));
    let died = state(&facts, date!(2030 - 02 - 01));
    assert_eq!(
        died.due_on,
        Some(date!(2040 - 01 - 01)),
        "10 years after death is sooner"
    );
    assert_eq!(governing_rule(&died), "rm-mental-health-death");
    facts.died_on = Some(date!(2045 - 01 - 01));
    let late = state(&facts, date!(2045 - 02 - 01));
    assert_eq!(
        late.due_on,
        Some(date!(2047 - 01 - 01)),
        "20 years after care is sooner"
    );
}

// The policies' rules.

#[test]
fn d1_only_the_current_identification_photograph_is_kept() {
    let mut old = facts(&[Purpose::Identification]);
    let current = state(&old, date!(2027 - 01 - 01));
    assert_eq!(
        current.due_on, None,
        "the current photograph is kept with the file"
    );
    old.superseded_on = Some(date!(2027 - 03 - 01));
    let superseded = state(&old, date!(2027 - 03 - 02));
    assert_eq!(superseded.due_on, Some(date!(2027 - 03 - 01)));
    assert_eq!(superseded.action, DisposalAction::Destroy);
    assert_eq!(governing_rule(&superseded), "d1-identification-superseded");
    assert!(superseded.reason.contains("D1"), "{}", superseded.reason);
}

#[test]
fn d1_the_current_identification_photograph_is_kept_as_long_as_the_file() {
    let mut facts = facts(&[Purpose::Identification]);
    facts.care_ended_on = Some(date!(2028 - 01 - 01));
    let state = state(&facts, date!(2028 - 01 - 02));
    assert_eq!(state.due_on, Some(date!(2036 - 01 - 01)));
    assert_eq!(governing_rule(&state), "d1-identification-with-file");
}

#[test]
fn c8_withdrawal_does_not_reach_an_identification_photograph() {
    let mut facts = facts(&[Purpose::Identification]);
    facts.withdrawal = Some(WithdrawalFact {
        withdrawn_on: date!(2026 - 06 - 01),
        purposes: PurposeSet::from_iter(Purpose::ALL.iter().copied()),
        choice: Disposition::Destroy,
    });
    let state = state(&facts, date!(2026 - 06 - 02));
    assert_eq!(state.due_on, None);
    assert!(state.tasks.is_empty(), "{:?}", state.tasks);
}

#[test]
fn c9_a_stop_that_deletes_brings_the_recording_up_for_destruction_over_every_keep_period() {
    // Clinical, in the care record, with consent later withdrawn choosing hand-over: each
    // would keep it or hand it over; the stop's deletion governs from the day of the stop.
    let mut facts = facts(&[Purpose::Clinical, Purpose::Teaching]);
    facts.record_category = Some(RecordCategory::MentalHealth);
    facts.withdrawal = Some(WithdrawalFact {
        withdrawn_on: date!(2026 - 03 - 05),
        purposes: purposes(&[Purpose::Teaching]),
        choice: Disposition::HandOver,
    });
    let kept = state(&facts, date!(2026 - 03 - 06));
    assert_eq!(kept.due_on, None, "{kept:?}");
    facts.deleted_at_stop_on = Some(date!(2026 - 03 - 02));
    let stopped = state(&facts, date!(2026 - 03 - 06));
    assert_eq!(stopped.due_on, Some(date!(2026 - 03 - 02)));
    assert_eq!(stopped.action, DisposalAction::Destroy);
    assert_eq!(
        stopped.governed_by,
        Governor::StoppedAndDeleted {
            stopped_on: date!(2026 - 03 - 02)
        }
    );
    assert!(stopped.reason.contains("(C9)"), "{}", stopped.reason);
    assert!(stopped.set_aside.is_empty() && stopped.tasks.is_empty());
    // A stop dated after "now" has not happened yet.
    let before = state(&facts, date!(2026 - 03 - 01));
    assert!(
        !matches!(before.governed_by, Governor::StoppedAndDeleted { .. }),
        "{before:?}"
    );
}

#[test]
fn r6_a_still_goes_with_the_recording_it_was_made_from() {
    let mut facts = facts(&[Purpose::Clinical]);
    facts.record_category = Some(RecordCategory::MentalHealth);
    facts.derived = Some(DerivedFacts {
        kind: crate::recording::DerivationKind::Still,
        de_identified: false,
        source_destroyed_on: None,
    });
    assert_eq!(state(&facts, date!(2026 - 03 - 06)).due_on, None);
    let destroyed_on = date!(2026 - 03 - 05);
    facts.derived = facts.derived.map(|d| DerivedFacts {
        source_destroyed_on: Some(destroyed_on),
        ..d
    });
    let followed = state(&facts, date!(2026 - 03 - 06));
    assert_eq!(followed.due_on, Some(destroyed_on));
    assert_eq!(followed.action, DisposalAction::Destroy);
    assert_eq!(
        followed.governed_by,
        Governor::SourceDestroyed { destroyed_on }
    );
    assert!(followed.reason.contains("(R6)"), "{}", followed.reason);
    // A destruction dated after "now" has not happened yet.
    assert_eq!(state(&facts, date!(2026 - 03 - 04)).due_on, None);
}

#[test]
fn c11_d5_a_de_identified_copy_or_a_transcript_outlives_its_source_and_says_why() {
    use crate::recording::DerivationKind;
    let kinds = [
        (DerivationKind::Still, true, "(C11)"),
        (DerivationKind::Redaction, true, "(C11)"),
        (DerivationKind::Transcript, false, "(D5)"),
        (DerivationKind::Redaction, false, "(C7, A3)"),
    ];
    for (kind, de_identified, rule) in kinds {
        let mut facts = facts(&[Purpose::Teaching]);
        facts.derived = Some(DerivedFacts {
            kind,
            de_identified,
            source_destroyed_on: None,
        });
        let own = state(&facts, date!(2026 - 03 - 06));
        facts.derived = facts.derived.map(|d| DerivedFacts {
            source_destroyed_on: Some(date!(2026 - 03 - 05)),
            ..d
        });
        let after = state(&facts, date!(2026 - 03 - 06));
        assert_eq!(after.due_on, own.due_on, "{kind:?}");
        assert_eq!(after.governed_by, own.governed_by, "{kind:?}");
        assert!(
            after.reason.contains("was destroyed on 2026-03-05") && after.reason.contains(rule),
            "{kind:?}: {}",
            after.reason
        );
    }
}

#[test]
fn r6_a_still_already_deleted_at_a_stop_keeps_the_earlier_date() {
    let mut facts = facts(&[Purpose::Clinical]);
    facts.deleted_at_stop_on = Some(date!(2026 - 03 - 02));
    facts.derived = Some(DerivedFacts {
        kind: crate::recording::DerivationKind::Still,
        de_identified: false,
        source_destroyed_on: Some(date!(2026 - 03 - 05)),
    });
    let state = state(&facts, date!(2026 - 03 - 06));
    assert_eq!(state.due_on, Some(date!(2026 - 03 - 02)));
    assert!(matches!(
        state.governed_by,
        Governor::StoppedAndDeleted { .. }
    ));
}

#[test]
fn d2_other_purposes_carry_a_yearly_review_date() {
    let facts = facts(&[Purpose::Activities, Purpose::Outings]);
    let state = state(&facts, date!(2026 - 03 - 03));
    assert_eq!(state.due_on, Some(date!(2027 - 03 - 02)));
    assert_eq!(state.action, DisposalAction::Review);
    assert_eq!(governing_rule(&state), "d2-yearly-review");
}

#[test]
fn d2_a_review_that_finds_it_no_longer_relevant_brings_it_up_for_destruction() {
    let mut facts = facts(&[Purpose::CarePlan]);
    facts.found_no_longer_relevant_on = Some(date!(2026 - 05 - 01));
    let state = state(&facts, date!(2026 - 05 - 02));
    assert_eq!(state.due_on, Some(date!(2026 - 05 - 01)));
    assert_eq!(state.action, DisposalAction::Destroy);
    assert_eq!(governing_rule(&state), "d2-no-longer-relevant");
}

#[test]
fn d2_an_extension_at_review_moves_the_date_later_with_its_reason() {
    let mut facts = facts(&[Purpose::Activities]);
    facts.extension = Some(Extension {
        until: date!(2028 - 03 - 02),
        reason: note("used in the life story book still being made"),
        by: records_manager(),
        decided_at: noon(date!(2027 - 03 - 02)),
    });
    let state = state(&facts, date!(2027 - 03 - 03));
    assert_eq!(state.due_on, Some(date!(2028 - 03 - 02)));
    assert!(matches!(state.governed_by, Governor::Extension { .. }));
    assert!(state.reason.contains("life story book"), "{}", state.reason);
    facts.left_service_on = Some(date!(2027 - 04 - 01));
    let left = self::state(&facts, date!(2027 - 04 - 02));
    assert_eq!(
        left.due_on,
        Some(date!(2028 - 03 - 02)),
        "an extension is never shortened"
    );
}

#[test]
fn d3_leaving_the_service_brings_non_essential_recordings_up_for_deletion() {
    let mut facts = facts(&[Purpose::Activities, Purpose::Newsletters]);
    facts.left_service_on = Some(date!(2026 - 07 - 01));
    let state = state(&facts, date!(2026 - 07 - 02));
    assert_eq!(state.due_on, Some(date!(2026 - 07 - 01)));
    assert_eq!(state.action, DisposalAction::Destroy);
    assert_eq!(governing_rule(&state), "d3-left-service");
}

#[test]
fn d3_leaving_does_not_cut_short_what_an_essential_purpose_keeps() {
    let mut facts = facts(&[Purpose::Activities, Purpose::Identification]);
    facts.left_service_on = Some(date!(2026 - 07 - 01));
    let state = state(&facts, date!(2026 - 07 - 02));
    assert_eq!(
        state.due_on, None,
        "the identification photograph waits for the end of care"
    );
    assert!(
        state
            .set_aside
            .iter()
            .any(|s| s.rule.as_str() == "d3-left-service"),
        "{:?}",
        state.set_aside
    );
}

#[test]
fn d5_a_transcript_for_clinical_purposes_brings_the_recording_up_for_deletion() {
    let mut facts = facts(&[Purpose::Clinical]);
    facts.record_category = Some(RecordCategory::MentalHealth);
    facts.transcript_made_on = Some(date!(2026 - 04 - 01));
    let state = state(&facts, date!(2026 - 04 - 02));
    assert_eq!(
        state.due_on,
        Some(date!(2026 - 04 - 01)),
        "the Code lets it go once in the record"
    );
    assert_eq!(state.action, DisposalAction::Destroy);
}

#[test]
fn d6_deletion_on_request_waits_for_the_end_of_the_episode() {
    let mut facts = facts(&[Purpose::Clinical]);
    facts.deletion_requested_on = Some(date!(2026 - 04 - 01));
    let during = state(&facts, date!(2026 - 04 - 02));
    assert_eq!(during.due_on, None);
    assert!(
        during.reason.contains("once the episode of care ends"),
        "{}",
        during.reason
    );
    facts.care_ended_on = Some(date!(2026 - 06 - 01));
    let after = state(&facts, date!(2026 - 06 - 02));
    assert_eq!(after.due_on, Some(date!(2026 - 06 - 01)));
    assert_eq!(governing_rule(&after), "d6-deletion-on-request");
}

#[test]
fn d6_a_request_cannot_cut_short_the_code_period_and_says_why() {
    let mut facts = facts(&[Purpose::Clinical]);
    facts.record_category = Some(RecordCategory::AdultCare);
    facts.care_ended_on = Some(date!(2026 - 06 - 01));
    facts.deletion_requested_on = Some(date!(2026 - 06 - 15));
    let state = state(&facts, date!(2026 - 07 - 01));
    assert_eq!(state.due_on, Some(date!(2034 - 06 - 01)));
    assert_eq!(governing_rule(&state), "rm-adult-care");
    let set_aside = state
        .set_aside
        .iter()
        .find(|s| s.rule.as_str() == "d6-deletion-on-request")
        .unwrap();
    assert_eq!(set_aside.due_on, date!(2026 - 06 - 15));
    assert!(
        set_aside
            .why
            .contains("rm-adult-care keeps the recording until 2034-06-01"),
        "{}",
        set_aside.why
    );
}

#[test]
fn d8_teaching_recordings_go_at_the_clinicians_discretion() {
    let mut facts = facts(&[Purpose::Teaching]);
    facts.found_no_longer_relevant_on = Some(date!(2026 - 05 - 01));
    let state = state(&facts, date!(2026 - 05 - 01));
    assert_eq!(state.due_on, Some(date!(2026 - 05 - 01)));
    assert_eq!(governing_rule(&state), "d8-clinician-discretion");
}

#[test]
fn c8_withdrawal_brings_the_recording_up_with_the_persons_choice() {
    let mut facts = facts(&[Purpose::Activities, Purpose::Outings]);
    facts.withdrawal = Some(WithdrawalFact {
        withdrawn_on: date!(2026 - 04 - 01),
        purposes: purposes(&[Purpose::Activities, Purpose::Outings]),
        choice: Disposition::HandOver,
    });
    let state = state(&facts, date!(2026 - 04 - 02));
    assert_eq!(state.due_on, Some(date!(2026 - 04 - 01)));
    assert_eq!(state.action, DisposalAction::HandOver);
    assert!(state.tasks.contains(&DisposalTask::Withdrawal {
        withdrawn_on: date!(2026 - 04 - 01),
        choice: Disposition::HandOver
    }));
}

#[test]
fn c8_a_partial_withdrawal_leaves_the_other_purposes_keeping_it() {
    let mut facts = facts(&[Purpose::Activities, Purpose::Teaching]);
    facts.withdrawal = Some(WithdrawalFact {
        withdrawn_on: date!(2026 - 04 - 01),
        purposes: purposes(&[Purpose::Activities]),
        choice: Disposition::Destroy,
    });
    let state = state(&facts, date!(2026 - 04 - 02));
    assert_eq!(
        state.due_on,
        Some(date!(2027 - 03 - 02)),
        "teaching's yearly review"
    );
    assert!(state.tasks.is_empty(), "{:?}", state.tasks);
}

#[test]
fn c8_withdrawal_waits_for_the_end_of_the_code_period_of_a_care_record() {
    let mut facts = facts(&[Purpose::Clinical]);
    facts.record_category = Some(RecordCategory::AdultCare);
    facts.withdrawal = Some(WithdrawalFact {
        withdrawn_on: date!(2026 - 04 - 01),
        purposes: purposes(&[Purpose::Clinical]),
        choice: Disposition::Destroy,
    });
    let in_care = state(&facts, date!(2026 - 04 - 02));
    assert_eq!(
        in_care.due_on, None,
        "the Code keeps it until 8 years after care"
    );
    assert!(
        in_care.reason.contains("must not be used"),
        "{}",
        in_care.reason
    );
    assert!(
        in_care.reason.contains("rm-adult-care"),
        "{}",
        in_care.reason
    );
    assert!(
        in_care
            .tasks
            .iter()
            .any(|t| matches!(t, DisposalTask::Withdrawal { .. }))
    );
    facts.care_ended_on = Some(date!(2026 - 09 - 01));
    let after_care = state(&facts, date!(2026 - 09 - 02));
    assert_eq!(after_care.due_on, Some(date!(2034 - 09 - 01)));
    assert_eq!(after_care.action, DisposalAction::Destroy);
    assert!(matches!(after_care.governed_by, Governor::Withdrawal(_)));
    facts.transcript_made_on = Some(date!(2026 - 10 - 01));
    let summarised = state(&facts, date!(2026 - 10 - 02));
    assert_eq!(
        summarised.due_on,
        Some(date!(2026 - 10 - 01)),
        "once in the care record, the person's choice is carried out"
    );
}

#[test]
fn d10_withdrawing_online_consent_creates_a_take_down_task() {
    let mut facts = facts(&[Purpose::SocialMedia, Purpose::Newsletters]);
    facts.published_online = true;
    facts.withdrawal = Some(WithdrawalFact {
        withdrawn_on: date!(2026 - 04 - 01),
        purposes: purposes(&[Purpose::SocialMedia]),
        choice: Disposition::Destroy,
    });
    let state = state(&facts, date!(2026 - 04 - 02));
    assert_eq!(
        state.tasks,
        vec![DisposalTask::TakeDown {
            because: "consent for online and social media use was withdrawn (D10)"
        }]
    );
}

#[test]
fn d10_a_published_recording_coming_up_for_destruction_must_be_taken_down() {
    let mut facts = facts(&[Purpose::SocialMedia]);
    facts.published_online = true;
    facts.left_service_on = Some(date!(2026 - 04 - 01));
    let state = state(&facts, date!(2026 - 04 - 02));
    assert!(
        state
            .tasks
            .iter()
            .any(|t| matches!(t, DisposalTask::TakeDown { .. })),
        "{:?}",
        state.tasks
    );
}

// Legal holds.

#[test]
fn d7_a_hold_without_a_matter_is_refused() {
    let error = LegalHold::new(
        LegalHoldId::from_uuid(Uuid::from_u128(1)),
        HoldForm {
            kind: MatterKind::Complaint,
            reference: "   ".to_owned(),
            recordings: vec![recording(1)],
            persons: Vec::new(),
            placed_by: records_manager(),
            placed_at: MADE,
        },
        MADE,
    )
    .unwrap_err();
    assert_eq!(error.code(), "hold.without_matter");
    assert_eq!(error.requirement(), Some(crate::Requirement::D7));
}

#[test]
fn d7_a_hold_must_cover_a_recording_or_a_person() {
    let error = LegalHold::new(
        LegalHoldId::from_uuid(Uuid::from_u128(1)),
        HoldForm {
            kind: MatterKind::Litigation,
            reference: "CLAIM-77".to_owned(),
            recordings: Vec::new(),
            persons: Vec::new(),
            placed_by: records_manager(),
            placed_at: MADE,
        },
        MADE,
    )
    .unwrap_err();
    assert_eq!(error.code(), "hold.covers_nothing");
}

#[test]
fn d7_every_standing_hold_is_named_whether_it_covers_the_recording_or_a_person_in_it() {
    let by_recording = hold(1, MatterKind::Litigation, &[recording(1)], &[]);
    let by_person = hold(2, MatterKind::PoliceInvestigation, &[], &[person(2)]);
    let elsewhere = hold(3, MatterKind::Complaint, &[recording(9)], &[person(9)]);
    let holds = [elsewhere, by_person, by_recording];
    let held = may_destroy(recording(1), &[person(1), person(2)], &holds).unwrap_err();
    let named: Vec<MatterKind> = held.holds.iter().map(|h| h.kind).collect();
    assert_eq!(
        named,
        vec![MatterKind::Litigation, MatterKind::PoliceInvestigation]
    );
    assert_eq!(held.code(), "hold.under_legal_hold");
    let message = held.to_string();
    assert!(
        message.contains("litigation `REF-1`") && message.contains("police investigation `REF-2`"),
        "{message}"
    );
    assert!(may_destroy(recording(5), &[person(5)], &holds).is_ok());
}

#[test]
fn d7_a_lifted_hold_no_longer_blocks_and_cannot_be_lifted_twice_or_before_it_was_placed() {
    let placed = hold(1, MatterKind::Inquiry, &[recording(1)], &[]);
    let later = noon(date!(2026 - 09 - 01));
    let early = placed
        .lift(
            records_manager(),
            note("inquiry closed"),
            MADE - time::Duration::days(1),
            later,
        )
        .unwrap_err();
    assert_eq!(early.code(), "hold.lifted_before_placed");
    let lifted = placed
        .lift(records_manager(), note("inquiry closed"), later, later)
        .unwrap();
    assert!(!lifted.stands());
    assert!(may_destroy(recording(1), &[], std::slice::from_ref(&lifted)).is_ok());
    let again = lifted
        .lift(records_manager(), note("again"), later, later)
        .unwrap_err();
    assert_eq!(again.code(), "hold.already_lifted");
    assert!(may_destroy(recording(1), &[], &[placed]).is_err());
}

#[test]
fn d7_a_hold_on_a_recording_also_holds_the_copies_made_from_it() {
    use crate::fixtures::Story;
    let mut story = Story::recording(&["Alex", "Billie"], &[Purpose::Clinical]);
    let copy_id = story.derives(true, &["Billie"], 90);
    let copy = story
        .evidence()
        .derivatives
        .iter()
        .find(|d| d.id == copy_id)
        .unwrap()
        .clone();
    let original = copy.derivation.as_ref().unwrap().original;
    let on_original = hold(1, MatterKind::Litigation, &[original], &[]);
    let held = HoldScope::of(&copy)
        .may_destroy(std::slice::from_ref(&on_original))
        .unwrap_err();
    assert_eq!(held.holds.len(), 1);
    let elsewhere = hold(2, MatterKind::Litigation, &[recording(99)], &[]);
    assert!(HoldScope::of(&copy).may_destroy(&[elsewhere]).is_ok());
}

// The queue and reviews.

pub(super) fn scope(n: u128, subjects: &[PersonId]) -> HoldScope {
    HoldScope {
        recording: recording(n),
        derived_from: Vec::new(),
        subjects: subjects.to_vec(),
    }
}

fn item(n: u128, facts: RecordingFacts) -> SweepItem {
    SweepItem {
        scope: scope(n, &[person(n)]),
        facts: vec![facts],
    }
}

fn left_on(day: Date) -> RecordingFacts {
    let mut facts = facts(&[Purpose::Activities]);
    facts.left_service_on = Some(day);
    facts
}

#[test]
fn d2_the_queue_shows_what_comes_due_now_and_in_30_60_and_90_days() {
    // After the yearly review date (2027-03-02), so each extension sets the date.
    let today = date!(2027 - 06 - 01);
    let later = |days: i64| {
        let mut facts = facts(&[Purpose::Activities]);
        facts.extension = Some(Extension {
            until: today + time::Duration::days(days),
            reason: note("still in use"),
            by: records_manager(),
            decided_at: MADE,
        });
        facts
    };
    let items = vec![
        item(1, later(91)),
        item(2, later(90)),
        item(3, later(45)),
        item(4, later(30)),
        item(5, left_on(date!(2027 - 05 - 01))),
        item(6, facts(&[Purpose::Identification])),
    ];
    let sweep = sweep(
        &RetentionSchedule::default(),
        &items,
        &[],
        None,
        noon(today),
    )
    .unwrap();
    let buckets: Vec<(u128, QueueBucket)> = sweep
        .entries
        .iter()
        .map(|e| (e.scope.recording.as_uuid().as_u128(), e.bucket))
        .collect();
    assert_eq!(
        buckets,
        vec![
            (5, QueueBucket::DueNow),
            (4, QueueBucket::Within30Days),
            (3, QueueBucket::Within60Days),
            (2, QueueBucket::Within90Days),
            (1, QueueBucket::Later),
            (6, QueueBucket::Waiting),
        ]
    );
}

#[test]
fn d2_a_sweep_refuses_a_clock_that_went_backwards() {
    let items = vec![item(1, left_on(date!(2026 - 04 - 01)))];
    let last = noon(date!(2026 - 05 - 01));
    let error = sweep(
        &RetentionSchedule::default(),
        &items,
        &[],
        Some(last),
        last - time::Duration::seconds(1),
    )
    .unwrap_err();
    assert_eq!(error.code(), "retention.clock_went_backwards");
    assert!(error.to_string().contains("nothing was done"), "{error}");
    assert!(sweep(&RetentionSchedule::default(), &items, &[], Some(last), last).is_ok());
}

#[test]
fn d2_a_sweep_gives_the_same_queue_again_whatever_order_the_recordings_come_in() {
    let items = vec![
        item(3, left_on(date!(2026 - 04 - 01))),
        item(1, facts(&[Purpose::Clinical])),
        item(2, left_on(date!(2026 - 04 - 01))),
    ];
    let mut reversed = items.clone();
    reversed.reverse();
    let now = noon(date!(2026 - 05 - 01));
    let first = sweep(&RetentionSchedule::default(), &items, &[], None, now).unwrap();
    let again = sweep(&RetentionSchedule::default(), &items, &[], Some(now), now).unwrap();
    let other_order = sweep(&RetentionSchedule::default(), &reversed, &[], None, now).unwrap();
    assert_eq!(first, again);
    assert_eq!(first, other_order);
    assert_eq!(first.in_bucket(QueueBucket::DueNow).count(), 2);
}

#[test]
fn d7_a_held_recording_sits_in_the_held_queue_and_its_disposal_cannot_be_approved() {
    let items = vec![item(1, left_on(date!(2026 - 04 - 01)))];
    let holds = [hold(1, MatterKind::CourtDirection, &[], &[person(1)])];
    let now = noon(date!(2026 - 05 - 01));
    let sweep = sweep(&RetentionSchedule::default(), &items, &holds, None, now).unwrap();
    let entry = sweep.entry(recording(1)).unwrap();
    assert_eq!(entry.bucket, QueueBucket::Held);
    assert_eq!(
        entry.state.due_on,
        Some(date!(2026 - 04 - 01)),
        "the date is still shown"
    );
    let error = review(entry, ReviewOutcome::Approve, records_manager(), now).unwrap_err();
    assert_eq!(error.code(), "hold.under_legal_hold");
    assert!(
        error.to_string().contains("court direction `REF-1`"),
        "{error}"
    );
}

#[test]
fn d2_a_due_recording_is_approved_by_a_records_manager_before_anything_is_destroyed() {
    let items = vec![item(1, facts(&[Purpose::Activities]))];
    let due = date!(2027 - 03 - 02);
    let early = noon(due - time::Duration::days(1));
    let queue = sweep(&RetentionSchedule::default(), &items, &[], None, early).unwrap();
    let not_yet = review(
        queue.entry(recording(1)).unwrap(),
        ReviewOutcome::Approve,
        records_manager(),
        early,
    )
    .unwrap_err();
    assert_eq!(not_yet, crate::DomainError::NotYetDue { due });
    let queue = sweep(
        &RetentionSchedule::default(),
        &items,
        &[],
        Some(early),
        noon(due),
    )
    .unwrap();
    let decision = review(
        queue.entry(recording(1)).unwrap(),
        ReviewOutcome::Approve,
        records_manager(),
        noon(due),
    )
    .unwrap();
    let ReviewDecision::Approved(approval) = decision else {
        panic!("expected an approval, got {decision:?}");
    };
    assert_eq!(
        approval.action,
        DisposalAction::Destroy,
        "an approved review destroys"
    );
    let warrant = approval.clone().authorise(&[]).unwrap();
    assert_eq!(warrant.approval(), &approval);
}

#[test]
fn d7_a_hold_placed_after_approval_still_stops_the_destruction() {
    let items = vec![item(1, left_on(date!(2026 - 04 - 01)))];
    let now = noon(date!(2026 - 05 - 01));
    let queue = sweep(&RetentionSchedule::default(), &items, &[], None, now).unwrap();
    let ReviewDecision::Approved(approval) = review(
        queue.entry(recording(1)).unwrap(),
        ReviewOutcome::Approve,
        records_manager(),
        now,
    )
    .unwrap() else {
        panic!("expected an approval");
    };
    let holds = [hold(7, MatterKind::Complaint, &[recording(1)], &[])];
    let held = approval.authorise(&holds).unwrap_err();
    assert_eq!(held.holds.len(), 1);
}

#[test]
fn d2_an_extension_needs_a_later_date_and_a_waiting_recording_cannot_be_approved() {
    let now = noon(date!(2026 - 05 - 01));
    let items = vec![
        item(1, left_on(date!(2026 - 04 - 01))),
        item(2, facts(&[Purpose::Clinical])),
    ];
    let queue = sweep(&RetentionSchedule::default(), &items, &[], None, now).unwrap();
    let due = queue.entry(recording(1)).unwrap();
    let too_soon = review(
        due,
        ReviewOutcome::Extend {
            until: date!(2026 - 05 - 01),
            reason: note("still needed"),
        },
        records_manager(),
        now,
    )
    .unwrap_err();
    assert_eq!(too_soon.code(), "disposal.extension_not_later");
    let extended = review(
        due,
        ReviewOutcome::Extend {
            until: date!(2026 - 11 - 01),
            reason: note("family asked for a copy first"),
        },
        records_manager(),
        now,
    )
    .unwrap();
    assert!(
        matches!(extended, ReviewDecision::Extended(Extension { until, .. }) if until == date!(2026 - 11 - 01))
    );
    let waiting = queue.entry(recording(2)).unwrap();
    let error = review(waiting, ReviewOutcome::Approve, records_manager(), now).unwrap_err();
    assert_eq!(error.code(), "disposal.waiting_for_trigger");
    assert!(
        error
            .to_string()
            .contains("the end of care or last contact"),
        "{error}"
    );
}

#[test]
fn d4_a_waiting_recording_says_what_each_of_its_keepers_waits_for() {
    let mut facts = facts(&[Purpose::Clinical, Purpose::Teaching]);
    facts.record_category = Some(RecordCategory::AdultCare);
    let state = state(&facts, date!(2026 - 04 - 01));
    assert_eq!(state.due_on, None);
    assert!(
        state.reason.contains(
            "for the adult health or social care record until the end of care or last contact (rule rm-adult-care), or a transcript"
        ),
        "{}",
        state.reason
    );
    assert!(
        state
            .reason
            .contains("; and for its use for clinical or therapeutic use until the end of care"),
        "{}",
        state.reason
    );
    let Governor::Waiting { pending } = &state.governed_by else {
        panic!("expected waiting, got {:?}", state.governed_by);
    };
    assert!(pending.iter().any(
        |p| p.kept_for == KeptFor::Category(RecordCategory::AdultCare)
            && p.rule.as_str() == "rm-adult-care"
    ));
    // Teaching's yearly review has a date, but the care record still keeps the recording.
    let teaching = state
        .set_aside
        .iter()
        .find(|s| s.kept_for == KeptFor::Purpose(Purpose::Teaching))
        .unwrap();
    assert_eq!(teaching.rule.as_str(), "d2-yearly-review");
    assert!(
        teaching.why.contains(
            "but the adult health or social care record still keeps it until the end of care"
        ),
        "{}",
        teaching.why
    );
}

#[test]
fn disposal_states_serialise_for_the_api_with_dates_as_iso_days() {
    let mut withdrawn = facts(&[Purpose::Activities]);
    withdrawn.withdrawal = Some(WithdrawalFact {
        withdrawn_on: date!(2026 - 04 - 01),
        purposes: purposes(&[Purpose::Activities]),
        choice: Disposition::Destroy,
    });
    withdrawn.published_online = true;
    let mut extended = facts(&[Purpose::Outings]);
    extended.extension = Some(Extension {
        until: date!(2028 - 01 - 01),
        reason: note("still in use"),
        by: records_manager(),
        decided_at: MADE,
    });
    let cases = [
        (facts(&[Purpose::Clinical]), "\"kind\":\"waiting\""),
        (facts(&[Purpose::Newsletters]), "\"kind\":\"rule\""),
        (withdrawn, "\"kind\":\"withdrawal\""),
        (extended, "\"kind\":\"extension\""),
        (
            RecordingFacts::new(MADE, PurposeSet::EMPTY),
            "\"kind\":\"no_rule_applies\"",
        ),
    ];
    for (facts, expected) in cases {
        let json = serde_json::to_string(&state(&facts, date!(2026 - 05 - 01))).unwrap();
        assert!(json.contains(expected), "{json}");
    }
    let json = serde_json::to_string(&state(
        &facts(&[Purpose::Newsletters]),
        date!(2026 - 05 - 01),
    ))
    .unwrap();
    assert!(json.contains("\"due_on\":\"2027-03-02\""), "{json}");
}

// Recordings of several people.

fn clinical_facts(care_ended_on: Option<Date>) -> RecordingFacts {
    let mut facts = RecordingFacts::new(
        datetime!(2010-03-01 10:00 UTC),
        PurposeSet::from_iter([Purpose::Clinical]),
    );
    facts.care_ended_on = care_ended_on;
    facts
}

#[test]
fn d4_a_recording_of_several_people_is_kept_until_the_latest_of_their_dates() {
    let now = datetime!(2026-11-28 12:00 UTC);
    let each = [
        clinical_facts(Some(date!(2011 - 01 - 01))),
        clinical_facts(Some(date!(2015 - 06 - 30))),
    ];
    let state = shared_disposal_state(&RetentionSchedule::default(), &each, now).unwrap();
    assert_eq!(state.due_on, Some(date!(2023 - 06 - 30)));
}

#[test]
fn d4_one_person_still_in_care_keeps_a_shared_recording_waiting() {
    let now = datetime!(2026-11-28 12:00 UTC);
    let each = [
        clinical_facts(Some(date!(2011 - 01 - 01))),
        clinical_facts(None),
    ];
    let state = shared_disposal_state(&RetentionSchedule::default(), &each, now).unwrap();
    assert_eq!(state.due_on, None);
    assert_eq!(
        state.governing_rule().map(ToString::to_string).as_deref(),
        Some("d4-clinical-with-care-record")
    );
}

#[test]
fn d4_a_sweep_item_without_facts_is_left_out_of_the_queue() {
    let now = datetime!(2026-11-28 12:00 UTC);
    let items = [SweepItem {
        scope: scope(1, &[]),
        facts: Vec::new(),
    }];
    let queue = sweep(&RetentionSchedule::default(), &items, &[], None, now).unwrap();
    assert!(queue.entries.is_empty());
}
