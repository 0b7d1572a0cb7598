//! The register keeps what it is given, on both backends, and refuses duplicates.

use custodian_core::audit::{Actor, AuditEntry, AuditOutcome, ChainVerifier};
use custodian_core::consent::{
    CapacityDecision, Consent, ConsentAnswer, ConsentGiver, Disposition, EthicsReference,
    ResearchApproval, Scope, Signature, SignatureMethod, Withdrawal, Withdrawer,
};
use custodian_core::ids::*;
use custodian_core::nhs_number::NhsNumber;
use custodian_core::person::{
    Capacity, LocalIdentifier, Person, PersonName, Representative, RepresentativeKind,
};
use custodian_core::purpose::{Purpose, PurposeSet};
use custodian_core::recording::{Derivation, DerivationKind, Recording, RecordingKind};
use custodian_core::session::{
    Confirmation, Confirmer, Course, Session, SessionKind, Stop, StopChoice,
};
use custodian_core::staff::{StaffMember, Username};
use custodian_core::text::{Note, ServiceCode, ShortText};
use custodian_store::{StaffAccount, StoreError};
use custodian_testkit::TestDatabase;
use time::OffsetDateTime;
use time::macros::{date, datetime};
use uuid::Uuid;

fn id<T: From<Uuid>>() -> T {
    T::from(Uuid::now_v7())
}

const NOW: OffsetDateTime = datetime!(2026-11-23 10:00:00.123456 UTC);

fn short(text: &str) -> ShortText {
    ShortText::parse("text", text).unwrap()
}

async fn staff(db: &TestDatabase) -> StaffId {
    let account = StaffAccount {
        member: StaffMember {
            id: id(),
            username: Username::parse(&format!("clinician.{}", Uuid::now_v7().simple())).unwrap(),
            display_name: short("Dr Test Clinician"),
            roles: vec![custodian_core::staff::Role::Practitioner],
            services: vec![custodian_core::text::ServiceCode::parse("CAMHS-NORTH").unwrap()],
        },
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$placeholder$placeholder".to_owned(),
        must_change_password: false,
        created_at: NOW,
        disabled_at: None,
        totp_enrolled_at: None,
    };
    let mut tx = db.register.write().await.unwrap();
    tx.insert_staff(&account).await.unwrap();
    tx.commit().await.unwrap();
    account.member.id
}

fn person(nhs: &str, capacity: Capacity) -> Person {
    Person {
        id: id(),
        name: PersonName::parse("Alex", "Testperson").unwrap(),
        date_of_birth: date!(1980 - 02 - 29),
        nhs_number: Some(NhsNumber::parse(nhs).unwrap()),
        local_identifier: Some(
            LocalIdentifier::parse(&format!(
                "RX1-{}",
                &Uuid::now_v7().simple().to_string()[24..]
            ))
            .unwrap(),
        ),
        capacity,
    }
}

