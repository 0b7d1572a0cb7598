//! The audit trail detects tampering done directly in the database (S2, X3), on both backends.

use custodian_app::AppError;
use custodian_core::audit::{AuditEvent, ChainHead, ChainProblem};
use custodian_core::ids::AuditEventId;
use custodian_testkit::{Backend, TestApp};
use serde_json::json;
use uuid::Uuid;

use crate::schema::execute_directly;

/// Some activity through the API, so the trail has a few dozen events; then an auditor, whose
/// token it returns, so checking the trail later writes nothing to it.
async fn activity(app: &TestApp) -> String {
    for name in ["Ada", "Bela", "Cato", "Dara"] {
        let person = app.person(name, "has_capacity").await;
        let reply = app
            .post(
                &format!("/api/v1/persons/{person}/representatives"),
                json!({"name": "Jo Testperson", "kind": "next_of_kin"}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    app.member_with_role("auditor").await
}

/// Removes the triggers that refuse changes, as someone with full database access could.
async fn disable_protection(app: &TestApp) {
    let statements = match app.db.backend {
        Backend::Sqlite => {
            "DROP TRIGGER audit_events_are_never_updated; DROP TRIGGER audit_events_are_never_deleted;"
        }
        Backend::Postgres => {
            "DROP TRIGGER audit_events_are_never_updated ON audit_events; DROP TRIGGER audit_events_are_never_deleted ON audit_events;"
        }
    };
    execute_directly(&app.db, statements).await.unwrap();
}

async fn events(app: &TestApp) -> Vec<AuditEvent> {
    let mut tx = app.db.register.read().await.unwrap();
    tx.audit_events_after(0, 10_000).await.unwrap()
}

async fn broken_at(app: &TestApp, auditor: &str) -> (u64, ChainProblem) {
    match app.custodian.verify_audit_trail().await {
        Err(AppError::AuditBroken(broken)) => {
            // The API reports the same, for administrators.
            let reply = app.as_(auditor).get("/api/v1/audit/verify").await;
            assert_eq!(reply.body["intact"], false);
            assert_eq!(reply.body["first_bad_event"], broken.seq);
            (broken.seq, broken.problem)
        }
        other => panic!("tampering went unnoticed: {other:?}"),
    }
}

async fn s2_an_untouched_trail_verifies(app: TestApp) {
    let auditor = activity(&app).await;
    let trail = app.custodian.verify_audit_trail().await.unwrap();
    assert!(trail.events >= 8, "{trail:?}");
    let reply = app.as_(&auditor).get("/api/v1/audit/verify").await;
    assert_eq!(reply.body["intact"], true, "{}", reply.body);
}

async fn s2_an_altered_event_is_named(app: TestApp) {
    let auditor = activity(&app).await;
    disable_protection(&app).await;
    execute_directly(
        &app.db,
        r#"UPDATE audit_events SET detail = '{"forged":true}' WHERE seq = 5"#,
    )
    .await
    .unwrap();
    assert_eq!(broken_at(&app, &auditor).await, (5, ChainProblem::Altered));
}

async fn s2_a_deleted_event_is_named(app: TestApp) {
    let auditor = activity(&app).await;
    disable_protection(&app).await;
    execute_directly(&app.db, "DELETE FROM audit_events WHERE seq = 5")
        .await
        .unwrap();
    assert_eq!(
        broken_at(&app, &auditor).await,
        (5, ChainProblem::OutOfSequence { expected: 5 })
    );
}

async fn s2_an_inserted_event_with_a_correct_hash_is_named(app: TestApp) {
    let auditor = activity(&app).await;
    disable_protection(&app).await;
    let original = events(&app).await;
    // The forger knows the algorithm: the forged event 5 follows event 4 and hashes correctly.
    let mut forged = AuditEvent::seal(
        ChainHead {
            seq: 4,
            hash: original[3].hash,
        },
        AuditEventId::from_uuid(Uuid::now_v7()),
        custodian_core::audit::AuditEntry {
            at: original[3].at,
            actor: original[3].actor,
            action: "consent.recorded".to_owned(),
            person: original[3].person,
            recording: None,
            outcome: custodian_core::audit::AuditOutcome::Succeeded,
            detail: "{}".to_owned(),
        },
    );
    forged.seq = 5;
    execute_directly(
        &app.db,
        "UPDATE audit_events SET seq = seq + 100000 WHERE seq >= 5",
    )
    .await
    .unwrap();
    execute_directly(
        &app.db,
        "UPDATE audit_events SET seq = seq - 99999 WHERE seq >= 100000",
    )
    .await
    .unwrap();
    execute_directly(&app.db, "UPDATE audit_head SET seq = seq + 1")
        .await
        .unwrap();
    let actor = match forged.actor {
        custodian_core::audit::Actor::Staff(id) => id.to_string(),
        custodian_core::audit::Actor::System => panic!("the activity is a member of staff's"),
    };
    let (uuid, bytes) = match app.db.backend {
        Backend::Sqlite => ("X'{}'", "X'{}'"),
        Backend::Postgres => ("'{}'::uuid", "'\\x{}'::bytea"),
    };
    let hex_uuid = |id: Uuid| match app.db.backend {
        Backend::Sqlite => uuid.replace("{}", &id.simple().to_string()),
        Backend::Postgres => uuid.replace("{}", &id.to_string()),
    };
    let at = forged
        .at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let at = match app.db.backend {
        Backend::Sqlite => format!("'{}'", forged.at.format(&time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond][offset_hour sign:mandatory]:[offset_minute]")).unwrap()),
        Backend::Postgres => format!("'{at}'::timestamptz"),
    };
    let person = forged
        .person
        .map_or("NULL".to_owned(), |p| hex_uuid(p.as_uuid()));
    let statement = format!(
        "INSERT INTO audit_events (seq, id, at, actor_kind, actor_id, action, person_id, recording_id, outcome, detail, prev_hash, hash)
         VALUES (5, {}, {at}, 'staff', {}, 'consent.recorded', {person}, NULL, 'succeeded', '{{}}', {}, {})",
        hex_uuid(forged.id.as_uuid()),
        hex_uuid(actor.parse().unwrap()),
        bytes.replace("{}", &forged.prev_hash.to_string()),
        bytes.replace("{}", &forged.hash.to_string()),
    );
    execute_directly(&app.db, &statement).await.unwrap();
    let stored = events(&app).await;
    assert_eq!(
        stored[4].hash, forged.hash,
        "the forgery is stored as the forger intended"
    );
    assert_eq!(
        stored[4].content_hash(),
        forged.hash,
        "and hashes correctly on its own"
    );
    // The event after it moved: its number changed, so its hash no longer matches.
    assert_eq!(broken_at(&app, &auditor).await, (6, ChainProblem::Altered));
}

async fn s2_reordered_events_are_named(app: TestApp) {
    let auditor = activity(&app).await;
    disable_protection(&app).await;
    execute_directly(&app.db, "UPDATE audit_events SET seq = -1 WHERE seq = 5")
        .await
        .unwrap();
    execute_directly(&app.db, "UPDATE audit_events SET seq = 5 WHERE seq = 6")
        .await
        .unwrap();
    execute_directly(&app.db, "UPDATE audit_events SET seq = 6 WHERE seq = -1")
        .await
        .unwrap();
    assert_eq!(broken_at(&app, &auditor).await, (5, ChainProblem::Altered));
}

async fn s2_events_deleted_from_the_end_are_noticed(app: TestApp) {
    let auditor = activity(&app).await;
    disable_protection(&app).await;
    let total = events(&app).await.len() as u64;
    execute_directly(
        &app.db,
        &format!("DELETE FROM audit_events WHERE seq > {}", total - 2),
    )
    .await
    .unwrap();
    assert_eq!(
        broken_at(&app, &auditor).await,
        (total - 1, ChainProblem::Truncated { head_seq: total })
    );
}

async fn s2_a_refused_change_leaves_no_audit_event(app: TestApp) {
    activity(&app).await;
    let before = events(&app).await.len();
    let refused = app
        .post(
            "/api/v1/persons",
            json!({"given_name": "Eli", "family_name": "Testperson", "date_of_birth": "1980-01-01", "nhs_number": "9990000017", "capacity": "has_capacity"}),
        )
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(events(&app).await.len(), before);
}

on_both_backends!(app:
    s2_an_untouched_trail_verifies,
    s2_an_altered_event_is_named,
    s2_a_deleted_event_is_named,
    s2_an_inserted_event_with_a_correct_hash_is_named,
    s2_reordered_events_are_named,
    s2_events_deleted_from_the_end_are_noticed,
    s2_a_refused_change_leaves_no_audit_event,
);
