//! The media vault through the API: encrypted storage, resumable uploads, playback with ranges,
//! refusals that leave nothing behind, integrity on read, destruction with certificates.

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use custodian_app::vault::{KeySource, VaultSettings};
use custodian_app::{AppError, Custodian, SystemClock};
use custodian_core::ids::RecordingId;
use custodian_testkit::fixtures::{jpeg, minutes_from_now, mp4};
use custodian_testkit::{Backend, TestApp};
use serde_json::{Value, json};

/// Runs each story on SQLite and PostgreSQL with local files, and on SQLite with S3 (Garage).
macro_rules! vault_stories {
    ($($story:ident),+ $(,)?) => {
        mod sqlite_local {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    super::$story(custodian_testkit::TestApp::new(custodian_testkit::Backend::Sqlite).await).await
                }
            )+
        }
        mod postgres_local {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    if custodian_testkit::skip_without(custodian_testkit::Needs::Postgres).await {
                        return;
                    }
                    super::$story(custodian_testkit::TestApp::new(custodian_testkit::Backend::Postgres).await).await
                }
            )+
        }
        mod sqlite_s3 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    if custodian_testkit::skip_without(custodian_testkit::Needs::Garage).await {
                        return;
                    }
                    let bucket = tokio::task::spawn_blocking(|| custodian_testkit::Garage::shared().bucket()).await.unwrap();
                    let storage = custodian_app::vault::StorageChoice::S3(bucket);
                    super::$story(custodian_testkit::TestApp::with_storage(custodian_testkit::Backend::Sqlite, storage).await).await
                }
            )+
        }
    };
}

fn video(subject: &str) -> Value {
    json!({
        "kind": "video", "service": "CAMHS-NORTH", "subjects": [subject], "purposes": ["clinical"],
        "device": "TAB-0042", "made_at": minutes_from_now(-30), "location": "Therapy room 2",
    })
}

