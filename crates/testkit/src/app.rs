//! A running application over a fresh register, driven through its real router without a network.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use custodian_app::vault::{StorageChoice, VaultSettings};
use custodian_app::{Custodian, SystemClock};
use custodian_core::totp::{TimeStep, TotpSecret};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::{Backend, TestDatabase};

/// The password of every test app's administrator.
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// A response: its status, headers and JSON body (`Value::Null` when there is none).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The problem detail's stable code, for error replies.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    /// The id in the body.
    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {}", self.body))
            .to_owned()
    }
}

/// The answer to a sign-in, with the cookie (`name=value`) it set, if any.
#[derive(Debug)]
pub struct SignIn {
    pub reply: Reply,
    pub cookie: Option<String>,
}

/// The anti-forgery token that goes with a `Cookie` header's sign-in, if it has one.
pub fn form_token_for(cookie_header: &str) -> Option<String> {
    cookie_header
        .split(';')
        .find_map(|pair| pair.trim().strip_prefix("custodian_session="))
        .map(custodian_web::form_token)
}

/// The system's clock, which a test may move forward (to see a sign-in time out, say) while
/// it keeps running, so times made from the real clock stay in the past.
#[derive(Debug, Default)]
pub struct MovableClock {
    ahead: std::sync::Mutex<time::Duration>,
}

impl MovableClock {
    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: time::Duration) {
        if let Ok(mut ahead) = self.ahead.lock() {
            *ahead += by;
        }
    }

    /// Moves the clock back by `by`, as a wrongly set system clock would.
    pub fn rewind(&self, by: time::Duration) {
        if let Ok(mut ahead) = self.ahead.lock() {
            *ahead -= by;
        }
    }
}

impl custodian_app::Clock for MovableClock {
    fn now(&self) -> time::OffsetDateTime {
        let ahead = self
            .ahead
            .lock()
            .map_or_else(|poisoned| *poisoned.into_inner(), |ahead| *ahead);
        SystemClock.now() + ahead
    }
}

/// The username of the practitioner every test acts as unless it says otherwise.
pub const CLINICIAN: &str = "clinician";

/// The practitioner's password.
pub const CLINICIAN_PASSWORD: &str = "a synthetic practitioner pass phrase";

/// The service the practitioner works in, and which cares for everyone they register.
pub const CLINICIAN_SERVICE: &str = "CAMHS-NORTH";

/// The username of the information-governance lead [`TestApp::ig_lead`] creates.
pub const IG_LEAD: &str = "ig.lead";

/// The information-governance lead's password.
pub const IG_LEAD_PASSWORD: &str = "a pass phrase for governance";

/// The largest upload a test application accepts, unless built with another.
pub const TEST_MAX_UPLOAD: u64 = 64 * 1024 * 1024;

/// The application with a practitioner (in [`CLINICIAN_SERVICE`]) and an administrator, each
/// signed in by API token.
pub struct TestApp {
    /// The application's clock.
    pub clock: Arc<MovableClock>,
    /// The data folder: the vault's keys, staging and (for local storage) objects.
    pub data: tempfile::TempDir,
    pub db: TestDatabase,
    pub custodian: Custodian,
    router: axum::Router,
    /// The practitioner's bearer token: the default for requests.
    pub token: String,
    /// The administrator's bearer token: manages accounts and policies, sees no one's record.
    pub admin_token: String,
    /// The authenticator apps this test holds, by username, with the last time-step each used.
    authenticators: Mutex<HashMap<String, (TotpSecret, i64)>>,
    /// The information-governance lead's token, once [`Self::ig_lead`] has made them.
    ig_lead: tokio::sync::OnceCell<String>,
}

impl TestApp {
    /// A fresh application on `backend`, media in local files, with an administrator and an API token.
    pub async fn new(backend: Backend) -> Self {
        Self::with_storage(backend, StorageChoice::Local).await
    }

    /// A fresh application on `backend` keeping media in `storage`.
    pub async fn with_storage(backend: Backend, storage: StorageChoice) -> Self {
        Self::build(backend, storage, None, TEST_MAX_UPLOAD).await
    }

    /// A fresh application on `backend` with single sign-on at the provider `sso` describes.
    pub async fn with_sso(backend: Backend, sso: custodian_app::sso::SsoSettings) -> Self {
        Self::build(backend, StorageChoice::Local, Some(sso), TEST_MAX_UPLOAD).await
    }

    /// A fresh application on `backend` accepting uploads of up to `max_upload_bytes`: for
    /// stories about uploads larger than the disk can hold.
    pub async fn with_max_upload(backend: Backend, max_upload_bytes: u64) -> Self {
        Self::build(backend, StorageChoice::Local, None, max_upload_bytes).await
    }

