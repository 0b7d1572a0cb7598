//! The gate against the decision, over generated evidence (X1): whatever consents, refusals,
//! withdrawals and stops a person's record holds, content is served for a purpose exactly when
//! the decision allows that use, and never after a withdrawal of that purpose.

use axum::http::StatusCode;
use custodian_testkit::TestApp;
use custodian_testkit::fixtures::{minutes_from_now, mp4};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

/// The purposes the cases draw from: two the recording is often made for, one that is a change
/// of use, and teaching, which an original never serves (C11).
const PURPOSES: [&str; 4] = [
    "clinical",
    "supervision_and_training",
    "activities",
    "teaching",
];
const STOPS: [&str; 3] = [
    "discontinue_and_delete",
    "pause_and_resume",
    "discontinue_and_keep",
];
const CASES: u32 = 16;

/// One person's record, as generated.
#[derive(Clone, Debug)]
struct Case {
    /// Purposes given, by index into [`PURPOSES`] (a bit each); the consent is signed 2 h ago.
    given: u8,
    /// Purposes refused on a later form, 100 minutes ago.
    refused: u8,
    /// Purposes the recording was made for (at least one).
    made_for: u8,
    /// Made in a session, with this stop in it (index into [`STOPS`]), if any.
    session: Option<Option<usize>>,
    /// Purposes of the given consent withdrawn 5 minutes ago.
    withdrawn: u8,
}

fn case() -> impl Strategy<Value = Case> {
    (
        0u8..16,
        0u8..16,
        1u8..16,
        proptest::option::of(proptest::option::of(0usize..STOPS.len())),
        0u8..16,
    )
        .prop_map(|(given, refused, made_for, session, withdrawn)| Case {
            given,
            refused: refused & !given,
            made_for,
            session,
            withdrawn: withdrawn & given,
        })
}

fn purposes(bits: u8) -> Vec<&'static str> {
    PURPOSES
        .iter()
        .enumerate()
        .filter(|(n, _)| bits & (1 << n) != 0)
        .map(|(_, p)| *p)
        .collect()
}

fn consent_body(answer: &str, purposes: &[&str], minutes_ago: i64) -> Value {
    json!({
        "answer": answer, "purposes": purposes, "given_by": {"kind": "person"},
        "scope": {"kind": "service", "service": "CAMHS-NORTH"},
        "signed_at": minutes_from_now(-minutes_ago),
        "signature": {"method": "typed_with_witness", "signed_by": "Testperson", "witness": "Nurse Witness"},
        "told_refusal_does_not_affect_care": true,
    })
}

/// Builds the case's record and recording through the API; returns the recording's id.
async fn build(app: &TestApp, case: &Case, seed: u64) -> String {
    let person = app.person("Gen", "has_capacity").await;
    let mut given_consent = None;
    if case.given != 0 {
        let reply = app
            .post(
                &format!("/api/v1/persons/{person}/consents"),
                consent_body("given", &purposes(case.given), 120),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        given_consent = Some(reply.id());
    }
    if case.refused != 0 {
        let reply = app
            .post(
                &format!("/api/v1/persons/{person}/consents"),
                consent_body("refused", &purposes(case.refused), 100),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    let session = match case.session {
        Some(_) => {
            let reply = app
                .post(
                    "/api/v1/sessions",
                    json!({"kind": "individual", "service": "CAMHS-NORTH", "title": "Generated",
                           "starts_at": minutes_from_now(-60), "participants": [person]}),
                )
                .await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
            Some(reply.id())
        }
        None => None,
    };
    let reply = app
        .upload(
            &json!({"kind": "video", "service": "CAMHS-NORTH", "session_id": session,
                    "subjects": [person], "purposes": purposes(case.made_for), "device": "TAB-0042",
                    "made_at": minutes_from_now(-30), "location": "Room 1"}),
            mp4(20_000, seed),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let recording = reply.headers["custodian-recording-id"]
        .to_str()
        .unwrap()
        .to_owned();
    if let (Some(session), Some(Some(stop))) = (&session, case.session) {
        let reply = app
            .post(
                &format!("/api/v1/sessions/{session}/stops"),
                json!({"at": minutes_from_now(-10), "choice": STOPS[stop], "requested_by": person}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    if let (Some(consent), true) = (given_consent, case.withdrawn != 0) {
        let reply = app
            .post(
                &format!("/api/v1/consents/{consent}/withdrawals"),
                json!({"at": minutes_from_now(-5), "withdrawn_by": {"kind": "person"},
                       "existing_recordings": "destroy", "purposes": purposes(case.withdrawn)}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    recording
}

async fn x1_the_gate_serves_exactly_what_the_decision_allows_whatever_the_evidence(app: TestApp) {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    let (mut allowed, mut refused) = (0, 0);
    for seed in 0..CASES {
        let case = case().new_tree(&mut runner).unwrap().current();
        let recording = build(&app, &case, u64::from(seed) + 100).await;
        for (bit, purpose) in PURPOSES.iter().enumerate() {
            let decision = app
                .get(&format!(
                    "/api/v1/recordings/{recording}/decision?purpose={purpose}"
                ))
                .await;
            assert_eq!(decision.status, StatusCode::OK, "{}", decision.body);
            let (status, headers, body) = app.media(&recording, purpose, None).await;
            let served = status == StatusCode::OK;
            let decided = decision.body["outcome"] == "allowed";
            assert_eq!(
                served, decided,
                "{case:?} for {purpose}: served {status}, decided {}",
                decision.body
            );
            if served {
                allowed += 1;
                assert_eq!(body.len(), 20_000);
            } else {
                refused += 1;
                assert_eq!(status, StatusCode::FORBIDDEN, "{case:?} for {purpose}");
                assert_eq!(
                    headers["content-type"], "application/problem+json",
                    "no byte of the recording is served: {case:?} for {purpose}"
                );
            }
            if case.withdrawn & (1 << bit) != 0 {
                assert!(!served, "{case:?}: served {purpose} after its withdrawal");
            }
        }
    }
    // The generator reaches both answers, so the comparison means something.
    assert!(
        allowed > 0 && refused > 0,
        "allowed {allowed}, refused {refused}"
    );
}

on_both_backends!(app: x1_the_gate_serves_exactly_what_the_decision_allows_whatever_the_evidence);
