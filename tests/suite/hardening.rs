//! Holes an outside attack run found (issue 27): flooding the trail with forged requests, an id
//! that opens another service's record, a connection lifted by emergency access, a lockout that
//! tells which names exist, a search that missed people, and smaller spoofing and protocol gaps.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use custodian_testkit::{CLINICIAN, CLINICIAN_PASSWORD, TestApp};
use serde_json::json;

/// Audit events of `action` in the whole trail.
async fn audited(app: &TestApp, action: &str) -> usize {
    let mut tx = app.db.register.read().await.unwrap();
    tx.audit_events_after(0, 100_000)
        .await
        .unwrap()
        .iter()
        .filter(|event| event.action == action)
        .count()
}

/// Audit events other than reads of records (which a colleague's work writes).
async fn every_event(app: &TestApp) -> usize {
    let mut tx = app.db.register.read().await.unwrap();
    tx.audit_events_after(0, 100_000)
        .await
        .unwrap()
        .iter()
        .filter(|event| event.action != "person.viewed")
        .count()
}

/// A state-changing request with the sign-in cookie `cookie` and no anti-forgery token.
fn forged(cookie: &str) -> Request<Body> {
    Request::post("/api/v1/persons")
        .header(header::COOKIE, format!("custodian_session={cookie}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"given_name":"Forged"}"#))
        .unwrap()
}

async fn asvs_4_2_2_forged_requests_under_made_up_cookies_write_nothing_and_others_are_served(
    app: TestApp,
) {
    let person = app.person("Served", "has_capacity").await;
    // A live sign-in's cookie without its token is an attempt on someone: audited, as their own.
    let signed_in = app.sign_in(CLINICIAN, CLINICIAN_PASSWORD).await;
    let cookie = signed_in.cookie.unwrap();
    let live = cookie.split_once('=').unwrap().1.to_owned();
    let (status, _, _) = app.send_raw(forged(&live)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(audited(&app, "auth.forged_request_refused").await, 1);

    let events_before = every_event(&app).await;
    let attack = async {
        for n in 0..400 {
            let (status, _, _) = app.send_raw(forged(&format!("made-up-{n}"))).await;
            assert_eq!(status, StatusCode::FORBIDDEN);
        }
    };
    // Another member of staff reads a record throughout the attack.
    let colleague = async {
        let mut waits = Vec::new();
        for _ in 0..21 {
            let started = Instant::now();
            let read = app.get(&format!("/api/v1/persons/{person}")).await;
            waits.push(started.elapsed());
            assert_eq!(read.status, StatusCode::OK);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        waits.sort();
        waits[waits.len() / 2]
    };
    let ((), median) = tokio::join!(attack, colleague);
    assert!(
        median < Duration::from_millis(100),
        "a colleague waited {median:?} (median) during the attack"
    );
    assert_eq!(
        every_event(&app).await,
        events_before,
        "a cookie that is no one's sign-in writes nothing to the trail"
    );

    // Beyond a few a minute from one address even live cookies are refused unread.
    for _ in 0..60 {
        let (status, _, _) = app.send_raw(forged(&live)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let written = audited(&app, "auth.forged_request_refused").await;
    assert!(
        (1..=30).contains(&written),
        "{written} forged requests audited in a minute from one address"
    );
}

async fn s2_registering_a_person_another_service_cares_for_names_no_id_and_is_audited(
    app: TestApp,
) {
    let number = custodian_testkit::fixtures::nhs_number();
    let theirs = app
        .post(
            "/api/v1/persons",
            json!({"given_name": "Elsewhere", "family_name": "Testperson", "date_of_birth": "1980-02-29",
                   "nhs_number": number, "capacity": "has_capacity"}),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.body);
    let id = theirs.id();
    let other = practitioner_elsewhere(&app, "other.team").await;
    let again = app.as_(&other).post("/api/v1/persons", json!({"given_name": "Elsewhere", "family_name": "Testperson", "date_of_birth": "1980-02-29",
                   "nhs_number": number, "capacity": "has_capacity"}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert_eq!(again.code(), "person.registered_elsewhere");
    assert!(
        !again.body.to_string().contains(&id),
        "the id is not given to someone who may not see the record: {}",
        again.body
    );
    assert!(
        again.body["detail"]
            .as_str()
            .unwrap()
            .contains("a service you do not work in"),
        "{}",
        again.body
    );
    assert_eq!(audited(&app, "person.registration_refused").await, 1);
    // Nor would the id open the record: emergency access is for those on call (S3).
    let taken = take_emergency_access(&app, &other, &id).await;
    assert_eq!(taken.status, StatusCode::FORBIDDEN, "{}", taken.body);

    // Their own care team is told which record it is.
    let own = app
        .post(
            "/api/v1/persons",
            json!({"given_name": "Elsewhere", "family_name": "Testperson", "date_of_birth": "1980-02-29",
                   "nhs_number": number, "capacity": "has_capacity"}),
        )
        .await;
    assert_eq!(own.code(), "person.already_registered");
    assert!(own.body["detail"].as_str().unwrap().contains(&id));
}

/// A token for a new practitioner of another service than the person's.
async fn practitioner_elsewhere(app: &TestApp, username: &str) -> String {
    member_elsewhere(app, username, &["practitioner"]).await
}

/// A token for a new member of staff of another service than the person's, holding `roles`.
async fn member_elsewhere(app: &TestApp, username: &str, roles: &[&str]) -> String {
    app.staff_member(
        username,
        "a pass phrase from another team",
        roles,
        &["ADULT-MH-EAST"],
    )
    .await
}

/// A token for a new practitioner of another service, on call for emergencies.
async fn on_call_elsewhere(app: &TestApp, username: &str) -> String {
    member_elsewhere(app, username, &["practitioner", "on_call"]).await
}

/// `token`'s member declares a personal connection to `person`.
async fn declare_connection(app: &TestApp, token: &str, person: &str) {
    let declared = app
        .as_(token)
        .post(
            &format!("/api/v1/persons/{person}/connection"),
            json!({"kind": "family"}),
        )
        .await;
    assert_eq!(declared.status, StatusCode::NO_CONTENT, "{}", declared.body);
}

/// `token`'s member asks for emergency access to `person`, with a reason.
async fn take_emergency_access(
    app: &TestApp,
    token: &str,
    person: &str,
) -> custodian_testkit::Reply {
    app.as_(token)
        .post(
            &format!("/api/v1/persons/{person}/emergency-access"),
            json!({"reason": "Called to the ward at night for this person"}),
        )
        .await
}

async fn s3_a_personal_connection_is_not_lifted_by_emergency_access(app: TestApp) {
    let person = app.consenting_person("Kin", &["clinical"]).await;
    let connected = on_call_elsewhere(&app, "connected.member").await;
    declare_connection(&app, &connected, &person).await;
    let taken = take_emergency_access(&app, &connected, &person).await;
    assert_eq!(taken.status, StatusCode::FORBIDDEN, "{}", taken.body);
    assert_eq!(taken.body["requirement"], "S3");
    assert!(
        taken.body["detail"]
            .as_str()
            .unwrap()
            .contains("a colleague without one can take emergency access"),
        "{}",
        taken.body
    );

    // Emergency access taken before the connection is declared does not outlast it.
    let breaker = on_call_elsewhere(&app, "breaker.member").await;
    let taken = take_emergency_access(&app, &breaker, &person).await;
    assert_eq!(taken.status, StatusCode::CREATED, "{}", taken.body);
    let record = format!("/api/v1/persons/{person}");
    let seen = app.as_(&breaker).get(&record).await;
    assert_eq!(seen.status, StatusCode::OK);
    declare_connection(&app, &breaker, &person).await;
    let refused = app.as_(&breaker).get(&record).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
}

async fn asvs_2_2_1_unknown_names_lock_as_real_accounts_do(app: TestApp) {
    let answers = |username: &'static str| {
        let app = &app;
        async move {
            let mut statuses = Vec::new();
            let mut last = serde_json::Value::Null;
            let mut retry_after = None;
            for _ in 0..7 {
                let signed_in = app.sign_in(username, "not the password at all").await;
                statuses.push(signed_in.reply.status.as_u16());
                retry_after = signed_in
                    .reply
                    .headers
                    .get(header::RETRY_AFTER)
                    .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
                last = signed_in.reply.body;
            }
            (statuses, last, retry_after)
        }
    };
    let (real, real_last, real_wait) = answers(CLINICIAN).await;
    let (unknown, unknown_last, unknown_wait) = answers("no.such.member").await;
    assert_eq!(real, [401, 401, 401, 401, 401, 429, 429]);
    assert_eq!(unknown, real, "an unknown name is answered as a real one");
    assert_eq!(real_last["code"], "auth.locked_out");
    // The same words (the time it ends may fall in the next minute for the second name).
    let words = |body: &serde_json::Value| {
        body["detail"]
            .as_str()
            .unwrap()
            .split(" until ")
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(words(&unknown_last), words(&real_last));
    assert_eq!(unknown_last["code"], real_last["code"]);
    for wait in [real_wait, unknown_wait] {
        let wait = wait.expect("a lockout says when to come back (Retry-After)");
        assert!((15 * 60..=17 * 60).contains(&wait), "{wait}");
    }
}

async fn s2_search_limits_the_people_a_member_may_see_not_every_match(app: TestApp) {
    // Thirty people of another service match first by name; four of the practitioner's come after.
    let other = practitioner_elsewhere(&app, "other.team").await;
    for n in 0..30 {
        let registered = app
            .as_(&other)
            .post(
                "/api/v1/persons",
                json!({"given_name": format!("Aaron{n:02}"), "family_name": "Searchable",
                       "date_of_birth": "1980-02-29", "capacity": "has_capacity",
                       "local_identifier": format!("ELSEWHERE-{n:02}")}),
            )
            .await;
        assert_eq!(
            registered.status,
            StatusCode::CREATED,
            "{}",
            registered.body
        );
    }
    for n in 0..4 {
        let registered = app
            .post(
                "/api/v1/persons",
                json!({"given_name": format!("Zed{n}"), "family_name": "Searchable",
                       "date_of_birth": "1980-02-29", "capacity": "has_capacity",
                       "local_identifier": format!("OURS-{n}")}),
            )
            .await;
        assert_eq!(
            registered.status,
            StatusCode::CREATED,
            "{}",
            registered.body
        );
    }
    let found = app.get("/api/v1/persons?q=searchable&limit=20").await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    let names: Vec<&str> = found
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"]["given"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Zed0", "Zed1", "Zed2", "Zed3"]);
}

async fn invisible_characters_are_refused_in_names(app: TestApp) {
    for spoof in ["Alex \u{202E}nworB", "Al\u{200B}ex", "Alex\u{E0041}"] {
        let refused = app
            .post(
                "/api/v1/persons",
                json!({"given_name": spoof, "family_name": "Testperson", "date_of_birth": "1980-02-29",
                       "capacity": "has_capacity"}),
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{spoof:?}"
        );
        assert_eq!(refused.code(), "input.bad_character");
        assert!(
            refused.body["detail"]
                .as_str()
                .unwrap()
                .contains("invisible character U+"),
            "{}",
            refused.body
        );
    }
}

async fn protocol_errors_are_problem_details_with_the_right_status(app: TestApp) {
    let huge = format!(r#"{{"given_name":"{}"}}"#, "x".repeat(2 * 1024 * 1024));
    let request = app
        .request(Method::POST, "/api/v1/persons")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(huge))
        .unwrap();
    let reply = app.send(request).await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.body
    );
    assert_eq!(reply.code(), "input.too_large");

    let request = app
        .request(Method::PATCH, "/api/v1/persons")
        .body(Body::empty())
        .unwrap();
    let reply = app.send(request).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "application/problem+json"
    );
    assert_eq!(reply.code(), "http.method_not_allowed");

    let long = format!("/api/v1/persons?q={}", "x".repeat(10_000));
    let reply = app
        .send(app.request(Method::GET, &long).body(Body::empty()).unwrap())
        .await;
    assert_eq!(reply.status, StatusCode::URI_TOO_LONG);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "application/problem+json"
    );
    assert_eq!(reply.code(), "http.address_too_long");
    assert!(reply.headers.contains_key(header::X_CONTENT_TYPE_OPTIONS));
}

async fn the_register_file_and_data_folders_are_custodians_alone(app: TestApp) {
    use std::os::unix::fs::PermissionsExt;
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    if let Some(register) = app.db.sqlite_path() {
        assert_eq!(mode(&register), 0o600, "{}", register.display());
        assert_eq!(mode(register.parent().unwrap()), 0o700);
    }
    let objects = app.data.path().join("vault").join("objects");
    assert_eq!(mode(&objects), 0o700, "{}", objects.display());
}

/// Starts an upload of 1 MiB for `token`, sending no bytes: as an abandoned upload is left.
async fn abandoned_upload(app: &TestApp, token: &str, person: &str) -> custodian_testkit::Reply {
    started_upload(app, token, person, 1024 * 1024).await
}

/// The upload metadata of a clinical video of `person`, made five minutes ago.
fn video_of(person: &str) -> serde_json::Value {
    json!({
        "kind": "video", "service": "CAMHS-NORTH", "subjects": [person], "purposes": ["clinical"],
        "device": "TAB-0042", "made_at": custodian_testkit::fixtures::minutes_from_now(-5),
        "location": "Therapy room 2",
    })
}

/// A token for a new practitioner of the clinician's service, to upload as.
async fn uploader(app: &TestApp, username: &str) -> String {
    app.staff_member(
        username,
        "a pass phrase for uploading",
        &["practitioner"],
        &["CAMHS-NORTH"],
    )
    .await
}

/// Starts an upload of `length` bytes for `token`, sending none yet.
async fn started_upload(
    app: &TestApp,
    token: &str,
    person: &str,
    length: u64,
) -> custodian_testkit::Reply {
    use base64::Engine;
    let recording = video_of(person);
    let metadata = format!(
        "recording {}",
        base64::engine::general_purpose::STANDARD.encode(recording.to_string())
    );
    let request = Request::post("/api/v1/uploads")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header("tus-resumable", "1.0.0")
        .header("upload-length", length.to_string())
        .header("upload-metadata", metadata)
        .body(Body::empty())
        .unwrap();
    app.send(request).await
}

async fn asvs_12_1_3_abandoned_uploads_are_capped_per_member_and_in_all_and_expire(app: TestApp) {
    let person = app.person("Uploaded", "has_capacity").await;
    let cap = custodian_app::media::UPLOADS_PER_MEMBER;
    for _ in 0..cap {
        let started = abandoned_upload(&app, &app.token, &person).await;
        assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    }
    let refused = abandoned_upload(&app, &app.token, &person).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.body
    );
    assert_eq!(refused.code(), "upload.too_many_unfinished");
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("finish or cancel one")
    );
    assert!(refused.headers.contains_key(header::RETRY_AFTER));

    // Others fill the server's staging; then it refuses everyone, saying so, and still
    // answers a colleague's read at once.
    let in_all = custodian_app::media::UPLOADS_IN_ALL;
    let mut others = Vec::new();
    let mut open = cap;
    let mut n = 0;
    while open < in_all {
        let token = uploader(&app, &format!("uploader.{n}")).await;
        for _ in 0..cap.min(in_all - open) {
            let started = abandoned_upload(&app, &token, &person).await;
            assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
            open += 1;
        }
        others.push(token);
        n += 1;
    }
    let late = uploader(&app, "late.uploader").await;
    let full = abandoned_upload(&app, &late, &person).await;
    assert_eq!(
        full.status,
        StatusCode::INSUFFICIENT_STORAGE,
        "{}",
        full.body
    );
    assert_eq!(full.code(), "upload.server_full");
    assert!(
        full.body["detail"]
            .as_str()
            .unwrap()
            .contains("try again in a few minutes")
    );
    let started = Instant::now();
    let read = app.get(&format!("/api/v1/persons/{person}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "{:?}",
        started.elapsed()
    );

    // An hour without bytes ends them all, their staged bytes with them.
    app.clock.advance(time::Duration::minutes(61));
    let again = abandoned_upload(&app, &late, &person).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    let staged = std::fs::read_dir(app.data.path().join("vault").join("staging"))
        .map(|entries| entries.count())
        .unwrap_or(0);
    assert!(staged <= 1, "{staged} staged files remain");
}

/// Files this process holds open in `folder`.
fn open_files_in(folder: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter(|target| target.starts_with(folder))
        .collect()
}

async fn asvs_12_1_3_an_upload_waiting_for_bytes_holds_no_open_file(app: TestApp) {
    let person = app.consenting_person("Waiting", &["clinical"]).await;
    let staging = app.data.path().join("vault").join("staging");
    for _ in 0..3 {
        let started = abandoned_upload(&app, &app.token, &person).await;
        assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    }
    let video = video_of(&person);
    let whole = custodian_testkit::fixtures::mp4(300_000, 27);
    let partly = app
        .upload_declaring(&video, whole.len() as u64, whole[..100_000].to_vec())
        .await;
    assert_eq!(partly.status, StatusCode::CREATED, "{}", partly.body);
    assert_eq!(partly.headers["upload-offset"], "100000");
    assert_eq!(std::fs::read_dir(&staging).unwrap().count(), 4);
    assert_eq!(open_files_in(&staging), Vec::<std::path::PathBuf>::new());

    // Resumed, the file opens again where it stood, and the recording plays back whole.
    let location = partly.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let rest = app
        .send(
            app.request(Method::PATCH, &location)
                .header("tus-resumable", "1.0.0")
                .header("upload-offset", "100000")
                .header(header::CONTENT_TYPE, "application/offset+octet-stream")
                .body(Body::from(whole[100_000..].to_vec()))
                .unwrap(),
        )
        .await;
    assert_eq!(rest.status, StatusCode::NO_CONTENT, "{}", rest.body);
    let recording = rest.headers["custodian-recording-id"].to_str().unwrap();
    let (status, _, played) = app
        .send_raw(
            app.request(
                Method::GET,
                &format!("/api/v1/recordings/{recording}/media?purpose=clinical"),
            )
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(played == whole, "the resumed upload plays back as sent");
    assert_eq!(open_files_in(&staging), Vec::<std::path::PathBuf>::new());
}

async fn asvs_12_1_3_a_members_unfinished_bytes_are_capped(app: TestApp) {
    let person = app.person("Large", "has_capacity").await;
    let most = custodian_testkit::TEST_MAX_UPLOAD;
    let first = started_upload(&app, &app.token, &person, most / 2 + 1).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let second = started_upload(&app, &app.token, &person, most / 2).await;
    assert_eq!(
        second.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        second.body
    );
    assert_eq!(second.code(), "upload.too_much_unfinished");
    assert!(
        second.body["detail"]
            .as_str()
            .unwrap()
            .contains("finish or cancel one"),
        "{}",
        second.body
    );
    // A colleague's upload is theirs to make.
    let colleague = uploader(&app, "colleague.uploader").await;
    let theirs = started_upload(&app, &colleague, &person, most / 2).await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.body);
    // Cancelled, the first makes room.
    let location = first.headers[header::LOCATION].to_str().unwrap().to_owned();
    let cancelled = app
        .send(
            app.request(Method::DELETE, &location)
                .header("tus-resumable", "1.0.0")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        cancelled.status,
        StatusCode::NO_CONTENT,
        "{}",
        cancelled.body
    );
    let again = started_upload(&app, &app.token, &person, most / 2).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
}

async fn asvs_12_1_3_uploads_promised_more_than_the_disk_holds_are_refused(
    backend: custodian_testkit::Backend,
) {
    let app = TestApp::with_max_upload(backend, u64::MAX / 4).await;
    let person = app.person("Disk", "has_capacity").await;
    let staging = app.data.path().join("vault").join("staging");
    let space = custodian_vault::ingest::staging_space(&staging).unwrap();
    assert!(space > 0, "the disk has room for uploads");
    let too_large = started_upload(&app, &app.token, &person, space + (1 << 30)).await;
    assert_eq!(
        too_large.status,
        StatusCode::INSUFFICIENT_STORAGE,
        "{}",
        too_large.body
    );
    assert_eq!(too_large.code(), "upload.disk_full");
    assert!(too_large.headers.contains_key(header::RETRY_AFTER));

    // Room is promised to an upload when it starts, before any byte is sent: a second that
    // would not fit beside it is refused, though the disk is still as empty as before.
    let share = space / 5 * 3;
    let first = started_upload(&app, &app.token, &person, share).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let colleague = uploader(&app, "disk.uploader").await;
    let second = started_upload(&app, &colleague, &person, share).await;
    assert_eq!(second.code(), "upload.disk_full", "{}", second.body);
    let small = started_upload(&app, &colleague, &person, 1024 * 1024).await;
    assert_eq!(small.status, StatusCode::CREATED, "{}", small.body);
}

mod disk {
    use super::asvs_12_1_3_uploads_promised_more_than_the_disk_holds_are_refused;
    on_both_backends!(backend: asvs_12_1_3_uploads_promised_more_than_the_disk_holds_are_refused);
}

async fn asvs_2_1_7_guessable_passwords_are_refused_with_advice_and_a_change_revokes_tokens(
    app: TestApp,
) {
    let cookie = app.cookie_for(CLINICIAN, CLINICIAN_PASSWORD).await;
    let change = |new: &'static str| {
        let app = &app;
        let cookie = cookie.clone();
        async move {
            app.call_with(
                Method::POST,
                "/api/v1/auth/password",
                &[(header::COOKIE.as_str(), cookie.as_str())],
                Some(json!({"current_password": CLINICIAN_PASSWORD, "new_password": new})),
            )
            .await
        }
    };
    for weak in [
        "123456789012",
        "              ",
        "aaaaaaaaaaaa",
        "trustno1trustno1",
    ] {
        let refused = change(weak).await;
        assert_eq!(
            refused.code(),
            "auth.weak_password",
            "{weak:?}: {}",
            refused.body
        );
        assert!(
            !refused.body["detail"].as_str().unwrap().is_empty(),
            "{}",
            refused.body
        );
    }
    // The practitioner's API token still works until the password changes; then it does not.
    assert_eq!(app.get("/api/v1/auth/me").await.status, StatusCode::OK);
    let changed = change("a kettle of fish on a wet tuesday").await;
    assert!(changed.status.is_success(), "{}", changed.body);
    let after = app.get("/api/v1/auth/me").await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.body);
    let mut tx = app.db.register.read().await.unwrap();
    let trail = tx.audit_events_after(0, 100_000).await.unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.action == "auth.password_changed"
                && e.detail.contains("\"tokens_revoked\":1")),
        "the change says how many tokens it revoked"
    );
}