    async fn build(
        backend: Backend,
        storage: StorageChoice,
        sso: Option<custodian_app::sso::SsoSettings>,
        max_upload_bytes: u64,
    ) -> Self {
        let db = TestDatabase::new(backend).await;
        let data = tempfile::tempdir().expect("a data folder");
        let mut vault = VaultSettings::local(data.path());
        vault.storage = storage;
        vault.max_upload_bytes = max_upload_bytes;
        let clock = Arc::new(MovableClock::default());
        let custodian = Custodian::start(db.register.clone(), clock.clone(), vault)
            .await
            .expect("the application starts");
        let custodian = match sso {
            Some(settings) => custodian.with_sso(
                custodian_app::sso::Sso::new(settings).expect("valid single sign-on settings"),
            ),
            None => custodian,
        };
        custodian
            .ensure_administrator(Some(ADMIN_PASSWORD))
            .await
            .expect("an administrator");
        // Stories sign many members in from one address; the limit itself is proved by
        // `asvs_2_2_1_sign_in_attempts_are_limited_per_address`, with a router of its own.
        let router = custodian_web::router(custodian_web::AppState::with_sign_in_limit(
            custodian.clone(),
            custodian_web::SignInLimit {
                attempts_per_minute: std::num::NonZeroU32::MIN.saturating_add(9_999),
                trust_forwarded_for: false,
            },
        ));
        let mut app = Self {
            clock,
            data,
            db,
            custodian,
            router,
            token: String::new(),
            admin_token: String::new(),
            authenticators: Mutex::new(HashMap::new()),
            ig_lead: tokio::sync::OnceCell::new(),
        };
        app.admin_token = app.token_for("admin", ADMIN_PASSWORD).await;
        app.token = app
            .staff_member(
                CLINICIAN,
                CLINICIAN_PASSWORD,
                &["practitioner"],
                &[CLINICIAN_SERVICE],
            )
            .await;
        app
    }

