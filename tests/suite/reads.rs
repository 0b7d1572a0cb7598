//! Reads are audited (S2): opening a record, searching, viewing a consent and downloading its
//! copy, beside the uses of recordings; the information-governance lead lists who looked.

use axum::http::StatusCode;
use custodian_testkit::fixtures::{minutes_from_now, mp4};
use custodian_testkit::{CLINICIAN, CLINICIAN_PASSWORD, IG_LEAD, IG_LEAD_PASSWORD, TestApp};
use serde_json::json;

use crate::access_pages::get;

async fn actions(app: &TestApp) -> Vec<(String, String)> {
    let mut tx = app.db.register.read().await.unwrap();
    tx.audit_events_after(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|event| (event.action, event.detail))
        .collect()
}

async fn s2_reads_of_a_record_are_audited_and_the_ig_lead_sees_who_looked(app: TestApp) {
    let person = app.consenting_person("Looked", &["clinical"]).await;
    let consents = app.get(&format!("/api/v1/persons/{person}/consents")).await;
    let consent = consents.body["consents"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    assert_eq!(
        app.get(&format!("/api/v1/persons/{person}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/persons?q=Testperson").await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/api/v1/consents/{consent}")).await.status,
        StatusCode::OK
    );
    let cookie = app.cookie_for(CLINICIAN, CLINICIAN_PASSWORD).await;
    let (status, _) = get(&app, &cookie, &format!("/consents/{consent}/copy.pdf")).await;
    assert_eq!(status, StatusCode::OK);
    let recording = app
        .upload(
            &json!({
                "kind": "video", "service": "CAMHS-NORTH", "subjects": [person], "purposes": ["clinical"],
                "device": "TAB-0042", "made_at": minutes_from_now(-30), "location": "Therapy room 2",
            }),
            mp4(8_000, 4),
        )
        .await;
    let recording = recording.headers["custodian-recording-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.media(&recording, "clinical", None).await.0,
        StatusCode::OK
    );

    let trail = actions(&app).await;
    for action in [
        "person.viewed",
        "consent.viewed",
        "consent.copy_downloaded",
        "media.use_granted",
    ] {
        assert!(
            trail.iter().any(|(a, _)| a == action),
            "{action} not audited"
        );
    }
    assert!(
        trail
            .iter()
            .any(|(a, detail)| a == "persons.searched" && detail.contains("Testperson")),
        "the search's words are audited"
    );

    // The IG lead lists who looked, latest first, with the purpose of each use.
    let ig = app.ig_lead().await;
    let looks = app
        .as_(&ig)
        .get(&format!("/api/v1/persons/{person}/accesses"))
        .await;
    assert_eq!(looks.status, StatusCode::OK, "{}", looks.body);
    let whats: Vec<&str> = looks
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|look| look["what"].as_str().unwrap())
        .collect();
    assert_eq!(
        whats.first(),
        Some(&"Opened a recording for clinical or therapeutic use"),
        "{whats:?}"
    );
    for what in [
        "Opened the record",
        "Viewed a consent",
        "Downloaded the person's copy of a consent",
    ] {
        assert!(whats.contains(&what), "{what} missing from {whats:?}");
    }
    assert!(
        looks
            .body
            .as_array()
            .unwrap()
            .iter()
            .all(|look| look["by"] == "Test clinician")
    );
    // Not for the care team.
    let refused = app.get(&format!("/api/v1/persons/{person}/accesses")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // The page: linked from the record for the IG lead only.
    let (_, html) = get(&app, &cookie, &format!("/persons/{person}")).await;
    assert!(!html.contains("id=\"who-looked\""), "{html}");
    let ig_cookie = app.cookie_for(IG_LEAD, IG_LEAD_PASSWORD).await;
    let (_, html) = get(&app, &ig_cookie, &format!("/persons/{person}")).await;
    assert!(html.contains("id=\"who-looked\""), "{html}");
    let (status, html) = get(&app, &ig_cookie, &format!("/persons/{person}/looks")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Opened a recording for clinical or therapeutic use"),
        "{html}"
    );
    assert!(html.contains("Test clinician"), "{html}");
}

on_both_backends!(app: s2_reads_of_a_record_are_audited_and_the_ig_lead_sees_who_looked);
