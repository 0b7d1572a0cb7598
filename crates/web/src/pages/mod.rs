//! Server-rendered pages for staff: the web app, over the same use cases as the JSON API.

mod capture;
mod checked;
mod connection;
mod consent;
mod consent_copy;
mod consent_form;
mod courses;
mod dashboard;
mod disposal_review;
mod disposals;
mod emergency;
mod legal_holds;
mod new_person;
mod new_session;
mod outcome;
mod oversight;
mod password;
mod persons;
mod policies;
mod policy_proposals;
mod recording;
mod schedule;
mod services;
mod sessions;
mod sign_in;
pub mod signed_in;
mod sso;
mod staff;
mod totp;
mod views;
mod withdrawal_form;

use askama::Template;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use custodian_core::DomainError;

use crate::AppState;

/// The stylesheet, compiled in so the app needs no files beside the binary.
const STYLESHEET: &str = include_str!("../../assets/custodian.css");

pub use outcome::{PageResult, error_page};

pub fn routes() -> Router<AppState> {
    pages().router.layer(axum::middleware::from_fn(
        outcome::error_pages_name_the_member,
    ))
}

/// Every page's path, as the router knows it: the access table test holds a row for each.
pub fn paths() -> Vec<&'static str> {
    pages().paths
}

/// The router and the paths it was given, built together so neither can miss one.
struct Pages {
    router: Router<AppState>,
    paths: Vec<&'static str>,
}

impl Pages {
    fn route(mut self, path: &'static str, handler: axum::routing::MethodRouter<AppState>) -> Self {
        self.router = self.router.route(path, handler);
        self.paths.push(path);
        self
    }
}

fn pages() -> Pages {
    Pages {
        router: Router::new(),
        paths: Vec::new(),
    }
    .route("/sign-in", get(sign_in::form).post(sign_in::submit))
    .route(
        "/sign-in/code",
        get(sign_in::code_form).post(sign_in::code_submit),
    )
    .route("/totp", get(totp::show).post(totp::confirm))
    .route("/totp/start", post(totp::start))
    .route("/sign-in/sso", get(sso::start))
    .route("/sign-in/sso/callback", get(sso::callback))
    .route("/sign-out", post(sign_in::sign_out))
    .route("/sign-out-everywhere", post(sign_in::sign_out_everywhere))
    .route("/assets/custodian.css", get(stylesheet))
    .route("/", get(dashboard::show))
    .route("/password", get(password::form).post(password::submit))
    .route("/persons", get(persons::find))
    .route(
        "/persons/new",
        get(new_person::form).post(new_person::submit),
    )
    .route("/persons/{id}", get(persons::person))
    .route(
        "/persons/{id}/consents/new",
        get(consent_form::form).post(consent_form::submit),
    )
    .route("/consents/{id}", get(consent::show))
    .route("/consents/{id}/copy.pdf", get(consent::copy))
    .route(
        "/consents/{id}/withdrawals/{withdrawal}/copy.pdf",
        get(consent::withdrawal_copy),
    )
    .route(
        "/consents/{id}/withdraw",
        get(withdrawal_form::form).post(withdrawal_form::submit),
    )
    .route("/recordings/{id}", get(recording::show))
    .route(
        "/recordings/{id}/device-copy-deleted",
        post(recording::device_copy_deleted),
    )
    .route(
        "/persons/{id}/sessions/new",
        get(new_session::new_session).post(new_session::start_session),
    )
    .route(
        "/persons/{id}/courses/new",
        get(courses::new_course).post(courses::create_course),
    )
    .route("/sessions/{id}", get(sessions::show))
    .route("/sessions/{id}/confirmations", post(sessions::confirm))
    .route("/sessions/{id}/stops", post(sessions::stop))
    .route("/sessions/{id}/capture", get(capture::capture))
    .route(
        "/sessions/{id}/upload",
        get(capture::upload)
            // The vault bounds an upload (its largest size); the form's length is not limited here.
            .post(capture::receive)
            .layer(axum::extract::DefaultBodyLimit::disable()),
    )
    .route(
        "/persons/{id}/connection",
        get(connection::form).post(connection::submit),
    )
    .route("/connections", get(connection::mine))
    .route("/persons/{id}/emergency-access", post(emergency::take))
    .route(
        "/persons/{id}/services/new",
        get(services::form).post(services::submit),
    )
    .route("/refusals", get(oversight::refusals))
    .route("/emergency-access/{id}/review", post(oversight::review))
    .route("/staff", get(staff::list))
    .route("/staff/{id}", get(staff::show))
    .route("/staff/{id}/access", post(staff::set_access))
    .route("/staff/{id}/totp", post(staff::reset_totp))
    .route("/staff/{id}/sso", post(staff::link_sso))
    .route("/policies", get(policies::list).post(policies::add))
    .route(
        "/policies/{name}",
        get(policies::show).post(policies::replace),
    )
    .route(
        "/policies/{name}/delete",
        get(policies::confirm_delete).post(policies::delete),
    )
    .route("/persons/{id}/looks", get(persons::looks))
    .route("/policy-proposals", get(policy_proposals::list))
    .route(
        "/policy-proposals/{name}/approval",
        post(policy_proposals::approve),
    )
    .route(
        "/policy-proposals/{name}/rejection",
        post(policy_proposals::reject),
    )
    .route("/disposals", get(disposals::show))
    .route(
        "/disposals/{id}/review",
        get(disposal_review::form).post(disposal_review::submit),
    )
    .route("/disposals/{id}/destruction", post(disposals::destroy))
    .route(
        "/disposals/{id}/tasks/{task}/done",
        post(disposals::task_done),
    )
    .route(
        "/legal-holds",
        get(legal_holds::list).post(legal_holds::place),
    )
    .route("/legal-holds/{id}/lift", post(legal_holds::lift))
    .route("/retention/schedule", get(schedule::show))
    .route(
        "/retention/schedule/{rule}",
        get(schedule::rule).post(schedule::change),
    )
    .route("/assets/media.js", get(capture::media_script))
    .route("/assets/signature.js", get(signature_script))
    .route("/assets/player.js", get(player_script))
}

