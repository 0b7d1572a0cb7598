//! Single sign-on (issue 5) against a real OpenID provider on loopback: linked accounts sign in,
//! and a forged return, a token for another audience, an unknown subject and a locked account
//! are refused and audited.

use axum::http::{Method, StatusCode, header};
use custodian_testkit::oidc::{OTHER_CLIENT_ID, OidcOptions, OidcProvider};
use custodian_testkit::{Backend, Reply, TestApp};
use serde_json::json;

/// Custodian's address as the provider sees it; the tests call the router directly.
const PUBLIC_URL: &str = "http://custodian.test";
const SUBJECT: &str = "synthetic-subject-4821";

on_both_backends!(backend, needs [OidcProvider]:
    s5_a_linked_account_signs_in_with_single_sign_on,
    s5_an_unknown_subject_is_refused_and_told_to_ask_an_administrator,
    s2_a_token_for_another_audience_is_refused,
    s5_a_tampered_or_replayed_return_is_refused,
    s5_a_locked_account_cannot_sign_in_with_single_sign_on,
    s5_only_an_administrator_links_a_subject_and_each_subject_once,
    s5_a_provider_that_does_not_answer_is_a_bad_gateway,
    s2_an_administrator_links_and_unlinks_single_sign_on_on_the_members_page,
);

/// A provider signing everyone in as `subject` and an app using it.
async fn app_with_provider(backend: Backend, audience: Option<&str>) -> (TestApp, OidcProvider) {
    let provider = OidcProvider::start(&OidcOptions {
        redirect_uri: format!("{PUBLIC_URL}/sign-in/sso/callback"),
        subject: SUBJECT.to_owned(),
        audience: audience.map(str::to_owned),
    })
    .await;
    let app = TestApp::with_sso(backend, provider.settings(PUBLIC_URL)).await;
    (app, provider)
}

/// A new member of staff's id.
async fn member(app: &TestApp, username: &str) -> String {
    let created = as_admin(
        app,
        Method::POST,
        "/api/v1/staff",
        json!({"username": username, "display_name": "Robin Testperson",
            "roles": ["practitioner"], "services": ["CAMHS-NORTH"]}),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.body["staff"]["id"].as_str().unwrap().to_owned()
}

/// A request as the administrator, who manages accounts.
async fn as_admin(
    app: &TestApp,
    method: Method,
    path: &str,
    body: serde_json::Value,
) -> custodian_testkit::Reply {
    app.call(method, path, Some(&app.admin_token), Some(body))
        .await
}

async fn link(app: &TestApp, staff: &str, subject: &str) {
    let linked = as_admin(
        app,
        Method::PUT,
        &format!("/api/v1/staff/{staff}/sso"),
        json!({ "subject": subject }),
    )
    .await;
    assert_eq!(linked.status, StatusCode::NO_CONTENT, "{}", linked.body);
}

/// Begins a sign-in at Custodian and goes through the provider: the browser's cookie
/// (`name=value`) and the path and query the provider sends it back to.
async fn through_provider(app: &TestApp, provider: &OidcProvider) -> (String, String) {
    let started = app
        .call(Method::GET, "/sign-in/sso?return_to=/persons", None, None)
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let cookie = started.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("custodian_sso="), "{cookie}");
    let authorize = started.headers[header::LOCATION].to_str().unwrap();
    assert!(authorize.starts_with(&provider.issuer), "{authorize}");
    for part in [
        "code_challenge_method=S256",
        "state=",
        "nonce=",
        "client_id=custodian",
    ] {
        assert!(authorize.contains(part), "{part} missing from {authorize}");
    }
    let back = provider.authorize(authorize).await;
    let path = back.strip_prefix(PUBLIC_URL).unwrap().to_owned();
    assert!(path.starts_with("/sign-in/sso/callback?"), "{path}");
    (cookie, path)
}

async fn come_back(app: &TestApp, cookie: &str, path: &str) -> Reply {
    app.call_with(Method::GET, path, &[("cookie", cookie)], None)
        .await
}

