//! The access table (S2, S3): every API route and page, asked by every role and by a member of
//! staff with a personal connection, with the answer each must get. The table is the
//! specification: a route the router knows and the table does not fails the test.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use base64::Engine;
use custodian_testkit::fixtures::{minutes_from_now, mp4, nhs_number};
use custodian_testkit::{ADMIN_PASSWORD, CLINICIAN, CLINICIAN_PASSWORD, TestApp};
use serde_json::{Value, json};

/// Who asks, in the order of each row's expectations.
const ASKERS: [Asker; 9] = [
    Asker::new("practitioner", &["practitioner"], &["CAMHS-NORTH"]),
    Asker::new("team manager", &["team_manager"], &["CAMHS-NORTH"]),
    // On call, as is `connected`: emergency access is for those on call alone (S3).
    Asker::new(
        "other team",
        &["practitioner", "on_call"],
        &["ADULT-MH-EAST"],
    ),
    Asker::new("records manager", &["records_manager"], &[]),
    Asker::new("IG lead", &["information_governance_lead"], &[]),
    Asker::new("communications", &["communications"], &[]),
    Asker::new("auditor", &["auditor"], &[]),
    Asker::new("administrator", &["administrator"], &[]),
    Asker::new("connected", &["practitioner", "on_call"], &["CAMHS-NORTH"]),
];

struct Asker {
    label: &'static str,
    roles: &'static [&'static str],
    services: &'static [&'static str],
}

impl Asker {
    const fn new(
        label: &'static str,
        roles: &'static [&'static str],
        services: &'static [&'static str],
    ) -> Self {
        Self {
            label,
            roles,
            services,
        }
    }
}

/// A signed-in asker: an API token and a page cookie.
struct Credentials {
    username: String,
    password: String,
    token: String,
    cookie: String,
    /// A second sign-in, for signing out of.
    spare_cookie: String,
}

/// What one asker gets: `Y` done (2xx or 3xx), `N` refused (403), `-` not found (404: someone
/// else's upload), `y` not refused (any answer but 401 and 403: the request is one that may
/// fail for reasons of its own, such as a wrong current password, proved elsewhere), `T` asked
/// for the code of an authenticator app (401: the password alone does not sign in).
fn matches(expected: char, status: StatusCode) -> bool {
    match expected {
        'Y' => status.is_success() || status.is_redirection(),
        'N' => status == StatusCode::FORBIDDEN,
        '-' => status == StatusCode::NOT_FOUND,
        'y' => status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
        'T' => status == StatusCode::UNAUTHORIZED,
        _ => false,
    }
}

