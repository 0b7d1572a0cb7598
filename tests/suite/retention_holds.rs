//! Legal holds (D7): a matter required, every destruction path refused while one stands, and
//! lifting only by the records manager, with a reason, audited.

use axum::http::StatusCode;
use custodian_testkit::TestApp;
use serde_json::json;

use crate::retention::{transcribed_video, video_of};

async fn d7_a_held_recording_is_refused_by_every_destruction_path(app: TestApp) {
    let manager = app.member_with_role("records_manager").await;
    let ig = app.member_with_role("information_governance_lead").await;
    let (person, id) = transcribed_video(&app, 1).await;
    let placed = app
        .as_(&ig)
        .post(
            "/api/v1/legal-holds",
            json!({
        "matter": {"kind": "complaint", "reference": "COMPLAINT-2026-0042"}, "persons": [person]}),
        )
        .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);

    // The API's destroy.
    let destroy = app
        .as_(&manager)
        .post(
            &format!("/api/v1/recordings/{id}/destruction"),
            json!({"reason": "Transcribed into the care record", "rule": "D5"}),
        )
        .await;
    assert_eq!(destroy.status, StatusCode::CONFLICT, "{}", destroy.body);
    assert_eq!(destroy.code(), "hold.under_legal_hold");
    assert_eq!(destroy.body["requirement"], "D7");
    assert!(
        destroy.body["detail"]
            .as_str()
            .unwrap()
            .contains("COMPLAINT-2026-0042")
    );

    // Approval at review.
    let approve = app
        .as_(&manager)
        .post(
            &format!("/api/v1/disposals/{id}/review"),
            json!({"outcome": "approve"}),
        )
        .await;
    assert_eq!(approve.status, StatusCode::CONFLICT, "{}", approve.body);
    assert_eq!(approve.code(), "hold.under_legal_hold");
    assert_eq!(approve.body["requirement"], "D7");

    // The queue and the sweeper see it held, and give no notice of it as due.
    let queue = app.as_(&manager).get("/api/v1/disposals?within=30").await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.body);
    assert_eq!(
        queue.body["held"][0]["recording_id"],
        id.as_str(),
        "{}",
        queue.body
    );
    assert!(queue.body["due_now"].as_array().unwrap().is_empty());
    let swept = app.custodian.sweep_retention().await.unwrap();
    assert_eq!((swept.held, swept.noticed), (1, 0));

    // Lifted, approved, then held again: carrying out the approval is refused at that moment.
    let lifted = app
        .as_(&manager)
        .post(
            &format!(
                "/api/v1/legal-holds/{}/lift",
                placed.body["id"].as_str().unwrap()
            ),
            json!({"reason": "The complaint was resolved"}),
        )
        .await;
    assert_eq!(lifted.status, StatusCode::OK, "{}", lifted.body);
    let approve = app
        .as_(&manager)
        .post(
            &format!("/api/v1/disposals/{id}/review"),
            json!({"outcome": "approve"}),
        )
        .await;
    assert_eq!(approve.status, StatusCode::CREATED, "{}", approve.body);
    let again = app
        .as_(&ig)
        .post(
            "/api/v1/legal-holds",
            json!({
        "matter": {"kind": "litigation", "reference": "CLAIM-QB-2026-0007"}, "recordings": [id]}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    let carried = app
        .as_(&manager)
        .post_empty(&format!("/api/v1/disposals/{id}/destruction"))
        .await;
    assert_eq!(carried.status, StatusCode::CONFLICT, "{}", carried.body);
    assert_eq!(carried.code(), "hold.under_legal_hold");
    assert!(
        carried.body["detail"]
            .as_str()
            .unwrap()
            .contains("CLAIM-QB-2026-0007")
    );
    let record = app.get(&format!("/api/v1/recordings/{id}")).await;
    assert_eq!(
        record.body["media"]["destroyed"], false,
        "the media is still there: {}",
        record.body
    );
}

async fn d7_lifting_a_hold_needs_the_records_manager_and_is_audited(app: TestApp) {
    let manager = app.member_with_role("records_manager").await;
    let ig = app.member_with_role("information_governance_lead").await;
    let person = app.person("Hal", "has_capacity").await;
    let id = video_of(&app, &person, 7).await;
    let refused = app
        .post(
            "/api/v1/legal-holds",
            json!({
        "matter": {"kind": "inquiry", "reference": "INQ-2026-3"}, "recordings": [id]}),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "a practitioner places no hold: {}",
        refused.body
    );
    let placed = app
        .as_(&ig)
        .post(
            "/api/v1/legal-holds",
            json!({
        "matter": {"kind": "inquiry", "reference": "INQ-2026-3"}, "recordings": [id]}),
        )
        .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    let hold = placed.body["id"].as_str().unwrap().to_owned();
    let listed = app.as_(&ig).get("/api/v1/legal-holds").await;
    assert_eq!(listed.body[0]["id"], hold.as_str(), "{}", listed.body);
    let recording = app
        .as_(&manager)
        .get(&format!("/api/v1/recordings/{id}"))
        .await;
    assert_eq!(
        recording.body["disposal"]["held_by"][0]["reference"], "INQ-2026-3",
        "{}",
        recording.body
    );

    let lift = |token: String| {
        let app = &app;
        let hold = hold.clone();
        async move {
            app.as_(&token)
                .post(
                    &format!("/api/v1/legal-holds/{hold}/lift"),
                    json!({"reason": "The inquiry closed without findings"}),
                )
                .await
        }
    };
    let by_ig = lift(ig.clone()).await;
    assert_eq!(by_ig.status, StatusCode::FORBIDDEN, "{}", by_ig.body);
    assert!(
        by_ig.body["detail"]
            .as_str()
            .unwrap()
            .contains("records managers"),
        "{}",
        by_ig.body
    );
    let without_reason = app
        .as_(&manager)
        .post(
            &format!("/api/v1/legal-holds/{hold}/lift"),
            json!({"reason": " "}),
        )
        .await;
    assert_eq!(
        without_reason.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        without_reason.body
    );
    let lifted = lift(manager.clone()).await;
    assert_eq!(lifted.status, StatusCode::OK, "{}", lifted.body);
    assert_eq!(
        lifted.body["lifted"]["reason"],
        "The inquiry closed without findings"
    );
    let twice = lift(manager.clone()).await;
    assert_eq!(
        twice.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        twice.body
    );
    assert_eq!(twice.code(), "hold.already_lifted");

    let history = app
        .as_(&manager)
        .get(&format!("/api/v1/recordings/{id}/audit"))
        .await;
    let events = history.body.as_array().unwrap();
    let lifting = events
        .iter()
        .find(|e| e["action"] == "legal_hold.lifted")
        .expect("the lifting is audited");
    assert!(
        lifting
            .to_string()
            .contains("The inquiry closed without findings"),
        "{lifting}"
    );
    assert!(events.iter().any(|e| e["action"] == "legal_hold.placed"));
}

async fn d7_a_hold_without_a_matter_is_refused(app: TestApp) {
    let ig = app.member_with_role("information_governance_lead").await;
    let person = app.person("Max", "has_capacity").await;
    for body in [
        json!({"persons": [person]}),
        json!({"matter": {"kind": "litigation", "reference": "  "}, "persons": [person]}),
    ] {
        let refused = app.as_(&ig).post("/api/v1/legal-holds", body).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert_eq!(refused.code(), "hold.without_matter");
        assert_eq!(refused.body["requirement"], "D7");
    }
    let nothing = app
        .as_(&ig)
        .post(
            "/api/v1/legal-holds",
            json!({"matter": {"kind": "litigation", "reference": "CLAIM-1"}}),
        )
        .await;
    assert_eq!(nothing.code(), "hold.covers_nothing", "{}", nothing.body);
    let listed = app.as_(&ig).get("/api/v1/legal-holds").await;
    assert_eq!(listed.body, json!([]), "nothing was placed");
}

on_both_backends!(app:
    d7_a_held_recording_is_refused_by_every_destruction_path,
    d7_lifting_a_hold_needs_the_records_manager_and_is_audited,
    d7_a_hold_without_a_matter_is_refused,
);