/// The sign-in cookie a reply set, if any.
fn session(reply: &Reply) -> Option<String> {
    reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|c| c.to_str().ok())
        .find(|c| c.starts_with("custodian_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
}

/// The details of every refused sign-in in the audit trail.
async fn refusals(app: &TestApp) -> Vec<String> {
    let mut tx = app.db.register.read().await.unwrap();
    let events = tx.audit_events_after(0, 1000).await.unwrap();
    events
        .into_iter()
        .filter(|e| e.action == "auth.sign_in_refused")
        .map(|e| e.detail)
        .collect()
}

async fn s5_a_linked_account_signs_in_with_single_sign_on(backend: Backend) {
    let (app, provider) = app_with_provider(backend, None).await;
    let page = app.call(Method::GET, "/sign-in", None, None).await;
    assert!(
        page.body
            .as_str()
            .unwrap()
            .contains("Sign in with NHS Identity"),
        "the sign-in page offers single sign-on"
    );
    let staff = member(&app, "r.testperson").await;
    link(&app, &staff, SUBJECT).await;
    let (cookie, path) = through_provider(&app, &provider).await;
    let back = come_back(&app, &cookie, &path).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    assert!(
        back.body.as_str().unwrap().contains("url=/persons"),
        "goes on to the page asked for"
    );
    let signed_in = session(&back).expect("a sign-in cookie");
    let set: Vec<&str> = back
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|c| c.to_str().ok())
        .collect();
    assert!(
        set.iter().any(|c| c.starts_with("custodian_session=")
            && c.contains("HttpOnly")
            && c.contains("SameSite=Strict")
            && c.contains("Max-Age=43200")),
        "the same cookie as a password sign-in: {set:?}"
    );
    assert!(
        set.iter().any(|c| c.starts_with("custodian_sso=;")),
        "{set:?}"
    );
    let me = app
        .call_with(
            Method::GET,
            "/api/v1/auth/me",
            &[("cookie", &signed_in)],
            None,
        )
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["staff"]["username"], "r.testperson");
    assert_eq!(
        me.body["must_change_password"], true,
        "a one-time password still to change confines this sign-in too"
    );
    let mut tx = app.db.register.read().await.unwrap();
    let events = tx.audit_events_after(0, 1000).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.action == "auth.signed_in" && e.detail.contains("sso")),
        "audited"
    );
}

