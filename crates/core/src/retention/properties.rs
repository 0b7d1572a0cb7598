//! Properties of the retention core that must hold for every combination of facts, not just the written scenarios.

use proptest::prelude::*;
use proptest::sample::Index;
use time::{Date, Duration, OffsetDateTime};

use super::tests::{MADE, hold, noon, person, recording, records_manager, scope};
use super::*;
use crate::consent::Disposition;
use crate::ids::{PersonId, RecordingId};
use crate::purpose::{Purpose, PurposeSet};
use crate::recording::DerivationKind;
use crate::text::Note;

/// How far after the recording events and "now" may fall: long enough for every Code period.
const HORIZON_DAYS: i64 = 40 * 366;

fn day(offset: i64) -> Date {
    MADE.date() + Duration::days(offset)
}

fn purpose_set(bits: u32) -> PurposeSet {
    Purpose::ALL
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, p)| *p)
        .collect()
}

fn event() -> impl Strategy<Value = Option<i64>> {
    proptest::option::of(0..HORIZON_DAYS)
}

prop_compose! {
    fn facts()(
        purposes in 1u32..(1 << Purpose::ALL.len()),
        category in proptest::option::of(any::<Index>()),
        born_years_before in proptest::option::of(0i64..90),
        care_ended in event(),
        died in event(),
        transcript in event(),
        left in event(),
        superseded in event(),
        requested in event(),
        no_longer_relevant in event(),
        withdrawal in proptest::option::of((0..HORIZON_DAYS, 1u32..(1 << Purpose::ALL.len()), any::<bool>())),
        published_online in any::<bool>(),
        extension in proptest::option::of(0..HORIZON_DAYS),
    ) -> RecordingFacts {
        let mut facts = RecordingFacts::new(MADE, purpose_set(purposes));
        facts.record_category = category.map(|i| *i.get(RecordCategory::ALL));
        facts.date_of_birth = born_years_before.map(|years| day(-years * 365 - 40));
        facts.care_ended_on = care_ended.map(day);
        facts.died_on = died.map(day);
        facts.transcript_made_on = transcript.map(day);
        facts.left_service_on = left.map(day);
        facts.superseded_on = superseded.map(day);
        facts.deletion_requested_on = requested.map(day);
        facts.found_no_longer_relevant_on = no_longer_relevant.map(day);
        facts.withdrawal = withdrawal.map(|(on, bits, destroy)| WithdrawalFact {
            withdrawn_on: day(on),
            purposes: purpose_set(bits),
            choice: if destroy { Disposition::Destroy } else { Disposition::HandOver },
        });
        facts.published_online = published_online;
        facts.extension = extension.map(|until| Extension {
            until: day(until),
            reason: Note::parse("reason", "still needed").unwrap(),
            by: records_manager(),
            decided_at: MADE,
        });
        facts
    }
}

/// A hold as generated: which matter kind, which recording it names (the swept copy, the
/// original it was derived from, or an unrelated one), which of the three subjects (if any) it
/// covers, and whether it was lifted.
type HoldShape = (Index, usize, Option<usize>, bool);

/// The recordings a generated hold may name: the swept copy, its original, an unrelated one.
fn named(target: usize) -> RecordingId {
    match target {
        0 => recording(1),
        1 => recording(50),
        _ => recording(99),
    }
}

fn hold_shape() -> impl Strategy<Value = HoldShape> {
    (
        any::<Index>(),
        0usize..3,
        proptest::option::of(0usize..3),
        any::<bool>(),
    )
}

/// The scope of recording 1, a copy derived from recording 50, with three people in it.
fn copy_scope(subjects: &[PersonId]) -> HoldScope {
    HoldScope {
        derived_from: vec![recording(50)],
        ..scope(1, subjects)
    }
}

fn moment() -> impl Strategy<Value = OffsetDateTime> {
    (0..HORIZON_DAYS).prop_map(|offset| noon(day(offset)))
}

