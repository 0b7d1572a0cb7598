//! Bad input gets a 4xx problem detail naming the field or rule, and nothing is half-written.

use custodian_testkit::fixtures::minutes_from_now;
use custodian_testkit::{Reply, TestApp};
use serde_json::{Value, json};

fn consent(purposes: &[&str], signed_at: String) -> Value {
    json!({
        "answer": "given",
        "purposes": purposes,
        "given_by": {"kind": "person"},
        "scope": {"kind": "service", "service": "CAMHS-NORTH"},
        "signed_at": signed_at,
        "signature": {"method": "drawn", "signed_by": "Ada Testperson", "drawing": "10,150 40,60 80,150"},
        "told_refusal_does_not_affect_care": true,
    })
}

fn assert_problem(
    reply: &Reply,
    status: u16,
    code: &str,
    requirement: Option<&str>,
    field: Option<&str>,
) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.headers["content-type"], "application/problem+json");
    assert_eq!(reply.code(), code, "{}", reply.body);
    assert_eq!(reply.body["type"], format!("urn:custodian:problem:{code}"));
    assert_eq!(reply.body["status"], status);
    assert!(!reply.body["detail"].as_str().unwrap_or_default().is_empty());
    assert_eq!(
        reply.body["requirement"].as_str(),
        requirement,
        "{}",
        reply.body
    );
    assert_eq!(reply.body["field"].as_str(), field, "{}", reply.body);
}

async fn consent_count(app: &TestApp, person: &str) -> usize {
    app.get(&format!("/api/v1/persons/{person}/consents"))
        .await
        .body["consents"]
        .as_array()
        .unwrap()
        .len()
}

async fn c1_unknown_purposes_are_refused(app: TestApp) {
    let person = app.person("Ada", "has_capacity").await;
    let reply = app
        .post(
            &format!("/api/v1/persons/{person}/consents"),
            consent(&["clinical", "marketing"], minutes_from_now(-5)),
        )
        .await;
    assert_problem(
        &reply,
        422,
        "consent.unknown_purpose",
        Some("C1"),
        Some("purposes"),
    );
    assert!(
        reply.body["detail"]
            .as_str()
            .unwrap()
            .contains("`marketing`")
    );
    assert_eq!(consent_count(&app, &person).await, 0);
    let decision = app
        .get(&format!(
            "/api/v1/recordings/{}/decision?purpose=marketing",
            uuid::Uuid::now_v7()
        ))
        .await;
    assert_problem(
        &decision,
        422,
        "consent.unknown_purpose",
        Some("C1"),
        Some("purposes"),
    );
}

async fn c2_signatures_in_the_future_are_refused(app: TestApp) {
    let person = app.person("Ada", "has_capacity").await;
    let reply = app
        .post(
            &format!("/api/v1/persons/{person}/consents"),
            consent(&["clinical"], minutes_from_now(24 * 60)),
        )
        .await;
    assert_problem(&reply, 422, "input.in_the_future", None, Some("signed_at"));
    assert_eq!(consent_count(&app, &person).await, 0);
}

async fn c8_a_withdrawal_dated_before_the_consent_is_refused(app: TestApp) {
    let person = app.person("Ada", "has_capacity").await;
    let given = app
        .post(
            &format!("/api/v1/persons/{person}/consents"),
            consent(&["clinical"], minutes_from_now(-60)),
        )
        .await;
    assert_eq!(given.status, 201, "{}", given.body);
    let reply = app
        .post(
            &format!("/api/v1/consents/{}/withdrawals", given.id()),
            json!({"at": minutes_from_now(-120), "withdrawn_by": {"kind": "person"}, "existing_recordings": "destroy"}),
        )
        .await;
    assert_problem(
        &reply,
        422,
        "withdrawal.before_consent",
        Some("C8"),
        Some("at"),
    );
    let history = app.get(&format!("/api/v1/persons/{person}/consents")).await;
    assert_eq!(history.body["withdrawals"].as_array().unwrap().len(), 0);
}

