//! Scenario and property tests of physical media and their destruction (D7, D9).

use proptest::prelude::*;
use proptest::sample::Index;
use time::Duration;
use uuid::Uuid;

use super::tests::{MADE, hold, person, recording, records_manager};
use super::*;
use crate::error::DomainError;
use crate::ids::{PersonId, PhysicalMediumId, RecordingId};

fn medium(kind: MediumKind, recordings: &[RecordingId]) -> PhysicalMedium {
    PhysicalMedium::register(
        PhysicalMediumId::from_uuid(Uuid::from_u128(0x7000)),
        MediumForm {
            kind,
            description: Some("Synthetic test medium".to_owned()),
            label: "DVD-2026-014".to_owned(),
            location: "Records office, cabinet 3".to_owned(),
            recordings: recordings.to_vec(),
            registered_by: records_manager(),
            registered_at: MADE,
        },
        MADE,
    )
    .unwrap()
}

fn destruction(method: DestructionMethod) -> DestructionForm {
    DestructionForm {
        method,
        carried_out_by: "Ada Shredwell".to_owned(),
        witness: Some("Ben Witnell".to_owned()),
        at: MADE + Duration::days(1),
        certificate: Some("CERT-0042".to_owned()),
        recorded_by: records_manager(),
    }
}

fn scope_of(n: u128, subjects: &[PersonId]) -> HoldScope {
    HoldScope {
        recording: recording(n),
        derived_from: Vec::new(),
        subjects: subjects.to_vec(),
    }
}

fn later() -> time::OffsetDateTime {
    MADE + Duration::days(2)
}

#[test]
fn d9_a_shredded_dvd_is_recorded_with_who_did_it_the_witness_and_the_certificate() {
    let dvd = medium(MediumKind::Disc, &[recording(1), recording(1)]);
    assert_eq!(dvd.recordings, vec![recording(1)], "listed once");
    let destroyed = dvd
        .destroy(
            destruction(DestructionMethod::Shredded),
            &[scope_of(1, &[])],
            &[],
            later(),
        )
        .unwrap();
    let done = destroyed.destruction.unwrap();
    assert_eq!(done.method, DestructionMethod::Shredded);
    assert_eq!(done.carried_out_by.as_str(), "Ada Shredwell");
    assert_eq!(done.witness.unwrap().as_str(), "Ben Witnell");
    assert_eq!(done.certificate.unwrap().as_str(), "CERT-0042");
    assert_eq!(done.recorded_at, later());
}

#[test]
fn d9_a_destruction_without_a_witness_is_recorded_because_the_policies_ask_for_none() {
    let form = DestructionForm {
        witness: Some("  ".to_owned()),
        ..destruction(DestructionMethod::Wiped)
    };
    let tape = medium(MediumKind::Tape, &[]);
    let done = tape.destroy(form, &[], &[], later()).unwrap();
    assert_eq!(done.destruction.unwrap().witness, None);
}

#[test]
fn d9_a_method_that_does_not_fit_the_kind_is_refused_naming_the_ones_that_do() {
    for (kind, method) in [
        (MediumKind::Disc, DestructionMethod::Wiped),
        (MediumKind::Print, DestructionMethod::Wiped),
        (MediumKind::Print, DestructionMethod::Degaussed),
        (MediumKind::UsbStick, DestructionMethod::Degaussed),
    ] {
        let error = medium(kind, &[])
            .destroy(destruction(method), &[], &[], later())
            .unwrap_err();
        assert_eq!(
            error.code(),
            "physical_media.method_unfit",
            "{kind:?} {method:?}"
        );
        assert_eq!(error.requirement(), Some(crate::Requirement::D9));
        assert_eq!(error.field(), Some("method"));
    }
    let error = medium(MediumKind::Disc, &[])
        .destroy(destruction(DestructionMethod::Wiped), &[], &[], later())
        .unwrap_err();
    assert!(
        error.to_string().contains("shredded, crushed, incinerated"),
        "{error}"
    );
}

#[test]
fn d9_every_kind_has_a_method_and_other_takes_any() {
    for kind in MediumKind::ALL {
        assert!(!kind.fitting_methods().is_empty(), "{kind:?}");
    }
    assert_eq!(MediumKind::Other.fitting_methods(), DestructionMethod::ALL);
}

