//! Managing access in a real headless Chromium, with axe-core checking every page against
//! WCAG 2.2 AA: a practitioner declares a connection and is refused, emergency access too (S3), the IG
//! lead reviews emergency access and reads the refusals (S5), an administrator writes a local
//! policy (X6) and opens the staff pages (S2).

use custodian_testkit::{ADMIN_PASSWORD, Browser, IG_LEAD, IG_LEAD_PASSWORD, TestApp};
use fantoccini::key::Key;
use serde_json::json;

use crate::browser::{check_page, sign_in_by_keyboard};

/// Signs `username` in on the sign-in page the browser was sent to, with their authenticator's
/// code when they have one.
pub(crate) async fn sign_in_as(browser: &Browser, app: &TestApp, username: &str, password: &str) {
    browser.wait_for_path("/sign-in").await;
    browser.fill("#username", username).await;
    browser.fill("#password", password).await;
    browser.press(&Key::Enter.to_string()).await;
    if app.has_authenticator(username) {
        browser.wait_for_path("/sign-in/code").await;
        browser.fill("#code", &app.code(username)).await;
        browser.press(&Key::Enter.to_string()).await;
    }
}

async fn s3_a_practitioner_declares_a_connection_in_a_browser_and_is_then_refused(app: TestApp) {
    let person = app.person("Mara", "has_capacity").await;
    let browser = Browser::open(&app.serve().await).await;
    let page = format!("/persons/{person}");
    browser.visit(&page).await;
    sign_in_by_keyboard(&browser, &app).await;
    browser.wait_for_path(&page).await;
    check_page(&browser).await;

    browser.click("#declare-connection").await;
    browser.wait_for_path(&format!("{page}/connection")).await;
    assert!(
        browser
            .text("#warning")
            .await
            .contains("cannot see Mara Testperson")
    );
    check_page(&browser).await;
    // Sent without a choice, it names the problem.
    browser.click("#declare").await;
    let summary = browser.text(".error-summary").await;
    assert!(summary.contains("Choose how you know them"), "{summary}");
    check_page(&browser).await;
    browser.click("#kind-neighbour").await;
    browser.click("#declare").await;
    browser.wait_for_path("/connections").await;
    assert!(browser.text("main").await.contains("Neighbour"));
    check_page(&browser).await;

    // Their page now refuses them, naming the rule, and does not offer emergency access:
    // a connection is not lifted by it; a colleague without one takes it (S3).
    browser.visit(&page).await;
    assert_eq!(
        browser.text("h1").await,
        "You cannot see this person's record"
    );
    let refusal = browser.text("#refusal").await;
    assert!(refusal.contains("Rule S3"), "{refusal}");
    assert!(
        refusal.contains("a colleague without one can take emergency access"),
        "{refusal}"
    );
    assert!(browser.find_all("#take-emergency-access").await.is_empty());
    check_page(&browser).await;
    browser.close().await;
}

async fn s5_the_ig_lead_marks_emergency_access_reviewed_and_opens_the_refusal_report_in_a_browser(
    app: TestApp,
) {
    let person = app.person("Nell", "has_capacity").await;
    let other = app
        .staff_member(
            "night.cover",
            "a pass phrase for nights",
            &["practitioner", "on_call"],
            &["ADULT-MH-EAST"],
        )
        .await;
    for _ in 0..2 {
        let refused = app
            .as_(&other)
            .get(&format!("/api/v1/persons/{person}"))
            .await;
        assert_eq!(refused.status, 403);
    }
    let taken = app
        .as_(&other)
        .post(
            &format!("/api/v1/persons/{person}/emergency-access"),
            json!({"reason": "Called to the ward at night; no one from the team on duty"}),
        )
        .await;
    assert_eq!(taken.status, 201, "{}", taken.body);
    app.ig_lead().await;

    let browser = Browser::open(&app.serve().await).await;
    browser.visit("/").await;
    sign_in_as(&browser, &app, IG_LEAD, IG_LEAD_PASSWORD).await;
    browser.wait_for_path("/").await;
    assert!(
        browser
            .text("#emergency + p + table")
            .await
            .contains("Test night.cover")
    );
    check_page(&browser).await;
    browser.click(".review-emergency").await;
    browser.wait_for_path("/").await;
    for _ in 0..50 {
        if browser.find_all(".review-emergency").await.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        browser.find_all(".review-emergency").await.is_empty(),
        "still listed"
    );
    check_page(&browser).await;

    browser.click("#refusals-link").await;
    browser.wait_for_path("/refusals").await;
    let total = browser.text("#total").await;
    assert!(
        total.contains("2 attempts were refused in the last 30 days"),
        "{total}"
    );
    assert!(
        browser
            .text("#by-staff + table")
            .await
            .contains("Test night.cover")
    );
    check_page(&browser).await;
    browser.click("a[href='/refusals?since=7']").await;
    browser.wait_for_path_starting("/refusals?since=7").await;
    assert!(browser.text("#total").await.contains("last 7 days"));
    check_page(&browser).await;

    // Who looked at the record (S2): from the person's page.
    browser.visit(&format!("/persons/{person}")).await;
    browser.click("#who-looked").await;
    browser
        .wait_for_path(&format!("/persons/{person}/looks"))
        .await;
    let looks = browser.text("#looks").await;
    assert!(looks.contains("Took emergency access"), "{looks}");
    assert!(looks.contains("Test night.cover"), "{looks}");
    check_page(&browser).await;
    // On a phone, too: readable without scrolling sideways.
    browser.set_width(375).await;
    browser.visit(&format!("/persons/{person}/looks")).await;
    assert!(
        !browser.scrolls_sideways().await,
        "the list is wider than a phone"
    );
    check_page(&browser).await;
    browser.close().await;
}