fn build_holds(shapes: &[HoldShape], subjects: &[PersonId]) -> Vec<LegalHold> {
    shapes
        .iter()
        .enumerate()
        .map(|(n, (kind, target, subject, lifted))| {
            let recordings = vec![named(*target)];
            let persons: Vec<PersonId> = subject
                .iter()
                .filter_map(|i| subjects.get(*i).copied())
                .collect();
            let placed = hold(n as u128, *kind.get(MatterKind::ALL), &recordings, &persons);
            if *lifted {
                placed
                    .lift(
                        records_manager(),
                        Note::parse("reason", "matter closed").unwrap(),
                        MADE,
                        MADE,
                    )
                    .unwrap()
            } else {
                placed
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn d7_no_path_destroys_a_recording_under_any_hold(
        facts in facts(),
        now in moment(),
        mut shapes in proptest::collection::vec(hold_shape(), 1..5),
    ) {
        // At least one hold stands over the copy, its original, or someone in it.
        if let Some(first) = shapes.first_mut() {
            first.3 = false;
            if first.2.is_none() {
                first.1 %= 2;
            }
        }
        let subjects = [person(1), person(2), person(3)];
        let holds = build_holds(&shapes, &subjects);
        let schedule = RetentionSchedule::default();

        // The guard itself names exactly the standing holds that cover it.
        let scope = copy_scope(&subjects);
        let held = scope.may_destroy(&holds).unwrap_err();
        let mut expected: Vec<_> = holds
            .iter()
            .filter(|h| h.stands() && (h.covers(recording(1), &subjects) || h.covers(recording(50), &subjects)))
            .map(|h| h.id)
            .collect();
        expected.sort();
        prop_assert_eq!(held.holds.iter().map(|h| h.id).collect::<Vec<_>>(), expected);

        // The queue puts it in the held bucket, and review refuses to approve it.
        let items = [SweepItem { scope, facts: vec![facts.clone()] }];
        let queue = sweep(&schedule, &items, &holds, None, now).unwrap();
        let entry = queue.entry(recording(1)).unwrap();
        prop_assert_eq!(entry.bucket, QueueBucket::Held);
        let refused = review(entry, ReviewOutcome::Approve, records_manager(), now).unwrap_err();
        prop_assert_eq!(refused.code(), "hold.under_legal_hold");

        // An approval given before the holds were placed still cannot be carried out.
        let unheld = sweep(&schedule, &items, &[], None, now).unwrap();
        if let Ok(ReviewDecision::Approved(approval)) =
            review(unheld.entry(recording(1)).unwrap(), ReviewOutcome::Approve, records_manager(), now)
        {
            prop_assert!(approval.authorise(&holds).is_err());
        }
    }

    #[test]
    fn rm_code_no_policy_rule_destroys_a_care_record_before_the_code_allows(
        facts in facts(),
        category in any::<Index>(),
        now in moment(),
    ) {
        // A care record whose content is not (yet) in the record: the Code's period must stand.
        let facts = RecordingFacts {
            record_category: Some(*category.get(RecordCategory::ALL)),
            transcript_made_on: None,
            ..facts
        };
        let schedule = RetentionSchedule::default();
        let state = disposal_state(&schedule, &facts, now);
        // The Code's own date: the same recording kept for its record category alone.
        let code_only = RecordingFacts { purposes: PurposeSet::EMPTY, withdrawal: None, extension: None, ..facts.clone() };
        let floor = disposal_state(&schedule, &code_only, now).due_on;
        // Nothing comes due before the Code's date, and nothing while the Code still waits.
        match (state.due_on, floor) {
            (Some(due), Some(floor)) => prop_assert!(due >= floor, "{} < {}: {}", due, floor, state.reason),
            (Some(due), None) => prop_assert!(false, "due {} while the Code waits: {}", due, state.reason),
            (None, _) => {}
        }
    }

    #[test]
    fn c9_a_deleting_stop_brings_any_recording_up_for_destruction_from_its_day(
        facts in facts(),
        stopped in 0..HORIZON_DAYS,
        now in moment(),
    ) {
        let stopped_on = day(stopped);
        let facts = RecordingFacts { deleted_at_stop_on: Some(stopped_on), ..facts };
        let state = disposal_state(&RetentionSchedule::default(), &facts, now);
        if stopped_on <= crate::clock::utc_day(now) {
            prop_assert_eq!(state.due_on, Some(stopped_on));
            prop_assert_eq!(state.action, DisposalAction::Destroy);
            prop_assert_eq!(state.governed_by, Governor::StoppedAndDeleted { stopped_on });
        } else {
            let stopped_governs = matches!(state.governed_by, Governor::StoppedAndDeleted { .. });
            prop_assert!(!stopped_governs, "a stop still to come governs: {}", state.reason);
        }
    }

    #[test]
    fn r6_a_still_comes_up_once_its_source_is_destroyed_and_a_standing_copy_keeps_its_date(
        facts in facts(),
        kind in prop_oneof![Just(DerivationKind::Still), Just(DerivationKind::Transcript), Just(DerivationKind::Redaction)],
        de_identified in any::<bool>(),
        destroyed in 0..HORIZON_DAYS,
        now in moment(),
    ) {
        let destroyed_on = day(destroyed);
        let derived = DerivedFacts { kind, de_identified, source_destroyed_on: None };
        let schedule = RetentionSchedule::default();
        let before = disposal_state(&schedule, &RecordingFacts { derived: Some(derived), ..facts.clone() }, now);
        let derived = DerivedFacts { source_destroyed_on: Some(destroyed_on), ..derived };
        let after = disposal_state(&schedule, &RecordingFacts { derived: Some(derived), ..facts }, now);
        let happened = destroyed_on <= crate::clock::utc_day(now);
        if happened && derived.stands_alone().is_none() {
            prop_assert_eq!(after.action, DisposalAction::Destroy);
            prop_assert!(after.due_on.is_some_and(|due| due <= destroyed_on), "{}", after.reason);
        } else {
            prop_assert_eq!(after.due_on, before.due_on);
            prop_assert_eq!(after.action, before.action);
        }
    }

    #[test]
    fn d2_an_extension_never_brings_a_date_earlier(facts in facts(), now in moment()) {
        prop_assume!(facts.withdrawal.is_none());
        let schedule = RetentionSchedule::default();
        let with = disposal_state(&schedule, &facts, now);
        let without = disposal_state(&schedule, &RecordingFacts { extension: None, ..facts.clone() }, now);
        match (with.due_on, without.due_on) {
            (Some(with), Some(without)) => prop_assert!(with >= without),
            (with, without) => prop_assert_eq!(with, without),
        }
    }

    #[test]
    fn d2_sweeping_is_idempotent_and_ignores_the_order_recordings_come_in(
        all in proptest::collection::vec(facts(), 1..8),
        now in moment(),
        rotate in any::<Index>(),
        shapes in proptest::collection::vec(hold_shape(), 0..3),
    ) {
        let items: Vec<SweepItem> = all
            .into_iter()
            .enumerate()
            .map(|(n, facts)| SweepItem {
                scope: scope(n as u128 + 1, &[person(n as u128 % 3 + 1)]),
                facts: vec![facts],
            })
            .collect();
        let holds = build_holds(&shapes, &[person(1), person(2), person(3)]);
        let schedule = RetentionSchedule::default();
        let first = sweep(&schedule, &items, &holds, None, now).unwrap();
        let again = sweep(&schedule, &items, &holds, Some(now), now).unwrap();
        let mut rotated = items.clone();
        rotated.rotate_left(rotate.index(items.len()));
        let reordered = sweep(&schedule, &rotated, &holds, Some(now), now).unwrap();
        prop_assert_eq!(&first, &again);
        prop_assert_eq!(&first, &reordered);
        prop_assert_eq!(first.entries.len(), items.len());
        let earlier = now - Duration::seconds(1);
        prop_assert!(sweep(&schedule, &items, &holds, Some(now), earlier).is_err());
    }
}