#[test]
fn d9_an_other_medium_needs_a_description() {
    let form = |description: Option<&str>| MediumForm {
        kind: MediumKind::Other,
        description: description.map(str::to_owned),
        label: "SD-1".to_owned(),
        location: "Safe".to_owned(),
        recordings: Vec::new(),
        registered_by: records_manager(),
        registered_at: MADE,
    };
    let id = PhysicalMediumId::from_uuid(Uuid::from_u128(1));
    for missing in [None, Some(" ")] {
        let error = PhysicalMedium::register(id, form(missing), MADE).unwrap_err();
        assert_eq!(error, DomainError::MediumWithoutDescription);
    }
    let card = PhysicalMedium::register(id, form(Some("SD card")), MADE).unwrap();
    assert_eq!(card.description.unwrap().as_str(), "SD card");
}

#[test]
fn d9_a_medium_needs_a_label_and_a_place_and_is_not_registered_in_the_future() {
    let form = MediumForm {
        kind: MediumKind::Print,
        description: None,
        label: " ".to_owned(),
        location: "Office".to_owned(),
        recordings: Vec::new(),
        registered_by: records_manager(),
        registered_at: MADE,
    };
    let id = PhysicalMediumId::from_uuid(Uuid::from_u128(1));
    let error = PhysicalMedium::register(id, form.clone(), MADE).unwrap_err();
    assert_eq!(error, DomainError::Empty { field: "label" });
    let future = MediumForm {
        label: "P-1".to_owned(),
        registered_at: MADE + Duration::days(1),
        ..form
    };
    let error = PhysicalMedium::register(id, future, MADE).unwrap_err();
    assert_eq!(error.code(), "input.in_the_future");
}

#[test]
fn d9_a_medium_destroyed_once_cannot_be_destroyed_again() {
    let once = medium(MediumKind::UsbStick, &[])
        .destroy(destruction(DestructionMethod::Wiped), &[], &[], later())
        .unwrap();
    let error = once
        .destroy(destruction(DestructionMethod::Crushed), &[], &[], later())
        .unwrap_err();
    assert_eq!(error.code(), "physical_media.already_destroyed");
    assert!(error.to_string().contains("wiped"), "{error}");
}

#[test]
fn d9_a_destruction_dated_in_the_future_is_refused() {
    let form = DestructionForm {
        at: later() + Duration::days(3),
        ..destruction(DestructionMethod::Shredded)
    };
    let error = medium(MediumKind::Print, &[])
        .destroy(form, &[], &[], later())
        .unwrap_err();
    assert_eq!(error.code(), "input.in_the_future");
    assert_eq!(error.field(), Some("destroyed_at"));
}

#[test]
fn d9_the_witness_is_someone_other_than_who_destroyed_it() {
    let form = DestructionForm {
        witness: Some("ada  SHREDWELL".to_owned()),
        ..destruction(DestructionMethod::Shredded)
    };
    let error = medium(MediumKind::Print, &[])
        .destroy(form, &[], &[], later())
        .unwrap_err();
    assert_eq!(error, DomainError::WitnessIsDestroyer);
}

#[test]
fn d7_a_usb_stick_holding_a_held_recording_cannot_be_destroyed() {
    let stick = medium(MediumKind::UsbStick, &[recording(1), recording(2)]);
    let holds = [hold(1, MatterKind::Complaint, &[recording(2)], &[])];
    let error = stick
        .destroy(
            destruction(DestructionMethod::Wiped),
            &[scope_of(1, &[]), scope_of(2, &[])],
            &holds,
            later(),
        )
        .unwrap_err();
    assert_eq!(error.code(), "hold.under_legal_hold");
    assert_eq!(error.requirement(), Some(crate::Requirement::D7));
    assert!(error.to_string().contains("complaint `REF-1`"), "{error}");
}