async fn stories_round_trip_every_entity(db: TestDatabase) {
    let by = staff(&db).await;
    let alex = person("9990000018", Capacity::LacksCapacity);
    let billie = person("9991234578", Capacity::HasCapacity);
    let representative = Representative {
        id: id(),
        person_id: alex.id,
        name: short("Jo Testperson"),
        kind: RepresentativeKind::LastingPowerOfAttorney,
        contact: Some(short("07700 900123")),
    };
    let course = Course {
        id: id(),
        service: ServiceCode::parse("CAMHS-NORTH").unwrap(),
        title: short("Family therapy, autumn"),
    };
    let session = Session {
        id: id(),
        kind: SessionKind::Family,
        personal_meeting_kind: None,
        service: course.service.clone(),
        course_id: Some(course.id),
        title: short("Session 3"),
        starts_at: NOW,
        participants: {
            let mut p = vec![alex.id, billie.id];
            p.sort();
            p
        },
        attendees_informed_at: Some(NOW),
    };
    let consent = Consent {
        id: id(),
        person_id: alex.id,
        answer: ConsentAnswer::Given,
        purposes: PurposeSet::parse(["clinical", "research"]).unwrap(),
        given_by: ConsentGiver::Representative {
            representative_id: representative.id,
            capacity_decision: CapacityDecision {
                assessed_on: date!(2026 - 11 - 20),
                assessed_by: short("Dr Assessor, psychiatrist"),
                decision: Note::parse("decision", "Cannot weigh the information.\nReviewed twice.")
                    .unwrap(),
            },
            best_interest_note: Note::parse("note", "Helps the family see progress.").unwrap(),
        },
        scope: Scope::Course {
            course_id: course.id,
        },
        signed_at: NOW,
        signature: Signature {
            method: SignatureMethod::TypedWithWitness,
            signed_by: short("Jo Testperson"),
            witness: Some(short("Nurse Witness")),
            drawing: None,
        },
        representatives_may_have_copies: true,
        research: Some(ResearchApproval {
            study: short("Outcomes study"),
            ethics_reference: EthicsReference::parse("23/NE/0123").unwrap(),
        }),
        notes: None,
    };
    let withdrawal = Withdrawal {
        id: id(),
        consent_id: consent.id,
        person_id: alex.id,
        at: NOW,
        purposes: PurposeSet::only(Purpose::Research),
        withdrawn_by: Withdrawer::Representative {
            representative_id: representative.id,
        },
        existing_recordings: Disposition::HandOver,
        note: Some(Note::parse("note", "Phoned the clinic").unwrap()),
    };
    let confirmation = Confirmation {
        id: id(),
        session_id: session.id,
        person_id: billie.id,
        willing: true,
        at: NOW,
        confirmed_by: Confirmer::Person,
        note: None,
    };
    let stop = Stop {
        id: id(),
        session_id: session.id,
        at: NOW,
        choice: StopChoice::PauseAndResume,
        requested_by: Some(billie.id),
        note: None,
    };
    let recording = Recording {
        id: id(),
        kind: RecordingKind::Video,
        service: session.service.clone(),
        session_id: Some(session.id),
        subjects: session.participants.clone(),
        purposes: PurposeSet::parse(["clinical"]).unwrap(),
        made_by: by,
        device: short("TAB-0042"),
        made_at: NOW,
        captured_at: NOW,
        location: short("Therapy room 2"),
        derivation: None,
    };
    let copy = Recording {
        id: id(),
        subjects: vec![billie.id],
        derivation: Some(Derivation {
            source: recording.id,
            original: recording.id,
            kind: DerivationKind::Redaction,
            de_identified: true,
            removed_persons: vec![alex.id],
            method: Some(Note::parse("method", "Blurred and muted").unwrap()),
        }),
        ..recording.clone()
    };

    let mut tx = db.register.write().await.unwrap();
    tx.insert_person(&alex, by, NOW).await.unwrap();
    tx.insert_person(&billie, by, NOW).await.unwrap();
    tx.insert_representative(&representative, by, NOW)
        .await
        .unwrap();
    tx.insert_course(&course, by, NOW).await.unwrap();
    tx.insert_session(&session, by, NOW).await.unwrap();
    tx.insert_consent(&consent, by, NOW).await.unwrap();
    tx.insert_withdrawal(&withdrawal, by, NOW).await.unwrap();
    tx.insert_confirmation(&confirmation, by, NOW)
        .await
        .unwrap();
    tx.insert_stop(&stop, by, NOW).await.unwrap();
    tx.insert_recording(&recording, by, NOW).await.unwrap();
    tx.insert_recording(&copy, by, NOW).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.register.read().await.unwrap();
    assert_eq!(tx.person(alex.id).await.unwrap(), Some(alex.clone()));
    assert_eq!(
        tx.representatives_of(alex.id).await.unwrap(),
        vec![representative.clone()]
    );
    assert_eq!(tx.course(course.id).await.unwrap(), Some(course.clone()));
    assert_eq!(tx.session(session.id).await.unwrap(), Some(session.clone()));
    assert_eq!(
        tx.consents_of(alex.id).await.unwrap(),
        vec![consent.clone()]
    );
    assert_eq!(tx.consent(consent.id).await.unwrap(), Some(consent.clone()));
    assert_eq!(
        tx.withdrawals_of(alex.id).await.unwrap(),
        vec![withdrawal.clone()]
    );
    assert_eq!(
        tx.confirmations_in(session.id).await.unwrap(),
        vec![confirmation.clone()]
    );
    assert_eq!(tx.stops_in(session.id).await.unwrap(), vec![stop.clone()]);
    assert_eq!(
        tx.recording(recording.id).await.unwrap(),
        Some(recording.clone())
    );
    assert_eq!(
        tx.derivatives_of(recording.id).await.unwrap(),
        vec![copy.clone()]
    );
    assert_eq!(tx.recordings_of(billie.id).await.unwrap().len(), 2);
    assert_eq!(
        tx.sessions_of(alex.id).await.unwrap(),
        vec![session.clone()]
    );
}

