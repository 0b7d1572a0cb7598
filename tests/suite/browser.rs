//! Whole journeys through the staff web app in a real headless Chromium, by keyboard alone
//! where a person would use one, with axe-core checking every page against WCAG 2.2 AA.

use custodian_testkit::{ADMIN_PASSWORD, Browser, TestApp};
use fantoccini::key::Key;

/// Signs in from wherever the browser was sent, by keyboard.
async fn sign_in_by_keyboard(browser: &Browser) {
    browser.tab_to("#username").await;
    browser.press("admin").await;
    browser.press(&Key::Tab.to_string()).await;
    browser.press(ADMIN_PASSWORD).await;
    browser.press(&Key::Enter.to_string()).await;
}

async fn s5_sign_in_find_and_register_a_person_by_keyboard_alone(app: TestApp) {
    let browser = Browser::open(&app.serve().await).await;

    // Asking for a page while signed out leads to sign-in, and back to that page afterwards.
    browser.visit("/persons?q=Ashdown").await;
    browser.wait_for_path("/sign-in").await;
    browser.assert_accessible().await;
    sign_in_by_keyboard(&browser).await;
    browser.wait_for_path("/persons").await;
    assert_eq!(browser.path().await, "/persons?q=Ashdown");
    assert_eq!(browser.text("#results").await, "No one found");
    browser.assert_accessible().await;

    // Register a person: first with nothing filled in, to see every problem at once.
    browser.tab_to("a[href='/persons/new']").await;
    browser.press(&Key::Enter.to_string()).await;
    browser.wait_for_path("/persons/new").await;
    browser.assert_accessible().await;
    browser
        .tab_to("button[type=submit].button:not(.button--small)")
        .await;
    browser.press(&Key::Enter.to_string()).await;
    let summary = browser.text(".error-summary").await;
    assert!(summary.contains("There is a problem"), "{summary}");
    assert!(
        browser.find_all(".error-summary__list a").await.len() >= 3,
        "{summary}"
    );
    browser.assert_accessible().await;

    // The summary's links take the focus to the field.
    browser
        .tab_to(".error-summary__list a[href='#given_name']")
        .await;
    browser.press(&Key::Enter.to_string()).await;
    browser.press("Ada <script>alert(1)</script>").await;
    for (field, text) in [
        ("#family_name", "Ashdown"),
        ("#date_of_birth", "29"),
        ("#date_of_birth-month", "2"),
        ("#date_of_birth-year", "1980"),
        ("#nhs_number", "999 000 0018"),
    ] {
        browser.tab_to(field).await;
        browser.press(text).await;
    }
    browser.tab_to("#capacity").await;
    browser.press(" ").await;
    browser.press(&Key::Enter.to_string()).await;

    // What was typed comes back as text, never as markup.
    let heading = browser.text("h1").await;
    assert_eq!(heading, "Ada <script>alert(1)</script> Ashdown");
    assert!(browser.find_all("main script").await.is_empty());
    let shown = browser.path().await;
    assert!(
        shown.starts_with("/persons/") && shown != "/persons/new",
        "{shown}"
    );
    browser.assert_accessible().await;

    // Found again by NHS number, typed with or without spaces.
    browser.visit("/persons?q=9990000018").await;
    browser.click("table a").await;
    assert!(browser.text("h1").await.contains("Ashdown"));
    browser.close().await;
}

/// The accessibility check is only worth its silence if it speaks up: break a page on purpose.
async fn the_accessibility_check_reports_a_broken_page(app: TestApp) {
    let browser = Browser::open(&app.serve().await).await;
    browser.visit("/sign-in").await;
    assert!(browser.accessibility_violations().await.is_empty());
    browser
        .client
        .execute(
            "document.querySelector('label[for=username]').remove();\
             document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/nothing.png\">');",
            Vec::new(),
        )
        .await
        .unwrap();
    let rules = browser.accessibility_violations().await;
    assert!(rules.iter().any(|rule| rule == "image-alt"), "{rules:?}");
    assert!(rules.iter().any(|rule| rule == "label"), "{rules:?}");
    browser.close().await;
}

app_on_both_backends!(
    s5_sign_in_find_and_register_a_person_by_keyboard_alone,
    the_accessibility_check_reports_a_broken_page,
);
