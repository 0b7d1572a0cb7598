//! Media: resumable uploads (tus 1.0), playback with ranges, destruction with certificates.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use custodian_app::Secret;
use custodian_app::media::{MediaDownload, RangeRequest, UploadStatus, UploadTarget};
use custodian_app::uses::UseAsked;
use custodian_core::ids::{PersonId, RecordingId, SessionId};
use custodian_core::recording::{DerivationForm, DerivationKind, RecordingForm, RecordingKind};
use custodian_core::text::{Note, ServiceCode, ShortText};
use custodian_vault::certificate::Certificate;
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Body as JsonBody, Path, Query, Staff};
use crate::input::{moment, optional_note, purposes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(tus_options, create_upload))
        .routes(routes!(upload_offset, append, cancel))
        .routes(routes!(media))
        .routes(routes!(destroy, certificate))
        .routes(routes!(signing_key))
}

const TUS_VERSION: &str = "1.0.0";
const OFFSET_STREAM: &str = "application/offset+octet-stream";

fn tus_headers(headers: &mut HeaderMap) {
    headers.insert(
        HeaderName::from_static("tus-resumable"),
        HeaderValue::from_static(TUS_VERSION),
    );
}

fn header_number(headers: &HeaderMap, name: &'static str) -> Result<u64, ApiError> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| {
            ApiError::bad_request(
                "upload.bad_header",
                format!("the `{name}` header must be a whole number of bytes"),
            )
        })
}

fn require_tus(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get("tus-resumable").and_then(|v| v.to_str().ok()) {
        Some(TUS_VERSION) => Ok(()),
        _ => Err(ApiError::bad_request(
            "upload.tus_version",
            "send `Tus-Resumable: 1.0.0`: uploads speak the tus 1.0 resumable upload protocol",
        )
        .with_status(StatusCode::PRECONDITION_FAILED)),
    }
}

fn status_headers(status: &UploadStatus) -> HeaderMap {
    let mut headers = HeaderMap::new();
    tus_headers(&mut headers);
    headers.insert(
        HeaderName::from_static("upload-offset"),
        HeaderValue::from(status.offset),
    );
    headers.insert(
        HeaderName::from_static("upload-length"),
        HeaderValue::from(status.length),
    );
    if let Some(recording) = &status.recording
        && let Ok(value) = HeaderValue::from_str(&recording.id.to_string())
    {
        headers.insert(HeaderName::from_static("custodian-recording-id"), value);
    }
    headers
}

/// What an upload will become, sent base64-encoded as the `recording` key of `Upload-Metadata`
/// (JSON), with optionally `filename`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadMetadata {
    /// `photograph`, `audio`, `video` or `other`; the bytes must agree.
    kind: Option<String>,
    service: Option<String>,
    session_id: Option<SessionId>,
    #[serde(default)]
    subjects: Vec<PersonId>,
    #[serde(default)]
    purposes: Vec<String>,
    device: String,
    /// RFC 3339.
    made_at: String,
    location: Option<String>,
    /// For a derived item (R6): the recording it was made from, and how.
    derived_from: Option<RecordingId>,
    /// `redaction`, `transcript` or `still`, with `derived_from`.
    derivation: Option<String>,
    #[serde(default)]
    de_identified: bool,
    #[serde(default)]
    removed_persons: Vec<PersonId>,
    method: Option<String>,
    /// With `derived_from`: the purpose the item is made for (required), and for research
    /// the study's ethics approval reference.
    purpose: Option<String>,
    study: Option<String>,
}

