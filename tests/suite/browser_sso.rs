//! Single sign-on in a real headless Chromium: the button, the provider, and back signed in.

use custodian_testkit::oidc::{OidcOptions, OidcProvider};
use custodian_testkit::{Backend, Browser, TestApp};
use serde_json::json;

use crate::browser::check_page;

const SUBJECT: &str = "synthetic-subject-7310";

on_both_backends!(backend, needs [Browser, OidcProvider]: s5_a_linked_member_of_staff_signs_in_with_single_sign_on_in_a_browser);

async fn s5_a_linked_member_of_staff_signs_in_with_single_sign_on_in_a_browser(backend: Backend) {
    // The app's address must be known before the provider can register its return address.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public_url = format!("http://{}", listener.local_addr().unwrap());
    let provider = OidcProvider::start(&OidcOptions {
        redirect_uri: format!("{public_url}/sign-in/sso/callback"),
        subject: SUBJECT.to_owned(),
        audience: None,
    })
    .await;
    let app = TestApp::with_sso(backend, provider.settings(&public_url)).await;
    let created = app
        .call(
            axum::http::Method::POST,
            "/api/v1/staff",
            Some(&app.admin_token),
            Some(
                json!({"username": "r.testperson", "display_name": "Robin Testperson",
                "roles": ["practitioner"], "services": ["CAMHS-NORTH"]}),
            ),
        )
        .await;
    let id = created.body["staff"]["id"].as_str().unwrap();
    // They chose their own password once, so the one-time password no longer confines them.
    let one_time = created.body["one_time_password"].as_str().unwrap();
    let cookie = app.sign_in("r.testperson", one_time).await.cookie.unwrap();
    let changed = app
        .call_with(
            axum::http::Method::POST,
            "/api/v1/auth/password",
            &[("cookie", &cookie)],
            Some(
                json!({"current_password": one_time, "new_password": "a long pass phrase of mine"}),
            ),
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.body);
    let linked = app
        .call(
            axum::http::Method::PUT,
            &format!("/api/v1/staff/{id}/sso"),
            Some(&app.admin_token),
            Some(json!({ "subject": SUBJECT })),
        )
        .await;
    assert_eq!(linked.status, 204, "{}", linked.body);
    let browser = Browser::open(&app.serve_on(listener)).await;

    browser.visit("/persons").await;
    browser.wait_for_path("/sign-in").await;
    check_page(&browser).await;
    assert_eq!(browser.text("#sso").await, "Sign in with NHS Identity");
    browser.click("#sso").await;
    // Through the provider, which signs the synthetic subject in at once, and back.
    browser.wait_for_path("/persons").await;
    check_page(&browser).await;
    assert!(
        browser
            .text(".header__who")
            .await
            .contains("Robin Testperson"),
        "signed in as the linked account"
    );
    browser.close().await;
}
