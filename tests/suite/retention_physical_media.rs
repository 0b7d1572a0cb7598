//! Physical media (D9): tapes, DVDs, USB sticks and prints registered with the recordings on
//! them, their destruction recorded once with who did it and who saw it, never while a hold
//! stands over what they hold (D7).

use axum::http::StatusCode;
use custodian_testkit::{CLINICIAN, CLINICIAN_PASSWORD, Reply, TestApp};
use serde_json::{Value, json};

use crate::access_pages::get;
use crate::retention::{actions, video_of};

async fn register(app: &TestApp, token: &str, body: Value) -> Reply {
    app.as_(token).post("/api/v1/physical-media", body).await
}

async fn destroy(app: &TestApp, token: &str, medium: &str, body: Value) -> Reply {
    app.as_(token)
        .post(
            &format!("/api/v1/physical-media/{medium}/destruction"),
            body,
        )
        .await
}

async fn d9_a_shredded_dvd_is_recorded_with_who_did_it_and_the_witness(app: TestApp) {
    let manager = app.member_with_role("records_manager").await;
    let person = app.person("Dawn", "has_capacity").await;
    let id = video_of(&app, &person, 21).await;
    let dvd = register(
        &app,
        &manager,
        json!({"kind": "dvd", "label": "DVD-2026-014", "location": "Records office, cabinet 3",
               "recordings": [id]}),
    )
    .await;
    assert_eq!(dvd.status, StatusCode::CREATED, "{}", dvd.body);
    assert_eq!(dvd.body["kind_label"], "DVD or CD");
    let medium = dvd.id();

    let holding = app
        .as_(&manager)
        .get(&format!("/api/v1/physical-media?recording={id}"))
        .await;
    assert_eq!(holding.status, StatusCode::OK, "{}", holding.body);
    assert_eq!(holding.body[0]["id"], medium.as_str(), "{}", holding.body);

    let done = destroy(
        &app,
        &manager,
        &medium,
        json!({"method": "shredded", "carried_out_by": "Shredall Ltd (van 4)",
               "witness": "Robin Records", "certificate": "SHR-2026-00981"}),
    )
    .await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);
    let destruction = &done.body["destruction"];
    assert_eq!(destruction["method"], "shredded");
    assert_eq!(destruction["carried_out_by"], "Shredall Ltd (van 4)");
    assert_eq!(destruction["witness"], "Robin Records");
    assert_eq!(destruction["certificate"], "SHR-2026-00981");

    // The list shows it destroyed; the recording's history shows the copy and its end.
    let all = app.as_(&manager).get("/api/v1/physical-media").await;
    assert_eq!(
        all.body[0]["destruction"]["method"], "shredded",
        "{}",
        all.body
    );
    let history = app.get(&format!("/api/v1/recordings/{id}/audit")).await;
    let seen = actions(&history);
    assert!(
        seen.contains(&"physical_medium.registered".to_owned()),
        "{seen:?}"
    );
    let destroyed = history
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "physical_medium.destroyed")
        .expect("the destruction is audited");
    assert!(
        destroyed.to_string().contains("Robin Records"),
        "{destroyed}"
    );

    // Destroying it a second time is refused, naming when it was.
    let twice = destroy(&app, &manager, &medium, json!({"method": "incinerated"})).await;
    assert_eq!(
        twice.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        twice.body
    );
    assert_eq!(twice.code(), "physical_media.already_destroyed");
    assert_eq!(twice.body["requirement"], "D9");
}

