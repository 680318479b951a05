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
use girok_model::{
    Change, ConsentScope, FuzzyDate, Person, Record, RecordId, RecordKind, Sex, Source, SourceKind,
};
use girok_store::{LockState, SqliteStore, Store, StoreError};
use girok_tabulate::{Audience, Dimension, Facts, Filter, Table, Unit};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::access::Role;
use crate::auth::{
    Flavor, LANG_COOKIE, LOGIN_COOKIE, Principal, Refusal, SESSION_COOKIE, check_csrf, cookie,
    require, set_cookie,
};
use crate::redact;
use crate::{App, Reading};

mod acts;
mod admin;
mod dashboard;
mod editor;
mod estimates;
mod journal;
mod login;
mod records;
mod review;
mod stats;

pub use stats::{Tabulated, tabulate};

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(dashboard::dashboard))
        .route("/login", get(login::login_form).post(login::login))
        .route("/login/code", get(login::code_form).post(login::code))
        .route(
            "/account/second-factor",
            get(login::second_factor).post(login::change_second_factor),
        )
        .route("/logout", post(login::logout))
        .route("/lang/{lang}", get(login::switch_language))
        .route("/persons", get(records::persons))
        .route(
            "/persons/new",
            get(editor::new_person).post(editor::create_person),
        )
        .route("/persons/{id}", get(records::person))
        .route("/persons/{id}/acts", post(acts::create_act))
        .route("/records/{id}/edit", get(editor::edit).post(editor::save))
        .route("/events", get(records::events))
        .route(
            "/events/new",
            get(editor::new_event).post(editor::create_event),
        )
        .route("/persons/{id}/acts/new", get(acts::new_act))
        .route(
            "/sources",
            get(records::sources).post(records::create_testimony),
        )
        .route("/sources/new", get(records::new_testimony))
        .route("/sources/{id}", get(records::source))
        .route("/records/{id}", get(records::any_record))
        .route("/records/{id}/history", get(journal::history))
        .route("/stats", get(stats::statistics))
        .route("/stats.csv", get(stats::statistics_csv))
        .route(
            "/verify",
            get(journal::verification).post(journal::run_check),
        )
        .route("/estimates", get(estimates::estimates))
        .route(
            "/admin/users",
            get(admin::admin_users).post(admin::add_user),
        )
        .route("/admin/keys", post(admin::add_key))
        .route("/admin/keys/revoke", post(admin::revoke_key))
        .route("/admin/user", post(admin::change_user))
        .route("/admin/second-factor", post(admin::change_second_factor))
        .route("/admin/forget", get(admin::forget_form).post(admin::forget))
        .route(
            "/admin/consent",
            get(admin::consent_form).post(admin::widen_consent),
        )
        .route(
            "/admin/encryption",
            get(admin::encryption).post(admin::change_encryption),
        )
        .route("/review", get(review::review_queue))
        .route(
            "/review/{number}",
            get(review::review_proposal).post(review::decide_proposal),
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
fieldset{margin-top:.8rem;border:1px solid #ccc;border-radius:4px;max-width:36rem}legend{font-weight:600}
label.check{font-weight:normal;display:flex;gap:.5rem;align-items:center;margin-top:.2rem}label.check input{width:auto}
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
                                a href="/events" { (lang.t("Events", "사건")) }
                            }
                            @if principal.user.role.can_write() {
                                a href="/review" { (lang.t("Duplicates", "중복 검토")) }
                            }
                            @if principal.user.role == Role::Admin {
                                a href="/admin/users" { (lang.t("Users", "사용자")) }
                                a href="/admin/encryption" { (lang.t("Encryption", "암호화")) }
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

/// A random identifier suffix or token.
fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).expect("the operating system's random source");
    hex::encode(buffer)
}

/// A form that carries nothing but its CSRF token.
#[derive(Deserialize)]
pub(super) struct CsrfForm {
    #[serde(default)]
    csrf: String,
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

/// Where a record is shown.
fn link_of(kind: &str, id: &RecordId) -> String {
    match kind {
        "person" => format!("/persons/{id}"),
        "source" => format!("/sources/{id}"),
        _ => format!("/records/{id}"),
    }
}
