//! Accounts from day one: sign-in, one-time passwords, tokens, and no anonymous access.

use axum::http::{Method, header};
use custodian_testkit::{ADMIN_PASSWORD, CLINICIAN, CLINICIAN_PASSWORD, TestApp};
use serde_json::json;

async fn sign_in(
    app: &TestApp,
    username: &str,
    password: &str,
) -> (u16, Option<String>, serde_json::Value) {
    let signed_in = app.sign_in(username, password).await;
    (
        signed_in.reply.status.as_u16(),
        signed_in.cookie,
        signed_in.reply.body,
    )
}

async fn as_cookie(
    app: &TestApp,
    method: Method,
    path: &str,
    cookie: &str,
    body: Option<serde_json::Value>,
) -> custodian_testkit::Reply {
    app.call_with(method, path, &[(header::COOKIE.as_str(), cookie)], body)
        .await
}

async fn s2_a_new_colleague_must_replace_their_one_time_password(app: TestApp) {
    let created = app
        .as_(&app.admin_token)
        .post(
            "/api/v1/staff",
            json!({"username": "a.clinician", "display_name": "Dr A Clinician",
                "roles": ["practitioner"], "services": ["CAMHS-NORTH"]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let one_time = created.body["one_time_password"]
        .as_str()
        .unwrap()
        .to_owned();

    let (status, cookie, body) = sign_in(&app, "A.Clinician", &one_time).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["must_change_password"], true);
    let cookie = cookie.unwrap();
    let blocked = as_cookie(&app, Method::GET, "/api/v1/persons?q=ada", &cookie, None).await;
    assert_eq!(blocked.status, 403);
    assert_eq!(blocked.code(), "auth.password_change_required");

    let weak = as_cookie(
        &app,
        Method::POST,
        "/api/v1/auth/password",
        &cookie,
        Some(json!({"current_password": one_time, "new_password": "short"})),
    )
    .await;
    assert_eq!(weak.status, 422);
    assert_eq!(weak.body["field"], "new_password");
    // Long enough, but among the most common passwords once its dressing is taken off.
    let common = as_cookie(
        &app,
        Method::POST,
        "/api/v1/auth/password",
        &cookie,
        Some(json!({"current_password": one_time, "new_password": "Football2026!"})),
    )
    .await;
    assert_eq!(common.status, 422, "{}", common.body);
    assert!(
        common.body["detail"]
            .as_str()
            .unwrap()
            .contains("most common")
    );
    let changed = as_cookie(
        &app,
        Method::POST,
        "/api/v1/auth/password",
        &cookie,
        Some(json!({"current_password": one_time, "new_password": "a much longer pass phrase"})),
    )
    .await;
    assert_eq!(changed.status, 204, "{}", changed.body);
    assert_eq!(
        as_cookie(&app, Method::GET, "/api/v1/auth/me", &cookie, None)
            .await
            .status,
        401,
        "changing the password ends every sign-in"
    );

    let (status, cookie, _) = sign_in(&app, "a.clinician", "a much longer pass phrase").await;
    assert_eq!(status, 200);
    let allowed = as_cookie(
        &app,
        Method::GET,
        "/api/v1/persons?q=ada",
        &cookie.unwrap(),
        None,
    )
    .await;
    assert_eq!(allowed.status, 200);
}

async fn s5_wrong_passwords_are_refused_alike_and_audited(app: TestApp) {
    let (wrong, _, wrong_body) = sign_in(&app, "admin", "not the password at all").await;
    let (unknown, _, unknown_body) = sign_in(&app, "nobody.here", "not the password at all").await;
    assert_eq!((wrong, unknown), (401, 401));
    assert_eq!(
        wrong_body["detail"], unknown_body["detail"],
        "the answer does not reveal which accounts exist"
    );
    let mut tx = app.db.register.read().await.unwrap();
    let events = tx.audit_events_after(0, 1000).await.unwrap();
    let refused: Vec<_> = events
        .iter()
        .filter(|e| e.action == "auth.sign_in_refused")
        .collect();
    assert_eq!(refused.len(), 2);
    assert!(
        refused
            .iter()
            .all(|e| e.outcome == custodian_core::audit::AuditOutcome::Refused)
    );
    assert!(
        refused
            .iter()
            .all(|e| !e.detail.contains("not the password")),
        "what was typed is never kept"
    );
}

async fn s2_sign_out_and_revocation_end_access(app: TestApp) {
    let (_, cookie, _) = sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let cookie = cookie.unwrap();
    assert_eq!(
        as_cookie(&app, Method::GET, "/api/v1/auth/me", &cookie, None)
            .await
            .status,
        200
    );
    let out = as_cookie(&app, Method::POST, "/api/v1/auth/sign-out", &cookie, None).await;
    assert_eq!(out.status, 204);
    assert!(
        out.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        as_cookie(&app, Method::GET, "/api/v1/auth/me", &cookie, None)
            .await
            .status,
        401
    );

    let created = app
        .post(
            "/api/v1/tokens",
            json!({"name": "script", "expires_in_days": 30}),
        )
        .await;
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    assert_eq!(app.as_(&secret).get("/api/v1/auth/me").await.status, 200);
    let listed = app.get("/api/v1/tokens").await;
    assert!(
        listed
            .body
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t.get("secret").is_none()),
        "secrets are never listed"
    );
    let revoked = app
        .as_(&app.token)
        .delete(&format!(
            "/api/v1/tokens/{}",
            created.body["token"]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(revoked.status, 204);
    let refused = app.as_(&secret).get("/api/v1/auth/me").await;
    assert_eq!(refused.status, 401);
    assert!(refused.headers.contains_key(header::WWW_AUTHENTICATE));
}

async fn sign_in_cookies_are_http_only_secure_and_same_site(app: TestApp) {
    let reply = app.sign_in("admin", ADMIN_PASSWORD).await.reply;
    let cookie = reply.headers[header::SET_COOKIE].to_str().unwrap();
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
}

async fn only_administrators_create_accounts_and_verify_the_trail(app: TestApp) {
    let created = app
        .as_(&app.admin_token)
        .post(
            "/api/v1/staff",
            json!({"username": "b.nurse", "display_name": "B Nurse",
                "roles": ["practitioner"], "services": ["CAMHS-NORTH"]}),
        )
        .await;
    let one_time = created.body["one_time_password"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, cookie, _) = sign_in(&app, "b.nurse", &one_time).await;
    let cookie = cookie.unwrap();
    as_cookie(
        &app,
        Method::POST,
        "/api/v1/auth/password",
        &cookie,
        Some(json!({"current_password": one_time, "new_password": "another long pass phrase"})),
    )
    .await;
    let (_, cookie, _) = sign_in(&app, "b.nurse", "another long pass phrase").await;
    let cookie = cookie.unwrap();
    let refused = as_cookie(
        &app,
        Method::POST,
        "/api/v1/staff",
        &cookie,
        Some(json!({"username": "c.x", "display_name": "C", "roles": ["auditor"]})),
    )
    .await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.code(), "access.refused");
    assert_eq!(refused.body["requirement"], "S2");
    assert_eq!(
        as_cookie(&app, Method::GET, "/api/v1/audit/verify", &cookie, None)
            .await
            .status,
        403
    );
    let taken = app
        .as_(&app.admin_token)
        .post(
            "/api/v1/staff",
            json!({"username": "B.Nurse", "display_name": "Another", "roles": ["auditor"]}),
        )
        .await;
    assert_eq!(taken.status, 409);
    assert_eq!(taken.code(), "staff.username_taken");
}

/// The status a page gives this sign-in cookie now.
async fn page_status(app: &TestApp, cookie: &str) -> u16 {
    let request = axum::http::Request::get("/")
        .header(header::COOKIE, cookie)
        .body(axum::body::Body::empty())
        .unwrap();
    app.send_raw(request).await.0.as_u16()
}

async fn s2_a_sign_in_ends_after_30_idle_minutes_and_after_12_hours_however_busy(app: TestApp) {
    let minutes = time::Duration::minutes;
    let (_, cookie, _) = sign_in(&app, CLINICIAN, CLINICIAN_PASSWORD).await;
    let cookie = cookie.unwrap();
    assert_eq!(page_status(&app, &cookie).await, 200);
    // Used every 29 minutes, it stays signed in…
    for _ in 0..3 {
        app.clock.advance(minutes(29));
        assert_eq!(page_status(&app, &cookie).await, 200);
    }
    // …left alone for 31 minutes, it has ended, and the page sends the browser to sign in.
    app.clock.advance(minutes(31));
    assert_eq!(page_status(&app, &cookie).await, 303);

    // However busy, a sign-in lasts 12 hours at most.
    let (_, cookie, _) = sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let cookie = cookie.unwrap();
    for _ in 0..35 {
        app.clock.advance(minutes(20));
        assert_eq!(page_status(&app, &cookie).await, 200);
    }
    app.clock.advance(minutes(21));
    assert_eq!(
        page_status(&app, &cookie).await,
        303,
        "12 h 1 min after signing in"
    );
}

async fn s2_sign_out_everywhere_ends_every_sign_in_of_that_member(app: TestApp) {
    let (_, laptop, _) = sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let (_, tablet, _) = sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let (laptop, tablet) = (laptop.unwrap(), tablet.unwrap());
    let token = custodian_testkit::form_token_for(&tablet).unwrap();
    let request = axum::http::Request::post("/sign-out-everywhere")
        .header(header::COOKIE, &tablet)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(format!("csrf={token}")))
        .unwrap();
    let (status, headers, _) = app.send_raw(request).await;
    assert_eq!(status.as_u16(), 303);
    assert!(
        headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(page_status(&app, &laptop).await, 303);
    assert_eq!(page_status(&app, &tablet).await, 303);
    let mut tx = app.db.register.read().await.unwrap();
    let trail = tx.audit_events_after(0, 1000).await.unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.action == "auth.signed_out_everywhere"),
        "audited"
    );
}

