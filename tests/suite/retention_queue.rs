//! The disposal queue read a page at a time (D2, D7): every part in due order, nothing missed
//! or repeated from one page to the next, held recordings only in the held part, and a page
//! asked for wrongly refused saying what to send.

use axum::http::StatusCode;
use custodian_testkit::TestApp;
use custodian_testkit::fixtures::minutes_from_now;
use serde_json::{Value, json};

use crate::access_pages::get;
use crate::retention::video_of;
use crate::retention_pages::records_manager;

/// A clinical video of a new person, transcribed into the care record `days_ago`: due for
/// destruction on that day (D5). Returns its due date and id.
async fn transcribed_days_ago(app: &TestApp, seed: u64, days_ago: i64) -> (String, String) {
    let person = app.person("Tam", "has_capacity").await;
    let id = video_of(app, &person, seed).await;
    let on = (time::OffsetDateTime::now_utc().date() - time::Duration::days(days_ago)).to_string();
    let reply = app
        .post(
            &format!("/api/v1/recordings/{id}/retention"),
            json!({"trigger": "transcript_made", "on": on}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["due_on"], on.as_str(), "{}", reply.body);
    (on, id)
}

async fn hold(app: &TestApp, token: &str, reference: &str, covers: Value) {
    let mut body = json!({"matter": {"kind": "complaint", "reference": reference}});
    if let (Some(body), Some(covers)) = (body.as_object_mut(), covers.as_object()) {
        body.extend(covers.clone());
    }
    let placed = app.as_(token).post("/api/v1/legal-holds", body).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
}

/// Every recording in one part of the queue, reading it `limit` at a time from the start:
/// the ids in the order shown, and how many pages it took.
async fn read_through(app: &TestApp, token: &str, section: &str, limit: u32) -> (Vec<String>, u32) {
    let start = format!("/api/v1/disposals?within=30&section={section}&limit={limit}");
    let (mut ids, mut pages, mut url) = (Vec::new(), 0, start.clone());
    loop {
        let page = app.as_(token).get(&url).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        pages += 1;
        for part in ["due_now", "due_within", "held", "waiting"] {
            let shown = page.body[part].as_array().unwrap();
            if part == section {
                assert!(shown.len() <= limit as usize, "{}", page.body);
                ids.extend(
                    shown
                        .iter()
                        .map(|e| e["recording_id"].as_str().unwrap().to_owned()),
                );
            } else {
                assert!(shown.is_empty(), "only the part asked for: {}", page.body);
            }
        }
        match page.body["next"][section].as_str() {
            Some(next) => url = format!("{start}&after={next}"),
            None => return (ids, pages),
        }
    }
}

async fn d2_the_queue_is_read_a_page_at_a_time_in_due_order_missing_nothing(app: TestApp) {
    let (_, manager) = records_manager(&app).await;
    let ig = app.member_with_role("information_governance_lead").await;
    let mut due = Vec::new();
    for (seed, days_ago) in [(41, 3), (42, 1), (43, 2), (44, 0), (45, 1)] {
        due.push(transcribed_days_ago(&app, seed, days_ago).await);
    }
    // Held by name, and held through the person in it while waiting for the end of care.
    let (held_on, held_by_name) = transcribed_days_ago(&app, 46, 2).await;
    let held_person = app.person("Hal", "has_capacity").await;
    let held_waiting = video_of(&app, &held_person, 47).await;
    hold(
        &app,
        &ig,
        "CMP-2026-0101",
        json!({"recordings": [held_by_name]}),
    )
    .await;
    // A copy carries the same evidence, so the hold on its source reaches it. Making it is a
    // clinical use of the original, which the person consents to.
    let tam = app
        .get(&format!("/api/v1/recordings/{held_by_name}"))
        .await
        .body["subjects"][0]
        .as_str()
        .unwrap()
        .to_owned();
    app.consent(
        &tam,
        &["clinical"],
        json!({"kind": "service", "service": "CAMHS-NORTH"}),
        60,
    )
    .await;
    let copy = app
        .post(
            &format!("/api/v1/recordings/{held_by_name}/derivatives"),
            json!({"kind": "redaction", "de_identified": true, "method": "Surname muted",
                   "device": "EDIT-1", "made_at": minutes_from_now(-10), "purpose": "clinical"}),
        )
        .await;
    assert_eq!(copy.status, StatusCode::CREATED, "{}", copy.body);
    let copy = copy.id();
    hold(
        &app,
        &ig,
        "CMP-2026-0102",
        json!({"persons": [held_person]}),
    )
    .await;
    let mut waiting = Vec::new();
    for seed in [48, 49, 50] {
        let person = app.person("Wyn", "has_capacity").await;
        waiting.push(video_of(&app, &person, seed).await);
    }

    due.sort();
    let expected: Vec<String> = due.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!(
        read_through(&app, &manager, "due_now", 2).await,
        (expected, 3),
        "by due date, then id; two a page"
    );
    waiting.sort();
    assert_eq!(
        read_through(&app, &manager, "waiting", 2).await,
        (waiting, 2)
    );
    let mut held_waiting_too = vec![held_waiting.clone(), copy.clone()];
    held_waiting_too.sort();
    let expected_held: Vec<String> = std::iter::once(held_by_name.clone())
        .chain(held_waiting_too)
        .collect();
    assert_eq!(
        read_through(&app, &manager, "held", 1).await,
        (expected_held, 3),
        "dated before waiting, then by id"
    );

    let whole = app.as_(&manager).get("/api/v1/disposals").await;
    assert_eq!(whole.status, StatusCode::OK, "{}", whole.body);
    assert_eq!(whole.body["due_now"].as_array().unwrap().len(), 5);
    assert_eq!(whole.body["waiting"].as_array().unwrap().len(), 3);
    let held = whole.body["held"].as_array().unwrap();
    assert_eq!(held[0]["due_on"], held_on.as_str(), "{}", whole.body);
    assert_eq!(held[0]["held_by"][0]["reference"], "CMP-2026-0101");
    assert_eq!(held[1]["held_by"][0]["reference"], "CMP-2026-0102");
    assert!(
        ["due_now", "due_within", "held", "waiting"]
            .iter()
            .all(|part| whole.body["next"][part].is_null()),
        "all of it fits on one page: {}",
        whole.body
    );

    // How long each part is comes from the last sweep, not from counting on every page.
    assert!(whole.body["at_last_sweep"].is_null(), "{}", whole.body);
    app.custodian.sweep_retention().await.unwrap();
    let whole = app.as_(&manager).get("/api/v1/disposals").await;
    let counted = &whole.body["at_last_sweep"];
    assert_eq!(
        [
            &counted["due_now"],
            &counted["due_within_90_days"],
            &counted["held"],
            &counted["waiting"]
        ],
        [&json!(5), &json!(0), &json!(3), &json!(3)],
        "{}",
        whole.body
    );
}

async fn d2_a_queue_page_asked_for_wrongly_is_refused_saying_what_to_send(app: TestApp) {
    let (_, manager) = records_manager(&app).await;
    let some_id = "0190c0de-0000-7000-8000-000000000001";
    for (query, says) in [
        ("section=soon", "due_now, due_within, held, waiting"),
        ("section=due_now&after=tomorrow", "`next` value"),
        (
            "section=due_now&after=2026-13-01_0190c0de-0000-7000-8000-000000000001",
            "`next` value",
        ),
        (&format!("after=waiting_{some_id}") as &str, "`section`"),
        ("limit=0", "1 to 500"),
        ("limit=501", "1 to 500"),
    ] {
        let reply = app
            .as_(&manager)
            .get(&format!("/api/v1/disposals?{query}"))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            reply.body
        );
        let detail = reply.body["detail"].as_str().unwrap();
        assert!(detail.contains(says), "{query}: {detail}");
    }
}