/// X1, as at a moment: each kind of evidence is read as the register held it, to the
/// microsecond, including moments in the same second as a row (SQLite keeps moments as text, in
/// which `…00Z` sorts after `…00.5Z`).
async fn x1_evidence_is_read_as_the_register_held_it_to_the_microsecond(db: TestDatabase) {
    let by = staff(&db).await;
    let alex = person("9990000018", Capacity::HasCapacity);
    let session = Session {
        id: id(),
        kind: SessionKind::Individual,
        personal_meeting_kind: None,
        service: ServiceCode::parse("CAMHS-NORTH").unwrap(),
        course_id: None,
        title: short("Session 1"),
        starts_at: NOW,
        participants: vec![alex.id],
        attendees_informed_at: None,
    };
    let recording = Recording {
        id: id(),
        kind: RecordingKind::Video,
        service: session.service.clone(),
        session_id: Some(session.id),
        subjects: vec![alex.id],
        purposes: PurposeSet::parse(["clinical"]).unwrap(),
        made_by: by,
        device: short("TAB-0042"),
        made_at: NOW,
        captured_at: NOW,
        location: short("Therapy room 2"),
        derivation: None,
    };
    // Whole, short, longer and half fractions of one second, then the next second.
    let second = datetime!(2026-11-24 10:00:00 UTC);
    let recorded = [
        second,
        datetime!(2026-11-24 10:00:00.12 UTC),
        datetime!(2026-11-24 10:00:00.123 UTC),
        datetime!(2026-11-24 10:00:00.5 UTC),
        datetime!(2026-11-24 10:00:01 UTC),
    ];
    let mut tx = db.register.write().await.unwrap();
    tx.insert_person(&alex, by, NOW).await.unwrap();
    tx.insert_session(&session, by, NOW).await.unwrap();
    tx.insert_recording(&recording, by, NOW).await.unwrap();
    for at in recorded {
        let consent = Consent {
            id: id(),
            person_id: alex.id,
            answer: ConsentAnswer::Given,
            purposes: PurposeSet::parse(["clinical"]).unwrap(),
            given_by: ConsentGiver::Person,
            scope: Scope::Service {
                service: session.service.clone(),
            },
            signed_at: NOW,
            signature: Signature {
                method: SignatureMethod::TypedWithWitness,
                signed_by: short("Alex Testperson"),
                witness: Some(short("Nurse Witness")),
                drawing: None,
            },
            representatives_may_have_copies: false,
            research: None,
            notes: None,
        };
        tx.insert_consent(&consent, by, at).await.unwrap();
        let withdrawal = Withdrawal {
            id: id(),
            consent_id: consent.id,
            person_id: alex.id,
            at: NOW,
            purposes: PurposeSet::only(Purpose::Clinical),
            withdrawn_by: Withdrawer::Person { had_capacity: true },
            existing_recordings: Disposition::Destroy,
            note: None,
        };
        tx.insert_withdrawal(&withdrawal, by, at).await.unwrap();
        let confirmation = Confirmation {
            id: id(),
            session_id: session.id,
            person_id: alex.id,
            willing: true,
            at: NOW,
            confirmed_by: Confirmer::Person,
            note: None,
        };
        tx.insert_confirmation(&confirmation, by, at).await.unwrap();
        let stop = Stop {
            id: id(),
            session_id: session.id,
            at: NOW,
            choice: StopChoice::PauseAndResume,
            requested_by: None,
            note: None,
        };
        tx.insert_stop(&stop, by, at).await.unwrap();
        let copy = Recording {
            id: id(),
            derivation: Some(Derivation {
                source: recording.id,
                original: recording.id,
                kind: DerivationKind::Redaction,
                de_identified: true,
                removed_persons: Vec::new(),
                method: None,
            }),
            ..recording.clone()
        };
        tx.insert_recording(&copy, by, at).await.unwrap();
    }
    tx.commit().await.unwrap();

    let micro = time::Duration::microseconds(1);
    let mut tx = db.register.read().await.unwrap();
    for known_at in [
        second - micro,
        second,
        second + micro,
        datetime!(2026-11-24 10:00:00.1 UTC),
        datetime!(2026-11-24 10:00:00.12 UTC),
        datetime!(2026-11-24 10:00:00.120001 UTC),
        datetime!(2026-11-24 10:00:00.123 UTC),
        datetime!(2026-11-24 10:00:00.2 UTC),
        datetime!(2026-11-24 10:00:00.5 UTC) - micro,
        datetime!(2026-11-24 10:00:00.5 UTC),
        datetime!(2026-11-24 10:00:00.999999 UTC),
        datetime!(2026-11-24 10:00:01 UTC),
        datetime!(2026-11-24 10:00:01.5 UTC),
    ] {
        let held = recorded.iter().filter(|at| **at <= known_at).count();
        let read = [
            tx.consents_known_at(alex.id, Some(known_at))
                .await
                .unwrap()
                .len(),
            tx.withdrawals_known_at(alex.id, Some(known_at))
                .await
                .unwrap()
                .len(),
            tx.confirmations_known_at(session.id, Some(known_at))
                .await
                .unwrap()
                .len(),
            tx.stops_known_at(session.id, Some(known_at))
                .await
                .unwrap()
                .len(),
            tx.derivatives_known_at(recording.id, Some(known_at))
                .await
                .unwrap()
                .len(),
        ];
        assert_eq!(read, [held; 5], "as known at {known_at}");
    }
    assert_eq!(tx.consents_of(alex.id).await.unwrap().len(), recorded.len());
}

