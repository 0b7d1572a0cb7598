//! Custodian over HTTP: the staff pages, the JSON API under `/api/v1` with its OpenAPI document, and health checks.

mod error;
mod extract;
mod input;
mod limit;
mod pages;
mod routes;

pub use extract::{FORM_TOKEN_HEADER, form_token};

use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use custodian_app::Custodian;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa_axum::router::OpenApiRouter;

pub use error::{ApiError, Problem};
pub use extract::SESSION_COOKIE;
pub use limit::SignInLimit;
pub use pages::paths as page_paths;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub custodian: Custodian,
    /// Sign-in attempts per client address (ASVS 2.2.1).
    sign_in_limit: std::sync::Arc<limit::AddressLimiter>,
    /// Refused forgeries per client address, so they cannot flood the audit trail.
    forgery_limit: std::sync::Arc<limit::AddressLimiter>,
}

impl AppState {
    /// The application with the default limit on sign-in attempts.
    pub fn new(custodian: Custodian) -> Self {
        Self::with_sign_in_limit(custodian, SignInLimit::default())
    }

    /// The application with sign-in attempts limited as `limit` says.
    pub fn with_sign_in_limit(custodian: Custodian, limit: SignInLimit) -> Self {
        Self {
            custodian,
            sign_in_limit: std::sync::Arc::new(limit::AddressLimiter::sign_ins(limit)),
            forgery_limit: std::sync::Arc::new(limit::AddressLimiter::forgeries(limit)),
        }
    }
}

/// The largest JSON body accepted; forms are small. Media uploads are streamed, not read whole,
/// and limited by the vault's own maximum.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The API's routes and its OpenAPI document, built together so they cannot disagree.
fn api() -> (Router<AppState>, OpenApi) {
    let v1 = OpenApiRouter::new()
        .merge(routes::accounts::routes())
        .merge(routes::access::routes())
        .merge(routes::policies::routes())
        .merge(routes::persons::routes())
        .merge(routes::consents::routes())
        .merge(routes::sessions::routes())
        .merge(routes::recordings::routes())
        .merge(routes::media::routes())
        .merge(routes::audit::routes())
        .merge(routes::retention::routes())
        .merge(routes::physical_media::routes())
        .merge(routes::disposal_tasks::routes())
        .merge(routes::sso::routes());
    let (router, mut openapi) = OpenApiRouter::with_openapi(document())
        .merge(routes::health::routes())
        .nest("/api/v1", v1)
        .split_for_parts();
    openapi.security = Some(vec![
        SecurityRequirement::new("bearer", Vec::<String>::new()),
        SecurityRequirement::new("session_cookie", Vec::<String>::new()),
    ]);
    document_common_responses(&mut openapi);
    (router, openapi)
}

/// Adds the responses every operation can give, so the document lists every status the server
/// can return: 400 for malformed input, 422 for input that breaks a rule wherever there is input,
/// and 401 and 403 wherever signing in is required; and says every error is a problem detail.
fn document_common_responses(openapi: &mut OpenApi) {
    let problem = |description: &str| {
        utoipa::openapi::ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                utoipa::openapi::ContentBuilder::new()
                    .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build()
    };
    for item in openapi.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
        ]
        .into_iter()
        .flatten()
        {
            let takes_input = operation.request_body.is_some()
                || operation
                    .parameters
                    .as_ref()
                    .is_some_and(|parameters| !parameters.is_empty());
            let public = operation.security.as_ref().is_some_and(|requirements| {
                requirements
                    .iter()
                    .all(|r| serde_json::to_value(r).is_ok_and(|v| v == serde_json::json!({})))
            });
            let responses = &mut operation.responses.responses;
            // Errors are served as RFC 9457 problem details, whatever a route declared.
            for (status, response) in responses.iter_mut() {
                if let (true, utoipa::openapi::RefOr::T(response)) =
                    (status.starts_with(['4', '5']), response)
                    && let Some(json) = response.content.shift_remove("application/json")
                {
                    response
                        .content
                        .insert("application/problem+json".to_owned(), json);
                }
            }
            responses
                .entry("400".to_owned())
                .or_insert_with(|| problem("The request is malformed: not JSON, a missing field, or an id that is not a UUID").into());
            if takes_input {
                responses.entry("422".to_owned()).or_insert_with(|| {
                    problem("The input breaks a rule: the problem names the field and, for a policy rule, the requirement").into()
                });
            }
            if !public {
                responses.entry("401".to_owned()).or_insert_with(|| {
                    problem("Not signed in, or the API token is unknown, expired or revoked").into()
                });
                responses
                    .entry("403".to_owned())
                    .or_insert_with(|| problem("Signed in, but not allowed: for example, the one-time password must be changed first").into());
            }
        }
    }
}

