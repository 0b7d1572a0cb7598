//! Scenario tests for the decision function, one or more per requirement it enforces.

use crate::decision::{ReasonCode, decide, explain_utc};
use crate::fixtures::{Covering, Story, at, requester, researcher};
use crate::purpose::Purpose::{self, *};
use crate::requirement::Requirement;
use crate::session::{SessionKind, StopChoice};

fn codes(story: &Story, purpose: Purpose, minutes: i64) -> Vec<ReasonCode> {
    decide(story.evidence(), purpose, &requester(), at(minutes))
        .reasons
        .iter()
        .map(|r| r.code)
        .collect()
}

fn allowed(story: &Story, purpose: Purpose, minutes: i64) -> bool {
    decide(story.evidence(), purpose, &requester(), at(minutes)).is_allowed()
}

#[test]
fn c1_consent_to_a_purpose_allows_that_purpose_and_says_who_and_when() {
    let mut story = Story::recording(&["Alex"], &[Clinical]);
    let consent = story.consents("Alex", &[Clinical], Covering::Service, 10);
    let decision = decide(story.evidence(), Clinical, &requester(), at(100));
    assert!(decision.is_allowed());
    let reason = decision.reasons[0];
    assert_eq!(
        (reason.code, reason.consent, reason.since),
        (ReasonCode::ConsentGiven, Some(consent), Some(at(10)))
    );
    assert_eq!(reason.person, Some(story.person("Alex")));
}

#[test]
fn c1_consent_to_one_purpose_does_not_allow_another() {
    let mut story = Story::recording(&["Alex"], &[Clinical, Newsletters]);
    story.consents("Alex", &[Clinical], Covering::Service, 10);
    assert!(!allowed(&story, Newsletters, 100));
    assert_eq!(
        codes(&story, Newsletters, 100),
        vec![ReasonCode::ConsentMissing]
    );
}

#[test]
fn c1_consent_counts_only_from_when_it_was_signed() {
    let mut story = Story::recording(&["Alex"], &[Clinical]);
    story.consents("Alex", &[Clinical], Covering::Service, 90);
    assert!(!allowed(&story, Clinical, 80));
    assert!(allowed(&story, Clinical, 90));
}

#[test]
fn c1_every_subject_must_consent() {
    let mut story = Story::recording(&["Alex", "Billie"], &[Clinical]);
    story.consents("Alex", &[Clinical], Covering::Service, 10);
    assert_eq!(
        codes(&story, Clinical, 100),
        vec![ReasonCode::ConsentMissing, ReasonCode::ConsentGiven]
    );
    story.consents("Billie", &[Clinical], Covering::Service, 20);
    assert!(allowed(&story, Clinical, 100));
}

#[test]
fn c1_a_consent_for_another_service_or_recording_does_not_cover_this_one() {
    let mut story =
        Story::recording(&["Alex"], &[Clinical]).in_session(SessionKind::Individual, &[]);
    let mut elsewhere = story.clone();
    elsewhere.consents("Alex", &[Clinical], Covering::Session, 10);
    // The same person, consenting for a different session of the same service, does not count.
    let mut other_session = elsewhere.evidence().clone();
    other_session.recording.session_id =
        Some(crate::ids::SessionId::from_uuid(uuid::Uuid::from_u128(999)));
    assert!(!decide(&other_session, Clinical, &requester(), at(100)).is_allowed());
    story.consents("Alex", &[Clinical], Covering::Recording, 10);
    assert!(allowed(&story, Clinical, 100));
}

#[test]
fn c3_consent_by_a_representative_counts_and_says_so() {
    let mut story = Story::recording(&["Alex"], &[CarePlan]);
    story.representative_consents("Alex", &[CarePlan], Covering::Service, 10);
    let decision = decide(story.evidence(), CarePlan, &requester(), at(100));
    assert!(decision.is_allowed());
    let words = decision.explain(story.evidence(), &explain_utc);
    assert!(
        words[0].message.contains("through their representative"),
        "{}",
        words[0].message
    );
}