async fn x6_an_administrator_adds_an_invalid_local_policy_then_a_valid_one_in_a_browser(
    app: TestApp,
) {
    let browser = Browser::open(&app.serve().await).await;
    browser.visit("/").await;
    sign_in_as(&browser, &app, "admin", ADMIN_PASSWORD).await;
    browser.wait_for_path("/").await;
    browser.click("#policies-link").await;
    browser.wait_for_path("/policies").await;
    check_page(&browser).await;

    let invalid = "permit (principal, action == Custodian::Action::\"fly\", resource);";
    browser.fill("#name", "no-flying").await;
    browser.fill("#text", invalid).await;
    browser.click("#save-policy").await;
    let summary = browser.text(".error-summary").await;
    assert!(
        summary.contains("Cedar's validator refused the policy"),
        "{summary}"
    );
    assert!(summary.contains("fly"), "{summary}");
    let kept = browser.find("#text").await.prop("value").await.unwrap();
    assert_eq!(kept.as_deref(), Some(invalid), "the text stays as typed");
    check_page(&browser).await;

    let valid = "@refusal(\"this organisation does not allow emergency access\")\n\
        forbid (principal, action == Custodian::Action::\"break_glass\", resource);";
    browser.fill("#text", valid).await;
    browser.click("#save-policy").await;
    browser.wait_for_path_starting("/policies?done=saved").await;
    assert!(browser.text("#done").await.contains("sent for approval"));
    check_page(&browser).await;
    // Waiting for an information-governance lead: the administrator may only withdraw it.
    browser.click("#waiting a").await;
    browser.wait_for_path("/policy-proposals").await;
    assert!(browser.find_all("#approve-no-flying").await.is_empty());
    assert!(!browser.find_all("#reject-no-flying").await.is_empty());
    check_page(&browser).await;
    browser.set_width(375).await;
    assert!(
        !browser.scrolls_sideways().await,
        "proposals are wider than a phone"
    );
    check_page(&browser).await;
    browser.set_width(1280).await;
    assert_eq!(
        app.approve_policy("no-flying").await.status,
        axum::http::StatusCode::NO_CONTENT
    );
    browser.visit("/policies").await;
    assert!(
        browser
            .text("#policy-no-flying")
            .await
            .contains("break_glass")
    );
    browser.set_width(375).await;
    assert!(
        !browser.scrolls_sideways().await,
        "policies are wider than a phone"
    );
    browser.set_width(1280).await;

    // Deleted after confirming, and approved.
    browser.click("a[href='/policies/no-flying/delete']").await;
    browser.wait_for_path("/policies/no-flying/delete").await;
    check_page(&browser).await;
    browser.click("#delete-policy").await;
    browser
        .wait_for_path_starting("/policies?done=deleted")
        .await;
    assert_eq!(
        app.approve_policy("no-flying").await.status,
        axum::http::StatusCode::NO_CONTENT
    );
    browser.visit("/policies").await;
    assert!(browser.find_all("#policy-no-flying").await.is_empty());

    // The staff pages pass the same checks.
    browser.visit("/staff").await;
    check_page(&browser).await;
    browser.click("a[href^='/staff/']").await;
    browser.wait_for_path_starting("/staff/").await;
    assert!(browser.text("h1").await.len() > 1);
    check_page(&browser).await;
    browser.close().await;
}

on_both_backends!(app, needs [Browser]:
    s3_a_practitioner_declares_a_connection_in_a_browser_and_is_then_refused,
    s5_the_ig_lead_marks_emergency_access_reviewed_and_opens_the_refusal_report_in_a_browser,
    x6_an_administrator_adds_an_invalid_local_policy_then_a_valid_one_in_a_browser,
);
