//! The staff web app's pages, rendered by the server: signing in and out, finding people.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use custodian_testkit::{ADMIN_PASSWORD, CLINICIAN, CLINICIAN_PASSWORD, TestApp};

pub(crate) fn form(path: &str, fields: &[(&str, &str)]) -> Request<Body> {
    let body = fields
        .iter()
        .map(|(name, value)| format!("{name}={}", urlencode(value)))
        .collect::<Vec<_>>()
        .join("&");
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Sends a request as a browser showing the app's pages would: a form sent with a sign-in
/// carries that sign-in's anti-forgery token, as every form on the pages does.
/// A sign-in form sent as from the sign-in page: with that page's cookie and token.
async fn with_sign_in_page(app: &TestApp, request: Request<Body>) -> Request<Body> {
    if request.method() != Method::POST || request.uri().path() != "/sign-in" {
        return request;
    }
    let (parts, body) = request.into_parts();
    let mut bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap()
        .to_vec();
    if String::from_utf8_lossy(&bytes)
        .split('&')
        .any(|p| p.starts_with("csrf="))
    {
        return Request::from_parts(parts, Body::from(bytes));
    }
    let (cookie, token) = app.sign_in_page().await;
    let mut parts = parts;
    let cookies = match parts
        .headers
        .get(header::COOKIE)
        .and_then(|c| c.to_str().ok())
    {
        Some(existing) => format!("{existing}; {cookie}"),
        None => cookie,
    };
    parts
        .headers
        .insert(header::COOKIE, cookies.parse().unwrap());
    if !bytes.is_empty() {
        bytes.push(b'&');
    }
    bytes.extend_from_slice(format!("csrf={}", urlencode(&token)).as_bytes());
    Request::from_parts(parts, Body::from(bytes))
}

async fn with_form_token(request: Request<Body>) -> Request<Body> {
    let token = request
        .headers()
        .get(header::COOKIE)
        .and_then(|cookie| cookie.to_str().ok())
        .and_then(custodian_testkit::form_token_for);
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t == "application/x-www-form-urlencoded");
    let (Some(token), true) = (token, is_form && request.method() == Method::POST) else {
        return request;
    };
    let (parts, body) = request.into_parts();
    let mut bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap()
        .to_vec();
    let text = String::from_utf8_lossy(&bytes);
    if !text.split('&').any(|pair| pair.starts_with("csrf=")) {
        if !bytes.is_empty() {
            bytes.push(b'&');
        }
        bytes.extend_from_slice(format!("csrf={}", urlencode(&token)).as_bytes());
    }
    Request::from_parts(parts, Body::from(bytes))
}

