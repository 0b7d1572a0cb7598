//! A second factor at sign-in (ASVS 2.7, 2.8): time-based codes from an authenticator app,
//! required of administrators, and sign-in attempts limited per address (ASVS 2.2.1).

use std::num::NonZeroU32;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use custodian_core::totp::TotpSecret;
use custodian_testkit::{ADMIN_PASSWORD, TestApp};
use serde_json::json;
use tower::ServiceExt;

const PASS_PHRASE: &str = "a long pass phrase of their own";

/// Creates an account through the API and has it choose its own password; returns its id and a
/// sign-in cookie.
async fn colleague(app: &TestApp, username: &str, administrator: bool) -> (String, String) {
    let roles = if administrator {
        json!(["administrator"])
    } else {
        json!(["practitioner"])
    };
    let created = app
        .as_(&app.admin_token)
        .post(
            "/api/v1/staff",
            json!({"username": username, "display_name": "Sam Colleague",
                "roles": roles, "services": ["CAMHS-NORTH"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["staff"]["id"].as_str().unwrap().to_owned();
    let one_time = created.body["one_time_password"].as_str().unwrap();
    let first = app.sign_in(username, one_time).await;
    let cookie = first.cookie.unwrap();
    let changed = app
        .call_with(
            Method::POST,
            "/api/v1/auth/password",
            &[(header::COOKIE.as_str(), cookie.as_str())],
            Some(json!({"current_password": one_time, "new_password": PASS_PHRASE})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.body);
    let signed_in = app.sign_in(username, PASS_PHRASE).await;
    assert_eq!(
        signed_in.reply.status,
        StatusCode::OK,
        "{}",
        signed_in.reply.body
    );
    (id, signed_in.cookie.unwrap())
}

async fn with_cookie(
    app: &TestApp,
    method: Method,
    path: &str,
    cookie: &str,
) -> custodian_testkit::Reply {
    app.call_with(method, path, &[(header::COOKIE.as_str(), cookie)], None)
        .await
}

async fn actions(app: &TestApp) -> Vec<(String, String)> {
    let mut tx = app.db.register.read().await.unwrap();
    tx.audit_events_after(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.detail))
        .collect()
}

/// The password step of the sign-in form, as from the sign-in page.
async fn password_step(app: &TestApp, username: &str, password: &str) -> axum::http::HeaderMap {
    let (form_cookie, token) = app.sign_in_page().await;
    let request = Request::post("/sign-in")
        .header(header::COOKIE, form_cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "username={username}&password={}&csrf={token}&return_to=/persons",
            password.replace(' ', "+")
        )))
        .unwrap();
    let (status, headers, _) = app.send_raw(request).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    headers
}

fn pending_cookie(headers: &axum::http::HeaderMap) -> String {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|c| c.to_str().ok())
        .find(|c| c.starts_with("custodian_pending_sign_in="))
        .unwrap_or_else(|| panic!("no half sign-in cookie in {headers:?}"))
        .to_owned()
}

async fn code_form(
    app: &TestApp,
    pending: &str,
    code: &str,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let token = custodian_web::form_token(pending.split_once('=').unwrap().1);
    let request = Request::post("/sign-in/code")
        .header(header::COOKIE, pending)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "code={code}&csrf={token}&return_to=/persons"
        )))
        .unwrap();
    let (status, headers, bytes) = app.send_raw(request).await;
    (status, headers, String::from_utf8(bytes).unwrap())
}