async fn s2_one_administrator_cannot_hand_clinical_media_to_anyone(app: TestApp) {
    for (name, text) in [
        ("everything", "permit (principal, action, resource);"),
        (
            "communications-play",
            "permit (principal in Custodian::Role::\"communications\", action == Custodian::Action::\"play_recording\", resource);",
        ),
    ] {
        let refused = app
            .as_(&app.admin_token)
            .put(&format!("/api/v1/policies/{name}"), json!({ "text": text }))
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert_eq!(refused.code(), "access.invalid_policy");
        assert!(
            refused.body["detail"]
                .as_str()
                .unwrap()
                .contains("communications team play recordings made for clinical care"),
            "{}",
            refused.body
        );
    }
    let none = app.as_(&app.admin_token).get("/api/v1/policies").await;
    assert_eq!(
        none.body["local"].as_array().map(Vec::len),
        Some(0),
        "{}",
        none.body
    );
    // The document's example is one an organisation could adopt as it stands.
    let document = app.get("/api/v1/openapi.json").await.body;
    let example = document
        .pointer("/components/schemas/PolicyText/properties/text/example")
        .and_then(serde_json::Value::as_str)
        .expect("the document gives an example policy");
    let adopted = app.adopt_policy("example", example).await;
    assert_eq!(adopted.status, StatusCode::NO_CONTENT, "{}", adopted.body);

    // Nor can one person put a policy in force alone, even holding both roles: the one who
    // proposed a change may not approve it.
    let both = app
        .staff_member(
            "admin.and.ig",
            "a pass phrase for two hats",
            &["administrator", "information_governance_lead"],
            &[],
        )
        .await;
    let proposed = app
        .as_(&both)
        .put("/api/v1/policies/alone", json!({ "text": example }))
        .await;
    assert_eq!(proposed.status, StatusCode::ACCEPTED, "{}", proposed.body);
    let approved = app
        .as_(&both)
        .post_empty("/api/v1/policy-proposals/alone/approval")
        .await;
    assert_eq!(approved.status, StatusCode::FORBIDDEN, "{}", approved.body);
    assert_eq!(approved.code(), "access.own_proposal");
    assert_eq!(
        app.approve_policy("alone").await.status,
        StatusCode::NO_CONTENT
    );
}

on_both_backends!(app:
    asvs_4_2_2_forged_requests_under_made_up_cookies_write_nothing_and_others_are_served,
    s2_registering_a_person_another_service_cares_for_names_no_id_and_is_audited,
    s3_a_personal_connection_is_not_lifted_by_emergency_access,
    asvs_2_2_1_unknown_names_lock_as_real_accounts_do,
    s2_search_limits_the_people_a_member_may_see_not_every_match,
    invisible_characters_are_refused_in_names,
    protocol_errors_are_problem_details_with_the_right_status,
    the_register_file_and_data_folders_are_custodians_alone,
    asvs_12_1_3_abandoned_uploads_are_capped_per_member_and_in_all_and_expire,
    asvs_12_1_3_an_upload_waiting_for_bytes_holds_no_open_file,
    asvs_12_1_3_a_members_unfinished_bytes_are_capped,
    asvs_2_1_7_guessable_passwords_are_refused_with_advice_and_a_change_revokes_tokens,
    s2_one_administrator_cannot_hand_clinical_media_to_anyone,
);