async fn s5_five_wrong_passwords_lock_the_account_for_15_minutes(app: TestApp) {
    let minutes = time::Duration::minutes;
    for _ in 0..5 {
        let (status, _, _) = sign_in(&app, "admin", "not the password at all").await;
        assert_eq!(status, 401);
    }
    // Now even the right password is refused, saying until when, on the page and in the API.
    let (status, _, body) = sign_in(&app, "admin", ADMIN_PASSWORD).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["code"], "auth.locked_out");
    assert!(
        body["detail"].as_str().unwrap().contains("locked until"),
        "{body}"
    );
    let (form_cookie, token) = app.sign_in_page().await;
    let request = axum::http::Request::post("/sign-in")
        .header(header::COOKIE, &form_cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(format!(
            "username=admin&password={}&csrf={token}",
            ADMIN_PASSWORD.replace(' ', "+")
        )))
        .unwrap();
    let (status, _, html) = app.send_raw(request).await;
    assert_eq!(status.as_u16(), 429);
    assert!(
        String::from_utf8_lossy(&html)
            .contains("After 5 wrong passwords or codes this account is locked until")
    );

    // Fifteen minutes after the last wrong password it opens again, and a sign-in clears the count.
    app.clock.advance(minutes(16));
    let (status, _, _) = sign_in(&app, "admin", ADMIN_PASSWORD).await;
    assert_eq!(status, 200);
    for _ in 0..4 {
        sign_in(&app, "admin", "not the password at all").await;
    }
    let (status, _, _) = sign_in(&app, "admin", ADMIN_PASSWORD).await;
    assert_eq!(status, 200, "four wrong passwords do not lock it");

    let mut tx = app.db.register.read().await.unwrap();
    let trail = tx.audit_events_after(0, 1000).await.unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.action == "auth.sign_in_refused" && e.detail.contains("locked out")),
        "audited"
    );
}

