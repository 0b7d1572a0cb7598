//! The gate (X1): every use of a recording's content names its purpose and is decided — access
//! and consent — once, and audited; byte ranges then go under a short grant that a change
//! turning the decision revokes at once, on every server sharing the register.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use base64::Engine;
use custodian_testkit::TestApp;
use custodian_testkit::fixtures::{minutes_from_now, mp4};
use serde_json::{Value, json};

/// Every route that yields any byte of a recording, or makes an item from its content. The
/// OpenAPI test below fails for a route that serves anything but JSON and is in neither this
/// list nor [`NOT_RECORDING_CONTENT`], so no new media route escapes these stories.
const CONTENT_ROUTES: &[(&str, &str)] = &[
    ("GET", "/recordings/{id}/media"),
    ("POST", "/recordings/{id}/derivatives"),
    // With `derived_from` in its metadata, an upload makes an item from another's content.
    ("POST", "/uploads"),
];

/// Routes answering with something other than JSON that is not a recording's content.
const NOT_RECORDING_CONTENT: &[(&str, &str)] = &[
    // The public key that verifies destruction certificates.
    ("GET", "/vault/signing-key"),
    // Liveness and readiness, in plain words.
    ("GET", "/healthz"),
    ("GET", "/readyz"),
];

/// A consent's scope: the whole of CAMHS-NORTH, the clinician's service.
fn camhs() -> Value {
    json!({"kind": "service", "service": "CAMHS-NORTH"})
}

