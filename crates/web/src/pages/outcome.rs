//! What a page handler returns: its page, or an error shown as the error page to whoever is signed in.
//!
//! Handlers return [`PageResult`] and use `?` on use cases. The error page's header names the
//! member of staff: [`SignedIn`](super::signed_in::SignedIn) leaves them in a slot the
//! [`error_pages_name_the_member`] layer puts in every page request, and the layer redraws an
//! error page with them once the handler is done.

use std::sync::{Arc, OnceLock};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use custodian_app::AppError;
use custodian_core::DomainError;

use super::signed_in::Who;
use super::{ErrorPage, render};

/// A page, or the error page.
pub type PageResult<T = Response> = Result<T, PageError>;

/// A failed use case on a page: the error page, with the API's status and words.
#[derive(Debug)]
pub struct PageError(AppError);

impl From<AppError> for PageError {
    fn from(error: AppError) -> Self {
        Self(error)
    }
}

impl From<DomainError> for PageError {
    fn from(error: DomainError) -> Self {
        Self(AppError::from(error))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let shown = ErrorShown::of(self.0);
        let mut response = shown.render(None);
        response.extensions_mut().insert(shown);
        response
    }
}

/// An error page as drawn, kept on its response so the layer can draw it again with a name.
#[derive(Clone, Debug)]
struct ErrorShown {
    status: StatusCode,
    title: &'static str,
    detail: String,
}

impl ErrorShown {
    fn of(error: AppError) -> Self {
        let problem = crate::ApiError::from(error);
        let status = problem.status();
        let title = match status {
            StatusCode::NOT_FOUND => "Page not found",
            StatusCode::FORBIDDEN => "You cannot do this",
            status if status.is_server_error() => "Sorry, there is a problem with the service",
            _ => "This could not be done",
        };
        Self {
            status,
            title,
            detail: problem.detail().to_owned(),
        }
    }

    fn render(&self, signed_in_as: Option<Who>) -> Response {
        let page = ErrorPage {
            title: self.title,
            signed_in_as,
            detail: self.detail.clone(),
        };
        render(self.status, &page)
    }
}

/// A failed use case as a page for `signed_in_as`, where a handler draws one itself.
pub fn error_page(error: AppError, signed_in_as: Option<Who>) -> Response {
    ErrorShown::of(error).render(signed_in_as)
}

/// Where the signed-in member of a page request is left for its error page.
#[derive(Clone, Default)]
pub(super) struct SignedInSlot(Arc<OnceLock<Who>>);

impl SignedInSlot {
    pub(super) fn fill(&self, who: Who) {
        let _ = self.0.set(who);
    }
}

/// Gives each page request a slot for its signed-in member, and redraws an error page with them.
pub(super) async fn error_pages_name_the_member(mut request: Request, next: Next) -> Response {
    let slot = SignedInSlot::default();
    request.extensions_mut().insert(slot.clone());
    let response = next.run(request).await;
    match (response.extensions().get::<ErrorShown>(), slot.0.get()) {
        (Some(shown), Some(who)) => shown.render(Some(who.clone())),
        _ => response,
    }
}