/// The ids one asker's requests use, made fresh for each asker by the practitioner.
#[derive(Default)]
struct Ids(BTreeMap<&'static str, String>);

impl Ids {
    fn get(&self, name: &str) -> &str {
        self.0.get(name).unwrap_or_else(|| panic!("no {name} yet"))
    }
}

/// One route asked one way: how to build the request, and what each asker gets.
struct Row {
    method: Method,
    /// The route as the router (and the OpenAPI document) names it.
    route: &'static str,
    expect: &'static str,
    request: fn(&Ids, &Credentials) -> Request<Body>,
    /// Keeps an id from the answer's body for later rows.
    keeps: Option<(&'static str, &'static str)>,
}

fn api(method: Method, path: &str, who: &Credentials, body: Option<Value>) -> Request<Body> {
    let builder = Request::builder()
        .method(method)
        .uri(format!("/api/v1{path}"))
        .header(header::AUTHORIZATION, format!("Bearer {}", who.token));
    match body {
        Some(body) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => builder.body(Body::empty()),
    }
    .unwrap()
}

/// A page request carrying the asker's sign-in cookie (the suite adds the form token).
fn page(method: Method, path: &str, who: &Credentials, fields: &[(&str, &str)]) -> Request<Body> {
    let mut request = if method == Method::GET {
        Request::get(path).body(Body::empty()).unwrap()
    } else {
        crate::pages::form(path, fields)
    };
    request
        .headers_mut()
        .insert(header::COOKIE, who.cookie.parse().unwrap());
    request
}

fn recording_json(ids: &Ids) -> Value {
    json!({
        "kind": "video", "service": "CAMHS-NORTH", "session_id": ids.get("session"),
        "subjects": [ids.get("person")], "purposes": ["clinical", "newsletters"],
        "device": "TAB-0042", "made_at": minutes_from_now(-5), "location": "Therapy room 2",
    })
}

fn upload(who: &Credentials, ids: &Ids, declared: usize, bytes: Vec<u8>) -> Request<Body> {
    let metadata = format!(
        "recording {}",
        base64::engine::general_purpose::STANDARD.encode(recording_json(ids).to_string())
    );
    Request::builder()
        .method(Method::POST)
        .uri("/api/v1/uploads")
        .header(header::AUTHORIZATION, format!("Bearer {}", who.token))
        .header("tus-resumable", "1.0.0")
        .header("upload-length", declared.to_string())
        .header("upload-metadata", metadata)
        .header(header::CONTENT_TYPE, "application/offset+octet-stream")
        .body(Body::from(bytes))
        .unwrap()
}

macro_rules! row {
    ($method:ident $route:literal $expect:literal, |$ids:ident, $who:ident| $request:expr) => {
        row!($method $route $expect, |$ids, $who| $request, None)
    };
    ($method:ident $route:literal $expect:literal, |$ids:ident, $who:ident| $request:expr, keeps $field:literal as $name:literal) => {
        row!($method $route $expect, |$ids, $who| $request, Some(($field, $name)))
    };
    ($method:ident $route:literal $expect:literal, |$ids:ident, $who:ident| $request:expr, $keeps:expr) => {
        Row {
            method: Method::$method,
            route: $route,
            expect: $expect,
            request: |$ids, $who| {
                let _ = (&$ids, &$who);
                $request
            },
            keeps: $keeps,
        }
    };
}

/// The API. Columns: practitioner, team manager, other team, records manager, IG lead,
/// communications, auditor, administrator, connected. Rows that change what later rows see
/// (withdrawal, stops, emergency access, connection, destruction) come last.
fn api_rows() -> Vec<Row> {
    vec![
        row!(GET "/healthz" "YYYYYYYYY", |i, w| Request::get("/healthz").body(Body::empty()).unwrap()),
        row!(GET "/readyz" "YYYYYYYYY", |i, w| Request::get("/readyz").body(Body::empty()).unwrap()),
        row!(GET "/auth/me" "YYYYYYYYY", |i, w| api(Method::GET, "/auth/me", w, None)),
        row!(POST "/auth/sign-in" "YYYYTYYTY", |i, w| {
            Request::post("/api/v1/auth/sign-in")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json!({"username": w.username, "password": w.password}).to_string()))
                .unwrap()
        }),
        row!(POST "/auth/sign-out" "YYYYYYYYY", |i, w| Request::post("/api/v1/auth/sign-out").body(Body::empty()).unwrap()),
        row!(POST "/auth/password" "yyyyyyyyy", |i, w| api(Method::POST, "/auth/password", w,
            Some(json!({"current_password": w.password, "new_password": "short"})))),
        row!(GET "/tokens" "YYYYYYYYY", |i, w| api(Method::GET, "/tokens", w, None)),
        row!(POST "/tokens" "YYYYYYYYY", |i, w| api(Method::POST, "/tokens", w, Some(json!({"name": "table"}))),
            keeps "/token/id" as "token"),
        row!(DELETE "/tokens/{id}" "YYYYYYYYY", |i, w| api(Method::DELETE, &format!("/tokens/{}", i.get("token")), w, None)),
        // Authenticator apps: anyone may set one up; the IG lead and administrator have theirs.
        row!(GET "/auth/totp" "YYYYYYYYY", |i, w| api(Method::GET, "/auth/totp", w, None)),
        row!(POST "/auth/totp/enrol" "YYYYyYYyY", |i, w| api(Method::POST, "/auth/totp/enrol", w, None)),
        row!(POST "/auth/totp/confirm" "yyyyyyyyy", |i, w| api(Method::POST, "/auth/totp/confirm", w, Some(json!({"code": "000000"})))),
        row!(PUT "/staff/{id}/sso" "NNNNNNNyN", |i, w| api(Method::PUT, &format!("/staff/{}/sso", i.get("breaker")), w,
            Some(json!({"subject": "synthetic-subject-0001"})))),
        row!(DELETE "/staff/{id}/totp" "NNNNNNNYN", |i, w| api(Method::DELETE, &format!("/staff/{}/totp", i.get("breaker")), w, None)),
        row!(GET "/vault/signing-key" "YYYYYYYYY", |i, w| api(Method::GET, "/vault/signing-key", w, None)),
        // Accounts and policies: administrators only.
        row!(GET "/staff" "NNNNNNNYN", |i, w| api(Method::GET, "/staff", w, None)),
        row!(POST "/staff" "NNNNNNNYN", |i, w| api(Method::POST, "/staff", w, Some(json!({
            "username": "new.colleague", "display_name": "New Colleague",
            "roles": ["auditor"], "services": []})))),
        row!(PUT "/staff/{id}/access" "NNNNNNNYN", |i, w| api(Method::PUT, &format!("/staff/{}/access", i.get("breaker")), w,
            Some(json!({"roles": ["practitioner", "on_call"], "services": ["SPEECH-THERAPY"]})))),
        row!(GET "/policies" "NNNNNNNYN", |i, w| api(Method::GET, "/policies", w, None)),
        row!(PUT "/policies/{name}" "NNNNNNNYN", |i, w| api(Method::PUT, "/policies/table", w, Some(json!({
            "text": "forbid (principal, action == Custodian::Action::\"break_glass\", resource) when { principal.services.contains(\"NOWHERE\") };"})))),
        // Proposed only: `table` is not in force, so removing it is not found (`y`).
        row!(DELETE "/policies/{name}" "NNNNNNNyN", |i, w| api(Method::DELETE, "/policies/table", w, None)),
        // Proposals: administrators propose and may withdraw, IG leads approve or reject. The
        // administrator's round proposes after the IG lead's, so the IG lead finds none (`y`).
        row!(GET "/policy-proposals" "NNNNYNNYN", |i, w| api(Method::GET, "/policy-proposals", w, None)),
        row!(POST "/policy-proposals/{name}/approval" "NNNNyNNNN", |i, w| api(Method::POST, "/policy-proposals/nothing-proposed/approval", w, None)),
        row!(DELETE "/policy-proposals/{name}" "NNNNyNNyN", |i, w| api(Method::DELETE, "/policy-proposals/nothing-proposed", w, None)),
        // Oversight: the information-governance lead; the audit trail also the auditor.
        row!(GET "/audit/verify" "NNNNYNYNN", |i, w| api(Method::GET, "/audit/verify", w, None)),
        row!(GET "/reports/refusals" "NNNNYNNNN", |i, w| api(Method::GET, "/reports/refusals", w, None)),
        row!(GET "/emergency-access" "NNNNYNNNN", |i, w| api(Method::GET, "/emergency-access", w, None)),
        row!(POST "/emergency-access/{id}/review" "NNNNYNNNN", |i, w| api(Method::POST, &format!("/emergency-access/{}/review", i.get("grant")), w, None)),
        // Finding and registering people; courses.
        row!(GET "/persons" "YYYYYNNNY", |i, w| api(Method::GET, "/persons?q=Testperson", w, None)),
        row!(POST "/persons" "YYYNNNNNY", |i, w| api(Method::POST, "/persons", w, Some(json!({
            "given_name": "Table", "family_name": "Testperson", "date_of_birth": "1990-01-01", "capacity": "has_capacity",
            "nhs_number": nhs_number()})))),
        row!(POST "/courses" "YYYNNNNNY", |i, w| api(Method::POST, "/courses", w, Some(json!({"service": "CAMHS-NORTH", "title": "Course"})))),
        row!(GET "/courses/{id}" "YYYNNNNNY", |i, w| api(Method::GET, &format!("/courses/{}", i.get("course")), w, None)),
        // One person's record: their care team, records and IG; never the connected.
        row!(GET "/persons/{id}" "YYNYYNNNN", |i, w| api(Method::GET, &format!("/persons/{}", i.get("person")), w, None)),
        row!(GET "/persons/{id}/consents" "YYNYYNNNN", |i, w| api(Method::GET, &format!("/persons/{}/consents", i.get("person")), w, None)),
        row!(GET "/persons/{id}/sessions" "YYNYYNNNN", |i, w| api(Method::GET, &format!("/persons/{}/sessions", i.get("person")), w, None)),
        row!(GET "/persons/{id}/recordings" "YYNYYNNNN", |i, w| api(Method::GET, &format!("/persons/{}/recordings", i.get("person")), w, None)),
        row!(GET "/persons/{id}/audit" "YYNYYNNNN", |i, w| api(Method::GET, &format!("/persons/{}/audit", i.get("person")), w, None)),
        // Who looked at a record: the information-governance lead (S2, S5).
        row!(GET "/persons/{id}/accesses" "NNNNYNNNN", |i, w| api(Method::GET, &format!("/persons/{}/accesses", i.get("person")), w, None)),
        row!(GET "/consents/{id}" "YYNYYNNNN", |i, w| api(Method::GET, &format!("/consents/{}", i.get("consent")), w, None)),
        row!(PUT "/persons/{id}/capacity" "YYNNNNNNN", |i, w| api(Method::PUT, &format!("/persons/{}/capacity", i.get("person")), w,
            Some(json!({"capacity": "has_capacity"})))),
        row!(POST "/persons/{id}/representatives" "YYNNNNNNN", |i, w| api(Method::POST, &format!("/persons/{}/representatives", i.get("person")), w,
            Some(json!({"name": "Jo Testperson", "kind": "next_of_kin"})))),
        row!(POST "/persons/{id}/consents" "YYNNNNNNN", |i, w| api(Method::POST, &format!("/persons/{}/consents", i.get("person")), w,
            Some(consent_body(&["teaching"])))),
        row!(POST "/persons/{id}/services" "NYNYNNNNN", |i, w| api(Method::POST, &format!("/persons/{}/services", i.get("person")), w,
            Some(json!({"service": "SPEECH-THERAPY"})))),
        // Sessions.
        row!(POST "/sessions" "YYNNNNNNN", |i, w| api(Method::POST, "/sessions", w, Some(json!({
            "kind": "individual", "service": "CAMHS-NORTH", "title": "Session", "starts_at": minutes_from_now(-30),
            "participants": [i.get("person")]})))),
        row!(GET "/sessions/{id}" "YYNYYNNNN", |i, w| api(Method::GET, &format!("/sessions/{}", i.get("session")), w, None)),
        row!(POST "/sessions/{id}/confirmations" "YYNNNNNNN", |i, w| api(Method::POST, &format!("/sessions/{}/confirmations", i.get("session")), w,
            Some(json!({"person_id": i.get("person"), "willing": true, "at": minutes_from_now(-20)})))),
        row!(PUT "/sessions/{id}/attendees-informed" "YYNNNNNNN", |i, w| api(Method::PUT, &format!("/sessions/{}/attendees-informed", i.get("meeting")), w,
            Some(json!({"at": minutes_from_now(-20)})))),
        // Recordings: the care team; records and IG see, communications see and play those for publicity.
        row!(POST "/recordings" "YYNNNNNNN", |i, w| api(Method::POST, "/recordings", w, Some(recording_json(i)))),
        row!(GET "/recordings/{id}" "YYNYYYNNN", |i, w| api(Method::GET, &format!("/recordings/{}", i.get("recording")), w, None)),
        row!(GET "/recordings/{id}/audit" "YYNYYYNNN", |i, w| api(Method::GET, &format!("/recordings/{}/audit", i.get("recording")), w, None)),
        row!(GET "/recordings/{id}/decision" "YYNYYYNNN", |i, w| api(Method::GET, &format!("/recordings/{}/decision?purpose=clinical", i.get("recording")), w, None)),
        // Using content for a purpose also needs consent to it: the fixture person consented to newsletters.
        row!(GET "/recordings/{id}/media" "YYNNNYNNN", |i, w| api(Method::GET, &format!("/recordings/{}/media?purpose=newsletters", i.get("recording")), w, None)),
        row!(POST "/recordings/{id}/derivatives" "YYNNNNNNN", |i, w| api(Method::POST, &format!("/recordings/{}/derivatives", i.get("recording")), w,
            Some(json!({"kind": "redaction", "de_identified": true, "device": "EDIT-SUITE-1", "made_at": minutes_from_now(-1), "purpose": "clinical"})))),
        row!(POST "/recordings/{id}/end-confirmation" "YYNNNNNNN", |i, w| api(Method::POST, &format!("/recordings/{}/end-confirmation", i.get("recording")), w,
            Some(json!({"happy": true})))),
        row!(POST "/recordings/{id}/retention" "YYNNNNNNN", |i, w| api(Method::POST, &format!("/recordings/{}/retention", i.get("recording")), w,
            Some(json!({"record_category": "children"})))),
        row!(POST "/persons/{id}/retention-events" "YYNNNNNNN", |i, w| api(Method::POST, &format!("/persons/{}/retention-events", i.get("person")), w,
            Some(json!({"trigger": "end_of_care", "on": "2020-01-01"})))),
        row!(POST "/recordings/{id}/device-copy-deleted" "YYNNNNNNN", |i, w| api(Method::POST, &format!("/recordings/{}/device-copy-deleted", i.get("recording")), w,
            Some(json!({})))),
        // Uploads: only one's own, and only of people one may record.
        row!(OPTIONS "/uploads" "YYYYYYYYY", |i, w| api(Method::OPTIONS, "/uploads", w, None)),
        row!(POST "/uploads" "YYNNNNNNN", |i, w| upload(w, i, 2048, mp4(2048, 7)[..1024].to_vec()),
            keeps "Location" as "upload"),
        row!(HEAD "/uploads/{id}" "YY-------", |i, w| api(Method::HEAD, &format!("/uploads/{}", i.get("upload")), w, None)),
        row!(PATCH "/uploads/{id}" "YY-------", |i, w| {
            Request::patch(format!("/api/v1/uploads/{}", i.get("upload")))
                .header(header::AUTHORIZATION, format!("Bearer {}", w.token))
                .header("tus-resumable", "1.0.0")
                .header("upload-offset", "1024")
                .header(header::CONTENT_TYPE, "application/offset+octet-stream")
                .body(Body::from(mp4(2048, 7)[1024..1536].to_vec()))
                .unwrap()
        }),
        row!(DELETE "/uploads/{id}" "YY-------", |i, w| api(Method::DELETE, &format!("/uploads/{}", i.get("upload")), w, None)),
    ]
}

