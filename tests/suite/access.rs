//! Access stories beyond the table (S2, S3, S5, X6): another team's ids, a personal connection
//! everywhere, emergency access, the organisation's own policies and the report of refusals.

use axum::http::{Method, StatusCode};
use custodian_testkit::TestApp;
use custodian_testkit::fixtures::mp4;
use serde_json::json;

/// A person in the practitioner's service with a recording of them; (person, recording).
async fn person_with_recording(app: &TestApp, given: &str) -> (String, String) {
    let person = app.person(given, "has_capacity").await;
    let recording = app
        .upload(
            &json!({
                "kind": "video", "service": "CAMHS-NORTH", "subjects": [person], "purposes": ["clinical"],
                "device": "TAB-0042", "made_at": custodian_testkit::fixtures::minutes_from_now(-30),
                "location": "Therapy room 2",
            }),
            mp4(8_000, 4),
        )
        .await;
    assert_eq!(recording.status, StatusCode::CREATED, "{:?}", recording);
    let id = recording.headers["custodian-recording-id"]
        .to_str()
        .unwrap()
        .to_owned();
    (person, id)
}

async fn s2_another_teams_ids_are_refused_named_and_audited(app: TestApp) {
    let (person, recording) = person_with_recording(&app, "Ada").await;
    let other = app
        .staff_member(
            "other.team",
            "a pass phrase for elsewhere",
            &["practitioner"],
            &["ADULT-MH-EAST"],
        )
        .await;
    for path in [
        format!("/api/v1/persons/{person}"),
        format!("/api/v1/recordings/{recording}"),
        format!("/api/v1/recordings/{recording}/media?purpose=clinical"),
        format!("/api/v1/recordings/{recording}/decision?purpose=clinical"),
    ] {
        let refused = app.as_(&other).get(&path).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{path}: {}",
            refused.body
        );
        assert_eq!(refused.code(), "access.refused");
        assert_eq!(refused.body["requirement"], "S2");
        assert!(
            refused.body["detail"]
                .as_str()
                .unwrap()
                .contains("ask your team manager"),
            "{}",
            refused.body
        );
    }
    // Nor does a search find them.
    let found = app.as_(&other).get("/api/v1/persons?q=Testperson").await;
    assert_eq!(found.status, StatusCode::OK);
    assert_eq!(found.body.as_array().unwrap().len(), 0, "{}", found.body);
    // Once the team manager adds the other service to the person's care, they may.
    let manager = app
        .staff_member(
            "team.manager",
            "a pass phrase for managing",
            &["team_manager"],
            &["CAMHS-NORTH"],
        )
        .await;
    let added = app
        .as_(&manager)
        .post(
            &format!("/api/v1/persons/{person}/services"),
            json!({"service": "ADULT-MH-EAST"}),
        )
        .await;
    assert_eq!(added.status, StatusCode::NO_CONTENT, "{}", added.body);
    let seen = app
        .as_(&other)
        .get(&format!("/api/v1/recordings/{recording}"))
        .await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
}

