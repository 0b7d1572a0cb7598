//! The day's journeys by keyboard alone (WCAG 2.1.1): a consent with a typed, witnessed
//! signature, a session and its "still willing today?", the decision panel, and a withdrawal.

use custodian_testkit::fixtures::{minutes_from_now, mp4};
use custodian_testkit::{Browser, TestApp};
use fantoccini::key::Key;
use serde_json::json;

use crate::browser::{check_page, sign_in_by_keyboard};

/// Tabs to the element matching `css` and presses Enter on it.
async fn activate(browser: &Browser, css: &str) {
    browser.tab_to(css).await;
    browser.press(&Key::Enter.to_string()).await;
}

/// Tabs to the field matching `css` and types `text` into it.
async fn type_into(browser: &Browser, css: &str, text: &str) {
    browser.tab_to(css).await;
    browser.press(text).await;
}

async fn s5_consent_session_decision_and_withdrawal_by_keyboard_alone(app: TestApp) {
    let person = app.person("Nia", "has_capacity").await;
    let browser = Browser::open(&app.serve().await).await;
    browser.visit(&format!("/persons/{person}")).await;
    sign_in_by_keyboard(&browser, &app).await;
    browser.wait_for_path(&format!("/persons/{person}")).await;

    // The consent form, one question per page.
    activate(&browser, "a[href$='/consents/new']").await;
    browser
        .wait_for_path(&format!("/persons/{person}/consents/new"))
        .await;
    browser.tab_to("#purpose-clinical").await;
    browser.press(" ").await;
    browser.tab_to("#purpose-teaching").await;
    browser.press(" ").await;
    activate(&browser, "#continue").await;
    browser.find("#answer").await;
    browser.tab_to("#answer").await;
    browser.press(" ").await;
    browser.tab_to("#refusal_explained").await;
    browser.press(" ").await;
    activate(&browser, "#continue").await;
    browser.find("#service").await;
    type_into(&browser, "#service", "CAMHS-NORTH").await;
    browser.press(&Key::Enter.to_string()).await;
    browser.find("#signed_by").await;
    // Arrow keys move within a group of radios, as a keyboard user chooses.
    browser.tab_to("input[name=signature_method]").await;
    browser.press(&Key::Down.to_string()).await;
    let typed = browser
        .find("#signature_method-typed")
        .await
        .prop("checked")
        .await
        .unwrap();
    assert_eq!(typed.as_deref(), Some("true"));
    type_into(&browser, "#signed_by", "Nia Testperson").await;
    type_into(&browser, "#witness", "Nurse Witness").await;
    browser.press(&Key::Enter.to_string()).await;
    browser.find("#record-consent").await;
    check_page(&browser).await;
    activate(&browser, "#record-consent").await;
    browser.wait_for_path_starting("/consents/").await;
    assert_eq!(browser.text("h1").await, "Consent given");
    let consent_page = browser.path().await;

    // A session, and their answer to "still willing today?".
    activate(&browser, ".back-link").await;
    browser.wait_for_path(&format!("/persons/{person}")).await;
    activate(&browser, "#start-a-session").await;
    browser
        .wait_for_path(&format!("/persons/{person}/sessions/new"))
        .await;
    browser.tab_to("#kind").await;
    browser.press(" ").await;
    type_into(&browser, "#title", "Art therapy, week 1").await;
    type_into(&browser, "#service", "CAMHS-NORTH").await;
    browser.press(&Key::Enter.to_string()).await;
    browser.wait_for_path_starting("/sessions/").await;
    let session = browser
        .path()
        .await
        .trim_start_matches("/sessions/")
        .to_owned();
    activate(&browser, "button[name=willing][value=yes]").await;
    let answer = browser
        .text("table[aria-labelledby=participants] .tag")
        .await;
    assert!(answer.starts_with("Yes,"), "{answer}");

    // A recording made in the session (uploaded here), and the decision panel by keyboard.
    let reply = app
        .upload(
            &json!({
                "kind": "video", "service": "CAMHS-NORTH", "session_id": session,
                "subjects": [person], "purposes": ["clinical"], "device": "TAB-0042",
                "made_at": minutes_from_now(0), "location": "Art room",
            }),
            mp4(100_000, 51),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    browser.visit(&format!("/sessions/{session}")).await;
    activate(&browser, "a[href^='/recordings/']").await;
    browser.wait_for_path_starting("/recordings/").await;
    browser.tab_to("#purpose").await;
    browser.press("Teaching").await;
    activate(&browser, "#decision button[type=submit]").await;
    browser.wait_for_path_starting("/recordings/").await;
    browser.find("#answer").await;
    let answer = browser.text(".answer").await;
    assert!(
        answer.contains("No, you may not use this recording for teaching"),
        "{answer}"
    );
    check_page(&browser).await;

    // Withdrawal.
    browser.visit(&consent_page).await;
    activate(&browser, "a[href$='/withdraw']").await;
    browser.find("#record-withdrawal").await;
    browser.tab_to("#withdrawn_by").await;
    browser.press(" ").await;
    browser.tab_to("#existing_recordings").await;
    browser.press(" ").await;
    activate(&browser, "#record-withdrawal").await;
    browser.wait_for_path(&consent_page).await;
    let withdrawals = browser.text("#withdrawals + ul").await;
    assert!(withdrawals.contains("Withdrawn from"), "{withdrawals}");
    browser.close().await;
}

on_both_backends!(app, needs [Browser]: s5_consent_session_decision_and_withdrawal_by_keyboard_alone);