async fn s2_signing_in_replaces_whatever_sign_in_the_browser_carried(app: TestApp) {
    // Someone plants their own sign-in cookie in a shared browser; then a colleague signs in.
    let (_, planted, _) = sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let planted = planted.unwrap();
    let (form_cookie, token) = app.sign_in_page().await;
    let request = axum::http::Request::post("/sign-in")
        .header(header::COOKIE, format!("{planted}; {form_cookie}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(format!(
            "username=admin&password={}&csrf={token}",
            ADMIN_PASSWORD.replace(' ', "+")
        )))
        .unwrap();
    let (status, headers, _) = app.send_raw(request).await;
    assert_eq!(status.as_u16(), 303);
    // The administrator's authenticator code completes it.
    let (status, headers, _) = app
        .code_step("admin", &headers, Some(&planted))
        .await
        .expect("a code step");
    assert_eq!(status.as_u16(), 303);
    let fresh = headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_ne!(fresh, planted, "a new sign-in id");
    assert_eq!(
        page_status(&app, &planted).await,
        303,
        "the planted one has ended"
    );
    assert_eq!(page_status(&app, &fresh).await, 200);
}

async fn s2_a_sign_in_form_from_another_site_is_refused(app: TestApp) {
    let send = |cookie: Option<&str>, token: &str| {
        let mut request = axum::http::Request::post("/sign-in")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        request
            .body(axum::body::Body::from(format!(
                "username=admin&password={}&csrf={token}",
                ADMIN_PASSWORD.replace(' ', "+")
            )))
            .unwrap()
    };
    let (form_cookie, token) = app.sign_in_page().await;
    // Without the page's cookie, or with a token not its own, nobody is signed in.
    for (cookie, sent) in [
        (None, token.as_str()),
        (Some(form_cookie.as_str()), "forged"),
    ] {
        let (status, headers, html) = app.send_raw(send(cookie, sent)).await;
        assert_eq!(status.as_u16(), 403);
        assert!(String::from_utf8_lossy(&html).contains("sign in again"));
        assert!(
            !headers
                .get_all(header::SET_COOKIE)
                .iter()
                .any(|c| c.to_str().unwrap().starts_with("custodian_session=")),
            "no sign-in cookie"
        );
    }
    let (status, _, _) = app.send_raw(send(Some(&form_cookie), &token)).await;
    assert_eq!(status.as_u16(), 303);
}

