//! The JSON API: records (paginated, filtered by kind, name, reference and consent), their history, the
//! same typed changes as the command line (one batch, one transaction),
//! and statistics. Errors are RFC 9457 problem details naming the field.
//! The OpenAPI 3.1 document at `/api/openapi.json` is generated from these
//! handlers' annotations.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use girok_model::{Change, ConsentScope, Record, RecordId, RecordKind};
use girok_store::{Store, StoreError, Stored};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use girok_intake::{Field, NewIds, Testimony};

use crate::access::Role;
use crate::auth::{Flavor, check_csrf, require};
use crate::intake::NotWritten;
use crate::pages::StatsRefusal;
use crate::redact;
use crate::{App, Reading};

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api/records", get(list_records))
        .route("/api/records/{id}", get(get_record))
        .route("/api/records/{id}/history", get(record_history))
        .route("/api/changes", post(post_changes))
        .route("/api/testimonies", post(post_testimony))
        .route("/api/stats", get(stats))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Girok API", description = "Records, their history, typed changes and statistics of a Girok database."),
    paths(list_records, get_record, record_history, post_changes, post_testimony, stats, openapi),
    components(schemas(Problem, RecordPage, StoredRecord, HistoryEntry, ChangeBatch, Committed, TestimonyFields, MadeRecord, MadeRecords, StatsTable, StatsRow)),
    modifiers(&Security),
    security(("session" = []), ("api_key" = []))
)]
struct Document;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Whether only an admin may make a change: forgetting destroys a data key
/// for ever, and widening consent lets testimony go further than it went.
fn admin_only(change: &Change) -> bool {
    matches!(
        change,
        Change::Forget { .. } | Change::SetConsent { widen: true, .. }
    )
}

/// An RFC 9457 problem.
#[derive(Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    kind: String,
    title: String,
    status: u16,
    detail: String,
    /// The field the problem is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

/// A problem+json response.
pub fn problem(status: StatusCode, title: &str, detail: &str, field: Option<String>) -> Response {
    let body = Problem {
        kind: "about:blank".into(),
        title: title.into(),
        status: status.as_u16(),
        detail: detail.into(),
        field,
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        serde_json::to_string(&body).unwrap_or_default(),
    )
        .into_response()
}

/// Under `/api/`, every error is problem+json, also those answered before a
/// handler runs (no such path, a wrong method, a body too large, a path that
/// does not decode), and a posted body must be declared JSON.
pub async fn problem_details(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = request.uri().path();
    if path != "/api" && !path.starts_with("/api/") {
        return next.run(request).await;
    }
    let declares_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if request.method() == axum::http::Method::POST && !declares_json {
        return problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            "send the body as 'Content-Type: application/json'",
            None,
        );
    }
    let response = next.run(request).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v == "application/problem+json");
    if is_problem || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    // axum's own rejections say in a line of text what was wrong.
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string())
        .unwrap_or_default();
    let detail = match status {
        _ if !text.is_empty() => text,
        StatusCode::NOT_FOUND => "no API operation at this path; see /api/openapi.json".into(),
        StatusCode::METHOD_NOT_ALLOWED => {
            "this path does not take this method; the Allow header lists those it takes".into()
        }
        _ => status.to_string(),
    };
    let mut replaced = problem(
        status,
        status.canonical_reason().unwrap_or("Error"),
        &detail,
        None,
    );
    if let Some(allow) = parts.headers.get(header::ALLOW) {
        replaced.headers_mut().insert(header::ALLOW, allow.clone());
    }
    replaced
}

fn store_problem(error: StoreError) -> Response {
    match error {
        StoreError::Invalid(invalid) => problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid change",
            &invalid.to_string(),
            Some(invalid.field),
        ),
        StoreError::Conflict { message, .. } => {
            problem(StatusCode::CONFLICT, "Conflict", message.english(), None)
        }
        StoreError::ReadOnlyDatabase => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "Read-only database",
            &StoreError::ReadOnlyDatabase.to_string(),
            None,
        ),
        other => problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Database error",
            &other.to_string(),
            None,
        ),
    }
}

