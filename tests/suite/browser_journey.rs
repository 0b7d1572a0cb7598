//! The whole journey in a real browser: a session, "still willing today?", capture with the fake
//! camera, playback and seeking, the decision panel's refusal for teaching, withdrawal, and the
//! recording refused afterwards (C5, C8, C11, R3, R4, X1, X5).

use custodian_testkit::fixtures::{mp4, sha256_hex};
use custodian_testkit::{Browser, TestApp};
use serde_json::json;

use crate::browser::{check_page, pdf_text_and_tagging, sign_in_by_keyboard};
use crate::decisions::consent;
use crate::session_pages::session_today;

/// Asks the decision panel and returns its answer.
async fn ask_the_panel(browser: &Browser, purpose: &str) -> String {
    browser.choose("#purpose", purpose).await;
    let here = browser.path().await;
    let recording = here.split('?').next().unwrap_or_default();
    browser.click("#decision button[type=submit]").await;
    browser
        .wait_for_path_starting(&format!("{recording}?purpose={purpose}&"))
        .await;
    let answer = browser.text(".answer").await;
    check_page(browser).await;
    answer
}

/// Answers the recording page's "What are you opening this for?" with `purpose`.
async fn open_for(browser: &Browser, purpose: &str) {
    let here = browser.path().await;
    let recording = here.split('?').next().unwrap_or_default().to_owned();
    browser.choose("#open-purpose", purpose).await;
    browser.click("#open-button").await;
    browser
        .wait_for_path_starting(&format!("{recording}?open={purpose}"))
        .await;
}