#[test]
fn c4_a_later_refusal_cancels_an_earlier_consent() {
    let mut story = Story::recording(&["Alex"], &[Activities]);
    story.consents("Alex", &[Activities], Covering::Service, 10);
    story.refuses("Alex", &[Activities], Covering::Service, 70);
    assert!(allowed(&story, Activities, 69));
    assert_eq!(
        codes(&story, Activities, 100),
        vec![ReasonCode::ConsentRefused]
    );
}

#[test]
fn c4_a_refusal_and_a_consent_at_the_same_moment_mean_no() {
    let mut story = Story::recording(&["Alex"], &[Activities]);
    story.consents("Alex", &[Activities], Covering::Service, 10);
    story.refuses("Alex", &[Activities], Covering::Service, 10);
    assert!(!allowed(&story, Activities, 100));
}

#[test]
fn c4_a_consent_after_a_refusal_counts() {
    let mut story = Story::recording(&["Alex"], &[Activities]);
    story.refuses("Alex", &[Activities], Covering::Service, 10);
    story.consents("Alex", &[Activities], Covering::Service, 20);
    assert!(allowed(&story, Activities, 100));
}

#[test]
fn c5_a_course_consent_needs_a_still_willing_confirmation_for_the_session() {
    let mut story = Story::recording(&["Alex"], &[Clinical])
        .in_session(SessionKind::Individual, &[])
        .in_course();
    story.consents("Alex", &[Clinical], Covering::Course, 10);
    assert_eq!(
        codes(&story, Clinical, 100),
        vec![ReasonCode::SessionNotConfirmed]
    );
    story.confirms("Alex", true, 55);
    assert!(allowed(&story, Clinical, 100));
    assert!(
        !allowed(&story, Clinical, 54),
        "the confirmation counts only from when it was given"
    );
}

#[test]
fn c5_a_confirmation_after_the_recording_does_not_cover_it() {
    let mut story = Story::recording(&["Alex"], &[Clinical])
        .in_session(SessionKind::Individual, &[])
        .in_course();
    story.consents("Alex", &[Clinical], Covering::Course, 10);
    // The recording started at 60; "still willing" was asked only at 65.
    story.confirms("Alex", true, 65);
    let decision = decide(story.evidence(), Clinical, &requester(), at(100));
    assert!(!decision.is_allowed());
    let reason = decision.reasons[0];
    assert_eq!(
        (reason.code, reason.since, reason.person),
        (
            ReasonCode::ConfirmedAfterRecording,
            Some(at(65)),
            Some(story.person("Alex"))
        )
    );
    assert_eq!(reason.requirement(), Requirement::C5);
    let words = decision.explain(story.evidence(), &explain_utc);
    assert!(
        words[0].message.contains(&explain_utc(at(65)))
            && words[0].message.contains(&explain_utc(at(60)))
            && words[0].message.contains("after this recording started"),
        "{}",
        words[0].message
    );
    assert!(
        words[0]
            .remedy
            .as_deref()
            .unwrap()
            .contains("consent to this recording itself"),
        "{:?}",
        words[0].remedy
    );
    // What the remedy says works: a consent for this recording covers it.
    story.consents("Alex", &[Clinical], Covering::Recording, 110);
    assert!(allowed(&story, Clinical, 120));
}

#[test]
fn c5_a_confirmation_covers_recordings_started_at_or_after_it() {
    let mut story = Story::recording(&["Alex"], &[Clinical])
        .in_session(SessionKind::Individual, &[])
        .in_course();
    story.consents("Alex", &[Clinical], Covering::Course, 10);
    story.confirms("Alex", true, 60);
    assert!(
        allowed(&story, Clinical, 100),
        "asked as the recording started"
    );

    let mut later = Story::recording(&["Alex"], &[Clinical])
        .in_session(SessionKind::Individual, &[])
        .in_course();
    later.consents("Alex", &[Clinical], Covering::Course, 10);
    later.confirms("Alex", true, 65);
    later.evidence_mut().recording.made_at = at(70);
    later.evidence_mut().recording.captured_at = at(70);
    assert!(
        allowed(&later, Clinical, 100),
        "a recording started after it"
    );
}

