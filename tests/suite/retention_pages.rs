//! The disposal queue page (D2, D7, D9, C8): reviews, destruction, held recordings and tasks.
//! Legal holds, the schedule and the links to them are in `retention_pages_holds`.

use axum::http::StatusCode;
use custodian_testkit::{CLINICIAN, CLINICIAN_PASSWORD, TestApp};
use serde_json::json;

use crate::access_pages::{get, post};
use crate::retention::{
    consented_teaching_video, recording_actions, transcribed_video, withdraw_choosing_hand_over,
};

/// A records manager's page cookie and API token.
pub(crate) async fn records_manager(app: &TestApp) -> (String, String) {
    let token = app.member_with_role("records_manager").await;
    let cookie = app
        .cookie_for("records.manager.member", TestApp::MEMBER_PASSWORD)
        .await;
    (cookie, token)
}

/// A teaching video of a new person who then withdraws consent, choosing to have recordings
/// handed over: a `withdrawal` task is raised (C8). Returns the recording's id.
pub(crate) async fn withdrawn_video(app: &TestApp, seed: u64) -> String {
    let (consent, id) = consented_teaching_video(app, "Wren", seed).await;
    withdraw_choosing_hand_over(app, &consent).await;
    id
}

async fn d2_a_records_manager_extends_a_due_recording_from_the_queue_page(app: TestApp) {
    let (cookie, token) = records_manager(&app).await;
    let (_, id) = transcribed_video(&app, 31).await;
    let (status, html) = get(&app, &cookie, "/disposals").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let row = &html[html
        .find(&format!("id=\"recording-{id}\""))
        .expect("the due recording")..];
    assert!(
        row.contains("d5-transcript") && row.contains("Destroy"),
        "{row}"
    );
    assert!(
        row.contains(&format!("href=\"/disposals/{id}/review\"")),
        "{row}"
    );
    let (status, html) = get(&app, &cookie, "/disposals?within=90").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Due within 90 days"), "{html}");

    let review = format!("/disposals/{id}/review");
    let (status, html) = get(&app, &cookie, &review).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Video recording made"), "{html}");

    // No decision, no reason, no date: each is named, and what was typed stays.
    let (status, _, html) = post(&app, &cookie, &review, &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("href=\"#outcome\""), "{html}");
    let (status, _, html) = post(
        &app,
        &cookie,
        &review,
        &[
            ("outcome", "extend"),
            ("until", "2099-06-30"),
            ("reason", "  "),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("href=\"#reason\"") && html.contains("Give the reason"),
        "{html}"
    );
    assert!(
        html.contains("value=\"2099-06-30\""),
        "the date stays: {html}"
    );
    let (status, _, html) = post(
        &app,
        &cookie,
        &review,
        &[
            ("outcome", "extend"),
            ("until", "30/06/2099"),
            ("reason", "Needed for a clinical audit"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("href=\"#until\""), "{html}");
    assert!(
        html.contains("Needed for a clinical audit"),
        "the reason stays: {html}"
    );

    // An earlier date is refused with the core's words, beside the date.
    let (status, _, html) = post(
        &app,
        &cookie,
        &review,
        &[
            ("outcome", "extend"),
            ("until", "2001-01-01"),
            ("reason", "Needed for a clinical audit"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    let summary = &html[html.find("error-summary").expect("an error summary")..];
    assert!(summary.contains("href=\"#until\""), "{summary}");

    let (status, location, _) = post(
        &app,
        &cookie,
        &review,
        &[
            ("outcome", "extend"),
            ("until", "2099-06-30"),
            ("reason", "Needed for a clinical audit"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/disposals?done=extended");
    let recording = app
        .as_(&token)
        .get(&format!("/api/v1/recordings/{id}"))
        .await;
    assert_eq!(
        recording.body["disposal"]["due_on"], "2099-06-30",
        "{}",
        recording.body
    );
    let history = recording_actions(&app, &token, &id).await;
    assert!(history.contains(&"disposal.extended".to_owned()));
    let (_, html) = get(&app, &cookie, "/disposals").await;
    assert!(
        !html.contains(&format!("id=\"recording-{id}\"")),
        "no longer due: {html}"
    );
}

async fn d9_a_records_manager_approves_then_destroys_from_the_queue_page_but_not_a_held_one(
    app: TestApp,
) {
    let (cookie, token) = records_manager(&app).await;
    let (_, id) = transcribed_video(&app, 32).await;
    let (_, held) = transcribed_video(&app, 33).await;
    for recording in [&id, &held] {
        let (status, location, html) = post(
            &app,
            &cookie,
            &format!("/disposals/{recording}/review"),
            &[("outcome", "approve")],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
        assert_eq!(location, "/disposals?done=approved");
    }
    let (_, html) = get(&app, &cookie, "/disposals?done=approved").await;
    assert!(html.contains("Its disposal is approved"), "{html}");
    assert!(
        html.contains(&format!("action=\"/disposals/{id}/destruction\"")),
        "{html}"
    );

    // A hold placed after the approval still stops the destruction (D7), named on the queue.
    let placed = app
        .as_(&token)
        .post(
            "/api/v1/legal-holds",
            json!({
        "matter": {"kind": "litigation", "reference": "CLAIM-2026-0007"}, "recordings": [held]}),
        )
        .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    let (_, html) = get(&app, &cookie, "/disposals").await;
    let row = &html[html.find(&format!("id=\"recording-{held}\"")).unwrap()..];
    assert!(row.contains("CLAIM-2026-0007"), "{row}");
    assert!(
        !html.contains(&format!("action=\"/disposals/{held}/destruction\"")),
        "no destruction is offered for a held recording: {html}"
    );
    let (status, _, html) = post(
        &app,
        &cookie,
        &format!("/disposals/{held}/destruction"),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    let summary = &html[html.find("error-summary").expect("an error summary")..];
    assert!(
        summary.contains("CLAIM-2026-0007") && summary.contains("D7"),
        "{summary}"
    );
    let record = app.get(&format!("/api/v1/recordings/{held}")).await;
    assert_eq!(
        record.body["media"]["destroyed"], false,
        "the held recording is kept: {}",
        record.body
    );

    let (status, location, _) =
        post(&app, &cookie, &format!("/disposals/{id}/destruction"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/disposals?done=destroyed");
    let media = app
        .get(&format!("/api/v1/recordings/{id}/media?purpose=clinical"))
        .await;
    assert_eq!(media.status, StatusCode::GONE);
    let certificate = app
        .as_(&token)
        .get(&format!("/api/v1/recordings/{id}/destruction"))
        .await;
    assert_eq!(certificate.status, StatusCode::OK, "{}", certificate.body);

    // Destroying it again from an old page says it is gone.
    let (status, _, html) = post(&app, &cookie, &format!("/disposals/{id}/destruction"), &[]).await;
    assert_eq!(status, StatusCode::GONE, "{html}");
    assert!(html.contains("already destroyed"), "{html}");
}

async fn c8_a_records_manager_marks_a_withdrawal_task_done_once(app: TestApp) {
    let (cookie, token) = records_manager(&app).await;
    let id = withdrawn_video(&app, 34).await;
    let (status, html) = get(&app, &cookie, "/disposals").await;
    assert_eq!(status, StatusCode::OK);
    let done = format!("/disposals/{id}/tasks/withdrawal/done");
    assert!(html.contains(&format!("action=\"{done}\"")), "{html}");
    assert!(
        html.contains("hand the recordings over to the person"),
        "{html}"
    );

    let (status, location, _) = post(&app, &cookie, &done, &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/disposals?done=task#tasks");
    let (_, html) = get(&app, &cookie, "/disposals").await;
    assert!(!html.contains(&format!("action=\"{done}\"")), "{html}");

    // A second "done", from a page left open, is refused saying when and by whom.
    let (status, _, html) = post(&app, &cookie, &done, &[]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    let summary = &html[html.find("error-summary").expect("an error summary")..];
    assert!(
        summary.contains("already marked done") && summary.contains("Test records.manager.member"),
        "{summary}"
    );

    // The API: the same refusal, and the task is no longer open.
    let twice = app.as_(&token).post_empty(&format!("/api/v1{done}")).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.body);
    assert_eq!(twice.code(), "disposal_task.already_done");
    let open = app.as_(&token).get("/api/v1/disposal-tasks").await;
    assert_eq!(open.status, StatusCode::OK, "{}", open.body);
    assert!(!open.body.to_string().contains(&id), "{}", open.body);
    let unknown = app
        .as_(&token)
        .post_empty(&format!("/api/v1/disposals/{id}/tasks/shred/done"))
        .await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.body
    );
    let history = recording_actions(&app, &token, &id).await;
    assert_eq!(
        history
            .iter()
            .filter(|a| *a == "disposal.task_done")
            .count(),
        1
    );

    // Not for practitioners.
    let practitioner = app.cookie_for(CLINICIAN, CLINICIAN_PASSWORD).await;
    let (status, _, html) = post(&app, &practitioner, &done, &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
    assert!(html.contains("D4.records-manager-retention"), "{html}");
}

on_both_backends!(app:
    d2_a_records_manager_extends_a_due_recording_from_the_queue_page,
    d9_a_records_manager_approves_then_destroys_from_the_queue_page_but_not_a_held_one,
    c8_a_records_manager_marks_a_withdrawal_task_done_once,
);