async fn x1_a_session_recorded_in_the_browser_is_refused_for_teaching_and_after_withdrawal(
    app: TestApp,
) {
    let person = app.person("Cara", "has_capacity").await;
    consent(
        &app,
        &person,
        &["clinical", "teaching"],
        json!({"kind": "service", "service": "CAMHS-NORTH"}),
        30,
    )
    .await;
    let browser = Browser::open(&app.serve().await).await;
    browser.visit(&format!("/persons/{person}")).await;
    sign_in_by_keyboard(&browser, &app).await;
    browser.wait_for_path(&format!("/persons/{person}")).await;

    // A session: a form sent empty names each problem; then started.
    browser.click("#start-a-session").await;
    browser
        .wait_for_path(&format!("/persons/{person}/sessions/new"))
        .await;
    check_page(&browser).await;
    browser.click("#start-session").await;
    let summary = browser.text(".error-summary").await;
    assert!(summary.contains("Choose what kind of session"), "{summary}");
    assert!(summary.contains("Enter a title"), "{summary}");
    check_page(&browser).await;
    browser.click("#kind").await;
    browser.fill("#title", "Speech therapy, week 1").await;
    browser.fill("#service", "CAMHS-NORTH").await;
    browser.click("#start-session").await;
    browser.wait_for_path_starting("/sessions/").await;
    let session_page = browser.path().await;
    assert_eq!(browser.text("h1").await, "Speech therapy, week 1");
    check_page(&browser).await;

    // C5: still willing today?
    browser.click("button[name=willing][value=yes]").await;
    let answer = browser
        .text("table[aria-labelledby=participants] .tag")
        .await;
    assert!(answer.starts_with("Yes,"), "{answer}");
    check_page(&browser).await;

    // Capture a video with the fake camera (X5); the script says initials, never the name (R3).
    browser.click("#capture").await;
    browser
        .wait_for_path(&format!("{session_page}/capture"))
        .await;
    let statement = browser.text("#opening-statement").await;
    assert!(
        statement.contains("This session is being recorded"),
        "{statement}"
    );
    assert!(statement.contains("C. T., born"), "{statement}");
    assert!(!statement.contains("Cara"), "a full name in {statement}");
    check_page(&browser).await;
    browser.click("#purpose-clinical").await;
    browser.click("#purpose-teaching").await;
    browser.fill("#device", "LAPTOP-0412").await;
    browser.fill("#location", "Clinic room 3").await;
    browser.click("#start-camera").await;
    browser.wait_until_shown("#start-recording").await;
    browser.click("#start-recording").await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    browser.click("#stop-recording").await;
    browser.wait_until_shown("#save").await;
    browser.click("#happy").await;
    browser.click("#save").await;
    browser.wait_for_path_starting("/recordings/").await;
    let recording_page = browser.path().await;
    check_page(&browser).await;

    // Nothing stays in the browser: no storage of any kind holds the recording.
    let kept = browser
        .run(
            r#"const done = arguments[arguments.length - 1];
            caches.keys().then(names => done(localStorage.length + sessionStorage.length + names.length));"#,
        )
        .await;
    assert_eq!(kept, json!(0));

    // X1: nothing plays before the page asks what it is opened for; for its own care team,
    // clinical use is offered as the obvious answer.
    assert!(browser.find_all("#player").await.is_empty());
    let asked = browser.text("#open").await;
    assert!(asked.contains("What are you opening this for?"), "{asked}");
    assert_eq!(
        browser
            .run("arguments[0](document.getElementById('open-purpose').value)")
            .await,
        json!("clinical")
    );
    browser.click("#open-button").await;
    browser
        .wait_for_path_starting(&format!("{recording_page}?open=clinical"))
        .await;
    check_page(&browser).await;

    // Playback, and seeking into the middle of it, through ranged reads under one grant.
    let played = browser
        .run(
            r#"const done = arguments[arguments.length - 1];
            const video = document.getElementById("player");
            video.muted = true;
            video.addEventListener("error", () => done({ error: video.error.code }));
            video.play().then(() => {
              video.addEventListener("seeked", () => done({ at: video.currentTime }), { once: true });
              video.currentTime = 1;
            }).catch(error => done({ error: String(error) }));"#,
        )
        .await;
    let at = played["at"].as_f64().unwrap_or_else(|| panic!("{played}"));
    assert!((0.9..2.0).contains(&at), "{played}");

    browser.visit(&recording_page).await;
    let history = browser.text("table[aria-labelledby=history]").await;
    assert!(history.contains("Registered"), "{history}");
    assert!(
        history.contains("they said they are happy with it"),
        "{history}"
    );
    assert!(
        history.contains("Opened for clinical or therapeutic use"),
        "{history}"
    );
    assert!(
        history.contains("Made in the browser: no copy was kept on the device"),
        "{history}"
    );
    assert!(browser.text("main").await.contains("Intact"));

    // X1 and C11: teaching needs a de-identified copy, whatever the consent says.
    let teaching = ask_the_panel(&browser, "teaching").await;
    assert!(
        teaching.contains("No, you may not use this recording for teaching"),
        "{teaching}"
    );
    assert!(teaching.contains("C11"), "{teaching}");
    let clinical = ask_the_panel(&browser, "clinical").await;
    assert!(
        clinical.contains("Yes, you may use this recording"),
        "{clinical}"
    );

    // C8: withdrawal through the form, then the same question is refused.
    browser.visit(&format!("/persons/{person}")).await;
    browser.click("table[aria-labelledby=consents] a").await;
    browser.wait_for_path_starting("/consents/").await;
    browser.click("a[href$='/withdraw']").await;
    browser.wait_for_path_starting("/consents/").await;
    check_page(&browser).await;
    browser.click("#record-withdrawal").await;
    let summary = browser.text(".error-summary").await;
    assert!(summary.contains("Say who withdrew"), "{summary}");
    assert!(summary.contains("recordings already made"), "{summary}");
    check_page(&browser).await;
    browser.click("#withdrawn_by").await;
    browser.click("#existing_recordings").await;
    browser.click("#record-withdrawal").await;
    browser.find("#withdrawals + ul").await;
    let withdrawals = browser.text("#withdrawals + ul").await;
    assert!(withdrawals.contains("Withdrawn from"), "{withdrawals}");
    check_page(&browser).await;
    // C8: the person's confirmation of the withdrawal, tagged like the consent's copy.
    let href = browser
        .find("#withdrawals + ul a[href$='copy.pdf']")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let (text, tagged) = pdf_text_and_tagging(&browser.download(&href).await);
    for words in [
        "Your withdrawal of consent",
        "Withdrawn from",
        "to be destroyed",
    ] {
        assert!(text.contains(words), "{words:?} missing from:\n{text}");
    }
    assert!(tagged, "the confirmation is not a tagged PDF");

    browser.visit(&recording_page).await;
    let after = ask_the_panel(&browser, "clinical").await;
    assert!(
        after.contains("No, you may not use this recording"),
        "{after}"
    );
    assert!(after.contains("C8"), "{after}");

    // C8, X1: trying to play it now is refused, with the rule and what to do next.
    browser.visit(&recording_page).await;
    browser.click("#open-button").await;
    browser
        .wait_for_path_starting(&format!("{recording_page}?open=clinical"))
        .await;
    assert!(
        browser.find_all("#player").await.is_empty(),
        "nothing plays"
    );
    let refused = browser.text("#open-refused + ul").await;
    let headline = browser.text("#open-refused").await;
    assert!(
        headline.contains("No, you may not open this recording for clinical"),
        "{headline}"
    );
    assert!(refused.contains("C8"), "{refused}");
    assert!(refused.contains("What to do"), "{refused}");
    check_page(&browser).await;

    // The dashboard shows today's session, with everyone asked.
    browser.visit("/").await;
    let today = browser.text("table[aria-labelledby=sessions-today]").await;
    assert!(today.contains("Speech therapy, week 1"), "{today}");
    assert!(today.contains("Everyone has answered"), "{today}");
    check_page(&browser).await;
    browser.close().await;
}