impl UploadMetadata {
    fn target(self, made_by: custodian_core::ids::StaffId) -> Result<UploadTarget, ApiError> {
        let made_at = moment("made_at", &self.made_at)?;
        let device = ShortText::parse("device", &self.device)?;
        if let Some(source) = self.derived_from {
            let asked =
                crate::input::use_asked(source, self.purpose.as_deref(), self.study.as_deref())?;
            return Ok(UploadTarget::Derivative {
                source,
                purpose: asked.purpose,
                study: asked.study,
                form: DerivationForm {
                    kind: DerivationKind::parse(self.derivation.as_deref().unwrap_or("redaction"))?,
                    de_identified: self.de_identified,
                    removed_persons: self.removed_persons,
                    method: optional_note("method", self.method.as_deref())?,
                    made_by,
                    device,
                    made_at,
                },
            });
        }
        Ok(UploadTarget::Recording {
            form: RecordingForm {
                kind: RecordingKind::parse(self.kind.as_deref().unwrap_or_default())?,
                service: ServiceCode::parse(self.service.as_deref().unwrap_or_default())?,
                subjects: self.subjects,
                purposes: purposes(&self.purposes)?,
                made_by,
                device,
                made_at,
                location: ShortText::parse(
                    "location",
                    self.location.as_deref().unwrap_or_default(),
                )?,
            },
            session: self.session_id,
        })
    }
}

/// Reads `Upload-Metadata`: comma-separated `key base64value` pairs.
fn metadata(headers: &HeaderMap) -> Result<(UploadMetadata, Option<String>), ApiError> {
    let raw = headers
        .get("upload-metadata")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut recording = None;
    let mut filename = None;
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once(' ').unwrap_or((pair, ""));
        let decoded = STANDARD.decode(value.trim()).map_err(|_| {
            ApiError::bad_request(
                "upload.bad_metadata",
                format!("the `{key}` metadata is not base64"),
            )
        })?;
        match key {
            "recording" => recording = Some(decoded),
            "filename" => filename = String::from_utf8(decoded).ok(),
            _ => {}
        }
    }
    let recording = recording.ok_or_else(|| {
        ApiError::bad_request(
            "upload.missing_metadata",
            "describe the recording in `Upload-Metadata` as `recording <base64 JSON>` (kind, service, subjects, purposes, device, made_at, location)",
        )
    })?;
    let parsed = serde_json::from_slice(&recording).map_err(|e| {
        ApiError::bad_request(
            "upload.bad_metadata",
            format!("the `recording` metadata is not valid: {e}"),
        )
    })?;
    Ok((parsed, filename))
}

/// How uploads work here (tus 1.0).
#[utoipa::path(options, path = "/uploads", tag = "media",
    responses((status = NO_CONTENT, description = "Tus-Version, Tus-Extension and Tus-Max-Size headers")))]
async fn tus_options(State(state): State<AppState>, Staff(_caller): Staff) -> impl IntoResponse {
    let mut headers = HeaderMap::new();
    tus_headers(&mut headers);
    headers.insert(
        HeaderName::from_static("tus-version"),
        HeaderValue::from_static(TUS_VERSION),
    );
    headers.insert(
        HeaderName::from_static("tus-extension"),
        HeaderValue::from_static("creation,creation-with-upload,termination"),
    );
    headers.insert(
        HeaderName::from_static("tus-max-size"),
        HeaderValue::from(state.custodian.vault_limit()),
    );
    (StatusCode::NO_CONTENT, headers)
}

/// Start an upload (tus `creation`, with `creation-with-upload`): `Upload-Length` and
/// `Upload-Metadata` describe it; a body of type `application/offset+octet-stream` starts it.
/// The recording is registered only when every byte has arrived and is durably stored.
#[utoipa::path(post, path = "/uploads", tag = "media",
    params(("Upload-Length" = u64, Header, description = "The file's size in bytes"),
           ("Upload-Metadata" = String, Header, description = "`recording <base64 JSON of UploadMetadata>[, filename <base64>]`"),
           ("Tus-Resumable" = String, Header, description = "1.0.0")),
    request_body(content = UploadMetadata, description = "Sent base64-encoded in Upload-Metadata; the body, if any, is the file's first bytes"),
    responses((status = CREATED, body = UploadStatus, description = "Location names the upload; Upload-Offset says how much arrived"),
        (status = PAYLOAD_TOO_LARGE, body = Problem), (status = UNSUPPORTED_MEDIA_TYPE, body = Problem),
        (status = UNPROCESSABLE_ENTITY, body = Problem), (status = NOT_FOUND, body = Problem), (status = CONFLICT, body = Problem),
        (status = PRECONDITION_FAILED, body = Problem),
        (status = TOO_MANY_REQUESTS, body = Problem, description = "The member has as many unfinished uploads, or unfinished bytes, as one may (`upload.too_many_unfinished`, `upload.too_much_unfinished`)"),
        (status = INSUFFICIENT_STORAGE, body = Problem, description = "The server holds as many unfinished uploads as it may (`upload.server_full`), or its disk cannot hold this one as well as those unfinished (`upload.disk_full`)")))]
