//! Whole journeys through the staff web app in a real headless Chromium, by keyboard alone
//! where a person would use one, with axe-core checking every page against WCAG 2.2 AA.

use custodian_testkit::{Browser, CLINICIAN, CLINICIAN_PASSWORD, TestApp};
use fantoccini::key::Key;

/// Pages stay light for tablets on poor connections: under 100 KB before media.
const PAGE_WEIGHT_LIMIT: u64 = 100 * 1024;

/// Checks the page shown against WCAG 2.2 AA and the weight limit.
pub(crate) async fn check_page(browser: &Browser) {
    browser.assert_accessible().await;
    let weight = browser.page_weight().await;
    assert!(
        weight < PAGE_WEIGHT_LIMIT,
        "{} weighs {weight} bytes before media",
        browser.path().await
    );
}

/// Signs the practitioner in from wherever the browser was sent, by keyboard: the password,
/// then, if they have an authenticator app (the test kit holds it), its code.
pub(crate) async fn sign_in_by_keyboard(browser: &Browser, app: &TestApp) {
    browser.tab_to("#username").await;
    browser.press(CLINICIAN).await;
    browser.press(&Key::Tab.to_string()).await;
    browser.press(CLINICIAN_PASSWORD).await;
    browser.press(&Key::Enter.to_string()).await;
    if app.has_authenticator(CLINICIAN) {
        browser.wait_for_path("/sign-in/code").await;
        browser.tab_to("#code").await;
        browser.press(&app.code(CLINICIAN)).await;
        browser.press(&Key::Enter.to_string()).await;
    }
}