async fn s3_a_declared_connection_keeps_its_maker_out_everywhere_whatever_their_role(app: TestApp) {
    let (person, recording) = person_with_recording(&app, "Bela").await;
    let (unconnected, _) = person_with_recording(&app, "Cato").await;
    let declared = app
        .post(
            &format!("/api/v1/persons/{person}/connection"),
            json!({"kind": "neighbour"}),
        )
        .await;
    assert_eq!(declared.status, StatusCode::NO_CONTENT, "{}", declared.body);
    for path in [
        format!("/api/v1/persons/{person}"),
        format!("/api/v1/persons/{person}/recordings"),
        format!("/api/v1/recordings/{recording}"),
        format!("/api/v1/recordings/{recording}/media?purpose=clinical"),
    ] {
        let refused = app.get(&path).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(refused.body["requirement"], "S3", "{}", refused.body);
    }
    // The search leaves out the connected person and keeps the other.
    let found = app.get("/api/v1/persons?q=Testperson").await;
    let ids: Vec<&str> = found
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(
        !ids.contains(&person.as_str()) && ids.contains(&unconnected.as_str()),
        "{ids:?}"
    );
    // The connection is theirs to see.
    let mine = app.get("/api/v1/connections").await;
    assert_eq!(mine.body[0]["person_id"], person.as_str());
    // No local policy can lift it: a permit of everything to practitioners changes nothing.
    let policy = app
        .adopt_policy(
            "practitioners-see-everything",
            "permit (principal in Custodian::Role::\"practitioner\", action, resource);",
        )
        .await;
    assert_eq!(policy.status, StatusCode::NO_CONTENT, "{}", policy.body);
    assert_eq!(
        app.get(&format!("/api/v1/recordings/{recording}"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

async fn s3_emergency_access_needs_a_reason_lasts_an_hour_and_waits_for_the_ig_lead(app: TestApp) {
    let (person, recording) = person_with_recording(&app, "Dara").await;
    let other = app
        .staff_member(
            "on.call",
            "a pass phrase for the night",
            &["practitioner", "on_call"],
            &["ADULT-MH-EAST"],
        )
        .await;
    let path = format!("/api/v1/persons/{person}/emergency-access");
    let no_reason = app
        .as_(&other)
        .post(&path, json!({"reason": "need it"}))
        .await;
    assert_eq!(no_reason.status, StatusCode::CONFLICT);
    assert_eq!(no_reason.code(), "access.reason_required");
    let taken = app
        .as_(&other)
        .post(
            &path,
            json!({"reason": "Called to the ward at night; no one from the team on duty"}),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CREATED, "{}", taken.body);
    let seen = app
        .as_(&other)
        .get(&format!("/api/v1/recordings/{recording}"))
        .await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);

    // The IG lead is told: it waits for their review, on the API and on their dashboard.
    let ig = app
        .staff_member(
            "ig.lead",
            "a pass phrase for governance",
            &["information_governance_lead"],
            &[],
        )
        .await;
    let waiting = app.as_(&ig).get("/api/v1/emergency-access").await;
    assert_eq!(
        waiting.body[0]["reason"],
        "Called to the ward at night; no one from the team on duty"
    );
    let grant = waiting.body[0]["id"].as_str().unwrap().to_owned();
    let dashboard = app
        .custodian
        .dashboard(
            &app.custodian
                .authenticate_token(&custodian_app::Secret::from(ig.clone()))
                .await
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(dashboard.emergency_to_review.len(), 1);
    let reviewed = app
        .as_(&ig)
        .post_empty(&format!("/api/v1/emergency-access/{grant}/review"))
        .await;
    assert_eq!(reviewed.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.as_(&ig).get("/api/v1/emergency-access").await.body,
        json!([])
    );

    // An hour later it has ended.
    app.clock.advance(time::Duration::minutes(61));
    let ended = app
        .as_(&other)
        .get(&format!("/api/v1/recordings/{recording}"))
        .await;
    assert_eq!(ended.status, StatusCode::FORBIDDEN, "{}", ended.body);
}

async fn x6_the_organisations_own_policy_is_checked_audited_and_takes_effect(app: TestApp) {
    let (person, _) = person_with_recording(&app, "Eli").await;
    let invalid = app
        .as_(&app.admin_token)
        .put(
            "/api/v1/policies/no-such-role",
            json!({"text": "permit (principal, action == Custodian::Action::\"fly\", resource);"}),
        )
        .await;
    assert_eq!(
        invalid.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        invalid.body
    );
    assert_eq!(invalid.code(), "access.invalid_policy");
    assert_eq!(invalid.body["requirement"], "X6");
    assert!(
        invalid.body["detail"].as_str().unwrap().contains("fly"),
        "{}",
        invalid.body
    );
    // Practitioners of this organisation may not take emergency access, not even on call.
    let on_call = app
        .staff_member(
            "night.cover",
            "a pass phrase for the night",
            &["practitioner", "on_call"],
            &["ADULT-MH-EAST"],
        )
        .await;
    let forbid = "@refusal(\"this organisation does not allow emergency access\")\n\
        forbid (principal, action == Custodian::Action::\"break_glass\", resource);";
    // Proposed, it changes nothing yet: an information-governance lead must approve it, and
    // not the one who proposed it.
    let proposed = app
        .as_(&app.admin_token)
        .put("/api/v1/policies/no-break-glass", json!({"text": forbid}))
        .await;
    assert_eq!(proposed.status, StatusCode::ACCEPTED, "{}", proposed.body);
    assert_eq!(proposed.body["removal"], false);
    let waiting = app.as_(&app.admin_token).get("/api/v1/policies").await;
    assert_eq!(waiting.body["local"].as_array().map(Vec::len), Some(0));
    let practitioner_approves = app
        .as_(&app.token)
        .post_empty("/api/v1/policy-proposals/no-break-glass/approval")
        .await;
    assert_eq!(practitioner_approves.status, StatusCode::FORBIDDEN);
    let put = app.approve_policy("no-break-glass").await;
    assert_eq!(put.status, StatusCode::NO_CONTENT, "{}", put.body);
    let refused = app
        .as_(&on_call)
        .post(
            &format!("/api/v1/persons/{person}/emergency-access"),
            json!({"reason": "Called to the ward at night; no one from the team on duty"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("does not allow emergency access"),
        "{}",
        refused.body
    );
    let listed = app.as_(&app.admin_token).get("/api/v1/policies").await;
    assert_eq!(listed.body["local"][0]["name"], "no-break-glass");
    let mut tx = app.db.register.read().await.unwrap();
    let events = tx.audit_events_after(0, 10_000).await.unwrap();
    let changed = events
        .iter()
        .find(|e| e.action == "access.policy_changed")
        .expect("audited");
    assert!(changed.detail.contains("sha256"), "{}", changed.detail);
    assert!(changed.detail.contains("approved_by"), "{}", changed.detail);
    assert!(events.iter().any(|e| e.action == "access.policy_proposed"));
}

/// Insecure direct object references: the ids of a person who has withdrawn consent are no
/// way in. Another team is refused by access (S2) and learns nothing of the withdrawal; the
/// care team still sees the record, but every use of the recording is refused by the
/// decision (C8), and the refusal says what the person chose.
async fn s2_c8_a_withdrawn_persons_ids_are_no_way_in(app: TestApp) {
    let (person, recording) = person_with_recording(&app, "Hal").await;
    let consent = crate::decisions::consent(
        &app,
        &person,
        &["clinical", "teaching"],
        json!({"kind": "service", "service": "CAMHS-NORTH"}),
        60,
    )
    .await;
    let allowed = app
        .get(&format!(
            "/api/v1/recordings/{recording}/decision?purpose=clinical"
        ))
        .await;
    assert_eq!(allowed.body["outcome"], "allowed", "{}", allowed.body);
    let withdrawn = app
        .post(
            &format!("/api/v1/consents/{consent}/withdrawals"),
            json!({"at": custodian_testkit::fixtures::minutes_from_now(-1),
                "withdrawn_by": {"kind": "person"}, "existing_recordings": "destroy"}),
        )
        .await;
    assert_eq!(withdrawn.status, StatusCode::CREATED, "{}", withdrawn.body);
    let other = app
        .staff_member(
            "other.team",
            "a pass phrase for elsewhere",
            &["practitioner"],
            &["ADULT-MH-EAST"],
        )
        .await;
    for path in [
        format!("/api/v1/persons/{person}"),
        format!("/api/v1/persons/{person}/consents"),
        format!("/api/v1/recordings/{recording}"),
        format!("/api/v1/recordings/{recording}/media?purpose=clinical"),
        format!("/api/v1/recordings/{recording}/decision?purpose=clinical"),
    ] {
        let refused = app.as_(&other).get(&path).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        let text = refused.body.to_string().to_lowercase();
        assert!(
            !text.contains("withdr") && !text.contains("hal"),
            "{path} tells another team about the person: {text}"
        );
    }
    let cookie = app
        .sign_in("other.team", "a pass phrase for elsewhere")
        .await
        .cookie
        .unwrap();
    for path in [
        format!("/persons/{person}"),
        format!("/recordings/{recording}"),
    ] {
        let page = app
            .send_raw(
                axum::http::Request::get(&path)
                    .header("cookie", &cookie)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(page.0, StatusCode::FORBIDDEN, "{path}");
        let text = String::from_utf8_lossy(&page.2).to_lowercase();
        assert!(
            !text.contains("withdr") && !text.contains("testperson"),
            "{path} tells another team about the person"
        );
    }
    for purpose in ["clinical", "teaching"] {
        let refused = app
            .get(&format!(
                "/api/v1/recordings/{recording}/decision?purpose={purpose}"
            ))
            .await;
        assert_eq!(refused.status, StatusCode::OK, "{}", refused.body);
        assert_eq!(refused.body["outcome"], "refused", "{}", refused.body);
        let reasons = refused.body["reasons"].as_array().unwrap();
        assert!(
            reasons
                .iter()
                .any(|r| r["code"] == "consent.withdrawn" && r["requirement"] == "C8"),
            "{purpose}: {}",
            refused.body
        );
    }
}

/// A search for people through `router`, as the practitioner: the status it gets.
async fn search_status(app: &TestApp, router: &axum::Router) -> StatusCode {
    use tower::ServiceExt;
    let request = app
        .request(Method::GET, "/api/v1/persons?q=Testperson")
        .body(axum::body::Body::empty())
        .unwrap();
    router.clone().oneshot(request).await.unwrap().status()
}

async fn x6_a_policy_changed_on_one_server_is_taken_up_by_another_sharing_the_register(
    app: TestApp,
) {
    let second = custodian_app::Custodian::start(
        app.db.register.clone(),
        app.clock.clone(),
        custodian_app::vault::VaultSettings::local(app.data.path()),
    )
    .await
    .unwrap();
    let second_router = custodian_web::router(custodian_web::AppState::new(second.clone()));
    assert_eq!(search_status(&app, &second_router).await, StatusCode::OK);
    let forbid = "forbid (principal, action == Custodian::Action::\"find_persons\", resource);";
    let put = app.adopt_policy("no-search", forbid).await;
    assert_eq!(put.status, StatusCode::NO_CONTENT, "{}", put.body);
    // The server that made the change applies it at once; the other at its next refresh,
    // which `serve` runs every 10 seconds.
    assert_eq!(
        app.get("/api/v1/persons?q=Testperson").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(search_status(&app, &second_router).await, StatusCode::OK);
    assert!(second.refresh_access_policies().await.unwrap());
    assert_eq!(
        search_status(&app, &second_router).await,
        StatusCode::FORBIDDEN
    );
    assert!(
        !second.refresh_access_policies().await.unwrap(),
        "nothing changed since"
    );
    assert!(
        !app.custodian.refresh_access_policies().await.unwrap(),
        "the server that made the change already holds it"
    );
    let removed = app.drop_policy("no-search").await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
    assert!(second.refresh_access_policies().await.unwrap());
    assert_eq!(search_status(&app, &second_router).await, StatusCode::OK);
}

async fn s5_refusals_are_reported_by_person_member_of_staff_and_rule(app: TestApp) {
    let (person, recording) = person_with_recording(&app, "Fen").await;
    let other = app
        .staff_member(
            "curious",
            "a pass phrase for browsing",
            &["practitioner"],
            &["ADULT-MH-EAST"],
        )
        .await;
    for _ in 0..3 {
        app.as_(&other)
            .get(&format!("/api/v1/recordings/{recording}"))
            .await;
    }
    let ig = app
        .staff_member(
            "ig.lead",
            "a pass phrase for governance",
            &["information_governance_lead"],
            &[],
        )
        .await;
    let report = app.as_(&ig).get("/api/v1/reports/refusals").await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert_eq!(report.body["by_person"][&person], 3, "{}", report.body);
    assert_eq!(
        report.body["by_rule"]["S2 no policy allows it"], 3,
        "{}",
        report.body
    );
    assert_eq!(
        report.body["by_staff"]
            .as_object()
            .unwrap()
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum::<u64>(),
        3
    );
    // Only the IG lead sees it.
    let refused = app.as_(&other).get("/api/v1/reports/refusals").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

async fn s2_a_page_offers_only_what_the_role_may_do(app: TestApp) {
    for (username, password, offered) in [
        (
            custodian_testkit::CLINICIAN,
            custodian_testkit::CLINICIAN_PASSWORD,
            true,
        ),
        ("admin", custodian_testkit::ADMIN_PASSWORD, false),
    ] {
        let cookie = app.sign_in(username, password).await.cookie.unwrap();
        let request = axum::http::Request::get("/")
            .header(axum::http::header::COOKIE, cookie)
            .body(axum::body::Body::empty())
            .unwrap();
        let (status, _, bytes) = app.send_raw(request).await;
        assert_eq!(status, StatusCode::OK);
        let html = String::from_utf8(bytes).unwrap();
        assert_eq!(
            html.contains("Find a person"),
            offered,
            "{username}: {html}"
        );
    }
    // A records manager sees a person's record but may not record consent or start a session,
    // so their page offers neither; the practitioner's offers both.
    let person = app.person("Ivo", "has_capacity").await;
    app.staff_member(
        "records.keeper",
        "a pass phrase for keeping records",
        &["records_manager"],
        &[],
    )
    .await;
    for (username, password, offered) in [
        (
            custodian_testkit::CLINICIAN,
            custodian_testkit::CLINICIAN_PASSWORD,
            true,
        ),
        ("records.keeper", "a pass phrase for keeping records", false),
    ] {
        let cookie = app.sign_in(username, password).await.cookie.unwrap();
        let request = axum::http::Request::get(format!("/persons/{person}"))
            .header(axum::http::header::COOKIE, cookie)
            .body(axum::body::Body::empty())
            .unwrap();
        let (status, _, bytes) = app.send_raw(request).await;
        assert_eq!(status, StatusCode::OK, "{username}");
        let html = String::from_utf8(bytes).unwrap();
        for offer in ["Record a consent", "Start a session", "course of sessions"] {
            assert_eq!(html.contains(offer), offered, "{username}, {offer}");
        }
    }
}

on_both_backends!(app:
    s2_a_page_offers_only_what_the_role_may_do,
    s2_another_teams_ids_are_refused_named_and_audited,
    s3_a_declared_connection_keeps_its_maker_out_everywhere_whatever_their_role,
    s3_emergency_access_needs_a_reason_lasts_an_hour_and_waits_for_the_ig_lead,
    x6_the_organisations_own_policy_is_checked_audited_and_takes_effect,
    x6_a_policy_changed_on_one_server_is_taken_up_by_another_sharing_the_register,
    s2_c8_a_withdrawn_persons_ids_are_no_way_in,
    s5_refusals_are_reported_by_person_member_of_staff_and_rule,
);