/// API rows that change what later rows see, asked after the pages.
fn late_api_rows() -> Vec<Row> {
    vec![
        row!(POST "/sessions/{id}/stops" "YYNNNNNNN", |i, w| api(Method::POST, &format!("/sessions/{}/stops", i.get("session")), w,
            Some(json!({"at": minutes_from_now(-10), "choice": "discontinue_and_keep", "requested_by": i.get("person")})))),
        row!(POST "/consents/{id}/withdrawals" "YYNNNNNNN", |i, w| api(Method::POST, &format!("/consents/{}/withdrawals", i.get("withdrawable")), w,
            Some(json!({"at": minutes_from_now(-1), "withdrawn_by": {"kind": "person"}, "existing_recordings": "hand_over"})))),
        row!(POST "/recordings/{id}/destruction" "NNNYNNNNN", |i, w| api(Method::POST, &format!("/recordings/{}/destruction", i.get("recording")), w,
            Some(json!({"reason": "Retention period ended", "rule": "D6"})))),
        row!(GET "/recordings/{id}/destruction" "yyNYyyNNN", |i, w| api(Method::GET, &format!("/recordings/{}/destruction", i.get("recording")), w, None)),
        // Retention (D2, D4, D7): records managers; IG leads place and see holds; administrators
        // keep the schedule's periods. The fixture recording is destroyed by now, so reviews
        // and disposals answer for themselves (`y`) once access allows them.
        row!(GET "/retention/schedule" "NNNYYNNYN", |i, w| api(Method::GET, "/retention/schedule", w, None)),
        row!(PUT "/retention/schedule/{rule}/period" "NNNYNNNYN", |i, w| api(Method::PUT, "/retention/schedule/d2-yearly-review/period", w,
            Some(json!({"years": 1})))),
        row!(GET "/disposals" "NNNYNNNNN", |i, w| api(Method::GET, "/disposals?within=60", w, None)),
        row!(POST "/disposals/{recording}/review" "NNNyNNNNN", |i, w| api(Method::POST, &format!("/disposals/{}/review", i.get("recording")), w,
            Some(json!({"outcome": "approve"})))),
        row!(POST "/disposals/{recording}/destruction" "NNNyNNNNN", |i, w| api(Method::POST, &format!("/disposals/{}/destruction", i.get("recording")), w, None)),
        row!(GET "/disposal-tasks" "NNNYNNNNN", |i, w| api(Method::GET, "/disposal-tasks", w, None)),
        // The fixture has no task of this kind: a records manager is told so (404).
        row!(POST "/disposals/{recording}/tasks/{task}/done" "NNNyNNNNN", |i, w| api(Method::POST,
            &format!("/disposals/{}/tasks/take_down/done", i.get("recording")), w, None)),
        row!(GET "/legal-holds" "NNNYYNNNN", |i, w| api(Method::GET, "/legal-holds", w, None)),
        row!(POST "/legal-holds" "NNNYYNNNN", |i, w| api(Method::POST, "/legal-holds", w, Some(json!({
            "matter": {"kind": "complaint", "reference": "TABLE-1"}, "recordings": [i.get("recording")]}))),
            keeps "/id" as "hold"),
        row!(POST "/legal-holds/{id}/lift" "NNNYNNNNN", |i, w| api(Method::POST,
            &format!("/legal-holds/{}/lift", i.0.get("hold").map_or("00000000-0000-0000-0000-000000000000", String::as_str)), w,
            Some(json!({"reason": "Resolved"})))),
        // Physical media (D9): records managers register and destroy; administrators register;
        // whoever sees the schedule sees the list.
        row!(GET "/physical-media" "NNNYYNNYN", |i, w| api(Method::GET, "/physical-media", w, None)),
        row!(POST "/physical-media" "NNNYNNNYN", |i, w| api(Method::POST, "/physical-media", w, Some(json!({
            "kind": "usb_stick", "label": "TABLE-USB-1", "location": "Safe", "recordings": [i.get("recording")]}))),
            keeps "/id" as "medium"),
        row!(POST "/physical-media/{id}/destruction" "NNNYNNNNN", |i, w| api(Method::POST,
            &format!("/physical-media/{}/destruction", i.0.get("medium").map_or("00000000-0000-0000-0000-000000000000", String::as_str)), w,
            Some(json!({"method": "wiped", "witness": "Table Witness"})))),
        row!(GET "/connections" "YYYYYYYYY", |i, w| api(Method::GET, "/connections", w, None)),
        // Only by those on call, and never by the connected member: a connection is not lifted
        // by emergency access (S3).
        row!(POST "/persons/{id}/emergency-access" "NNYNNNNNN", |i, w| api(Method::POST, &format!("/persons/{}/emergency-access", i.get("person")), w,
            Some(json!({"reason": "Called to an incident on the ward at night"})))),
        row!(POST "/persons/{id}/connection" "YYYYYYYYY", |i, w| api(Method::POST, &format!("/persons/{}/connection", i.get("person")), w,
            Some(json!({"kind": "neighbour"})))),
    ]
}