/// The OpenAPI document the API serves at `/api/v1/openapi.json`.
pub fn openapi() -> OpenApi {
    api().1
}

fn document() -> OpenApi {
    let mut openapi = utoipa::openapi::OpenApiBuilder::new()
        .info(
            utoipa::openapi::InfoBuilder::new()
                .title("Custodian")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Governs audio-visual recordings of the people health and social care organisations care for: \
                     consent per purpose, a register of recordings, decisions with reasons, and a tamper-evident audit trail. \
                     Errors are RFC 9457 problem details with a stable `code` and, for rules, the `requirement` they enforce.",
                ))
                .build(),
        )
        .build();
    let components = openapi.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("An API token from POST /api/v1/tokens"))
                .build(),
        ),
    );
    components.add_security_scheme(
        "session_cookie",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(SESSION_COOKIE))),
    );
    openapi
}

/// The whole HTTP application: tests drive it without a network; `serve` gives it a listener.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = api();
    let openapi_json = serde_json::to_vec(&openapi).unwrap_or_default();
    // The document holds no one's data, and tools (schemathesis, client generators) read it
    // before they hold a token.
    let document = move || {
        let body = openapi_json.clone();
        async move {
            (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                body,
            )
        }
    };
    let request_id = HeaderName::from_static("x-request-id");
    api.route("/api/v1/openapi.json", axum::routing::get(document))
        .merge(pages::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                        let id = request
                            .headers()
                            .get("x-request-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default();
                        tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id, staff = tracing::field::Empty)
                    }),
                )
                .layer(PropagateRequestIdLayer::new(request_id))
                // JSON bodies are limited where they are read; media uploads stream past it.
                .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
                .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
                .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
                .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
                .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
                // Pages load scripts, styles, images and media from this site only, and never inline:
                // markup that slips into a page cannot run. Media responses set a stricter policy.
                .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY)))
                .layer(axum::middleware::from_fn(strict_transport_security))
                .layer(axum::middleware::from_fn(refuse_long_addresses)),
        )
}

/// The longest address (path and query) answered: far beyond any Custodian makes, and short of
/// hyper's own limit (64 KiB), which answers with a bare 414 and no problem details.
const MAX_ADDRESS_BYTES: usize = 8 * 1024;

/// Refuses an address longer than [`MAX_ADDRESS_BYTES`] with problem details, before any
/// handler parses it.
async fn refuse_long_addresses(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let length = request
        .uri()
        .path_and_query()
        .map_or(0, |address| address.as_str().len());
    if length > MAX_ADDRESS_BYTES {
        return ApiError::bad_request(
            "http.address_too_long",
            format!(
                "the address is {length} bytes long, more than the {MAX_ADDRESS_BYTES} accepted; send long input in the body"
            ),
        )
        .with_status(StatusCode::URI_TOO_LONG)
        .into_response();
    }
    next.run(request).await
}

/// The content security policy of every response that does not set its own.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; media-src 'self'; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// Tells browsers to use HTTPS only, for a year, when the request came over HTTPS: Custodian
/// serves plain HTTP behind the organisation's TLS proxy, which says so in `X-Forwarded-Proto`
/// or `Forwarded`. Browsers ignore the header on plain HTTP, so a forged claim gains nothing.
async fn strict_transport_security(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let headers = request.headers();
    let forwarded_proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    let forwarded = headers
        .get(header::FORWARDED)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("proto=https"));
    let secure = request.uri().scheme_str() == Some("https") || forwarded_proto || forwarded;
    let mut response = next.run(request).await;
    if secure {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

async fn method_not_allowed(method: axum::http::Method) -> impl IntoResponse {
    ApiError::bad_request(
        "http.method_not_allowed",
        format!("this address does not take {method}; see /api/v1/openapi.json for what it takes"),
    )
    .with_status(StatusCode::METHOD_NOT_ALLOWED)
}

async fn not_found() -> impl IntoResponse {
    let mut error = ApiError::bad_request(
        "route.not_found",
        "there is no such address; see /api/v1/openapi.json",
    );
    error = error.with_status(StatusCode::NOT_FOUND);
    error
}