async fn s2_administrator_must_enrol_totp_before_anything_else(app: TestApp) {
    let (_, cookie) = colleague(&app, "n.admin", true).await;
    let me = with_cookie(&app, Method::GET, "/api/v1/auth/me", &cookie).await;
    assert_eq!(me.body["must_enrol_totp"], true, "{}", me.body);

    // The API refuses everything else, saying what to do.
    let refused = with_cookie(&app, Method::GET, "/api/v1/persons?q=a", &cookie).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), "auth.totp_enrolment_required");
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("/api/v1/auth/totp/enrol")
    );
    let token = app
        .call_with(
            Method::POST,
            "/api/v1/tokens",
            &[(header::COOKIE.as_str(), cookie.as_str())],
            Some(json!({"name": "a way round"})),
        )
        .await;
    assert_eq!(
        token.code(),
        "auth.totp_enrolment_required",
        "no token to get round it"
    );

    // Pages send the browser to set one up, and back afterwards.
    let page = Request::get("/persons?q=a")
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = app.send_raw(page).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[header::LOCATION],
        "/totp?return_to=%2Fpersons%3Fq%3Da"
    );
    let status = with_cookie(&app, Method::GET, "/api/v1/auth/totp", &cookie).await;
    assert_eq!(
        status.body,
        json!({"enrolled": false, "enrolled_at": null, "required": true})
    );

    // A wrong code sets nothing up; the right one does, and everything opens.
    let started = with_cookie(&app, Method::POST, "/api/v1/auth/totp/enrol", &cookie).await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    assert!(
        started.body["otpauth_url"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/Custodian:n.admin?")
    );
    let wrong = app
        .call_with(
            Method::POST,
            "/api/v1/auth/totp/confirm",
            &[(header::COOKIE.as_str(), cookie.as_str())],
            Some(json!({"code": "000000"})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.code(), "auth.wrong_code");
    assert_eq!(wrong.body["field"], "code");
    app.enrol_totp("n.admin", &cookie).await;
    // An administrator's own work: the accounts.
    let allowed = with_cookie(&app, Method::GET, "/api/v1/staff", &cookie).await;
    assert_eq!(allowed.status, StatusCode::OK, "{}", allowed.body);
    let again = with_cookie(&app, Method::POST, "/api/v1/auth/totp/enrol", &cookie).await;
    assert_eq!(again.code(), "auth.totp_already_enrolled");

    // From now on the password alone does not sign in.
    let password_only = app
        .call(
            Method::POST,
            "/api/v1/auth/sign-in",
            None,
            Some(json!({"username": "n.admin", "password": PASS_PHRASE})),
        )
        .await;
    assert_eq!(password_only.status, StatusCode::UNAUTHORIZED);
    assert_eq!(password_only.code(), "auth.code_required");
    assert!(
        app.sign_in("n.admin", PASS_PHRASE)
            .await
            .reply
            .status
            .is_success()
    );

    let trail = actions(&app).await;
    for action in [
        "auth.totp_enrolment_started",
        "auth.totp_code_refused",
        "auth.totp_enrolled",
    ] {
        assert!(
            trail.iter().any(|(a, _)| a == action),
            "{action} is audited"
        );
    }
}

async fn asvs_2_8_a_used_code_is_refused_the_second_time(app: TestApp) {
    let code = app.code("admin");
    let sign_in = |code: String| {
        app.call(
            Method::POST,
            "/api/v1/auth/sign-in",
            None,
            Some(json!({"username": "admin", "password": ADMIN_PASSWORD, "code": code})),
        )
    };
    let first = sign_in(code.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let replayed = sign_in(code).await;
    assert_eq!(replayed.status, StatusCode::UNAUTHORIZED);
    assert!(
        replayed.body["detail"]
            .as_str()
            .unwrap()
            .contains("used already"),
        "{}",
        replayed.body
    );
    let trail = actions(&app).await;
    assert!(
        trail
            .iter()
            .any(|(a, d)| a == "auth.sign_in_refused" && d.contains("code already used")),
        "audited"
    );
}

async fn asvs_2_7_the_half_sign_in_opens_nothing_but_the_code_step(app: TestApp) {
    let headers = password_step(&app, "admin", ADMIN_PASSWORD).await;
    assert_eq!(
        headers[header::LOCATION],
        "/sign-in/code?return_to=%2Fpersons"
    );
    let pending = pending_cookie(&headers);
    for attribute in [
        "Path=/sign-in",
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Max-Age=300",
    ] {
        assert!(pending.contains(attribute), "{pending}");
    }
    assert!(
        !headers
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("custodian_session=")),
        "no sign-in yet"
    );
    let pending = pending.split(';').next().unwrap().to_owned();
    let value = pending.split_once('=').unwrap().1;

    // Used as a sign-in, the half sign-in's secret opens nothing.
    let as_session = format!("custodian_session={value}");
    assert_eq!(
        with_cookie(&app, Method::GET, "/api/v1/auth/me", &as_session)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let (status, headers, _) = app
        .send_raw(
            Request::get("/persons")
                .header(header::COOKIE, &as_session)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        headers[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/sign-in")
    );

    // The code page asks for the code; a wrong one is refused in plain words and audited.
    let (status, _, html) = app
        .send_raw(
            Request::get("/sign-in/code?return_to=/persons")
                .header(header::COOKIE, &pending)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let html = String::from_utf8(html).unwrap();
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("autocomplete=\"one-time-code\""), "{html}");
    let (status, _, html) = code_form(&app, &pending, "000000").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(html.contains("The code is not right"), "{html}");

    // The right code signs in and goes on where the member of staff was going.
    let (status, headers, _) = code_form(&app, &pending, &app.code("admin")).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{headers:?}");
    assert_eq!(headers[header::LOCATION], "/persons");
    let session = headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(session.starts_with("custodian_session="));
    assert_eq!(
        with_cookie(&app, Method::GET, "/api/v1/auth/me", &session)
            .await
            .status,
        StatusCode::OK
    );
    // The half sign-in is spent.
    let (status, _, html) = code_form(&app, &pending, &app.code("admin")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(html.contains("Sign in again"), "{html}");

    // Five minutes after the password, the code step has ended.
    let headers = password_step(&app, "admin", ADMIN_PASSWORD).await;
    let pending = pending_cookie(&headers)
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    app.clock.advance(time::Duration::minutes(6));
    let (status, _, html) = code_form(&app, &pending, &app.code("admin")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(html.contains("run out"), "{html}");
    let (status, headers, _) = app
        .send_raw(
            Request::get("/sign-in/code")
                .header(header::COOKIE, &pending)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        headers[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/sign-in?")
    );
}

async fn asvs_2_2_1_wrong_codes_count_towards_the_lockout(app: TestApp) {
    let sign_in = |code: &'static str| {
        app.call(
            Method::POST,
            "/api/v1/auth/sign-in",
            None,
            Some(json!({"username": "admin", "password": ADMIN_PASSWORD, "code": code})),
        )
    };
    for _ in 0..4 {
        assert_eq!(sign_in("000000").await.status, StatusCode::UNAUTHORIZED);
    }
    let fifth = sign_in("000000").await;
    assert_eq!(
        fifth.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        fifth.body
    );
    assert_eq!(fifth.code(), "auth.locked_out");
    // Now the right password and code are refused too.
    let right = app.sign_in("admin", ADMIN_PASSWORD).await.reply;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        right.body["detail"]
            .as_str()
            .unwrap()
            .contains("wrong passwords or codes")
    );
    let refused = actions(&app)
        .await
        .into_iter()
        .filter(|(a, d)| a == "auth.sign_in_refused" && d.contains("wrong code"))
        .count();
    assert_eq!(refused, 5, "every wrong code is audited");
}

async fn s2_anyone_may_choose_an_authenticator_and_an_administrator_resets_a_lost_one(
    app: TestApp,
) {
    let (id, cookie) = colleague(&app, "c.nurse", false).await;
    let me = with_cookie(&app, Method::GET, "/api/v1/auth/me", &cookie).await;
    assert_eq!(
        me.body["must_enrol_totp"], false,
        "optional for everyone else"
    );
    assert_eq!(
        with_cookie(&app, Method::GET, "/api/v1/persons?q=a", &cookie)
            .await
            .status,
        StatusCode::OK
    );
    app.enrol_totp("c.nurse", &cookie).await;
    let status = with_cookie(&app, Method::GET, "/api/v1/auth/totp", &cookie).await;
    assert_eq!(status.body["enrolled"], true);
    assert_eq!(status.body["required"], false);

    // Only an administrator may reset it.
    let path = format!("/api/v1/staff/{id}/totp");
    let refused = with_cookie(&app, Method::DELETE, &path, &cookie).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let reset = app.as_(&app.admin_token).delete(&path).await;
    assert_eq!(reset.status, StatusCode::NO_CONTENT, "{}", reset.body);
    let unknown = app
        .as_(&app.admin_token)
        .delete(&format!("/api/v1/staff/{}/totp", uuid::Uuid::now_v7()))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // The password alone signs in again; the lost app's codes mean nothing.
    let password_only = app
        .call(
            Method::POST,
            "/api/v1/auth/sign-in",
            None,
            Some(json!({"username": "c.nurse", "password": PASS_PHRASE})),
        )
        .await;
    assert_eq!(
        password_only.status,
        StatusCode::OK,
        "{}",
        password_only.body
    );
    let trail = actions(&app).await;
    assert!(
        trail
            .iter()
            .any(|(a, d)| a == "auth.totp_reset" && d.contains("c.nurse")),
        "audited, naming whose app"
    );
}

async fn s1_the_authenticator_secret_is_sealed_at_rest_and_survives_key_rotation(app: TestApp) {
    // The register holds no secret an authenticator could be made from.
    let mut tx = app.db.register.read().await.unwrap();
    let admin = tx
        .staff_by_username(&custodian_core::staff::Username::parse("admin").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(admin.totp_enrolled_at.is_some());
    let sealed = tx.totp_secret(admin.member.id).await.unwrap().unwrap();
    drop(tx);
    assert!(
        sealed.starts_with(b"age-encryption.org/v1"),
        "sealed with age"
    );
    let secret: TotpSecret = app.authenticator("admin").unwrap();
    assert!(
        !sealed
            .windows(secret.as_bytes().len())
            .any(|w| w == secret.as_bytes()),
        "the secret is not in the clear"
    );
    assert!(!String::from_utf8_lossy(&sealed).contains(&secret.base32()));

    // Rotating the key-encryption key reseals it: the same app still signs in.
    app.custodian
        .vault()
        .rotate(app.custodian.register())
        .await
        .unwrap();
    let mut tx = app.db.register.read().await.unwrap();
    let resealed = tx.totp_secret(admin.member.id).await.unwrap().unwrap();
    drop(tx);
    assert_ne!(sealed, resealed);
    let signed_in = app.sign_in("admin", ADMIN_PASSWORD).await.reply;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
}

async fn asvs_2_2_1_sign_in_attempts_are_limited_per_address(app: TestApp) {
    let router = custodian_web::router(custodian_web::AppState::with_sign_in_limit(
        app.custodian.clone(),
        custodian_web::SignInLimit {
            attempts_per_minute: NonZeroU32::new(3).unwrap(),
            trust_forwarded_for: true,
        },
    ));
    let api = |from: &'static str| {
        Request::post("/api/v1/auth/sign-in")
            .header("x-forwarded-for", from)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"username": "nobody.here", "password": "not the password at all"})
                    .to_string(),
            ))
            .unwrap()
    };
    for _ in 0..3 {
        let response = router.clone().oneshot(api("192.0.2.1")).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let refused = router.clone().oneshot(api("192.0.2.1")).await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = refused.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&wait), "{wait}");
    let body = axum::body::to_bytes(refused.into_body(), usize::MAX)
        .await
        .unwrap();
    let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["code"], "auth.too_many_attempts");
    assert!(
        problem["detail"].as_str().unwrap().contains("wait"),
        "{problem}"
    );

    // The forms too, with a page that says how long to wait; the code step counts as well.
    for path in ["/sign-in", "/sign-in/code"] {
        let form = Request::post(path)
            .header("x-forwarded-for", "192.0.2.1")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("username=admin&password=x&code=000000"))
            .unwrap();
        let response = router.clone().oneshot(form).await.unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{path}");
        assert!(response.headers().contains_key(header::RETRY_AFTER));
        let html = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let html = String::from_utf8_lossy(&html);
        assert!(html.contains("Too many attempts to sign in"), "{html}");
        assert!(html.contains("then sign in again"), "{html}");
    }

    // Another address is not held up by the first.
    let other = router.clone().oneshot(api("192.0.2.2")).await.unwrap();
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
}

on_both_backends!(app:
    s2_administrator_must_enrol_totp_before_anything_else,
    asvs_2_8_a_used_code_is_refused_the_second_time,
    asvs_2_7_the_half_sign_in_opens_nothing_but_the_code_step,
    asvs_2_2_1_wrong_codes_count_towards_the_lockout,
    s2_anyone_may_choose_an_authenticator_and_an_administrator_resets_a_lost_one,
    s1_the_authenticator_secret_is_sealed_at_rest_and_survives_key_rotation,
    asvs_2_2_1_sign_in_attempts_are_limited_per_address,
);
