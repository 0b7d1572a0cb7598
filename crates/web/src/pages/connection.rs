//! Declaring a personal connection to a person (S3), and the list of one's own connections.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use custodian_access::Action;
use custodian_app::london::london_time;
use custodian_core::ids::PersonId;
use custodian_core::staff::ConnectionKind;
use serde::Deserialize;

use super::signed_in::SignedIn;
use super::{FieldError, FormErrors, form_errors, render};
use crate::AppState;
use crate::extract::Path;
use crate::pages::PageResult;
use crate::pages::checked::Checked;

#[derive(Template)]
#[template(path = "connection_form.html")]
struct ConnectionPage {
    title: String,
    signed_in_as: Option<super::signed_in::Who>,
    errors: Vec<FieldError>,
    person_id: String,
    name: String,
    kinds: Vec<(&'static str, String)>,
    chosen: String,
}

form_errors!(ConnectionPage);

#[derive(Template)]
#[template(path = "connections.html")]
struct ConnectionsPage {
    title: &'static str,
    signed_in_as: Option<super::signed_in::Who>,
    /// Each connection's kind in words and when it was declared.
    connections: Vec<(String, String)>,
}

/// The kind of connection chosen on the form.
#[derive(Deserialize, Default)]
pub struct ConnectionForm {
    #[serde(default)]
    kind: String,
}

/// The form, with a warning of what declaring means. Only someone who may see the person is
/// shown it, since it names them.
pub async fn form(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<PersonId>,
) -> PageResult {
    connection_page(
        &state,
        &staff,
        id,
        String::new(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn submit(
    State(state): State<AppState>,
    staff: SignedIn,
    Path(id): Path<PersonId>,
    Checked(form): Checked<ConnectionForm>,
) -> PageResult {
    let Ok(kind) = ConnectionKind::parse(&form.kind) else {
        let errors = vec![FieldError::new(
            "kind",
            "Choose how you know them personally",
        )];
        return connection_page(
            &state,
            &staff,
            id,
            form.kind,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    state
        .custodian
        .declare_connection(&staff.caller, id, kind)
        .await?;
    Ok(Redirect::to("/connections").into_response())
}

async fn connection_page(
    state: &AppState,
    staff: &SignedIn,
    id: PersonId,
    chosen: String,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> PageResult {
    let record = state
        .custodian
        .person_to(&staff.caller, Action::ViewPerson, id)
        .await?;
    let name = record.person.name.full();
    let page = ConnectionPage {
        title: format!("Declare a personal connection to {name}"),
        signed_in_as: Some(staff.who()),
        errors,
        person_id: id.to_string(),
        name,
        kinds: ConnectionKind::ALL
            .iter()
            .map(|kind| (kind.as_str(), super::sentence(kind.label())))
            .collect(),
        chosen,
    };
    Ok(render(status, &page))
}

/// The connections the member of staff declared. The people are not named: the member is
/// refused their records, and this page is no exception.
pub async fn mine(State(state): State<AppState>, staff: SignedIn) -> PageResult {
    let connections = state.custodian.my_connections(&staff.caller).await?;
    let page = ConnectionsPage {
        title: "Your personal connections",
        signed_in_as: Some(staff.who()),
        connections: connections
            .iter()
            .map(|connection| {
                let kind = ConnectionKind::parse(&connection.kind)
                    .map_or_else(|_| connection.kind.clone(), |k| super::sentence(k.label()));
                (kind, london_time(connection.declared_at))
            })
            .collect(),
    };
    Ok(render(StatusCode::OK, &page))
}