/// A local policy that changes nothing in the table: it forbids a service no one works in.
const HARMLESS_POLICY: &str = "forbid (principal, action == Custodian::Action::\"break_glass\", resource) when { principal.services.contains(\"NOWHERE\") };";

fn consent_body(purposes: &[&str]) -> Value {
    json!({
        "answer": "given", "purposes": purposes, "given_by": {"kind": "person"},
        "scope": {"kind": "service", "service": "CAMHS-NORTH"}, "signed_at": minutes_from_now(-90),
        "signature": {"method": "typed_with_witness", "signed_by": "Testperson", "witness": "Nurse Witness"},
        "told_refusal_does_not_affect_care": true,
    })
}

/// The pages. Pages offering an act (a consent form, a new session) check that act, not only
/// that the person may be seen. Forms marked `y` are sent empty: the care team gets the form
/// back with its errors (their valid forms are proved in the page suites), everyone else is
/// refused before a field is read.
fn page_rows() -> Vec<Row> {
    vec![
        row!(GET "/sign-in" "YYYYYYYYY", |i, w| Request::get("/sign-in").body(Body::empty()).unwrap()),
        // The code step answers only a half sign-in: without one it sends the browser to sign in.
        row!(GET "/sign-in/code" "YYYYYYYYY", |i, w| Request::get("/sign-in/code").body(Body::empty()).unwrap()),
        row!(POST "/sign-in/code" "yyyyyyyyy", |i, w| crate::pages::form("/sign-in/code", &[("code", "000000")])),
        // Single sign-on is not configured in this app: its addresses do not exist (tests/suite/sso.rs).
        row!(GET "/sign-in/sso" "---------", |i, w| Request::get("/sign-in/sso").body(Body::empty()).unwrap()),
        row!(GET "/sign-in/sso/callback" "---------", |i, w| Request::get("/sign-in/sso/callback?code=x&state=y").body(Body::empty()).unwrap()),
        row!(GET "/totp" "YYYYYYYYY", |i, w| page(Method::GET, "/totp", w, &[])),
        row!(POST "/totp" "yyyyyyyyy", |i, w| page(Method::POST, "/totp", w, &[("code", "000000")])),
        row!(POST "/totp/start" "YYYYyYYyY", |i, w| page(Method::POST, "/totp/start", w, &[])),
        row!(POST "/sign-in" "YYYYYYYYY", |i, w| crate::pages::form("/sign-in", &[("username", &w.username), ("password", &w.password)])),
        row!(GET "/assets/custodian.css" "YYYYYYYYY", |i, w| page(Method::GET, "/assets/custodian.css", w, &[])),
        row!(GET "/assets/media.js" "YYYYYYYYY", |i, w| page(Method::GET, "/assets/media.js", w, &[])),
        row!(GET "/assets/signature.js" "YYYYYYYYY", |i, w| page(Method::GET, "/assets/signature.js", w, &[])),
        row!(GET "/assets/player.js" "YYYYYYYYY", |i, w| page(Method::GET, "/assets/player.js", w, &[])),
        row!(GET "/" "YYYYYYYYY", |i, w| page(Method::GET, "/", w, &[])),
        row!(GET "/password" "YYYYYYYYY", |i, w| page(Method::GET, "/password", w, &[])),
        row!(POST "/password" "yyyyyyyyy", |i, w| page(Method::POST, "/password", w, &[("current_password", &w.password), ("new_password", "short")])),
        row!(GET "/persons" "YYYYYNNNY", |i, w| page(Method::GET, "/persons?q=Testperson", w, &[])),
        row!(GET "/persons/new" "YYYNNNNNY", |i, w| page(Method::GET, "/persons/new", w, &[])),
        row!(POST "/persons/new" "YYYNNNNNY", |i, w| page(Method::POST, "/persons/new", w, &[
            ("given_name", "Paged"), ("family_name", "Testperson"), ("day", "1"), ("month", "1"), ("year", "1990"),
            ("capacity", "has_capacity"), ("nhs_number", &nhs_number())])),
        row!(GET "/persons/{id}" "YYNYYNNNN", |i, w| page(Method::GET, &format!("/persons/{}", i.get("person")), w, &[])),
        row!(GET "/persons/{id}/looks" "NNNNYNNNN", |i, w| page(Method::GET, &format!("/persons/{}/looks", i.get("person")), w, &[])),
        row!(GET "/persons/{id}/consents/new" "YYNNNNNNN", |i, w| page(Method::GET, &format!("/persons/{}/consents/new", i.get("person")), w, &[])),
        row!(POST "/persons/{id}/consents/new" "yyNNNNNNN", |i, w| page(Method::POST, &format!("/persons/{}/consents/new", i.get("person")), w, &[])),
        row!(GET "/consents/{id}" "YYNYYNNNN", |i, w| page(Method::GET, &format!("/consents/{}", i.get("consent")), w, &[])),
        row!(GET "/consents/{id}/copy.pdf" "YYNYYNNNN", |i, w| page(Method::GET, &format!("/consents/{}/copy.pdf", i.get("consent")), w, &[])),
        row!(GET "/consents/{id}/withdrawals/{withdrawal}/copy.pdf" "YYNYYNNNN", |i, w| page(Method::GET,
            &format!("/consents/{}/withdrawals/{}/copy.pdf", i.get("withdrawn"), i.get("withdrawal")), w, &[])),
        row!(GET "/consents/{id}/withdraw" "YYNNNNNNN", |i, w| page(Method::GET, &format!("/consents/{}/withdraw", i.get("consent")), w, &[])),
        row!(POST "/consents/{id}/withdraw" "yyNNNNNNN", |i, w| page(Method::POST, &format!("/consents/{}/withdraw", i.get("consent")), w, &[])),
        row!(GET "/recordings/{id}" "YYNYYYNNN", |i, w| page(Method::GET, &format!("/recordings/{}", i.get("recording")), w, &[])),
        row!(POST "/recordings/{id}/device-copy-deleted" "YYNNNNNNN", |i, w| page(Method::POST,
            &format!("/recordings/{}/device-copy-deleted", i.get("recording")), w, &[])),
        row!(GET "/persons/{id}/sessions/new" "YYNNNNNNN", |i, w| page(Method::GET, &format!("/persons/{}/sessions/new", i.get("person")), w, &[])),
        row!(POST "/persons/{id}/sessions/new" "yyNNNNNNN", |i, w| page(Method::POST, &format!("/persons/{}/sessions/new", i.get("person")), w, &[])),
        row!(GET "/persons/{id}/courses/new" "YYNNNNNNN", |i, w| page(Method::GET, &format!("/persons/{}/courses/new", i.get("person")), w, &[])),
        row!(POST "/persons/{id}/courses/new" "YYNNNNNNN", |i, w| page(Method::POST, &format!("/persons/{}/courses/new", i.get("person")), w,
            &[("title", "Paged course"), ("service", "CAMHS-NORTH")])),
        row!(GET "/sessions/{id}" "YYNYYNNNN", |i, w| page(Method::GET, &format!("/sessions/{}", i.get("session")), w, &[])),
        row!(GET "/sessions/{id}/capture" "YYNNNNNNN", |i, w| page(Method::GET, &format!("/sessions/{}/capture", i.get("session")), w, &[])),
        row!(GET "/sessions/{id}/upload" "YYNNNNNNN", |i, w| page(Method::GET, &format!("/sessions/{}/upload", i.get("session")), w, &[])),
        row!(POST "/sessions/{id}/upload" "yyNNNNNNN", |i, w| {
            // The form's token alone, as the first part: no file, so the care team is asked for one.
            let token = custodian_testkit::form_token_for(&w.cookie).unwrap();
            let body = format!("--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n--b--\r\n");
            Request::post(format!("/sessions/{}/upload", i.get("session")))
                .header(header::COOKIE, &w.cookie)
                .header(header::CONTENT_TYPE, "multipart/form-data; boundary=b")
                .body(Body::from(body))
                .unwrap()
        }),
        row!(POST "/sessions/{id}/confirmations" "YYNNNNNNN", |i, w| page(Method::POST, &format!("/sessions/{}/confirmations", i.get("session")), w,
            &[("person", i.get("person")), ("willing", "yes")])),
        row!(POST "/sessions/{id}/stops" "YYNNNNNNN", |i, w| page(Method::POST, &format!("/sessions/{}/stops", i.get("session")), w,
            &[("choice", "discontinue_and_keep")])),
        // Managing access. A form that changes who sees whom works on `bystander`, a person
        // of the practitioner's service no other row uses, so later rows see what they expect.
        row!(GET "/persons/{id}/connection" "YYNYYNNNN", |i, w| page(Method::GET, &format!("/persons/{}/connection", i.get("person")), w, &[])),
        // Emergency access before the connection: once connected, nothing lifts it (S3).
        row!(POST "/persons/{id}/emergency-access" "NNYNNNNNY", |i, w| page(Method::POST, &format!("/persons/{}/emergency-access", i.get("bystander")), w,
            &[("reason", "Called to an incident on the ward at night")])),
        row!(POST "/persons/{id}/connection" "YYYYYYYYY", |i, w| page(Method::POST, &format!("/persons/{}/connection", i.get("bystander")), w,
            &[("kind", "neighbour")])),
        row!(GET "/connections" "YYYYYYYYY", |i, w| page(Method::GET, "/connections", w, &[])),
        row!(GET "/persons/{id}/services/new" "NYNYNNNNN", |i, w| page(Method::GET, &format!("/persons/{}/services/new", i.get("person")), w, &[])),
        row!(POST "/persons/{id}/services/new" "NYNYNNNNN", |i, w| page(Method::POST, &format!("/persons/{}/services/new", i.get("person")), w,
            &[("service", "SPEECH-THERAPY")])),
        row!(GET "/refusals" "NNNNYNNNN", |i, w| page(Method::GET, "/refusals?since=7", w, &[])),
        row!(POST "/emergency-access/{id}/review" "NNNNYNNNN", |i, w| page(Method::POST, &format!("/emergency-access/{}/review", i.get("page_grant")), w, &[])),
        row!(GET "/staff" "NNNNNNNYN", |i, w| page(Method::GET, "/staff", w, &[])),
        row!(GET "/staff/{id}" "NNNNNNNYN", |i, w| page(Method::GET, &format!("/staff/{}", i.get("breaker")), w, &[])),
        row!(POST "/staff/{id}/access" "NNNNNNNYN", |i, w| page(Method::POST, &format!("/staff/{}/access", i.get("breaker")), w,
            &[("roles", "practitioner"), ("roles", "on_call"), ("services", "ADULT-MH-EAST")])),
        row!(POST "/staff/{id}/totp" "NNNNNNNYN", |i, w| page(Method::POST, &format!("/staff/{}/totp", i.get("breaker")), w, &[])),
        // Single sign-on is not configured here: the administrator is told so (409), others refused.
        row!(POST "/staff/{id}/sso" "NNNNNNNyN", |i, w| page(Method::POST, &format!("/staff/{}/sso", i.get("breaker")), w,
            &[("subject", "synthetic-subject-0002")])),
        row!(GET "/policies" "NNNNNNNYN", |i, w| page(Method::GET, "/policies", w, &[])),
        row!(POST "/policies" "NNNNNNNYN", |i, w| page(Method::POST, "/policies", w, &[("name", "paged"), ("text", HARMLESS_POLICY)])),
        // `paged` is proposed, not in force: its own pages are not found (`y`).
        row!(GET "/policies/{name}" "NNNNNNNyN", |i, w| page(Method::GET, "/policies/paged", w, &[])),
        row!(POST "/policies/{name}" "NNNNNNNYN", |i, w| page(Method::POST, "/policies/paged", w, &[("text", HARMLESS_POLICY)])),
        row!(GET "/policies/{name}/delete" "NNNNNNNyN", |i, w| page(Method::GET, "/policies/paged/delete", w, &[])),
        row!(POST "/policies/{name}/delete" "NNNNNNNyN", |i, w| page(Method::POST, "/policies/paged/delete", w, &[])),
        row!(GET "/policy-proposals" "NNNNYNNYN", |i, w| page(Method::GET, "/policy-proposals", w, &[])),
        row!(POST "/policy-proposals/{name}/approval" "NNNNyNNNN", |i, w| page(Method::POST, "/policy-proposals/nothing-proposed/approval", w, &[])),
        row!(POST "/policy-proposals/{name}/rejection" "NNNNyNNyN", |i, w| page(Method::POST, "/policy-proposals/nothing-proposed/rejection", w, &[])),
        // Retention (D2, D4, D7). A review of the fixture recording (not yet due) and its
        // destruction (not approved) answer for themselves once access allows them; the hold
        // placed from the page is on `bystander`, so later rows may still destroy `recording`.
        row!(GET "/disposals" "NNNYNNNNN", |i, w| page(Method::GET, "/disposals?within=90", w, &[])),
        row!(GET "/disposals/{id}/review" "NNNYNNNNN", |i, w| page(Method::GET, &format!("/disposals/{}/review", i.get("recording")), w, &[])),
        row!(POST "/disposals/{id}/review" "NNNyNNNNN", |i, w| page(Method::POST, &format!("/disposals/{}/review", i.get("recording")), w,
            &[("outcome", "approve")])),
        row!(POST "/disposals/{id}/destruction" "NNNyNNNNN", |i, w| page(Method::POST, &format!("/disposals/{}/destruction", i.get("recording")), w, &[])),
        row!(POST "/disposals/{id}/tasks/{task}/done" "NNNyNNNNN", |i, w| page(Method::POST,
            &format!("/disposals/{}/tasks/take_down/done", i.get("recording")), w, &[])),
        row!(GET "/legal-holds" "NNNYYNNNN", |i, w| page(Method::GET, "/legal-holds", w, &[])),
        row!(POST "/legal-holds" "NNNYYNNNN", |i, w| page(Method::POST, "/legal-holds", w,
            &[("kind", "complaint"), ("reference", "PAGE-1"), ("persons", i.get("bystander"))])),
        row!(POST "/legal-holds/{id}/lift" "NNNyNNNNN", |i, w| page(Method::POST,
            "/legal-holds/00000000-0000-0000-0000-000000000000/lift", w, &[("reason", "Resolved")])),
        row!(GET "/retention/schedule" "NNNYYNNYN", |i, w| page(Method::GET, "/retention/schedule", w, &[])),
        row!(GET "/retention/schedule/{rule}" "NNNYYNNYN", |i, w| page(Method::GET, "/retention/schedule/d2-yearly-review", w, &[])),
        row!(POST "/retention/schedule/{rule}" "NNNYNNNYN", |i, w| page(Method::POST, "/retention/schedule/d2-yearly-review", w,
            &[("years", "1")])),
        row!(POST "/sign-out" "YYYYYYYYY", |i, w| {
            let mut request = crate::pages::form("/sign-out", &[]);
            request.headers_mut().insert(header::COOKIE, w.spare_cookie.parse().unwrap());
            request
        }),
        row!(POST "/sign-out-everywhere" "YYYYYYYYY", |i, w| page(Method::POST, "/sign-out-everywhere", w, &[])),
    ]
}

