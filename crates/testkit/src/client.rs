//! The API as one member of staff: `app.as_(&manager).post(path, json)`, so a story's calls read as what that person does.

use axum::http::Method;
use serde_json::Value;

use crate::{Reply, TestApp};

/// The app, called with one member's API token.
#[derive(Clone, Copy)]
pub struct As<'a> {
    app: &'a TestApp,
    token: &'a str,
}

impl TestApp {
    /// The API as the member whose token is `token`.
    pub fn as_<'a>(&'a self, token: &'a str) -> As<'a> {
        As { app: self, token }
    }
}

impl As<'_> {
    pub async fn get(self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(body)).await
    }

    /// A POST that carries no body: an act named by its path alone.
    pub async fn post_empty(self, path: &str) -> Reply {
        self.send(Method::POST, path, None).await
    }

    pub async fn put(self, path: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None).await
    }

    /// Any request, for the rarer methods and bodies.
    pub async fn send(self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.app.call(method, path, Some(self.token), body).await
    }
}