/// A problem naming what was wrong with the query parameters.
fn bad_parameters(rejection: QueryRejection) -> Response {
    problem(
        StatusCode::BAD_REQUEST,
        "Bad query parameters",
        &rejection.body_text(),
        None,
    )
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// sources, persons, events, acts, involvements, information, relations, evidence
    kind: String,
    #[serde(default)]
    offset: u64,
    /// At most 500.
    #[serde(default = "default_limit")]
    limit: u64,
    /// Persons whose names read like this, in Hangul or any romanization
    /// (documenters and admins: for others a match would reveal a name).
    name: Option<String>,
    /// Records that refer to this record (e.g. the acts of a victim, the
    /// information a source gives).
    refers_to: Option<String>,
    /// Sources with this consent scope: internal, partners, public-anonymised, public.
    consent: Option<String>,
}

/// At most this many matches of a filter are paged through.
const MAX_MATCHES: usize = 100_000;

/// The ids a filtered list pages through, or `None` when nothing filters.
fn matching_ids(
    app: &App,
    store: &girok_store::Database,
    kind: RecordKind,
    query: &ListQuery,
    consent: Option<ConsentScope>,
) -> Result<Option<Vec<RecordId>>, StoreError> {
    let mut ids: Option<Vec<RecordId>> = None;
    let mut narrow = |found: Vec<RecordId>| {
        ids = Some(match ids.take() {
            None => found,
            Some(before) => before.into_iter().filter(|id| found.contains(id)).collect(),
        });
    };
    if let Some(name) = &query.name {
        // Names are persons'.
        narrow(if kind == RecordKind::Person {
            app.names.search(store, name, MAX_MATCHES)?
        } else {
            Vec::new()
        });
    }
    if let Some(target) = &query.refers_to {
        let referrers = store.referrers(&RecordId::new(target), MAX_MATCHES as u32)?;
        let mut found: Vec<RecordId> = referrers
            .into_iter()
            .filter(|r| r.kind == kind.as_str())
            .map(|r| r.id)
            .collect();
        found.dedup();
        narrow(found);
    }
    if let Some(scope) = consent {
        // Consent is sources'.
        let mut found = Vec::new();
        if kind == RecordKind::Source {
            store.for_each_record(&mut |record| {
                if let Record::Source(source) = record
                    && source.consent == Some(scope)
                {
                    found.push(source.id);
                }
                Ok(())
            })?;
        }
        narrow(found);
    }
    Ok(ids.map(|mut ids| {
        ids.sort();
        ids
    }))
}

fn default_limit() -> u64 {
    50
}

#[derive(Serialize, ToSchema)]
pub struct StoredRecord {
    /// The record as the model defines it (`type` names its kind).
    #[schema(value_type = Object)]
    record: serde_json::Value,
    revision: u32,
    created_by: String,
    updated_by: String,
}

#[derive(Serialize, ToSchema)]
pub struct RecordPage {
    kind: String,
    offset: u64,
    limit: u64,
    total: u64,
    items: Vec<StoredRecord>,
}

/// A record kind by its name, singular or plural ("person", "persons").
fn kind_of(name: &str) -> Option<RecordKind> {
    let name = name.trim();
    let singular = name.trim_end_matches('s');
    RecordKind::ALL
        .iter()
        .copied()
        .find(|kind| kind.as_str() == singular || kind.as_str() == name)
}

fn stored_json(stored: Stored, role: Role) -> StoredRecord {
    let record = redact::record(stored.record, role);
    StoredRecord {
        record: serde_json::to_value(&record).unwrap_or_default(),
        revision: stored.meta.revision,
        created_by: stored.meta.created_by,
        updated_by: stored.meta.updated_by,
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Response> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error",
            &e.to_string(),
            None,
        )
    })
}