async fn create_upload(
    State(state): State<AppState>,
    Staff(caller): Staff,
    request: Request,
) -> ApiResult<Response> {
    let (parts, body) = request.into_parts();
    require_tus(&parts.headers)?;
    let length = header_number(&parts.headers, "upload-length")?;
    let (described, filename) = metadata(&parts.headers)?;
    let target = described.target(caller.member.id)?;
    let mut status = state
        .custodian
        .start_upload(&caller, length, target, filename)
        .await?;
    let has_body = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        == Some(OFFSET_STREAM);
    if has_body {
        status = state
            .custodian
            .append_upload(&caller, status.id, 0, body.into_data_stream())
            .await?;
    }
    let mut headers = status_headers(&status);
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/uploads/{}", status.id)) {
        headers.insert(header::LOCATION, location);
    }
    Ok((StatusCode::CREATED, headers, axum::Json(status)).into_response())
}

/// How much of an upload has arrived: resume from `Upload-Offset` (tus).
#[utoipa::path(head, path = "/uploads/{id}", tag = "media", params(("id" = Uuid, Path)),
    responses((status = OK, description = "Upload-Offset and Upload-Length headers"), (status = NOT_FOUND, body = Problem)))]
async fn upload_offset(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    let status = state.custodian.upload_status(&caller, id).await?;
    Ok((StatusCode::OK, status_headers(&status)).into_response())
}

/// Send the next bytes of an upload from `Upload-Offset` (tus). When the last byte arrives the
/// recording is registered; `Custodian-Recording-Id` names it.
#[utoipa::path(patch, path = "/uploads/{id}", tag = "media",
    params(("id" = Uuid, Path), ("Upload-Offset" = u64, Header, description = "Where these bytes start"),
           ("Tus-Resumable" = String, Header, description = "1.0.0")),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    responses((status = NO_CONTENT, description = "Upload-Offset says how much has arrived; Custodian-Recording-Id once complete"),
        (status = CONFLICT, body = Problem), (status = NOT_FOUND, body = Problem), (status = UNSUPPORTED_MEDIA_TYPE, body = Problem),
        (status = UNPROCESSABLE_ENTITY, body = Problem), (status = PRECONDITION_FAILED, body = Problem)))]
async fn append(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<Uuid>,
    request: Request,
) -> ApiResult<Response> {
    let (parts, body) = request.into_parts();
    require_tus(&parts.headers)?;
    if parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        != Some(OFFSET_STREAM)
    {
        return Err(ApiError::bad_request(
            "upload.content_type",
            format!("send upload bytes as `Content-Type: {OFFSET_STREAM}`"),
        )
        .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
    }
    let offset = header_number(&parts.headers, "upload-offset")?;
    let status = state
        .custodian
        .append_upload(&caller, id, offset, body.into_data_stream())
        .await?;
    Ok((StatusCode::NO_CONTENT, status_headers(&status)).into_response())
}

/// Abandon an upload; what arrived is deleted (tus `termination`).
#[utoipa::path(delete, path = "/uploads/{id}", tag = "media", params(("id" = Uuid, Path)),
    responses((status = NO_CONTENT, description = "Abandoned"), (status = NOT_FOUND, body = Problem)))]
