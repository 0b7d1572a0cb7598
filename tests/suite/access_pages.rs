//! The pages for managing access (S2, S3, S5): declaring a personal connection, emergency
//! access from the refusal page, the IG lead's review and report, and a team manager adding a
//! service to a person's care. The administrator's pages are in `access_admin_pages`.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use custodian_testkit::{CLINICIAN, CLINICIAN_PASSWORD, IG_LEAD, IG_LEAD_PASSWORD, TestApp};
use serde_json::json;

/// A page as a signed-in browser gets it: its status and HTML.
pub(crate) async fn get(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    let request = Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    let (status, _, html) = crate::pages::page(app, request).await;
    (status, html)
}

/// A form sent from a page (with its anti-forgery token): status, where it leads, HTML.
pub(crate) async fn post(
    app: &TestApp,
    cookie: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let mut request = crate::pages::form(path, fields);
    request
        .headers_mut()
        .insert(header::COOKIE, cookie.parse().unwrap());
    let (status, headers, html) = crate::pages::page(app, request).await;
    let location = headers
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, location, html)
}

/// The text of the page's first textarea, as typed (HTML entities undone).
pub(crate) fn textarea(html: &str) -> String {
    let start = html.find("<textarea").expect("a textarea");
    let opened = start + html[start..].find('>').unwrap() + 1;
    let end = opened + html[opened..].find("</textarea>").unwrap();
    html[opened..end]
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The id of the member of staff an API token belongs to.
pub(crate) async fn staff_id(app: &TestApp, token: &str) -> String {
    app.as_(token).get("/api/v1/auth/me").await.body["staff"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(crate) const FORBID_BREAK_GLASS: &str = "@refusal(\"this organisation does not allow emergency access\")\n\
    forbid (principal, action == Custodian::Action::\"break_glass\", resource);";

async fn s3_a_practitioner_declares_a_connection_on_the_person_page_and_is_then_refused(
    app: TestApp,
) {
    let person = app.person("Gale", "has_capacity").await;
    let cookie = app.cookie_for(CLINICIAN, CLINICIAN_PASSWORD).await;
    let (status, html) = get(&app, &cookie, &format!("/persons/{person}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("href=\"/persons/{person}/connection\"")),
        "{html}"
    );

    // The form warns what declaring means before anything is sent.
    let form = format!("/persons/{person}/connection");
    let (status, html) = get(&app, &cookie, &form).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Declare a personal connection to Gale Testperson"));
    assert!(html.contains("You cannot undo this yourself"), "{html}");
    let (status, _, html) = post(&app, &cookie, &form, &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("Choose how you know them personally"),
        "{html}"
    );

    let (status, location, _) = post(&app, &cookie, &form, &[("kind", "neighbour")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/connections");
    let (_, html) = get(&app, &cookie, "/connections").await;
    assert!(html.contains("Neighbour"), "{html}");

    // From then on the page refuses them, naming the rule, without naming the person.
    let (status, html) = get(&app, &cookie, &format!("/persons/{person}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("Rule S3"), "{html}");
    assert!(html.contains("personal connection"), "{html}");
    assert!(!html.contains("Gale"), "{html}");
    // Emergency access is not offered to them: a colleague without the connection takes it.
    assert!(!html.contains("emergency-access\""), "{html}");
    assert!(
        html.contains("a colleague without one can take emergency access"),
        "{html}"
    );
    // Search leaves them out, and the API refuses them too.
    let (_, html) = get(&app, &cookie, "/persons?q=Gale").await;
    assert!(!html.contains(&person), "{html}");
    let refused = app.get(&format!("/api/v1/persons/{person}")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.body["requirement"], "S3");
}

async fn s3_another_team_takes_emergency_access_from_the_refusal_page_with_a_written_reason(
    app: TestApp,
) {
    let person = app.person("Hale", "has_capacity").await;
    app.staff_member(
        "on.call",
        "a pass phrase for the night",
        &["practitioner", "on_call"],
        &["ADULT-MH-EAST"],
    )
    .await;
    let cookie = app
        .cookie_for("on.call", "a pass phrase for the night")
        .await;
    let page = format!("/persons/{person}");
    let (status, html) = get(&app, &cookie, &page).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("Rule S2"), "{html}");
    assert!(html.contains("ask your team manager"), "{html}");
    let action = format!("/persons/{person}/emergency-access");
    assert!(html.contains(&format!("action=\"{action}\"")), "{html}");

    // A reason of a few letters is not enough; what was typed stays.
    let (status, _, html) = post(&app, &cookie, &action, &[("reason", "need it")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("at least 10 characters"), "{html}");
    assert_eq!(textarea(&html), "need it");

    let reason = "Called to the ward at night; their team is not on duty";
    let (status, location, _) = post(&app, &cookie, &action, &[("reason", reason)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, page);
    let (status, html) = get(&app, &cookie, &page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Hale Testperson"), "{html}");
    assert!(
        html.contains("You are seeing this record under emergency access"),
        "{html}"
    );

    // The IG lead is told, with the reason.
    let ig = app.ig_lead().await;
    let waiting = app.as_(&ig).get("/api/v1/emergency-access").await;
    assert_eq!(waiting.body[0]["reason"], reason);
}

async fn s3_emergency_access_is_offered_only_to_those_a_policy_lets_take_it(app: TestApp) {
    let person = app.person("Iona", "has_capacity").await;
    app.staff_member(
        "elsewhere",
        "a pass phrase from another team",
        &["practitioner"],
        &["ADULT-MH-EAST"],
    )
    .await;
    let other = app
        .cookie_for("elsewhere", "a pass phrase from another team")
        .await;
    let action = format!("action=\"/persons/{person}/emergency-access\"");
    let (status, html) = get(&app, &other, &format!("/persons/{person}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        !html.contains(&action),
        "not offered to a practitioner who is not on call: {html}"
    );
    app.staff_member(
        "on.call",
        "a pass phrase for the night",
        &["practitioner", "on_call"],
        &["ADULT-MH-EAST"],
    )
    .await;
    let on_call = app
        .cookie_for("on.call", "a pass phrase for the night")
        .await;
    let (_, html) = get(&app, &on_call, &format!("/persons/{person}")).await;
    assert!(html.contains(&action), "offered to those on call: {html}");

    // The communications team may not take it: refused, with the rule, and no form.
    app.member_with_role("communications").await;
    let communications = app
        .cookie_for("communications.member", TestApp::MEMBER_PASSWORD)
        .await;
    let (status, html) = get(&app, &communications, &format!("/persons/{person}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("Rule S2"), "{html}");
    assert!(!html.contains(&action), "{html}");

    // Nor anyone, once the organisation forbids it.
    let put = app.adopt_policy("no-break-glass", FORBID_BREAK_GLASS).await;
    assert_eq!(put.status, StatusCode::NO_CONTENT, "{}", put.body);
    let (status, html) = get(&app, &on_call, &format!("/persons/{person}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!html.contains(&action), "{html}");
    assert!(html.contains("ask your team manager"), "{html}");
}

async fn s5_the_ig_lead_marks_emergency_access_reviewed_and_reads_refusals_by_person_staff_and_rule(
    app: TestApp,
) {
    let person = app.person("Jura", "has_capacity").await;
    let curious = app
        .staff_member(
            "curious",
            "a pass phrase for browsing",
            &["practitioner", "on_call"],
            &["ADULT-MH-EAST"],
        )
        .await;
    let curious_cookie = app
        .cookie_for("curious", "a pass phrase for browsing")
        .await;
    for _ in 0..2 {
        let (status, _) = get(&app, &curious_cookie, &format!("/persons/{person}")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let grant = app
        .as_(&curious)
        .post(
            &format!("/api/v1/persons/{person}/emergency-access"),
            json!({"reason": "Called to the ward at night; no one from the team on duty"}),
        )
        .await
        .id();

    let ig = app.ig_lead().await;
    let cookie = app.cookie_for(IG_LEAD, IG_LEAD_PASSWORD).await;
    let (status, html) = get(&app, &cookie, "/").await;
    assert_eq!(status, StatusCode::OK);
    let review = format!("/emergency-access/{grant}/review");
    assert!(html.contains(&format!("action=\"{review}\"")), "{html}");
    assert!(html.contains("Mark as reviewed"), "{html}");
    assert!(html.contains("Test curious"), "who took it: {html}");
    assert!(html.contains("href=\"/refusals\""), "{html}");

    let (status, location, _) = post(&app, &cookie, &review, &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/#emergency");
    let (_, html) = get(&app, &cookie, "/").await;
    assert!(!html.contains(&grant), "{html}");
    let waiting = app.as_(&ig).get("/api/v1/emergency-access").await;
    assert_eq!(waiting.body, json!([]));

    // The report counts the two refusals by person, member of staff and rule.
    let (status, html) = get(&app, &cookie, "/refusals").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("2 attempts were refused in the last 30 days"),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "<a href=\"/persons/{person}\">Jura Testperson</a></td><td>2</td>"
        )),
        "{html}"
    );
    assert!(html.contains("<td>Test curious</td><td>2</td>"), "{html}");
    assert!(
        html.contains("<td>S2, no policy allows it</td><td>2</td>"),
        "{html}"
    );
    assert!(
        html.contains("See a person&#39;s record") || html.contains("See a person's record"),
        "{html}"
    );
    let (status, html) = get(&app, &cookie, "/refusals?since=7").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<strong aria-current=\"page\">Last 7 days</strong>"),
        "{html}"
    );

    // No one else reads it.
    let clinician = app.cookie_for(CLINICIAN, CLINICIAN_PASSWORD).await;
    let (status, _) = get(&app, &clinician, "/refusals").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = post(&app, &clinician, &review, &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn s2_a_team_manager_adds_a_person_to_another_service_from_their_page(app: TestApp) {
    let person = app.person("Lyle", "has_capacity").await;
    let page = format!("/persons/{person}");
    let practitioner = app.cookie_for(CLINICIAN, CLINICIAN_PASSWORD).await;
    let (_, html) = get(&app, &practitioner, &page).await;
    assert!(!html.contains("Add to another service"), "{html}");
    let (status, _) = get(&app, &practitioner, &format!("{page}/services/new")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    app.staff_member(
        "team.manager",
        "a pass phrase for managing",
        &["team_manager"],
        &["CAMHS-NORTH"],
    )
    .await;
    let manager = app
        .cookie_for("team.manager", "a pass phrase for managing")
        .await;
    let (_, html) = get(&app, &manager, &page).await;
    assert!(
        html.contains(&format!("href=\"{page}/services/new\"")),
        "{html}"
    );
    assert!(
        html.contains("<dd id=\"services\">CAMHS-NORTH</dd>"),
        "{html}"
    );

    let form = format!("{page}/services/new");
    let (status, _, html) = post(&app, &manager, &form, &[("service", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Enter the code of the service"), "{html}");
    let (status, location, _) = post(&app, &manager, &form, &[("service", "adult-mh-east")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("{page}#services"));
    let (_, html) = get(&app, &manager, &page).await;
    assert!(
        html.contains("<dd id=\"services\">ADULT-MH-EAST, CAMHS-NORTH</dd>"),
        "{html}"
    );

    // That service's staff now see them.
    let other = app
        .staff_member(
            "adult.team",
            "a pass phrase for adults",
            &["practitioner"],
            &["ADULT-MH-EAST"],
        )
        .await;
    let seen = app
        .as_(&other)
        .get(&format!("/api/v1/persons/{person}"))
        .await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
}

on_both_backends!(app:
    s3_a_practitioner_declares_a_connection_on_the_person_page_and_is_then_refused,
    s3_another_team_takes_emergency_access_from_the_refusal_page_with_a_written_reason,
    s3_emergency_access_is_offered_only_to_those_a_policy_lets_take_it,
    s5_the_ig_lead_marks_emergency_access_reviewed_and_reads_refusals_by_person_staff_and_rule,
    s2_a_team_manager_adds_a_person_to_another_service_from_their_page,
);