async fn r1_a_duplicate_nhs_number_is_refused_and_nothing_is_half_written(db: TestDatabase) {
    let by = staff(&db).await;
    let first = person("9990000018", Capacity::HasCapacity);
    let mut tx = db.register.write().await.unwrap();
    tx.insert_person(&first, by, NOW).await.unwrap();
    tx.commit().await.unwrap();

    let second = person("9990000018", Capacity::HasCapacity);
    let mut tx = db.register.write().await.unwrap();
    let error = tx.insert_person(&second, by, NOW).await.unwrap_err();
    assert!(matches!(error, StoreError::Duplicate { .. }), "{error:?}");
    drop(tx);
    let mut tx = db.register.read().await.unwrap();
    assert_eq!(tx.count_persons().await.unwrap(), 1);
}

async fn s2_a_change_and_its_audit_event_commit_together_or_not_at_all(db: TestDatabase) {
    let by = staff(&db).await;
    let entry = |person: PersonId| AuditEntry {
        at: NOW,
        actor: Actor::Staff(by),
        action: "person.registered".to_owned(),
        person: Some(person),
        recording: None,
        outcome: AuditOutcome::Succeeded,
        detail: "{}".to_owned(),
    };
    let kept = person("9990000018", Capacity::HasCapacity);
    let mut tx = db.register.write().await.unwrap();
    tx.insert_person(&kept, by, NOW).await.unwrap();
    tx.append_audit(id(), entry(kept.id)).await.unwrap();
    tx.commit().await.unwrap();

    let abandoned = person("9991234578", Capacity::HasCapacity);
    let mut tx = db.register.write().await.unwrap();
    tx.insert_person(&abandoned, by, NOW).await.unwrap();
    tx.append_audit(id(), entry(abandoned.id)).await.unwrap();
    tx.rollback().await.unwrap();

    let mut tx = db.register.read().await.unwrap();
    assert_eq!(tx.person(abandoned.id).await.unwrap(), None);
    let head = tx.audit_head().await.unwrap();
    assert_eq!(
        head.seq, 1,
        "the abandoned event left no trace in the chain head"
    );
    let events = tx.audit_events_after(0, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].person, Some(kept.id));
    let mut verifier = ChainVerifier::new();
    for event in &events {
        verifier.check(event).unwrap();
    }
    assert_eq!(verifier.finish(head).unwrap(), head);
}

