//! The disposal queue, reviews, warranted destruction and the sweeper (D2, D4, D9).

use axum::http::StatusCode;
use custodian_app::AppError;
use custodian_testkit::fixtures::minutes_from_now;
use custodian_testkit::{Backend, TestApp};
use serde_json::{Value, json};

use crate::retention::{recording_actions, today, transcribed_video, video_of};

async fn d4_a_records_manager_approves_what_is_due_and_it_is_destroyed_with_a_certificate(
    app: TestApp,
) {
    let manager = app.member_with_role("records_manager").await;
    let (_, id) = transcribed_video(&app, 4).await;
    let not_approved = app
        .as_(&manager)
        .post_empty(&format!("/api/v1/disposals/{id}/destruction"))
        .await;
    assert_eq!(
        not_approved.status,
        StatusCode::CONFLICT,
        "{}",
        not_approved.body
    );
    assert_eq!(not_approved.code(), "disposal.not_approved");

    let queue = app.as_(&manager).get("/api/v1/disposals?within=90").await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.body);
    let due: Vec<&Value> = queue.body["due_now"].as_array().unwrap().iter().collect();
    assert!(
        due.iter()
            .any(|e| e["recording_id"] == id.as_str() && e["rule"] == "d5-transcript"),
        "{}",
        queue.body
    );

    let odd_window = app.as_(&manager).get("/api/v1/disposals?within=45").await;
    assert_eq!(
        odd_window.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        odd_window.body
    );
    assert!(
        odd_window.body["detail"]
            .as_str()
            .unwrap()
            .contains("30, 60, 90")
    );

    let approved = app
        .as_(&manager)
        .post(
            &format!("/api/v1/disposals/{id}/review"),
            json!({"outcome": "approve"}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::CREATED, "{}", approved.body);
    assert_eq!(approved.body["outcome"], "approved");
    assert_eq!(approved.body["action"], "destroy");

    let certificate = app
        .as_(&manager)
        .post_empty(&format!("/api/v1/disposals/{id}/destruction"))
        .await;
    assert_eq!(
        certificate.status,
        StatusCode::CREATED,
        "{}",
        certificate.body
    );
    assert!(!certificate.body["signature"].as_str().unwrap().is_empty());
    let signed: Value =
        serde_json::from_str(certificate.body["payload"].as_str().unwrap()).unwrap();
    assert_eq!(signed["recording_id"], id.as_str());
    assert_eq!(signed["rule"], "d5-transcript");
    assert_eq!(signed["content_key_destroyed"], true);

    // The register keeps the stub; the media is gone; the queue no longer lists it.
    let stub = app
        .as_(&manager)
        .get(&format!("/api/v1/recordings/{id}"))
        .await;
    assert_eq!(stub.status, StatusCode::OK, "{}", stub.body);
    let kept = app
        .as_(&manager)
        .get(&format!("/api/v1/recordings/{id}/destruction"))
        .await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.body);
    let media = app
        .get(&format!("/api/v1/recordings/{id}/media?purpose=clinical"))
        .await;
    assert_eq!(media.status, StatusCode::GONE, "{}", media.body);
    let queue = app.as_(&manager).get("/api/v1/disposals?within=90").await;
    assert!(!queue.body.to_string().contains(&id), "{}", queue.body);
    let twice = app
        .as_(&manager)
        .post_empty(&format!("/api/v1/disposals/{id}/destruction"))
        .await;
    assert_eq!(twice.status, StatusCode::GONE, "{}", twice.body);
    let done = recording_actions(&app, &manager, &id).await;
    for expected in [
        "disposal.approved",
        "recording.destroyed",
        "disposal.carried_out",
    ] {
        assert!(done.iter().any(|a| a == expected), "{expected} in {done:?}");
    }
}