    /// An API token for `username`, signed in with `password`.
    pub async fn token_for(&self, username: &str, password: &str) -> String {
        let signed_in = self.sign_in(username, password).await;
        assert_eq!(
            signed_in.reply.status,
            StatusCode::OK,
            "{}",
            signed_in.reply.body
        );
        let cookie = signed_in.cookie.expect("signing in sets a cookie");

        // Administrators and IG leads must have an authenticator app before anything else
        // (ASVS 2.7).
        if signed_in.reply.body["must_enrol_totp"] == true {
            self.enrol_totp(username, &cookie).await;
        }
        let created = self
            .call_with(
                Method::POST,
                "/api/v1/tokens",
                &[(header::COOKIE.as_str(), cookie.as_str())],
                Some(json!({"name": "tests"})),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        created.body["secret"].as_str().unwrap().to_owned()
    }

    /// The password of every member [`Self::member_with_role`] creates.
    pub const MEMBER_PASSWORD: &'static str = "a synthetic pass phrase for testing";

    /// A token for a new member of staff holding `role` alone (no services), named after it:
    /// `records_manager` signs in as `records.manager.member`.
    pub async fn member_with_role(&self, role: &str) -> String {
        let username = format!("{}.member", role.replace('_', "."));
        self.staff_member(&username, Self::MEMBER_PASSWORD, &[role], &[])
            .await
    }

    /// Creates a member of staff with `roles` in `services` and `password` (through the API, as
    /// the administrator), and returns an API token for them.
    pub async fn staff_member(
        &self,
        username: &str,
        password: &str,
        roles: &[&str],
        services: &[&str],
    ) -> String {
        let created = self
            .call(
                Method::POST,
                "/api/v1/staff",
                Some(&self.admin_token),
                Some(json!({
                    "username": username,
                    "display_name": format!("Test {username}"),
                    "roles": roles,
                    "services": services,
                })),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let one_time = created.body["one_time_password"].as_str().unwrap();
        let signed_in = self.sign_in(username, one_time).await;
        let cookie = signed_in.cookie.expect("signing in sets a cookie");
        let changed = self
            .call_with(
                Method::POST,
                "/api/v1/auth/password",
                &[(header::COOKIE.as_str(), cookie.as_str())],
                Some(json!({"current_password": one_time, "new_password": password})),
            )
            .await;
        assert!(changed.status.is_success(), "{}", changed.body);
        self.token_for(username, password).await
    }

    /// A token for a new information-governance lead ([`IG_LEAD`], in no service), whose
    /// authenticator app this test holds, as their role requires.
    pub async fn ig_lead(&self) -> String {
        self.ig_lead
            .get_or_init(|| {
                self.staff_member(
                    IG_LEAD,
                    IG_LEAD_PASSWORD,
                    &["information_governance_lead"],
                    &[],
                )
            })
            .await
            .clone()
    }

    /// Puts the local policy `name` in force as an organisation does: the administrator
    /// proposes it, the information-governance lead approves it. The proposal's reply, if it
    /// was refused; otherwise the approval's.
    pub async fn adopt_policy(&self, name: &str, text: &str) -> Reply {
        let proposed = self
            .call(
                Method::PUT,
                &format!("/api/v1/policies/{name}"),
                Some(&self.admin_token),
                Some(json!({ "text": text })),
            )
            .await;
        if proposed.status != StatusCode::ACCEPTED {
            return proposed;
        }
        self.approve_policy(name).await
    }

    /// Removes the local policy `name`: proposed by the administrator, approved by the IG lead.
    pub async fn drop_policy(&self, name: &str) -> Reply {
        let proposed = self
            .call(
                Method::DELETE,
                &format!("/api/v1/policies/{name}"),
                Some(&self.admin_token),
                None,
            )
            .await;
        if proposed.status != StatusCode::ACCEPTED {
            return proposed;
        }
        self.approve_policy(name).await
    }

    /// The information-governance lead approves the change proposed to `name`.
    pub async fn approve_policy(&self, name: &str) -> Reply {
        let ig = self.ig_lead().await;
        self.call(
            Method::POST,
            &format!("/api/v1/policy-proposals/{name}/approval"),
            Some(&ig),
            None,
        )
        .await
    }

    /// A page sign-in cookie (`name=value`) for `username`, with a code when this test holds
    /// the account's authenticator app.
    pub async fn cookie_for(&self, username: &str, password: &str) -> String {
        self.sign_in(username, password)
            .await
            .cookie
            .expect("signing in sets a cookie")
    }

    /// Serves the app on a loopback port, for a real browser, and returns its address.
    pub async fn serve(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        self.serve_on(listener)
    }

    /// Serves the app on `listener` (bound beforehand, when its address must be known first).
    pub fn serve_on(&self, listener: tokio::net::TcpListener) -> String {
        let address = listener.local_addr().expect("the port's address");
        let router = self
            .router
            .clone()
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, router).await });
        format!("http://{address}")
    }

    /// Sets up an authenticator app for `username`, signed in with `cookie`, through the API,
    /// and keeps its secret so [`TestApp::code`] can give its codes. Returns the secret.
    pub async fn enrol_totp(&self, username: &str, cookie: &str) -> TotpSecret {
        let headers = [(header::COOKIE.as_str(), cookie)];
        let started = self
            .call_with(Method::POST, "/api/v1/auth/totp/enrol", &headers, None)
            .await;
        assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
        let secret = TotpSecret::from_base32(started.body["secret"].as_str().unwrap_or_default())
            .expect("a Base32 secret");
        self.authenticators
            .lock()
            .expect("the authenticators")
            .insert(username.to_owned(), (secret.clone(), i64::MIN));
        let code = self.code(username);
        let confirmed = self
            .call_with(
                Method::POST,
                "/api/v1/auth/totp/confirm",
                &headers,
                Some(json!({ "code": code })),
            )
            .await;
        assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
        secret
    }

    /// A code from `username`'s authenticator app that the account has not used: the earliest
    /// unused time-step of the three accepted now. When all three are used, the app's clock moves
    /// on a step, as a person would wait for the next code.
    pub fn code(&self, username: &str) -> String {
        let mut authenticators = self.authenticators.lock().expect("the authenticators");
        let (secret, last) = authenticators
            .get_mut(username)
            .unwrap_or_else(|| panic!("no authenticator app for {username}"));
        loop {
            let now = TimeStep::at(self.custodian.now());
            let step = (now.0 - 1).max(last.saturating_add(1));
            if step <= now.0 + 1 {
                *last = step;
                return secret.code_at(TimeStep(step).starts_at());
            }
            self.clock.advance(time::Duration::seconds(30));
        }
    }

    /// Completes the sign-in form's code step as a browser would, after a password step whose
    /// response had `headers`: with the half sign-in's cookie (and `carried`, cookies the browser
    /// already held) and a fresh code of `username`'s app. `None` if no code step followed.
    pub async fn code_step(
        &self,
        username: &str,
        headers: &axum::http::HeaderMap,
        carried: Option<&str>,
    ) -> Option<(StatusCode, axum::http::HeaderMap, Vec<u8>)> {
        let to_code_step = headers
            .get(header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .is_some_and(|l| l.starts_with("/sign-in/code"));
        if !to_code_step {
            return None;
        }
        let location = headers.get(header::LOCATION)?.to_str().ok()?.to_owned();
        let pending = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|c| c.to_str().ok())
            .find(|c| c.starts_with("custodian_pending_sign_in="))
            .and_then(|c| c.split(';').next())?
            .to_owned();
        let token = custodian_web::form_token(pending.split_once('=')?.1);
        let return_to = location
            .split_once("return_to=")
            .map(|(_, rest)| rest.to_owned())
            .unwrap_or_default();
        let cookies = match carried {
            Some(carried) => format!("{carried}; {pending}"),
            None => pending,
        };
        let code = self.code(username);
        let request = Request::post("/sign-in/code")
            .header(header::COOKIE, cookies)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "code={code}&csrf={token}&return_to={return_to}"
            )))
            .expect("a request");
        Some(self.send_raw(request).await)
    }

    /// The secret of `username`'s authenticator app, if this test holds it.
    pub fn authenticator(&self, username: &str) -> Option<TotpSecret> {
        self.authenticators
            .lock()
            .ok()
            .and_then(|authenticators| authenticators.get(username).map(|(s, _)| s.clone()))
    }

    /// Whether this test holds an authenticator app for `username`.
    pub fn has_authenticator(&self, username: &str) -> bool {
        self.authenticators
            .lock()
            .is_ok_and(|authenticators| authenticators.contains_key(username))
    }

    /// What a browser gets with the sign-in page: its cookie (`name=value`) and the token its
    /// form carries.
    pub async fn sign_in_page(&self) -> (String, String) {
        let request = Request::get("/sign-in")
            .body(Body::empty())
            .expect("a request");
        let (_, headers, body) = self.send_raw(request).await;
        let cookie = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|c| c.to_str().ok())
            .find(|c| c.starts_with("custodian_sign_in_form="))
            .and_then(|c| c.split(';').next())
            .expect("the sign-in page sets its cookie")
            .to_owned();
        let html = String::from_utf8(body).expect("a page");
        let marker = "name=\"csrf\" value=\"";
        let start = html.find(marker).expect("the sign-in form's token") + marker.len();
        let token = html
            .get(start..)
            .and_then(|rest| rest.split('"').next())
            .expect("the token")
            .to_owned();
        (cookie, token)
    }

    /// Signs in through the API, with a code when this test holds the account's authenticator app.
    pub async fn sign_in(&self, username: &str, password: &str) -> SignIn {
        let mut body = json!({"username": username, "password": password});
        if self.has_authenticator(username) {
            body["code"] = json!(self.code(username));
        }
        let reply = self
            .call(Method::POST, "/api/v1/auth/sign-in", None, Some(body))
            .await;
        let cookie = reply
            .headers
            .get(header::SET_COOKIE)
            .and_then(|c| c.to_str().ok())
            .and_then(|c| c.split(';').next())
            .map(str::to_owned);
        SignIn { reply, cookie }
    }

    /// Calls the API with `token` as bearer (none: anonymous).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = bearer
            .iter()
            .map(|b| (header::AUTHORIZATION.as_str(), b.as_str()))
            .collect();
        self.call_with(method, path, &headers, body).await
    }

    /// Calls the API with the given headers. With a sign-in cookie, the page's anti-forgery
    /// token goes too, as the app's own scripts send it.
    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
            if name.eq_ignore_ascii_case("cookie")
                && let Some(token) = form_token_for(value)
            {
                request = request.header(custodian_web::FORM_TOKEN_HEADER, token);
            }
        }
        let request = match body {
            Some(json) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(serde_json::to_vec(&json).unwrap())),
            None => request.body(Body::empty()),
        }
        .unwrap();
        self.send(request).await
    }

    /// GET as the administrator.
    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, Some(&self.token), None).await
    }

    /// POST as the administrator.
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(&self.token), Some(body))
            .await
    }

    /// PUT as the administrator.
    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(&self.token), Some(body))
            .await
    }

    /// Sends raw bytes with a content type, as the administrator.
    pub async fn post_raw(&self, path: &str, content_type: &str, bytes: &'static [u8]) -> Reply {
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(bytes))
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    /// Uploads `bytes` as a new recording described by `recording` (the upload metadata JSON),
    /// in one request (tus creation-with-upload).
    pub async fn upload(&self, recording: &Value, bytes: Vec<u8>) -> Reply {
        let declared = bytes.len() as u64;
        self.upload_declaring(recording, declared, bytes).await
    }

    /// Starts an upload declaring `declared` bytes and sends `bytes` with it, which may be fewer.
    pub async fn upload_declaring(
        &self,
        recording: &Value,
        declared: u64,
        bytes: Vec<u8>,
    ) -> Reply {
        use base64::Engine;
        let metadata = format!(
            "recording {},filename {}",
            base64::engine::general_purpose::STANDARD.encode(recording.to_string()),
            base64::engine::general_purpose::STANDARD.encode("clip.mp4")
        );
        let request = self
            .request(Method::POST, "/api/v1/uploads")
            .header("tus-resumable", "1.0.0")
            .header("upload-length", declared.to_string())
            .header("upload-metadata", metadata)
            .header(header::CONTENT_TYPE, "application/offset+octet-stream")
            .body(Body::from(bytes))
            .unwrap();
        self.send(request).await
    }

    /// Sends a request as it is.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let (status, headers, bytes) = self.send_raw(request).await;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Sends a request and returns the response's raw bytes (for media).
    pub async fn send_raw(
        &self,
        request: Request<Body>,
    ) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes().to_vec())
            .unwrap_or_default();
        (status, headers, bytes)
    }

    /// A request builder carrying the administrator's token.
    pub fn request(&self, method: Method, path: &str) -> axum::http::request::Builder {
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
    }

    /// Registers a person with a valid synthetic NHS number (from the 999 test range) and returns their id.
    pub async fn person(&self, given: &str, capacity: &str) -> String {
        let reply = self
            .post(
                "/api/v1/persons",
                json!({
                    "given_name": given,
                    "family_name": "Testperson",
                    "date_of_birth": "1980-02-29",
                    "nhs_number": crate::fixtures::nhs_number(),
                    "capacity": capacity,
                }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.id()
    }

    /// Records a consent given by the person themself for `purposes`, with `scope` (such as
    /// `{"kind": "service", "service": "CAMHS-NORTH"}`), signed `minutes_ago`; returns its id.
    pub async fn consent(
        &self,
        person: &str,
        purposes: &[&str],
        scope: Value,
        minutes_ago: i64,
    ) -> String {
        let reply = self
            .post(
                &format!("/api/v1/persons/{person}/consents"),
                json!({
                    "answer": "given",
                    "purposes": purposes,
                    "given_by": {"kind": "person"},
                    "scope": scope,
                    "signed_at": crate::fixtures::minutes_from_now(-minutes_ago),
                    "signature": {"method": "typed_with_witness", "signed_by": "Testperson", "witness": "Nurse Witness"},
                    "told_refusal_does_not_affect_care": true,
                }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.id()
    }

    /// Registers a person who consented, two hours ago, to `purposes` across CAMHS-NORTH (the
    /// clinician's service); returns their id.
    pub async fn consenting_person(&self, given: &str, purposes: &[&str]) -> String {
        let person = self.person(given, "has_capacity").await;
        self.consent(
            &person,
            purposes,
            json!({"kind": "service", "service": "CAMHS-NORTH"}),
            120,
        )
        .await;
        person
    }

    /// Reads a recording's media for `purpose` as the clinician (whole, or the `Range` given):
    /// the status, headers and body.
    pub async fn media(
        &self,
        recording: &str,
        purpose: &str,
        range: Option<&str>,
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        let mut request = self.request(
            Method::GET,
            &format!("/api/v1/recordings/{recording}/media?purpose={purpose}"),
        );
        if let Some(range) = range {
            request = request.header(header::RANGE, range);
        }
        self.send_raw(request.body(Body::empty()).expect("a request"))
            .await
    }

    /// A second server on the same register and vault, as a second node behind a load balancer
    /// would be: its own connection pool, its own application state and router, the same clock.
    pub async fn second_server(&self) -> axum::Router {
        let register = custodian_store::Register::connect(&self.db.location)
            .await
            .expect("the second server connects");
        let custodian = Custodian::start(
            register,
            self.clock.clone(),
            VaultSettings::local(self.data.path()),
        )
        .await
        .expect("the second server starts");
        custodian_web::router(custodian_web::AppState::new(custodian))
    }

    /// Sends a request to `server` (see [`Self::second_server`]) and returns the raw answer.
    pub async fn send_raw_to(
        server: &axum::Router,
        request: Request<Body>,
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        let response = server
            .clone()
            .oneshot(request)
            .await
            .expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes().to_vec())
            .unwrap_or_default();
        (status, headers, bytes)
    }
}