async fn d2_the_queue_page_goes_on_from_where_the_last_stopped(app: TestApp) {
    let (cookie, manager) = records_manager(&app).await;
    let (_, first) = transcribed_days_ago(&app, 51, 2).await;
    let (_, second) = transcribed_days_ago(&app, 52, 1).await;
    let page = app
        .as_(&manager)
        .get("/api/v1/disposals?section=due_now&limit=1")
        .await;
    let after = page.body["next"]["due_now"].as_str().unwrap().to_owned();

    let (status, html) = get(
        &app,
        &cookie,
        &format!("/disposals?section=due_now&after={after}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Due now, continued"), "{html}");
    assert!(
        html.contains(&format!("id=\"recording-{second}\"")),
        "{html}"
    );
    assert!(
        !html.contains(&format!("id=\"recording-{first}\"")),
        "{html}"
    );
    assert!(html.contains("href=\"/disposals?within=30\""), "{html}");
    assert!(
        !html.contains("Waiting for an event"),
        "one part only: {html}"
    );

    assert!(!html.contains("At the last sweep"), "no sweep yet: {html}");
    app.custodian.sweep_retention().await.unwrap();
    let (_, html) = get(&app, &cookie, "/disposals").await;
    assert!(
        html.contains(
            ": 2 due now, 0 due within 90 days, 0 under a legal hold and 0 waiting for an event."
        ),
        "{html}"
    );

    // A link that no longer makes sense shows the start of the queue.
    let (status, html) = get(&app, &cookie, "/disposals?section=due_now&after=nonsense").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains(&format!("id=\"recording-{first}\"")),
        "{html}"
    );
    assert!(html.contains("Waiting for an event"), "{html}");
}

on_both_backends!(app:
    d2_the_queue_is_read_a_page_at_a_time_in_due_order_missing_nothing,
    d2_a_queue_page_asked_for_wrongly_is_refused_saying_what_to_send,
    d2_the_queue_page_goes_on_from_where_the_last_stopped,
);