async fn c5_a_confirmation_for_someone_not_in_the_session_is_refused(app: TestApp) {
    let ada = app.person("Ada", "has_capacity").await;
    let stranger = app.person("Bela", "has_capacity").await;
    let session = app
        .post(
            "/api/v1/sessions",
            json!({"kind": "individual", "service": "ADULT-MH-EAST", "title": "Session 1", "starts_at": minutes_from_now(-30), "participants": [ada]}),
        )
        .await;
    assert_eq!(session.status, 201, "{}", session.body);
    let reply = app
        .post(
            &format!("/api/v1/sessions/{}/confirmations", session.id()),
            json!({"person_id": stranger, "willing": true, "at": minutes_from_now(-29)}),
        )
        .await;
    assert_problem(
        &reply,
        422,
        "session.not_a_participant",
        Some("C5"),
        Some("person_id"),
    );
    let record = app.get(&format!("/api/v1/sessions/{}", session.id())).await;
    assert_eq!(record.body["confirmations"].as_array().unwrap().len(), 0);
}

async fn r1_nhs_numbers_with_a_wrong_check_digit_are_refused(app: TestApp) {
    let reply = app
        .post(
            "/api/v1/persons",
            json!({"given_name": "Ada", "family_name": "Testperson", "date_of_birth": "1980-01-01", "nhs_number": "999 000 0017", "capacity": "has_capacity"}),
        )
        .await;
    assert_problem(
        &reply,
        422,
        "person.invalid_nhs_number",
        None,
        Some("nhs_number"),
    );
    assert!(
        reply.body["detail"]
            .as_str()
            .unwrap()
            .contains("check digit")
    );
    assert_eq!(
        app.get("/api/v1/persons?q=Ada")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

async fn r1_the_same_nhs_number_cannot_be_registered_twice(app: TestApp) {
    let body = json!({"given_name": "Ada", "family_name": "Testperson", "date_of_birth": "1980-01-01", "nhs_number": "9990000018", "capacity": "has_capacity"});
    assert_eq!(app.post("/api/v1/persons", body.clone()).await.status, 201);
    let again = app.post("/api/v1/persons", body).await;
    assert_problem(&again, 409, "person.already_registered", None, None);
}

async fn c3_a_representative_cannot_consent_for_someone_with_capacity(app: TestApp) {
    let person = app.person("Ada", "has_capacity").await;
    let rep = app
        .post(
            &format!("/api/v1/persons/{person}/representatives"),
            json!({"name": "Jo Testperson", "kind": "next_of_kin"}),
        )
        .await;
    let mut form = consent(&["clinical"], minutes_from_now(-5));
    form["given_by"] = json!({
        "kind": "representative",
        "representative_id": rep.id(),
        "capacity_decision": {"assessed_on": "2026-01-01", "assessed_by": "Dr Assessor", "decision": "Lacks capacity"},
        "best_interest_note": "In their interests",
    });
    let reply = app
        .post(&format!("/api/v1/persons/{person}/consents"), form)
        .await;
    assert_problem(
        &reply,
        422,
        "consent.representative_for_capable_person",
        Some("C3"),
        Some("given_by"),
    );
}

async fn c3_a_person_who_lacks_capacity_cannot_consent_themselves(app: TestApp) {
    let person = app.person("Ada", "lacks_capacity").await;
    let reply = app
        .post(
            &format!("/api/v1/persons/{person}/consents"),
            consent(&["clinical"], minutes_from_now(-5)),
        )
        .await;
    assert_problem(
        &reply,
        422,
        "consent.person_lacks_capacity",
        Some("C3"),
        Some("given_by"),
    );
}

async fn c4_the_form_must_say_refusal_does_not_affect_care(app: TestApp) {
    let person = app.person("Ada", "has_capacity").await;
    let mut form = consent(&["clinical"], minutes_from_now(-5));
    form["told_refusal_does_not_affect_care"] = json!(false);
    let reply = app
        .post(&format!("/api/v1/persons/{person}/consents"), form)
        .await;
    assert_problem(
        &reply,
        422,
        "consent.refusal_not_explained",
        Some("C4"),
        Some("told_refusal_does_not_affect_care"),
    );
}

async fn c10_research_consent_needs_an_ethics_approval_reference(app: TestApp) {
    let person = app.person("Ada", "has_capacity").await;
    let reply = app
        .post(
            &format!("/api/v1/persons/{person}/consents"),
            consent(&["research"], minutes_from_now(-5)),
        )
        .await;
    assert_problem(
        &reply,
        422,
        "consent.research_without_ethics_approval",
        Some("C10"),
        Some("research"),
    );
}

async fn malformed_requests_get_problems_not_crashes(app: TestApp) {
    let broken = app
        .post_raw("/api/v1/persons", "application/json", b"{\"given_name\": ")
        .await;
    assert_problem(&broken, 400, "input.malformed", None, None);
    let not_json = app
        .post_raw("/api/v1/persons", "text/plain", b"given_name=Ada")
        .await;
    assert_problem(&not_json, 400, "input.not_json", None, None);
    let missing = app
        .post("/api/v1/persons", json!({"given_name": "Ada"}))
        .await;
    assert_problem(&missing, 400, "input.malformed", None, None);
    assert!(
        missing.body["detail"]
            .as_str()
            .unwrap()
            .contains("family_name"),
        "{}",
        missing.body
    );
    let bad_id = app.get("/api/v1/persons/not-a-uuid").await;
    assert_problem(&bad_id, 400, "input.bad_id", None, None);
    let unknown = app
        .get(&format!("/api/v1/persons/{}", uuid::Uuid::now_v7()))
        .await;
    assert_problem(&unknown, 404, "person.not_found", None, None);
    let bad_date = app
        .post("/api/v1/persons", json!({"given_name": "Ada", "family_name": "T", "date_of_birth": "29/02/1980", "local_identifier": "X1", "capacity": "has_capacity"}))
        .await;
    assert_problem(
        &bad_date,
        422,
        "input.bad_format",
        None,
        Some("date_of_birth"),
    );
    let no_route = app.get("/api/v1/nothing-here").await;
    assert_problem(&no_route, 404, "route.not_found", None, None);
}

async fn html_and_script_are_kept_as_text(app: TestApp) {
    let reply = app
        .post(
            "/api/v1/persons",
            json!({"given_name": "<script>alert(1)</script>", "family_name": "Testperson", "date_of_birth": "1980-01-01", "local_identifier": "X-1", "capacity": "has_capacity"}),
        )
        .await;
    assert_eq!(reply.status, 201);
    let stored = app.get(&format!("/api/v1/persons/{}", reply.id())).await;
    assert_eq!(stored.body["name"]["given"], "<script>alert(1)</script>");
    assert_eq!(stored.headers["content-type"], "application/json");
    assert_eq!(stored.headers["x-content-type-options"], "nosniff");
}

on_both_backends!(app:
    c1_unknown_purposes_are_refused,
    c2_signatures_in_the_future_are_refused,
    c8_a_withdrawal_dated_before_the_consent_is_refused,
    c5_a_confirmation_for_someone_not_in_the_session_is_refused,
    r1_nhs_numbers_with_a_wrong_check_digit_are_refused,
    r1_the_same_nhs_number_cannot_be_registered_twice,
    c3_a_representative_cannot_consent_for_someone_with_capacity,
    c3_a_person_who_lacks_capacity_cannot_consent_themselves,
    c4_the_form_must_say_refusal_does_not_affect_care,
    c10_research_consent_needs_an_ethics_approval_reference,
    malformed_requests_get_problems_not_crashes,
    html_and_script_are_kept_as_text,
);