/// Signs `asker` in (creating their account, as the administrator, except for the
/// practitioner and administrator every test app has).
async fn credentials(app: &TestApp, asker: &Asker, n: usize) -> Credentials {
    let (username, password) = match asker.label {
        "practitioner" => (CLINICIAN.to_owned(), CLINICIAN_PASSWORD.to_owned()),
        "administrator" => ("admin".to_owned(), ADMIN_PASSWORD.to_owned()),
        _ => (
            format!("asker.{n}"),
            format!("a table pass phrase number {n}"),
        ),
    };
    let token = match asker.label {
        "practitioner" | "administrator" => app.token_for(&username, &password).await,
        _ => {
            app.staff_member(&username, &password, asker.roles, asker.services)
                .await
        }
    };
    let cookie = app
        .sign_in(&username, &password)
        .await
        .cookie
        .expect("a sign-in cookie");
    let spare_cookie = app
        .sign_in(&username, &password)
        .await
        .cookie
        .expect("a sign-in cookie");
    Credentials {
        username,
        password,
        token,
        cookie,
        spare_cookie,
    }
}

/// What every asker's rows work on, made fresh by the practitioner (so one asker's changes,
/// such as a destruction, never meet the next asker).
async fn fixtures(app: &TestApp, connected: &Credentials, breaker: &Credentials) -> Ids {
    let mut ids = Ids::default();
    let person = app.person("Asked", "has_capacity").await;
    ids.0.insert("person", person.clone());
    let consent = crate::decisions::consent(
        app,
        &person,
        &["clinical", "newsletters"],
        json!({"kind": "service", "service": "CAMHS-NORTH"}),
        120,
    )
    .await;
    ids.0.insert("consent", consent);
    ids.0.insert(
        "withdrawable",
        crate::decisions::consent(
            app,
            &person,
            &["outings"],
            json!({"kind": "service", "service": "CAMHS-NORTH"}),
            110,
        )
        .await,
    );
    let withdrawn = crate::decisions::consent(
        app,
        &person,
        &["activities"],
        json!({"kind": "service", "service": "CAMHS-NORTH"}),
        100,
    )
    .await;
    let withdrawal = app
        .post(&format!("/api/v1/consents/{withdrawn}/withdrawals"), json!({"at": minutes_from_now(-90), "withdrawn_by": {"kind": "person"}, "existing_recordings": "hand_over"}))
        .await;
    assert_eq!(withdrawal.status, 201, "{}", withdrawal.body);
    ids.0.insert("withdrawn", withdrawn);
    ids.0.insert("withdrawal", withdrawal.id());
    let course = app
        .post(
            "/api/v1/courses",
            json!({"service": "CAMHS-NORTH", "title": "Course"}),
        )
        .await;
    ids.0.insert("course", course.id());
    let session = app
        .post(
            "/api/v1/sessions",
            json!({"kind": "individual", "service": "CAMHS-NORTH", "title": "Asked session",
            "starts_at": minutes_from_now(-60), "participants": [person]}),
        )
        .await;
    assert_eq!(session.status, 201, "{}", session.body);
    ids.0.insert("session", session.id());
    let meeting = app
        .post(
            "/api/v1/sessions",
            json!({"kind": "staff_meeting", "service": "CAMHS-NORTH", "title": "Team meeting",
            "starts_at": minutes_from_now(-30), "participants": [person]}),
        )
        .await;
    assert_eq!(meeting.status, 201, "{}", meeting.body);
    ids.0.insert("meeting", meeting.id());
    let recording = app.upload(&recording_json(&ids), mp4(4096, 3)).await;
    assert_eq!(recording.status, 201, "{:?}", recording);
    let recording_id = recording.headers["custodian-recording-id"]
        .to_str()
        .unwrap()
        .to_owned();
    ids.0.insert("recording", recording_id);
    let pending = app
        .upload_declaring(&recording_json(&ids), 2048, mp4(2048, 5)[..1024].to_vec())
        .await;
    ids.0.insert("upload", location_id(&pending.headers));
    let declared = app
        .as_(&connected.token)
        .post(
            &format!("/api/v1/persons/{person}/connection"),
            json!({"kind": "family"}),
        )
        .await;
    assert_eq!(declared.status, 204, "{}", declared.body);
    let grant = app
        .as_(&breaker.token)
        .post(
            &format!("/api/v1/persons/{person}/emergency-access"),
            json!({"reason": "Fixture: the ward called at night"}),
        )
        .await;
    assert_eq!(grant.status, 201, "{}", grant.body);
    ids.0.insert("grant", grant.id());
    // Someone for the page rows that declare a connection or take emergency access, and a
    // second grant for the IG lead's page to review (the API's row reviews the first).
    let bystander = app.person("Bystander", "has_capacity").await;
    let page_grant = app
        .as_(&breaker.token)
        .post(
            &format!("/api/v1/persons/{bystander}/emergency-access"),
            json!({"reason": "Fixture: the ward called again at night"}),
        )
        .await;
    assert_eq!(page_grant.status, 201, "{}", page_grant.body);
    ids.0.insert("bystander", bystander);
    ids.0.insert("page_grant", page_grant.id());
    ids
}

