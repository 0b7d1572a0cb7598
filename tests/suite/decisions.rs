//! Whole stories through the API: register, consent, session, recording, then ask the decision (X1).

use custodian_testkit::TestApp;
use custodian_testkit::fixtures::minutes_from_now;
use serde_json::{Value, json};

/// Gives consent for `purposes` through the API, signed `minutes_ago`; returns its id.
pub(crate) async fn consent(
    app: &TestApp,
    person: &str,
    purposes: &[&str],
    scope: Value,
    minutes_ago: i64,
) -> String {
    let reply = app
        .post(
            &format!("/api/v1/persons/{person}/consents"),
            json!({
                "answer": "given",
                "purposes": purposes,
                "given_by": {"kind": "person"},
                "scope": scope,
                "signed_at": minutes_from_now(-minutes_ago),
                "signature": {"method": "typed_with_witness", "signed_by": "Testperson", "witness": "Nurse Witness"},
                "told_refusal_does_not_affect_care": true,
            }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.id()
}

async fn session(
    app: &TestApp,
    kind: &str,
    course: Option<&str>,
    participants: &[&str],
    informed: bool,
) -> String {
    let mut body = json!({
        "kind": kind,
        "service": "CAMHS-NORTH",
        "title": "Session",
        "starts_at": minutes_from_now(-60),
        "participants": participants,
    });
    if let Some(course) = course {
        body["course_id"] = json!(course);
    }
    if informed {
        body["attendees_informed_at"] = json!(minutes_from_now(-59));
    }
    if kind == "personal_staff_meeting" {
        body["personal_meeting_kind"] = json!("appraisal");
    }
    let reply = app.post("/api/v1/sessions", body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.id()
}

async fn recording(
    app: &TestApp,
    session: Option<&str>,
    subjects: &[&str],
    purposes: &[&str],
) -> String {
    let reply = app
        .post(
            "/api/v1/recordings",
            json!({
                "kind": "video",
                "service": "CAMHS-NORTH",
                "session_id": session,
                "subjects": subjects,
                "purposes": purposes,
                "device": "TAB-0042",
                "made_at": minutes_from_now(-50),
                "location": "Therapy room 2",
            }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.id()
}

/// The decision's outcome and its (code, requirement) pairs, blocking ones first.
async fn decide(
    app: &TestApp,
    recording: &str,
    query: &str,
) -> (String, Vec<(String, String)>, Value) {
    let reply = app
        .get(&format!("/api/v1/recordings/{recording}/decision?{query}"))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reasons = reply.body["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["code"].as_str().unwrap().to_owned(),
                r["requirement"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (
        reply.body["outcome"].as_str().unwrap().to_owned(),
        reasons,
        reply.body,
    )
}

fn has(reasons: &[(String, String)], code: &str, requirement: &str) -> bool {
    reasons.iter().any(|(c, r)| c == code && r == requirement)
}

async fn x1_a_course_of_sessions_from_consent_to_withdrawal(app: TestApp) {
    let ada = app.person("Ada", "has_capacity").await;
    let course = app
        .post(
            "/api/v1/courses",
            json!({"service": "CAMHS-NORTH", "title": "CBT"}),
        )
        .await
        .id();
    let consent_id = consent(
        &app,
        &ada,
        &["clinical", "teaching"],
        json!({"kind": "course", "course_id": course}),
        120,
    )
    .await;
    let session_id = session(&app, "individual", Some(&course), &[&ada], false).await;
    let video = recording(&app, Some(&session_id), &[&ada], &["clinical"]).await;

    // C5: the course consent needs this session's "still willing" answer.
    let (outcome, reasons, _) = decide(&app, &video, "purpose=clinical").await;
    assert_eq!(outcome, "refused");
    assert!(has(&reasons, "session.not_confirmed", "C5"), "{reasons:?}");
    let confirmed = app
        .post(
            &format!("/api/v1/sessions/{session_id}/confirmations"),
            json!({"person_id": ada, "willing": true, "at": minutes_from_now(-59)}),
        )
        .await;
    assert_eq!(confirmed.status, 201, "{}", confirmed.body);
    let (outcome, reasons, body) = decide(&app, &video, "purpose=clinical").await;
    assert_eq!(outcome, "allowed", "{body}");
    assert!(has(&reasons, "consent.given", "C1"));
    assert!(
        body["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Ada Testperson consented to clinical")
    );

    // C11: teaching needs a de-identified copy; the refusal points at one once it exists.
    let (outcome, reasons, body) = decide(&app, &video, "purpose=teaching").await;
    assert_eq!(outcome, "refused");
    assert!(has(&reasons, "teaching.needs_de_identified_copy", "C11"));
    assert!(
        body["reasons"][0]["remedy"]
            .as_str()
            .unwrap()
            .contains("de-identified copy")
    );
    let copy = app
        .post(
            &format!("/api/v1/recordings/{video}/derivatives"),
            json!({"kind": "redaction", "de_identified": true, "device": "EDIT-SUITE-1", "made_at": minutes_from_now(-10), "purpose": "teaching"}),
        )
        .await;
    assert_eq!(copy.status, 201, "{}", copy.body);
    let (_, _, body) = decide(&app, &video, "purpose=teaching").await;
    assert_eq!(body["reasons"][0]["alternative"], copy.body["id"]);
    let (outcome, _, _) = decide(&app, &copy.id(), "purpose=teaching").await;
    assert_eq!(outcome, "allowed");

    // C8: after withdrawal the recording must not be used, and the remedy says what they chose.
    let withdrawn = app
        .post(
            &format!("/api/v1/consents/{consent_id}/withdrawals"),
            json!({"at": minutes_from_now(-1), "withdrawn_by": {"kind": "person"}, "existing_recordings": "hand_over"}),
        )
        .await;
    assert_eq!(withdrawn.status, 201, "{}", withdrawn.body);
    let (outcome, reasons, body) = decide(&app, &video, "purpose=clinical").await;
    assert_eq!(outcome, "refused");
    assert!(has(&reasons, "consent.withdrawn", "C8"));
    assert!(
        body["reasons"][0]["remedy"]
            .as_str()
            .unwrap()
            .contains("Hand it over")
    );

    // Every question was audited, with its answer.
    let trail = app.get(&format!("/api/v1/recordings/{video}/audit")).await;
    let asked: Vec<&Value> = trail
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "decision.asked")
        .collect();
    assert_eq!(asked.len(), 5);
    assert_eq!(asked[0]["outcome"], "refused");
    assert!(asked.iter().any(|e| e["outcome"] == "allowed"));
}

async fn c7_one_family_member_withdrawing_revokes_the_session(app: TestApp) {
    let members = [
        app.person("Ada", "has_capacity").await,
        app.person("Bela", "has_capacity").await,
        app.person("Cato", "has_capacity").await,
    ];
    let ids: Vec<&str> = members.iter().map(String::as_str).collect();
    let session_id = session(&app, "family", None, &ids, false).await;
    let mut consents = Vec::new();
    for member in &members {
        consents.push(
            consent(
                &app,
                member,
                &["clinical"],
                json!({"kind": "session", "session_id": session_id}),
                30,
            )
            .await,
        );
    }
    let video = recording(&app, Some(&session_id), &ids, &["clinical"]).await;
    assert_eq!(decide(&app, &video, "purpose=clinical").await.0, "allowed");
    let reply = app
        .post(
            &format!("/api/v1/consents/{}/withdrawals", consents[1]),
            json!({"at": minutes_from_now(-1), "withdrawn_by": {"kind": "person"}, "existing_recordings": "destroy"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let (outcome, reasons, _) = decide(&app, &video, "purpose=clinical").await;
    assert_eq!(outcome, "refused");
    assert!(
        has(&reasons, "consent.family_session_revoked", "C7"),
        "{reasons:?}"
    );
}

async fn c7_a_group_member_withdrawing_allows_only_a_copy_without_them(app: TestApp) {
    let members = [
        app.person("Ada", "has_capacity").await,
        app.person("Bela", "has_capacity").await,
        app.person("Cato", "has_capacity").await,
    ];
    let ids: Vec<&str> = members.iter().map(String::as_str).collect();
    let session_id = session(&app, "group", None, &ids, false).await;
    let mut consents = Vec::new();
    for member in &members {
        consents.push(
            consent(
                &app,
                member,
                &["clinical"],
                json!({"kind": "service", "service": "CAMHS-NORTH"}),
                30,
            )
            .await,
        );
    }
    let video = recording(&app, Some(&session_id), &ids, &["clinical"]).await;
    app.post(
        &format!("/api/v1/consents/{}/withdrawals", consents[0]),
        json!({"at": minutes_from_now(-2), "withdrawn_by": {"kind": "person"}, "existing_recordings": "destroy"}),
    )
    .await;
    let (outcome, reasons, _) = decide(&app, &video, "purpose=clinical").await;
    assert_eq!(outcome, "refused");
    assert!(has(&reasons, "consent.group_member_withdrawn", "C7"));
    let copy = app
        .post(
            &format!("/api/v1/recordings/{video}/derivatives"),
            json!({"kind": "redaction", "removed_persons": [members[0]], "device": "EDIT-SUITE-1", "made_at": minutes_from_now(-1), "purpose": "clinical"}),
        )
        .await;
    assert_eq!(copy.status, 201, "{}", copy.body);
    assert_eq!(
        decide(&app, &copy.id(), "purpose=clinical").await.0,
        "allowed"
    );
}

async fn c9_a_stop_that_deletes_refuses_the_recording(app: TestApp) {
    let ada = app.person("Ada", "has_capacity").await;
    consent(
        &app,
        &ada,
        &["clinical"],
        json!({"kind": "service", "service": "CAMHS-NORTH"}),
        120,
    )
    .await;
    let session_id = session(&app, "individual", None, &[&ada], false).await;
    let video = recording(&app, Some(&session_id), &[&ada], &["clinical"]).await;
    let stop = app
        .post(
            &format!("/api/v1/sessions/{session_id}/stops"),
            json!({"at": minutes_from_now(-40), "choice": "discontinue_and_delete", "requested_by": ada}),
        )
        .await;
    assert_eq!(stop.status, 201, "{}", stop.body);
    let (outcome, reasons, _) = decide(&app, &video, "purpose=clinical").await;
    assert_eq!(outcome, "refused");
    assert!(has(&reasons, "session.deletion_requested", "C9"));
}

async fn c10_research_needs_the_study_named(app: TestApp) {
    let ada = app.person("Ada", "has_capacity").await;
    let reply = app
        .post(
            &format!("/api/v1/persons/{ada}/consents"),
            json!({
                "answer": "given", "purposes": ["research"], "given_by": {"kind": "person"},
                "scope": {"kind": "service", "service": "CAMHS-NORTH"}, "signed_at": minutes_from_now(-60),
                "signature": {"method": "drawn", "signed_by": "Ada", "drawing": "10,150 40,60 80,150"}, "told_refusal_does_not_affect_care": true,
                "research": {"study": "Outcomes study", "ethics_reference": "23/NE/0123"},
            }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let video = recording(&app, None, &[&ada], &["research"]).await;
    let (_, reasons, _) = decide(&app, &video, "purpose=research").await;
    assert!(has(&reasons, "research.study_not_named", "C10"));
    let (_, reasons, _) = decide(&app, &video, "purpose=research&study=24/LO/0001").await;
    assert!(has(&reasons, "research.no_consent_for_study", "C10"));
    assert_eq!(
        decide(&app, &video, "purpose=research&study=23/NE/0123")
            .await
            .0,
        "allowed"
    );
}

async fn c12_staff_meetings_need_no_consent_but_personal_meetings_do(app: TestApp) {
    let colleagues = [
        app.person("Ada", "has_capacity").await,
        app.person("Bela", "has_capacity").await,
    ];
    let ids: Vec<&str> = colleagues.iter().map(String::as_str).collect();
    let meeting = session(&app, "staff_meeting", None, &ids, false).await;
    let audio = recording(&app, Some(&meeting), &ids, &["administrative"]).await;
    let (outcome, reasons, _) = decide(&app, &audio, "purpose=administrative").await;
    assert_eq!(outcome, "refused");
    assert!(has(&reasons, "meeting.attendees_not_informed", "R5"));
    let informed = app
        .put(
            &format!("/api/v1/sessions/{meeting}/attendees-informed"),
            json!({"at": minutes_from_now(-59)}),
        )
        .await;
    assert_eq!(informed.status, 200, "{}", informed.body);
    let (outcome, reasons, _) = decide(&app, &audio, "purpose=administrative").await;
    assert_eq!(outcome, "allowed");
    assert!(has(&reasons, "consent.not_required_for_meeting", "C12"));

    let appraisal = session(
        &app,
        "personal_staff_meeting",
        None,
        &[&colleagues[0]],
        true,
    )
    .await;
    let audio = recording(
        &app,
        Some(&appraisal),
        &[&colleagues[0]],
        &["administrative"],
    )
    .await;
    let (outcome, reasons, _) = decide(&app, &audio, "purpose=administrative").await;
    assert_eq!(outcome, "refused");
    assert!(has(&reasons, "consent.missing_for_personal_meeting", "C12"));
}

app_on_both_backends!(
    x1_a_course_of_sessions_from_consent_to_withdrawal,
    c7_one_family_member_withdrawing_revokes_the_session,
    c7_a_group_member_withdrawing_allows_only_a_copy_without_them,
    c9_a_stop_that_deletes_refuses_the_recording,
    c10_research_needs_the_study_named,
    c12_staff_meetings_need_no_consent_but_personal_meetings_do,
);
