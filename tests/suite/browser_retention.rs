//! The retention pages in a real headless Chromium, with axe-core checking every page against
//! WCAG 2.2 AA: a records manager reviews the disposal queue, approves and destroys, marks a
//! task done (D2, D9, C8), places and lifts a legal hold (D7) and meets a refused period (D4).

use custodian_testkit::{Browser, TestApp};

use crate::browser::check_page;
use crate::browser_access::sign_in_as;
use crate::retention::transcribed_video;
use crate::retention_pages::withdrawn_video;

/// Waits until the page shows `path`, after a form sends the browser elsewhere.
async fn sent_to(browser: &Browser, path: &str) {
    browser.wait_for_path_starting(path).await;
}

async fn d9_a_records_manager_works_through_the_queue_holds_and_schedule_in_a_browser(
    app: TestApp,
) {
    let (_, due) = transcribed_video(&app, 41).await;
    let withdrawn = withdrawn_video(&app, 42).await;
    app.member_with_role("records_manager").await;

    let browser = Browser::open(&app.serve().await).await;
    browser.visit("/").await;
    sign_in_as(
        &browser,
        &app,
        "records.manager.member",
        TestApp::MEMBER_PASSWORD,
    )
    .await;
    browser.wait_for_path("/").await;
    check_page(&browser).await;
    browser.click("#disposals-link").await;
    browser.wait_for_path("/disposals").await;
    check_page(&browser).await;

    // Review: keeping it longer needs a reason; then approve it and destroy it.
    browser
        .click(&format!("a[href='/disposals/{due}/review']"))
        .await;
    browser
        .wait_for_path(&format!("/disposals/{due}/review"))
        .await;
    check_page(&browser).await;
    browser.click("#outcome-extend").await;
    browser.fill("#until", "2099-06-30").await;
    browser.click("#save-review").await;
    let summary = browser.text(".error-summary").await;
    assert!(summary.contains("Give the reason"), "{summary}");
    check_page(&browser).await;
    browser.click("#outcome").await;
    browser.click("#save-review").await;
    sent_to(&browser, "/disposals?done=approved").await;
    check_page(&browser).await;
    browser
        .click(&format!(
            "form[action='/disposals/{due}/destruction'] button"
        ))
        .await;
    sent_to(&browser, "/disposals?done=destroyed").await;
    assert!(browser.text("#done").await.contains("destroyed"));
    check_page(&browser).await;

    // The withdrawal's hand-over, done by hand, is marked done.
    browser
        .click(&format!(
            "form[action='/disposals/{withdrawn}/tasks/withdrawal/done'] button"
        ))
        .await;
    sent_to(&browser, "/disposals?done=task").await;
    assert!(browser.text("#tasks + p").await.starts_with("None"));
    check_page(&browser).await;

    // A hold, placed from the recording's page and lifted with a reason.
    browser.visit(&format!("/recordings/{withdrawn}")).await;
    browser.click("#place-hold-link").await;
    browser.wait_for_path_starting("/legal-holds").await;
    check_page(&browser).await;
    browser.click("#kind-complaint").await;
    browser.fill("#reference", "CMP-2026-0099").await;
    browser.click("#place-hold").await;
    sent_to(&browser, "/legal-holds?done=placed").await;
    assert!(
        browser
            .text("#standing + .hold")
            .await
            .contains("CMP-2026-0099")
    );
    check_page(&browser).await;
    browser.click(".lift-hold").await;
    let summary = browser.text(".error-summary").await;
    assert!(summary.contains("Give the reason"), "{summary}");
    check_page(&browser).await;
    browser
        .fill("#lift_reason", "Complaint resolved locally")
        .await;
    browser.click(".lift-hold").await;
    sent_to(&browser, "/legal-holds?done=lifted").await;
    assert!(
        browser
            .text("#lifted + table")
            .await
            .contains("Complaint resolved locally")
    );
    check_page(&browser).await;

    // The schedule, and a period refused naming its rule.
    browser.visit("/").await;
    browser.click("#schedule-link").await;
    browser.wait_for_path("/retention/schedule").await;
    check_page(&browser).await;
    browser
        .click("a[href='/retention/schedule/d2-yearly-review']")
        .await;
    browser
        .wait_for_path("/retention/schedule/d2-yearly-review")
        .await;
    check_page(&browser).await;
    browser.fill("#years", "101").await;
    browser.click("#save-period").await;
    let summary = browser.text(".error-summary").await;
    assert!(summary.contains("d2-yearly-review"), "{summary}");
    check_page(&browser).await;
    browser.close().await;
}

on_both_backends!(app, needs [Browser]: d9_a_records_manager_works_through_the_queue_holds_and_schedule_in_a_browser,);
