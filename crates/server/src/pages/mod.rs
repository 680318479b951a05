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
use girok_store::{Database, LockState, Store, StoreError};
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

mod account;
mod acts;
mod admin;
mod backups;
mod casefile;
mod dashboard;
mod editor;
mod estimates;
mod evidence;
mod exports;
mod imports;
mod jobs;
mod journal;
mod login;
mod organisations;
mod pickers;
mod readable;
mod records;
mod review;
mod stats;
mod upload;

pub use stats::{StatsRefusal, Tabulated, tabulate};

/// The pages, with error pages inside the application: a refusal or a
/// missing page is shown with the menu, in the reader's language.
pub fn routes(app: &Arc<App>) -> Router<Arc<App>> {
    Router::new()
        .route("/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
        .route("/picker.js", get(pickers::script))
        .route("/progress.js", get(progress_script))
        .route("/pick/{kind}", get(pickers::suggestions))
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
        .route("/persons/{id}", get(records::any_record))
        .route("/persons/{id}/acts", post(acts::create_act))
        .route("/persons/{id}/case-file", get(casefile::case_file))
        .route("/records/{id}/edit", get(editor::edit).post(editor::save))
        .route("/events", get(records::events))
        .route(
            "/events/new",
            get(editor::new_event).post(editor::create_event),
        )
        .route("/persons/{id}/acts/new", get(acts::new_act))
        .route("/records/{id}/sources/new", get(acts::new_attestation))
        .route("/records/{id}/sources", post(acts::create_attestation))
        .route(
            "/sources",
            get(records::sources).post(records::create_testimony),
        )
        .route("/sources/new", get(records::new_testimony))
        .route("/sources/{id}", get(records::any_record))
        .route("/sources/{id}/evidence/new", get(evidence::new_evidence))
        .route(
            "/sources/{id}/evidence",
            // The upload limit is checked while the file streams in; this only lifts axum's default.
            post(evidence::upload).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/records/{id}/download", get(evidence::download))
        .route(
            "/import",
            // As for evidence: the upload limit is checked while the file streams in.
            get(imports::import_form)
                .post(imports::check)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/import/confirm", post(imports::confirm))
        .route("/records/{id}", get(records::any_record))
        .route(
            "/account",
            get(account::account).post(account::set_time_zone),
        )
        .route("/records/{id}/history", get(journal::history))
        .route("/records/{id}/proof", post(journal::proof_bundle))
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
        .route(
            "/admin/organisations",
            get(organisations::organisations).post(organisations::change),
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
        .route(
            "/admin/backups",
            get(backups::backups).post(backups::start_backup),
        )
        .route("/admin/backups/{id}/download", get(backups::download))
        .route("/review", get(review::review_queue))
        .route("/review/link", post(jobs::start_linkage))
        .route(
            "/exports",
            get(exports::exports_page).post(exports::start_export),
        )
        .route("/exports/{id}/download", get(exports::download))
        .route("/jobs", get(jobs::jobs_page))
        .route("/jobs/{id}", get(jobs::job_page))
        .route("/jobs/{id}/again", post(jobs::run_again))
        .route("/persons/{id}/unmerge", post(review::unmerge))
        .route(
            "/review/{number}",
            get(review::review_proposal).post(review::decide_proposal),
        )
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            inside_the_application,
        ))
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

    /// An error as a reader sees it: its Korean for a Korean reader when it
    /// has one (a refusal), else its English.
    fn said(self, error: &dyn std::fmt::Display, korean: Option<String>) -> String {
        match korean {
            Some(korean) if self == Lang::Ko => korean,
            _ => error.to_string(),
        }
    }

    /// The words that follow a count of `n`: English says "1 row" and
    /// "2 rows"; Korean has one form.
    fn counted<'a>(self, n: u64, one: &'a str, many: &'a str, ko: &'a str) -> &'a str {
        match self {
            Lang::En if n == 1 => one,
            Lang::En => many,
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
header{background:#1f3a5f;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center}
header a{color:#fff;text-decoration:none}header nav{display:flex;flex-wrap:wrap;gap:.3rem 1rem;flex:1}header form{display:inline}
header button{background:none;border:1px solid #fff;color:#fff;border-radius:4px;padding:.2rem .6rem;cursor:pointer}
main{max-width:64rem;margin:1rem auto;padding:0 1rem}h1{font-size:1.5rem}table{border-collapse:collapse;width:100%}
td,th{padding:.35rem .5rem;border-bottom:1px solid #e5e5e5;text-align:left;vertical-align:top}td.n,th.n{text-align:right}
table.fields>tbody>tr>th,table.fields>tr>th{width:14rem;font-weight:600}td ul,dd ul{margin:0;padding-left:1.2rem}
label{display:block;margin-top:.8rem;font-weight:600}input,select,textarea{font:inherit;padding:.45rem;width:100%;max-width:36rem;border:1px solid #999;border-radius:4px}
a.button{display:inline-block;margin-top:.6rem;background:#1f3a5f;color:#fff;border-radius:4px;padding:.55rem 1.2rem;text-decoration:none}
button.primary{display:block;margin-top:1rem;background:#1f3a5f;color:#fff;border:0;border-radius:4px;padding:.55rem 1.2rem;font:inherit;cursor:pointer}
.error{color:#a31515;font-weight:600}.field-error input,.field-error select{border-color:#a31515}.hint{color:#555;font-size:.9rem}
.cards{display:flex;flex-wrap:wrap;gap:1rem}.card{border:1px solid #ddd;border-radius:6px;padding:.8rem 1.2rem;min-width:9rem}.card b{font-size:1.6rem;display:block}
.withheld{color:#777;font-style:italic}.kind{color:#555;margin-top:-.6rem}.text{white-space:pre-wrap}
.saved{border:1px solid #2e7d32;background:#eef7ee;border-radius:6px;padding:.2rem 1rem;margin-bottom:1rem}
.notice{border:1px solid #9a6700;background:#fff8e1;border-radius:6px;padding:.5rem 1rem;margin-bottom:1rem}
del{background:#fbe9e9;text-decoration:line-through}ins{background:#e6f4e6;text-decoration:none}
table.diff{margin-top:.3rem}table.diff th{white-space:nowrap;width:1%}table.diff td{width:49%}
.warn{background:#fff4e5;border-left:4px solid #e8a33d;padding:.4rem .8rem;margin:.4rem 0}ol.history{list-style:none;padding:0}ol.history>li{border-bottom:1px solid #ccc;padding:.6rem 0}p.entry{margin:0}
details{margin-top:1.2rem}fieldset{margin-top:.8rem;border:1px solid #ccc;border-radius:4px;max-width:36rem}legend{font-weight:600}
label.check{font-weight:normal;display:flex;gap:.5rem;align-items:center;margin-top:.2rem}label.check input{width:auto}
@media (max-width:60rem){header{padding:.4rem .8rem}header nav{order:9;flex:1 0 100%;flex-wrap:wrap;gap:.2rem .9rem;white-space:nowrap;font-size:.95rem}
header .who{margin-left:auto}table.fields>tbody>tr>th,table.fields>tr>th{width:auto}
td{overflow-wrap:anywhere}}
@media print{@page{size:A4;margin:16mm 14mm}body{font-size:10.5pt;color:#000}header,.actions,.next,.saved,form,button{display:none!important}
main{max-width:none;margin:0;padding:0}a{color:#000;text-decoration:none}h1{font-size:15pt;margin-top:0}h2{font-size:12pt;break-after:avoid}h3,h4{break-after:avoid}section.act{break-inside:avoid-page}code{word-break:break-all}
tr,li{break-inside:avoid}td,th{padding:.2rem .4rem;border-bottom:1px solid #999}.withheld,.hint,.kind{color:#333}.printed{display:block!important}}
button.default-submit{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}.pick-row{display:flex;gap:.4rem;max-width:36rem}.pick-row input{flex:1}button.find{font:inherit;padding:.3rem .8rem;border:1px solid #1f3a5f;background:#fff;color:#1f3a5f;border-radius:4px;cursor:pointer}
ul.choices,ul.suggestions{list-style:none;padding:0;margin:.3rem 0;max-width:36rem}ul.choices li,ul.suggestions li{margin:.15rem 0}
ul.choices button,ul.suggestions button{font:inherit;text-align:left;background:#f3f6fa;border:1px solid #b8c4d4;border-radius:4px;padding:.3rem .6rem;cursor:pointer}
.printed{display:none;margin-top:1.5rem;font-size:9pt;color:#333;border-top:1px solid #999}
";

/// The application's icon: a page of records, drawn inline (nothing fetched).
const FAVICON: &str = "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'><rect width='32' height='32' rx='6' fill='#1f3a5f'/><path d='M9 7h11l4 4v14H9z' fill='#fff'/><path d='M12 14h9M12 18h9M12 22h6' stroke='#1f3a5f' stroke-width='2'/></svg>";

async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
        .into_response()
}

fn layout(lang: Lang, principal: Option<&Principal>, title: &str, body: Markup) -> Markup {
    layout_refreshed(lang, principal, title, body, None)
}

/// A page that keeps itself up to date every `refresh` seconds, where given
/// (a job in progress). A small script fetches the page again and puts the
/// fresh content in place, and the reader may pause it; without scripts a
/// link shows the progress now. No `<meta http-equiv=refresh>`: a page
/// that reloads itself on a timer moves the reader's focus and place.
fn layout_refreshed(
    lang: Lang,
    principal: Option<&Principal>,
    title: &str,
    body: Markup,
    refresh: Option<u32>,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Girok 기록" }
                link rel="icon" type="image/svg+xml" href="/favicon.svg";
                style { (PreEscaped(STYLE)) }
                @if principal.is_some_and(|p| p.user.role.sees_witnesses()) {
                    script src="/picker.js" defer {}
                }
                @if refresh.is_some() {
                    script src="/progress.js" defer {}
                }
            }
            body {
                header {
                    a href="/" { strong { "Girok 기록" } }
                    @if let Some(principal) = principal {
                        nav aria-label=(lang.t("Menu", "메뉴")) {
                            a href="/" { (lang.t("Dashboard", "대시보드")) }
                            @if principal.user.role.reads_records() {
                                a href="/persons" { (lang.t("Persons", "인물")) }
                                a href="/sources" { (lang.t("Sources", "출처")) }
                                a href="/events" { (lang.t("Events", "사건")) }
                            }
                            @if principal.user.role.can_write() {
                                a href="/review" { (lang.t("Duplicates", "중복 검토")) }
                                a href="/jobs" { (lang.t("Jobs", "작업")) }
                                a href="/import" { (lang.t("Import", "가져오기")) }
                            }
                            @if principal.user.role == Role::Admin {
                                a href="/admin/users" { (lang.t("Users", "사용자")) }
                                a href="/admin/encryption" { (lang.t("Encryption", "암호화")) }
                                a href="/admin/organisations" { (lang.t("Organisations", "기관")) }
                                a href="/admin/backups" { (lang.t("Backups", "백업")) }
                            }
                            a href="/stats" { (lang.t("Statistics", "통계")) }
                            @if principal.user.role.reads_records() {
                                a href="/estimates" { (lang.t("Estimates", "추정")) }
                                a href="/exports" { (lang.t("Export", "내보내기")) }
                                a href="/verify" { (lang.t("Verification", "검증")) }
                            }
                        }
                        a.who href="/account" title=(lang.t("Your account and time zone", "내 계정과 시간대")) { (principal.user.name) " (" (role_label(lang, principal.user.role)) ")" }
                    } @else {
                        nav {}
                    }
                    a href=(format!("/lang/{}", if lang == Lang::En { "ko" } else { "en" })) id="switch-language" {
                        (lang.t("한국어", "English"))
                    }
                    @if let Some(principal) = principal {
                        form method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(principal.csrf());
                            button type="submit" { (lang.t("Sign out", "로그아웃")) }
                        }
                    }
                }
                main data-refresh=[refresh] data-pause=[refresh.map(|_| lang.t("Pause updates", "자동 갱신 멈춤"))]
                    data-resume=[refresh.map(|_| lang.t("Resume updates", "자동 갱신 다시 시작"))] {
                    h1 { (title) }
                    @if refresh.is_some() {
                        noscript { p { a href="" { (lang.t("Show the progress now", "지금 진행 상황 보기")) } } }
                    }
                    (body)
                    @if let Some(principal) = principal {
                        // Only on paper: who printed it and when, for the file it goes into.
                        p.printed {
                            (lang.t("Printed from Girok by", "Girok에서 출력:")) " " (principal.user.name) ", "
                            (readable::local_time(&girok_journal::format_time(chrono::Utc::now()), principal.time_zone()))
                        }
                    }
                }
            }
        }
    }
}

/// Keeps a page with `main[data-refresh]` up to date: every so many seconds
/// it fetches the page again and puts the fresh `main` in place of the old
/// one, until the fresh page no longer asks to be refreshed (the job ended).
/// A button pauses and resumes it.
const PROGRESS_SCRIPT: &str = r#"(function(){
"use strict";
var main=document.querySelector("main[data-refresh]");
if(!main)return;
var seconds=Number(main.dataset.refresh)||2,paused=false,timer=null;
var button=document.createElement("button");
button.type="button";button.id="pause-updates";button.setAttribute("aria-pressed","false");
button.textContent=main.dataset.pause;
button.addEventListener("click",function(){
  paused=!paused;button.setAttribute("aria-pressed",String(paused));
  button.textContent=paused?main.dataset.resume:main.dataset.pause;
  if(!paused)schedule();
});
main.querySelector("h1").after(button);
function schedule(){clearTimeout(timer);timer=setTimeout(update,seconds*1000);}
function update(){
  if(paused)return;
  fetch(location.href,{credentials:"same-origin",headers:{"Accept":"text/html"}})
    .then(function(r){return r.ok?r.text():null;})
    .then(function(html){
      if(html===null||paused){schedule();return;}
      var fresh=new DOMParser().parseFromString(html,"text/html").querySelector("main");
      if(!fresh){schedule();return;}
      var still=fresh.hasAttribute("data-refresh");
      var noscript=fresh.querySelector("noscript");if(noscript)noscript.remove();
      Array.prototype.slice.call(main.children).forEach(function(child){if(child!==button&&child.tagName!=="H1")child.remove();});
      Array.prototype.slice.call(fresh.children).forEach(function(child){if(child.tagName!=="H1")main.appendChild(child);});
      if(still){schedule();}else{button.remove();main.removeAttribute("data-refresh");}
    }).catch(function(){schedule();});
}
schedule();
})();
"#;

async fn progress_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        PROGRESS_SCRIPT,
    )
        .into_response()
}

/// A role as the reader's language names it.
fn role_label(lang: Lang, role: Role) -> &'static str {
    match role {
        Role::Viewer => lang.t("viewer", "열람자"),
        Role::Analyst => lang.t("analyst", "분석가"),
        Role::Documenter => lang.t("documenter", "기록 담당자"),
        Role::Admin => lang.t("admin", "관리자"),
    }
}

fn page(lang: Lang, principal: &Principal, title: &str, body: Markup) -> Response {
    layout(lang, Some(principal), title, body).into_response()
}

/// An error page's words, kept on the response so that
/// `inside_the_application` can show them with the reader's menu and language.
#[derive(Clone)]
struct ErrorPage {
    title: String,
    detail: String,
}

/// The page for something looked up by id that is not there; `there_is_no`
/// names what was looked for, in English and Korean.
fn no_such(lang: Lang, there_is_no: (&str, &str), id: &str) -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        lang.t("Not found", "찾을 수 없음"),
        &format!("{} {id}", lang.t(there_is_no.0, there_is_no.1)),
    )
}

/// An error shown as a page. Refusals are worded where they are decided,
/// in English; the reader's language and menu are added on the way out.
pub fn error_page(status: StatusCode, title: &str, detail: &str) -> Response {
    let mut response = (
        status,
        layout(Lang::En, None, title, html! { p { (detail) } }),
    )
        .into_response();
    response.extensions_mut().insert(ErrorPage {
        title: title.to_string(),
        detail: detail.to_string(),
    });
    response
}

/// Korean for the refusals the sign-in checks word in English.
fn korean_refusal(text: &str) -> Option<&'static str> {
    Some(match text {
        "Not allowed for your role" => "권한이 없습니다",
        "this needs the admin role" => "관리자 권한이 필요합니다",
        "this needs the documenter role (viewers and analysts only read)" => {
            "기록 담당자 권한이 필요합니다 (열람자와 분석가는 읽기만 할 수 있습니다)"
        }
        "this needs the analyst role or above (viewers see public statistics only)" => {
            "분석가 이상의 권한이 필요합니다 (열람자는 공개 통계만 볼 수 있습니다)"
        }
        "Missing or wrong CSRF token" => "양식의 보안 토큰이 없거나 맞지 않습니다",
        "reload the page and submit the form again" => {
            "페이지를 새로 고친 뒤 양식을 다시 제출하세요"
        }
        "Internal error" => "내부 오류",
        "Not found" => "찾을 수 없음",
        _ => return None,
    })
}

/// Error pages inside the application: the menu of whoever is signed in and
/// their language, so a refusal or a wrong address is not a dead end.
async fn inside_the_application(
    State(app): State<Arc<App>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let headers = request.headers().clone();
    let response = next.run(request).await;
    let Some(error) = response.extensions().get::<ErrorPage>().cloned() else {
        return response;
    };
    let lang = Lang::of(&headers);
    // A session still setting up its second factor may do nothing else: no menu.
    let principal = crate::auth::principal(&app, &headers, Flavor::Page)
        .ok()
        .flatten()
        .filter(|p| !p.session.as_ref().is_some_and(|(_, s)| s.second_factor_due));
    let words = |text: &str| match (lang, korean_refusal(text)) {
        (Lang::Ko, Some(korean)) => korean.to_string(),
        _ => text.to_string(),
    };
    let forbidden = response.status() == StatusCode::FORBIDDEN;
    let body = html! {
        p role="alert" { (words(&error.detail)) }
        @if let (true, Some(principal)) = (forbidden, principal.as_ref()) {
            p.hint {
                (lang.t("You are signed in as", "현재 로그인:")) " " (principal.user.name) " (" (role_label(lang, principal.user.role)) "). "
                (lang.t("If your work needs this, ask an administrator of this installation to change your role.",
                        "업무에 필요하면 이 설치의 관리자에게 역할 변경을 요청하세요."))
            }
        }
        p { a href="/" { (lang.t("Back to the dashboard", "대시보드로 돌아가기")) } }
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let page = layout(lang, principal.as_ref(), &words(&error.title), body).into_string();
    Response::from_parts(parts, axum::body::Body::from(page))
}

/// No page at this address (the API answers its own 404s).
async fn not_found(headers: HeaderMap, uri: axum::http::Uri) -> Response {
    if uri.path() == "/api" || uri.path().starts_with("/api/") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let lang = Lang::of(&headers);
    error_page(
        StatusCode::NOT_FOUND,
        lang.t("Not found", "찾을 수 없음"),
        lang.t(
            "There is no page at this address.",
            "이 주소에는 페이지가 없습니다.",
        ),
    )
}

/// After a form saved a record: its page, with a confirmation and next steps.
fn saved(kind: RecordKind, id: &RecordId) -> Response {
    Redirect::to(&format!("{}?saved=1", link_of(kind.as_str(), id))).into_response()
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

/// A place as its reader writes it: its name in their language when that
/// name reads back as the same place (a name two places share does not),
/// else its key.
fn place_shown(vocabularies: &girok_model::Vocabularies, lang: Lang, key: &str) -> String {
    let places = vocabularies.get(girok_model::VocabKind::Place);
    places
        .get(key)
        .map(|term| lang.t(&term.en, &term.ko).to_string())
        .filter(|name| places.resolve(name).is_ok_and(|term| term.key == key))
        .unwrap_or_else(|| key.to_string())
}

/// The list offered under a field that takes any spelling of a place: each
/// place as its reader writes it (what picking one puts in the field), with
/// its names in both languages.
fn place_options(vocabularies: &girok_model::Vocabularies, lang: Lang) -> Vec<(String, String)> {
    vocabularies
        .get(girok_model::VocabKind::Place)
        .terms()
        .iter()
        .map(|term| {
            (
                place_shown(vocabularies, lang, &term.key),
                format!("{} · {}", term.en, term.ko),
            )
        })
        .collect()
}

/// Options of the organisation picker: the organisations, not the spellings merged into them.
fn organisation_options(vocabularies: &girok_model::Vocabularies) -> Vec<(String, String)> {
    vocabularies
        .get(girok_model::VocabKind::Organisation)
        .terms()
        .iter()
        .filter(|term| term.class.as_deref() != Some(girok_model::MERGED_SPELLING))
        .map(|term| (term.key.clone(), format!("{} · {}", term.en, term.ko)))
        .collect()
}

/// The organisation typed in a form (its key or any spelling, a merged one
/// included) as the key of the organisation it names; the forms record
/// organisations of the vocabulary only.
fn organisation_key(
    vocabularies: &girok_model::Vocabularies,
    text: &str,
) -> Result<String, girok_model::Wording> {
    if let Some(term) = vocabularies.organisation(text) {
        return Ok(term.key.clone());
    }
    let (close, close_ko) = match vocabularies
        .get(girok_model::VocabKind::Organisation)
        .unknown(text)
    {
        girok_model::TermError::Unknown { close, .. } if !close.is_empty() => (
            format!(" (did you mean {}?)", close.join(", ")),
            format!(" (혹시 {}?)", close.join(", ")),
        ),
        _ => (String::new(), String::new()),
    };
    let typed = girok_model::printable::line(text.trim());
    Err(girok_model::Wording::new(
        format!(
            "'{typed}' is not an organisation of the vocabulary{close}: choose one from the list; an admin adds organisations and merges other spellings on the Organisations page"
        ),
        format!(
            "“{typed}”은(는) 기관 어휘에 없습니다{close_ko}. 목록에서 고르세요. 새 기관 추가와 다른 표기 병합은 관리자가 기관 페이지에서 합니다."
        ),
    ))
}

/// Where a record is shown.
fn link_of(kind: &str, id: &RecordId) -> String {
    match kind {
        "person" => format!("/persons/{id}"),
        "source" => format!("/sources/{id}"),
        _ => format!("/records/{id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn a_count_of_one_takes_the_singular_in_english() {
        let words = |lang: Lang, n| lang.counted(n, "row", "rows", "행");
        assert_eq!(words(Lang::En, 1), "row");
        assert_eq!(words(Lang::En, 0), "rows");
        assert_eq!(words(Lang::En, 2), "rows");
        assert_eq!(words(Lang::Ko, 1), "행");
    }
}