async fn cancel(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<Uuid>,
) -> ApiResult<Response> {
    state.custodian.cancel_upload(&caller, id).await?;
    let mut headers = HeaderMap::new();
    tus_headers(&mut headers);
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}

/// Parses a `Range` header: one range of bytes.
fn range(headers: &HeaderMap) -> Result<Option<RangeRequest>, ApiError> {
    let Some(value) = headers.get(header::RANGE) else {
        return Ok(None);
    };
    let malformed = || {
        ApiError::bad_request(
            "media.bad_range",
            "the Range header must be one range of bytes: `bytes=START-END`, `bytes=START-` or `bytes=-COUNT`",
        )
    };
    let text = value.to_str().map_err(|_| malformed())?.trim();
    let spec = text.strip_prefix("bytes=").ok_or_else(malformed)?;
    if spec.contains(',') {
        return Err(malformed());
    }
    let (start, end) = spec.split_once('-').ok_or_else(malformed)?;
    let number = |text: &str| text.trim().parse::<u64>().map_err(|_| malformed());
    let request = match (start.trim().is_empty(), end.trim().is_empty()) {
        (false, false) => RangeRequest::Between(number(start)?, number(end)?),
        (false, true) => RangeRequest::From(number(start)?),
        (true, false) => RangeRequest::Last(number(end)?),
        (true, true) => return Err(malformed()),
    };
    Ok(Some(request))
}

/// What a use of a recording's content is for, and the grant it is made under, if any.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UseQuery {
    /// Required: the purpose code the content is used for, as the decision takes it
    /// (`clinical`, `teaching`, …). Without it nothing is served (400).
    purpose: Option<String>,
    /// For research: the study's ethics approval reference (C10).
    study: Option<String>,
    /// The grant the first request returned in `Custodian-Grant`: later requests (byte ranges
    /// while playing) made under it are served without deciding again, until it expires or a
    /// change revokes it.
    grant: Option<String>,
}

impl UseQuery {
    /// The use asked for, parsed: the purpose is required.
    fn asked(&self, recording: RecordingId) -> Result<UseAsked, ApiError> {
        crate::input::use_asked(recording, self.purpose.as_deref(), self.study.as_deref())
    }
}

/// Play or download a recording, whole or a range (`Range: bytes=…`), for a named purpose,
/// decrypted and checked as it streams. The first request is decided — access and consent for
/// the purpose — and audited, and returns a grant in `Custodian-Grant` (with
/// `Custodian-Grant-Expires`); requests under the grant (`grant=`) are served without deciding
/// again. A refused use is a 403 problem with every reason and what would make it allowed.
#[utoipa::path(get, path = "/recordings/{id}/media", tag = "media", params(("id" = RecordingId, Path), UseQuery,
        ("Range" = Option<String>, Header, description = "`bytes=START-END`, `bytes=START-` or `bytes=-COUNT`")),
    responses((status = OK, description = "The whole recording", content_type = "application/octet-stream",
            headers(("Custodian-Grant" = String, description = "A grant for the requests that follow, when this request was decided"),
                    ("Custodian-Grant-Expires" = String, description = "When the grant expires (RFC 3339)"))),
        (status = PARTIAL_CONTENT, description = "The range asked for; Content-Range says which", content_type = "application/octet-stream"),
        (status = BAD_REQUEST, body = Problem, description = "No purpose named", content_type = "application/problem+json"),
        (status = FORBIDDEN, body = Problem, description = "The use is refused (access or consent), or the grant does not admit it", content_type = "application/problem+json"),
        (status = NOT_FOUND, body = Problem), (status = GONE, body = Problem),
        (status = UNPROCESSABLE_ENTITY, body = Problem),
        (status = RANGE_NOT_SATISFIABLE, body = Problem), (status = INTERNAL_SERVER_ERROR, body = Problem)))]
async fn media(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<RecordingId>,
    Query(query): Query<UseQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let asked = query.asked(id)?;
    let requested = range(&headers)?;
    let grant = query
        .grant
        .as_deref()
        .map(|secret| Secret::from(secret.to_owned()));
    let download = state
        .custodian
        .open_media(&caller, &asked, grant.as_ref(), requested)
        .await?;
    Ok(media_response(download))
}