async fn d2_an_extension_needs_a_later_date_and_moves_the_due_date(app: TestApp) {
    let manager = app.member_with_role("records_manager").await;
    let (_, id) = transcribed_video(&app, 5).await;
    let earlier = app.as_(&manager).post(&format!("/api/v1/disposals/{id}/review"), json!({"outcome": "extend", "until": "2001-01-01", "reason": "Needed for a clinical audit"})).await;
    assert_eq!(
        earlier.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        earlier.body
    );
    assert_eq!(earlier.code(), "disposal.extension_not_later");
    let extended = app.as_(&manager).post(&format!("/api/v1/disposals/{id}/review"), json!({"outcome": "extend", "until": "2099-06-30", "reason": "Needed for a clinical audit"})).await;
    assert_eq!(extended.status, StatusCode::CREATED, "{}", extended.body);
    assert_eq!(extended.body["disposal"]["due_on"], "2099-06-30");
    assert_eq!(extended.body["disposal"]["action"], "review");
    assert!(
        extended.body["disposal"]["reason"]
            .as_str()
            .unwrap()
            .contains("Needed for a clinical audit")
    );
    let unknown = app
        .as_(&manager)
        .post(
            &format!("/api/v1/disposals/{id}/review"),
            json!({"outcome": "shred"}),
        )
        .await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.body
    );
}

async fn d2_an_approval_by_someone_without_the_role_is_refused_naming_the_rule(app: TestApp) {
    let ig = app.member_with_role("information_governance_lead").await;
    let (_, id) = transcribed_video(&app, 6).await;
    for token in [app.token.clone(), ig] {
        let refused = app
            .as_(&token)
            .post(
                &format!("/api/v1/disposals/{id}/review"),
                json!({"outcome": "approve"}),
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        assert_eq!(refused.code(), "access.refused");
        let detail = refused.body["detail"].as_str().unwrap();
        assert!(
            detail.contains("D4.records-manager-retention") && detail.contains("records managers"),
            "{detail}"
        );
    }
}

async fn d2_a_sweep_gives_notice_once_and_refuses_a_clock_that_went_backwards(app: TestApp) {
    let manager = app.member_with_role("records_manager").await;
    let (_, id) = transcribed_video(&app, 9).await;
    let first = app.custodian.sweep_retention().await.unwrap();
    assert_eq!((first.due_now, first.noticed), (1, 1));
    let second = app.custodian.sweep_retention().await.unwrap();
    assert_eq!(
        (second.due_now, second.noticed),
        (1, 0),
        "notice is given once, not at every sweep"
    );
    assert_eq!(
        second.changed, 0,
        "a sweep over states that have not changed writes none of them: {second:?}"
    );
    let history = recording_actions(&app, &manager, &id).await;
    assert_eq!(history.iter().filter(|a| *a == "disposal.due").count(), 1);

    app.clock.rewind(time::Duration::hours(2));
    let refused = app.custodian.sweep_retention().await.unwrap_err();
    assert!(
        matches!(&refused, AppError::Invalid(e) if e.code() == "retention.clock_went_backwards"),
        "{refused}"
    );
    assert!(
        refused.to_string().contains("last sweep") || refused.to_string().contains("earlier"),
        "{refused}"
    );
    app.clock.advance(time::Duration::hours(2));
}

async fn r6_destroying_a_recording_brings_its_stills_up_and_leaves_a_transcript_standing(
    app: TestApp,
) {
    let manager = app.member_with_role("records_manager").await;
    let person = app.consenting_person("Rae", &["clinical"]).await;
    let id = video_of(&app, &person, 7).await;
    let derive = |kind: &'static str| {
        let (app, id) = (&app, id.clone());
        async move {
            let reply = app
                .post(
                    &format!("/api/v1/recordings/{id}/derivatives"),
                    json!({"kind": kind, "device": "EDIT-1", "made_at": minutes_from_now(-1), "purpose": "clinical"}),
                )
                .await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
            reply.id()
        }
    };
    let still = derive("still").await;
    let transcript = derive("transcript").await;
    let disposal = |id: String| {
        let (app, manager) = (&app, &manager);
        async move {
            app.as_(manager)
                .get(&format!("/api/v1/recordings/{id}"))
                .await
                .body["disposal"]
                .clone()
        }
    };
    let transcript_before = disposal(transcript.clone()).await;
    assert_ne!(
        disposal(still.clone()).await["governed_by"]["kind"],
        "source_destroyed"
    );

    let destroyed = app
        .as_(&manager)
        .post(
            &format!("/api/v1/recordings/{id}/destruction"),
            json!({"reason": "Transcribed into the care record", "rule": "D5"}),
        )
        .await;
    assert_eq!(destroyed.status, StatusCode::CREATED, "{}", destroyed.body);

    let following = disposal(still.clone()).await;
    assert_eq!(following["action"], "destroy", "{following}");
    assert_eq!(following["due_on"], today(), "{following}");
    assert!(
        following["reason"].as_str().unwrap().contains("(R6)"),
        "{following}"
    );
    let standing = disposal(transcript.clone()).await;
    assert_eq!(
        standing["due_on"], transcript_before["due_on"],
        "{standing}"
    );
    assert_eq!(
        standing["action"], transcript_before["action"],
        "{standing}"
    );
    assert!(
        standing["reason"].as_str().unwrap().contains("(D5)"),
        "{standing}"
    );

    // The sweeper reads the same fact, and the records manager finds the still in the queue.
    app.custodian.sweep_retention().await.unwrap();
    let swept = disposal(still.clone()).await;
    assert!(
        swept["reason"].as_str().unwrap().contains("(R6)"),
        "{swept}"
    );
    let queue = app
        .as_(&manager)
        .get("/api/v1/disposals?section=due_now")
        .await;
    assert!(queue.body.to_string().contains(&still), "{}", queue.body);
    let history = recording_actions(&app, &manager, &id).await;
    assert!(
        history.iter().any(|a| a == "recording.destroyed"),
        "{history:?}"
    );
}