#[test]
fn c5_a_copy_is_covered_only_when_its_source_was() {
    let mut story = Story::recording(&["Alex"], &[Clinical])
        .in_session(SessionKind::Individual, &[])
        .in_course();
    story.consents("Alex", &[Clinical], Covering::Course, 10);
    let mut late = story.clone();
    story.confirms("Alex", true, 55);
    let copy = story.derives(true, &[], 110);
    assert!(decide(&story.about_copy(copy), Clinical, &requester(), at(120)).is_allowed());

    // A copy made after a late confirmation was still captured before it, with its source.
    late.confirms("Alex", true, 65);
    let copy = late.derives(true, &[], 110);
    let decision = decide(&late.about_copy(copy), Clinical, &requester(), at(120));
    assert!(
        decision
            .blocking()
            .any(|r| r.code == ReasonCode::ConfirmedAfterRecording),
        "{:?}",
        decision.reasons
    );
}

#[test]
fn c5_a_not_willing_answer_after_the_recording_still_blocks() {
    let mut story = Story::recording(&["Alex"], &[Clinical])
        .in_session(SessionKind::Individual, &[])
        .in_course();
    story.consents("Alex", &[Clinical], Covering::Course, 10);
    story.confirms("Alex", true, 55);
    assert!(allowed(&story, Clinical, 69));
    story.confirms("Alex", false, 70);
    assert_eq!(
        codes(&story, Clinical, 100),
        vec![ReasonCode::SessionNotWilling, ReasonCode::ConsentGiven]
    );
}

#[test]
fn c5_a_not_willing_answer_refuses_even_with_consent() {
    let mut story = Story::recording(&["Alex"], &[Clinical])
        .in_session(SessionKind::Individual, &[])
        .in_course();
    story.consents("Alex", &[Clinical], Covering::Course, 10);
    story.confirms("Alex", true, 51);
    story.confirms("Alex", false, 52);
    assert_eq!(
        codes(&story, Clinical, 100),
        vec![ReasonCode::SessionNotWilling, ReasonCode::ConsentGiven]
    );
    assert!(!allowed(&story, Clinical, 100));
}

#[test]
fn c5_a_session_consent_needs_no_separate_confirmation() {
    let mut story = Story::recording(&["Alex"], &[Clinical])
        .in_session(SessionKind::Individual, &[])
        .in_course();
    story.consents("Alex", &[Clinical], Covering::Session, 10);
    assert!(allowed(&story, Clinical, 100));
}

#[test]
fn c6_a_new_purpose_needs_new_consent_for_that_purpose() {
    let mut story = Story::recording(&["Alex"], &[Clinical]);
    story.consents("Alex", &[Clinical], Covering::Service, 10);
    assert_eq!(
        codes(&story, Newsletters, 100),
        vec![ReasonCode::ChangeOfUse]
    );
    let words = decide(story.evidence(), Newsletters, &requester(), at(100))
        .explain(story.evidence(), &explain_utc);
    assert!(
        words[0]
            .remedy
            .as_deref()
            .unwrap()
            .contains("new consent to newsletters"),
        "{:?}",
        words[0].remedy
    );
    story.consents("Alex", &[Newsletters], Covering::Recording, 110);
    assert!(allowed(&story, Newsletters, 120));
}

#[test]
fn c7_one_family_member_withdrawing_revokes_the_session() {
    let mut story = Story::recording(
        &["Alex", "Billie", "Casey"],
        &[Clinical, SupervisionAndTraining],
    )
    .in_session(SessionKind::Family, &[]);
    let alex = story.consents(
        "Alex",
        &[Clinical, SupervisionAndTraining],
        Covering::Session,
        10,
    );
    story.consents(
        "Billie",
        &[Clinical, SupervisionAndTraining],
        Covering::Session,
        10,
    );
    story.consents(
        "Casey",
        &[Clinical, SupervisionAndTraining],
        Covering::Session,
        10,
    );
    assert!(allowed(&story, Clinical, 100));
    story.withdraws_purposes(alex, Some(&[SupervisionAndTraining]), 120, true);
    // Alex withdrew only supervision, yet the whole session is revoked, for clinical use too.
    for purpose in [Clinical, SupervisionAndTraining] {
        let decision = decide(story.evidence(), purpose, &requester(), at(130));
        assert!(!decision.is_allowed());
        assert!(
            decision
                .blocking()
                .any(|r| r.code == ReasonCode::FamilySessionRevoked
                    && r.person == Some(story.person("Alex")))
        );
    }
    // ...including a copy with Alex removed.
    let copy = story.derives(false, &["Alex"], 125);
    let decision = decide(&story.about_copy(copy), Clinical, &requester(), at(130));
    assert!(
        decision
            .blocking()
            .any(|r| r.code == ReasonCode::FamilySessionRevoked)
    );
}