/// Records of one kind, in id order, optionally filtered (filters combine).
#[utoipa::path(get, path = "/api/records", params(ListQuery),
    responses((status = 200, body = RecordPage), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn list_records(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<RecordPage>, Response> {
    let Query(query) = query.map_err(bad_parameters)?;
    let principal =
        require(&app, &headers, Role::Analyst, Flavor::Api).map_err(IntoResponse::into_response)?;
    let Some(kind) = kind_of(&query.kind) else {
        return Err(problem(
            StatusCode::BAD_REQUEST,
            "Unknown kind",
            &format!(
                "'{}' is not a record kind; use sources, persons, events, acts, involvements, information, relations or evidence",
                query.kind
            ),
            Some("kind".into()),
        ));
    };
    let role = principal.user.role;
    if query.name.is_some() && !role.sees_witnesses() {
        return Err(problem(
            StatusCode::FORBIDDEN,
            "Name search not allowed",
            &format!("a {} may not search by name", role.name()),
            Some("name".into()),
        ));
    }
    let consent = match query
        .consent
        .as_deref()
        .map(|c| (c, ConsentScope::parse(c)))
    {
        None => None,
        Some((_, Some(scope))) => Some(scope),
        Some((text, None)) => {
            return Err(problem(
                StatusCode::BAD_REQUEST,
                "Unknown consent scope",
                &format!("'{text}' is not one of {}", ConsentScope::expected()),
                Some("consent".into()),
            ));
        }
    };
    let limit = query.limit.clamp(1, 500);
    let offset = query.offset;
    let reading = Reading::of(&principal, format!("GET /api/records?kind={kind}"));
    let page = blocking(move || {
        app.read_as(&reading, |store| -> Result<RecordPage, StoreError> {
            let (total, stored) = match matching_ids(&app, store, kind, &query, consent)? {
                None => (store.count(kind)?, store.list(kind, offset, limit)?),
                Some(ids) => {
                    let mut stored = Vec::new();
                    for id in ids.iter().skip(offset as usize).take(limit as usize) {
                        stored.extend(store.get(id)?);
                    }
                    (ids.len() as u64, stored)
                }
            };
            Ok(RecordPage {
                kind: kind.as_str().to_string(),
                offset,
                limit,
                total,
                items: stored.into_iter().map(|s| stored_json(s, role)).collect(),
            })
        })
    })
    .await?
    .map_err(store_problem)?;
    Ok(Json(page))
}

/// One record with its revision and authors.
#[utoipa::path(get, path = "/api/records/{id}", params(("id" = String, Path, description = "record id")),
    responses((status = 200, body = StoredRecord), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn get_record(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<StoredRecord>, Response> {
    let principal =
        require(&app, &headers, Role::Analyst, Flavor::Api).map_err(IntoResponse::into_response)?;
    let role = principal.user.role;
    let wanted = RecordId::new(&id);
    let reading = Reading::of(&principal, format!("GET /api/records/{id}"));
    let found = blocking(move || {
        app.read_as(
            &reading,
            |store| -> Result<Option<StoredRecord>, StoreError> {
                Ok(store.get(&wanted)?.map(|stored| stored_json(stored, role)))
            },
        )
    })
    .await?
    .map_err(store_problem)?;
    found.map(Json).ok_or_else(|| {
        problem(
            StatusCode::NOT_FOUND,
            "No such record",
            &format!("no record '{id}'"),
            Some("id".into()),
        )
    })
}

#[derive(Serialize, ToSchema)]
pub struct HistoryEntry {
    seq: u64,
    time: String,
    actor: String,
    summary: String,
}

/// The journal entries about one record, oldest first.
#[utoipa::path(get, path = "/api/records/{id}/history", params(("id" = String, Path, description = "record id")),
    responses((status = 200, body = Vec<HistoryEntry>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn record_history(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Vec<HistoryEntry>>, Response> {
    let principal =
        require(&app, &headers, Role::Analyst, Flavor::Api).map_err(IntoResponse::into_response)?;
    let role = principal.user.role;
    let rows = blocking(move || app.read(|store| store.history(&RecordId::new(&id))))
        .await?
        .map_err(store_problem)?;
    Ok(Json(
        rows.into_iter()
            .map(|row| HistoryEntry {
                seq: row.entry.seq,
                time: row.entry.time,
                actor: row.entry.actor,
                summary: redact::summary(&row.entry.change, role),
            })
            .collect(),
    ))
}

/// Typed changes, as the command line writes them.
#[derive(Deserialize, ToSchema)]
pub struct ChangeBatch {
    /// Changes applied in order, in one transaction: all or none.
    #[schema(value_type = Vec<Object>)]
    changes: Vec<Change>,
}

#[derive(Serialize, ToSchema)]
pub struct Committed {
    first: Option<u64>,
    last: Option<u64>,
    changes: u64,
}

/// Who sends a write: a documenter or admin, with the session's CSRF token
/// when signed in by cookie.
fn writer(app: &App, headers: &HeaderMap) -> Result<crate::auth::Principal, crate::auth::Refusal> {
    let principal = require(app, headers, Role::Documenter, Flavor::Api)?;
    let token = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    check_csrf(&principal, token, Flavor::Api)?;
    Ok(principal)
}

/// Applies a batch of changes as the signed-in user (documenters and
/// admins; with an API key, the write scope). `forget` and `set-consent` with
/// `widen` need an admin, and with a key the admin scope.
#[utoipa::path(post, path = "/api/changes", request_body = ChangeBatch,
    params(("x-csrf-token" = Option<String>, Header, description = "the session's CSRF token, when signed in by cookie")),
    responses((status = 200, body = Committed), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn post_changes(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Committed>, Response> {
    let principal = writer(&app, &headers).map_err(IntoResponse::into_response)?;
    let batch: ChangeBatch = serde_json::from_slice(&body).map_err(|e| {
        problem(
            StatusCode::BAD_REQUEST,
            "Malformed changes",
            &format!("line {}, column {}: {e}", e.line(), e.column()),
            None,
        )
    })?;
    if batch.changes.is_empty() {
        return Err(problem(
            StatusCode::BAD_REQUEST,
            "No changes",
            "'changes' is empty",
            Some("changes".into()),
        ));
    }
    if let Some(irreversible) = batch.changes.iter().find(|c| admin_only(c))
        && !principal.administers()
    {
        return Err(problem(
            StatusCode::FORBIDDEN,
            "Only for admins",
            &format!(
                "'{}' needs the admin role (and, with an API key, the admin scope): {}",
                irreversible.summary(),
                "forgetting cannot be undone and widening consent publishes testimony"
            ),
            Some("op".into()),
        ));
    }
    let actor = principal.user.name.clone();
    let committed = blocking(move || {
        app.write(|store| {
            store.write(&actor, |sink| {
                for change in batch.changes {
                    sink.apply(change)?;
                }
                Ok::<(), StoreError>(())
            })
        })
    })
    .await?
    .map_err(store_problem)?
    .1;
    Ok(Json(Committed {
        first: committed.first,
        last: committed.last,
        changes: committed.changes,
    }))
}

/// A testimony as one CSV row carries it: text by field, each field named as
/// the CSV layout's English header (`source_id`, `victim_id`, `act_type`, ...).
/// An id not known yet names a new record; records without an id of their
/// own are named by the server.
#[derive(Deserialize, ToSchema)]
#[schema(value_type = Object)]
pub struct TestimonyFields(std::collections::BTreeMap<String, String>);

/// One record a testimony made.
#[derive(Serialize, ToSchema)]
pub struct MadeRecord {
    kind: String,
    id: String,
}

#[derive(Serialize, ToSchema)]
pub struct MadeRecords {
    /// The records made, in the order they were written.
    records: Vec<MadeRecord>,
    first: Option<u64>,
    last: Option<u64>,
}

/// Records a testimony (source, witness, victim, act, agencies, attestation)
/// in one transaction, read as a CSV row is read.
#[utoipa::path(post, path = "/api/testimonies", request_body = TestimonyFields,
    params(("x-csrf-token" = Option<String>, Header, description = "the session's CSRF token, when signed in by cookie")),
    responses((status = 200, body = MadeRecords), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn post_testimony(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<MadeRecords>, Response> {
    let principal = writer(&app, &headers).map_err(IntoResponse::into_response)?;
    let TestimonyFields(fields) = serde_json::from_slice(&body).map_err(|e| {
        problem(
            StatusCode::BAD_REQUEST,
            "Malformed testimony",
            &format!(
                "line {}, column {}: {e}; send an object of text by field",
                e.line(),
                e.column()
            ),
            None,
        )
    })?;
    let mut typed = Vec::with_capacity(fields.len());
    for (name, text) in fields {
        let field = Field::from_name(&name).ok_or_else(|| {
            let known: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
            problem(
                StatusCode::BAD_REQUEST,
                "Unknown field",
                &format!(
                    "'{name}' is not a field; the fields are {}",
                    known.join(", ")
                ),
                Some(name.clone()),
            )
        })?;
        typed.push((field, text));
    }
    let actor = principal.user.name.clone();
    let written = blocking(move || {
        let mut testimony = Testimony::new(crate::intake::drawn_stem(), NewIds::Given);
        for (field, text) in &typed {
            testimony.set(*field, text);
        }
        testimony.received_by(Some(actor.clone()));
        crate::intake::write(&app, &actor, &testimony)
    })
    .await?;
    match written {
        Ok((made, committed)) => Ok(Json(MadeRecords {
            records: made
                .into_iter()
                .map(|(kind, id)| MadeRecord {
                    kind: kind.to_string(),
                    id: id.to_string(),
                })
                .collect(),
            first: committed.first,
            last: committed.last,
        })),
        Err(NotWritten::Fields(refusals)) => {
            let detail: Vec<String> = refusals
                .iter()
                .map(|r| format!("{}: {r}", r.field))
                .collect();
            Err(problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid testimony",
                &detail.join("; "),
                refusals.first().map(|r| r.field.to_string()),
            ))
        }
        Err(NotWritten::Refused { field, error }) => {
            let status = match error {
                StoreError::Conflict { .. } => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            Err(problem(
                status,
                "Invalid testimony",
                &error.to_string(),
                Some(field.to_string()),
            ))
        }
        Err(NotWritten::Failed(error)) => Err(store_problem(error)),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// One dimension, or two separated by a comma (rows,columns); for
    /// viewers, one dimension of the published tables.
    by: String,
    /// Conditions as in `girok stats --where` (analysts and above).
    #[serde(default, rename = "where")]
    conditions: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct StatsRow {
    key: String,
    en: String,
    ko: String,
    /// Absent when withheld by disclosure control.
    count: Option<u64>,
    cells: Vec<Option<u64>>,
}

#[derive(Serialize, ToSchema)]
pub struct StatsTable {
    rows_by: String,
    columns_by: Option<String>,
    column_keys: Vec<String>,
    total: Option<u64>,
    rows: Vec<StatsRow>,
    /// Counts below this are withheld (viewers see the published tables).
    suppression_threshold: Option<u64>,
}

/// Distinct victims by one or two dimensions under any conditions; viewers
/// get the published tables only (one dimension of the set, no conditions),
/// and are refused any other with 403.
#[utoipa::path(get, path = "/api/stats", params(StatsQuery),
    responses((status = 200, body = StatsTable), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 500, body = Problem, content_type = "application/problem+json")))]
async fn stats(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    query: Result<Query<StatsQuery>, QueryRejection>,
) -> Result<Json<StatsTable>, Response> {
    let Query(query) = query.map_err(bad_parameters)?;
    let principal =
        require(&app, &headers, Role::Viewer, Flavor::Api).map_err(IntoResponse::into_response)?;
    let role = principal.user.role;
    let table = blocking(move || {
        app.read(|store| {
            crate::pages::tabulate(store, &query.by, query.conditions.as_deref(), None, role)
        })
    })
    .await?
    .map_err(|refusal| {
        let field = refusal.field().map(str::to_string);
        let (status, title, detail) = match &refusal {
            StatsRefusal::Unreadable { message, .. } => (
                StatusCode::BAD_REQUEST,
                "Bad statistics request",
                message.english().to_string(),
            ),
            StatsRefusal::NotPublished(refusal) => (
                StatusCode::FORBIDDEN,
                "Not a published table",
                format!("{refusal}. {}", refusal.ko()),
            ),
            StatsRefusal::Failed(message) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Database error",
                message.clone(),
            ),
        };
        problem(status, title, &detail, field)
    })?;
    Ok(Json(table.into_json()))
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", responses((status = 200, description = "the OpenAPI 3.1 document")))]
async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        Document::openapi().to_pretty_json().unwrap_or_default(),
    )
        .into_response()
}

impl crate::pages::Tabulated {
    fn into_json(self) -> StatsTable {
        let table = self.table;
        StatsTable {
            rows_by: table.rows.name().to_string(),
            columns_by: table.columns.map(|c| c.name().to_string()),
            column_keys: if table.columns.is_some() {
                table.column_keys.clone()
            } else {
                Vec::new()
            },
            total: table.total.shown(),
            rows: table
                .row_keys
                .iter()
                .enumerate()
                .map(|(r, key)| StatsRow {
                    key: key.clone(),
                    en: self.labels[r].0.clone(),
                    ko: self.labels[r].1.clone(),
                    count: table.row_totals[r].shown(),
                    cells: if table.columns.is_some() {
                        table.cells[r].iter().map(|e| e.shown()).collect()
                    } else {
                        Vec::new()
                    },
                })
                .collect(),
            suppression_threshold: self.threshold,
        }
    }
}