on_both_backends!(app:
    r6_destroying_a_recording_brings_its_stills_up_and_leaves_a_transcript_standing,
    d4_a_records_manager_approves_what_is_due_and_it_is_destroyed_with_a_certificate,
    d2_an_extension_needs_a_later_date_and_moves_the_due_date,
    d2_an_approval_by_someone_without_the_role_is_refused_naming_the_rule,
    d2_a_sweep_gives_notice_once_and_refuses_a_clock_that_went_backwards,
);

/// Two servers sweeping one PostgreSQL at once: the second either finds the first's lease and
/// leaves the sweep to it, or (the first done) sweeps and finds every notice already given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d4_two_sweeps_at_once_on_postgresql_process_each_item_once() {
    if custodian_testkit::skip_without(custodian_testkit::Needs::Postgres).await {
        return;
    }
    let app = TestApp::new(Backend::Postgres).await;
    let manager = app.member_with_role("records_manager").await;
    let mut ids = Vec::new();
    for seed in 10..13 {
        ids.push(transcribed_video(&app, seed).await.1);
    }
    let (one, other) = (app.custodian.clone(), app.custodian.clone());
    let (a, b) = tokio::join!(
        tokio::spawn(async move { one.sweep_retention().await }),
        tokio::spawn(async move { other.sweep_retention().await }),
    );
    let (a, b) = (a.unwrap().unwrap(), b.unwrap().unwrap());
    assert_eq!(
        a.noticed + b.noticed,
        3,
        "each due recording is noticed once: {a:?} {b:?}"
    );
    for report in [&a, &b] {
        assert!(
            report.due_now == 3 || report.running_elsewhere_since.is_some(),
            "each sweep swept everything or left it to the other: {report:?}"
        );
    }
    assert!(a.running_elsewhere_since.is_none() || b.running_elsewhere_since.is_none());
    for id in ids {
        let history = recording_actions(&app, &manager, &id).await;
        assert_eq!(
            history.iter().filter(|a| *a == "disposal.due").count(),
            1,
            "{id}"
        );
    }
}

/// Two sweeps racing on one recording in PostgreSQL (D2): the second's conditional write waits
/// for the first's row lock and then finds the notice given, so only one records it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d2_two_sweeps_racing_on_one_recording_give_its_notice_once() {
    if custodian_testkit::skip_without(custodian_testkit::Needs::Postgres).await {
        return;
    }
    let app = TestApp::new(Backend::Postgres).await;
    let (_, id) = transcribed_video(&app, 14).await;
    let recording = custodian_core::ids::RecordingId::from_uuid(id.parse().unwrap());
    let due = time::macros::date!(2026 - 01 - 01);
    let register = app.custodian.register().clone();
    let mut first = register.write().await.unwrap();
    assert!(first.notice_due_once(recording, due).await.unwrap());
    let racing = register.clone();
    let second = tokio::spawn(async move {
        let mut tx = racing.write().await.unwrap();
        let recorded = tx.notice_due_once(recording, due).await.unwrap();
        tx.commit().await.unwrap();
        recorded
    });
    // Long enough for the second to reach the row and wait on the first's lock.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    first.commit().await.unwrap();
    assert!(
        !second.await.unwrap(),
        "the second sweep finds the notice given"
    );
}