#[test]
fn c7_every_family_member_must_consent_even_if_not_in_this_recording() {
    let mut story =
        Story::recording(&["Alex"], &[Clinical]).in_session(SessionKind::Family, &["Billie"]);
    story.consents("Alex", &[Clinical], Covering::Session, 10);
    let decision = decide(story.evidence(), Clinical, &requester(), at(100));
    assert!(
        decision
            .blocking()
            .any(|r| r.code == ReasonCode::ConsentMissing
                && r.person == Some(story.person("Billie")))
    );
}

#[test]
fn c7_a_withdrawal_by_a_family_member_without_capacity_withdraws_only_their_own_consent() {
    let mut story =
        Story::recording(&["Alex", "Billie"], &[Clinical]).in_session(SessionKind::Family, &[]);
    story.consents("Alex", &[Clinical], Covering::Session, 10);
    let billie = story.consents("Billie", &[Clinical], Covering::Session, 10);
    story.withdraws(billie, 120, false);
    let reasons = codes(&story, Clinical, 130);
    assert!(!reasons.contains(&ReasonCode::FamilySessionRevoked));
    assert!(
        reasons.contains(&ReasonCode::ConsentWithdrawn),
        "{reasons:?}"
    );
}

#[test]
fn c7_a_group_member_withdrawing_allows_only_a_copy_without_them() {
    let mut story = Story::recording(&["Alex", "Billie", "Casey"], &[Clinical])
        .in_session(SessionKind::Group, &[]);
    for name in ["Alex", "Billie", "Casey"] {
        story.consents(name, &[Clinical], Covering::Session, 10);
    }
    let billie = story
        .evidence()
        .person(story.person("Billie"))
        .unwrap()
        .consents()[0]
        .id;
    story.withdraws(billie, 120, true);
    let decision = decide(story.evidence(), Clinical, &requester(), at(130));
    let blocking: Vec<_> = decision.blocking().collect();
    assert_eq!(blocking.len(), 1);
    assert_eq!(blocking[0].code, ReasonCode::GroupMemberWithdrawn);
    assert_eq!(blocking[0].alternative, None);

    let copy = story.derives(false, &["Billie"], 140);
    let decision = decide(story.evidence(), Clinical, &requester(), at(150));
    assert_eq!(
        decision.blocking().next().unwrap().alternative,
        Some(copy),
        "the remedy points at the copy"
    );
    assert!(decide(&story.about_copy(copy), Clinical, &requester(), at(150)).is_allowed());
}

#[test]
fn c8_withdrawal_refuses_further_use_and_carries_the_persons_choice() {
    let mut story = Story::recording(&["Alex"], &[Clinical]);
    let consent = story.consents("Alex", &[Clinical], Covering::Service, 10);
    story.withdraws(consent, 120, true);
    assert!(allowed(&story, Clinical, 119));
    let decision = decide(story.evidence(), Clinical, &requester(), at(130));
    assert_eq!(decision.reasons[0].code, ReasonCode::ConsentWithdrawn);
    let words = decision.explain(story.evidence(), &explain_utc);
    assert!(
        words[0].remedy.as_deref().unwrap().contains("Destroy it"),
        "{:?}",
        words[0].remedy
    );
}

