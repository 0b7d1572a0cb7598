//! Whole stories through the API: register, consent, session, recording, then ask the decision (X1).

use custodian_testkit::TestApp;
use custodian_testkit::fixtures::minutes_from_now;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

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
    recording_made(app, session, subjects, purposes, 50).await
}

/// Registers a video of `subjects` made `minutes_ago`; returns its id.
async fn recording_made(
    app: &TestApp,
    session: Option<&str>,
    subjects: &[&str],
    purposes: &[&str],
    minutes_ago: i64,
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
                "made_at": minutes_from_now(-minutes_ago),
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

async fn c5_a_still_willing_answer_covers_only_recordings_started_after_it(app: TestApp) {
    let ada = app.person("Ada", "has_capacity").await;
    let course = app
        .post(
            "/api/v1/courses",
            json!({"service": "CAMHS-NORTH", "title": "CBT"}),
        )
        .await
        .id();
    consent(
        &app,
        &ada,
        &["clinical"],
        json!({"kind": "course", "course_id": course}),
        120,
    )
    .await;
    let session_id = session(&app, "individual", Some(&course), &[&ada], false).await;
    let early = recording_made(&app, Some(&session_id), &[&ada], &["clinical"], 50).await;
    // "Still willing" was asked only after the first recording had started.
    let confirmed = app
        .post(
            &format!("/api/v1/sessions/{session_id}/confirmations"),
            json!({"person_id": ada, "willing": true, "at": minutes_from_now(-40)}),
        )
        .await;
    assert_eq!(confirmed.status, 201, "{}", confirmed.body);
    let late = recording_made(&app, Some(&session_id), &[&ada], &["clinical"], 30).await;

    let (outcome, reasons, body) = decide(&app, &early, "purpose=clinical").await;
    assert_eq!(outcome, "refused", "{body}");
    assert!(
        has(&reasons, "session.confirmed_after_recording", "C5"),
        "{reasons:?}"
    );
    assert!(!has(&reasons, "consent.given", "C1"), "{reasons:?}");
    let message = body["reasons"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("after this recording started"),
        "{message}"
    );
    let remedy = body["reasons"][0]["remedy"].as_str().unwrap();
    assert!(
        remedy.contains("consent to this recording itself"),
        "{remedy}"
    );

    let (outcome, reasons, body) = decide(&app, &late, "purpose=clinical").await;
    assert_eq!(outcome, "allowed", "{body}");
    assert!(has(&reasons, "consent.given", "C1"), "{reasons:?}");

    // As the remedy says, consent to the early recording itself covers it.
    consent(
        &app,
        &ada,
        &["clinical"],
        json!({"kind": "recording", "recording_id": early}),
        5,
    )
    .await;
    assert_eq!(decide(&app, &early, "purpose=clinical").await.0, "allowed");
}

/// An RFC 3339 moment `days` before now.
fn days_ago(days: i64) -> String {
    minutes_from_now(-days * 24 * 60)
}

async fn x1_a_decision_as_at_a_moment_rests_on_what_the_register_held_then(app: TestApp) {
    // Ten days ago: Ada is registered, her consent entered and a recording made of her.
    app.clock.rewind(time::Duration::days(10));
    let ada = app.person("Ada", "has_capacity").await;
    let consent_id = consent(
        &app,
        &ada,
        &["clinical"],
        json!({"kind": "service", "service": "CAMHS-NORTH"}),
        20 * 24 * 60,
    )
    .await;
    let video = recording_made(&app, None, &[&ada], &["clinical"], 15 * 24 * 60).await;
    app.clock.advance(time::Duration::days(10));

    // Today: a withdrawal is entered, dated last week.
    let withdrawn = app
        .post(
            &format!("/api/v1/consents/{consent_id}/withdrawals"),
            json!({"at": days_ago(7), "withdrawn_by": {"kind": "person"}, "existing_recordings": "destroy"}),
        )
        .await;
    assert_eq!(withdrawn.status, 201, "{}", withdrawn.body);

    // Three days ago the register did not know of it yet: the use was allowed then.
    let three_days_ago = days_ago(3);
    let (outcome, reasons, body) = decide(
        &app,
        &video,
        &format!("purpose=clinical&at={three_days_ago}"),
    )
    .await;
    assert_eq!(outcome, "allowed", "{body}");
    assert!(has(&reasons, "consent.given", "C1"), "{reasons:?}");
    let answered_at = time::OffsetDateTime::parse(body["at"].as_str().unwrap(), &Rfc3339).unwrap();
    let asked_at = time::OffsetDateTime::parse(&three_days_ago, &Rfc3339).unwrap();
    assert!(
        (answered_at - asked_at).abs() < time::Duration::milliseconds(1),
        "the answer is about the moment asked: {body}"
    );

    // Asked about now, the withdrawal counts from the date it bears.
    let (outcome, reasons, body) = decide(&app, &video, "purpose=clinical").await;
    assert_eq!(outcome, "refused", "{body}");
    assert!(has(&reasons, "consent.withdrawn", "C8"), "{reasons:?}");

    // Each question's audit event says which moment it was about.
    let trail = app.get(&format!("/api/v1/recordings/{video}/audit")).await;
    let asked: Vec<Value> = trail
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "decision.asked")
        .map(|e| serde_json::from_str(e["detail"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(asked.len(), 2);
    let audited: Vec<time::OffsetDateTime> = asked
        .iter()
        .map(|d| time::OffsetDateTime::parse(d["at"].as_str().unwrap(), &Rfc3339).unwrap())
        .collect();
    assert!(
        audited
            .iter()
            .any(|at| (*at - asked_at).abs() < time::Duration::milliseconds(1)),
        "{asked:?}"
    );
    assert!(
        audited
            .iter()
            .any(|at| *at > asked_at + time::Duration::days(2)),
        "{asked:?}"
    );
}

async fn x1_a_decision_is_not_asked_about_the_future(app: TestApp) {
    let ada = app.person("Ada", "has_capacity").await;
    consent(
        &app,
        &ada,
        &["clinical"],
        json!({"kind": "service", "service": "CAMHS-NORTH"}),
        120,
    )
    .await;
    let video = recording(&app, None, &[&ada], &["clinical"]).await;
    for (at, code) in [
        (minutes_from_now(5), "input.in_the_future"),
        ("yesterday".to_owned(), "input.bad_format"),
    ] {
        let reply = app
            .get(&format!(
                "/api/v1/recordings/{video}/decision?purpose=clinical&at={at}"
            ))
            .await;
        assert_eq!(reply.status, 422, "{at}: {}", reply.body);
        assert_eq!(reply.code(), code, "{}", reply.body);
        assert_eq!(reply.body["field"], "at", "{}", reply.body);
    }
    // Nothing was decided, so nothing was audited.
    let trail = app.get(&format!("/api/v1/recordings/{video}/audit")).await;
    assert!(
        !trail
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "decision.asked"),
        "{}",
        trail.body
    );
    assert_eq!(decide(&app, &video, "purpose=clinical").await.0, "allowed");
}

async fn r1_a_decision_as_at_before_the_recording_was_made_refuses_it(app: TestApp) {
    let ada = app.person("Ada", "has_capacity").await;
    consent(
        &app,
        &ada,
        &["clinical"],
        json!({"kind": "service", "service": "CAMHS-NORTH"}),
        120,
    )
    .await;
    let video = recording_made(&app, None, &[&ada], &["clinical"], 50).await;
    let (outcome, reasons, body) = decide(
        &app,
        &video,
        &format!("purpose=clinical&at={}", minutes_from_now(-55)),
    )
    .await;
    assert_eq!(outcome, "refused", "{body}");
    assert!(has(&reasons, "recording.not_yet_made", "R1"), "{reasons:?}");
    // Once it was made, that reason goes; the consent, dated earlier, was entered only now, so
    // as the register stood then there was none.
    let (outcome, reasons, body) = decide(
        &app,
        &video,
        &format!("purpose=clinical&at={}", minutes_from_now(-45)),
    )
    .await;
    assert_eq!(outcome, "refused", "{body}");
    assert!(
        !has(&reasons, "recording.not_yet_made", "R1"),
        "{reasons:?}"
    );
    assert!(has(&reasons, "consent.missing", "C1"), "{reasons:?}");
    assert_eq!(decide(&app, &video, "purpose=clinical").await.0, "allowed");
}

on_both_backends!(app:
    c5_a_still_willing_answer_covers_only_recordings_started_after_it,
    x1_a_decision_as_at_a_moment_rests_on_what_the_register_held_then,
    x1_a_decision_is_not_asked_about_the_future,
    r1_a_decision_as_at_before_the_recording_was_made_refuses_it,
    x1_a_course_of_sessions_from_consent_to_withdrawal,
    c7_one_family_member_withdrawing_revokes_the_session,
    c7_a_group_member_withdrawing_allows_only_a_copy_without_them,
    c9_a_stop_that_deletes_refuses_the_recording,
    c10_research_needs_the_study_named,
    c12_staff_meetings_need_no_consent_but_personal_meetings_do,
);
