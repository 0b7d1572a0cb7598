//! Signing in with an authenticator app's code, and setting one up, in a real headless Chromium,
//! with axe-core checking each new page against WCAG 2.2 AA.

use axum::http::StatusCode;
use custodian_core::totp::TotpSecret;
use custodian_testkit::{Browser, TestApp};
use fantoccini::key::Key;
use serde_json::json;

use crate::browser::check_page;

const IG_LEAD: &str = "ig.lead";
const IG_PASSWORD: &str = "a pass phrase for governance";

async fn asvs_2_7_an_information_governance_lead_signs_in_with_the_code_from_their_authenticator(
    app: TestApp,
) {
    // IG leads, like administrators, must use an authenticator app; the test kit sets theirs up.
    app.staff_member(IG_LEAD, IG_PASSWORD, &["information_governance_lead"], &[])
        .await;
    let browser = Browser::open(&app.serve().await).await;
    browser.visit("/persons?q=Ashdown").await;
    browser.wait_for_path("/sign-in").await;
    browser.fill("#username", IG_LEAD).await;
    browser.fill("#password", IG_PASSWORD).await;
    browser.press(&Key::Enter.to_string()).await;

    // The password alone leads to the code step, and nowhere else.
    browser.wait_for_path("/sign-in/code").await;
    check_page(&browser).await;
    browser.visit("/persons").await;
    browser.wait_for_path("/sign-in").await;
    browser.client.back().await.unwrap();
    browser.wait_for_path("/sign-in/code").await;

    // A wrong code is named beside the field, in plain words.
    browser.fill("#code", "000000").await;
    browser.press(&Key::Enter.to_string()).await;
    let summary = browser.text(".error-summary").await;
    assert!(summary.contains("The code is not right"), "{summary}");
    check_page(&browser).await;

    // The right one signs in, back where the member of staff was going.
    browser.fill("#code", &app.code(IG_LEAD)).await;
    browser.press(&Key::Enter.to_string()).await;
    browser.wait_for_path("/persons").await;
    assert_eq!(browser.path().await, "/persons?q=Ashdown");
    assert_eq!(browser.text("#results").await, "No one found");
    browser.close().await;
}

async fn s2_a_new_administrator_sets_up_an_authenticator_before_anything_else(app: TestApp) {
    let created = app
        .call(
            axum::http::Method::POST,
            "/api/v1/staff",
            Some(&app.admin_token),
            Some(json!({"username": "n.admin", "display_name": "Nia Admin", "roles": ["administrator"]})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let one_time = created.body["one_time_password"]
        .as_str()
        .unwrap()
        .to_owned();

    let browser = Browser::open(&app.serve().await).await;
    browser.visit("/").await;
    browser.wait_for_path("/sign-in").await;
    browser.fill("#username", "n.admin").await;
    browser.fill("#password", &one_time).await;
    browser.press(&Key::Enter.to_string()).await;
    browser.wait_for_path("/password").await;
    browser.fill("#current_password", &one_time).await;
    browser
        .fill("#new_password", "a long pass phrase of my own")
        .await;
    browser
        .fill("#confirm_password", "a long pass phrase of my own")
        .await;
    browser.press(&Key::Enter.to_string()).await;

    // Then the authenticator app, before anything else.
    browser.wait_for_path("/totp").await;
    check_page(&browser).await;
    browser.visit("/").await;
    browser.wait_for_path("/totp").await;
    browser.click("#totp-start").await;
    browser.wait_until_shown("svg.qr").await;
    check_page(&browser).await;
    let typed = browser.text("#totp-secret").await;
    let secret = TotpSecret::from_base32(&typed).expect("the key as text, to type in");

    // A wrong code first, then the one the app shows.
    browser.fill("#code", "000000").await;
    browser.press(&Key::Enter.to_string()).await;
    let summary = browser.text(".error-summary").await;
    assert!(summary.contains("The code is not right"), "{summary}");
    assert_eq!(
        TotpSecret::from_base32(&browser.text("#totp-secret").await),
        Some(secret.clone()),
        "the same key is shown again"
    );
    check_page(&browser).await;
    browser
        .fill("#code", &secret.code_at(app.custodian.now()))
        .await;
    browser.press(&Key::Enter.to_string()).await;
    // An administrator sees no one's record: their landing page is the day's overview.
    browser.wait_for_path("/").await;
    assert!(browser.text("h1").await.contains("Your day"));

    // Its page now says it is set up.
    browser.visit("/totp").await;
    assert!(browser.text("main").await.contains("was set up on"));
    browser.close().await;
}

on_both_backends!(app, needs [Browser]:
    asvs_2_7_an_information_governance_lead_signs_in_with_the_code_from_their_authenticator,
    s2_a_new_administrator_sets_up_an_authenticator_before_anything_else,
);