/// Sends a request as a browser would, and, after a right password for an account whose
/// authenticator app the test holds, the code step that follows too.
pub(crate) async fn page(
    app: &TestApp,
    request: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let request = with_sign_in_page(app, request).await;
    let request = with_form_token(request).await;
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let username = (parts.method == Method::POST && parts.uri.path() == "/sign-in")
        .then(|| {
            String::from_utf8_lossy(&bytes)
                .split('&')
                .find_map(|pair| pair.strip_prefix("username="))
                .map(str::to_lowercase)
        })
        .flatten();
    let carried = parts
        .headers
        .get(header::COOKIE)
        .and_then(|c| c.to_str().ok())
        .map(str::to_owned);
    let request = Request::from_parts(parts, Body::from(bytes));
    let (status, headers, bytes) = app.send_raw(request).await;
    // A PDF copy is not text; what a test reads of it is its status.
    if let Some(username) = username.filter(|u| app.has_authenticator(u))
        && let Some((status, headers, bytes)) =
            app.code_step(&username, &headers, carried.as_deref()).await
    {
        return (
            status,
            headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        );
    }
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

async fn s5_staff_sign_in_and_out_in_the_browser(app: TestApp) {
    let (status, _, html) = page(
        &app,
        Request::get("/sign-in?return_to=/persons")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<h1 class=\"heading-l\">Sign in to Custodian</h1>"),
        "{html}"
    );
    assert!(
        html.contains("name=\"return_to\" value=\"/persons\""),
        "{html}"
    );

    // Empty fields: both named in the summary, linked to their fields.
    let (status, _, html) = page(
        &app,
        form("/sign-in", &[("username", ""), ("password", "")]),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("<title>Error: Sign in – Custodian</title>"),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"#username\">Enter your username</a>"),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"#password\">Enter your password</a>"),
        "{html}"
    );

    // A wrong password keeps what was typed, shown as text even when it is markup.
    let typed = "<script>alert('x')</script>";
    let (status, _, html) = page(
        &app,
        form(
            "/sign-in",
            &[("username", typed), ("password", "wrong password here")],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        html.contains("Enter a correct username and password"),
        "{html}"
    );
    assert!(!html.contains(typed), "markup is never echoed as markup");
    assert!(
        html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"),
        "{html}"
    );

    // Signing in goes back where the user was going, but never to another site.
    let (status, headers, _) = page(
        &app,
        form(
            "/sign-in",
            &[
                ("username", "admin"),
                ("password", ADMIN_PASSWORD),
                ("return_to", "/persons"),
            ],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/persons");
    let cookie = headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let (_, headers, _) = page(
        &app,
        form(
            "/sign-in",
            &[
                ("username", "admin"),
                ("password", ADMIN_PASSWORD),
                ("return_to", "//evil.example"),
            ],
        ),
    )
    .await;
    assert_eq!(headers[header::LOCATION], "/");

    // Signing out ends the sign-in, not just the cookie.
    let session = cookie.split(';').next().unwrap().to_owned();
    let mut sign_out = form("/sign-out", &[]);
    sign_out
        .headers_mut()
        .insert(header::COOKIE, session.parse().unwrap());
    let (status, headers, _) = page(&app, sign_out).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/sign-in");
    let mut me = Request::get("/api/v1/auth/me").body(Body::empty()).unwrap();
    me.headers_mut()
        .insert(header::COOKIE, session.parse().unwrap());
    assert_eq!(app.send_raw(me).await.0, StatusCode::UNAUTHORIZED);
}

/// Signs the practitioner in through the form; returns the cookie to send.
pub(crate) async fn signed_in(app: &TestApp) -> String {
    let (status, headers, _) = page(
        app,
        form(
            "/sign-in",
            &[("username", CLINICIAN), ("password", CLINICIAN_PASSWORD)],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    session_from(&headers)
}

/// The sign-in cookie a response sets, as a browser would send it back.
fn session_from(headers: &axum::http::HeaderMap) -> String {
    headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

pub(crate) fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path).body(Body::empty()).unwrap();
    if let Some(cookie) = cookie {
        request
            .headers_mut()
            .insert(header::COOKIE, cookie.parse().unwrap());
    }
    request
}

async fn find_a_person_and_open_their_page(app: TestApp) {
    // Without a sign-in, a page sends the browser to sign in and back again.
    let (status, headers, _) = page(&app, get("/persons?q=Testperson", None)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[header::LOCATION],
        "/sign-in?return_to=%2Fpersons%3Fq%3DTestperson"
    );
    let (_, headers, _) = page(
        &app,
        get("/persons", Some("custodian_session=expired-or-forged")),
    )
    .await;
    assert_eq!(headers[header::LOCATION], "/sign-in?return_to=%2Fpersons");

    let id = app.person("Ada", "has_capacity").await;
    app.person("Bea", "lacks_capacity").await;
    let cookie = signed_in(&app).await;
    let (status, _, html) = page(&app, get("/persons?q=Testperson", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("2 found"), "{html}");
    assert!(
        html.contains(&format!("<a href=\"/persons/{id}\">Ada Testperson</a>")),
        "{html}"
    );
    assert!(html.contains("29 February 1980"), "{html}");

    let (_, _, html) = page(&app, get("/persons?q=Nobody", Some(&cookie))).await;
    assert!(html.contains("No one found"), "{html}");

    let (status, _, html) = page(&app, get(&format!("/persons/{id}"), Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<h1 class=\"heading-l\">Ada Testperson</h1>"),
        "{html}"
    );
    assert!(html.contains("has capacity"), "{html}");
    assert!(
        html.contains("<a class=\"back-link\" href=\"/persons\">"),
        "{html}"
    );

    // Someone who is not registered gets a page that says so, not a machine's error.
    let missing = uuid::Uuid::now_v7();
    let (status, headers, html) =
        page(&app, get(&format!("/persons/{missing}"), Some(&cookie))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        html.contains("<h1 class=\"heading-l\">Page not found</h1>"),
        "{html}"
    );
    // The error page still names who is signed in and lets them sign out.
    assert!(
        html.contains("<span class=\"header__who\">") && html.contains("action=\"/sign-out\""),
        "{html}"
    );
}

async fn s5_a_one_time_password_is_replaced_before_anything_else(app: TestApp) {
    let reply = app
        .call(
            axum::http::Method::POST,
            "/api/v1/staff",
            Some(&app.admin_token),
            Some(
                serde_json::json!({"username": "r.okafor", "display_name": "Rita Okafor",
                "roles": ["practitioner"], "services": ["CAMHS-NORTH"]}),
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let one_time = reply.body["one_time_password"].as_str().unwrap().to_owned();
    let (_, headers, _) = page(
        &app,
        form(
            "/sign-in",
            &[
                ("username", "r.okafor"),
                ("password", &one_time),
                ("return_to", "/persons?q=Ada"),
            ],
        ),
    )
    .await;
    let cookie = session_from(&headers);

    // Any page first asks for a new password, then goes on to where the user was going.
    let (status, headers, _) = page(&app, get("/persons?q=Ada", Some(&cookie))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[header::LOCATION],
        "/password?return_to=%2Fpersons%3Fq%3DAda"
    );
    let (status, _, html) = page(
        &app,
        get("/password?return_to=%2Fpersons%3Fq%3DAda", Some(&cookie)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("You signed in with a one-time password"),
        "{html}"
    );

    let change = |current: &str, new: &str, again: &str| {
        let mut request = form(
            "/password",
            &[
                ("current_password", current),
                ("new_password", new),
                ("confirm_password", again),
                ("return_to", "/persons?q=Ada"),
            ],
        );
        request
            .headers_mut()
            .insert(header::COOKIE, cookie.parse().unwrap());
        request
    };
    let (status, _, html) = page(&app, change("", "", "")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("<a href=\"#current_password\">Enter your current password</a>"),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"#new_password\">Enter a new password</a>"),
        "{html}"
    );
    let (_, _, html) = page(
        &app,
        change(
            &one_time,
            "a long new pass phrase",
            "a long new pass phrase!",
        ),
    )
    .await;
    assert!(html.contains("Enter the same new password twice"), "{html}");
    let (_, _, html) = page(
        &app,
        change(
            "not it at all",
            "a long new pass phrase",
            "a long new pass phrase",
        ),
    )
    .await;
    assert!(
        html.contains("Your current password is not right"),
        "{html}"
    );
    let (_, _, html) = page(&app, change(&one_time, "short", "short")).await;
    assert!(
        html.contains("id=\"new_password-error\""),
        "the rule's own words, beside the field: {html}"
    );

    let (status, headers, _) = page(
        &app,
        change(
            &one_time,
            "a long new pass phrase",
            "a long new pass phrase",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/persons?q=Ada");
    let renewed = session_from(&headers);
    let (status, _, _) = page(&app, get("/persons?q=Ada", Some(&cookie))).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the old sign-in ended with the old password"
    );
    let (status, _, html) = page(&app, get("/persons?q=Ada", Some(&renewed))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Rita Okafor"),
        "the header names who is signed in: {html}"
    );
}

async fn register_a_person_with_every_problem_shown_at_once(app: TestApp) {
    let cookie = signed_in(&app).await;
    let submit = |fields: &[(&str, &str)]| {
        let mut request = form("/persons/new", fields);
        request
            .headers_mut()
            .insert(header::COOKIE, cookie.parse().unwrap());
        request
    };
    let (status, _, html) = page(&app, get("/persons/new", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<h1 class=\"heading-l\">Register a person</h1>"),
        "{html}"
    );

    let (status, _, html) = page(&app, submit(&[])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for (field, message) in [
        ("given_name", "Enter their first name"),
        ("family_name", "Enter their last name"),
        ("date_of_birth", "Enter their date of birth"),
        (
            "capacity",
            "Say whether they can decide about recording for themselves",
        ),
    ] {
        assert!(
            html.contains(&format!("<a href=\"#{field}\">{message}</a>")),
            "{field}: {html}"
        );
    }

    // What was typed comes back, markup as text, with each problem beside its field.
    let (_, _, html) = page(
        &app,
        submit(&[
            ("given_name", "<b>Ada</b>"),
            ("family_name", "Testperson"),
            ("day", "31"),
            ("month", "2"),
            ("year", "1980"),
            ("nhs_number", "999 000 0019"),
            ("capacity", "has_capacity"),
        ]),
    )
    .await;
    assert!(!html.contains("<b>Ada</b>"), "{html}");
    assert!(
        html.contains("Ada") && html.contains("value=\"999 000 0019\""),
        "{html}"
    );
    assert!(html.contains("id=\"date_of_birth-error\""), "{html}");
    assert!(html.contains("id=\"nhs_number-error\""), "{html}");
    assert!(
        html.contains(" checked>"),
        "the chosen answer stays chosen: {html}"
    );

    let number = custodian_testkit::fixtures::nhs_number();
    let valid = [
        ("given_name", "Ada"),
        ("family_name", "Testperson"),
        ("day", "29"),
        ("month", "2"),
        ("year", "1980"),
        ("nhs_number", number.as_str()),
        ("capacity", "lacks_capacity"),
    ];
    let (status, headers, _) = page(&app, submit(&valid)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = headers[header::LOCATION].to_str().unwrap().to_owned();
    let (_, _, html) = page(&app, get(&location, Some(&cookie))).await;
    assert!(
        html.contains("29 February 1980") && html.contains("lacks capacity"),
        "{html}"
    );

    // Sending the form twice registers the person once.
    let (status, _, html) = page(&app, submit(&valid)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("already registered"), "{html}");
    let (_, _, html) = page(&app, get("/persons?q=Testperson", Some(&cookie))).await;
    assert!(html.contains("1 found"), "{html}");
}

async fn s2_every_response_forbids_framing_sniffing_caching_and_inline_script_and_https_stays_https(
    app: TestApp,
) {
    let cookie = signed_in(&app).await;
    for path in ["/sign-in", "/", "/persons?q=x", "/healthz", "/no-such-page"] {
        let (_, headers, _) = page(&app, get(path, Some(&cookie))).await;
        let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        for rule in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ] {
            assert!(
                policy.contains(rule),
                "{path}: {rule} missing from {policy}"
            );
        }
        assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY", "{path}");
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer", "{path}");
        assert_eq!(headers[header::CACHE_CONTROL], "no-store", "{path}");
        assert!(
            headers.get(header::STRICT_TRANSPORT_SECURITY).is_none(),
            "{path}: plain HTTP gets no HSTS"
        );
    }
    // Behind the organisation's TLS proxy, browsers are told to use HTTPS only.
    for proxy in [
        ("x-forwarded-proto", "https"),
        ("forwarded", "for=10.0.0.1;proto=https"),
    ] {
        let request = Request::get("/sign-in")
            .header(proxy.0, proxy.1)
            .body(Body::empty())
            .unwrap();
        let (_, headers, _) = app.send_raw(request).await;
        assert_eq!(
            headers[header::STRICT_TRANSPORT_SECURITY],
            "max-age=31536000; includeSubDomains",
            "{proxy:?}"
        );
    }
}

async fn s2_a_form_or_request_without_its_sign_ins_token_is_refused(app: TestApp) {
    let cookie = signed_in(&app).await;
    let other = signed_in(&app).await;
    let person_fields = [
        ("given_name", "Quinn"),
        ("family_name", "Testperson"),
        ("day", "1"),
        ("month", "2"),
        ("year", "1990"),
        ("local_identifier", "QT-0001"),
        ("capacity", "has_capacity"),
    ];
    let sent = |token: Option<String>| {
        let mut fields: Vec<(&str, String)> = person_fields
            .iter()
            .map(|(name, value)| (*name, (*value).to_owned()))
            .collect();
        if let Some(token) = token {
            fields.push(("csrf", token));
        }
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let mut request = form("/persons/new", &borrowed);
        request
            .headers_mut()
            .insert(header::COOKIE, cookie.parse().unwrap());
        request
    };
    // Missing, wrong, or another sign-in's: refused, and nothing is registered.
    let other_token = custodian_testkit::form_token_for(&other).unwrap();
    for token in [None, Some("forged".to_owned()), Some(other_token)] {
        let (status, _, html) = app.send_raw(sent(token.clone())).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{token:?}");
        assert!(
            String::from_utf8_lossy(&html).contains("did not come from a Custodian page"),
            "{token:?}"
        );
    }
    let found = app.get("/api/v1/persons?q=Quinn").await;
    assert_eq!(found.body.as_array().unwrap().len(), 0, "{}", found.body);
    let token = custodian_testkit::form_token_for(&cookie).unwrap();
    let (status, _, _) = app.send_raw(sent(Some(token))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // The API, called with the sign-in cookie, wants the token in a header; a bearer token does not.
    let request = Request::post("/api/v1/tokens")
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"name":"forged"}"#))
        .unwrap();
    let (status, _, body) = app.send_raw(request).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(String::from_utf8_lossy(&body).contains("auth.form_token"));
    let created = app
        .post("/api/v1/tokens", serde_json::json!({"name": "bearer"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);

    // Signing out without the token is refused too: another site cannot sign staff out.
    let request = Request::post("/sign-out")
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send_raw(request).await.0, StatusCode::FORBIDDEN);
    let (status, _, _) = page(&app, get("/persons", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK, "still signed in");

    // Each refusal is evidence (S5): who the forged request was sent as, where, and the rule.
    let mut tx = app.db.register.read().await.unwrap();
    let refusals: Vec<_> = tx
        .audit_events_after(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "auth.forged_request_refused")
        .collect();
    assert_eq!(refusals.len(), 5, "three forms, the API call and sign-out");
    assert!(
        refusals
            .iter()
            .all(|e| matches!(e.actor, custodian_core::audit::Actor::Staff(_)))
    );
    assert!(
        refusals
            .iter()
            .any(|e| e.detail.contains("/persons/new") && e.detail.contains("ASVS 4.2.2"))
    );
}

on_both_backends!(app:
    s2_a_form_or_request_without_its_sign_ins_token_is_refused,
    s2_every_response_forbids_framing_sniffing_caching_and_inline_script_and_https_stays_https,
    s5_staff_sign_in_and_out_in_the_browser,
    register_a_person_with_every_problem_shown_at_once,
    find_a_person_and_open_their_page,
    s5_a_one_time_password_is_replaced_before_anything_else
);