/// A program (the demo loader) acts through an account of its own; naming someone's account
/// does not hand it their access, and nobody signs in as it.
async fn s2_a_service_account_is_its_own_and_nobody_signs_in_as_it(app: TestApp) {
    use custodian_app::staff::NewStaff;
    use custodian_core::staff::{Role, Username};
    use custodian_core::text::{ServiceCode, ShortText};
    let new = |username: &str| NewStaff {
        username: Username::parse(username).unwrap(),
        display_name: ShortText::parse("display_name", "Loader").unwrap(),
        roles: vec![Role::Practitioner],
        services: vec![ServiceCode::parse("CAMHS-NORTH").unwrap()],
    };
    let first = app.custodian.service_account(new("loader")).await.unwrap();
    let again = app.custodian.service_account(new("loader")).await.unwrap();
    assert_eq!(first.member.id, again.member.id);
    let refused = app
        .custodian
        .service_account(new("admin"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "staff.username_taken", "{refused}");
    let sign_in = app
        .call(
            Method::POST,
            "/api/v1/auth/sign-in",
            None,
            Some(json!({"username": "loader", "password": "svc_"})),
        )
        .await;
    assert_eq!(sign_in.status.as_u16(), 401, "{}", sign_in.body);
}

on_both_backends!(app:
    s2_a_service_account_is_its_own_and_nobody_signs_in_as_it,
    s2_a_sign_in_form_from_another_site_is_refused,
    s2_signing_in_replaces_whatever_sign_in_the_browser_carried,
    s5_five_wrong_passwords_lock_the_account_for_15_minutes,
    s2_a_sign_in_ends_after_30_idle_minutes_and_after_12_hours_however_busy,
    s2_sign_out_everywhere_ends_every_sign_in_of_that_member,
    s2_a_new_colleague_must_replace_their_one_time_password,
    s5_wrong_passwords_are_refused_alike_and_audited,
    s2_sign_out_and_revocation_end_access,
    sign_in_cookies_are_http_only_secure_and_same_site,
    only_administrators_create_accounts_and_verify_the_trail,
);