/// Uploads `bytes` as a video of a new person; returns the recording's id.
async fn upload_video(app: &TestApp, bytes: Vec<u8>) -> String {
    let person = app.consenting_person("Ada", &["clinical"]).await;
    let reply = app.upload(&video(&person), bytes).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.headers["custodian-recording-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// Reads a recording's media for clinical use, as the clinician.
async fn media(
    app: &TestApp,
    recording: &str,
    range: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    app.media(recording, "clinical", range).await
}

/// How many objects storage holds.
async fn stored_objects(app: &TestApp) -> usize {
    app.custodian.vault().storage().list().await.unwrap().len()
}

/// How many uploads are staged.
fn staged(app: &TestApp) -> usize {
    std::fs::read_dir(app.data.path().join("vault/staging")).map_or(0, |entries| entries.count())
}

async fn s1_uploads_are_stored_encrypted_and_read_back_exactly(app: TestApp) {
    let original = mp4(300_000, 1);
    let id = upload_video(&app, original.clone()).await;
    let record = app.get(&format!("/api/v1/recordings/{id}")).await;
    assert_eq!(
        record.body["media"]["content_type"], "video/mp4",
        "{}",
        record.body
    );
    assert_eq!(record.body["media"]["size"], 300_000);
    let sha = custodian_testkit::fixtures::sha256_hex(&original);
    assert_eq!(
        record.body["media"]["sha256"], sha,
        "the original's hash is registered (R6)"
    );

    let (status, headers, bytes) = media(&app, &id, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(bytes == original, "the media reads back exactly");
    assert_eq!(headers[header::CONTENT_TYPE], "video/mp4");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"recording-{id}.mp4\"")
    );

    // What storage holds is an age file that shares nothing with the plaintext (S1).
    let storage = app.custodian.vault().storage();
    let objects = storage.list().await.unwrap();
    assert_eq!(objects.len(), 1);
    let key = objects[0].key.clone();
    let stored = tokio::task::spawn_blocking(move || {
        let mut reader = storage.open(&key).unwrap();
        let mut stored = Vec::new();
        std::io::Read::read_to_end(&mut reader, &mut stored).unwrap();
        stored
    })
    .await
    .unwrap();
    assert!(stored.starts_with(b"age-encryption.org/v1\n"));
    assert!(
        !stored.windows(32).any(|w| w == &original[1000..1032]),
        "no plaintext in storage"
    );
    assert_eq!(staged(&app), 0, "nothing left in staging");

    // Every use is audited with its purpose (S2, X1).
    let trail = app.get(&format!("/api/v1/recordings/{id}/audit")).await;
    assert!(trail.body.as_array().unwrap().iter().any(|e| {
        e["action"] == "media.use_granted"
            && e["detail"]
                .as_str()
                .unwrap()
                .contains("\"purpose\":\"clinical\"")
    }));
}

async fn r6_playback_seeks_across_chunk_boundaries(app: TestApp) {
    let original = mp4(400_000, 2);
    let id = upload_video(&app, original.clone()).await;
    let chunk = 64 * 1024;
    for (range, start, end) in [
        (
            format!("bytes={}-{}", chunk - 5, chunk + 5),
            chunk - 5,
            chunk + 6,
        ),
        (
            format!("bytes={}-{}", 3 * chunk - 1, 5 * chunk),
            3 * chunk - 1,
            5 * chunk + 1,
        ),
        ("bytes=0-0".to_owned(), 0, 1),
        ("bytes=399990-".to_owned(), 399_990, 400_000),
        ("bytes=-100".to_owned(), 399_900, 400_000),
        ("bytes=123456-999999".to_owned(), 123_456, 400_000),
    ] {
        let (status, headers, bytes) = media(&app, &id, Some(&range)).await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(bytes.as_slice(), &original[start..end], "{range}");
        assert_eq!(
            headers[header::CONTENT_RANGE],
            format!("bytes {start}-{}/400000", end - 1)
        );
        assert_eq!(headers[header::ACCEPT_RANGES], "bytes");
        assert_eq!(headers[header::CONTENT_LENGTH], (end - start).to_string());
    }
}

async fn ranges_that_are_malformed_or_out_of_bounds_are_refused(app: TestApp) {
    let id = upload_video(&app, mp4(100_000, 3)).await;
    for malformed in [
        "bytes=abc-def",
        "items=0-10",
        "bytes=0-10,20-30",
        "bytes=-",
        "bytes=10",
    ] {
        let (status, headers, body) = media(&app, &id, Some(malformed)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{malformed}");
        assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
        assert!(String::from_utf8_lossy(&body).contains("media.bad_range"));
    }
    for beyond in [
        "bytes=100000-",
        "bytes=200000-300000",
        "bytes=50-40",
        "bytes=-0",
    ] {
        let (status, headers, _) = media(&app, &id, Some(beyond)).await;
        assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE, "{beyond}");
        assert_eq!(headers[header::CONTENT_RANGE], "bytes */100000");
    }
}

async fn uploads_resume_after_an_interruption(app: TestApp) {
    let original = mp4(300_000, 4);
    let person = app.consenting_person("Ada", &["clinical"]).await;
    use base64::Engine;
    let metadata = format!(
        "recording {}",
        base64::engine::general_purpose::STANDARD.encode(video(&person).to_string())
    );
    let created = app
        .send(
            app.request(Method::POST, "/api/v1/uploads")
                .header("tus-resumable", "1.0.0")
                .header("upload-length", "300000")
                .header("upload-metadata", metadata)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let location = created.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(created.headers["upload-offset"], "0");

    // The connection breaks after 100,000 bytes: the bytes that arrived are kept.
    let first: Vec<u8> = original[..100_000].to_vec();
    let broken = futures_util::stream::iter(vec![
        Ok(bytes::Bytes::from(first)),
        Err(std::io::Error::other("wifi dropped")),
    ]);
    let patch = |offset: u64, body: Body| {
        app.request(Method::PATCH, &location)
            .header("tus-resumable", "1.0.0")
            .header("upload-offset", offset.to_string())
            .header(header::CONTENT_TYPE, "application/offset+octet-stream")
            .body(body)
            .unwrap()
    };
    let _ = app.send(patch(0, Body::from_stream(broken))).await;
    let head = app
        .send(
            app.request(Method::HEAD, &location)
                .header("tus-resumable", "1.0.0")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.headers["upload-offset"], "100000");
    assert_eq!(
        app.get(&format!("/api/v1/persons/{person}/recordings"))
            .await
            .body,
        json!([]),
        "nothing registered yet"
    );

    // Resuming from the wrong place is refused; from the right place it completes.
    let wrong = app
        .send(patch(50_000, Body::from(original[50_000..].to_vec())))
        .await;
    assert_eq!(wrong.status, StatusCode::CONFLICT);
    assert_eq!(wrong.code(), "upload.offset_mismatch");
    let done = app
        .send(patch(100_000, Body::from(original[100_000..].to_vec())))
        .await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.body);
    assert_eq!(done.headers["upload-offset"], "300000");
    let id = done.headers["custodian-recording-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(media(&app, &id, None).await.2 == original);
    assert_eq!(
        app.send(
            app.request(Method::HEAD, &location)
                .body(Body::empty())
                .unwrap()
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

async fn bad_uploads_are_refused_and_leave_nothing(app: TestApp) {
    let person = app.person("Ada", "has_capacity").await;
    let refusals: Vec<(Value, Vec<u8>, StatusCode, &str)> = vec![
        (
            video(&person),
            Vec::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "media.empty",
        ),
        (
            video(&person),
            {
                let mut page = b"<!DOCTYPE html><html><script>alert(1)</script>".to_vec();
                page.resize(20_000, b' ');
                page
            },
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "media.type_not_accepted",
        ),
        (
            video(&person),
            {
                let mut program = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00".to_vec();
                program.resize(20_000, 0);
                program
            },
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "media.type_not_accepted",
        ),
        (
            {
                let mut photo = video(&person);
                photo["kind"] = json!("photograph");
                photo
            },
            mp4(20_000, 5),
            StatusCode::CONFLICT,
            "media.kind_mismatch",
        ),
        (
            {
                let mut stranger = video(&person);
                stranger["subjects"] = json!([uuid::Uuid::now_v7()]);
                stranger
            },
            mp4(20_000, 6),
            StatusCode::NOT_FOUND,
            "person.not_found",
        ),
        (
            {
                let mut unknown = video(&person);
                unknown["purposes"] = json!(["marketing"]);
                unknown
            },
            mp4(20_000, 7),
            StatusCode::UNPROCESSABLE_ENTITY,
            "consent.unknown_purpose",
        ),
    ];
    for (metadata, bytes, status, code) in refusals {
        let reply = app.upload(&metadata, bytes).await;
        assert_eq!(
            (reply.status, reply.code()),
            (status, code),
            "{}",
            reply.body
        );
    }
    let oversized = app
        .send(
            app.request(Method::POST, "/api/v1/uploads")
                .header("tus-resumable", "1.0.0")
                .header("upload-length", (65 * 1024 * 1024).to_string())
                .header(
                    "upload-metadata",
                    format!("recording {}", base64_json(&video(&person))),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        (oversized.status, oversized.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "media.too_large")
    );
    let longer = app
        .upload_declaring(&video(&person), 1000, mp4(2000, 8))
        .await;
    assert_eq!(
        (longer.status, longer.code()),
        (StatusCode::BAD_REQUEST, "media.longer_than_declared")
    );
    let no_metadata = app
        .send(
            app.request(Method::POST, "/api/v1/uploads")
                .header("tus-resumable", "1.0.0")
                .header("upload-length", "10")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        (no_metadata.status, no_metadata.code()),
        (StatusCode::BAD_REQUEST, "upload.missing_metadata")
    );

    // A body shorter than declared stays an unfinished upload; abandoning it deletes its bytes.
    let short = app
        .upload_declaring(&video(&person), 200_000, mp4(100_000, 9))
        .await;
    assert_eq!(short.status, StatusCode::CREATED);
    assert_eq!(short.headers["upload-offset"], "100000");
    assert_eq!(staged(&app), 1);
    let location = short.headers[header::LOCATION].to_str().unwrap().to_owned();
    assert_eq!(
        app.send(
            app.request(Method::DELETE, &location)
                .body(Body::empty())
                .unwrap()
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );

    assert_eq!(
        app.get(&format!("/api/v1/persons/{person}/recordings"))
            .await
            .body,
        json!([]),
        "no recording was registered"
    );
    assert_eq!(staged(&app), 0, "nothing is left in staging");
    assert_eq!(stored_objects(&app).await, 0, "nothing is left in storage");
}

fn base64_json(value: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(value.to_string())
}

async fn r6_derived_items_are_new_recordings_and_the_original_is_untouched(app: TestApp) {
    let original = mp4(200_000, 10);
    let id = upload_video(&app, original.clone()).await;
    let before = app.get(&format!("/api/v1/recordings/{id}")).await.body["media"].clone();
    let redacted = mp4(150_000, 11);
    let reply = app
        .upload(
            &json!({"derived_from": id, "derivation": "redaction", "de_identified": true, "method": "Surname muted", "device": "EDIT-1", "made_at": minutes_from_now(-5), "purpose": "clinical"}),
            redacted.clone(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let copy = reply.headers["custodian-recording-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let record = app.get(&format!("/api/v1/recordings/{copy}")).await;
    assert_eq!(record.body["derivation"]["source"], id);
    assert_eq!(record.body["derivation"]["de_identified"], true);
    assert!(media(&app, &copy, None).await.2 == redacted);
    assert_eq!(
        app.get(&format!("/api/v1/recordings/{id}")).await.body["media"],
        before
    );
    assert!(
        media(&app, &id, None).await.2 == original,
        "the original is untouched"
    );
    let transcript = app
        .upload(
            &json!({"derived_from": id, "derivation": "transcript", "device": "DICTATION-1", "made_at": minutes_from_now(-1), "purpose": "clinical"}),
            "Clinician: How have you been?\nAda: Better.".as_bytes().to_vec(),
        )
        .await;
    assert_eq!(
        transcript.status,
        StatusCode::CREATED,
        "{}",
        transcript.body
    );
    let transcript = transcript.headers["custodian-recording-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let (_, headers, _) = media(&app, &transcript, None).await;
    assert_eq!(headers[header::CONTENT_TYPE], "text/plain; charset=utf-8");
}

async fn d9_destruction_destroys_the_key_and_signs_a_certificate(app: TestApp) {
    let original = mp4(120_000, 12);
    let id = upload_video(&app, original.clone()).await;
    // Destroying is the records manager's (S2).
    let records_manager = app.member_with_role("records_manager").await;
    let reply = app
        .as_(&records_manager)
        .post(
            &format!("/api/v1/recordings/{id}/destruction"),
            json!({"reason": "Consent withdrawn; asked for destruction", "rule": "C8"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let certificate: custodian_vault::certificate::Certificate =
        serde_json::from_value(reply.body.clone()).unwrap();
    let pem = app
        .send(
            app.request(Method::GET, "/api/v1/vault/signing-key")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .body;
    let attested = custodian_vault::certificate::verify(&certificate, pem.as_str()).unwrap();
    assert_eq!(attested.recording_id, id);
    assert_eq!(
        attested.content_sha256,
        custodian_testkit::fixtures::sha256_hex(&original)
    );
    assert_eq!(
        (attested.rule.as_str(), attested.content_key_destroyed),
        ("C8", true)
    );

    let mut tx = app.db.register.read().await.unwrap();
    let stored = tx.media(id.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(
        stored.wrapped_key, None,
        "the content key is gone from the register"
    );
    drop(tx);
    assert_eq!(stored_objects(&app).await, 0, "the object is deleted");
    let (status, _, body) = media(&app, &id, None).await;
    assert_eq!(
        status,
        StatusCode::GONE,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let decision = app
        .get(&format!(
            "/api/v1/recordings/{id}/decision?purpose=clinical"
        ))
        .await;
    assert!(
        decision.body["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["code"] == "recording.destroyed" && r["requirement"] == "D9")
    );
    assert_eq!(
        app.get(&format!("/api/v1/recordings/{id}/destruction"))
            .await
            .body,
        reply.body
    );
    let again = app
        .as_(&records_manager)
        .post(
            &format!("/api/v1/recordings/{id}/destruction"),
            json!({"reason": "again", "rule": "C8"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::GONE);
    let trail = app.get(&format!("/api/v1/recordings/{id}/audit")).await;
    assert!(
        trail
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "recording.destroyed")
    );
}

vault_stories!(
    s1_uploads_are_stored_encrypted_and_read_back_exactly,
    r6_playback_seeks_across_chunk_boundaries,
    ranges_that_are_malformed_or_out_of_bounds_are_refused,
    uploads_resume_after_an_interruption,
    bad_uploads_are_refused_and_leave_nothing,
    r6_derived_items_are_new_recordings_and_the_original_is_untouched,
    d9_destruction_destroys_the_key_and_signs_a_certificate,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d7_a_recording_under_legal_hold_cannot_be_destroyed() {
    let app = TestApp::new(Backend::Sqlite).await;
    let id: RecordingId = upload_video(&app, mp4(50_000, 13)).await.parse().unwrap();
    let manager = app.member_with_role("records_manager").await;
    let caller = app
        .custodian
        .sign_in_at_once("records.manager.member", TestApp::MEMBER_PASSWORD, None)
        .await
        .unwrap()
        .caller;
    let placed = app
        .as_(&manager)
        .post(
            "/api/v1/legal-holds",
            json!({"matter": {"kind": "court_direction", "reference": "Court direction 2026/117"},
                "recordings": [id]}),
        )
        .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    let reason = custodian_core::text::Note::parse("reason", "Withdrawn").unwrap();
    let rule = custodian_core::text::ShortText::parse("rule", "C8").unwrap();
    let refused = app
        .custodian
        .destroy_recording(&caller, id, reason.clone(), rule.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &refused,
            AppError::Rule {
                code: custodian_app::ErrorCode::UnderLegalHold,
                ..
            }
        ),
        "{refused}"
    );
    assert!(refused.to_string().contains("Court direction 2026/117"));
    assert_eq!(stored_objects(&app).await, 1, "nothing was destroyed");
    let lifted = app
        .as_(&manager)
        .post(
            &format!(
                "/api/v1/legal-holds/{}/lift",
                placed.body["id"].as_str().unwrap()
            ),
            json!({"reason": "The court discharged the direction"}),
        )
        .await;
    assert_eq!(lifted.status, StatusCode::OK, "{}", lifted.body);
    app.custodian
        .destroy_recording(&caller, id, reason, rule)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r6_corrupted_media_is_refused_audited_and_found_by_verification() {
    let app = TestApp::new(Backend::Sqlite).await;
    let id = upload_video(&app, mp4(300_000, 14)).await;
    let healthy = upload_video(&app, mp4(50_000, 15)).await;
    let path = app
        .data
        .path()
        .join("vault/objects")
        .join(&id[..2])
        .join(format!("{id}.age"));
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();

    let (status, headers, body) = media(&app, &id, Some("bytes=140000-160000")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
    let problem: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["code"], "media.corrupted");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("nothing was served")
    );
    let trail = app.get(&format!("/api/v1/recordings/{id}/audit")).await;
    assert!(
        trail
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "media.integrity_failed" && e["outcome"] == "refused")
    );
    assert_eq!(
        media(&app, &healthy, None).await.0,
        StatusCode::OK,
        "other recordings are unaffected"
    );

    // Verification finds the corrupted object, a missing one and an orphan.
    std::fs::remove_file(
        app.data
            .path()
            .join("vault/objects")
            .join(&healthy[..2])
            .join(format!("{healthy}.age")),
    )
    .unwrap();
    let orphan = app.data.path().join("vault/staging-orphan.age");
    std::fs::write(&orphan, b"age-encryption.org/v1\nleft by a crash").unwrap();
    app.custodian
        .vault()
        .storage()
        .store("0000orphan.age", &orphan)
        .await
        .unwrap();
    let report = app.custodian.verify_vault(false).await.unwrap();
    assert_eq!(report.corrupted.len(), 1);
    assert_eq!(report.corrupted[0].0.to_string(), id);
    assert_eq!(
        report
            .missing
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        vec![healthy]
    );
    assert_eq!(report.orphaned, vec!["0000orphan.age".to_owned()]);
    assert!(!report.is_sound());
    // The server removes it by itself once it is too old to be a finishing upload's, and says so.
    assert!(app.custodian.remove_orphans().await.unwrap().is_empty());
    app.clock
        .advance(custodian_app::media::ORPHANS_KEPT_FOR + time::Duration::MINUTE);
    assert_eq!(
        app.custodian.remove_orphans().await.unwrap(),
        vec!["0000orphan.age".to_owned()]
    );
    let mut tx = app.db.register.read().await.unwrap();
    let trail = tx.audit_events_after(0, 10_000).await.unwrap();
    drop(tx);
    assert!(
        trail
            .iter()
            .any(|e| e.action == "vault.orphans_removed" && e.detail.contains("0000orphan.age"))
    );
    let after = app.custodian.verify_vault(false).await.unwrap();
    assert!(after.orphaned.is_empty());
    // `verify --remove` removes what is left over at once, whatever its age.
    app.custodian
        .vault()
        .storage()
        .store("0001orphan.age", &{
            let again = app.data.path().join("vault/staging-orphan-2.age");
            std::fs::write(&again, b"age-encryption.org/v1\nleft by a crash").unwrap();
            again
        })
        .await
        .unwrap();
    let cleaned = app.custodian.verify_vault(true).await.unwrap();
    assert_eq!(cleaned.removed, 1);
    assert!(
        app.custodian
            .verify_vault(false)
            .await
            .unwrap()
            .orphaned
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s1_the_key_encryption_key_is_checked_at_start_and_rotates_without_touching_media() {
    let app = TestApp::new(Backend::Sqlite).await;
    let original = mp4(100_000, 16);
    let id = upload_video(&app, original.clone()).await;
    let data = app.data.path().to_path_buf();
    let kek = data.join("keys/kek.txt");
    let start = |settings: VaultSettings| {
        Custodian::start(
            app.db.register.clone(),
            std::sync::Arc::new(SystemClock),
            settings,
        )
    };

    // A missing key, or another key, and the application refuses to start, saying why.
    let elsewhere = tempfile::tempdir().unwrap();
    let mut missing = VaultSettings::local(&data);
    missing.key = KeySource::File(elsewhere.path().join("kek.txt"));
    let error = start(missing).await.unwrap_err();
    assert!(
        matches!(&error, AppError::Startup(m) if m.contains("is missing")),
        "{error}"
    );
    let other =
        custodian_vault::keys::KeyEncryptionKey::create(&elsewhere.path().join("other.txt"))
            .unwrap();
    let mut wrong = VaultSettings::local(&data);
    wrong.key = KeySource::File(elsewhere.path().join("other.txt"));
    let error = start(wrong).await.unwrap_err();
    assert!(
        matches!(&error, AppError::Startup(m) if m.contains("not the one this register was set up with")),
        "{error}"
    );
    drop(other);

    // Rotation rewraps every content key; the media object is not touched.
    let object = data
        .join("vault/objects")
        .join(&id[..2])
        .join(format!("{id}.age"));
    let object_before = std::fs::read(&object).unwrap();
    let key_before = std::fs::read_to_string(&kek).unwrap();
    assert_eq!(app.custodian.rotate_key_encryption_key().await.unwrap(), 1);
    assert_ne!(std::fs::read_to_string(&kek).unwrap(), key_before);
    assert_eq!(
        std::fs::read(&object).unwrap(),
        object_before,
        "no media was touched"
    );
    assert!(media(&app, &id, None).await.2 == original, "it still reads");
    let restarted = start(VaultSettings::local(&data)).await.unwrap();
    assert!(restarted.verify_vault(false).await.unwrap().is_sound());

    // A rotation interrupted after writing the new key is finished at the next start.
    std::fs::rename(&kek, data.join("keys/kek.next.txt")).unwrap();
    std::fs::write(&kek, key_before).unwrap();
    let resumed = start(VaultSettings::local(&data)).await.unwrap();
    assert!(resumed.verify_vault(false).await.unwrap().is_sound());
    assert!(!data.join("keys/kek.next.txt").exists());

    // In an emergency the `age` format lets a recording be recovered with its exported key.
    let exported = resumed
        .export_content_key(id.parse().unwrap())
        .await
        .unwrap();
    assert!(exported.contains("AGE-SECRET-KEY-1"));
    let identity: age::x25519::Identity = exported
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY"))
        .unwrap()
        .parse()
        .unwrap();
    let decryptor = age::Decryptor::new(std::fs::File::open(&object).unwrap()).unwrap();
    let mut reader = decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .unwrap();
    let mut recovered = Vec::new();
    std::io::Read::read_to_end(&mut reader, &mut recovered).unwrap();
    assert!(recovered == original);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photograph_of_the_right_kind_is_accepted() {
    let app = TestApp::new(Backend::Sqlite).await;
    let person = app.person("Ada", "has_capacity").await;
    let mut photo = video(&person);
    photo["kind"] = json!("photograph");
    let reply = app.upload(&photo, jpeg(30_000, 17)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}