async fn s5_an_unknown_subject_is_refused_and_told_to_ask_an_administrator(backend: Backend) {
    let (app, provider) = app_with_provider(backend, None).await;
    member(&app, "r.testperson").await;
    let (cookie, path) = through_provider(&app, &provider).await;
    let back = come_back(&app, &cookie, &path).await;
    assert_eq!(back.status, StatusCode::FORBIDDEN, "{}", back.body);
    assert_eq!(back.code(), "sso.unknown_subject");
    assert!(session(&back).is_none());
    // In a browser, a page in plain English.
    let (cookie, path) = through_provider(&app, &provider).await;
    let page = app
        .call_with(
            Method::GET,
            &path,
            &[("cookie", &cookie), ("accept", "text/html")],
            None,
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let html = page.body.as_str().unwrap();
    assert!(
        html.contains("Ask your Custodian administrator to link it"),
        "{html}"
    );
    assert!(html.contains("nothing has been created for you"), "{html}");
    let staff = app.as_(&app.admin_token).get("/api/v1/staff").await;
    assert_eq!(
        staff.body.as_array().unwrap().len(),
        3,
        "no account created beside the administrator, the practitioner and the member"
    );
    let refused = refusals(&app).await;
    assert_eq!(
        refused
            .iter()
            .filter(|d| d.contains("unknown subject"))
            .count(),
        2,
        "{refused:?}"
    );
    assert!(refused.iter().all(|d| d.contains(SUBJECT)), "{refused:?}");
}

/// The provider issues the ID token, with its own key, to another client at the same provider:
/// everything in it is right (issuer, signature, nonce, expiry) but its audience.
async fn s2_a_token_for_another_audience_is_refused(backend: Backend) {
    let (app, provider) = app_with_provider(backend, Some(OTHER_CLIENT_ID)).await;
    let staff = member(&app, "r.testperson").await;
    link(&app, &staff, SUBJECT).await;
    let (cookie, path) = through_provider(&app, &provider).await;
    let back = come_back(&app, &cookie, &path).await;
    assert_eq!(back.status, StatusCode::FORBIDDEN, "{}", back.body);
    assert_eq!(back.code(), "sso.wrong_audience");
    assert!(session(&back).is_none(), "no sign-in");
    let refused = refusals(&app).await;
    assert!(
        refused.iter().any(|d| d.contains("wrong audience")),
        "audited: {refused:?}"
    );
}

async fn s5_a_tampered_or_replayed_return_is_refused(backend: Backend) {
    let (app, provider) = app_with_provider(backend, None).await;
    let staff = member(&app, "r.testperson").await;
    link(&app, &staff, SUBJECT).await;
    let (cookie, path) = through_provider(&app, &provider).await;
    let tampered = path.replace("state=", "state=x");
    let back = come_back(&app, &cookie, &tampered).await;
    assert_eq!(back.status, StatusCode::FORBIDDEN, "{}", back.body);
    assert_eq!(back.code(), "sso.bad_state");
    // The sign-in begun is used up: the genuine return, replayed, finds nothing.
    let replayed = come_back(&app, &cookie, &path).await;
    assert_eq!(
        replayed.code(),
        "sso.no_pending_sign_in",
        "{}",
        replayed.body
    );
    // Another browser cannot finish a sign-in this one began (login CSRF).
    let (_, path) = through_provider(&app, &provider).await;
    let elsewhere = come_back(&app, "custodian_sso=someone-elses", &path).await;
    assert_eq!(elsewhere.code(), "sso.no_pending_sign_in");
    assert!(session(&elsewhere).is_none());
    // A return claiming to come from another provider (a mix-up, RFC 9207).
    let (cookie, path) = through_provider(&app, &provider).await;
    assert!(path.contains("iss="), "the provider names itself: {path}");
    let mixed_up = path.replace("iss=", "iss=http%3A%2F%2Fevil.invalid");
    let mixed_up = come_back(&app, &cookie, &mixed_up).await;
    assert_eq!(mixed_up.code(), "sso.wrong_issuer", "{}", mixed_up.body);
    let refused = refusals(&app).await;
    assert!(
        refused.iter().any(|d| d.contains("bad state")),
        "{refused:?}"
    );
    assert_eq!(refused.len(), 4, "{refused:?}");
}

async fn s5_a_locked_account_cannot_sign_in_with_single_sign_on(backend: Backend) {
    let (app, provider) = app_with_provider(backend, None).await;
    let staff = member(&app, "r.testperson").await;
    link(&app, &staff, SUBJECT).await;
    for _ in 0..custodian_app::accounts::LOCKOUT_AFTER {
        app.sign_in("r.testperson", "not the password at all").await;
    }
    let (cookie, path) = through_provider(&app, &provider).await;
    let back = come_back(&app, &cookie, &path).await;
    assert_eq!(back.status, StatusCode::FORBIDDEN, "{}", back.body);
    assert_eq!(back.code(), "sso.account_locked");
    assert!(session(&back).is_none());
    assert!(
        refusals(&app)
            .await
            .iter()
            .any(|d| d.contains("locked out"))
    );
}

async fn s5_only_an_administrator_links_a_subject_and_each_subject_once(backend: Backend) {
    let (app, _provider) = app_with_provider(backend, None).await;
    let first = member(&app, "r.testperson").await;
    let second = member(&app, "s.testperson").await;
    link(&app, &first, SUBJECT).await;
    let taken = as_admin(
        &app,
        Method::PUT,
        &format!("/api/v1/staff/{second}/sso"),
        json!({ "subject": SUBJECT }),
    )
    .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert_eq!(taken.code(), "sso.subject_taken");
    let unlinked = as_admin(
        &app,
        Method::PUT,
        &format!("/api/v1/staff/{first}/sso"),
        json!({ "subject": null }),
    )
    .await;
    assert_eq!(unlinked.status, StatusCode::NO_CONTENT);
    link(&app, &second, SUBJECT).await;
    let mut tx = app.db.register.read().await.unwrap();
    let events = tx.audit_events_after(0, 1000).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "staff.sso_linked")
            .count(),
        2
    );
    assert!(events.iter().any(|e| e.action == "staff.sso_unlinked"));
    drop(tx);
    // A member of staff who is not an administrator cannot link anyone, themselves included.
    let token = app
        .staff_member(
            "t.testperson",
            "a long pass phrase of mine",
            &["practitioner"],
            &["CAMHS-NORTH"],
        )
        .await;
    let me = app.as_(&token).get("/api/v1/auth/me").await;
    let id = me.body["staff"]["id"].as_str().unwrap();
    let refused = app
        .as_(&token)
        .put(
            &format!("/api/v1/staff/{id}/sso"),
            json!({ "subject": "synthetic-subject-9999" }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
}

async fn s5_a_provider_that_does_not_answer_is_a_bad_gateway(backend: Backend) {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut settings = custodian_testkit::oidc::settings_for(&format!("http://{closed}"));
    settings.public_url = PUBLIC_URL.to_owned();
    let app = TestApp::with_sso(backend, settings).await;
    let started = app.call(Method::GET, "/sign-in/sso", None, None).await;
    assert_eq!(started.status, StatusCode::BAD_GATEWAY, "{}", started.body);
    assert_eq!(started.code(), "sso.provider_failed");
    assert_eq!(
        started.headers[header::CONTENT_TYPE],
        "application/problem+json"
    );
    // Without single sign-on configured there is no button and nothing to start.
    let plain = TestApp::new(backend).await;
    let page = plain.call(Method::GET, "/sign-in", None, None).await;
    assert!(!page.body.as_str().unwrap().contains("/sign-in/sso"));
    let none = plain.call(Method::GET, "/sign-in/sso", None, None).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    let link = as_admin(
        &plain,
        Method::PUT,
        &format!("/api/v1/staff/{}/sso", uuid::Uuid::now_v7()),
        json!({ "subject": SUBJECT }),
    )
    .await;
    assert_eq!(link.code(), "sso.not_configured");
}

async fn s2_an_administrator_links_and_unlinks_single_sign_on_on_the_members_page(
    backend: Backend,
) {
    use crate::access_pages::{get, post};
    let (app, _provider) = app_with_provider(backend, None).await;
    let staff = member(&app, "robin.linked").await;
    let cookie = app
        .cookie_for("admin", custodian_testkit::ADMIN_PASSWORD)
        .await;
    let page = format!("/staff/{staff}");
    let (status, html) = get(&app, &cookie, &page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Not linked"), "{html}");

    let (status, location, _) = post(
        &app,
        &cookie,
        &format!("{page}/sso"),
        &[("subject", SUBJECT)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("{page}?done=sso-linked"));
    let (_, html) = get(&app, &cookie, &location).await;
    assert!(
        html.contains(&format!(
            "Linked to the subject <span class=\"code\">{SUBJECT}</span>"
        )),
        "{html}"
    );
    assert!(html.contains("id=\"unlink-sso\""), "{html}");

    // A subject linked to someone else is refused beside the field, and the page keeps it.
    let other = member(&app, "robin.other").await;
    let (status, _, html) = post(
        &app,
        &cookie,
        &format!("/staff/{other}/sso"),
        &[("subject", SUBJECT)],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("already linked to `robin.linked`"), "{html}");
    assert!(html.contains(&format!("value=\"{SUBJECT}\"")), "{html}");

    let (status, location, _) = post(
        &app,
        &cookie,
        &format!("{page}/sso"),
        &[("subject", SUBJECT), ("unlink", "yes")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("{page}?done=sso-unlinked"));
    let (_, html) = get(&app, &cookie, &location).await;
    assert!(html.contains("Not linked"), "{html}");
}