async fn s5_sign_in_find_and_register_a_person_by_keyboard_alone(app: TestApp) {
    let browser = Browser::open(&app.serve().await).await;

    // Asking for a page while signed out leads to sign-in, and back to that page afterwards.
    browser.visit("/persons?q=Ashdown").await;
    browser.wait_for_path("/sign-in").await;
    check_page(&browser).await;
    sign_in_by_keyboard(&browser, &app).await;
    browser.wait_for_path("/persons").await;
    assert_eq!(browser.path().await, "/persons?q=Ashdown");
    assert_eq!(browser.text("#results").await, "No one found");
    check_page(&browser).await;

    // Register a person: first with nothing filled in, to see every problem at once.
    browser.tab_to("a[href='/persons/new']").await;
    browser.press(&Key::Enter.to_string()).await;
    browser.wait_for_path("/persons/new").await;
    check_page(&browser).await;
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
    check_page(&browser).await;

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
    check_page(&browser).await;

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

/// Reads a PDF's text with poppler's `pdftotext`, and whether `pdfinfo` finds it tagged.
pub(crate) fn pdf_text_and_tagging(pdf: &[u8]) -> (String, bool) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), pdf).unwrap();
    let run = |program: &str, args: &[&str]| {
        let output = std::process::Command::new(program)
            .args(args)
            .arg(file.path())
            .args(if program == "pdftotext" {
                vec!["-"]
            } else {
                vec![]
            })
            .output()
            .unwrap_or_else(|error| {
                panic!("{program} is missing ({error}); install poppler-utils")
            });
        assert!(output.status.success(), "{program}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let text = run("pdftotext", &["-layout"]);
    let info = run("pdfinfo", &[]);
    let tagged = info
        .lines()
        .any(|line| line.starts_with("Tagged:") && line.ends_with("yes"));
    (text, tagged)
}

async fn c2_consent_with_a_drawn_signature_and_the_persons_copy(app: TestApp) {
    let person = app.person("Bea", "has_capacity").await;
    let browser = Browser::open(&app.serve().await).await;
    browser.visit(&format!("/persons/{person}")).await;
    sign_in_by_keyboard(&browser, &app).await;
    browser.wait_for_path(&format!("/persons/{person}")).await;
    assert!(browser.text("main").await.contains("No consent recorded"));
    check_page(&browser).await;

    browser.click("a[href$='/consents/new']").await;
    browser
        .wait_for_path(&format!("/persons/{person}/consents/new"))
        .await;
    check_page(&browser).await;

    // Sent with nothing chosen: every problem at once, nothing recorded.
    // One question per page: each names its own problems before going on.
    browser.click("#continue").await;
    let summary = browser.text(".error-summary").await;
    assert!(summary.contains("Choose at least one purpose"), "{summary}");
    check_page(&browser).await;
    browser.click("#purpose-clinical").await;
    browser.click("#purpose-teaching").await;
    browser.click("#continue").await;

    browser.find("#answer").await;
    check_page(&browser).await;
    browser.click("#continue").await;
    let summary = browser.text(".error-summary").await;
    for problem in [
        "Say whether they give or refuse consent",
        "does not affect their care",
    ] {
        assert!(
            summary.contains(problem),
            "{problem} missing from {summary}"
        );
    }
    browser.click("#answer").await;
    browser.click("#refusal_explained").await;
    browser.click("#continue").await;

    browser.find("#service").await;
    check_page(&browser).await;
    browser.fill("#service", "CAMHS-NORTH").await;
    browser.click("#continue").await;

    browser.find("#signed_by").await;
    browser.click("#continue").await;
    let summary = browser.text(".error-summary").await;
    assert!(summary.contains("Say how the form was signed"), "{summary}");
    browser.click("#signature_method").await;
    browser.fill("#signed_by", "Bea Testperson").await;
    browser
        .draw(
            "#drawing-canvas",
            &[
                &[
                    (-200.0, 40.0),
                    (-150.0, -50.0),
                    (-100.0, 40.0),
                    (-50.0, -30.0),
                ],
                &[(0.0, 0.0), (80.0, 10.0), (160.0, -20.0)],
            ],
        )
        .await;
    let drawn = browser.find("#drawing").await.prop("value").await.unwrap();
    assert!(drawn.is_some_and(|strokes| strokes.contains(';')));
    check_page(&browser).await;
    browser.click("#continue").await;

    // Check the answers, change one, and come back with everything kept.
    browser.find("#record-consent").await;
    let answers = browser.text(".summary-list").await;
    assert!(answers.contains("Teaching"), "{answers}");
    assert!(
        answers.contains("Signed on screen by Bea Testperson"),
        "{answers}"
    );
    check_page(&browser).await;
    browser.click("button[name=goto][value=details]").await;
    browser.find("#service").await;
    assert_eq!(
        browser.find("#service").await.prop("value").await.unwrap(),
        Some("CAMHS-NORTH".to_owned())
    );
    browser.click("#continue").await;
    browser.find("#signed_by").await;
    browser.click("#continue").await;
    browser.click("#record-consent").await;
    browser.wait_for_path_starting("/consents/").await;
    assert_eq!(browser.text("h1").await, "Consent given");
    assert_eq!(browser.find_all("svg.signature path").await.len(), 1);
    check_page(&browser).await;

    // The person's copy: a tagged PDF with their name, the purposes and the signature's words.
    let href = browser
        .find("a[href$='copy.pdf']")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let pdf = browser.download(&href).await;
    assert!(pdf.starts_with(b"%PDF-"));
    let (text, tagged) = pdf_text_and_tagging(&pdf);
    for words in [
        "Your consent to recording",
        "Bea Testperson",
        "Clinical or therapeutic use",
        "Teaching",
        "Signed on screen by Bea Testperson",
        "does not affect your care",
        // C2: where recordings are kept; C14: whether representatives may have copies.
        "Where recordings are kept",
        "kept encrypted",
        "given copies of recordings",
    ] {
        assert!(
            text.contains(words),
            "{words:?} missing from the copy:\n{text}"
        );
    }
    assert!(tagged, "the copy is not a tagged PDF");

    // The person page shows where they stand on each purpose.
    browser.visit(&format!("/persons/{person}")).await;
    let consents = browser.text("table[aria-labelledby=consents]").await;
    assert!(consents.contains("Teaching"), "{consents}");
    assert!(consents.contains("Given"), "{consents}");
    check_page(&browser).await;
    browser.close().await;
}

on_both_backends!(app, needs [Browser]:
    s5_sign_in_find_and_register_a_person_by_keyboard_alone,
    the_accessibility_check_reports_a_broken_page,
    c2_consent_with_a_drawn_signature_and_the_persons_copy,
);