/// A date as people write it: 29 February 1980.
pub fn long_date(date: time::Date) -> String {
    format!("{} {} {}", date.day(), date.month(), date.year())
}

/// The signature pad, the one script the consent form needs.
const SIGNATURE_SCRIPT: &str = include_str!("../../assets/signature.js");

async fn signature_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SIGNATURE_SCRIPT,
    )
}

/// The recording page's player: says so when its grant lapses.
const PLAYER_SCRIPT: &str = include_str!("../../assets/player.js");

async fn player_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        PLAYER_SCRIPT,
    )
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}

/// A problem with one field, shown in the error summary and beside the field (NHS pattern).
#[derive(Debug, Clone)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// A page with a form: its problems, for the error summary and beside each field (NHS pattern).
pub trait FormErrors {
    fn errors(&self) -> &[FieldError];

    /// The first problem with `field`, to show beside it.
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors()
            .iter()
            .find(|error| error.field == field)
            .map(|error| error.message.as_str())
    }
}

/// Implements [`FormErrors`] for pages that keep their problems in an `errors` field.
macro_rules! form_errors {
    ($($page:ty),+ $(,)?) => {
        $(impl $crate::pages::FormErrors for $page {
            fn errors(&self) -> &[$crate::pages::FieldError] {
                &self.errors
            }
        })+
    };
}
pub(crate) use form_errors;

/// An optional field: blank means none, anything else must parse.
pub fn optional<T>(
    text: &str,
    parse: impl Fn(&str) -> Result<T, DomainError>,
) -> Result<Option<T>, DomainError> {
    match text.trim() {
        "" => Ok(None),
        text => parse(text).map(Some),
    }
}

/// Words as a sentence: a capital first letter.
pub fn sentence(text: &str) -> String {
    let mut characters = text.chars();
    characters
        .next()
        .map(|first| first.to_uppercase().chain(characters).collect())
        .unwrap_or_default()
}

/// Renders a page; a template that fails to render is a bug, reported without detail.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "a page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!DOCTYPE html><title>Error – Custodian</title><p>Something went wrong on our side; it has been logged.</p>"),
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    title: &'static str,
    signed_in_as: Option<signed_in::Who>,
    detail: String,
}

/// The moment a date (2026-11-20) and time (14:30) entered on a UK clock stand for.
pub fn uk_clock_moment(
    field: &'static str,
    expected: &'static str,
    date: &str,
    time: &str,
) -> Result<time::OffsetDateTime, DomainError> {
    let text = format!("{} {}", date.trim(), time.trim());
    time::PrimitiveDateTime::parse(
        &text,
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]"),
    )
    .map(custodian_app::london::from_london)
    .map_err(|_| DomainError::BadFormat { field, expected })
}

/// A moment as a UK clock's date (2026-11-20) and time (14:30), to fill in a form.
pub fn uk_clock_fields(at: time::OffsetDateTime) -> (String, String) {
    let local = custodian_app::london::in_london(at);
    (
        local.date().to_string(),
        format!("{:02}:{:02}", local.hour(), local.minute()),
    )
}

/// Where to go after signing in: only a path on this site, never another site.
pub fn safe_return_path(requested: &str) -> &str {
    let local = requested.starts_with('/')
        && !requested.starts_with("//")
        && !requested.starts_with("/\\")
        && !requested.chars().any(char::is_control);
    if local { requested } else { "/" }
}

#[cfg(test)]
mod tests {
    use super::safe_return_path;

    /// The content security policy allows no inline script or style: no template may need one.
    #[test]
    fn s2_no_template_has_inline_script_style_or_event_handlers() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut checked = 0;
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let html = std::fs::read_to_string(&path).unwrap().to_lowercase();
            for forbidden in ["<script>", "<style", " style=\"", "javascript:"] {
                assert!(
                    !html.contains(forbidden),
                    "{} has {forbidden}",
                    path.display()
                );
            }
            let handler = html
                .split_whitespace()
                .find(|word| word.starts_with("on") && word.contains("=\""));
            assert_eq!(handler, None, "{} has an event handler", path.display());
            checked += 1;
        }
        assert!(checked >= 10, "only {checked} templates found");
    }

    #[test]
    fn sign_in_returns_only_to_pages_of_this_site() {
        assert_eq!(safe_return_path("/persons/123"), "/persons/123");
        for elsewhere in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "",
            "javascript:alert(1)",
            "/a\nb",
        ] {
            assert_eq!(safe_return_path(elsewhere), "/", "{elsewhere:?}");
        }
    }
}
