//! The web UI: server-rendered HTML (maud), Korean and English, usable
//! without JavaScript. Every form carries the session's CSRF token; every
//! change goes through the same typed changes and write path as the
//! command line, with the signed-in user as its actor.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use girok_linkage::proposals::{Proposal, Proposals};
use girok_model::{
    Change, ConsentScope, FuzzyDate, Name, Person, Record, RecordId, RecordKind, Romanization, Sex,
    Source, SourceKind,
};
use girok_store::{SqliteStore, Store, StoreError, Stored};
use girok_tabulate::{Audience, Dimension, Facts, Filter, Table, Unit};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::App;
use crate::access::Role;
use crate::auth::{
    Flavor, LANG_COOKIE, LOGIN_COOKIE, Principal, Refusal, SESSION_COOKIE, check_csrf, cookie,
    require, set_cookie,
};
use crate::redact;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(dashboard))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/lang/{lang}", get(switch_language))
        .route("/persons", get(persons))
        .route("/persons/{id}", get(person))
        .route("/persons/{id}/acts", post(create_act))
        .route("/persons/{id}/edit", get(edit_person).post(update_person))
        .route("/persons/{id}/acts/new", get(new_act))
        .route("/sources", get(sources).post(create_testimony))
        .route("/sources/new", get(new_testimony))
        .route("/sources/{id}", get(source))
        .route("/records/{id}", get(any_record))
        .route("/records/{id}/history", get(history))
        .route("/stats", get(statistics))
        .route("/verify", get(verification).post(run_check))
        .route("/estimates", get(estimates))
        .route("/admin/users", get(admin_users).post(add_user))
        .route("/admin/keys", post(add_key))
        .route("/review", get(review_queue))
        .route(
            "/review/{number}",
            get(review_proposal).post(decide_proposal),
        )
}

/// The interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ko,
}

impl Lang {
    fn of(headers: &HeaderMap) -> Lang {
        match cookie(headers, LANG_COOKIE) {
            Some("ko") => Lang::Ko,
            Some("en") => Lang::En,
            // Korean browsers get Korean until they choose.
            _ => match headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
            {
                Some(accept) if accept.trim_start().starts_with("ko") => Lang::Ko,
                _ => Lang::En,
            },
        }
    }

    /// One of two texts.
    fn t<'a>(self, en: &'a str, ko: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Ko => ko,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ko => "ko",
        }
    }
}