async fn d7_a_usb_stick_holding_a_held_recording_cannot_be_destroyed(app: TestApp) {
    let manager = app.member_with_role("records_manager").await;
    let ig = app.member_with_role("information_governance_lead").await;
    let person = app.person("Hana", "has_capacity").await;
    let id = video_of(&app, &person, 22).await;
    let stick = register(
        &app,
        &manager,
        json!({"kind": "usb_stick", "description": "Encrypted, 16 GB", "label": "SN 4C530001",
               "location": "Supervision room safe", "recordings": [id]}),
    )
    .await;
    assert_eq!(stick.status, StatusCode::CREATED, "{}", stick.body);
    let placed = app
        .as_(&ig)
        .post(
            "/api/v1/legal-holds",
            json!({"matter": {"kind": "complaint", "reference": "COMPLAINT-2026-0077"},
                    "persons": [person]}),
        )
        .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);

    let refused = destroy(&app, &manager, &stick.id(), json!({"method": "wiped"})).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert_eq!(refused.code(), "hold.under_legal_hold");
    assert_eq!(refused.body["requirement"], "D7");
    let detail = refused.body["detail"].as_str().unwrap();
    assert!(detail.contains("COMPLAINT-2026-0077"), "{detail}");
    assert!(detail.contains("SN 4C530001"), "{detail}");
    let listed = app.as_(&manager).get("/api/v1/physical-media").await;
    assert_eq!(
        listed.body[0]["destruction"],
        Value::Null,
        "nothing was recorded"
    );

    // Once the hold is lifted, the destruction goes ahead, by the caller when no one is named.
    let lifted = app
        .as_(&manager)
        .post(
            &format!("/api/v1/legal-holds/{}/lift", placed.id()),
            json!({"reason": "The complaint was resolved"}),
        )
        .await;
    assert_eq!(lifted.status, StatusCode::OK, "{}", lifted.body);
    let done = destroy(&app, &manager, &stick.id(), json!({"method": "wiped"})).await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);
    assert_eq!(
        done.body["destruction"]["carried_out_by"],
        "Test records.manager.member"
    );
    assert_eq!(done.body["destruction"]["witness"], Value::Null);
}

async fn d9_bad_media_and_destructions_are_refused_naming_what_is_accepted(app: TestApp) {
    let manager = app.member_with_role("records_manager").await;
    let person = app.person("Ivo", "has_capacity").await;
    let id = video_of(&app, &person, 23).await;

    let unknown_kind = register(
        &app,
        &manager,
        json!({"kind": "floppy", "label": "F-1", "location": "Office"}),
    )
    .await;
    assert_eq!(
        unknown_kind.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown_kind.body
    );
    assert_eq!(unknown_kind.code(), "input.unknown_value");
    assert!(
        unknown_kind.body["detail"]
            .as_str()
            .unwrap()
            .contains("usb_stick"),
        "{}",
        unknown_kind.body
    );
    let other = register(
        &app,
        &manager,
        json!({"kind": "other", "label": "SD-1", "location": "Office"}),
    )
    .await;
    assert_eq!(
        other.code(),
        "physical_media.description_missing",
        "{}",
        other.body
    );
    let no_label = register(
        &app,
        &manager,
        json!({"kind": "print", "label": " ", "location": "Office"}),
    )
    .await;
    assert_eq!(
        no_label.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        no_label.body
    );
    assert_eq!(no_label.body["field"], "label", "{}", no_label.body);
    let unknown_recording = register(
        &app,
        &manager,
        json!({"kind": "print", "label": "P-1", "location": "Office",
               "recordings": [uuid::Uuid::now_v7()]}),
    )
    .await;
    assert_eq!(
        unknown_recording.status,
        StatusCode::NOT_FOUND,
        "{}",
        unknown_recording.body
    );
    assert_eq!(unknown_recording.code(), "recording.not_found");

    let print = register(
        &app,
        &manager,
        json!({"kind": "print", "label": "STILL-7", "location": "Case file", "recordings": [id]}),
    )
    .await;
    assert_eq!(print.status, StatusCode::CREATED, "{}", print.body);
    let wiped = destroy(&app, &manager, &print.id(), json!({"method": "wiped"})).await;
    assert_eq!(
        wiped.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wiped.body
    );
    assert_eq!(wiped.code(), "physical_media.method_unfit");
    assert_eq!(wiped.body["requirement"], "D9");
    assert!(
        wiped.body["detail"]
            .as_str()
            .unwrap()
            .contains("shredded, incinerated"),
        "{}",
        wiped.body
    );
    let unknown_method = destroy(&app, &manager, &print.id(), json!({"method": "lost"})).await;
    assert_eq!(
        unknown_method.code(),
        "input.unknown_value",
        "{}",
        unknown_method.body
    );
    let self_witnessed = destroy(
        &app,
        &manager,
        &print.id(),
        json!({"method": "shredded", "carried_out_by": "Pat Shred", "witness": "pat shred"}),
    )
    .await;
    assert_eq!(
        self_witnessed.code(),
        "physical_media.witness_is_destroyer",
        "{}",
        self_witnessed.body
    );
    let future = destroy(
        &app,
        &manager,
        &print.id(),
        json!({"method": "shredded", "destroyed_at": "2099-01-01T10:00:00Z"}),
    )
    .await;
    assert_eq!(future.code(), "input.in_the_future", "{}", future.body);
    let nothing = destroy(
        &app,
        &manager,
        &uuid::Uuid::now_v7().to_string(),
        json!({"method": "shredded"}),
    )
    .await;
    assert_eq!(nothing.status, StatusCode::NOT_FOUND, "{}", nothing.body);
    let listed = app.as_(&manager).get("/api/v1/physical-media").await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1, "{}", listed.body);
    assert_eq!(
        listed.body[0]["destruction"],
        Value::Null,
        "nothing was recorded"
    );
}

