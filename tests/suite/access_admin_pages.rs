//! The administrator's pages for managing access (S2, X6): staff's roles and services, a lost
//! authenticator app, and the organisation's own access policies.

use axum::http::StatusCode;
use custodian_testkit::{
    ADMIN_PASSWORD, CLINICIAN, CLINICIAN_PASSWORD, IG_LEAD, IG_LEAD_PASSWORD, TestApp,
};
use serde_json::json;

use crate::access_pages::{FORBID_BREAK_GLASS, get, post, staff_id, textarea};

async fn s2_an_administrator_changes_roles_and_services_and_resets_an_authenticator_on_the_staff_pages(
    app: TestApp,
) {
    let cookie = app.cookie_for("admin", ADMIN_PASSWORD).await;
    let (status, html) = get(&app, &cookie, "/staff").await;
    assert_eq!(status, StatusCode::OK);
    let clinician = staff_id(&app, &app.token).await;
    assert!(
        html.contains(&format!("href=\"/staff/{clinician}\"")),
        "{html}"
    );
    assert!(html.contains("CAMHS-NORTH"), "{html}");

    let page = format!("/staff/{clinician}");
    let (status, html) = get(&app, &cookie, &page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("value=\"practitioner\" checked"), "{html}");
    assert!(html.contains("Single sign-on is not configured"), "{html}");

    // A practitioner in no service is refused, and what was typed stays.
    let access = format!("{page}/access");
    let (status, _, html) = post(
        &app,
        &cookie,
        &access,
        &[("roles", "practitioner"), ("services", "")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("at least one service"), "{html}");
    let (status, _, html) = post(
        &app,
        &cookie,
        &access,
        &[
            ("roles", "practitioner"),
            ("services", "CAMHS-NORTH, not a code!"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("value=\"CAMHS-NORTH, not a code!\""),
        "{html}"
    );

    let (status, location, _) = post(
        &app,
        &cookie,
        &access,
        &[
            ("roles", "practitioner"),
            ("roles", "team_manager"),
            ("services", "CAMHS-NORTH, adult-mh-east"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("{page}?done=access"));
    let me = app.get("/api/v1/auth/me").await;
    let sorted = |list: &serde_json::Value| {
        let mut codes: Vec<String> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|code| code.as_str().unwrap().to_owned())
            .collect();
        codes.sort();
        codes
    };
    assert_eq!(
        sorted(&me.body["staff"]["roles"]),
        ["practitioner", "team_manager"]
    );
    assert_eq!(
        sorted(&me.body["staff"]["services"]),
        ["ADULT-MH-EAST", "CAMHS-NORTH"]
    );

    // A lost authenticator app is removed; the IG lead sets up another at next sign-in.
    let ig = app.ig_lead().await;
    let ig_page = format!("/staff/{}", staff_id(&app, &ig).await);
    let (_, html) = get(&app, &cookie, &ig_page).await;
    assert!(html.contains("Remove their authenticator app"), "{html}");
    let (status, location, _) = post(&app, &cookie, &format!("{ig_page}/totp"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("{ig_page}?done=totp"));
    let (_, html) = get(&app, &cookie, &location).await;
    assert!(html.contains("Not set up"), "{html}");
    assert!(html.contains("Their role needs one"), "{html}");

    // Only administrators see these pages.
    let practitioner = app.cookie_for(CLINICIAN, CLINICIAN_PASSWORD).await;
    let (status, html) = get(&app, &practitioner, "/staff").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("ask an administrator"), "{html}");
}

async fn x6_an_administrator_adds_an_invalid_local_policy_sees_cedars_words_then_a_valid_one(
    app: TestApp,
) {
    let cookie = app.cookie_for("admin", ADMIN_PASSWORD).await;
    let (status, html) = get(&app, &cookie, "/policies").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("only Custodian&#39;s own policies")
            || html.contains("only Custodian's own policies"),
        "{html}"
    );
    assert!(html.contains("S3.personal-connection"), "{html}");

    let invalid = "permit (principal, action == Custodian::Action::\"fly\", resource);";
    let (status, _, html) = post(
        &app,
        &cookie,
        "/policies",
        &[("name", "no-flying"), ("text", invalid)],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let summary = &html[html.find("error-summary").expect("an error summary")..];
    assert!(
        summary.contains("refused the policy") && summary.contains("fly"),
        "{summary}"
    );
    assert_eq!(textarea(&html), invalid, "the text stays as typed");
    let (status, _, html) = post(
        &app,
        &cookie,
        "/policies",
        &[("name", "no flying!"), ("text", FORBID_BREAK_GLASS)],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("href=\"#name\""), "{html}");

    let (status, location, _) = post(
        &app,
        &cookie,
        "/policies",
        &[("name", "no-break-glass"), ("text", FORBID_BREAK_GLASS)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/policies?done=saved");
    let (_, html) = get(&app, &cookie, &location).await;
    assert!(html.contains("sent for approval"), "{html}");
    assert!(html.contains("Changes waiting for approval: 1"), "{html}");
    assert!(
        !html.contains("id=\"policy-no-break-glass\""),
        "not in force yet: {html}"
    );
    // The administrator may withdraw it, not approve it.
    let (status, html) = get(&app, &cookie, "/policy-proposals").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"reject-no-break-glass\""), "{html}");
    assert!(!html.contains("id=\"approve-no-break-glass\""), "{html}");
    // An information-governance lead approves it from their page.
    app.ig_lead().await;
    let ig = app.cookie_for(IG_LEAD, IG_LEAD_PASSWORD).await;
    let (_, html) = get(&app, &ig, "/").await;
    assert!(html.contains("href=\"/policy-proposals\""), "{html}");
    let (_, html) = get(&app, &ig, "/policy-proposals").await;
    assert!(
        html.contains("Add or replace the policy no-break-glass"),
        "{html}"
    );
    let (status, location, _) =
        post(&app, &ig, "/policy-proposals/no-break-glass/approval", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/policy-proposals?done=approved");
    let (_, html) = get(&app, &cookie, "/policies").await;
    assert!(html.contains("id=\"policy-no-break-glass\""), "{html}");
    let on_call = app
        .staff_member(
            "on.call",
            "a pass phrase for the night",
            &["practitioner", "on_call"],
            &["ADULT-MH-EAST"],
        )
        .await;
    let taken = app
        .as_(&on_call)
        .post(
            &format!(
                "/api/v1/persons/{}/emergency-access",
                app.person("Kit", "has_capacity").await
            ),
            json!({"reason": "Called to the ward at night; no one from the team on duty"}),
        )
        .await;
    assert_eq!(taken.status, StatusCode::FORBIDDEN, "{}", taken.body);
    assert!(
        taken.body["detail"]
            .as_str()
            .unwrap()
            .contains("does not allow emergency access"),
        "the policy is in force: {}",
        taken.body
    );

    // Changed on its own page: an invalid change keeps the text and changes nothing.
    let (status, html) = get(&app, &cookie, "/policies/no-break-glass").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(textarea(&html), FORBID_BREAK_GLASS);
    let (status, _, html) = post(
        &app,
        &cookie,
        "/policies/no-break-glass",
        &[("text", invalid)],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(textarea(&html), invalid);
    let listed = app.as_(&app.admin_token).get("/api/v1/policies").await;
    assert_eq!(listed.body["local"][0]["text"], FORBID_BREAK_GLASS);

    // Deleted after confirming.
    let (status, html) = get(&app, &cookie, "/policies/no-break-glass/delete").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Yes, delete it"), "{html}");
    let (status, location, _) = post(&app, &cookie, "/policies/no-break-glass/delete", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/policies?done=deleted");
    assert_eq!(
        app.approve_policy("no-break-glass").await.status,
        StatusCode::NO_CONTENT
    );
    let listed = app.as_(&app.admin_token).get("/api/v1/policies").await;
    assert_eq!(listed.body["local"], json!([]));
    let mut tx = app.db.register.read().await.unwrap();
    let actions: Vec<String> = tx
        .audit_events_after(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|event| event.action)
        .collect();
    assert!(
        actions.contains(&"access.policy_changed".to_owned())
            && actions.contains(&"access.policy_removed".to_owned()),
        "{actions:?}"
    );

    // Only administrators.
    let practitioner = app.cookie_for(CLINICIAN, CLINICIAN_PASSWORD).await;
    let (status, _, _) = post(
        &app,
        &practitioner,
        "/policies",
        &[
            ("name", "sneaky"),
            ("text", "permit (principal, action, resource);"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

on_both_backends!(app:
    s2_an_administrator_changes_roles_and_services_and_resets_an_authenticator_on_the_staff_pages,
    x6_an_administrator_adds_an_invalid_local_policy_sees_cedars_words_then_a_valid_one,
);
