//! The consent form as a page: every problem at once, what was typed kept, one consent per form.

use axum::http::{StatusCode, header};
use custodian_testkit::TestApp;

use crate::pages::{form, get, page, signed_in};

/// The hidden id the form was shown with, which makes a resent form record one consent.
fn form_id(html: &str) -> String {
    let marker = "name=\"form_id\" value=\"";
    let start = html.find(marker).expect("the form carries its id") + marker.len();
    html[start..start + 36].to_owned()
}

async fn c2_a_consent_form_sent_twice_records_one_consent(app: TestApp) {
    let person = app.person("Cai", "has_capacity").await;
    let cookie = signed_in(&app).await;
    let path = format!("/persons/{person}/consents/new");
    let (status, _, html) = page(&app, get(&path, Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    let id = form_id(&html);
    let send = |fields: &[(&str, &str)]| {
        let mut request = form(&path, fields);
        request
            .headers_mut()
            .insert(header::COOKIE, cookie.parse().unwrap());
        request
    };

    // A typed name without its witness: refused beside the field, everything typed kept,
    // and markup pasted into the notes shown as text.
    let typed_without_witness = [
        ("form_id", id.as_str()),
        ("purposes", "clinical"),
        ("purposes", "teaching"),
        ("answer", "given"),
        ("refusal_explained", "yes"),
        ("service", "CAMHS-NORTH"),
        ("signature_method", "typed_with_witness"),
        ("signed_by", "Cai Testperson"),
        ("notes", "<script>alert('x')</script>"),
    ];
    let (status, _, html) = page(&app, send(&typed_without_witness)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("href=\"#witness\""), "{html}");
    assert!(
        html.contains("name=\"purposes\" value=\"teaching\""),
        "{html}"
    );
    assert!(html.contains("value=\"Cai Testperson\""));
    assert!(
        html.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;"),
        "{html}"
    );
    assert!(!html.contains("<script>alert"));
    assert_eq!(
        form_id(&html),
        id,
        "the form keeps its id through corrections"
    );

    // Notes too long to keep are named, not silently dropped.
    let long_notes = "x".repeat(5000);
    let mut too_long = typed_without_witness.to_vec();
    too_long.retain(|(name, _)| *name != "notes");
    too_long.extend([("witness", "Nurse Witness"), ("notes", long_notes.as_str())]);
    let (status, _, html) = page(&app, send(&too_long)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("href=\"#notes\""), "{html}");
    assert!(html.contains("too long"), "{html}");

    // A page altered to drop its id is shown again with a fresh one, and a reason.
    let mut without_id = typed_without_witness.to_vec();
    without_id.retain(|(name, _)| *name != "form_id");
    let (status, _, html) = page(&app, send(&without_id)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("could not be matched"), "{html}");
    assert_eq!(form_id(&html).len(), 36);

    // Witnessed, then sent twice (a double click): one consent, and both land on it.
    let mut complete = typed_without_witness.to_vec();
    complete.push(("witness", "Nurse Witness"));
    let (first, first_headers, _) = page(&app, send(&complete)).await;
    let (second, second_headers, _) = page(&app, send(&complete)).await;
    assert_eq!(first, StatusCode::SEE_OTHER);
    assert_eq!(second, StatusCode::SEE_OTHER);
    assert_eq!(
        first_headers[header::LOCATION],
        second_headers[header::LOCATION]
    );
    let history = app.get(&format!("/api/v1/persons/{person}/consents")).await;
    assert_eq!(history.body["consents"].as_array().unwrap().len(), 1);
    let consent = &history.body["consents"][0];
    assert_eq!(consent["id"], id);
    assert_eq!(consent["signature"]["witness"], "Nurse Witness");
    assert_eq!(consent["notes"], "<script>alert('x')</script>");
}

async fn c2_a_drawn_signature_is_kept_and_shown(app: TestApp) {
    let person = app.person("Dee", "has_capacity").await;
    let cookie = signed_in(&app).await;
    let path = format!("/persons/{person}/consents/new");
    let (_, _, html) = page(&app, get(&path, Some(&cookie))).await;
    let id = form_id(&html);
    let mut request = form(
        &path,
        &[
            ("form_id", id.as_str()),
            ("purposes", "identification"),
            ("answer", "given"),
            ("refusal_explained", "yes"),
            ("service", "CAMHS-NORTH"),
            ("signature_method", "drawn"),
            ("signed_by", "Dee Testperson"),
            ("drawing", "10,150 40,60 80,150;120,100 160,100"),
        ],
    );
    request
        .headers_mut()
        .insert(header::COOKIE, cookie.parse().unwrap());
    let (status, headers, _) = page(&app, request).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let shown = headers[header::LOCATION].to_str().unwrap().to_owned();
    let consent = app.get(&format!("/api/v1/consents/{id}")).await;
    assert_eq!(
        consent.body["signature"]["drawing"],
        "10,150 40,60 80,150;120,100 160,100"
    );
    let (_, _, html) = page(&app, get(&shown, Some(&cookie))).await;
    assert!(
        html.contains("d=\"M10 150 L40 60 L80 150 M120 100 L160 100 \""),
        "{html}"
    );

    // Through the API a drawn signature without its strokes is refused, naming C2.
    let refused = app
        .post(
            &format!("/api/v1/persons/{person}/consents"),
            serde_json::json!({
                "answer": "given", "purposes": ["clinical"], "given_by": {"kind": "person"},
                "scope": {"kind": "service", "service": "CAMHS-NORTH"},
                "signed_at": "2026-01-01T10:00:00Z",
                "signature": {"method": "drawn", "signed_by": "Dee Testperson"},
                "told_refusal_does_not_affect_care": true
            }),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(refused.code(), "consent.drawing_missing");
    assert_eq!(refused.body["requirement"], "C2");
}

async fn c3_a_representative_answers_for_a_person_who_lacks_capacity(app: TestApp) {
    let person = app.person("Eli", "lacks_capacity").await;
    let representative = app
        .post(
            &format!("/api/v1/persons/{person}/representatives"),
            serde_json::json!({"name": "Jo Testperson", "kind": "lasting_power_of_attorney"}),
        )
        .await
        .id();
    let cookie = signed_in(&app).await;
    let path = format!("/persons/{person}/consents/new");
    let (_, _, html) = page(&app, get(&path, Some(&cookie))).await;
    assert!(
        html.contains("a representative decides in their best interests"),
        "{html}"
    );
    let id = form_id(&html);
    let send = |fields: &[(&str, &str)]| {
        let mut request = form(&path, fields);
        request
            .headers_mut()
            .insert(header::COOKIE, cookie.parse().unwrap());
        request
    };
    // After their answer comes the page for the representative's decision.
    let (status, _, html) = page(
        &app,
        send(&[
            ("form_id", id.as_str()),
            ("step", "answer"),
            ("purposes", "care_plan"),
            ("answer", "given"),
            ("refusal_explained", "yes"),
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Their representative's decision"), "{html}");
    assert!(html.contains(&format!("<option value=\"{representative}\">Jo Testperson")));
    let mut fields = vec![
        ("form_id", id.as_str()),
        ("purposes", "care_plan"),
        ("answer", "given"),
        ("refusal_explained", "yes"),
        ("service", "CARE-HOME"),
        ("signature_method", "paper"),
        ("signed_by", "Jo Testperson"),
    ];

    // Without the representative and the capacity decision, the form says what is missing.
    let (status, _, html) = page(&app, send(&fields)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("Choose the representative who answered for them"),
        "{html}"
    );

    fields.extend([
        ("representative_id", representative.as_str()),
        ("assessed_on", "2026-01-05"),
        ("assessed_by", "Dr Assessor, psychiatrist"),
        (
            "capacity_decision",
            "Cannot weigh the information about recording.",
        ),
        (
            "best_interest_note",
            "Photographs in the care plan help staff recognise Eli.",
        ),
    ]);
    let (status, _, _) = page(&app, send(&fields)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let consent = app.get(&format!("/api/v1/consents/{id}")).await;
    assert_eq!(consent.body["given_by"]["kind"], "representative");
    assert_eq!(
        consent.body["given_by"]["representative_id"],
        representative
    );
    let (_, _, html) = page(&app, get(&format!("/consents/{id}"), Some(&cookie))).await;
    assert!(
        html.contains("Jo Testperson (lasting power of attorney) decided in"),
        "{html}"
    );
}

async fn c1_the_consent_form_asks_one_question_per_page_then_checks_the_answers(app: TestApp) {
    let person = app.person("Fin", "has_capacity").await;
    let cookie = signed_in(&app).await;
    let path = format!("/persons/{person}/consents/new");
    let (_, _, html) = page(&app, get(&path, Some(&cookie))).await;
    assert!(html.contains("What may recordings be used for?"), "{html}");
    assert!(
        !html.contains("id=\"signed_by\""),
        "one question per page: {html}"
    );
    let id = form_id(&html);
    let send = |fields: &[(&str, &str)]| {
        let mut request = form(&path, fields);
        request
            .headers_mut()
            .insert(header::COOKIE, cookie.parse().unwrap());
        request
    };

    // A page names only its own problems, not those of pages still to come.
    let (status, _, html) = page(&app, send(&[("form_id", &id), ("step", "purposes")])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Choose at least one purpose"), "{html}");
    assert!(!html.contains("Say how the form was signed"), "{html}");

    let mut answers = vec![("form_id", id.as_str()), ("purposes", "medication")];
    // Each page: what is answered on it, and the question the next page asks.
    type Page<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let steps: [Page; 4] = [
        ("purposes", &[], "Their answer for the ticked purposes"),
        (
            "answer",
            &[("answer", "given"), ("refusal_explained", "yes")],
            "Service the consent is for",
        ),
        (
            "details",
            &[("service", "WARD-7")],
            "How is the form signed?",
        ),
        (
            "signature",
            &[
                ("signature_method", "paper"),
                ("signed_by", "Fin Testperson"),
            ],
            "Check the answers before recording the consent",
        ),
    ];
    for (step, given, next) in steps {
        answers.extend_from_slice(given);
        let mut sent = answers.clone();
        sent.push(("step", step));
        let (status, _, html) = page(&app, send(&sent)).await;
        assert_eq!(status, StatusCode::OK, "{step}: {html}");
        assert!(html.contains(next), "after {step}: {html}");
    }
    answers.push(("step", "check"));

    // "Change" goes back to the question with every answer kept.
    let mut change = answers.clone();
    change.push(("goto", "purposes"));
    let (status, _, html) = page(&app, send(&change)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("value=\"medication\" aria-describedby=\"purpose-medication-hint\" checked"),
        "{html}"
    );
    assert!(
        html.contains("name=\"signed_by\" value=\"Fin Testperson\""),
        "{html}"
    );

    let (status, headers, _) = page(&app, send(&answers)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[header::LOCATION],
        format!("/consents/{id}").as_str()
    );
}

async fn c5_a_consent_form_for_a_new_course_covers_the_courses_sessions(app: TestApp) {
    let person = app.person("Gil", "has_capacity").await;
    let cookie = signed_in(&app).await;
    let with_cookie = |path: &str, fields: &[(&str, &str)]| {
        let mut request = form(path, fields);
        request
            .headers_mut()
            .insert(header::COOKIE, cookie.parse().unwrap());
        request
    };
    let start = format!("/persons/{person}/courses/new");
    let (status, _, html) =
        page(&app, with_cookie(&start, &[("title", ""), ("service", "")])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Enter the course&#39;s name"), "{html}");
    let (status, headers, _) = page(
        &app,
        with_cookie(
            &start,
            &[("title", "Speech therapy, autumn term"), ("service", "SLT")],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let consent_form = headers[header::LOCATION].to_str().unwrap().to_owned();
    let course = consent_form.split("course=").nth(1).unwrap().to_owned();
    let (_, _, html) = page(&app, get(&consent_form, Some(&cookie))).await;
    assert!(
        html.contains("the course Speech therapy, autumn term (SLT)"),
        "{html}"
    );
    let id = form_id(&html);

    // The course stands in for the service: no service is asked for.
    let path = format!("/persons/{person}/consents/new");
    let (status, _, _) = page(
        &app,
        with_cookie(
            &path,
            &[
                ("form_id", &id),
                ("course_id", &course),
                ("purposes", "clinical"),
                ("answer", "given"),
                ("refusal_explained", "yes"),
                ("signature_method", "paper"),
                ("signed_by", "Gil Testperson"),
            ],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let consent = app.get(&format!("/api/v1/consents/{id}")).await;
    assert_eq!(consent.body["scope"]["kind"], "course");
    assert_eq!(consent.body["scope"]["course_id"], course.as_str());

    // A session can now be started in that course.
    let new_session = format!("/persons/{person}/sessions/new");
    let (_, _, html) = page(&app, get(&new_session, Some(&cookie))).await;
    assert!(html.contains("Speech therapy, autumn term (SLT)"), "{html}");
    let (status, headers, _) = page(
        &app,
        with_cookie(
            &new_session,
            &[
                ("kind", "individual"),
                ("title", "Week 1"),
                ("service", ""),
                ("course", &course),
                ("others", ""),
            ],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let session = headers[header::LOCATION].to_str().unwrap().to_owned();
    let (_, _, html) = page(&app, get(&session, Some(&cookie))).await;
    assert!(html.contains("<dt>Service</dt><dd>SLT</dd>"), "{html}");
    assert!(
        html.contains("<dt>Part of a course</dt><dd>Yes</dd>"),
        "{html}"
    );
}

async fn c5_a_consent_for_one_session_is_asked_from_the_session_page(app: TestApp) {
    let visitor = app.person("Ola", "has_capacity").await;
    let session =
        crate::session_pages::session_today(&app, "individual", "Open day visit", &[&visitor])
            .await;
    let cookie = signed_in(&app).await;
    let (_, _, html) = page(&app, get(&format!("/sessions/{session}"), Some(&cookie))).await;
    let link = format!("/persons/{visitor}/consents/new?session={session}");
    assert!(html.contains(&link), "{html}");
    let (_, _, html) = page(&app, get(&link, Some(&cookie))).await;
    assert!(html.contains(": the session Open day visit,"), "{html}");
    let id = form_id(&html);

    let path = format!("/persons/{visitor}/consents/new");
    let mut request = form(
        &path,
        &[
            ("form_id", &id),
            ("session_id", &session),
            ("purposes", "activities"),
            ("answer", "given"),
            ("refusal_explained", "yes"),
            ("signature_method", "paper"),
            ("signed_by", "Ola Testperson"),
        ],
    );
    request
        .headers_mut()
        .insert(header::COOKIE, cookie.parse().unwrap());
    let (status, _, html) = page(&app, request).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let consent = app.get(&format!("/api/v1/consents/{id}")).await;
    assert_eq!(consent.body["scope"]["kind"], "session");
    assert_eq!(consent.body["scope"]["session_id"], session.as_str());
    let (_, _, html) = page(&app, get(&format!("/consents/{id}"), Some(&cookie))).await;
    assert!(html.contains("one session"), "{html}");

    // C1: an answer for one session and one for the whole service are shown side by side.
    crate::decisions::consent(
        &app,
        &visitor,
        &["activities"],
        serde_json::json!({"kind": "service", "service": "CAMHS-NORTH"}),
        60,
    )
    .await;
    let (_, _, html) = page(&app, get(&format!("/persons/{visitor}"), Some(&cookie))).await;
    let table = html
        .split("aria-labelledby=\"consents\"")
        .nth(1)
        .unwrap_or_default();
    assert!(
        table.contains("<td>The service CAMHS-NORTH</td>"),
        "{table}"
    );
    assert!(table.contains("<td>One session</td>"), "{table}");
}

on_both_backends!(app:
    c5_a_consent_for_one_session_is_asked_from_the_session_page,
    c1_the_consent_form_asks_one_question_per_page_then_checks_the_answers,
    c5_a_consent_form_for_a_new_course_covers_the_courses_sessions,
    c2_a_consent_form_sent_twice_records_one_consent,
    c2_a_drawn_signature_is_kept_and_shown,
    c3_a_representative_answers_for_a_person_who_lacks_capacity,
);