async fn d9_only_records_managers_record_a_destruction(app: TestApp) {
    let manager = app.member_with_role("records_manager").await;
    let admin = app.member_with_role("administrator").await;
    let person = app.person("Jo", "has_capacity").await;
    let id = video_of(&app, &person, 24).await;
    let by_practitioner = app
        .post(
            "/api/v1/physical-media",
            json!({"kind": "tape", "label": "VHS-1", "location": "Store", "recordings": [id]}),
        )
        .await;
    assert_eq!(
        by_practitioner.status,
        StatusCode::FORBIDDEN,
        "{}",
        by_practitioner.body
    );
    let tape = register(
        &app,
        &admin,
        json!({"kind": "tape", "label": "VHS-1", "location": "Store", "recordings": [id]}),
    )
    .await;
    assert_eq!(
        tape.status,
        StatusCode::CREATED,
        "administrators register: {}",
        tape.body
    );
    let by_admin = destroy(&app, &admin, &tape.id(), json!({"method": "degaussed"})).await;
    assert_eq!(by_admin.status, StatusCode::FORBIDDEN, "{}", by_admin.body);
    assert!(
        by_admin.body["detail"]
            .as_str()
            .unwrap()
            .contains("records managers"),
        "{}",
        by_admin.body
    );
    let by_practitioner = app
        .post(
            &format!("/api/v1/physical-media/{}/destruction", tape.id()),
            json!({"method": "degaussed"}),
        )
        .await;
    assert_eq!(
        by_practitioner.status,
        StatusCode::FORBIDDEN,
        "{}",
        by_practitioner.body
    );
    let done = destroy(
        &app,
        &manager,
        &tape.id(),
        json!({"method": "degaussed", "witness": "Sam Second"}),
    )
    .await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);

    // The recording's page shows the medium and how it ended to whoever may see the recording.
    let cookie = app.cookie_for(CLINICIAN, CLINICIAN_PASSWORD).await;
    let (status, html) = get(&app, &cookie, &format!("/recordings/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Physical media"), "{html}");
    assert!(
        html.contains("Video or audio tape labelled VHS-1: degaussed on"),
        "{html}"
    );
    assert!(html.contains("witnessed by Sam Second"), "{html}");
}

on_both_backends!(app:
    d9_a_shredded_dvd_is_recorded_with_who_did_it_and_the_witness,
    d7_a_usb_stick_holding_a_held_recording_cannot_be_destroyed,
    d9_bad_media_and_destructions_are_refused_naming_what_is_accepted,
    d9_only_records_managers_record_a_destruction,
);
