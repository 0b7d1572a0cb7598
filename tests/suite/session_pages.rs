//! Sessions, withdrawal, recordings and the dashboard as pages: problems named, answers recorded.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use custodian_testkit::TestApp;
use custodian_testkit::fixtures::{minutes_from_now, mp4};
use serde_json::json;

use crate::decisions::consent;
use crate::pages::{form, get, page, signed_in};

/// A form sent with the sign-in cookie.
fn send(path: &str, cookie: &str, fields: &[(&str, &str)]) -> Request<Body> {
    let mut request = form(path, fields);
    request
        .headers_mut()
        .insert(header::COOKIE, cookie.parse().unwrap());
    request
}

/// A session of `kind` with `participants`, started through the API a minute ago; its id.
pub(crate) async fn session_today(
    app: &TestApp,
    kind: &str,
    title: &str,
    participants: &[&str],
) -> String {
    let reply = app
        .post(
            "/api/v1/sessions",
            json!({
                "kind": kind,
                "service": "CAMHS-NORTH",
                "title": title,
                "starts_at": minutes_from_now(-1),
                "participants": participants,
            }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.id()
}

async fn c5_the_dashboard_lists_todays_sessions_and_who_is_still_to_be_asked(app: TestApp) {
    let dan = app.person("Dan", "has_capacity").await;
    let eve = app.person("Eve", "has_capacity").await;
    let session = session_today(&app, "family", "Family work, week 2", &[&dan, &eve]).await;
    let cookie = signed_in(&app).await;

    let (status, _, html) = page(&app, get("/", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Family work, week 2"), "{html}");
    assert!(html.contains("Dan Testperson"), "{html}");
    assert!(html.contains("Eve Testperson"), "{html}");

    // Dan says he is still willing, through the session page's form.
    let (status, headers, _) = page(
        &app,
        send(
            &format!("/sessions/{session}/confirmations"),
            &cookie,
            &[("person", &dan), ("willing", "yes")],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[header::LOCATION],
        format!("/sessions/{session}#participants").as_str()
    );
    let (_, _, html) = page(&app, get(&format!("/sessions/{session}"), Some(&cookie))).await;
    assert!(html.contains("tag--green\">Yes,"), "{html}");

    let (_, _, html) = page(&app, get("/", Some(&cookie))).await;
    let still_to_ask = html.split("sessions-today").nth(2).unwrap_or_default();
    assert!(still_to_ask.contains("Eve Testperson"), "{html}");
    assert!(!still_to_ask.contains("Dan Testperson"), "{html}");

    // Each person's page says what is due today.
    let (_, _, html) = page(&app, get(&format!("/persons/{eve}"), Some(&cookie))).await;
    assert!(html.contains("Due today"), "{html}");
    assert!(
        html.contains(&format!("href=\"/sessions/{session}\">Family work, week 2")),
        "{html}"
    );
    let (_, _, html) = page(&app, get(&format!("/persons/{dan}"), Some(&cookie))).await;
    assert!(!html.contains("Due today"), "{html}");
}

async fn c9_a_stop_is_recorded_with_its_choice_and_a_missing_choice_is_named(app: TestApp) {
    let fay = app.person("Fay", "has_capacity").await;
    let session = session_today(&app, "individual", "Family work, week 2", &[&fay]).await;
    let cookie = signed_in(&app).await;
    let path = format!("/sessions/{session}/stops");

    let (status, _, html) = page(&app, send(&path, &cookie, &[("choice", "")])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("<a href=\"#choice\">Choose what happens to the recording</a>"),
        "{html}"
    );

    let (status, _, _) = page(
        &app,
        send(
            &path,
            &cookie,
            &[
                ("choice", "discontinue_and_delete"),
                ("requested_by", &fay),
                ("note", ""),
            ],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, html) = page(&app, get(&format!("/sessions/{session}"), Some(&cookie))).await;
    assert!(
        html.contains("Stop and delete the recording, asked for by Fay Testperson"),
        "{html}"
    );
}

async fn c8_the_withdrawal_form_names_each_problem_and_keeps_what_was_typed(app: TestApp) {
    let gus = app.person("Gus", "has_capacity").await;
    let consent = consent(
        &app,
        &gus,
        &["clinical", "teaching"],
        json!({"kind": "service", "service": "CAMHS-NORTH"}),
        30,
    )
    .await;
    let cookie = signed_in(&app).await;
    let path = format!("/consents/{consent}/withdraw");

    let (status, _, html) = page(&app, get(&path, Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("value=\"teaching\" checked"), "{html}");

    let typed = [
        ("purposes", "teaching"),
        ("date", "yesterday"),
        ("time", "14:30"),
        ("note", "<b>phoned the team</b>"),
    ];
    let (status, _, html) = page(&app, send(&path, &cookie, &typed)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for problem in [
        "Say who withdrew the consent",
        "Say what they want done with recordings already made",
        "such as 2026-11-20 and 14:30",
    ] {
        assert!(html.contains(problem), "{problem} missing from {html}");
    }
    assert!(
        html.contains("&#60;b&#62;phoned the team&#60;/b&#62;"),
        "{html}"
    );
    assert!(!html.contains("value=\"clinical\" checked"), "{html}");

    let now = custodian_app::london::in_london(app.custodian.now());
    let date = now.date().to_string();
    let time = format!("{:02}:{:02}", now.hour(), now.minute());
    let (status, headers, _) = page(
        &app,
        send(
            &path,
            &cookie,
            &[
                ("purposes", "teaching"),
                ("withdrawn_by", "person"),
                ("date", &date),
                ("time", &time),
                ("existing_recordings", "hand_over"),
            ],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[header::LOCATION],
        format!("/consents/{consent}").as_str()
    );
    let (_, _, html) = page(&app, get(&format!("/consents/{consent}"), Some(&cookie))).await;
    assert!(html.contains("Withdrawn from teaching on"), "{html}");
    assert!(
        html.contains("hand the recordings over to the person"),
        "{html}"
    );
    let (_, _, html) = page(&app, get(&format!("/persons/{gus}"), Some(&cookie))).await;
    assert!(html.contains("Withdrawn"), "{html}");
}

async fn c8_a_consent_withdrawn_the_moment_it_was_given_is_withdrawn_now(app: TestApp) {
    let pia = app.person("Pia", "has_capacity").await;
    let consent = consent(
        &app,
        &pia,
        &["clinical"],
        json!({"kind": "service", "service": "CAMHS-NORTH"}),
        0,
    )
    .await;
    let cookie = signed_in(&app).await;
    let path = format!("/consents/{consent}/withdraw");
    let (_, _, html) = page(&app, get(&path, Some(&cookie))).await;
    let marker = "name=\"shown\" value=\"";
    let start = html.find(marker).expect("the form says when it was shown") + marker.len();
    let shown = &html[start..start + 16];
    let (date, time) = shown.split_once(' ').unwrap();
    // The minute shown began before the consent was signed; left as shown, it means now.
    let (status, headers, html) = page(
        &app,
        send(
            &path,
            &cookie,
            &[
                ("shown", shown),
                ("purposes", "clinical"),
                ("withdrawn_by", "person"),
                ("date", date),
                ("time", time),
                ("existing_recordings", "destroy"),
            ],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(
        headers[header::LOCATION],
        format!("/consents/{consent}").as_str()
    );
}

async fn r1_a_recording_whose_media_never_arrived_is_on_the_dashboard(app: TestApp) {
    let hal = app.person("Hal", "has_capacity").await;
    let reply = app
        .post(
            "/api/v1/recordings",
            json!({
                "kind": "video",
                "service": "CAMHS-NORTH",
                "subjects": [hal],
                "purposes": ["clinical"],
                "device": "TAB-0042",
                "made_at": minutes_from_now(-5),
                "location": "Clinic room 3",
            }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let recording = reply.id();
    let cookie = signed_in(&app).await;
    let (_, _, html) = page(&app, get("/", Some(&cookie))).await;
    assert!(html.contains("the media never arrived"), "{html}");
    assert!(html.contains(&format!("/recordings/{recording}")), "{html}");

    let (status, _, html) = page(
        &app,
        get(&format!("/recordings/{recording}"), Some(&cookie)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No media has been stored"), "{html}");
}

async fn r6_a_recording_failing_its_integrity_check_shows_on_its_page_and_the_dashboard(
    app: TestApp,
) {
    let ivy = app.consenting_person("Ivy", &["clinical"]).await;
    let reply = app
        .upload(
            &json!({
                "kind": "video",
                "service": "CAMHS-NORTH",
                "subjects": [ivy],
                "purposes": ["clinical"],
                "device": "TAB-0042",
                "made_at": minutes_from_now(-5),
                "location": "Clinic room 3",
            }),
            mp4(200_000, 21),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let recording = reply.headers["custodian-recording-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let cookie = signed_in(&app).await;
    let (_, _, html) = page(
        &app,
        get(&format!("/recordings/{recording}"), Some(&cookie)),
    )
    .await;
    assert!(html.contains("tag--green\">Intact"), "{html}");

    // Damage the stored object, then read it: the read fails its check and is audited.
    let stored = std::fs::read_dir(app.data.path().join("vault/objects").join(&recording[..2]))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&stored).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&stored, &bytes).unwrap();
    let (status, _, _) = app
        .send_raw(
            app.request(
                axum::http::Method::GET,
                &format!("/api/v1/recordings/{recording}/media?purpose=clinical"),
            )
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);

    let (_, _, html) = page(
        &app,
        get(&format!("/recordings/{recording}"), Some(&cookie)),
    )
    .await;
    assert!(html.contains("tag--red\">Failed a check"), "{html}");
    assert!(html.contains("Failed its integrity check"), "{html}");
    let (_, _, html) = page(&app, get("/", Some(&cookie))).await;
    assert!(html.contains("Failed an integrity check"), "{html}");
    assert!(html.contains(&format!("/recordings/{recording}")), "{html}");
}

async fn x1_the_decision_panel_answers_with_reasons_and_names_a_bad_question(app: TestApp) {
    let jo = app.person("Jo", "has_capacity").await;
    let reply = app
        .post(
            "/api/v1/recordings",
            json!({
                "kind": "photograph",
                "service": "CAMHS-NORTH",
                "subjects": [jo],
                "purposes": ["clinical"],
                "device": "TAB-0042",
                "made_at": minutes_from_now(-5),
                "location": "Clinic room 3",
            }),
        )
        .await;
    let recording = reply.id();
    let cookie = signed_in(&app).await;
    let path = format!("/recordings/{recording}");

    let (status, _, html) = page(
        &app,
        get(&format!("{path}?purpose=clinical"), Some(&cookie)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("No, you may not use this recording for clinical or therapeutic use."),
        "{html}"
    );
    assert!(html.contains("What to do:"), "{html}");
    assert!(
        html.contains("Asked about use for clinical or therapeutic use: refused"),
        "{html}"
    );

    let (status, _, html) = page(&app, get(&format!("{path}?purpose=gossip"), Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<a href=\"#purpose\">Choose a purpose from the list</a>"),
        "{html}"
    );
    let (_, _, html) = page(
        &app,
        get(
            &format!("{path}?purpose=research&study=%3Cscript%3E"),
            Some(&cookie),
        ),
    )
    .await;
    assert!(html.contains("value=\"&#60;script&#62;\""), "{html}");
    assert!(!html.contains("<script>"), "{html}");
}

/// A form with a file, as a browser without scripts posts it.
fn multipart(path: &str, cookie: &str, fields: &[(&str, &str)], file: &[u8]) -> Request<Body> {
    let token = custodian_testkit::form_token_for(cookie).unwrap_or_default();
    let fields = [&[("csrf", token.as_str())], fields].concat();
    multipart_as_sent(path, cookie, &fields, file)
}

/// A form with a file, exactly as given (a forged one carries no token).
fn multipart_as_sent(
    path: &str,
    cookie: &str,
    fields: &[(&str, &str)],
    file: &[u8],
) -> Request<Body> {
    let boundary = "----custodian-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"visit.mp4\"\r\nContent-Type: video/mp4\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Request::post(path)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header(header::CONTENT_LENGTH, body.len())
        .header(header::COOKIE, cookie)
        .body(Body::from(body))
        .unwrap()
}

async fn x5_r8_an_upload_form_posted_without_scripts_reaches_the_vault_whole_or_not_at_all(
    app: TestApp,
) {
    let max = app.consenting_person("Max", &["clinical"]).await;
    let session = session_today(&app, "individual", "Family work, week 2", &[&max]).await;
    let cookie = signed_in(&app).await;
    let path = format!("/sessions/{session}/upload");
    let video = mp4(600_000, 41);
    let (date, time) = {
        let now = custodian_app::london::in_london(app.custodian.now());
        (
            now.date().to_string(),
            format!("{:02}:{:02}", now.hour(), now.minute()),
        )
    };

    let (status, _, html) = page(
        &app,
        multipart(
            &path,
            &cookie,
            &[("kind", "video"), ("date", &date), ("time", &time)],
            &video,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for problem in [
        "Choose what it is for",
        "Enter the organisation device",
        "Choose the file again",
    ] {
        assert!(html.contains(problem), "{problem} missing from {html}");
    }

    let complete = [
        ("kind", "video"),
        ("purposes", "clinical"),
        ("device", "TAB-0042"),
        ("location", "Clinic room 3"),
        ("date", date.as_str()),
        ("time", time.as_str()),
    ];
    let (status, _, html) = page(
        &app,
        multipart(&path, &cookie, &complete, b"just some notes, not media"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("href=\"#file\""), "{html}");
    let recordings = app.get(&format!("/api/v1/persons/{max}/recordings")).await;
    assert_eq!(
        recordings.body.as_array().unwrap().len(),
        0,
        "nothing half-registered"
    );

    // A text field is read only so far: a huge one is refused, not held in memory whole.
    let huge_device = "D".repeat(2 * 1024 * 1024);
    let mut oversized = complete;
    oversized[2] = ("device", huge_device.as_str());
    let (status, _, html) = page(&app, multipart(&path, &cookie, &oversized, &video)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("This is longer than the 4 KiB a field may hold"),
        "{}",
        &html[..html.len().min(4000)]
    );
    let many: Vec<(&str, &str)> = (0..100).map(|_| ("location", "Clinic room 3")).collect();
    let (status, _, html) = page(&app, multipart(&path, &cookie, &many, &video)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("more fields than"), "{html}");

    // A form from elsewhere, without the sign-in's token, stores nothing.
    let (status, _, _) = page(&app, multipart_as_sent(&path, &cookie, &complete, &video)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let recordings = app.get(&format!("/api/v1/persons/{max}/recordings")).await;
    assert_eq!(
        recordings.body.as_array().unwrap().len(),
        0,
        "nothing stored"
    );

    let (status, headers, _) = page(&app, multipart(&path, &cookie, &complete, &video)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let shown = headers[header::LOCATION].to_str().unwrap().to_owned();
    let (_, _, html) = page(&app, get(&shown, Some(&cookie))).await;
    assert!(
        html.contains(&custodian_testkit::fixtures::sha256_hex(&video)),
        "{html}"
    );
    assert!(html.contains("video/mp4"), "{html}");

    // R8: until the copy on the capture device is confirmed deleted, the page and the dashboard ask.
    assert!(
        html.contains("Delete the copy on the device it was made on"),
        "{html}"
    );
    assert!(html.contains("the copy on TAB-0042"), "{html}");
    let (_, _, dashboard) = page(&app, get("/", Some(&cookie))).await;
    assert!(
        dashboard.contains(&format!("{shown}#device")),
        "{dashboard}"
    );
    let (status, _, _) = page(
        &app,
        send(&format!("{shown}/device-copy-deleted"), &cookie, &[]),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, html) = page(&app, get(&shown, Some(&cookie))).await;
    assert!(
        !html.contains("Delete the copy on the device it was made on"),
        "{html}"
    );
    assert!(
        html.contains("The copy on the capture device was deleted"),
        "{html}"
    );
    // However often it is played afterwards, the confirmation stands: it is read from the
    // whole history, not the page's latest events.
    let recording = shown.trim_start_matches("/recordings/");
    for _ in 0..60 {
        let request = app
            .request(
                axum::http::Method::GET,
                &format!("/api/v1/recordings/{recording}/media?purpose=clinical"),
            )
            .header(header::RANGE, "bytes=0-99")
            .body(Body::empty())
            .unwrap();
        assert_eq!(app.send_raw(request).await.0, StatusCode::PARTIAL_CONTENT);
    }
    let (_, _, html) = page(&app, get(&shown, Some(&cookie))).await;
    assert!(
        !html.contains("Delete the copy on the device it was made on"),
        "{html}"
    );
    let (_, _, dashboard) = page(&app, get("/", Some(&cookie))).await;
    assert!(
        !dashboard.contains(&format!("{shown}#device")),
        "{dashboard}"
    );
}

on_both_backends!(app:
    c8_a_consent_withdrawn_the_moment_it_was_given_is_withdrawn_now,
    x5_r8_an_upload_form_posted_without_scripts_reaches_the_vault_whole_or_not_at_all,
    c5_the_dashboard_lists_todays_sessions_and_who_is_still_to_be_asked,
    c9_a_stop_is_recorded_with_its_choice_and_a_missing_choice_is_named,
    c8_the_withdrawal_form_names_each_problem_and_keeps_what_was_typed,
    r1_a_recording_whose_media_never_arrived_is_on_the_dashboard,
    r6_a_recording_failing_its_integrity_check_shows_on_its_page_and_the_dashboard,
    x1_the_decision_panel_answers_with_reasons_and_names_a_bad_question,
);