async fn s2_concurrent_writers_build_one_unbroken_chain(db: TestDatabase) {
    let by = staff(&db).await;
    let mut writers = Vec::new();
    for n in 0..8u32 {
        let register = db.register.clone();
        writers.push(tokio::spawn(async move {
            for m in 0..10u32 {
                let mut tx = register.write().await.unwrap();
                tx.append_audit(
                    id(),
                    AuditEntry {
                        at: NOW,
                        actor: Actor::Staff(by),
                        action: "decision.asked".to_owned(),
                        person: None,
                        recording: None,
                        outcome: AuditOutcome::Allowed,
                        detail: format!(r#"{{"writer":{n},"event":{m}}}"#),
                    },
                )
                .await
                .unwrap();
                tx.commit().await.unwrap();
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let mut tx = db.register.read().await.unwrap();
    let head = tx.audit_head().await.unwrap();
    assert_eq!(head.seq, 80);
    let events = tx.audit_events_after(0, 1000).await.unwrap();
    let mut verifier = ChainVerifier::new();
    for event in &events {
        verifier.check(event).unwrap();
    }
    verifier.finish(head).unwrap();
}

async fn s2_the_database_itself_refuses_to_alter_or_delete_audit_events(db: TestDatabase) {
    let by = staff(&db).await;
    let mut tx = db.register.write().await.unwrap();
    tx.append_audit(
        id(),
        AuditEntry {
            at: NOW,
            actor: Actor::Staff(by),
            action: "person.registered".to_owned(),
            person: None,
            recording: None,
            outcome: AuditOutcome::Succeeded,
            detail: "{}".to_owned(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    for statement in [
        "UPDATE audit_events SET detail = 'x'",
        "DELETE FROM audit_events",
    ] {
        let error = crate::schema::execute_directly(&db, statement)
            .await
            .unwrap_err();
        assert!(error.contains("append-only"), "{statement}: {error}");
    }
}

/// Writers that arrive together share a commit on SQLite; whatever is committed, dropped
/// half-way or rolled back, exactly the committed work remains and the chain stays whole.
async fn s2_concurrent_writers_keep_exactly_what_was_committed(db: TestDatabase) {
    let by = staff(&db).await;
    let mut writers = Vec::new();
    for n in 0..24u32 {
        let register = db.register.clone();
        writers.push(tokio::spawn(async move {
            let mut someone = person("9990000018", Capacity::HasCapacity);
            someone.nhs_number = None;
            someone.local_identifier = Some(LocalIdentifier::parse(&format!("W-{n}")).unwrap());
            let mut tx = register.write().await.unwrap();
            tx.insert_person(&someone, by, NOW).await.unwrap();
            tx.append_audit(
                id(),
                AuditEntry {
                    at: NOW,
                    actor: Actor::Staff(by),
                    action: "person.registered".to_owned(),
                    person: Some(someone.id),
                    recording: None,
                    outcome: AuditOutcome::Succeeded,
                    detail: "{}".to_owned(),
                },
            )
            .await
            .unwrap();
            tokio::task::yield_now().await;
            match n % 4 {
                0 => drop(tx),
                1 => tx.rollback().await.unwrap(),
                _ => {
                    tx.commit().await.unwrap();
                    return Some(someone.id);
                }
            }
            None
        }));
    }
    let mut committed = Vec::new();
    for writer in writers {
        committed.extend(writer.await.unwrap());
    }
    // A dropped write is undone by a background task; give it a moment, then write once more.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let tx = db.register.write().await.unwrap();
    tx.commit().await.unwrap();
    if let Some(statistics) = db.register.commit_statistics() {
        assert!(
            statistics.commits < statistics.writes,
            "writers shared commits: {statistics:?}"
        );
    }

    let mut tx = db.register.read().await.unwrap();
    assert_eq!(committed.len(), 12);
    assert_eq!(tx.count_persons().await.unwrap(), 12);
    for person in &committed {
        assert!(tx.person(*person).await.unwrap().is_some());
    }
    let head = tx.audit_head().await.unwrap();
    let events = tx.audit_events_after(0, 1000).await.unwrap();
    assert_eq!(events.len(), 12);
    let mut verifier = ChainVerifier::new();
    for event in &events {
        verifier.check(event).unwrap();
        assert!(committed.contains(&event.person.unwrap()));
    }
    verifier.finish(head).unwrap();
}

on_both_backends!(database:
    s2_concurrent_writers_keep_exactly_what_was_committed,
    stories_round_trip_every_entity,
    x1_evidence_is_read_as_the_register_held_it_to_the_microsecond,
    r1_a_duplicate_nhs_number_is_refused_and_nothing_is_half_written,
    s2_a_change_and_its_audit_event_commit_together_or_not_at_all,
    s2_concurrent_writers_build_one_unbroken_chain,
    s2_the_database_itself_refuses_to_alter_or_delete_audit_events,
);

/// A write abandoned half-way (an error, a dropped request) does not keep SQLite's write lock:
/// another process can write straight afterwards, and sees nothing of the abandoned work.
#[tokio::test]
async fn an_abandoned_sqlite_write_releases_the_lock_and_leaves_nothing() {
    use sqlx::Connection;

    let db = TestDatabase::new(custodian_testkit::Backend::Sqlite).await;
    let by = staff(&db).await;
    let abandoned = person("9990000018", Capacity::HasCapacity);
    let mut tx = db.register.write().await.unwrap();
    tx.insert_person(&abandoned, by, NOW).await.unwrap();
    drop(tx);

    let path = db.sqlite_path().unwrap();
    let mut other = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::raw_sql("PRAGMA busy_timeout = 2000")
        .execute(&mut other)
        .await
        .unwrap();
    sqlx::raw_sql("BEGIN IMMEDIATE; UPDATE staff SET display_name = 'Renamed'; COMMIT")
        .execute(&mut other)
        .await
        .expect("another process can write");
    let mut tx = db.register.read().await.unwrap();
    assert_eq!(tx.person(abandoned.id).await.unwrap(), None);
}