const STYLE: &str = "
*{box-sizing:border-box}body{font-family:system-ui,'Noto Sans KR','Apple SD Gothic Neo','Malgun Gothic',sans-serif;margin:0;color:#1d1d1f;line-height:1.5}
header{background:#1f3a5f;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}
header a{color:#fff;text-decoration:none}header nav{display:flex;flex-wrap:wrap;gap:1rem;flex:1}header form{display:inline}
header button{background:none;border:1px solid #fff;color:#fff;border-radius:4px;padding:.2rem .6rem;cursor:pointer}
main{max-width:64rem;margin:1rem auto;padding:0 1rem}h1{font-size:1.5rem}table{border-collapse:collapse;width:100%}
td,th{padding:.35rem .5rem;border-bottom:1px solid #e5e5e5;text-align:left;vertical-align:top}td.n{text-align:right}
label{display:block;margin-top:.8rem;font-weight:600}input,select,textarea{font:inherit;padding:.45rem;width:100%;max-width:36rem;border:1px solid #999;border-radius:4px}
button.primary{margin-top:1rem;background:#1f3a5f;color:#fff;border:0;border-radius:4px;padding:.55rem 1.2rem;font:inherit;cursor:pointer}
.error{color:#a31515;font-weight:600}.field-error input,.field-error select{border-color:#a31515}.hint{color:#555;font-size:.9rem}
.cards{display:flex;flex-wrap:wrap;gap:1rem}.card{border:1px solid #ddd;border-radius:6px;padding:.8rem 1.2rem;min-width:9rem}.card b{font-size:1.6rem;display:block}
.withheld{color:#777;font-style:italic}
";

fn layout(lang: Lang, principal: Option<&Principal>, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Girok 기록" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    a href="/" { strong { "Girok 기록" } }
                    @if let Some(principal) = principal {
                        nav {
                            a href="/" { (lang.t("Dashboard", "대시보드")) }
                            @if principal.user.role.reads_records() {
                                a href="/persons" { (lang.t("Persons", "인물")) }
                                a href="/sources" { (lang.t("Sources", "출처")) }
                            }
                            @if principal.user.role.can_write() {
                                a href="/review" { (lang.t("Duplicates", "중복 검토")) }
                            }
                            @if principal.user.role == Role::Admin {
                                a href="/admin/users" { (lang.t("Users", "사용자")) }
                            }
                            a href="/stats" { (lang.t("Statistics", "통계")) }
                            @if principal.user.role.reads_records() {
                                a href="/estimates" { (lang.t("Estimates", "추정")) }
                            }
                            @if principal.user.role.reads_records() {
                                a href="/verify" { (lang.t("Verification", "검증")) }
                            }
                        }
                        span { (principal.user.name) " (" (principal.user.role.name()) ")" }
                    } @else {
                        nav {}
                    }
                    a href=(format!("/lang/{}", if lang == Lang::En { "ko" } else { "en" })) id="language" {
                        (lang.t("한국어", "English"))
                    }
                    @if let Some(principal) = principal {
                        form method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(principal.csrf());
                            button type="submit" { (lang.t("Sign out", "로그아웃")) }
                        }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

fn page(lang: Lang, principal: &Principal, title: &str, body: Markup) -> Response {
    layout(lang, Some(principal), title, body).into_response()
}

pub fn error_page(status: StatusCode, title: &str, detail: &str) -> Response {
    (
        status,
        layout(
            Lang::En,
            None,
            title,
            html! { p { (detail) } p { a href="/" { "Girok" } } },
        ),
    )
        .into_response()
}

fn internal(error: impl std::fmt::Display) -> Response {
    Refusal::Internal(Flavor::Page, error.to_string()).into_response()
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Response> {
    tokio::task::spawn_blocking(work).await.map_err(internal)
}

fn signed_in(app: &App, headers: &HeaderMap, role: Role) -> Result<Principal, Refusal> {
    require(app, headers, role, Flavor::Page)
}

/// Who submitted a form: signed in with `role`, and the form carries the
/// session's CSRF token.
fn submitted_by(
    app: &App,
    headers: &HeaderMap,
    role: Role,
    csrf: &str,
) -> Result<Principal, Refusal> {
    let principal = require(app, headers, role, Flavor::Page)?;
    check_csrf(&principal, Some(csrf), Flavor::Page)?;
    Ok(principal)
}

/// A fuzzy date typed into a form field: empty is unknown; text that is
/// not a date is an error at the field (and unknown until corrected).
fn form_date(
    text: &str,
    field: &'static str,
    errors: &mut HashMap<&'static str, String>,
) -> FuzzyDate {
    if text.trim().is_empty() {
        return FuzzyDate::UNKNOWN;
    }
    FuzzyDate::parse(text).unwrap_or_else(|error| {
        errors.insert(field, error.to_string());
        FuzzyDate::UNKNOWN
    })
}

/// The gazetteer key of a place written in any spelling it knows; empty is no place.
fn resolve_place(app: &App, text: &str) -> Result<Option<String>, String> {
    match text.trim() {
        "" => Ok(None),
        text => app.read(|store| {
            store
                .vocabularies()
                .get(girok_model::VocabKind::Place)
                .resolve(text)
                .map(|term| Some(term.key.clone()))
                .map_err(|e| e.to_string())
        }),
    }
}

// ---- Sign-in ----

#[derive(Deserialize)]
struct LoginForm {
    name: String,
    password: String,
    token: String,
}

fn login_page(lang: Lang, token: &str, error: Option<&str>) -> Response {
    let body = html! {
        @if let Some(error) = error { p.error role="alert" { (error) } }
        form method="post" action="/login" {
            input type="hidden" name="token" value=(token);
            label for="name" { (lang.t("User name", "사용자 이름")) }
            input id="name" name="name" autocomplete="username" required;
            label for="password" { (lang.t("Password", "비밀번호")) }
            input id="password" name="password" type="password" autocomplete="current-password" required;
            button.primary type="submit" { (lang.t("Sign in", "로그인")) }
        }
    };
    (
        [(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, token, 3600))],
        layout(lang, None, lang.t("Sign in", "로그인"), body),
    )
        .into_response()
}

fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).expect("the operating system's random source");
    hex::encode(buffer)
}

async fn login_form(headers: HeaderMap) -> Response {
    login_page(Lang::of(&headers), &random_hex(16), None)
}

async fn login(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    connect: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = Lang::of(&headers);
    // The form's token must be the one this browser was given.
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !bool::from(expected.as_bytes().ct_eq(form.token.as_bytes())) {
        return login_page(
            lang,
            &random_hex(16),
            Some(lang.t(
                "The sign-in form expired. Please try again.",
                "로그인 양식이 만료되었습니다. 다시 시도하세요.",
            )),
        );
    }
    let client = connect.map(|c| c.0.0.ip().to_string());
    let keys: Vec<&str> = [Some(form.name.as_str()), client.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let blocked = app
        .limiter
        .lock()
        .map(|mut limiter| limiter.blocked(&keys))
        .unwrap_or(true);
    if blocked {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            login_page(
                lang,
                &random_hex(16),
                Some(lang.t(
                    "Too many failed sign-ins. Wait 15 minutes and try again.",
                    "로그인 실패가 너무 많습니다. 15분 후 다시 시도하세요.",
                )),
            ),
        )
            .into_response();
    }
    let (name, password) = (form.name.clone(), form.password.clone());
    let checked = {
        let app = app.clone();
        blocking(move || {
            app.with_access(|access| {
                let user = access.authenticate(&name, &password)?;
                user.map(|user| access.start_session(&user)).transpose()
            })
        })
        .await
    };
    let outcome = match checked {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let mut limiter = app.limiter.lock().unwrap_or_else(|p| p.into_inner());
    match outcome {
        Some((token, _)) => {
            limiter.succeeded(&keys);
            (
                // Two cookies: appended, not one replacing the other.
                AppendHeaders([
                    (
                        header::SET_COOKIE,
                        set_cookie(SESSION_COOKIE, &token, 8 * 3600),
                    ),
                    (header::SET_COOKIE, set_cookie(LOGIN_COOKIE, "", 0)),
                ]),
                Redirect::to("/"),
            )
                .into_response()
        }
        None => {
            limiter.failed(&keys);
            (
                StatusCode::UNAUTHORIZED,
                login_page(
                    lang,
                    &random_hex(16),
                    Some(lang.t(
                        "Wrong user name or password.",
                        "사용자 이름 또는 비밀번호가 틀렸습니다.",
                    )),
                ),
            )
                .into_response()
        }
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let principal = match submitted_by(&app, &headers, Role::Viewer, &form.csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    if let Some((token, _)) = &principal.session {
        let token = token.clone();
        let ended = blocking(move || app.with_access(|access| access.end_session(&token))).await;
        if let Err(response) = ended {
            return response;
        }
    }
    (
        [(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", 0))],
        Redirect::to("/login"),
    )
        .into_response()
}

#[derive(Deserialize)]
struct Back {
    back: Option<String>,
}

async fn switch_language(
    Path(lang): Path<String>,
    headers: HeaderMap,
    Query(back): Query<Back>,
) -> Response {
    let code = if lang == "ko" { "ko" } else { "en" };
    // Only local paths: never redirect elsewhere.
    let target = back
        .back
        .filter(|b| b.starts_with('/') && !b.starts_with("//"))
        .or_else(|| {
            headers
                .get(header::REFERER)
                .and_then(|r| r.to_str().ok())
                .and_then(|r| r.find("://").map(|i| &r[i + 3..]))
                .and_then(|r| r.find('/').map(|i| r[i..].to_string()))
        })
        .unwrap_or_else(|| "/".to_string());
    (
        [(
            header::SET_COOKIE,
            set_cookie(LANG_COOKIE, code, 365 * 24 * 3600),
        )],
        Redirect::to(&target),
    )
        .into_response()
}

// ---- Dashboard ----

async fn dashboard(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Viewer) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let role = principal.user.role;
    let loaded = blocking(move || {
        app.read(|store| -> Result<_, StoreError> {
            let counts = [RecordKind::Source, RecordKind::Person, RecordKind::Act]
                .map(|kind| store.count(kind));
            let counts: Vec<u64> = counts.into_iter().collect::<Result<_, _>>()?;
            let recent = if role.reads_records() {
                store.recent(10)?
            } else {
                Vec::new()
            };
            let table = tabulate(store, "act-type", None, role).ok();
            Ok((counts, store.head()?.0, recent, table))
        })
    })
    .await;
    let (counts, journal, recent, table) = match loaded {
        Ok(Ok(loaded)) => loaded,
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let body = html! {
        div.cards {
            @if role.reads_records() {
                div.card { b { (counts[0]) } (lang.t("sources", "출처")) }
                div.card { b { (counts[1]) } (lang.t("person records", "인물 기록")) }
                div.card { b { (counts[2]) } (lang.t("acts", "행위")) }
                div.card { b { (journal) } (lang.t("journal entries", "기록 항목")) }
            }
            @if let Some(table) = &table {
                div.card { b { (table.table.total.shown().map_or("—".to_string(), |n| n.to_string())) } (lang.t("victims", "피해자")) }
            }
        }
        @if let Some(table) = table.as_ref().filter(|t| !t.table.row_keys.is_empty()) {
            h2 { (lang.t("Victims by act type", "행위 유형별 피해자")) }
            (table.chart())
        }
        @if !recent.is_empty() {
            h2 { (lang.t("Recent changes", "최근 변경")) }
            table {
                tr { th { "#" } th { (lang.t("When (UTC)", "시각 (UTC)")) } th { (lang.t("Who", "작성자")) } th { (lang.t("Change", "변경")) } }
                @for row in &recent {
                    tr {
                        td.n { (row.entry.seq) }
                        td { (row.entry.time.get(..19).unwrap_or(&row.entry.time)) }
                        td { (row.entry.actor) }
                        td {
                            @match row.entry.change.subject() {
                                Some(id) => a href=(format!("/records/{id}/history")) { (redact::summary(&row.entry.change, role)) },
                                None => (redact::summary(&row.entry.change, role)),
                            }
                        }
                    }
                }
            }
        }
    };
    page(lang, &principal, lang.t("Dashboard", "대시보드"), body)
}

// ---- Persons ----

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    offset: u64,
}

const PAGE: u64 = 50;

fn display_names(person: &Person) -> String {
    person
        .names
        .iter()
        .map(|n| n.text.as_str())
        .collect::<Vec<_>>()
        .join(" / ")
}

async fn persons(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Analyst) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let role = principal.user.role;
    let q = query.q.clone();
    let loaded = blocking(move || {
        app.read(|store| -> Result<Vec<(Person, bool)>, StoreError> {
            // Searching by name is a documenter's tool: for others a match
            // would tell whether someone of that name is recorded.
            let ids: Vec<RecordId> = if q.trim().is_empty() || !role.sees_witnesses() {
                store
                    .list(RecordKind::Person, query.offset, PAGE)?
                    .into_iter()
                    .map(|s| s.record.id().clone())
                    .collect()
            } else {
                app.names.search(store, &q, PAGE as usize)?
            };
            let mut found = Vec::new();
            for id in ids {
                let Some(stored) = store.get(&id)? else {
                    continue;
                };
                let witness = store
                    .referrers(&id, 1)?
                    .iter()
                    .any(|r| r.field == "witness");
                if let Record::Person(person) = redact::record(stored.record, role) {
                    found.push((person, witness));
                }
            }
            Ok(found)
        })
    })
    .await;
    let found = match loaded {
        Ok(Ok(found)) => found,
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let body = html! {
        form method="get" action="/persons" role="search" {
            label for="q" { (lang.t("Find a person by name, in Hangul or any romanization", "이름으로 찾기 (한글 또는 로마자)")) }
            @if role.sees_witnesses() {
                input id="q" name="q" value=(query.q) placeholder="박동구 / Pak Tong Gu / Park Dong-gu";
            } @else {
                input id="q" name="q" disabled placeholder=(lang.t("Name search is for documenters", "이름 검색은 기록 담당자만 가능합니다"));
            }
            button.primary type="submit" { (lang.t("Search", "검색")) }
        }
        @if found.is_empty() {
            p { (lang.t("No persons found.", "찾은 인물이 없습니다.")) }
        } @else {
            table {
                tr { th { "ID" } th { (lang.t("Names", "이름")) } th { (lang.t("Sex", "성별")) } th { (lang.t("Born", "출생")) } }
                @for (person, witness) in &found {
                    tr {
                        td { a href=(format!("/persons/{}", person.id)) { (person.id) } }
                        td { (display_names(person)) @if *witness { " " span.hint { (lang.t("(witness)", "(증언자)")) } } }
                        td { (if lang == Lang::Ko { person.sex.ko() } else { person.sex.as_str() }) }
                        td { (person.birth) }
                    }
                }
            }
            @if query.q.trim().is_empty() && found.len() as u64 == PAGE {
                p { a href=(format!("/persons?offset={}", query.offset + PAGE)) { (lang.t("Next page", "다음 쪽")) } }
            }
        }
    };
    page(lang, &principal, lang.t("Persons", "인물"), body)
}

/// A record's fields as a table, with the records that refer to it.
async fn record_page(
    app: Arc<App>,
    headers: HeaderMap,
    id: String,
    title_en: &'static str,
    title_ko: &'static str,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Analyst) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let role = principal.user.role;
    let wanted = RecordId::new(&id);
    let loaded = blocking(move || {
        app.read(|store| -> Result<_, StoreError> {
            let Some(stored) = store.get(&wanted)? else {
                return Ok(None);
            };
            let referrers = store.referrers(&wanted, 50)?;
            // Other person records whose names read the same: candidates
            // for `girok link` and review (names are a documenter's to see).
            let mut candidates = Vec::new();
            if let (Record::Person(person), true) = (&stored.record, role.sees_witnesses()) {
                for name in &person.names {
                    for other in app.names.search(store, &name.text, 20)? {
                        if other != wanted && !candidates.contains(&other) {
                            candidates.push(other);
                        }
                    }
                }
            }
            let mut labelled = Vec::new();
            for other in candidates {
                if let Some(found) = store.get(&other)? {
                    labelled.push((other, found.record.label()));
                }
            }
            Ok(Some((
                redact::record(stored.record, role),
                stored.meta,
                referrers,
                labelled,
            )))
        })
    })
    .await;
    let (record, meta, referrers, candidates) = match loaded {
        Ok(Ok(Some(found))) => found,
        Ok(Ok(None)) => {
            return error_page(
                StatusCode::NOT_FOUND,
                lang.t("Not found", "찾을 수 없음"),
                &id,
            );
        }
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let fields = serde_json::to_value(&record).unwrap_or_default();
    let body = html! {
        table {
            @if let Some(object) = fields.as_object() {
                @for (key, value) in object {
                    tr {
                        th { (key) }
                        td {
                            @match value {
                                serde_json::Value::String(text) if text == redact::WITHHELD => span.withheld { (lang.t("withheld for your role", "권한상 비공개")) },
                                serde_json::Value::String(text) => (text),
                                other => code { (other.to_string()) },
                            }
                        }
                    }
                }
            }
            tr { th { (lang.t("revision", "개정")) } td { (meta.revision) ", " (lang.t("created by", "작성")) " " (meta.created_by) ", " (lang.t("last changed by", "최종 수정")) " " (meta.updated_by) } }
        }
        p {
            a href=(format!("/records/{id}/history")) { (lang.t("History of this record", "이 기록의 이력")) }
            @if matches!(record, Record::Person(_)) && role.can_write() {
                " · " a href=(format!("/persons/{id}/edit")) { (lang.t("Edit", "수정")) }
                " · " a href=(format!("/persons/{id}/acts/new")) { (lang.t("Record an act against this person", "이 인물에 대한 행위 기록")) }
            }
        }
        @if !candidates.is_empty() {
            h2 { (lang.t("Possible duplicates: names that read the same", "중복 가능성: 같게 읽히는 이름")) }
            ul {
                @for (id, label) in &candidates {
                    li { a href=(format!("/persons/{id}")) { (id) } " " (label) }
                }
            }
            p.hint { (lang.t("Review them with girok link and girok review.", "girok link 와 girok review 로 검토하세요.")) }
        }
        @if !referrers.is_empty() {
            h2 { (lang.t("Referred to by", "이 기록을 참조하는 기록")) }
            ul {
                @for r in &referrers {
                    li { (r.kind) " " a href=(link_of(r.kind, &r.id)) { (r.id) } " (" (r.field) ")" }
                }
            }
        }
    };
    page(
        lang,
        &principal,
        &format!("{} {id}", lang.t(title_en, title_ko)),
        body,
    )
}

fn link_of(kind: &str, id: &RecordId) -> String {
    match kind {
        "person" => format!("/persons/{id}"),
        "source" => format!("/sources/{id}"),
        _ => format!("/records/{id}"),
    }
}

async fn any_record(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    record_page(app, headers, id, "Record", "기록").await
}

async fn person(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    record_page(app, headers, id, "Person", "인물").await
}

async fn source(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    record_page(app, headers, id, "Source", "출처").await
}

// ---- Sources ----

async fn sources(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Analyst) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let role = principal.user.role;
    let text = query.q.trim().to_lowercase();
    let offset = query.offset;
    let loaded = blocking(move || {
        app.read(|store| -> Result<Vec<Source>, StoreError> {
            let mut found = Vec::new();
            if text.is_empty() {
                for stored in store.list(RecordKind::Source, offset, PAGE)? {
                    if let Record::Source(source) = redact::record(stored.record, role) {
                        found.push(source);
                    }
                }
            } else {
                // Text search reads what the role may read, so it cannot reveal withheld text.
                store.for_each_record(&mut |record| {
                    if found.len() < PAGE as usize
                        && let Record::Source(source) = redact::record(record, role)
                        && [&source.title, &source.notes, &source.provenance]
                            .iter()
                            .any(|t| t.to_lowercase().contains(&text))
                    {
                        found.push(source);
                    }
                    Ok(())
                })?;
            }
            Ok(found)
        })
    })
    .await;
    let found = match loaded {
        Ok(Ok(found)) => found,
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let body = html! {
        @if role.can_write() {
            p { a href="/sources/new" { (lang.t("Record a new testimony", "새 증언 기록")) } }
        }
        form method="get" action="/sources" role="search" {
            label for="q" { (lang.t("Search titles and notes", "제목과 메모 검색")) }
            input id="q" name="q" value=(query.q);
            button.primary type="submit" { (lang.t("Search", "검색")) }
        }
        table {
            tr { th { "ID" } th { (lang.t("Title", "제목")) } th { (lang.t("Kind", "종류")) } th { (lang.t("Obtained", "입수")) } th { (lang.t("Consent", "동의")) } }
            @for source in &found {
                tr {
                    td { a href=(format!("/sources/{}", source.id)) { (source.id) } }
                    td { (source.title) }
                    td { (if lang == Lang::Ko { source.kind.ko() } else { source.kind.as_str() }) }
                    td { (source.obtained) }
                    td { (source.consent.map(|c| if lang == Lang::Ko { c.ko() } else { c.as_str() }).unwrap_or("—")) }
                }
            }
        }
    };
    page(lang, &principal, lang.t("Sources", "출처"), body)
}

/// The new-testimony form's fields, as typed.
#[derive(Deserialize, Default, Clone)]
struct TestimonyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    obtained: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    consent: String,
    #[serde(default)]
    witness: String,
    #[serde(default)]
    sex: String,
    #[serde(default)]
    notes: String,
}

fn testimony_form(
    lang: Lang,
    principal: &Principal,
    form: &TestimonyForm,
    errors: &HashMap<&str, String>,
) -> Markup {
    let field = |name: &'static str, label: &str, hint: &str, value: &str| {
        html! {
            div class=(if errors.contains_key(name) { "field-error" } else { "" }) {
                label for=(name) { (label) }
                input id=(name) name=(name) value=(value) aria-invalid=(errors.contains_key(name));
                @if !hint.is_empty() { div.hint { (hint) } }
                @if let Some(error) = errors.get(name) { div.error role="alert" id=(format!("{name}-error")) { (error) } }
            }
        }
    };
    html! {
        form method="post" action="/sources" {
            input type="hidden" name="csrf" value=(principal.csrf());
            (field("title", lang.t("Title", "제목"), "", &form.title))
            (field("obtained", lang.t("Date of the interview", "면담 날짜"),
                lang.t("Exact or approximate: 2024-05-20, May 2024, spring 2021, around 1999, 2019년 가을, unknown",
                       "정확하거나 대략적인 날짜: 2024-05-20, 2024년 5월, 2021년 봄, 1999년경, 미상"), &form.obtained))
            (field("witness", lang.t("Witness's name", "증언자 이름"),
                lang.t("In Hangul or any romanization; leave empty for an anonymous witness", "한글 또는 로마자; 익명이면 비워 두세요"), &form.witness))
            label for="sex" { (lang.t("Witness's sex", "증언자 성별")) }
            select id="sex" name="sex" {
                @for sex in [Sex::Unknown, Sex::Female, Sex::Male, Sex::Other] {
                    option value=(sex.as_str()) selected[form.sex == sex.as_str()] { (if lang == Lang::Ko { sex.ko() } else { sex.as_str() }) }
                }
            }
            div class=(if errors.contains_key("consent") { "field-error" } else { "" }) {
                label for="consent" { (lang.t("Consent given by the witness", "증언자의 동의 범위")) }
                select id="consent" name="consent" {
                    @for scope in [ConsentScope::Internal, ConsentScope::Partners, ConsentScope::PublicAnonymised, ConsentScope::Public] {
                        option value=(scope.as_str()) selected[form.consent == scope.as_str()] { (scope.as_str()) " · " (scope.ko()) }
                    }
                }
                @if let Some(error) = errors.get("consent") { div.error role="alert" { (error) } }
            }
            (field("language", lang.t("Language of the interview", "면담 언어"), "ko, en", &form.language))
            (field("organisation", lang.t("Documenting organisation", "기록 기관"), "", &form.organisation))
            label for="notes" { (lang.t("Notes", "메모")) }
            textarea id="notes" name="notes" rows="4" { (form.notes) }
            button.primary type="submit" { (lang.t("Save testimony", "증언 저장")) }
        }
    }
}

async fn new_testimony(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Documenter) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let form = TestimonyForm {
        consent: ConsentScope::Internal.as_str().to_string(),
        ..TestimonyForm::default()
    };
    let body = testimony_form(lang, &principal, &form, &HashMap::new());
    page(
        lang,
        &principal,
        lang.t("Record a new testimony", "새 증언 기록"),
        body,
    )
}

async fn create_testimony(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<TestimonyForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match submitted_by(&app, &headers, Role::Documenter, &form.csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let mut errors: HashMap<&str, String> = HashMap::new();
    if form.title.trim().is_empty() {
        errors.insert(
            "title",
            lang.t("A title is required.", "제목을 입력하세요.")
                .to_string(),
        );
    }
    let obtained = form_date(&form.obtained, "obtained", &mut errors);
    let consent = ConsentScope::parse(&form.consent);
    if consent.is_none() {
        errors.insert(
            "consent",
            format!("expected one of {}", ConsentScope::expected()),
        );
    }
    let witness_name = form.witness.trim();
    if !witness_name.is_empty() && witness_name.chars().count() > 200 {
        errors.insert(
            "witness",
            lang.t(
                "A name has at most 200 characters.",
                "이름은 200자 이하입니다.",
            )
            .to_string(),
        );
    }
    if !errors.is_empty() {
        let body = testimony_form(lang, &principal, &form, &errors);
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            page(
                lang,
                &principal,
                lang.t("Record a new testimony", "새 증언 기록"),
                body,
            ),
        )
            .into_response();
    }
    let source_id = RecordId::new(format!("s-{}", random_hex(6)));
    let witness = (!witness_name.is_empty()).then(|| {
        let mut person = Person::new(
            RecordId::new(format!("p-{}", random_hex(6))),
            vec![Name::detect(witness_name, Romanization::Unknown)],
        );
        person.sex = Sex::parse(&form.sex).unwrap_or(Sex::Unknown);
        person.received_by = Some(principal.user.name.clone());
        person
    });
    let source = Source {
        id: source_id.clone(),
        kind: SourceKind::Interview,
        title: form.title.trim().to_string(),
        obtained,
        language: Some(form.language.trim().to_string()).filter(|l| !l.is_empty()),
        organisation: Some(form.organisation.trim().to_string()).filter(|o| !o.is_empty()),
        provenance: String::new(),
        consent,
        witness: witness.as_ref().map(|p| p.id.clone()),
        received_by: Some(principal.user.name.clone()),
        notes: form.notes.trim().to_string(),
        clarifications: Default::default(),
    };
    let actor = principal.user.name.clone();
    let written = blocking(move || {
        app.write(|store| {
            store.write(&actor, |sink| {
                if let Some(person) = witness {
                    sink.apply(Change::Create {
                        record: Record::Person(person),
                    })?;
                }
                sink.apply(Change::Create {
                    record: Record::Source(source),
                })
            })
        })
    })
    .await;
    match written {
        Ok(Ok(_)) => Redirect::to(&format!("/sources/{source_id}")).into_response(),
        Ok(Err(StoreError::Invalid(invalid))) => {
            // The store names the record field at fault; show it at the form field.
            let field = match invalid.field.as_str() {
                "obtained" => "obtained",
                "language" => "language",
                "organisation" => "organisation",
                "consent" => "consent",
                "names" | "name" | "text" => "witness",
                _ => "title",
            };
            errors.insert(field, invalid.to_string());
            let body = testimony_form(lang, &principal, &form, &errors);
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                page(
                    lang,
                    &principal,
                    lang.t("Record a new testimony", "새 증언 기록"),
                    body,
                ),
            )
                .into_response()
        }
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}

// ---- History and verification ----

async fn history(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Analyst) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let role = principal.user.role;
    let wanted = RecordId::new(&id);
    let loaded = blocking(move || app.read(|store| store.history(&wanted))).await;
    let rows = match loaded {
        Ok(Ok(rows)) => rows,
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let body = html! {
        @if rows.is_empty() { p { (lang.t("The journal has no entries about this record.", "이 기록에 대한 항목이 없습니다.")) } }
        table {
            tr { th { "#" } th { (lang.t("When (UTC)", "시각 (UTC)")) } th { (lang.t("Who", "작성자")) } th { (lang.t("Change", "변경")) } th { (lang.t("Entry hash", "항목 해시")) } }
            @for row in &rows {
                tr {
                    td.n { (row.entry.seq) }
                    td { (row.entry.time) }
                    td { (row.entry.actor) }
                    td { (redact::summary(&row.entry.change, role)) }
                    td { code { (hex::encode(&row.hash[..8])) "…" } }
                }
            }
        }
    };
    page(
        lang,
        &principal,
        &format!("{} {id}", lang.t("History of", "이력:")),
        body,
    )
}

async fn verification(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Analyst) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let loaded = blocking(move || {
        app.read(|store| -> Result<_, StoreError> {
            Ok((
                store.head()?,
                store.tree_head()?,
                store.latest_checkpoint()?,
            ))
        })
    })
    .await;
    let ((seq, hash), (size, root), checkpoint) = match loaded {
        Ok(Ok(found)) => found,
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let body = html! {
        table {
            tr { th { (lang.t("Journal entries", "기록 항목 수")) } td { (seq) } }
            tr { th { (lang.t("Head hash", "마지막 항목 해시")) } td { code { (hex::encode(hash)) } } }
            tr { th { (lang.t("Merkle tree", "머클 트리")) } td { (size) " · " code { (hex::encode(root)) } } }
            tr { th { (lang.t("Latest signed checkpoint", "최근 서명 체크포인트")) } td {
                @match &checkpoint {
                    Some((size, _)) => { (lang.t("at size", "크기")) " " (size) }
                    None => { (lang.t("none yet (girok checkpoint)", "없음 (girok checkpoint)")) }
                }
            } }
        }
        form method="post" action="/verify" {
            input type="hidden" name="csrf" value=(principal.csrf());
            p.hint { (lang.t("A full check replays the whole journal into a scratch database and compares every table; on a large database it takes minutes.",
                             "전체 검사는 모든 기록을 임시 데이터베이스에 다시 적용하여 비교합니다. 큰 데이터베이스에서는 몇 분이 걸립니다.")) }
            button.primary type="submit" { (lang.t("Run a full check now", "지금 전체 검사")) }
        }
    };
    page(lang, &principal, lang.t("Verification", "검증"), body)
}

async fn run_check(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match submitted_by(&app, &headers, Role::Analyst, &form.csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let checked = blocking(move || app.read(|store| store.check(&mut |_, _| {}))).await;
    let report = match checked {
        Ok(Ok(report)) => report,
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let body = html! {
        @if report.is_clean() {
            p { strong { (lang.t("Clean:", "이상 없음:")) } " " (lang.t("the hash chain is intact and replaying the journal gives exactly the stored state.",
                "해시 체인이 온전하며 기록을 다시 적용한 결과가 저장된 상태와 정확히 같습니다.")) }
        } @else {
            p.error { (lang.t("Problems found:", "문제 발견:")) " " (report.chain_breaks.len()) " / " (report.refused.len()) " / " (report.differences.len()) }
            ul { @for d in report.differences.iter().take(50) { li { (format!("{d:?}")) } } }
        }
        p { a href="/verify" { (lang.t("Back", "돌아가기")) } }
    };
    page(lang, &principal, lang.t("Verification", "검증"), body)
}

// ---- Statistics ----

/// A table for a role: viewers get the public audience (consent and
/// disclosure control), everyone else the internal one.
pub struct Tabulated {
    pub table: Table,
    pub labels: Vec<(String, String)>,
    pub threshold: Option<u64>,
}

impl Tabulated {
    fn chart(&self) -> Markup {
        girok_charts::bars(
            &self
                .labels
                .iter()
                .zip(&self.table.row_totals)
                .map(|((en, ko), entry)| girok_charts::Bar {
                    label: format!("{en} · {ko}"),
                    count: entry.shown(),
                })
                .collect::<Vec<_>>(),
        )
    }
}

/// Counts distinct victims by `by` ("dim" or "rows,columns") under the
/// conditions; errors name the parameter at fault.
pub fn tabulate(
    store: &SqliteStore,
    by: &str,
    conditions: Option<&str>,
    role: Role,
) -> Result<Tabulated, (String, String)> {
    let dimensions: Vec<Dimension> = by
        .split(',')
        .map(str::parse)
        .collect::<Result<_, String>>()
        .map_err(|e| ("by".to_string(), e))?;
    if dimensions.is_empty() || dimensions.len() > 2 {
        return Err((
            "by".into(),
            "one dimension, or two separated by a comma".into(),
        ));
    }
    let vocabularies = store.vocabularies();
    let mut filter = Filter::default();
    if let Some(conditions) = conditions.filter(|c| !c.trim().is_empty()) {
        filter
            .add(conditions, vocabularies)
            .map_err(|e| ("where".to_string(), e.to_string()))?;
    }
    let internal = |e: StoreError| ("".to_string(), e.to_string());
    let mut facts = Facts::load(store, store.link_decisions().map_err(internal)?.resolved())
        .map_err(internal)?;
    let audience = if role >= Role::Analyst {
        Audience::Internal
    } else {
        Audience::Public
    };
    facts.restrict_to(audience);
    let threshold = audience.default_threshold();
    let table = Table::count(
        &facts,
        dimensions[0],
        dimensions.get(1).copied(),
        Unit::Victims,
        &filter,
        vocabularies,
    )
    .suppressed(threshold);
    let labels = table
        .row_keys
        .iter()
        .map(|key| table.rows.label(key, vocabularies))
        .collect();
    Ok(Tabulated {
        table,
        labels,
        threshold,
    })
}

#[derive(Deserialize, Default)]
struct StatsQuery {
    by: Option<String>,
    #[serde(default, rename = "where")]
    conditions: String,
}

async fn statistics(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Query<StatsQuery>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Viewer) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let role = principal.user.role;
    let by = query.by.clone().unwrap_or_else(|| "act-type".to_string());
    let conditions = query.conditions.clone();
    let (by_for_work, conditions_for_work) = (by.clone(), conditions.clone());
    let loaded = blocking(move || {
        app.read(|store| tabulate(store, &by_for_work, Some(&conditions_for_work), role))
    })
    .await;
    let result = match loaded {
        Ok(result) => result,
        Err(response) => return response,
    };
    let vocab_label = |d: Dimension| {
        if lang == Lang::Ko {
            d.description_ko()
        } else {
            d.description()
        }
    };
    let body = html! {
        form method="get" action="/stats" {
            label for="by" { (lang.t("Victims by", "기준")) }
            select id="by" name="by" {
                @for d in Dimension::ALL {
                    option value=(d.name()) selected[by == d.name()] { (vocab_label(*d)) }
                }
            }
            label for="where" { (lang.t("Only acts where", "조건")) }
            input id="where" name="where" value=(conditions) placeholder="year=2019..2023, place=함경북도";
            button.primary type="submit" { (lang.t("Show", "보기")) }
        }
        @match &result {
            Err((_, message)) => p.error role="alert" { (message) },
            Ok(tabulated) => {
                @if let Some(k) = tabulated.threshold {
                    p.hint { (lang.t("Public statistics: counts below", "공개 통계: ")) " " (k) " " (lang.t("and the counts that would reveal them are suppressed.", "미만의 수와 이를 드러낼 수 있는 수는 비공개입니다.")) }
                }
                p { (lang.t("Victims", "피해자")) ": " (tabulated.table.total.shown().map_or("—".to_string(), |n| n.to_string())) }
                (tabulated.chart())
                table {
                    @for ((en, ko), entry) in tabulated.labels.iter().zip(&tabulated.table.row_totals) {
                        tr {
                            td { (if lang == Lang::Ko { ko } else { en }) }
                            td.n { (entry.shown().map_or(girok_charts::WITHHELD.to_string(), |n| n.to_string())) }
                            td.n { (tabulated.table.percent(entry).map(|p| format!("{p:.1}%")).unwrap_or_default()) }
                        }
                    }
                }
            }
        }
    };
    page(lang, &principal, lang.t("Statistics", "통계"), body)
}

// ---- Duplicate review ----

fn stale_note(lang: Lang, computed_at: u64, journal: u64) -> Markup {
    html! {
        @if computed_at != journal {
            p.hint { (lang.t("The journal has changed since these proposals were made (entry", "제안 이후 기록이 바뀌었습니다 (항목"))
                " " (computed_at) " → " (journal) "). " (lang.t("Run girok link again for fresh ones.", "새 제안은 girok link 를 다시 실행하세요.")) }
        }
    }
}

async fn review_queue(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Documenter) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let data = app.data.clone();
    let loaded = blocking(move || {
        let journal = app.read(|store| store.head().map(|h| h.0));
        (Proposals::load(&data), journal)
    })
    .await;
    let (proposals, journal) = match loaded {
        Ok((Ok(proposals), Ok(journal))) => (proposals, journal),
        Ok((Err(error), _)) => {
            let body = html! { p { (error.to_string()) } };
            return page(
                lang,
                &principal,
                lang.t("Duplicate review", "중복 검토"),
                body,
            );
        }
        Ok((_, Err(error))) => return internal(error),
        Err(response) => return response,
    };
    let body = html! {
        p { (lang.t("Person records that automatic linkage proposes are one person, least certain first. Decisions are journal changes; later runs respect them.",
                    "자동 연결이 같은 사람으로 제안한 인물 기록입니다 (확실성이 낮은 것부터). 결정은 기록에 남고 이후 실행에 반영됩니다.")) }
        (stale_note(lang, proposals.journal_size, journal))
        table {
            tr { th { "#" } th { (lang.t("Probability", "확률")) } th { (lang.t("Person records", "인물 기록")) } }
            @for proposal in &proposals.proposals {
                tr {
                    td { a href=(format!("/review/{}", proposal.number)) { (proposal.number) } }
                    td.n { (format!("{:.3}", proposal.probability)) }
                    td { (proposal.persons.iter().map(|p| format!("{} ({})", p.names, p.id)).collect::<Vec<_>>().join("  ~  ")) }
                }
            }
        }
    };
    page(
        lang,
        &principal,
        lang.t("Duplicate review", "중복 검토"),
        body,
    )
}

#[derive(Deserialize)]
struct DecisionForm {
    #[serde(default)]
    csrf: String,
    decision: String,
    #[serde(default)]
    reason: String,
}

fn proposal_page(
    lang: Lang,
    principal: &Principal,
    proposal: &Proposal,
    message: Option<(bool, String)>,
) -> Markup {
    html! {
        @if let Some((ok, message)) = &message {
            p class=(if *ok { "" } else { "error" }) role="status" { (message) }
        }
        table {
            tr { th { "ID" } th { (lang.t("Names", "이름")) } th { (lang.t("Sex", "성별")) } th { (lang.t("Born", "출생")) } th { (lang.t("From", "출신")) } th { (lang.t("Sources", "출처")) } }
            @for person in &proposal.persons {
                tr {
                    td { a href=(format!("/persons/{}", person.id)) { (person.id) } }
                    td { (person.names) } td { (person.sex) } td { (person.birth) } td { (person.origin) } td { (person.sources) }
                }
            }
        }
        h2 { (lang.t("Why: the weight of every comparison", "근거: 비교 항목별 가중치")) }
        @for link in &proposal.links {
            h3 { (link.a) " ~ " (link.b) ": " (format!("{:+.2}", link.explanation.weight)) " (p = " (format!("{:.4}", link.explanation.probability)) ")" }
            table {
                tr { th { (lang.t("Comparison", "비교")) } th { (lang.t("Level", "수준")) } th { (lang.t("Weight", "가중치")) } }
                tr { td { (lang.t("prior", "사전")) } td {} td.n { (format!("{:+.2}", link.explanation.prior_weight)) } }
                @for part in &link.explanation.parts {
                    tr {
                        td { (part.comparison) }
                        td { (part.level) @if let Some(tf) = part.term_frequency { " " span.hint { (format!("({:.2}%)", tf * 100.0)) } } }
                        td.n { (format!("{:+.2}", part.weight)) }
                    }
                }
            }
        }
        form method="post" action=(format!("/review/{}", proposal.number)) {
            input type="hidden" name="csrf" value=(principal.csrf());
            label for="reason" { (lang.t("Reason (recorded in the journal)", "사유 (기록에 남음)")) }
            input id="reason" name="reason" required;
            button.primary type="submit" name="decision" value="same" { (lang.t("Same person", "같은 사람")) }
            " "
            button.primary type="submit" name="decision" value="different" { (lang.t("Different persons", "다른 사람")) }
        }
    }
}

async fn review_proposal(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(number): Path<usize>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Documenter) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let data = app.data.clone();
    let loaded = blocking(move || Proposals::load(&data)).await;
    let proposals = match loaded {
        Ok(Ok(proposals)) => proposals,
        Ok(Err(error)) => {
            return error_page(
                StatusCode::NOT_FOUND,
                lang.t("Duplicate review", "중복 검토"),
                &error.to_string(),
            );
        }
        Err(response) => return response,
    };
    match proposals.get(number) {
        Ok(proposal) => page(
            lang,
            &principal,
            &format!("{} #{number}", lang.t("Proposal", "제안")),
            proposal_page(lang, &principal, proposal, None),
        ),
        Err(error) => error_page(
            StatusCode::NOT_FOUND,
            lang.t("Duplicate review", "중복 검토"),
            &error.to_string(),
        ),
    }
}

async fn decide_proposal(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(number): Path<usize>,
    Form(form): Form<DecisionForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match submitted_by(&app, &headers, Role::Documenter, &form.csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let data = app.data.clone();
    let actor = principal.user.name.clone();
    let same = form.decision == "same";
    let reason = form.reason.trim().to_string();
    type Decided = Result<(Proposal, Result<u64, String>), String>;
    let decided = blocking(move || -> Decided {
        let proposals = Proposals::load(&data).map_err(|e| e.to_string())?;
        let proposal = proposals.get(number).map_err(|e| e.to_string())?.clone();
        if reason.is_empty() {
            return Ok((proposal, Err("a reason is required".to_string())));
        }
        let change = proposal.decide(same, &reason);
        let written = app.write(|store| store.write(&actor, |sink| sink.apply(change)));
        Ok((
            proposal,
            written
                .map(|(seq, _)| seq)
                .map_err(|e: StoreError| e.to_string()),
        ))
    })
    .await;
    let (proposal, outcome) = match decided {
        Ok(Ok(found)) => found,
        Ok(Err(message)) => {
            return error_page(
                StatusCode::NOT_FOUND,
                lang.t("Duplicate review", "중복 검토"),
                &message,
            );
        }
        Err(response) => return response,
    };
    let (status, message) = match outcome {
        Ok(seq) => (
            StatusCode::OK,
            (
                true,
                format!(
                    "{} {seq}",
                    lang.t("Recorded as journal entry", "기록됨: 항목")
                ),
            ),
        ),
        Err(message) => (StatusCode::CONFLICT, (false, message)),
    };
    (
        status,
        page(
            lang,
            &principal,
            &format!("{} #{number}", lang.t("Proposal", "제안")),
            proposal_page(lang, &principal, &proposal, Some(message)),
        ),
    )
        .into_response()
}

// ---- Recording an act ----

/// The new-act form's fields, as typed.
#[derive(Deserialize, Default, Clone)]
struct ActForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    act_type: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    age: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    relation: String,
    #[serde(default)]
    description: String,
}

/// Options of a vocabulary picker: key and "English · 한국어".
fn vocabulary_options(
    vocabularies: &girok_model::Vocabularies,
    kind: girok_model::VocabKind,
) -> Vec<(String, String)> {
    vocabularies
        .get(kind)
        .terms()
        .iter()
        .map(|term| (term.key.clone(), format!("{} · {}", term.en, term.ko)))
        .collect()
}

struct ActPickers {
    act_types: Vec<(String, String)>,
    agencies: Vec<(String, String)>,
    relations: Vec<(String, String)>,
    places: Vec<(String, String)>,
}

fn act_form(
    lang: Lang,
    principal: &Principal,
    victim: &str,
    pickers: &ActPickers,
    form: &ActForm,
    errors: &HashMap<&str, String>,
) -> Markup {
    let error = |name: &str| html! { @if let Some(e) = errors.get(name) { div.error role="alert" id=(format!("{name}-error")) { (e) } } };
    let class = |name: &str| {
        if errors.contains_key(name) {
            "field-error"
        } else {
            ""
        }
    };
    let select = |name: &'static str,
                  options: &[(String, String)],
                  chosen: &str,
                  none: Option<&str>| {
        html! {
            select id=(name) name=(name) {
                @if let Some(none) = none { option value="" { (none) } }
                @for (key, label) in options { option value=(key) selected[chosen == key] { (label) } }
            }
        }
    };
    html! {
        form method="post" action=(format!("/persons/{victim}/acts")) {
            input type="hidden" name="csrf" value=(principal.csrf());
            div class=(class("act_type")) {
                label for="act_type" { (lang.t("What happened", "행위 유형")) }
                (select("act_type", &pickers.act_types, &form.act_type, None))
                (error("act_type"))
            }
            div class=(class("date")) {
                label for="date" { (lang.t("When", "언제")) }
                input id="date" name="date" value=(form.date) placeholder="2019, 2019-03, early 2020, 1990년대, covid-border-closure";
                (error("date"))
            }
            div class=(class("place")) {
                label for="place" { (lang.t("Where (any spelling: 회령, Hoeryŏng, Hoeryong)", "어디서 (회령, Hoeryŏng 등 어떤 표기든)")) }
                input id="place" name="place" list="places" value=(form.place);
                datalist id="places" { @for (key, label) in &pickers.places { option value=(key) { (label) } } }
                (error("place"))
            }
            div class=(class("age")) {
                label for="age" { (lang.t("Victim's age at the time", "당시 피해자 나이")) }
                input id="age" name="age" inputmode="numeric" value=(form.age);
                (error("age"))
            }
            label for="agency" { (lang.t("Perpetrating agency", "가해 기관")) }
            (select("agency", &pickers.agencies, &form.agency, Some(lang.t("(none recorded)", "(기록 없음)"))))
            div class=(class("source")) {
                label for="source" { (lang.t("Source that attests it (id)", "입증 출처 (ID)")) }
                input id="source" name="source" value=(form.source) placeholder="s-…";
                (error("source"))
            }
            label for="relation" { (lang.t("The witness's relation to the victim", "증언자와 피해자의 관계")) }
            (select("relation", &pickers.relations, &form.relation, Some(lang.t("(unknown)", "(미상)"))))
            label for="description" { (lang.t("Description", "설명")) }
            textarea id="description" name="description" rows="3" { (form.description) }
            button.primary type="submit" { (lang.t("Save act", "행위 저장")) }
        }
    }
}

fn act_pickers(store: &SqliteStore) -> ActPickers {
    use girok_model::VocabKind;
    let vocabularies = store.vocabularies();
    ActPickers {
        act_types: vocabulary_options(vocabularies, VocabKind::ActType),
        agencies: vocabulary_options(vocabularies, VocabKind::Agency),
        relations: vocabulary_options(vocabularies, VocabKind::Relation),
        places: vocabulary_options(vocabularies, VocabKind::Place),
    }
}

async fn new_act(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(victim): Path<String>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Documenter) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let pickers = match blocking(move || app.read(act_pickers)).await {
        Ok(pickers) => pickers,
        Err(response) => return response,
    };
    let body = act_form(
        lang,
        &principal,
        &victim,
        &pickers,
        &ActForm::default(),
        &HashMap::new(),
    );
    page(
        lang,
        &principal,
        &format!("{} {victim}", lang.t("Record an act against", "행위 기록:")),
        body,
    )
}

async fn create_act(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(victim): Path<String>,
    Form(form): Form<ActForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match submitted_by(&app, &headers, Role::Documenter, &form.csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let actor = principal.user.name.clone();
    let submitted = form.clone();
    let victim_id = RecordId::new(&victim);
    let written = blocking(move || {
        let mut errors: HashMap<&'static str, String> = HashMap::new();
        let date = form_date(&form.date, "date", &mut errors);
        let age = match form.age.trim() {
            "" => None,
            text => text.parse::<u16>().ok().filter(|a| *a < 130).or_else(|| {
                errors.insert("age", format!("'{text}' is not an age in years (0 to 129)"));
                None
            }),
        };
        let pickers = app.read(act_pickers);
        let place = resolve_place(&app, &form.place)
            .map_err(|e| errors.insert("place", e))
            .ok()
            .flatten();
        if !errors.is_empty() {
            return (pickers, Err(errors));
        }
        let act_id = RecordId::new(format!("a-{}", random_hex(6)));
        let mut changes = vec![Change::Create {
            record: Record::Act(girok_model::Act {
                id: act_id.clone(),
                act_type: form.act_type.clone(),
                victim: victim_id,
                event: None,
                date,
                place,
                victim_age: age,
                status: None,
                facility: None,
                description: form.description.trim().to_string(),
                received_by: Some(actor.clone()),
                clarifications: Default::default(),
            }),
        }];
        if !form.agency.is_empty() {
            changes.push(Change::Create {
                record: Record::Involvement(girok_model::Involvement {
                    id: RecordId::new(format!("i-{}", random_hex(6))),
                    act: act_id.clone(),
                    perpetrator: None,
                    agency: Some(form.agency.clone()),
                    degree: girok_model::Degree::Unknown,
                    clarifications: Default::default(),
                }),
            });
        }
        if !form.source.trim().is_empty() {
            changes.push(Change::Create {
                record: Record::Information(girok_model::Information {
                    id: RecordId::new(format!("f-{}", random_hex(6))),
                    source: RecordId::new(form.source.trim()),
                    act: Some(act_id.clone()),
                    event: None,
                    reliability: None,
                    credibility: None,
                    relation: Some(form.relation.clone()).filter(|r| !r.is_empty()),
                    knowledge: girok_model::Knowledge::Unknown,
                    clarifications: Default::default(),
                }),
            });
        }
        let written = app.write(|store| {
            store.write(&actor, |sink| {
                for change in changes {
                    sink.apply(change)?;
                }
                Ok::<(), StoreError>(())
            })
        });
        match written {
            Ok(_) => (pickers, Ok(act_id)),
            Err(StoreError::Invalid(invalid)) => {
                // The store names the record field at fault; show it at the form field.
                let field = match invalid.field.as_str() {
                    "act_type" => "act_type",
                    "source" => "source",
                    "place" => "place",
                    _ => "act_type",
                };
                (pickers, Err(HashMap::from([(field, invalid.to_string())])))
            }
            Err(other) => (
                pickers,
                Err(HashMap::from([("act_type", other.to_string())])),
            ),
        }
    })
    .await;
    match written {
        Ok((_, Ok(_))) => Redirect::to(&format!("/persons/{victim}")).into_response(),
        Ok((pickers, Err(errors))) => {
            let body = act_form(lang, &principal, &victim, &pickers, &submitted, &errors);
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                page(
                    lang,
                    &principal,
                    &format!("{} {victim}", lang.t("Record an act against", "행위 기록:")),
                    body,
                ),
            )
                .into_response()
        }
        Err(response) => response,
    }
}

// ---- Estimates ----

#[derive(Deserialize, Default)]
struct EstimateQuery {
    #[serde(default, rename = "where")]
    conditions: String,
    #[serde(default)]
    proposals: Option<String>,
    #[serde(default)]
    run: Option<String>,
}

async fn estimates(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Query<EstimateQuery>,
) -> Response {
    let lang = Lang::of(&headers);
    let title = lang.t(
        "How many victims no list recorded",
        "기록되지 않은 피해자 추정",
    );
    let principal = match signed_in(&app, &headers, Role::Analyst) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let form = html! {
        form method="get" action="/estimates" {
            label for="where" { (lang.t("Victims of acts where", "조건")) }
            input id="where" name="where" value=(query.conditions) placeholder="act-type=arrest, year=2000..2019";
            label { input type="checkbox" name="proposals" value="1" checked[query.proposals.is_some()] style="width:auto";
                " " (lang.t("Also treat the unreviewed proposals of girok link as one person", "검토되지 않은 girok link 제안도 같은 사람으로 간주")) }
            input type="hidden" name="run" value="1";
            button.primary type="submit" { (lang.t("Estimate (takes seconds)", "추정 (몇 초 걸림)")) }
        }
    };
    if query.run.is_none() {
        return page(lang, &principal, title, form);
    }
    let request = girok_estimate::Request {
        conditions: [query.conditions.clone()]
            .into_iter()
            .filter(|c| !c.trim().is_empty())
            .collect(),
        strata: None,
        lists: Vec::new(),
        lcmcr: girok_stats::lcmcr::Settings {
            samples: 2_000,
            burn_in: 5_000,
            thin: 10,
            ..Default::default()
        },
        chains: 4,
        delta: None,
        with_proposals: query.proposals.is_some(),
        audience: Audience::Internal,
    };
    let data = app.data.clone();
    let computed =
        blocking(move || app.read(|store| girok_estimate::compute(store, &data, &request))).await;
    let estimates = match computed {
        Ok(Ok(estimates)) => estimates,
        Ok(Err(error)) => {
            let body = html! { (form) p.error role="alert" { (error.to_string()) } };
            return (StatusCode::BAD_REQUEST, page(lang, &principal, title, body)).into_response();
        }
        Err(response) => return response,
    };
    let body = html! {
        (form)
        p { (lang.t("Lists (documenting organisations)", "목록 (기록 기관)")) ": " (estimates.lists.join(", ")) }
        @for warning in &estimates.warnings { p.error { (warning) } }
        @for stratum in &estimates.strata {
            @match &stratum.table {
                Err(error) => p.error role="alert" { (lang.t("No estimate:", "추정 불가:")) " " (error.to_string()) },
                Ok(table) => {
                    p { (lang.t("Observed", "관측")) ": " (table.observed()) }
                    (girok_charts::intervals(lang.t("observed", "관측"), table.observed() as f64, &stratum.chart_rows()))
                    @for warning in &stratum.warnings { p.error { (lang.t("Warning:", "경고:")) " " (warning) } }
                }
            }
        }
        p.hint { (lang.t("Four chains of the latent-class model (K = 10), model averaging over decomposable graphs and log-linear models; girok estimate and girok report run longer chains and strata.",
                         "잠재계층 모형(K = 10) 4개 사슬, 분해가능 그래프 모형 평균, 로그선형 모형. 더 긴 사슬과 층화는 girok estimate 와 girok report 에서.")) }
    };
    page(lang, &principal, title, body)
}

// ---- Administration ----

#[derive(Deserialize)]
struct UserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
struct KeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    label: String,
}

fn users_page(
    lang: Lang,
    principal: &Principal,
    users: &[crate::access::User],
    message: Option<(bool, String)>,
) -> Response {
    let body = html! {
        @if let Some((ok, message)) = &message {
            p class=(if *ok { "" } else { "error" }) role="status" { (message) }
        }
        table {
            tr { th { (lang.t("User", "사용자")) } th { (lang.t("Role", "역할")) } }
            @for user in users { tr { td { (user.name) } td { (user.role.name()) } } }
        }
        h2 { (lang.t("Add a user", "사용자 추가")) }
        form method="post" action="/admin/users" {
            input type="hidden" name="csrf" value=(principal.csrf());
            label for="name" { (lang.t("User name", "사용자 이름")) }
            input id="name" name="name" required autocomplete="off";
            label for="role" { (lang.t("Role", "역할")) }
            select id="role" name="role" { @for role in Role::ALL { option value=(role.name()) { (role.name()) } } }
            label for="password" { (lang.t("Password (12 characters or more)", "비밀번호 (12자 이상)")) }
            input id="password" name="password" type="password" required autocomplete="new-password";
            button.primary type="submit" { (lang.t("Add", "추가")) }
        }
        h2 { (lang.t("New API key", "새 API 키")) }
        form method="post" action="/admin/keys" {
            input type="hidden" name="csrf" value=(principal.csrf());
            label for="key-user" { (lang.t("For user", "사용자")) }
            select id="key-user" name="name" { @for user in users { option value=(user.name) { (user.name) } } }
            label for="label" { (lang.t("What it is for", "용도")) }
            input id="label" name="label" required;
            button.primary type="submit" { (lang.t("Create key", "키 만들기")) }
        }
    };
    page(
        lang,
        principal,
        lang.t("Users and keys", "사용자와 키"),
        body,
    )
}

async fn admin_users(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Admin) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    match blocking(move || app.with_access(|access| access.users())).await {
        Ok(Ok(users)) => users_page(lang, &principal, &users, None),
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}

/// Runs an access change as an admin and shows the users with its outcome.
async fn admin_change(
    app: Arc<App>,
    headers: HeaderMap,
    csrf: &str,
    change: impl FnOnce(&crate::access::AccessStore) -> Result<String, crate::access::AccessError>
    + Send
    + 'static,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match submitted_by(&app, &headers, Role::Admin, csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let done = blocking(move || app.with_access(|access| (change(access), access.users()))).await;
    match done {
        Ok((outcome, Ok(users))) => {
            let status = if outcome.is_ok() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let message = match outcome {
                Ok(message) => (true, message),
                Err(error) => (false, error.to_string()),
            };
            (status, users_page(lang, &principal, &users, Some(message))).into_response()
        }
        Ok((_, Err(error))) => internal(error),
        Err(response) => response,
    }
}

async fn add_user(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<UserForm>,
) -> Response {
    let csrf = form.csrf.clone();
    admin_change(app, headers, &csrf, move |access| {
        let role = Role::parse(&form.role)
            .ok_or_else(|| crate::access::AccessError::BadRole(form.role.clone()))?;
        access.add_user(&form.name, role, &form.password)?;
        Ok(format!("Added {} ({})", form.name, role.name()))
    })
    .await
}

async fn add_key(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<KeyForm>,
) -> Response {
    let csrf = form.csrf.clone();
    admin_change(app, headers, &csrf, move |access| {
        let key = access.add_key(&form.name, &form.label)?;
        Ok(format!(
            "API key for {} ({}), shown only now: {key}",
            form.name, form.label
        ))
    })
    .await
}

// ---- Editing a person ----

#[derive(Deserialize, Default, Clone)]
struct PersonForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    revision: u32,
    #[serde(default)]
    names: String,
    #[serde(default)]
    sex: String,
    #[serde(default)]
    birth: String,
    #[serde(default)]
    origin: String,
}

fn person_form(
    lang: Lang,
    principal: &Principal,
    id: &str,
    form: &PersonForm,
    places: &[(String, String)],
    errors: &HashMap<&str, String>,
) -> Markup {
    let error = |name: &str| html! { @if let Some(e) = errors.get(name) { div.error role="alert" id=(format!("{name}-error")) { (e) } } };
    html! {
        form method="post" action=(format!("/persons/{id}/edit")) {
            input type="hidden" name="csrf" value=(principal.csrf());
            input type="hidden" name="revision" value=(form.revision);
            label for="names" { (lang.t("Names, one per line, in any script", "이름 (한 줄에 하나, 어떤 문자든)")) }
            textarea id="names" name="names" rows="3" { (form.names) }
            (error("names"))
            label for="sex" { (lang.t("Sex", "성별")) }
            select id="sex" name="sex" {
                @for sex in [Sex::Unknown, Sex::Female, Sex::Male, Sex::Other] {
                    option value=(sex.as_str()) selected[form.sex == sex.as_str()] { (if lang == Lang::Ko { sex.ko() } else { sex.as_str() }) }
                }
            }
            label for="birth" { (lang.t("Born", "출생")) }
            input id="birth" name="birth" value=(form.birth) placeholder="1985, 1980s, around 1990";
            (error("birth"))
            label for="origin" { (lang.t("From (any spelling)", "출신 (어떤 표기든)")) }
            input id="origin" name="origin" list="places" value=(form.origin);
            datalist id="places" { @for (key, label) in places { option value=(key) { (label) } } }
            (error("origin"))
            (error("revision"))
            button.primary type="submit" { (lang.t("Save changes", "변경 저장")) }
        }
    }
}

async fn edit_person(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match signed_in(&app, &headers, Role::Documenter) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let wanted = RecordId::new(&id);
    let loaded = blocking(move || {
        app.read(|store| -> Result<_, StoreError> {
            Ok((
                store.get(&wanted)?,
                vocabulary_options(store.vocabularies(), girok_model::VocabKind::Place),
            ))
        })
    })
    .await;
    let (stored, places) = match loaded {
        Ok(Ok(found)) => found,
        Ok(Err(error)) => return internal(error),
        Err(response) => return response,
    };
    let Some(Stored {
        record: Record::Person(person),
        meta,
    }) = stored
    else {
        return error_page(
            StatusCode::NOT_FOUND,
            lang.t("Not found", "찾을 수 없음"),
            &id,
        );
    };
    let form = PersonForm {
        revision: meta.revision,
        names: person
            .names
            .iter()
            .map(|n| n.text.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        sex: person.sex.as_str().to_string(),
        birth: person.birth.to_string(),
        origin: person.origin.clone().unwrap_or_default(),
        ..PersonForm::default()
    };
    let body = person_form(lang, &principal, &id, &form, &places, &HashMap::new());
    page(
        lang,
        &principal,
        &format!("{} {id}", lang.t("Edit", "수정:")),
        body,
    )
}

async fn update_person(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<PersonForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let principal = match submitted_by(&app, &headers, Role::Documenter, &form.csrf) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let actor = principal.user.name.clone();
    let submitted = form.clone();
    let wanted = RecordId::new(&id);
    let outcome = blocking(move || {
        let places = app
            .read(|store| vocabulary_options(store.vocabularies(), girok_model::VocabKind::Place));
        let mut errors: HashMap<&'static str, String> = HashMap::new();
        let stored = match app.read(|store| store.get(&wanted)) {
            Ok(Some(Stored {
                record: Record::Person(person),
                ..
            })) => person,
            Ok(_) => {
                return (
                    places,
                    Err(HashMap::from([("names", format!("no person {wanted}"))])),
                );
            }
            Err(error) => return (places, Err(HashMap::from([("names", error.to_string())]))),
        };
        let mut person = stored.clone();
        // Names already recorded keep their script, system and kind.
        person.names = form
            .names
            .lines()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|text| {
                stored
                    .names
                    .iter()
                    .find(|n| n.text == text)
                    .cloned()
                    .unwrap_or_else(|| Name::detect(text, Romanization::Unknown))
            })
            .collect();
        person.sex = Sex::parse(&form.sex).unwrap_or(Sex::Unknown);
        person.birth = form_date(&form.birth, "birth", &mut errors);
        person.origin = resolve_place(&app, &form.origin)
            .map_err(|e| errors.insert("origin", e))
            .ok()
            .flatten();
        if !errors.is_empty() {
            return (places, Err(errors));
        }
        let change = Change::Update {
            record: Record::Person(person),
            base_revision: form.revision,
        };
        match app.write(|store| store.write(&actor, |sink| sink.apply(change))) {
            Ok(_) => (places, Ok(())),
            Err(StoreError::Conflict { message, .. }) => {
                (places, Err(HashMap::from([("revision", message)])))
            }
            Err(StoreError::Invalid(invalid)) => {
                let field = if invalid.field == "birth" {
                    "birth"
                } else {
                    "names"
                };
                (places, Err(HashMap::from([(field, invalid.to_string())])))
            }
            Err(other) => (places, Err(HashMap::from([("names", other.to_string())]))),
        }
    })
    .await;
    match outcome {
        Ok((_, Ok(()))) => Redirect::to(&format!("/persons/{id}")).into_response(),
        Ok((places, Err(errors))) => {
            let status = if errors.contains_key("revision") {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let body = person_form(lang, &principal, &id, &submitted, &places, &errors);
            (
                status,
                page(
                    lang,
                    &principal,
                    &format!("{} {id}", lang.t("Edit", "수정:")),
                    body,
                ),
            )
                .into_response()
        }
        Err(response) => response,
    }
}