async fn x5_a_file_uploaded_in_the_browser_survives_a_dropped_connection(app: TestApp) {
    let person = app.person("Kit", "has_capacity").await;
    let session = session_today(&app, "individual", "Physiotherapy review", &[&person]).await;
    // Three and a half pieces of upload, so the upload is resumed part-way through.
    let video = mp4(3 * 1024 * 1024 + 512 * 1024, 31);
    let file = tempfile::Builder::new().suffix(".mp4").tempfile().unwrap();
    std::fs::write(file.path(), &video).unwrap();

    let browser = Browser::open(&app.serve().await).await;
    browser.visit(&format!("/sessions/{session}/upload")).await;
    sign_in_by_keyboard(&browser, &app).await;
    browser
        .wait_for_path(&format!("/sessions/{session}/upload"))
        .await;
    check_page(&browser).await;
    browser.click("#save").await;
    assert!(
        browser
            .text("#problems")
            .await
            .contains("Choose the file to upload")
    );
    browser.click("#purpose-clinical").await;
    browser.fill("#device", "TAB-0042").await;
    browser.fill("#location", "Gym 2").await;
    browser
        .find("#file")
        .await
        .send_keys(&file.path().display().to_string())
        .await
        .unwrap();
    // The second piece is lost on the way, as on a dropped connection.
    browser
        .run(
            r#"const done = arguments[arguments.length - 1];
            const real = window.fetch;
            let pieces = 0;
            window.fetch = (url, options) => {
              if (options && options.method === "PATCH" && ++pieces === 2) {
                return Promise.reject(new TypeError("network error"));
              }
              return real(url, options);
            };
            done(true);"#,
        )
        .await;
    browser.click("#save").await;
    browser.wait_for_path_starting("/recordings/").await;
    let stored = browser.text("main").await;
    assert!(stored.contains(&sha256_hex(&video)), "{stored}");
    assert!(stored.contains("Intact"), "{stored}");
    check_page(&browser).await;
    browser.close().await;
}

async fn x5_a_photograph_and_a_sound_recording_made_with_the_device(app: TestApp) {
    let person = app.person("Lou", "has_capacity").await;
    consent(
        &app,
        &person,
        &["health_and_wellbeing"],
        json!({"kind": "service", "service": "CAMHS-NORTH"}),
        30,
    )
    .await;
    let session = session_today(&app, "individual", "Dressing change", &[&person]).await;
    let capture = format!("/sessions/{session}/capture");
    let browser = Browser::open(&app.serve().await).await;
    browser.visit(&capture).await;
    sign_in_by_keyboard(&browser, &app).await;
    browser.wait_for_path(&capture).await;

    let fill_in = |kind: &'static str| {
        let browser = &browser;
        async move {
            browser.click(kind).await;
            browser.click("#purpose-health_and_wellbeing").await;
            browser.fill("#device", "TAB-0042").await;
            browser.fill("#location", "Treatment room").await;
            browser.click("#start-camera").await;
        }
    };
    fill_in("#kind-photograph").await;
    browser.wait_until_shown("#take-photograph").await;
    browser.click("#take-photograph").await;
    browser.wait_until_shown("#save").await;
    browser.click("#save").await;
    browser.wait_for_path_starting("/recordings/").await;
    assert!(browser.text("h1").await.starts_with("Photograph made"));
    assert!(browser.text("main").await.contains("image/jpeg"));
    open_for(&browser, "health_and_wellbeing").await;
    assert_eq!(browser.find_all("img#player").await.len(), 1);
    check_page(&browser).await;

    browser.visit(&capture).await;
    fill_in("#kind-audio").await;
    browser.wait_until_shown("#start-recording").await;
    browser.click("#start-recording").await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    browser.click("#stop-recording").await;
    browser.wait_until_shown("#save").await;
    browser.click("#save").await;
    browser.wait_for_path_starting("/recordings/").await;
    assert!(browser.text("h1").await.starts_with("Audio recording made"));
    open_for(&browser, "health_and_wellbeing").await;
    assert_eq!(browser.find_all("audio#player").await.len(), 1);
    check_page(&browser).await;
    browser.close().await;
}

on_both_backends!(app, needs [Browser]:
    x5_a_photograph_and_a_sound_recording_made_with_the_device,
    x1_a_session_recorded_in_the_browser_is_refused_for_teaching_and_after_withdrawal,
    x5_a_file_uploaded_in_the_browser_survives_a_dropped_connection,
);