/// A session of `kind` in CAMHS-NORTH that started an hour ago.
async fn session(app: &TestApp, kind: &str, participants: &[&str]) -> String {
    let reply = app
        .post(
            "/api/v1/sessions",
            json!({"kind": kind, "service": "CAMHS-NORTH", "title": "Session",
                   "starts_at": minutes_from_now(-60), "participants": participants}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.id()
}

/// A clinical video of `subjects`, made half an hour ago, in `session` if given.
async fn video(app: &TestApp, session: Option<&str>, subjects: &[&str], seed: u64) -> String {
    let reply = app
        .upload(
            &json!({"kind": "video", "service": "CAMHS-NORTH", "session_id": session,
                    "subjects": subjects, "purposes": ["clinical"], "device": "TAB-0042",
                    "made_at": minutes_from_now(-30), "location": "Therapy room 2"}),
            mp4(80_000, seed),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.headers["custodian-recording-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// Asks `route` (one of [`CONTENT_ROUTES`]) for a use of `recording`'s content, for `purpose`
/// (none: the purpose left out), as the clinician: the status and the body as text.
async fn use_by(
    app: &TestApp,
    route: (&str, &str),
    recording: &str,
    purpose: Option<&str>,
) -> (StatusCode, String) {
    let request = match route {
        ("GET", "/recordings/{id}/media") => {
            let query = purpose.map_or_else(String::new, |p| format!("?purpose={p}"));
            app.request(
                Method::GET,
                &format!("/api/v1/recordings/{recording}/media{query}"),
            )
            .body(Body::empty())
            .unwrap()
        }
        ("POST", "/recordings/{id}/derivatives") => {
            let mut body = json!({"kind": "transcript", "device": "DICTATION-1",
                                  "made_at": minutes_from_now(-1)});
            if let Some(purpose) = purpose {
                body["purpose"] = json!(purpose);
            }
            app.request(
                Method::POST,
                &format!("/api/v1/recordings/{recording}/derivatives"),
            )
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
        }
        ("POST", "/uploads") => {
            let mut described = json!({"derived_from": recording, "derivation": "transcript",
                                       "device": "DICTATION-1", "made_at": minutes_from_now(-1)});
            if let Some(purpose) = purpose {
                described["purpose"] = json!(purpose);
            }
            let text = b"Clinician: How have you been?".to_vec();
            let metadata = format!(
                "recording {}",
                base64::engine::general_purpose::STANDARD.encode(described.to_string())
            );
            app.request(Method::POST, "/api/v1/uploads")
                .header("tus-resumable", "1.0.0")
                .header("upload-length", text.len().to_string())
                .header("upload-metadata", metadata)
                .header(header::CONTENT_TYPE, "application/offset+octet-stream")
                .body(Body::from(text))
                .unwrap()
        }
        other => panic!("no way to ask {other:?}"),
    };
    let (status, _, bytes) = app.send_raw(request).await;
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// Every route of the OpenAPI document whose success is anything but JSON.
async fn non_json_routes(app: &TestApp) -> BTreeSet<(String, String)> {
    let document = app.get("/api/v1/openapi.json").await.body;
    let mut found = BTreeSet::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let Some(responses) = operation["responses"].as_object() else {
                continue;
            };
            let serves_other = responses
                .iter()
                .filter(|(status, _)| status.starts_with('2'))
                .filter_map(|(_, response)| response["content"].as_object())
                .flat_map(|content| content.keys())
                .any(|kind| kind != "application/json");
            if serves_other {
                found.insert((
                    method.to_uppercase(),
                    path.trim_start_matches("/api/v1").to_owned(),
                ));
            }
        }
    }
    found
}

/// Checks every content route refuses `recording` for clinical use, naming `requirement`.
async fn every_route_refuses(app: &TestApp, recording: &str, requirement: &str, why: &str) {
    for route in CONTENT_ROUTES {
        let (status, body) = use_by(app, *route, recording, Some("clinical")).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{route:?} after {why}: {body}"
        );
        let problem: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            problem["code"], "use.refused",
            "{route:?} after {why}: {body}"
        );
        let reasons = problem["reasons"].as_array().unwrap();
        assert!(
            reasons.iter().any(|r| r["requirement"] == requirement
                && r["effect"] == "blocks"
                && r["remedy"].is_string()),
            "{route:?} after {why} names {requirement} and what to do: {body}"
        );
    }
}

async fn x1_every_content_route_needs_a_purpose_and_refuses_after_withdrawal_revocation_and_deletion(
    app: TestApp,
) {
    // The table covers every route that serves anything but JSON.
    let listed: BTreeSet<(String, String)> = CONTENT_ROUTES
        .iter()
        .chain(NOT_RECORDING_CONTENT)
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let untabled: Vec<_> = non_json_routes(&app)
        .await
        .into_iter()
        .filter(|route| !listed.contains(route))
        .collect();
    assert!(
        untabled.is_empty(),
        "routes serving content the gate's table does not list: {untabled:?}"
    );

    // Without a purpose, nothing: a 400 naming the field.
    let ada = app.consenting_person("Ada", &["clinical"]).await;
    let plain = video(&app, None, &[&ada], 1).await;
    for route in CONTENT_ROUTES {
        let (status, body) = use_by(&app, *route, &plain, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{route:?}: {body}");
        let problem: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(problem["code"], "use.purpose_missing", "{route:?}");
        assert_eq!(problem["field"], "purpose", "{route:?}");
    }
    // With one, and consent to it, each route serves or makes its item.
    for route in CONTENT_ROUTES {
        let (status, body) = use_by(&app, *route, &plain, Some("clinical")).await;
        assert!(
            status.is_success(),
            "{route:?} before any change: {status} {body}"
        );
    }

    // C8: the person withdraws.
    let bo = app.person("Bo", "has_capacity").await;
    let consent = app.consent(&bo, &["clinical"], camhs(), 120).await;
    let withdrawn = video(&app, None, &[&bo], 2).await;
    let reply = app
        .post(
            &format!("/api/v1/consents/{consent}/withdrawals"),
            json!({"at": minutes_from_now(-1), "withdrawn_by": {"kind": "person"},
                   "existing_recordings": "destroy"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    every_route_refuses(&app, &withdrawn, "C8", "a withdrawal").await;

    // C7: in a family session, one member's withdrawal revokes it for all, even a recording
    // the withdrawing member is not in.
    let parent = app.consenting_person("Cy", &["clinical"]).await;
    let sibling = app.person("Di", "has_capacity").await;
    let sibling_consent = app.consent(&sibling, &["clinical"], camhs(), 120).await;
    let family = session(&app, "family", &[&parent, &sibling]).await;
    let of_parent = video(&app, Some(&family), &[&parent], 3).await;
    let (status, body) = use_by(&app, CONTENT_ROUTES[0], &of_parent, Some("clinical")).await;
    assert_eq!(status, StatusCode::OK, "before the withdrawal: {body}");
    let reply = app
        .post(
            &format!("/api/v1/consents/{sibling_consent}/withdrawals"),
            json!({"at": minutes_from_now(-1), "withdrawn_by": {"kind": "person"},
                   "existing_recordings": "destroy"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    every_route_refuses(&app, &of_parent, "C7", "a family member's withdrawal").await;

    // C9: a stop whose choice is to delete.
    let eli = app.consenting_person("Eli", &["clinical"]).await;
    let stopped = session(&app, "individual", &[&eli]).await;
    let deleted = video(&app, Some(&stopped), &[&eli], 4).await;
    let reply = app
        .post(
            &format!("/api/v1/sessions/{stopped}/stops"),
            json!({"at": minutes_from_now(-10), "choice": "discontinue_and_delete", "requested_by": eli}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    every_route_refuses(&app, &deleted, "C9", "a deleting stop").await;
}

/// Reads `recording` for `purpose` under `grant` (none: decide afresh), with `range`.
async fn play(
    app: &TestApp,
    server: Option<&axum::Router>,
    token: &str,
    recording: &str,
    purpose: &str,
    grant: Option<&str>,
    range: &str,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let grant = grant.map_or_else(String::new, |g| format!("&grant={g}"));
    let request = Request::get(format!(
        "/api/v1/recordings/{recording}/media?purpose={purpose}{grant}"
    ))
    .header(header::AUTHORIZATION, format!("Bearer {token}"))
    .header(header::RANGE, range)
    .body(Body::empty())
    .unwrap();
    match server {
        Some(server) => TestApp::send_raw_to(server, request).await,
        None => app.send_raw(request).await,
    }
}

fn problem(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or_else(|_| json!({"raw": String::from_utf8_lossy(bytes)}))
}

/// The recording's audit events with `action`.
async fn events(app: &TestApp, recording: &str, action: &str) -> Vec<Value> {
    let trail = app
        .get(&format!("/api/v1/recordings/{recording}/audit"))
        .await;
    trail
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .cloned()
        .collect()
}

async fn x1_byte_ranges_go_under_one_grant_decided_and_audited_once(app: TestApp) {
    let ada = app.consenting_person("Ada", &["clinical"]).await;
    let recording = video(&app, None, &[&ada], 5).await;
    let (status, headers, first) = play(
        &app,
        None,
        &app.token,
        &recording,
        "clinical",
        None,
        "bytes=0-999",
    )
    .await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT, "{}", problem(&first));
    let grant = headers["custodian-grant"].to_str().unwrap().to_owned();
    assert!(headers.contains_key("custodian-grant-expires"));
    assert_eq!(headers["custodian-purpose"], "clinical");
    let granted = events(&app, &recording, "media.use_granted").await;
    assert_eq!(granted.len(), 1, "{granted:?}");
    let detail: Value = serde_json::from_str(granted[0]["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["purpose"], "clinical");
    assert_eq!(detail["decision"]["outcome"], "allowed");
    assert!(
        detail["decision"]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["code"] == "consent.given" && r["consent"].is_string()),
        "the grant's event says what it rested on: {detail}"
    );
    let before = app
        .get(&format!("/api/v1/recordings/{recording}/audit"))
        .await
        .body
        .as_array()
        .unwrap()
        .len();
    for n in 1..40u64 {
        let range = format!("bytes={}-{}", n * 1000, n * 1000 + 999);
        let (status, headers, bytes) = play(
            &app,
            None,
            &app.token,
            &recording,
            "clinical",
            Some(&grant),
            &range,
        )
        .await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT, "{}", problem(&bytes));
        assert_eq!(bytes.len(), 1000);
        assert!(
            !headers.contains_key("custodian-grant"),
            "no new grant under one"
        );
    }
    let after = app
        .get(&format!("/api/v1/recordings/{recording}/audit"))
        .await
        .body
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        before, after,
        "ranges under a grant are not audited one by one"
    );
}

async fn x1_a_grant_admits_only_its_holder_recording_and_purpose_until_it_expires(app: TestApp) {
    let ada = app
        .consenting_person("Ada", &["clinical", "supervision_and_training"])
        .await;
    let recording = video(&app, None, &[&ada], 6).await;
    let other = video(&app, None, &[&ada], 7).await;
    let (_, headers, _) = play(
        &app,
        None,
        &app.token,
        &recording,
        "clinical",
        None,
        "bytes=0-9",
    )
    .await;
    let grant = headers["custodian-grant"].to_str().unwrap().to_owned();
    let colleague = app
        .staff_member(
            "a.colleague",
            "a colleague's long pass phrase",
            &["practitioner"],
            &["CAMHS-NORTH"],
        )
        .await;
    let forged = "cg_forged".to_owned();
    let cases: [(&str, &String, &String, &str, &String); 4] = [
        ("not_yours", &colleague, &recording, "clinical", &grant),
        ("other_recording", &app.token, &other, "clinical", &grant),
        (
            "other_purpose",
            &app.token,
            &recording,
            "supervision_and_training",
            &grant,
        ),
        ("unknown", &app.token, &recording, "clinical", &forged),
    ];
    for (code, token, asked, purpose, presented) in &cases {
        let (status, _, body) = play(
            &app,
            None,
            token,
            asked,
            purpose,
            Some(presented),
            "bytes=0-9",
        )
        .await;
        let body = problem(&body);
        assert_eq!(status, StatusCode::FORBIDDEN, "{code}: {body}");
        assert_eq!(body["code"], format!("grant.{code}"), "{body}");
        assert_eq!(body["field"], "grant", "{body}");
        assert!(
            body["detail"].as_str().unwrap().contains("open"),
            "says what to do: {body}"
        );
    }
    let refused = events(&app, &recording, "media.grant_refused").await;
    assert_eq!(refused.len(), 3, "each refusal is audited: {refused:?}");
    // The holder's grant still stands, until it expires.
    let (status, _, _) = play(
        &app,
        None,
        &app.token,
        &recording,
        "clinical",
        Some(&grant),
        "bytes=0-9",
    )
    .await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    app.clock.advance(time::Duration::minutes(16));
    let (status, _, body) = play(
        &app,
        None,
        &app.token,
        &recording,
        "clinical",
        Some(&grant),
        "bytes=0-9",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(problem(&body)["code"], "grant.expired");
}

async fn c8_a_withdrawal_on_one_server_refuses_the_next_range_on_the_other(app: TestApp) {
    let ada = app.person("Ada", "has_capacity").await;
    let consent = app.consent(&ada, &["clinical"], camhs(), 120).await;
    let recording = video(&app, None, &[&ada], 8).await;
    let other_server = app.second_server().await;
    let (status, headers, _) = play(
        &app,
        None,
        &app.token,
        &recording,
        "clinical",
        None,
        "bytes=0-99",
    )
    .await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    let grant = headers["custodian-grant"].to_str().unwrap().to_owned();
    let (status, _, _) = play(
        &app,
        Some(&other_server),
        &app.token,
        &recording,
        "clinical",
        Some(&grant),
        "bytes=100-199",
    )
    .await;
    assert_eq!(
        status,
        StatusCode::PARTIAL_CONTENT,
        "the grant holds on the other server too"
    );

    // A team manager, signed in on the other server, records the withdrawal.
    let manager = app
        .staff_member(
            "team.manager",
            "a team manager's pass phrase",
            &["team_manager"],
            &["CAMHS-NORTH"],
        )
        .await;
    let request = Request::post(format!("/api/v1/consents/{consent}/withdrawals"))
        .header(header::AUTHORIZATION, format!("Bearer {manager}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"at": minutes_from_now(-1), "withdrawn_by": {"kind": "person"},
                   "existing_recordings": "destroy"})
            .to_string(),
        ))
        .unwrap();
    let (status, _, body) = TestApp::send_raw_to(&other_server, request).await;
    assert_eq!(status, StatusCode::CREATED, "{}", problem(&body));

    // The very next range, on either server, is refused with the reason.
    for server in [None, Some(&other_server)] {
        let (status, _, body) = play(
            &app,
            server,
            &app.token,
            &recording,
            "clinical",
            Some(&grant),
            "bytes=200-299",
        )
        .await;
        let body = problem(&body);
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["code"], "grant.revoked", "{body}");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("consent was withdrawn"),
            "{body}"
        );
    }
    // Asked afresh, the decision refuses it, with the rule and what to do.
    let (status, _, body) = play(
        &app,
        None,
        &app.token,
        &recording,
        "clinical",
        None,
        "bytes=0-99",
    )
    .await;
    let body = problem(&body);
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "use.refused");
    assert_eq!(body["requirement"], "C8");
}

async fn s3_a_connection_an_access_change_or_a_destruction_revokes_grants_at_once(app: TestApp) {
    let ada = app.consenting_person("Ada", &["clinical"]).await;
    let first = video(&app, None, &[&ada], 9).await;
    let second = video(&app, None, &[&ada], 10).await;
    let grant_for = |recording: String| {
        let app = &app;
        async move {
            let (status, headers, _) = play(
                app,
                None,
                &app.token,
                &recording,
                "clinical",
                None,
                "bytes=0-9",
            )
            .await;
            assert_eq!(status, StatusCode::PARTIAL_CONTENT);
            headers["custodian-grant"].to_str().unwrap().to_owned()
        }
    };
    let revoked_because = |recording: String, grant: String, because: &'static str| {
        let app = &app;
        async move {
            let (status, _, body) = play(
                app,
                None,
                &app.token,
                &recording,
                "clinical",
                Some(&grant),
                "bytes=10-19",
            )
            .await;
            let body = problem(&body);
            assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
            assert_eq!(body["code"], "grant.revoked", "{body}");
            assert!(
                body["detail"].as_str().unwrap().contains(because),
                "{because}: {body}"
            );
        }
    };

    // A destruction ends the grants to use that recording.
    let grant = grant_for(first.clone()).await;
    let manager = app.member_with_role("records_manager").await;
    let destroyed = app
        .as_(&manager)
        .post(
            &format!("/api/v1/recordings/{first}/destruction"),
            json!({"reason": "Consent withdrawn; destruction asked for", "rule": "C8"}),
        )
        .await;
    assert_eq!(destroyed.status, StatusCode::CREATED, "{}", destroyed.body);
    revoked_because(first, grant, "destroyed").await;

    // An administrator changing the member's services ends every grant they hold.
    let grant = grant_for(second.clone()).await;
    let me = app.get("/api/v1/auth/me").await.body["staff"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let changed = app
        .as_(&app.admin_token)
        .put(
            &format!("/api/v1/staff/{me}/access"),
            json!({"roles": ["practitioner"], "services": ["CAMHS-NORTH", "SPEECH-THERAPY"]}),
        )
        .await;
    assert!(changed.status.is_success(), "{}", changed.body);
    revoked_because(second.clone(), grant, "roles or services changed").await;

    // Declaring a personal connection ends the member's grants resting on that person (S3).
    let grant = grant_for(second.clone()).await;
    let declared = app
        .post(
            &format!("/api/v1/persons/{ada}/connection"),
            json!({"kind": "neighbour"}),
        )
        .await;
    assert_eq!(declared.status, StatusCode::NO_CONTENT, "{}", declared.body);
    revoked_because(second, grant, "personal connection").await;
}

async fn c11_c7_an_item_made_from_a_recording_is_judged_as_the_item_it_will_be(app: TestApp) {
    // Teaching needs consent to teaching and a de-identified copy: the copy may be made, an
    // identifiable one may not.
    let ada = app
        .consenting_person("Ada", &["clinical", "teaching"])
        .await;
    let recording = video(&app, None, &[&ada], 11).await;
    let derive = |body: Value| {
        let app = &app;
        let recording = recording.clone();
        async move {
            app.post(&format!("/api/v1/recordings/{recording}/derivatives"), body)
                .await
        }
    };
    let identifiable = derive(json!({"kind": "still", "device": "EDIT-1",
        "made_at": minutes_from_now(-1), "purpose": "teaching"}))
    .await;
    assert_eq!(
        identifiable.status,
        StatusCode::FORBIDDEN,
        "{}",
        identifiable.body
    );
    assert_eq!(
        identifiable.body["requirement"], "C11",
        "{}",
        identifiable.body
    );
    let de_identified = derive(json!({"kind": "redaction", "de_identified": true,
        "method": "Surname muted", "device": "EDIT-1", "made_at": minutes_from_now(-1), "purpose": "teaching"}))
    .await;
    assert_eq!(
        de_identified.status,
        StatusCode::CREATED,
        "{}",
        de_identified.body
    );
    let made = events(&app, &de_identified.id(), "recording.derived").await;
    let detail: Value = serde_json::from_str(made[0]["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["use_of_source"]["purpose"], "teaching", "{detail}");

    // Without consent to research, no copy for research.
    let refused = derive(json!({"kind": "transcript", "device": "DICTATION-1",
        "made_at": minutes_from_now(-1), "purpose": "research", "study": "23/NE/0123"}))
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(refused.body["code"], "use.refused");

    // C7: once a group member withdraws, only a copy without them may be made.
    let members = [
        app.person("Bo", "has_capacity").await,
        app.consenting_person("Cy", &["clinical"]).await,
    ];
    let consent = app.consent(&members[0], &["clinical"], camhs(), 120).await;
    let group = session(&app, "group", &[&members[0], &members[1]]).await;
    let recording = video(&app, Some(&group), &[&members[0], &members[1]], 12).await;
    let reply = app
        .post(
            &format!("/api/v1/consents/{consent}/withdrawals"),
            json!({"at": minutes_from_now(-1), "withdrawn_by": {"kind": "person"},
                   "existing_recordings": "destroy"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let with_them = app
        .post(
            &format!("/api/v1/recordings/{recording}/derivatives"),
            json!({"kind": "transcript", "device": "DICTATION-1",
                   "made_at": minutes_from_now(-1), "purpose": "clinical"}),
        )
        .await;
    assert_eq!(
        with_them.status,
        StatusCode::FORBIDDEN,
        "{}",
        with_them.body
    );
    let without_them = app
        .post(
            &format!("/api/v1/recordings/{recording}/derivatives"),
            json!({"kind": "redaction", "removed_persons": [members[0]], "method": "Blurred",
                   "device": "EDIT-1", "made_at": minutes_from_now(-1), "purpose": "clinical"}),
        )
        .await;
    assert_eq!(
        without_them.status,
        StatusCode::CREATED,
        "{}",
        without_them.body
    );
}

on_both_backends!(app:
    x1_every_content_route_needs_a_purpose_and_refuses_after_withdrawal_revocation_and_deletion,
    x1_byte_ranges_go_under_one_grant_decided_and_audited_once,
    x1_a_grant_admits_only_its_holder_recording_and_purpose_until_it_expires,
    c8_a_withdrawal_on_one_server_refuses_the_next_range_on_the_other,
    s3_a_connection_an_access_change_or_a_destruction_revokes_grants_at_once,
    c11_c7_an_item_made_from_a_recording_is_judged_as_the_item_it_will_be,
);

/// X1: there is one function that turns a request for content into bytes — the app's
/// `read_permitted`, which takes a permit only the gate makes — and it alone reads a
/// recording's content out of the vault for anyone. (`vault verify` reads objects to check
/// their fingerprints and hands no byte out.)
#[test]
fn x1_one_function_alone_reads_content_out_of_the_vault() {
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates");
    let mut readers = Vec::new();
    let mut stack = vec![crates];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("vault") && !path.ends_with("target") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                if text.contains("read::read_range(") || text.contains("read_range(storage") {
                    readers.push(path);
                }
            }
        }
    }
    assert_eq!(readers.len(), 1, "{readers:?}");
    assert!(
        readers[0].ends_with("app/src/media/playback.rs"),
        "{readers:?}"
    );
    let playback = std::fs::read_to_string(&readers[0]).unwrap();
    assert_eq!(
        playback.matches("read_range(").count(),
        1,
        "one call, in one function"
    );
    assert!(playback.contains("async fn read_permitted(\n        &self,\n        permit: Permit,"));
    let gate = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/app/src/uses.rs"),
    )
    .unwrap();
    assert!(
        gate.contains("pub struct Permit {\n    recording: RecordingId,"),
        "a permit's fields stay private to the gate"
    );
}