#[test]
fn c8_a_partial_withdrawal_leaves_the_other_purposes() {
    let mut story = Story::recording(&["Alex"], &[Clinical, SocialMedia]);
    let consent = story.consents("Alex", &[Clinical, SocialMedia], Covering::Service, 10);
    story.withdraws_purposes(consent, Some(&[SocialMedia]), 120, true);
    assert!(allowed(&story, Clinical, 130));
    assert!(!allowed(&story, SocialMedia, 130));
}

#[test]
fn c8_identification_recordings_are_exempt_from_withdrawal() {
    let mut story = Story::recording(&["Alex"], &[Identification, Activities]);
    let consent = story.consents("Alex", &[Identification, Activities], Covering::Service, 10);
    story.withdraws(consent, 120, true);
    let decision = decide(story.evidence(), Identification, &requester(), at(130));
    assert!(decision.is_allowed());
    assert!(
        decision
            .reasons
            .iter()
            .any(|r| r.code == ReasonCode::IdentificationExemptFromWithdrawal)
    );
    assert!(!allowed(&story, Activities, 130));
}

#[test]
fn c8_the_exemption_is_for_identification_recordings_only() {
    let mut story = Story::recording(&["Alex"], &[Activities]);
    let consent = story.consents("Alex", &[Identification, Activities], Covering::Service, 10);
    story.withdraws(consent, 120, true);
    assert!(!allowed(&story, Identification, 130));
}

#[test]
fn c9_choices_that_delete_refuse_the_recording_and_the_others_do_not() {
    for (choice, deleted) in [
        (StopChoice::DiscontinueAndDelete, true),
        (StopChoice::DeleteSoFarAndContinue, true),
        (StopChoice::DeleteAtEnd, true),
        (StopChoice::PauseAndResume, false),
        (StopChoice::DiscontinueAndKeep, false),
    ] {
        let mut story =
            Story::recording(&["Alex"], &[Clinical]).in_session(SessionKind::Individual, &[]);
        story.consents("Alex", &[Clinical], Covering::Service, 10);
        story.stops(choice, 70);
        assert_eq!(!allowed(&story, Clinical, 100), deleted, "{choice:?}");
        assert!(
            allowed(&story, Clinical, 65),
            "{choice:?} counts only from the stop"
        );
    }
}

#[test]
fn c9_deleting_so_far_spares_recordings_started_after_the_stop() {
    let mut story =
        Story::recording(&["Alex"], &[Clinical]).in_session(SessionKind::Individual, &[]);
    story.consents("Alex", &[Clinical], Covering::Service, 10);
    story.stops(StopChoice::DeleteSoFarAndContinue, 55);
    assert!(
        allowed(&story, Clinical, 100),
        "this recording started at 60, after the stop at 55"
    );
}

#[test]
fn c9_a_deletion_reaches_copies_of_the_recording() {
    let mut story =
        Story::recording(&["Alex"], &[Clinical]).in_session(SessionKind::Individual, &[]);
    story.consents("Alex", &[Clinical], Covering::Service, 10);
    let copy = story.derives(true, &[], 80);
    story.stops(StopChoice::DeleteAtEnd, 90);
    let decision = decide(&story.about_copy(copy), Clinical, &requester(), at(100));
    assert!(
        decision
            .blocking()
            .any(|r| r.code == ReasonCode::DeletionRequested)
    );
}

#[test]
fn c10_research_needs_the_study_named_and_consent_to_that_study() {
    let mut story = Story::recording(&["Alex"], &[Clinical, Research]);
    story.consents("Alex", &[Research], Covering::Service, 10);
    let unnamed = decide(story.evidence(), Research, &requester(), at(100));
    assert!(
        unnamed
            .blocking()
            .any(|r| r.code == ReasonCode::StudyNotNamed)
    );
    let other = decide(
        story.evidence(),
        Research,
        &researcher("24/LO/9999"),
        at(100),
    );
    assert!(
        other
            .blocking()
            .any(|r| r.code == ReasonCode::NoConsentForStudy)
    );
    let same = decide(
        story.evidence(),
        Research,
        &researcher("23/ne/0123"),
        at(100),
    );
    assert!(same.is_allowed(), "{:?}", same.reasons);
}

