//! A running application over a fresh register, driven through its real router without a network.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use custodian_app::vault::{StorageChoice, VaultSettings};
use custodian_app::{Custodian, SystemClock};
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

/// The application with an administrator signed in by API token.
pub struct TestApp {
    /// The application's clock.
    pub clock: Arc<MovableClock>,
    /// The data folder: the vault's keys, staging and (for local storage) objects.
    pub data: tempfile::TempDir,
    pub db: TestDatabase,
    pub custodian: Custodian,
    router: axum::Router,
    /// The administrator's bearer token.
    pub token: String,
}

impl TestApp {
    /// A fresh application on `backend`, media in local files, with an administrator and an API token.
    pub async fn new(backend: Backend) -> Self {
        Self::with_storage(backend, StorageChoice::Local).await
    }

    /// A fresh application on `backend` keeping media in `storage`.
    pub async fn with_storage(backend: Backend, storage: StorageChoice) -> Self {
        Self::build(backend, storage, None).await
    }

    /// A fresh application on `backend` with single sign-on at the provider `sso` describes.
    pub async fn with_sso(backend: Backend, sso: custodian_app::sso::SsoSettings) -> Self {
        Self::build(backend, StorageChoice::Local, Some(sso)).await
    }

    async fn build(
        backend: Backend,
        storage: StorageChoice,
        sso: Option<custodian_app::sso::SsoSettings>,
    ) -> Self {
        let db = TestDatabase::new(backend).await;
        let data = tempfile::tempdir().expect("a data folder");
        let mut vault = VaultSettings::local(data.path());
        vault.storage = storage;
        vault.max_upload_bytes = 64 * 1024 * 1024;
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
        let router = custodian_web::router(custodian_web::AppState {
            custodian: custodian.clone(),
        });
        let mut app = Self {
            clock,
            data,
            db,
            custodian,
            router,
            token: String::new(),
        };
        let signed_in = app.sign_in("admin", ADMIN_PASSWORD).await;
        assert_eq!(
            signed_in.reply.status,
            StatusCode::OK,
            "{}",
            signed_in.reply.body
        );
        let cookie = signed_in.cookie.expect("signing in sets a cookie");
        let created = app
            .call_with(
                Method::POST,
                "/api/v1/tokens",
                &[(header::COOKIE.as_str(), cookie.as_str())],
                Some(json!({"name": "tests"})),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        app.token = created.body["secret"].as_str().unwrap().to_owned();
        app
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
        let router = self.router.clone();
        tokio::spawn(async move { axum::serve(listener, router).await });
        format!("http://{address}")
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

    /// Signs in through the API.
    pub async fn sign_in(&self, username: &str, password: &str) -> SignIn {
        let reply = self
            .call(
                Method::POST,
                "/api/v1/auth/sign-in",
                None,
                Some(json!({"username": username, "password": password})),
            )
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
}
