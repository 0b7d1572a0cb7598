//! Retention, disposal and legal holds through the API (D2–D10): disposal states stored and
//! recalculated by trigger, the queue and its reviews, destruction only with a warrant, legal
//! holds on every path, the schedule's periods, and the sweeper.

use axum::http::{Method, StatusCode};
use custodian_app::AppError;
use custodian_testkit::fixtures::{minutes_from_now, mp4};
use custodian_testkit::{Backend, Reply, TestApp};
use serde_json::{Value, json};

fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

/// Uploads a clinical video of `person`; returns the recording's id.
async fn video_of(app: &TestApp, person: &str, seed: u64) -> String {
    let reply = app
        .upload(
            &json!({
                "kind": "video", "service": "CAMHS-NORTH", "subjects": [person], "purposes": ["clinical"],
                "device": "TAB-0042", "made_at": minutes_from_now(-30), "location": "Therapy room 2",
            }),
            mp4(20_000, seed),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.headers["custodian-recording-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// A clinical video of a new person whose content is now in the care record: due for
/// destruction today under `d5-transcript` (D5).
async fn transcribed_video(app: &TestApp, seed: u64) -> (String, String) {
    let person = app.person("Tam", "has_capacity").await;
    let id = video_of(app, &person, seed).await;
    let reply = app
        .post(
            &format!("/api/v1/recordings/{id}/retention"),
            json!({"trigger": "transcript_made", "on": today()}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["due_on"], today(), "{}", reply.body);
    assert_eq!(reply.body["action"], "destroy");
    assert_eq!(reply.body["rule"], "d5-transcript");
    (person, id)
}

async fn as_member(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Reply {
    app.call(method, path, Some(token), body).await
}

fn actions(history: &Reply) -> Vec<String> {
    history
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

async fn d7_a_held_recording_is_refused_by_every_destruction_path(app: TestApp) {
    let manager = app.member_with_role("records_manager").await;
    let ig = app.member_with_role("information_governance_lead").await;
    let (person, id) = transcribed_video(&app, 1).await;
    let placed = as_member(
        &app,
        &ig,
        Method::POST,
        "/api/v1/legal-holds",
        Some(json!({
        "matter": {"kind": "complaint", "reference": "COMPLAINT-2026-0042"}, "persons": [person]})),
    )
    .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);

    // The API's destroy.
    let destroy = as_member(
        &app,
        &manager,
        Method::POST,
        &format!("/api/v1/recordings/{id}/destruction"),
        Some(json!({"reason": "Transcribed into the care record", "rule": "D5"})),
    )
    .await;
    assert_eq!(destroy.status, StatusCode::CONFLICT, "{}", destroy.body);
    assert_eq!(destroy.code(), "recording.under_legal_hold");
    assert_eq!(destroy.body["requirement"], "D7");
    assert!(
        destroy.body["detail"]
            .as_str()
            .unwrap()
            .contains("COMPLAINT-2026-0042")
    );

    // Approval at review.
    let approve = as_member(
        &app,
        &manager,
        Method::POST,
        &format!("/api/v1/disposals/{id}/review"),
        Some(json!({"outcome": "approve"})),
    )
    .await;
    assert_eq!(
        approve.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        approve.body
    );
    assert_eq!(approve.code(), "hold.under_legal_hold");
    assert_eq!(approve.body["requirement"], "D7");

    // The queue and the sweeper see it held, and give no notice of it as due.
    let queue = as_member(
        &app,
        &manager,
        Method::GET,
        "/api/v1/disposals?within=30",
        None,
    )
    .await;
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
    let lifted = as_member(
        &app,
        &manager,
        Method::POST,
        &format!(
            "/api/v1/legal-holds/{}/lift",
            placed.body["id"].as_str().unwrap()
        ),
        Some(json!({"reason": "The complaint was resolved"})),
    )
    .await;
    assert_eq!(lifted.status, StatusCode::OK, "{}", lifted.body);
    let approve = as_member(
        &app,
        &manager,
        Method::POST,
        &format!("/api/v1/disposals/{id}/review"),
        Some(json!({"outcome": "approve"})),
    )
    .await;
    assert_eq!(approve.status, StatusCode::CREATED, "{}", approve.body);
    let again = as_member(
        &app,
        &ig,
        Method::POST,
        "/api/v1/legal-holds",
        Some(json!({
        "matter": {"kind": "litigation", "reference": "CLAIM-QB-2026-0007"}, "recordings": [id]})),
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    let carried = as_member(
        &app,
        &manager,
        Method::POST,
        &format!("/api/v1/disposals/{id}/destruction"),
        None,
    )
    .await;
    assert_eq!(carried.status, StatusCode::CONFLICT, "{}", carried.body);
    assert_eq!(carried.code(), "recording.under_legal_hold");
    assert!(
        carried.body["detail"]
            .as_str()
            .unwrap()
            .contains("CLAIM-QB-2026-0007")
    );
    let media = app.get(&format!("/api/v1/recordings/{id}/media")).await;
    assert_eq!(media.status, StatusCode::OK, "the media is still there");
}

async fn d4_a_discharge_recalculates_only_that_persons_recordings(app: TestApp) {
    let discharged = app.person("Dee", "has_capacity").await;
    let other = app.person("Oli", "has_capacity").await;
    let theirs = video_of(&app, &discharged, 2).await;
    let others = video_of(&app, &other, 3).await;
    let before = app.get(&format!("/api/v1/recordings/{others}")).await;
    assert_eq!(before.status, StatusCode::OK);
    assert_eq!(
        before.body["disposal"]["due_on"],
        Value::Null,
        "waiting for the end of care: {}",
        before.body
    );
    assert_eq!(
        before.body["disposal"]["rule"],
        "d4-clinical-with-care-record"
    );

    let recalculated = app
        .post(
            &format!("/api/v1/persons/{discharged}/retention-events"),
            json!({"trigger": "end_of_care", "on": "2010-01-04"}),
        )
        .await;
    assert_eq!(recalculated.status, StatusCode::OK, "{}", recalculated.body);
    assert_eq!(recalculated.body["recordings"], 1);

    let after = app.get(&format!("/api/v1/recordings/{theirs}")).await;
    let disposal = &after.body["disposal"];
    assert_eq!(disposal["due_on"], "2018-01-04", "{}", after.body);
    assert_eq!(disposal["action"], "review");
    assert_eq!(disposal["rule"], "d4-clinical-with-care-record");
    assert!(
        disposal["reason"]
            .as_str()
            .unwrap()
            .contains("8 years after"),
        "{disposal}"
    );
    let untouched = app.get(&format!("/api/v1/recordings/{others}")).await;
    assert_eq!(
        untouched.body["disposal"], before.body["disposal"],
        "the other person's state was not recalculated"
    );
}

async fn d4_a_records_manager_approves_what_is_due_and_it_is_destroyed_with_a_certificate(
    app: TestApp,
) {
    let manager = app.member_with_role("records_manager").await;
    let (_, id) = transcribed_video(&app, 4).await;
    let not_approved = as_member(
        &app,
        &manager,
        Method::POST,
        &format!("/api/v1/disposals/{id}/destruction"),
        None,
    )
    .await;
    assert_eq!(
        not_approved.status,
        StatusCode::CONFLICT,
        "{}",
        not_approved.body
    );
    assert_eq!(not_approved.code(), "disposal.not_approved");

    let queue = as_member(
        &app,
        &manager,
        Method::GET,
        "/api/v1/disposals?within=90",
        None,
    )
    .await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.body);
    let due: Vec<&Value> = queue.body["due_now"].as_array().unwrap().iter().collect();
    assert!(
        due.iter()
            .any(|e| e["recording_id"] == id.as_str() && e["rule"] == "d5-transcript"),
        "{}",
        queue.body
    );

    let approved = as_member(
        &app,
        &manager,
        Method::POST,
        &format!("/api/v1/disposals/{id}/review"),
        Some(json!({"outcome": "approve"})),
    )
    .await;
    assert_eq!(approved.status, StatusCode::CREATED, "{}", approved.body);
    assert_eq!(approved.body["outcome"], "approved");
    assert_eq!(approved.body["action"], "destroy");

    let certificate = as_member(
        &app,
        &manager,
        Method::POST,
        &format!("/api/v1/disposals/{id}/destruction"),
        None,
    )
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
    let stub = as_member(
        &app,
        &manager,
        Method::GET,
        &format!("/api/v1/recordings/{id}"),
        None,
    )
    .await;
    assert_eq!(stub.status, StatusCode::OK, "{}", stub.body);
    let kept = as_member(
        &app,
        &manager,
        Method::GET,
        &format!("/api/v1/recordings/{id}/destruction"),
        None,
    )
    .await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.body);
    let media = app.get(&format!("/api/v1/recordings/{id}/media")).await;
    assert_eq!(media.status, StatusCode::GONE, "{}", media.body);
    let queue = as_member(
        &app,
        &manager,
        Method::GET,
        "/api/v1/disposals?within=90",
        None,
    )
    .await;
    assert!(!queue.body.to_string().contains(&id), "{}", queue.body);
    let twice = as_member(
        &app,
        &manager,
        Method::POST,
        &format!("/api/v1/disposals/{id}/destruction"),
        None,
    )
    .await;
    assert_eq!(twice.status, StatusCode::GONE, "{}", twice.body);
    let history = as_member(
        &app,
        &manager,
        Method::GET,
        &format!("/api/v1/recordings/{id}/audit"),
        None,
    )
    .await;
    let done = actions(&history);
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
    let earlier = as_member(&app, &manager, Method::POST, &format!("/api/v1/disposals/{id}/review"),
        Some(json!({"outcome": "extend", "until": "2001-01-01", "reason": "Needed for a clinical audit"}))).await;
    assert_eq!(
        earlier.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        earlier.body
    );
    assert_eq!(earlier.code(), "disposal.extension_not_later");
    let extended = as_member(&app, &manager, Method::POST, &format!("/api/v1/disposals/{id}/review"),
        Some(json!({"outcome": "extend", "until": "2099-06-30", "reason": "Needed for a clinical audit"}))).await;
    assert_eq!(extended.status, StatusCode::CREATED, "{}", extended.body);
    assert_eq!(extended.body["disposal"]["due_on"], "2099-06-30");
    assert_eq!(extended.body["disposal"]["action"], "review");
    assert!(
        extended.body["disposal"]["reason"]
            .as_str()
            .unwrap()
            .contains("Needed for a clinical audit")
    );
    let unknown = as_member(
        &app,
        &manager,
        Method::POST,
        &format!("/api/v1/disposals/{id}/review"),
        Some(json!({"outcome": "shred"})),
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
        let refused = as_member(
            &app,
            &token,
            Method::POST,
            &format!("/api/v1/disposals/{id}/review"),
            Some(json!({"outcome": "approve"})),
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
    let placed = as_member(
        &app,
        &ig,
        Method::POST,
        "/api/v1/legal-holds",
        Some(json!({
        "matter": {"kind": "inquiry", "reference": "INQ-2026-3"}, "recordings": [id]})),
    )
    .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    let hold = placed.body["id"].as_str().unwrap().to_owned();
    let listed = as_member(&app, &ig, Method::GET, "/api/v1/legal-holds", None).await;
    assert_eq!(listed.body[0]["id"], hold.as_str(), "{}", listed.body);
    let recording = as_member(
        &app,
        &manager,
        Method::GET,
        &format!("/api/v1/recordings/{id}"),
        None,
    )
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
            as_member(
                app,
                &token,
                Method::POST,
                &format!("/api/v1/legal-holds/{hold}/lift"),
                Some(json!({"reason": "The inquiry closed without findings"})),
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
    let without_reason = as_member(
        &app,
        &manager,
        Method::POST,
        &format!("/api/v1/legal-holds/{hold}/lift"),
        Some(json!({"reason": " "})),
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

    let history = as_member(
        &app,
        &manager,
        Method::GET,
        &format!("/api/v1/recordings/{id}/audit"),
        None,
    )
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
        let refused = as_member(&app, &ig, Method::POST, "/api/v1/legal-holds", Some(body)).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert_eq!(refused.code(), "hold.without_matter");
        assert_eq!(refused.body["requirement"], "D7");
    }
    let nothing = as_member(
        &app,
        &ig,
        Method::POST,
        "/api/v1/legal-holds",
        Some(json!({"matter": {"kind": "litigation", "reference": "CLAIM-1"}})),
    )
    .await;
    assert_eq!(nothing.code(), "hold.covers_nothing", "{}", nothing.body);
    let listed = as_member(&app, &ig, Method::GET, "/api/v1/legal-holds", None).await;
    assert_eq!(listed.body, json!([]), "nothing was placed");
}

async fn d4_an_unknown_trigger_is_refused(app: TestApp) {
    let person = app.person("Uma", "has_capacity").await;
    let id = video_of(&app, &person, 8).await;
    for (path, trigger) in [
        (
            format!("/api/v1/persons/{person}/retention-events"),
            "moved_to_mars",
        ),
        (
            format!("/api/v1/persons/{person}/retention-events"),
            "transcript_made",
        ),
        (format!("/api/v1/recordings/{id}/retention"), "death"),
    ] {
        let refused = app
            .post(&path, json!({"trigger": trigger, "on": "2020-01-01"}))
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert_eq!(
            refused.code(),
            "retention.unknown_trigger",
            "{}",
            refused.body
        );
        assert_eq!(refused.body["requirement"], "D4");
        assert!(refused.body["detail"].as_str().unwrap().contains(trigger));
    }
}

async fn d4_a_negative_or_absurd_period_is_refused_naming_the_rule(app: TestApp) {
    let manager = app.member_with_role("records_manager").await;
    let path = "/api/v1/retention/schedule/d2-yearly-review/period";
    for (period, code) in [
        (json!({"years": -1}), "retention.negative_period"),
        (json!({"years": 101}), "retention.absurd_period"),
        (json!({"days": 40000}), "retention.absurd_period"),
    ] {
        let refused = as_member(&app, &manager, Method::PUT, path, Some(period)).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert_eq!(refused.code(), code);
        assert_eq!(refused.body["requirement"], "D4");
        assert!(
            refused.body["detail"]
                .as_str()
                .unwrap()
                .contains("d2-yearly-review"),
            "{}",
            refused.body
        );
    }
    let unknown = as_member(
        &app,
        &manager,
        Method::PUT,
        "/api/v1/retention/schedule/no-such-rule/period",
        Some(json!({"years": 2})),
    )
    .await;
    assert_eq!(unknown.code(), "retention.unknown_rule", "{}", unknown.body);
    let practitioner = app.put(path, json!({"years": 2})).await;
    assert_eq!(practitioner.status, StatusCode::FORBIDDEN);

    let changed = as_member(&app, &manager, Method::PUT, path, Some(json!({"years": 2}))).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let schedule = as_member(
        &app,
        &manager,
        Method::GET,
        "/api/v1/retention/schedule",
        None,
    )
    .await;
    let rule = schedule.body["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "d2-yearly-review")
        .unwrap()
        .clone();
    assert_eq!(
        (rule["years"].clone(), rule["period"].clone()),
        (json!(2), json!("2 years")),
        "{rule}"
    );
    assert!(rule["source"].as_str().unwrap().contains("D2"));
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
    let history = as_member(
        &app,
        &manager,
        Method::GET,
        &format!("/api/v1/recordings/{id}/audit"),
        None,
    )
    .await;
    assert_eq!(
        actions(&history)
            .iter()
            .filter(|a| *a == "disposal.due")
            .count(),
        1
    );

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

app_on_both_backends!(
    d7_a_held_recording_is_refused_by_every_destruction_path,
    d4_a_discharge_recalculates_only_that_persons_recordings,
    d4_a_records_manager_approves_what_is_due_and_it_is_destroyed_with_a_certificate,
    d2_an_extension_needs_a_later_date_and_moves_the_due_date,
    d2_an_approval_by_someone_without_the_role_is_refused_naming_the_rule,
    d7_lifting_a_hold_needs_the_records_manager_and_is_audited,
    d7_a_hold_without_a_matter_is_refused,
    d4_an_unknown_trigger_is_refused,
    d4_a_negative_or_absurd_period_is_refused_naming_the_rule,
    d2_a_sweep_gives_notice_once_and_refuses_a_clock_that_went_backwards,
);

/// Two servers sweeping one PostgreSQL at once: the sweeper's row lock makes the second wait
/// for the first, which then finds every notice already given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d4_two_sweeps_at_once_on_postgresql_process_each_item_once() {
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
    assert_eq!((a.due_now, b.due_now), (3, 3));
    for id in ids {
        let history = as_member(
            &app,
            &manager,
            Method::GET,
            &format!("/api/v1/recordings/{id}/audit"),
            None,
        )
        .await;
        assert_eq!(
            actions(&history)
                .iter()
                .filter(|a| *a == "disposal.due")
                .count(),
            1,
            "{id}"
        );
    }
}