#[test]
fn c11_teaching_needs_a_de_identified_copy() {
    let mut story = Story::recording(&["Alex"], &[Clinical, Teaching]);
    story.consents("Alex", &[Clinical, Teaching], Covering::Service, 10);
    assert_eq!(
        codes(&story, Teaching, 100),
        vec![ReasonCode::NeedsDeIdentifiedCopy, ReasonCode::ConsentGiven]
    );
    let copy = story.derives(true, &[], 110);
    let original = decide(story.evidence(), Teaching, &requester(), at(120));
    assert_eq!(original.blocking().next().unwrap().alternative, Some(copy));
    assert!(decide(&story.about_copy(copy), Teaching, &requester(), at(120)).is_allowed());
}

#[test]
fn c11_a_de_identified_copy_still_needs_teaching_consent() {
    let mut story = Story::recording(&["Alex"], &[Clinical]);
    story.consents("Alex", &[Clinical], Covering::Service, 10);
    let copy = story.derives(true, &[], 110);
    let decision = decide(&story.about_copy(copy), Teaching, &requester(), at(120));
    assert!(
        decision
            .blocking()
            .any(|r| r.code == ReasonCode::ChangeOfUse)
    );
}

#[test]
fn c12_a_staff_meeting_record_needs_no_consent_once_attendees_are_told() {
    let story = Story::recording(&["Alex", "Billie"], &[Administrative])
        .in_session(SessionKind::StaffMeeting, &[]);
    assert_eq!(
        codes(&story, Administrative, 100),
        vec![ReasonCode::AttendeesNotInformed]
    );
    let story = story.attendees_informed(50);
    assert_eq!(
        codes(&story, Administrative, 100),
        vec![ReasonCode::NotRequiredForMeeting]
    );
    assert!(
        !allowed(&story, Teaching, 100),
        "other uses of a staff meeting still need consent"
    );
}

#[test]
fn c12_a_personal_staff_meeting_needs_consent() {
    let mut story = Story::recording(&["Alex"], &[Administrative])
        .in_session(SessionKind::PersonalStaffMeeting, &[])
        .attendees_informed(50);
    assert_eq!(
        codes(&story, Administrative, 100),
        vec![ReasonCode::ConsentMissingForPersonalMeeting]
    );
    story.consents("Alex", &[Administrative], Covering::Session, 51);
    assert!(allowed(&story, Administrative, 100));
}

#[test]
fn x1_every_blocking_reason_says_what_would_make_the_use_allowed() {
    let mut story = Story::recording(&["Alex", "Billie"], &[Clinical])
        .in_session(SessionKind::Group, &[])
        .in_course();
    let alex = story.consents("Alex", &[Clinical], Covering::Course, 10);
    story.withdraws(alex, 20, true);
    story.refuses("Billie", &[Teaching], Covering::Service, 10);
    story.stops(StopChoice::DeleteAtEnd, 65);
    for purpose in Purpose::ALL {
        let decision = decide(story.evidence(), *purpose, &researcher("x"), at(100));
        for words in decision.explain(story.evidence(), &explain_utc) {
            assert!(!words.message.is_empty());
            if words.effect == "blocks" {
                assert!(
                    words.remedy.as_deref().is_some_and(|r| !r.is_empty()),
                    "{} has no remedy",
                    words.code
                );
            }
        }
    }
}

#[test]
fn d9_a_destroyed_recording_cannot_be_used_for_anything() {
    let mut story = Story::recording(&["Alex"], &[Clinical, Identification]);
    story.consents("Alex", &[Clinical, Identification], Covering::Service, 10);
    story.evidence_mut().destroyed_at = Some(at(90));
    assert!(allowed(&story, Clinical, 80), "before it was destroyed");
    for purpose in [Clinical, Identification] {
        assert!(codes(&story, purpose, 100).contains(&ReasonCode::Destroyed));
        assert!(!allowed(&story, purpose, 100));
    }
}

#[test]
fn r1_a_recording_cannot_be_used_before_it_was_made() {
    let mut story = Story::recording(&["Alex"], &[Clinical]);
    story.consents("Alex", &[Clinical], Covering::Service, 10);
    assert!(codes(&story, Clinical, 30).contains(&ReasonCode::NotYetMade));
}
