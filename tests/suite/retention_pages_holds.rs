//! The legal holds and retention schedule pages (D4, D7), and who sees the links to the
//! retention pages. The disposal queue is in `retention_pages`.

use axum::http::StatusCode;
use custodian_testkit::{ADMIN_PASSWORD, CLINICIAN, CLINICIAN_PASSWORD, TestApp};

use crate::access_pages::{get, post};
use crate::retention::transcribed_video;
use crate::retention_pages::records_manager;

async fn d7_holds_are_placed_and_lifted_on_the_legal_holds_page(app: TestApp) {
    let (cookie, token) = records_manager(&app).await;
    let (person, id) = transcribed_video(&app, 35).await;

    // The recording's page offers a hold, filled in.
    let (status, html) = get(&app, &cookie, &format!("/recordings/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let link = format!("/legal-holds?recording={id}#place");
    assert!(html.contains(&link), "{html}");
    let (status, html) = get(&app, &cookie, &link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!(">{id}</textarea>")), "{html}");

    // Bad input: no matter, no reference, nothing covered, a wrong id.
    let (status, _, html) = post(&app, &cookie, "/legal-holds", &[("reference", "CMP-1")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("href=\"#kind\""), "{html}");
    let (status, _, html) = post(
        &app,
        &cookie,
        "/legal-holds",
        &[("kind", "complaint"), ("recordings", &id)],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("href=\"#reference\""), "{html}");
    let (status, _, html) = post(
        &app,
        &cookie,
        "/legal-holds",
        &[("kind", "complaint"), ("reference", "CMP-1")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("href=\"#recordings\""), "{html}");
    let (status, _, html) = post(
        &app,
        &cookie,
        "/legal-holds",
        &[
            ("kind", "complaint"),
            ("reference", "CMP-1"),
            ("persons", "not-an-id"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("href=\"#persons\"") && html.contains("not-an-id"),
        "{html}"
    );

    let (status, location, html) = post(
        &app,
        &cookie,
        "/legal-holds",
        &[
            ("kind", "complaint"),
            ("reference", "CMP-2026-0042"),
            ("recordings", &id),
            ("persons", &person),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(location, "/legal-holds?done=placed");
    let (_, html) = get(&app, &cookie, &location).await;
    assert!(html.contains("Complaint CMP-2026-0042"), "{html}");
    assert!(
        html.contains("Tam Testperson"),
        "the person is named: {html}"
    );
    let holds = app.as_(&token).get("/api/v1/legal-holds").await;
    let hold = holds.body[0]["id"].as_str().unwrap().to_owned();
    let (_, html) = get(&app, &cookie, "/disposals").await;
    let held = &html[html.find("id=\"held\"").unwrap()..];
    assert!(
        held.contains(&id) && held.contains("CMP-2026-0042"),
        "{held}"
    );

    // Lifting needs a reason, and the records manager.
    let lift = format!("/legal-holds/{hold}/lift");
    let (status, _, html) = post(&app, &cookie, &lift, &[("reason", " ")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("href=\"#lift_reason\"") && html.contains("id=\"lift_reason\""),
        "{html}"
    );
    app.ig_lead().await;
    let ig_cookie = app
        .cookie_for(
            custodian_testkit::IG_LEAD,
            custodian_testkit::IG_LEAD_PASSWORD,
        )
        .await;
    let (status, html) = get(&app, &ig_cookie, "/legal-holds").await;
    assert_eq!(status, StatusCode::OK, "the IG lead sees holds");
    assert!(
        !html.contains("Lift this hold"),
        "but is not offered lifting: {html}"
    );
    let (status, _, html) = post(&app, &ig_cookie, &lift, &[("reason", "Complaint closed")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
    assert!(html.contains("D4.records-manager-retention"), "{html}");

    let (status, location, _) = post(
        &app,
        &cookie,
        &lift,
        &[("reason", "Complaint closed without a claim")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/legal-holds?done=lifted");
    let (_, html) = get(&app, &cookie, &location).await;
    let lifted = &html[html.find("id=\"lifted\"").unwrap()..];
    assert!(
        lifted.contains("Complaint closed without a claim"),
        "{lifted}"
    );
}

async fn d4_the_schedule_page_changes_a_period_and_refuses_bad_ones_naming_the_rule(app: TestApp) {
    let (cookie, token) = records_manager(&app).await;
    let (status, html) = get(&app, &cookie, "/retention/schedule").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("id=\"rule-d2-yearly-review\""), "{html}");
    assert!(
        html.contains("href=\"/retention/schedule/d2-yearly-review\""),
        "{html}"
    );

    let page = "/retention/schedule/d2-yearly-review";
    let (status, html) = get(&app, &cookie, page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Change the period"), "{html}");
    for (fields, expected) in [
        (vec![("years", "-1")], "d2-yearly-review"),
        (vec![("years", "101")], "d2-yearly-review"),
        (vec![("years", "two")], "whole number"),
    ] {
        let (status, _, html) = post(&app, &cookie, page, &fields).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        let summary = &html[html.find("error-summary").expect("an error summary")..];
        assert!(summary.contains(expected), "{fields:?}: {summary}");
        assert!(
            html.contains(&format!("value=\"{}\"", fields[0].1)),
            "kept as typed"
        );
    }
    let (status, location, _) = post(&app, &cookie, page, &[("years", "2")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        location,
        "/retention/schedule?done=changed#rule-d2-yearly-review"
    );
    let schedule = app.as_(&token).get("/api/v1/retention/schedule").await;
    let rule = schedule.body["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "d2-yearly-review")
        .unwrap()
        .clone();
    assert_eq!(rule["period"], "2 years", "{rule}");

    // An unknown rule is not found; a practitioner is refused the page, naming the rules.
    let (status, _) = get(&app, &cookie, "/retention/schedule/no-such-rule").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let practitioner = app.cookie_for(CLINICIAN, CLINICIAN_PASSWORD).await;
    let (status, html) = get(&app, &practitioner, "/retention/schedule").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
    assert!(
        html.contains("D4.records-manager-retention") && html.contains("administrator"),
        "{html}"
    );
    let (status, _, _) = post(&app, &practitioner, page, &[("years", "1")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn d4_only_those_whose_role_allows_see_the_retention_links(app: TestApp) {
    let (manager, _) = records_manager(&app).await;
    let practitioner = app.cookie_for(CLINICIAN, CLINICIAN_PASSWORD).await;
    let admin = app.cookie_for("admin", ADMIN_PASSWORD).await;
    let links = [
        "id=\"disposals-link\"",
        "id=\"legal-holds-link\"",
        "id=\"schedule-link\"",
    ];
    for (cookie, expected) in [
        (&manager, [true, true, true]),
        (&admin, [false, false, true]),
        (&practitioner, [false, false, false]),
    ] {
        let (status, html) = get(&app, cookie, "/").await;
        assert_eq!(status, StatusCode::OK);
        for (link, shown) in links.iter().zip(expected) {
            assert_eq!(html.contains(link), shown, "{link}: {html}");
        }
    }
    let (status, html) = get(&app, &practitioner, "/disposals").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("D4.records-manager-retention"), "{html}");
    let (status, html) = get(&app, &practitioner, "/legal-holds").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("D7.information-governance-holds"), "{html}");
}

on_both_backends!(app:
    d7_holds_are_placed_and_lifted_on_the_legal_holds_page,
    d4_the_schedule_page_changes_a_period_and_refuses_bad_ones_naming_the_rule,
    d4_only_those_whose_role_allows_see_the_retention_links,
);