fn location_id(headers: &axum::http::HeaderMap) -> String {
    headers[header::LOCATION]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

/// Every (method, route) the OpenAPI document describes.
async fn documented_routes(app: &TestApp) -> BTreeSet<(String, String)> {
    let document = app.get("/api/v1/openapi.json").await.body;
    let mut routes = BTreeSet::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete", "head", "options"]
                .contains(&method.as_str())
            {
                routes.insert((
                    method.to_uppercase(),
                    path.trim_start_matches("/api/v1").to_owned(),
                ));
            }
        }
    }
    routes
}

async fn s2_every_route_answers_every_role_as_the_table_says(app: TestApp) {
    let api: Vec<Row> = api_rows().into_iter().chain(late_api_rows()).collect();
    let early = api_rows().len();
    let pages = page_rows();

    // The table covers every route, and nothing else.
    let tabled: BTreeSet<(String, String)> = api
        .iter()
        .map(|r| (r.method.to_string(), r.route.to_owned()))
        .collect();
    let documented = documented_routes(&app).await;
    let untabled: Vec<_> = documented.difference(&tabled).collect();
    let undocumented: Vec<_> = tabled.difference(&documented).collect();
    assert!(
        untabled.is_empty(),
        "API routes without a row in the access table: {untabled:?}"
    );
    assert!(
        undocumented.is_empty(),
        "rows for routes the API does not have: {undocumented:?}"
    );
    let page_routes: BTreeSet<&str> = custodian_web::page_paths().into_iter().collect();
    let tabled_pages: BTreeSet<&str> = pages.iter().map(|r| r.route).collect();
    assert_eq!(
        page_routes, tabled_pages,
        "every page needs a row, and every row a page"
    );

    let breaker = credentials(
        &app,
        &Asker::new("breaker", &["practitioner", "on_call"], &["ADULT-MH-EAST"]),
        99,
    )
    .await;
    let bystander = credentials(
        &app,
        &Asker::new("bystander", &["practitioner"], &["ADULT-MH-EAST"]),
        98,
    )
    .await;
    let breaker_id = app.as_(&breaker.token).get("/api/v1/auth/me").await.body["staff"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut wrong = Vec::new();
    let mut asked = 0;
    for (column, asker) in ASKERS.iter().enumerate() {
        let who = credentials(&app, asker, column).await;
        // Someone declares a connection to the fixture person in every round; the one who
        // takes emergency access to them must not be that someone (S3: nothing lifts it).
        let connected = if asker.label == "connected" {
            &who
        } else {
            &bystander
        };
        let mut ids = fixtures(&app, connected, &breaker).await;
        ids.0.insert("breaker", breaker_id.clone());
        let fixture_upload = ids.get("upload").to_owned();
        let (early_api, late_api) = api.split_at(early);
        let in_order = early_api
            .iter()
            .map(|r| (false, r))
            .chain(pages.iter().map(|r| (true, r)))
            .chain(late_api.iter().map(|r| (false, r)));
        for (is_page, row) in in_order {
            let expected = row.expect.chars().nth(column).unwrap();
            let request = (row.request)(&ids, &who);
            let (status, headers, body) = if is_page {
                crate::pages::page(&app, request).await
            } else {
                let (status, headers, bytes) = app.send_raw(request).await;
                (
                    status,
                    headers,
                    String::from_utf8_lossy(&bytes).into_owned(),
                )
            };
            asked += 1;
            if !matches(expected, status) {
                wrong.push(format!(
                    "{} {} {} as {}: expected {expected}, got {status}: {}",
                    if is_page { "page" } else { "api" },
                    row.method,
                    row.route,
                    asker.label,
                    body.chars().take(300).collect::<String>()
                ));
            }
            if let (Some((field, name)), true) = (row.keeps, status.is_success()) {
                let kept = if field == "Location" {
                    location_id(&headers)
                } else {
                    serde_json::from_str::<Value>(&body)
                        .unwrap()
                        .pointer(field)
                        .and_then(Value::as_str)
                        .unwrap()
                        .to_owned()
                };
                ids.0.insert(name, kept);
            }
        }
        // A member may hold only a few unfinished uploads (ASVS 12.1.3): the round's own
        // are cancelled before the next round makes more.
        for upload in [fixture_upload.as_str(), ids.get("upload")] {
            app.as_(&app.token)
                .delete(&format!("/api/v1/uploads/{upload}"))
                .await;
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {asked} answers differ from the table:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(asked, ASKERS.len() * (api.len() + pages.len()));
}

on_both_backends!(app: s2_every_route_answers_every_role_as_the_table_says);
