//! Retention through the API (D2–D6): disposal states stored and recalculated by trigger, bad
//! triggers refused, and the schedule's periods. Disposal is in `retention_disposal`, legal holds
//! in `retention_holds`.

use axum::http::StatusCode;
use custodian_testkit::fixtures::{minutes_from_now, mp4};
use custodian_testkit::{Reply, TestApp};
use serde_json::{Value, json};

pub(crate) fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

/// Uploads a clinical video of `person`; returns the recording's id.
pub(crate) async fn video_of(app: &TestApp, person: &str, seed: u64) -> String {
    video_made(app, person, None, 30, seed).await
}

/// Uploads a clinical video of `person` made `minutes_ago`, in `session` if given.
async fn video_made(
    app: &TestApp,
    person: &str,
    session: Option<&str>,
    minutes_ago: i64,
    seed: u64,
) -> String {
    let reply = app
        .upload(
            &json!({
                "kind": "video", "service": "CAMHS-NORTH", "session_id": session, "subjects": [person],
                "purposes": ["clinical"], "device": "TAB-0042",
                "made_at": minutes_from_now(-minutes_ago), "location": "Therapy room 2",
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
pub(crate) async fn transcribed_video(app: &TestApp, seed: u64) -> (String, String) {
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

/// The actions in a recording's audit history, oldest first, as the member with `token` reads it.
pub(crate) async fn recording_actions(app: &TestApp, token: &str, recording: &str) -> Vec<String> {
    let history = app
        .as_(token)
        .get(&format!("/api/v1/recordings/{recording}/audit"))
        .await;
    actions(&history)
}

pub(crate) fn actions(history: &Reply) -> Vec<String> {
    history
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
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
    // The recording page says the same, in words.
    let cookie = crate::pages::signed_in(&app).await;
    let (status, _, html) = crate::pages::page(
        &app,
        crate::pages::get(&format!("/recordings/{theirs}"), Some(&cookie)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Comes up for disposal")
            && html.contains("2018-01-04")
            && html.contains("d4-clinical-with-care-record"),
        "{html}"
    );
    let untouched = app.get(&format!("/api/v1/recordings/{others}")).await;
    assert_eq!(
        untouched.body["disposal"], before.body["disposal"],
        "the other person's state was not recalculated"
    );
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
        let refused = app.as_(&manager).put(path, period).await;
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
    let unknown = app
        .as_(&manager)
        .put(
            "/api/v1/retention/schedule/no-such-rule/period",
            json!({"years": 2}),
        )
        .await;
    assert_eq!(unknown.code(), "retention.unknown_rule", "{}", unknown.body);
    let practitioner = app.put(path, json!({"years": 2})).await;
    assert_eq!(practitioner.status, StatusCode::FORBIDDEN);

    let changed = app.as_(&manager).put(path, json!({"years": 2})).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let schedule = app.as_(&manager).get("/api/v1/retention/schedule").await;
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

/// A teaching video of a new person named `given_name`, made with their consent for the
/// service; returns the consent's id and the recording's.
pub(crate) async fn consented_teaching_video(
    app: &TestApp,
    given_name: &str,
    seed: u64,
) -> (String, String) {
    let person = app.person(given_name, "has_capacity").await;
    let consent = app
        .post(
            &format!("/api/v1/persons/{person}/consents"),
            json!({
                "answer": "given", "purposes": ["teaching"], "given_by": {"kind": "person"},
                "scope": {"kind": "service", "service": "CAMHS-NORTH"}, "signed_at": minutes_from_now(-90),
                "signature": {"method": "typed_with_witness", "signed_by": "Testperson", "witness": "Nurse Witness"},
                "told_refusal_does_not_affect_care": true,
            }),
        )
        .await;
    assert_eq!(consent.status, StatusCode::CREATED, "{}", consent.body);
    let upload = app
        .upload(
            &json!({
                "kind": "video", "service": "CAMHS-NORTH", "subjects": [person], "purposes": ["teaching"],
                "device": "TAB-0042", "made_at": minutes_from_now(-60), "location": "Teaching room",
            }),
            mp4(20_000, seed),
        )
        .await;
    assert_eq!(upload.status, StatusCode::CREATED, "{}", upload.body);
    let id = upload.headers["custodian-recording-id"]
        .to_str()
        .unwrap()
        .to_owned();
    (consent.id(), id)
}

/// The person withdraws `consent`, choosing to have existing recordings handed over (C8).
pub(crate) async fn withdraw_choosing_hand_over(app: &TestApp, consent: &str) {
    let withdrawn = app
        .post(
            &format!("/api/v1/consents/{consent}/withdrawals"),
            json!({"at": minutes_from_now(-1), "withdrawn_by": {"kind": "person"}, "existing_recordings": "hand_over"}),
        )
        .await;
    assert_eq!(withdrawn.status, StatusCode::CREATED, "{}", withdrawn.body);
}

async fn c8_a_withdrawal_brings_the_persons_recordings_up_with_their_choice(app: TestApp) {
    let (consent, id) = consented_teaching_video(&app, "Wyn", 20).await;
    let before = app.get(&format!("/api/v1/recordings/{id}")).await;
    assert_eq!(
        before.body["disposal"]["rule"], "d2-yearly-review",
        "{}",
        before.body
    );

    withdraw_choosing_hand_over(&app, &consent).await;
    let after = app.get(&format!("/api/v1/recordings/{id}")).await;
    let disposal = &after.body["disposal"];
    assert_eq!(disposal["action"], "hand_over", "{}", after.body);
    assert_eq!(disposal["due_on"], today());
    assert_eq!(
        disposal["state"]["tasks"][0]["task"], "withdrawal",
        "{disposal}"
    );
    assert!(
        disposal["reason"].as_str().unwrap().contains("withdrawn"),
        "{disposal}"
    );
}

/// A withdrawal ends only the consent withdrawn: withdrawing a consent for one recording brings
/// that recording up, not the person's others (C8), whether worked out at the withdrawal or by
/// the sweeper.
async fn c8_a_withdrawal_reaches_only_the_recordings_its_consent_covered(app: TestApp) {
    let person = app.person("Rhi", "has_capacity").await;
    let consent = |scope: Value| {
        json!({
            "answer": "given", "purposes": ["teaching"], "given_by": {"kind": "person"},
            "scope": scope, "signed_at": minutes_from_now(-90),
            "signature": {"method": "typed_with_witness", "signed_by": "Testperson", "witness": "Nurse Witness"},
            "told_refusal_does_not_affect_care": true,
        })
    };
    let service = app
        .post(
            &format!("/api/v1/persons/{person}/consents"),
            consent(json!({"kind": "service", "service": "CAMHS-NORTH"})),
        )
        .await;
    assert_eq!(service.status, StatusCode::CREATED, "{}", service.body);
    let mut ids = Vec::new();
    for seed in [31, 32] {
        let upload = app
            .upload(
                &json!({
                    "kind": "video", "service": "CAMHS-NORTH", "subjects": [person], "purposes": ["teaching"],
                    "device": "TAB-0042", "made_at": minutes_from_now(-60), "location": "Teaching room",
                }),
                mp4(20_000, seed),
            )
            .await;
        assert_eq!(upload.status, StatusCode::CREATED, "{}", upload.body);
        ids.push(
            upload.headers["custodian-recording-id"]
                .to_str()
                .unwrap()
                .to_owned(),
        );
    }
    let (kept, withdrawn_from) = (&ids[0], &ids[1]);
    let one = app
        .post(
            &format!("/api/v1/persons/{person}/consents"),
            consent(json!({"kind": "recording", "recording_id": withdrawn_from})),
        )
        .await;
    assert_eq!(one.status, StatusCode::CREATED, "{}", one.body);
    let withdrawn = app
        .post(
            &format!("/api/v1/consents/{}/withdrawals", one.id()),
            json!({"at": minutes_from_now(-1), "withdrawn_by": {"kind": "person"}, "existing_recordings": "destroy"}),
        )
        .await;
    assert_eq!(withdrawn.status, StatusCode::CREATED, "{}", withdrawn.body);

    for pass in ["at the withdrawal", "after a sweep"] {
        let disposal = |id: &str| {
            let app = &app;
            let id = id.to_owned();
            async move { app.get(&format!("/api/v1/recordings/{id}")).await.body["disposal"].clone() }
        };
        let gone = disposal(withdrawn_from).await;
        assert_eq!(gone["due_on"], today(), "{pass}: {gone}");
        assert_eq!(
            gone["state"]["tasks"][0]["task"], "withdrawal",
            "{pass}: {gone}"
        );
        let stays = disposal(kept).await;
        assert_eq!(stays["rule"], "d2-yearly-review", "{pass}: {stays}");
        assert!(
            stays["state"]["tasks"].as_array().unwrap().is_empty(),
            "{pass}: {stays}"
        );
        app.custodian.sweep_retention().await.unwrap();
    }
}

/// A stop whose choice deletes brings the session's recordings up for destruction at once, over
/// the care record's keep period, and one sent in after the stop too; the sweeper agrees (C9).
async fn c9_a_deleting_stop_brings_the_sessions_recordings_up_for_destruction_at_once(
    app: TestApp,
) {
    let person = app.consenting_person("Sol", &["clinical"]).await;
    let session = app
        .post(
            "/api/v1/sessions",
            json!({"kind": "individual", "service": "CAMHS-NORTH", "title": "Session",
                   "starts_at": minutes_from_now(-60), "participants": [person]}),
        )
        .await;
    assert_eq!(session.status, StatusCode::CREATED, "{}", session.body);
    let session = session.id();
    let made = video_made(&app, &person, Some(&session), 30, 40).await;
    let elsewhere = video_of(&app, &person, 31).await;
    let disposal = |id: String| {
        let app = &app;
        async move { app.get(&format!("/api/v1/recordings/{id}")).await.body["disposal"].clone() }
    };
    assert_ne!(disposal(made.clone()).await["action"], "destroy");

    let at = minutes_from_now(-10);
    let stopped_on = at[..10].to_owned();
    let stop = app
        .post(
            &format!("/api/v1/sessions/{session}/stops"),
            json!({"at": at, "choice": "delete_at_end", "requested_by": person}),
        )
        .await;
    assert_eq!(stop.status, StatusCode::CREATED, "{}", stop.body);
    let late = video_made(&app, &person, Some(&session), 5, 41).await;
    for id in [&made, &late] {
        let state = disposal(id.clone()).await;
        assert_eq!(state["action"], "destroy", "{state}");
        assert_eq!(state["due_on"], stopped_on, "{state}");
        assert!(
            state["reason"].as_str().unwrap().contains("(C9)"),
            "{state}"
        );
    }
    let untouched = disposal(elsewhere.clone()).await;
    assert!(
        !untouched["reason"].as_str().unwrap().contains("C9"),
        "{untouched}"
    );

    app.custodian.sweep_retention().await.unwrap();
    let swept = disposal(made.clone()).await;
    assert!(
        swept["reason"].as_str().unwrap().contains("(C9)"),
        "{swept}"
    );
    let queue = app
        .as_(&app.member_with_role("records_manager").await)
        .get("/api/v1/disposals?section=due_now")
        .await;
    assert!(queue.body.to_string().contains(&made), "{}", queue.body);
}

on_both_backends!(app:
    c9_a_deleting_stop_brings_the_sessions_recordings_up_for_destruction_at_once,
    c8_a_withdrawal_reaches_only_the_recordings_its_consent_covered,
    c8_a_withdrawal_brings_the_persons_recordings_up_with_their_choice,
    d4_a_discharge_recalculates_only_that_persons_recordings,
    d4_an_unknown_trigger_is_refused,
    d4_a_negative_or_absurd_period_is_refused_naming_the_rule,
);