#[test]
fn d7_a_hold_on_a_person_or_a_source_reaches_the_medium_even_without_a_scope() {
    let stick = medium(MediumKind::UsbStick, &[recording(1), recording(3)]);
    let by_person = [hold(1, MatterKind::Litigation, &[], &[person(1)])];
    assert!(
        stick
            .may_destroy(&[scope_of(1, &[person(1)])], &by_person)
            .is_err()
    );
    let source = HoldScope {
        derived_from: vec![recording(50)],
        ..scope_of(1, &[])
    };
    let by_source = [hold(2, MatterKind::Inquiry, &[recording(50)], &[])];
    assert!(stick.may_destroy(&[source], &by_source).is_err());
    // No scope given for recording 3: its own id is still checked.
    let by_id = [hold(3, MatterKind::Inquiry, &[recording(3)], &[])];
    assert!(stick.may_destroy(&[], &by_id).is_err());
}

#[test]
fn d7_a_lifted_hold_no_longer_stops_the_destruction() {
    let held = hold(1, MatterKind::Complaint, &[recording(1)], &[]);
    let lifted = held
        .lift(
            records_manager(),
            crate::text::Note::parse("reason", "resolved").unwrap(),
            later(),
            later(),
        )
        .unwrap();
    let stick = medium(MediumKind::UsbStick, &[recording(1)]);
    assert!(
        stick
            .destroy(
                destruction(DestructionMethod::Wiped),
                &[scope_of(1, &[])],
                &[lifted],
                later()
            )
            .is_ok()
    );
}

/// A generated hold: the recording it names (one of five), the person it names (one of three),
/// and whether it was lifted.
type HoldShape = (Index, Option<usize>, Option<usize>, bool);

proptest! {
    #[test]
    fn d7_no_medium_holding_a_held_recording_is_ever_destroyed(
        on_medium in proptest::collection::vec(1u128..6, 0..4),
        subjects in proptest::collection::vec(proptest::option::of(0usize..3), 5),
        sources in proptest::collection::vec(proptest::option::of(1u128..6), 5),
        shapes in proptest::collection::vec(
            (any::<Index>(), proptest::option::of(1usize..8), proptest::option::of(0usize..3), any::<bool>()),
            0..4,
        ),
        kind in any::<Index>(),
        method in any::<Index>(),
    ) {
        let kind = *kind.get(MediumKind::ALL);
        let method = *method.get(kind.fitting_methods());
        let recordings: Vec<RecordingId> = on_medium.iter().map(|n| recording(*n)).collect();
        let scopes: Vec<HoldScope> = (1u128..6)
            .map(|n| HoldScope {
                recording: recording(n),
                derived_from: sources.get((n - 1) as usize).copied().flatten()
                    .filter(|s| *s != n).map(recording).into_iter().collect(),
                subjects: subjects.get((n - 1) as usize).copied().flatten()
                    .map(|p| person(p as u128)).into_iter().collect(),
            })
            .collect();
        let holds: Vec<LegalHold> = shapes
            .iter()
            .enumerate()
            .filter(|(_, (_, named, who, _))| named.is_some() || who.is_some())
            .map(|(n, (kind, named, who, lifted)): (usize, &HoldShape)| {
                let placed = hold(
                    n as u128,
                    *kind.get(MatterKind::ALL),
                    &named.map(|r| recording(r as u128)).into_iter().collect::<Vec<_>>(),
                    &who.map(|p| person(p as u128)).into_iter().collect::<Vec<_>>(),
                );
                if *lifted {
                    placed.lift(records_manager(), crate::text::Note::parse("reason", "done").unwrap(), later(), later()).unwrap()
                } else {
                    placed
                }
            })
            .collect();
        let stick = medium(kind, &recordings);
        // Worked out independently of the code under test: a standing hold names a recording on
        // the medium, its source, or a person in it.
        let held = holds.iter().filter(|h| h.stands()).any(|h| {
            scopes.iter().filter(|s| recordings.contains(&s.recording)).any(|s| {
                h.recordings.contains(&s.recording)
                    || s.derived_from.iter().any(|d| h.recordings.contains(d))
                    || s.subjects.iter().any(|p| h.persons.contains(p))
            })
        });
        let outcome = stick.destroy(destruction(method), &scopes, &holds, later());
        if held {
            let error = outcome.unwrap_err();
            prop_assert_eq!(error.code(), "hold.under_legal_hold");
        } else {
            prop_assert!(outcome.is_ok(), "{:?}", outcome);
        }
    }
}