/// The response carrying content the gate allowed.
fn media_response(download: MediaDownload) -> Response {
    let length = download.range.end - download.range.start;
    let first = futures_util::stream::once(async move { Ok::<_, std::io::Error>(download.first) });
    let rest = futures_util::stream::unfold(download.rest, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    });
    let mut response = Response::new(Body::from_stream(first.chain(rest)));
    let response_headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: HeaderName, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set(
        response_headers,
        header::CONTENT_TYPE,
        download.content_type.clone(),
    );
    set(response_headers, header::CONTENT_LENGTH, length.to_string());
    response_headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    // The name is made from the id, never from anything uploaded; browsers save rather than render.
    set(
        response_headers,
        header::CONTENT_DISPOSITION,
        format!("attachment; filename=\"{}\"", download.filename),
    );
    response_headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    set(
        response_headers,
        HeaderName::from_static("custodian-purpose"),
        download.purpose.as_str().to_owned(),
    );
    if let Some(grant) = &download.grant {
        set(
            response_headers,
            HeaderName::from_static("custodian-grant"),
            grant.secret.expose().to_owned(),
        );
        set(
            response_headers,
            HeaderName::from_static("custodian-grant-expires"),
            custodian_core::clock::Shown(grant.expires_at).to_string(),
        );
    }
    if download.partial {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        let content_range = format!(
            "bytes {}-{}/{}",
            download.range.start,
            download.range.end - 1,
            download.size
        );
        set(response.headers_mut(), header::CONTENT_RANGE, content_range);
    }
    response
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DestructionRequest {
    /// Why, in words that will stand in the certificate.
    reason: String,
    /// The rule it is done under, such as `C8` (withdrawal) or `D6` (request after care).
    rule: String,
}

/// Destroy a recording's media (administrators only): its content key is destroyed, so every
/// copy of the ciphertext is unreadable, the object is deleted, and a signed certificate is
/// returned (D9, X2). Refused while a legal hold stands (D7).
#[utoipa::path(post, path = "/recordings/{id}/destruction", tag = "media", params(("id" = RecordingId, Path)),
    request_body = DestructionRequest,
    responses((status = CREATED, body = Certificate), (status = CONFLICT, body = Problem), (status = GONE, body = Problem),
        (status = NOT_FOUND, body = Problem), (status = UNPROCESSABLE_ENTITY, body = Problem)))]
async fn destroy(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<RecordingId>,
    JsonBody(request): JsonBody<DestructionRequest>,
) -> ApiResult<(StatusCode, axum::Json<Certificate>)> {
    let reason = Note::parse("reason", &request.reason)?;
    let rule = ShortText::parse("rule", &request.rule)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(
            state
                .custodian
                .destroy_recording(&caller, id, reason, rule)
                .await?,
        ),
    ))
}

/// A destroyed recording's certificate.
#[utoipa::path(get, path = "/recordings/{id}/destruction", tag = "media", params(("id" = RecordingId, Path)),
    responses((status = OK, body = Certificate), (status = NOT_FOUND, body = Problem)))]
async fn certificate(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<RecordingId>,
) -> ApiResult<axum::Json<Certificate>> {
    Ok(axum::Json(
        state.custodian.destruction_certificate(&caller, id).await?,
    ))
}

/// The public key that signs destruction certificates (PEM), to verify them offline.
#[utoipa::path(get, path = "/vault/signing-key", tag = "media",
    responses((status = OK, description = "An Ed25519 public key in PEM", content_type = "application/x-pem-file")))]
async fn signing_key(State(state): State<AppState>, Staff(caller): Staff) -> ApiResult<Response> {
    caller.ready()?;
    let pem = state.custodian.vault().certificate_public_key()?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-pem-file"),
        )],
        pem,
    )
        .into_response())
}
