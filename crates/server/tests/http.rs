//! Every route and every role over HTTP, in process: who may read and
//! write what, CSRF on every form, rate-limited sign-in, problem+json
//! errors naming the field, and witnesses' names never reaching analysts.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use girok_server::App;
use girok_server::access::{Role, Scope, SecondFactor};
use girok_store::Store;
use http_body_util::BodyExt;
use tower::ServiceExt;

#[path = "../../store/tests/support/cluster.rs"]
mod cluster;
mod support;

use support::*;

#[tokio::test]
async fn signing_in_sets_a_strict_session_cookie_and_wrong_passwords_are_limited() {
    signing_in_sets_a_strict_session_cookie_and_wrong_passwords_are_limited_on(&Site::new()).await;
}

#[test]
fn signing_in_sets_a_strict_session_cookie_and_wrong_passwords_are_limited_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(signing_in_sets_a_strict_session_cookie_and_wrong_passwords_are_limited_on(&site));
}

async fn signing_in_sets_a_strict_session_cookie_and_wrong_passwords_are_limited_on(site: &Site) {
    // Anonymous pages send people to sign in; the API answers 401 problem+json.
    let reply = site.get("/persons", None).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let reply = site.get("/api/records?kind=persons", None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "application/problem+json"
    );

    let form = site.get("/login", None).await;
    let cookie = form.headers[header::SET_COOKIE].to_str().expect("cookie");
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("Secure")
            && cookie.contains("SameSite=Strict")
    );
    assert_eq!(form.headers["x-frame-options"], "DENY");
    assert!(
        form.headers["content-security-policy"]
            .to_str()
            .expect("csp")
            .contains("default-src 'self'")
    );

    // A sign-in form posted without this browser's token is refused.
    let forged = site
        .post_form(
            "/login",
            None,
            &format!("name=admin&password={PASSWORD}&token=forged"),
            None,
        )
        .await;
    assert!(forged.body.contains("expired"), "{}", forged.body);

    for _ in 0..girok_server::access::MAX_FAILURES {
        let reply = site
            .sign_in("documenter", "wrong password")
            .await
            .err()
            .expect("refused");
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    // Now even the right password waits.
    let reply = site
        .sign_in("documenter", PASSWORD)
        .await
        .err()
        .expect("limited");
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    // Other users are not locked out.
    assert!(site.sign_in("analyst", PASSWORD).await.is_ok());
}

#[tokio::test]
async fn each_role_reaches_exactly_its_pages() {
    roles_reach_exactly_their_pages(&Site::new()).await;
}

#[test]
fn each_role_reaches_exactly_its_pages_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(roles_reach_exactly_their_pages(&site));
}

async fn roles_reach_exactly_their_pages(site: &Site) {
    let pages = [
        "/",
        "/persons",
        "/persons?q=Eunju+Kim",
        "/persons/p-un-kim",
        "/sources",
        "/sources?q=UN",
        "/sources/s-un-2025-kim",
        "/sources/new",
        "/sources?witness=Eunju+Kim&kind=interview&consent=public",
        "/events",
        "/events/new",
        "/records/s-un-2025-kim/edit",
        "/records/p-un-kim/history",
        "/records/a-un-kim-torture",
        "/stats",
        "/stats?by=agency-class",
        "/verify",
        "/estimates",
        "/admin/users",
        "/admin/encryption",
        "/account",
        "/records/a-un-kim-torture/sources/new",
        "/persons/p-un-kim/acts/new",
        "/exports",
        "/api/records?kind=persons",
        "/api/records?kind=acts&refers_to=p-un-kim",
        "/api/records/p-un-kim",
        "/api/records/p-un-kim/history",
        "/api/stats?by=act-type",
        "/api/openapi.json",
    ];
    for role in Role::ALL {
        let session = site.session(role.name()).await;
        for path in pages {
            let reply = site.get(path, Some(&session)).await;
            let public = matches!(path, "/" | "/api/openapi.json" | "/account")
                || path.starts_with("/stats")
                || path.starts_with("/api/stats");
            let allowed = match path {
                _ if public => true,
                "/sources/new"
                | "/events/new"
                | "/records/s-un-2025-kim/edit"
                | "/records/a-un-kim-torture/sources/new"
                | "/persons/p-un-kim/acts/new" => role.can_write(),
                "/admin/users" | "/admin/encryption" => role == Role::Admin,
                _ => role.reads_records(),
            };
            assert_eq!(
                reply.status.is_success(),
                allowed,
                "{} on {path}: {} {}",
                role.name(),
                reply.status,
                &reply.body[..reply.body.len().min(300)]
            );
            if !allowed {
                assert_eq!(
                    reply.status,
                    StatusCode::FORBIDDEN,
                    "{} on {path}",
                    role.name()
                );
            }
        }
    }
}

#[tokio::test]
async fn analysts_receive_neither_source_titles_nor_blind_indexes() {
    let site = Site::encrypted("correct horse battery staple");
    let analyst = site.session("analyst").await;
    let documenter = site.session("documenter").await;
    let title = "TJWG report on enforced disappearances";
    let report = "/api/records/s-tjwg-2024";
    assert!(
        site.get(report, Some(&documenter))
            .await
            .body
            .contains(title)
    );
    assert!(!site.get(report, Some(&analyst)).await.body.contains(title));
    let stored = girok_store::Database::open(&site.dir.path().join("girok.sqlite"))
        .expect("open")
        .get(&girok_model::RecordId::new("p-un-kim"))
        .expect("get")
        .expect("stored");
    let blind = &stored.record.sealed().expect("sealed").blind;
    assert!(!blind.is_empty(), "the test must look for blind indexes");
    for path in [
        "/api/records?kind=persons&limit=500",
        "/api/records?kind=sources&limit=500",
        "/api/records/p-un-kim",
    ] {
        let seen = site.get(path, Some(&analyst)).await;
        assert!(seen.status.is_success(), "{path}: {}", seen.status);
        for index in blind {
            assert!(
                !seen.body.contains(index.as_str()),
                "{path} gives an analyst a blind index"
            );
        }
        assert!(
            !seen.body.contains(title),
            "{path} gives an analyst a report's title"
        );
    }
}

#[tokio::test]
async fn analysts_never_receive_a_witness_name() {
    analysts_never_receive_a_witness_name_on(&Site::new()).await;
}

#[test]
fn analysts_never_receive_a_witness_name_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(analysts_never_receive_a_witness_name_on(&site));
}

async fn analysts_never_receive_a_witness_name_on(site: &Site) {
    let analyst = site.session("analyst").await;
    let documenter = site.session("documenter").await;
    let witness_names = [
        "Kim Eun-joo",
        "Eunju Kim",
        "김은주",
        "Kang Gyu-ri",
        "Gyuri Kang",
        "강규리",
    ];
    let paths = [
        "/persons",
        "/persons/p-un-kim",
        "/persons/p-ko-kim",
        "/sources",
        "/sources/s-un-2025-kim",
        "/sources?witness=Eunju+Kim",
        "/events",
        "/records/p-un-kim/history",
        "/records/s-un-2025-kim/history",
        "/api/records?kind=persons&limit=500",
        "/api/records?kind=sources&limit=500",
        "/api/records?kind=acts&limit=500",
        "/api/records?kind=events&limit=500",
        "/api/records/e-covid-executions",
        "/records/e-covid-executions",
        "/api/records/p-un-kim",
        "/api/records/p-un-kim/history",
        "/",
    ];
    let mut documenter_saw = 0;
    for path in paths {
        let seen = site.get(path, Some(&analyst)).await;
        assert!(seen.status.is_success(), "{path}: {}", seen.status);
        for name in witness_names {
            assert!(
                !seen.body.contains(name),
                "{path} shows {name} to an analyst"
            );
        }
        let full = site.get(path, Some(&documenter)).await;
        documenter_saw += witness_names
            .iter()
            .filter(|n| full.body.contains(*n))
            .count();
    }
    assert!(documenter_saw > 0, "the test must look where names are");
    // Searching by a witness's name must not reveal them to an analyst either.
    let search = site.get("/persons?q=Eunju+Kim", Some(&analyst)).await;
    assert!(!search.body.contains("Eunju"), "{}", search.body);
    let search = site
        .get("/api/records?kind=persons&name=Eunju+Kim", Some(&analyst))
        .await;
    assert_eq!(search.status, StatusCode::FORBIDDEN, "{}", search.body);
    assert!(
        search.body.contains("\"field\":\"name\""),
        "{}",
        search.body
    );
}

#[tokio::test]
async fn viewers_and_analysts_cannot_write_and_forms_need_the_csrf_token() {
    viewers_and_analysts_cannot_write_and_forms_need_the_csrf_token_on(&Site::new()).await;
}

#[test]
fn viewers_and_analysts_cannot_write_and_forms_need_the_csrf_token_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(viewers_and_analysts_cannot_write_and_forms_need_the_csrf_token_on(&site));
}

async fn viewers_and_analysts_cannot_write_and_forms_need_the_csrf_token_on(site: &Site) {
    let testimony = |csrf: &str| {
        format!(
            "csrf={csrf}&title=Testimony+of+a+new+witness&obtained=2024%EB%85%84+%EA%B0%80%EC%9D%84&witness=%EC%9D%B4%EC%98%81%EC%88%98&sex=male&consent=internal&language=ko&organisation=NKDB&notes="
        )
    };
    for role in [Role::Viewer, Role::Analyst] {
        let session = site.session(role.name()).await;
        let reply = site
            .post_form("/sources", Some(&session), &testimony(&session.csrf), None)
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", role.name());
        let reply = site
            .post_json(
                "/api/changes",
                &session,
                Some(&session.csrf),
                r#"{"changes":[]}"#,
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", role.name());
    }
    let documenter = site.session("documenter").await;
    let before = site.read(|store| store.head().expect("head").0);
    let forged = site
        .post_form("/sources", Some(&documenter), &testimony("forged"), None)
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let missing = site
        .post_json("/api/changes", &documenter, None, r#"{"changes":[]}"#)
        .await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert_eq!(site.read(|store| store.head().expect("head").0), before);

    // With the token: the witness and the testimony, written as the signed-in user.
    let created = site
        .post_form(
            "/sources",
            Some(&documenter),
            &testimony(&documenter.csrf),
            None,
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let location = created.headers[header::LOCATION]
        .to_str()
        .expect("location")
        .to_string();
    let page = site.get(&location, Some(&documenter)).await;
    assert!(
        page.body.contains("2024년 가을") || page.body.contains("autumn 2024"),
        "{}",
        page.body
    );
    let history = site.read(|store| store.recent(2).expect("recent"));
    assert!(history.iter().all(|row| row.entry.actor == "documenter"));
    // The demo's witness under three spellings: each page lists the others.
    let page = site.get("/persons/p-un-kim", Some(&documenter)).await;
    assert!(
        page.body.contains("p-media-kim") && page.body.contains("p-ko-kim"),
        "{}",
        page.body
    );
    // Found again by a romanized spelling of 이영수.
    let found = site
        .get("/persons?q=Lee+Young-soo", Some(&documenter))
        .await;
    assert!(found.body.contains("이영수"), "{}", found.body);
}

#[tokio::test]
async fn bad_input_gets_field_errors_and_changes_nothing() {
    bad_input_gets_field_errors_and_changes_nothing_on(&Site::new()).await;
}

#[test]
fn bad_input_gets_field_errors_and_changes_nothing_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(bad_input_gets_field_errors_and_changes_nothing_on(&site));
}

async fn bad_input_gets_field_errors_and_changes_nothing_on(site: &Site) {
    let documenter = site.session("documenter").await;
    let before = site.read(|store| store.head().expect("head").0);
    let reply = site
        .post_form(
            "/sources",
            Some(&documenter),
            &format!(
                "csrf={}&title=&obtained=the+day+after+tomorrow&witness=&consent=internal",
                documenter.csrf
            ),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body.contains("id=\"obtained-error\""),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("A title is required"));
    // API: malformed JSON, an unknown kind, an invalid change naming its field.
    let reply = site
        .post_json("/api/changes", &documenter, Some(&documenter.csrf), "{")
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("line 1"));
    let reply = site
        .get("/api/records?kind=spaceships", Some(&documenter))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("\"field\":\"kind\""));
    let change = r#"{"changes":[{"op":"create","record":{"type":"act","id":"a-new","act_type":"arrest","victim":"p-nobody"}}]}"#;
    let reply = site
        .post_json("/api/changes", &documenter, Some(&documenter.csrf), change)
        .await;
    assert!(
        reply.status.is_client_error(),
        "{} {}",
        reply.status,
        reply.body
    );
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "application/problem+json"
    );
    assert_eq!(site.read(|store| store.head().expect("head").0), before);
    let reply = site.get("/api/stats?by=colour", Some(&documenter)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("\"field\":\"by\""));
}

#[tokio::test]
async fn api_keys_write_typed_changes_without_csrf() {
    api_keys_write_typed_changes_without_csrf_on(&Site::new()).await;
}

#[test]
fn api_keys_write_typed_changes_without_csrf_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(api_keys_write_typed_changes_without_csrf_on(&site));
}

async fn api_keys_write_typed_changes_without_csrf_on(site: &Site) {
    let reply = site.post_changes_with_key(r#"{"changes":[{"op":"create","record":{"type":"person","id":"p-api","names":[{"text":"박동구","script":"hangul"}]}}]}"#).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let stored = site.read(|store| {
        store
            .history(&girok_model::RecordId::new("p-api"))
            .expect("history")
    });
    assert_eq!(stored[0].entry.actor, "documenter");
    let document = site.get("/api/openapi.json", None).await;
    let openapi: serde_json::Value = serde_json::from_str(&document.body).expect("json");
    assert_eq!(openapi["openapi"], "3.1.0");
    for path in [
        "/api/records",
        "/api/records/{id}",
        "/api/changes",
        "/api/stats",
    ] {
        assert!(openapi["paths"][path].is_object(), "{path}");
    }
}

#[tokio::test]
async fn the_interface_speaks_korean_and_english() {
    let site = Site::new();
    let session = site.session("documenter").await;
    let english = site.get("/", Some(&session)).await;
    assert!(english.body.contains("Dashboard") && english.body.contains("lang=\"en\""));
    let switch = site.get("/lang/ko?back=/persons", Some(&session)).await;
    assert_eq!(switch.headers[header::LOCATION], "/persons");
    let cookie = switch.headers[header::SET_COOKIE].to_str().expect("cookie");
    assert!(cookie.starts_with("girok_lang=ko"));
    let request = Request::builder()
        .uri("/")
        .header(
            header::COOKIE,
            format!("girok_session={}; girok_lang=ko", session.token),
        )
        .body(Body::empty())
        .expect("request");
    let korean = site.send(request).await;
    assert!(korean.body.contains("대시보드") && korean.body.contains("lang=\"ko\""));
    // The switch never redirects to another site.
    let away = site
        .get("/lang/en?back=//evil.example/", Some(&session))
        .await;
    assert_eq!(away.headers[header::LOCATION], "/");
}

#[tokio::test]
async fn the_language_switch_redirects_only_to_a_local_path() {
    let site = Site::new();
    // Browsers read a backslash as a slash and drop tabs and newlines, so each
    // of these would leave the site.
    for back in [
        "/%5Cevil.example/",
        "/%09/evil.example",
        "//evil.example",
        "/%5C/evil.example",
        "%5C%5Cevil.example",
        "https://evil.example/",
        "/%2F%2Fevil.example",
        "/%0A/evil.example",
        "/%20/evil.example",
        "evil.example",
    ] {
        let reply = site.get(&format!("/lang/en?back={back}"), None).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{back}");
        assert_eq!(reply.headers[header::LOCATION], "/", "{back}");
    }
    // A Referer naming a path that starts with '//' is refused too.
    let request = Request::builder()
        .uri("/lang/en")
        .header(header::REFERER, "https://evil.example//evil.example/")
        .body(Body::empty())
        .expect("request");
    assert_eq!(site.send(request).await.headers[header::LOCATION], "/");
    for back in ["/persons", "/records/a-1/history"] {
        let reply = site.get(&format!("/lang/en?back={back}"), None).await;
        assert_eq!(reply.headers[header::LOCATION], back);
    }
    let request = Request::builder()
        .uri("/lang/en")
        .header(
            header::REFERER,
            "https://girok.example/persons?name=Kim+Young-ho",
        )
        .body(Body::empty())
        .expect("request");
    assert_eq!(
        site.send(request).await.headers[header::LOCATION],
        "/persons?name=Kim+Young-ho"
    );
}

#[tokio::test]
async fn documenters_review_proposed_duplicates_with_the_explanation() {
    let site = Site::new();
    propose(&site, "p-media-kim", "p-un-kim");

    let analyst = site.session("analyst").await;
    assert_eq!(
        site.get("/review/1", Some(&analyst)).await.status,
        StatusCode::FORBIDDEN
    );
    let documenter = site.session("documenter").await;
    // The queue names no one; a proposal's page shows the records.
    let queue = site.get("/review", Some(&documenter)).await;
    assert!(queue.body.contains("p-un-kim") && queue.body.contains("/review/1"));
    assert!(!queue.body.contains("Kim Eun-joo"), "{}", queue.body);
    let shown = site.get("/review/1", Some(&documenter)).await;
    assert!(shown.body.contains("same Hangul possible") && shown.body.contains("+14.00"));
    assert!(shown.body.contains("Kim Eun-joo") && shown.body.contains("Eunju Kim"));
    assert_eq!(
        site.get("/review/7", Some(&documenter)).await.status,
        StatusCode::NOT_FOUND
    );

    let decide = |decision: &str, csrf: &str| {
        format!("csrf={csrf}&decision={decision}&reason=same+witness+in+UN+and+press")
    };
    let forged = site
        .post_form(
            "/review/1",
            Some(&documenter),
            &decide("same", "forged"),
            None,
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let confirmed = site
        .post_form(
            "/review/1",
            Some(&documenter),
            &decide("same", &documenter.csrf),
            None,
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    assert!(confirmed.body.contains("Recorded as journal entry"));
    let decisions = site
        .app
        .read(|store| store.link_decisions().expect("decisions"));
    assert_eq!(decisions.same.len(), 1);
    let last = site.read(|store| store.recent(1).expect("recent"));
    assert_eq!(last[0].entry.actor, "documenter");
    // A decided proposal leaves the queue, and takes no second decision.
    let queue = site.get("/review", Some(&documenter)).await;
    assert!(!queue.body.contains("/review/1"), "{}", queue.body);
    // The merge shows on each person's page, by id (analysts see it too).
    let merged = site.get("/persons/p-un-kim", Some(&analyst)).await;
    assert!(
        merged.body.contains("Merged by reviewers")
            && merged.body.contains("href=\"/persons/p-media-kim\""),
        "{}",
        merged.body
    );
    let contradiction = site
        .post_form(
            "/review/1",
            Some(&documenter),
            &decide("different", &documenter.csrf),
            None,
        )
        .await;
    // Merged records are not kept apart before they are unmerged: the page offers the unmerge.
    assert_eq!(
        contradiction.status,
        StatusCode::OK,
        "{}",
        contradiction.body
    );
    assert!(
        contradiction.body.contains("value=\"unmerge-different\""),
        "{}",
        contradiction.body
    );
    assert!(
        site.app
            .read(|store| store.link_decisions().expect("decisions"))
            .different
            .is_empty()
    );
}

#[tokio::test]
async fn a_locked_server_shows_no_name_in_a_proposal_and_every_read_is_audited() {
    let site = Site::encrypted("correct horse battery staple");
    propose(&site, "p-media-kim", "p-un-kim");
    let documenter = site.session("documenter").await;
    let log = girok_service::open_audit_log(&site.app.data).expect("audit");

    site.app.lock();
    let before = log.entries().expect("entries").len();
    for path in ["/review", "/review/1"] {
        let locked = site.get(path, Some(&documenter)).await;
        assert!(locked.status.is_success(), "{path}: {}", locked.body);
        assert!(
            !locked.body.contains("Kim Eun-joo") && !locked.body.contains("Eunju Kim"),
            "{path}: {}",
            locked.body
        );
    }
    assert!(
        site.get("/review/1", Some(&documenter))
            .await
            .body
            .contains("The database is locked")
    );
    assert_eq!(log.entries().expect("entries").len(), before);

    site.app
        .unlock(&girok_store::Unlock::Passphrase(
            "correct horse battery staple".into(),
        ))
        .expect("unlock");
    let shown = site.get("/review/1", Some(&documenter)).await;
    assert!(
        shown.body.contains("Kim Eun-joo") && shown.body.contains("Eunju Kim"),
        "{}",
        shown.body
    );
    let entries = log.entries().expect("entries");
    assert!(
        entries.iter().any(|e| e.actor == "documenter"
            && e.action == "GET /review/1"
            && e.subjects == ["p-media-kim", "p-un-kim"]),
        "{entries:?}"
    );
    // The queue still decrypts nothing: it shows ids and scores.
    let before = entries.len();
    let queue = site.get("/review", Some(&documenter)).await;
    assert!(queue.body.contains("p-un-kim") && !queue.body.contains("Kim Eun-joo"));
    assert_eq!(log.entries().expect("entries").len(), before);
}

#[tokio::test]
async fn acts_are_recorded_with_vocabulary_pickers_and_any_spelling_of_a_place() {
    acts_are_recorded_with_vocabulary_pickers_and_any_spelling_of_a_place_on(&Site::new()).await;
}

#[test]
fn acts_are_recorded_with_vocabulary_pickers_and_any_spelling_of_a_place_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(acts_are_recorded_with_vocabulary_pickers_and_any_spelling_of_a_place_on(&site));
}

async fn acts_are_recorded_with_vocabulary_pickers_and_any_spelling_of_a_place_on(site: &Site) {
    let analyst = site.session("analyst").await;
    assert_eq!(
        site.get("/persons/p-un-kim/acts/new", Some(&analyst))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let documenter = site.session("documenter").await;
    let form = site
        .get("/persons/p-un-kim/acts/new", Some(&documenter))
        .await;
    assert!(
        form.body.contains("Public execution · 공개처형")
            && form.body.contains("<datalist id=\"places\"")
    );
    // Picking a place from the list puts its name in the reader's language in the field, not its key.
    assert!(
        form.body
            .contains("<option value=\"Hoeryong\">Hoeryong · 회령</option>"),
        "{}",
        form.body
    );
    let korean = site
        .get_in("/persons/p-un-kim/acts/new", &documenter, "ko")
        .await;
    assert!(
        korean
            .body
            .contains("<option value=\"회령\">Hoeryong · 회령</option>"),
        "{}",
        korean.body
    );
    let act = |place: &str, csrf: &str| {
        format!(
            "csrf={csrf}&act_type=arrest&date=2019%EB%85%84+%EA%B0%80%EC%9D%84&place={place}&age=19&agency=mss&source=s-un-2025-kim&relation=self&description="
        )
    };
    let before = site.read(|store| store.head().expect("head").0);
    let bad = site
        .post_form(
            "/persons/p-un-kim/acts",
            Some(&documenter),
            &act("Atlantis", &documenter.csrf),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"place-error\""), "{}", bad.body);
    assert_eq!(site.read(|store| store.head().expect("head").0), before);
    let saved = site
        .post_form(
            "/persons/p-un-kim/acts",
            Some(&documenter),
            &act("Hoery%C5%8Fng", &documenter.csrf),
            None,
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let written = site.read(|store| store.recent(3).expect("recent"));
    assert_eq!(
        written.len(),
        3,
        "act, involvement and information in one batch"
    );
    let acts = site
        .get("/api/records?kind=acts&limit=500", Some(&documenter))
        .await;
    assert!(
        acts.body.contains("\"place\":\"hoeryong\"") && acts.body.contains("2019"),
        "{}",
        acts.body
    );
}

#[tokio::test]
async fn estimates_say_what_they_cannot_estimate() {
    let site = Site::new();
    let analyst = site.session("analyst").await;
    for (query, status, expected, korean) in [
        (
            "",
            StatusCode::OK,
            "no individual is on more than one list",
            "두 목록 이상에 함께 있는 사람이 없습니다",
        ),
        (
            "&proposals=1",
            StatusCode::BAD_REQUEST,
            "run linkage first",
            "먼저 연결을 실행하십시오",
        ),
        (
            "&where=colour%3Dred",
            StatusCode::BAD_REQUEST,
            "no dimension 'colour'",
            "'colour'(이)라는 차원은 없습니다",
        ),
    ] {
        let path = format!("/estimates?run=1{query}");
        let page = site.get(&path, Some(&analyst)).await;
        assert_eq!(page.status, status, "{query}");
        assert!(page.body.contains(expected), "{query}: {}", page.body);
        let page = site.get_in(&path, &analyst, "ko").await;
        assert_eq!(page.status, status, "{query}");
        assert!(
            page.body.contains(korean) && !page.body.contains(expected),
            "{query}: {}",
            page.body
        );
    }
}

#[tokio::test]
async fn admins_add_users_and_keys_in_the_browser() {
    admins_add_users_and_keys_in_the_browser_on(&Site::new()).await;
}

#[test]
fn admins_add_users_and_keys_in_the_browser_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(admins_add_users_and_keys_in_the_browser_on(&site));
}

async fn admins_add_users_and_keys_in_the_browser_on(site: &Site) {
    let documenter = site.session("documenter").await;
    let form = |csrf: &str, name: &str, password: &str| {
        format!("csrf={csrf}&name={name}&role=analyst&password={password}")
    };
    let refused = site
        .post_form(
            "/admin/users",
            Some(&documenter),
            &form(&documenter.csrf, "lee", "another+long+password"),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let admin = site.session("admin").await;
    let weak = site
        .post_form(
            "/admin/users",
            Some(&admin),
            &form(&admin.csrf, "lee", "short"),
            None,
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.body.contains("at least 12 characters"));
    let forged = site
        .post_form(
            "/admin/users",
            Some(&admin),
            &form("forged", "lee", "another+long+password"),
            None,
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let added = site
        .post_form(
            "/admin/users",
            Some(&admin),
            &form(&admin.csrf, "lee", "another+long+password"),
            None,
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert!(site.sign_in("lee", "another long password").await.is_ok());
    let key = site
        .post_form(
            "/admin/keys",
            Some(&admin),
            &format!("csrf={}&name=lee&label=tests&scope=read", admin.csrf),
            None,
        )
        .await;
    let secret = between(&key.body, "shown only now: ", "<")
        .expect("key")
        .to_string();
    let request = Request::builder()
        .uri("/api/records?kind=persons")
        .header(header::AUTHORIZATION, format!("Bearer {secret}"))
        .body(Body::empty())
        .expect("request");
    assert_eq!(site.send(request).await.status, StatusCode::OK);
}

#[tokio::test]
async fn editing_a_person_keeps_revisions_and_refuses_stale_forms() {
    editing_a_person_keeps_revisions_and_refuses_stale_forms_on(&Site::new()).await;
}

#[test]
fn editing_a_person_keeps_revisions_and_refuses_stale_forms_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(editing_a_person_keeps_revisions_and_refuses_stale_forms_on(
        &site,
    ));
}

async fn editing_a_person_keeps_revisions_and_refuses_stale_forms_on(site: &Site) {
    let documenter = site.session("documenter").await;
    let form = site.get("/records/p-un-kim/edit", Some(&documenter)).await;
    // The heading names the person, not their record's id.
    assert!(
        form.body.contains("<h1>Edit person: Kim Eun-joo"),
        "{}",
        form.body
    );
    let revision = between(&form.body, "name=\"revision\" value=\"", "\"")
        .expect("revision")
        .to_string();
    let edit = |revision: &str, birth: &str| {
        format!(
            "csrf={}&revision={revision}&names=Kim+Eun-joo%0D%0A%EA%B9%80%EC%9D%80%EC%A3%BC&sex=female&birth={birth}&origin=%ED%9A%8C%EB%A0%B9",
            documenter.csrf
        )
    };
    let bad = site
        .post_form(
            "/records/p-un-kim/edit",
            Some(&documenter),
            &edit(&revision, "someday"),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"birth-error\""));
    let saved = site
        .post_form(
            "/records/p-un-kim/edit",
            Some(&documenter),
            &edit(&revision, "1990s"),
            None,
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let record = site.get("/api/records/p-un-kim", Some(&documenter)).await;
    assert!(
        record.body.contains("김은주") && record.body.contains("\"origin\":\"hoeryong\""),
        "{}",
        record.body
    );
    // The same form again, based on the old revision: refused, nothing lost.
    let stale = site
        .post_form(
            "/records/p-un-kim/edit",
            Some(&documenter),
            &edit(&revision, "1980s"),
            None,
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    let record = site.get("/api/records/p-un-kim", Some(&documenter)).await;
    assert!(record.body.contains("1990s"), "{}", record.body);
    // The saved values sent again change nothing: no new revision, and the page says so.
    let revisions = || {
        site.read(|store| {
            store
                .history(&girok_model::RecordId::new("p-un-kim"))
                .expect("history")
                .len()
        })
    };
    let before = revisions();
    let current = (revision.parse::<u32>().expect("revision") + 1).to_string();
    let unchanged = site
        .post_form(
            "/records/p-un-kim/edit",
            Some(&documenter),
            &edit(&current, "1990s"),
            None,
        )
        .await;
    assert_eq!(
        unchanged.status,
        StatusCode::SEE_OTHER,
        "{}",
        unchanged.body
    );
    let at = location(&unchanged);
    assert!(at.ends_with("?unchanged=1"), "{at}");
    assert_eq!(revisions(), before);
    assert!(
        site.get(&at, Some(&documenter))
            .await
            .body
            .contains("no new revision was written")
    );
}

#[tokio::test]
async fn sources_are_edited_and_consent_only_narrows() {
    sources_are_edited_and_consent_only_narrows_on(&Site::new()).await;
}

#[test]
fn sources_are_edited_and_consent_only_narrows_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(sources_are_edited_and_consent_only_narrows_on(&site));
}

async fn sources_are_edited_and_consent_only_narrows_on(site: &Site) {
    let documenter = site.session("documenter").await;
    let form = site
        .get("/records/s-un-2025-kim/edit", Some(&documenter))
        .await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("name=\"consent\""), "{}", form.body);
    let revision = between(&form.body, "name=\"revision\" value=\"", "\"")
        .expect("revision")
        .to_string();
    let edit = |consent: &str, obtained: &str| {
        format!(
            "csrf={}&revision={revision}&title=Testimony+of+Kim+Eun-joo&kind=interview&obtained={obtained}&language=en&organisation=UN&consent={consent}&provenance=UN+webcast&notes=",
            documenter.csrf
        )
    };
    let path = "/records/s-un-2025-kim/edit";
    let bad_date = site
        .post_form(path, Some(&documenter), &edit("partners", "sometime"), None)
        .await;
    assert_eq!(bad_date.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad_date.body.contains("id=\"obtained-error\""),
        "{}",
        bad_date.body
    );
    let narrowed = site
        .post_form(path, Some(&documenter), &edit("partners", "2025-05"), None)
        .await;
    assert_eq!(narrowed.status, StatusCode::SEE_OTHER, "{}", narrowed.body);
    let record = site
        .get("/api/records/s-un-2025-kim", Some(&documenter))
        .await;
    assert!(
        record.body.contains("\"consent\":\"partners\""),
        "{}",
        record.body
    );
    // Widening from a form is refused at the consent field; nothing changes.
    let form = site.get(path, Some(&documenter)).await;
    let revision = between(&form.body, "name=\"revision\" value=\"", "\"")
        .expect("revision")
        .to_string();
    let before = site.read(|store| store.head().expect("head").0);
    let widened = site
        .post_form(
            path,
            Some(&documenter),
            &format!(
                "csrf={}&revision={revision}&title=T&kind=interview&consent=public",
                documenter.csrf
            ),
            None,
        )
        .await;
    assert_eq!(widened.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        widened.body.contains("id=\"consent-error\""),
        "{}",
        widened.body
    );
    assert_eq!(site.read(|store| store.head().expect("head").0), before);
    // The consent filter of the source list and of the API see the change.
    let listed = site
        .get("/sources?consent=partners", Some(&documenter))
        .await;
    assert!(listed.body.contains("s-un-2025-kim"), "{}", listed.body);
    assert!(!listed.body.contains("s-un-2025-kang"), "{}", listed.body);
    let api = site
        .get(
            "/api/records?kind=sources&consent=public",
            Some(&documenter),
        )
        .await;
    assert!(
        api.body.contains("s-un-2025-kang") && !api.body.contains("s-un-2025-kim"),
        "{}",
        api.body
    );
    let bad = site
        .get(
            "/api/records?kind=sources&consent=everyone",
            Some(&documenter),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("\"field\":\"consent\""), "{}", bad.body);
}

#[tokio::test]
async fn events_are_created_and_acts_edited_into_them() {
    events_are_created_and_acts_edited_into_them_on(&Site::new()).await;
}

#[test]
fn events_are_created_and_acts_edited_into_them_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(events_are_created_and_acts_edited_into_them_on(&site));
}

async fn events_are_created_and_acts_edited_into_them_on(site: &Site) {
    let documenter = site.session("documenter").await;
    let form = site.get("/events/new", Some(&documenter)).await;
    assert!(
        form.body.contains("type=\"checkbox\""),
        "violation pickers: {}",
        form.body
    );
    let create = |date: &str| {
        format!(
            "csrf={}&revision=0&title=Arrests+at+the+Hoeryong+market&date={date}&place=Hoery%C5%8Fng&violations=liberty&violations=enforced-disappearance&description=",
            documenter.csrf
        )
    };
    let bad = site
        .post_form(
            "/events/new",
            Some(&documenter),
            &create("the day after"),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"date-error\""), "{}", bad.body);
    assert!(
        bad.body.contains("Arrests at the Hoeryong market"),
        "typed values are kept"
    );
    let created = site
        .post_form(
            "/events/new",
            Some(&documenter),
            &create("2019%EB%85%84+%EB%B4%84"),
            None,
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let location = created.headers[header::LOCATION]
        .to_str()
        .expect("location")
        .to_string();
    let event_id = location
        .trim_start_matches("/records/")
        .trim_end_matches("?saved=1")
        .to_string();
    let event = site
        .get(&format!("/api/records/{event_id}"), Some(&documenter))
        .await;
    assert!(
        event.body.contains("\"place\":\"hoeryong\"")
            && event.body.contains("enforced-disappearance")
            && event.body.contains("\"liberty\""),
        "{}",
        event.body
    );
    let listed = site.get("/events", Some(&documenter)).await;
    assert!(listed.body.contains(&event_id), "{}", listed.body);

    // An act edited into the event; an event that does not exist is an error at its field.
    let path = "/records/a-un-kim-torture/edit";
    let form = site.get(path, Some(&documenter)).await;
    let revision = between(&form.body, "name=\"revision\" value=\"", "\"")
        .expect("revision")
        .to_string();
    let edit = |event: &str| {
        format!(
            "csrf={}&revision={revision}&act_type=torture&date=2019&place=&victim_age=&status=&facility=&event={event}&description=",
            documenter.csrf
        )
    };
    let missing = site
        .post_form(path, Some(&documenter), &edit("e-nowhere"), None)
        .await;
    assert_eq!(
        missing.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        missing.body
    );
    assert!(
        missing.body.contains("id=\"event-error\""),
        "{}",
        missing.body
    );
    let saved = site
        .post_form(path, Some(&documenter), &edit(&event_id), None)
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let acts = site
        .get(
            &format!("/api/records?kind=acts&refers_to={event_id}"),
            Some(&documenter),
        )
        .await;
    assert!(
        acts.body.contains("a-un-kim-torture") && acts.body.contains("\"total\":1"),
        "{}",
        acts.body
    );
    // Records without a form say so.
    let none = site
        .get("/records/r-kang-friend-1/edit", Some(&documenter))
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_api_filters_by_name_reference_and_consent() {
    the_api_filters_by_name_reference_and_consent_on(&Site::new()).await;
}

#[test]
fn the_api_filters_by_name_reference_and_consent_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(the_api_filters_by_name_reference_and_consent_on(&site));
}

async fn the_api_filters_by_name_reference_and_consent_on(site: &Site) {
    let documenter = site.session("documenter").await;
    let by_name = site
        .get(
            "/api/records?kind=persons&name=Eunju+Kim",
            Some(&documenter),
        )
        .await;
    for id in ["p-un-kim", "p-media-kim", "p-ko-kim"] {
        assert!(by_name.body.contains(id), "{id}: {}", by_name.body);
    }
    assert!(!by_name.body.contains("p-un-kang"), "{}", by_name.body);
    let acts = site
        .get(
            "/api/records?kind=acts&refers_to=p-un-kim&limit=2",
            Some(&documenter),
        )
        .await;
    let page: serde_json::Value = serde_json::from_str(&acts.body).expect("json");
    assert_eq!(page["total"], 5, "{}", acts.body);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
    let none = site
        .get("/api/records?kind=acts&name=Eunju+Kim", Some(&documenter))
        .await;
    assert!(none.body.contains("\"total\":0"), "{}", none.body);
}

#[tokio::test]
async fn an_encrypted_database_shows_names_only_unlocked_and_audits_every_read() {
    let site = Site::encrypted("correct horse battery staple");
    let documenter = site.session("documenter").await;
    let analyst = site.session("analyst").await;
    let page = site.get("/persons/p-un-kim", Some(&documenter)).await;
    assert!(page.body.contains("김은주"), "{}", page.body);
    let seen = site.get("/persons/p-un-kim", Some(&analyst)).await;
    assert!(seen.status.is_success() && !seen.body.contains("김은주"));
    let log = girok_service::open_audit_log(&site.app.data).expect("audit");
    let entries = log.entries().expect("entries");
    assert!(
        entries.iter().any(|e| e.actor == "documenter"
            && e.action == "GET /records/p-un-kim"
            && e.subjects.contains(&"p-un-kim".to_string())),
        "{entries:?}"
    );
    assert!(
        entries.iter().all(|e| e.actor != "analyst"),
        "nothing is decrypted for an analyst: {entries:?}"
    );
    assert_eq!(log.verify().expect("verify").broken_at, None);

    // Locked: the page still works, the names are gone, and nothing is read.
    site.app.lock();
    let before = log.entries().expect("entries").len();
    let locked = site.get("/persons/p-un-kim", Some(&documenter)).await;
    assert!(
        locked.status.is_success() && !locked.body.contains("김은주"),
        "{}",
        locked.body
    );
    let api = site
        .get("/api/records?kind=persons&limit=500", Some(&documenter))
        .await;
    assert!(
        !api.body.contains("김은주") && api.body.contains("sealed"),
        "{}",
        api.body
    );
    assert_eq!(log.entries().expect("entries").len(), before);
}

/// The latest checkpoint the database keeps, which must cover every entry.
fn checkpoint_covering_the_journal(site: &Site) -> String {
    site.read(|store| {
        let (head, _) = store.head().expect("head");
        let (size, note) = store
            .latest_checkpoint()
            .expect("checkpoint")
            .expect("a checkpoint");
        assert_eq!(size, head, "the write was not checkpointed");
        note
    })
}

/// Cuts the last journal entry, and every checkpoint that covers it, as
/// someone hiding a write would.
fn cut_last_entry(site: &Site) {
    let conn = rusqlite::Connection::open(site.dir.path().join("girok.sqlite")).expect("open");
    conn.execute_batch(
        "DELETE FROM checkpoint WHERE size = (SELECT MAX(seq) FROM journal);
         DELETE FROM journal WHERE seq = (SELECT MAX(seq) FROM journal);",
    )
    .expect("cut");
}

#[tokio::test]
async fn every_write_from_the_web_and_the_api_ends_with_a_checkpoint_that_names_a_cut() {
    let site = Site::new();
    let verifier = girok_service::verifier(site.dir.path()).expect("verifier");
    let documenter = site.session("documenter").await;
    // A browser form.
    let form = site.get("/records/p-un-kim/edit", Some(&documenter)).await;
    let revision = between(&form.body, "name=\"revision\" value=\"", "\"").expect("revision");
    let saved = site
        .post_form(
            "/records/p-un-kim/edit",
            Some(&documenter),
            &format!(
                "csrf={}&revision={revision}&names=Kim+Eun-joo&sex=female&birth=1990s&origin=",
                documenter.csrf
            ),
            None,
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let after_form = checkpoint_covering_the_journal(&site);
    // The API, with a key.
    let reply = site.post_changes_with_key(r#"{"changes":[{"op":"create","record":{"type":"person","id":"p-door","names":[{"text":"박동구","script":"hangul"}]}}]}"#).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let after_api = checkpoint_covering_the_journal(&site);
    let extension = |note: &str| {
        site.app
            .read(|store| girok_service::extends(store, &verifier, note))
            .expect("extends")
    };
    assert!(matches!(
        extension(&after_form),
        girok_service::Extension::Extends { .. }
    ));
    cut_last_entry(&site);
    assert!(
        matches!(
            extension(&after_api),
            girok_service::Extension::RolledBack { .. }
        ),
        "the API's write was cut unnoticed"
    );
    cut_last_entry(&site);
    assert!(
        matches!(
            extension(&after_form),
            girok_service::Extension::RolledBack { .. }
        ),
        "the form's write was cut unnoticed"
    );
}

#[tokio::test]
async fn a_term_added_by_another_process_is_seen_at_once() {
    a_term_added_elsewhere_is_seen_at_once(&Site::new()).await;
}

#[test]
fn a_term_added_by_another_server_on_postgres_is_seen_at_once() {
    let site = Site::on_postgres();
    on_runtime(a_term_added_elsewhere_is_seen_at_once(&site));
}

async fn a_term_added_elsewhere_is_seen_at_once(site: &Site) {
    // `girok terms add`, from another process with its own connection.
    off_runtime(|| {
        let mut other = girok_service::open(site.dir.path()).expect("open");
        let term: girok_model::Term = serde_json::from_str(
            r#"{"key":"village-guard","en":"Village guard","ko":"마을 경비대"}"#,
        )
        .expect("term");
        other
            .write("admin", |sink| {
                sink.apply(girok_model::Change::AddTerm {
                    vocabulary: girok_model::VocabKind::Agency,
                    term,
                })
            })
            .expect("add term");
    });
    let documenter = site.session("documenter").await;
    let form = site
        .get("/persons/p-un-kim/acts/new", Some(&documenter))
        .await;
    assert!(form.body.contains("village-guard"), "{}", form.body);
    // The writer validates with it too.
    let reply = site.post_changes_with_key(r#"{"changes":[{"op":"create","record":{"type":"involvement","id":"inv-guard","act":"a-un-kim-torture","agency":"village-guard"}}]}"#).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn a_read_that_cannot_be_audited_fails_and_shows_no_name() {
    let site = Site::encrypted("correct horse battery staple");
    let documenter = site.session("documenter").await;
    let audit = site.app.data.join("audit.sqlite");
    let _ = std::fs::remove_file(&audit);
    std::fs::create_dir(&audit).expect("block the audit log");
    for path in [
        "/persons/p-un-kim",
        "/api/records/p-un-kim",
        "/api/records?kind=persons&limit=500",
    ] {
        let reply = site.get(path, Some(&documenter)).await;
        assert!(!reply.status.is_success(), "{path}: {}", reply.status);
        assert!(!reply.body.contains("김은주"), "{path}: {}", reply.body);
    }
}

/// Asserts an RFC 9457 problem with the reply's status, a title and a detail.
fn assert_problem(reply: &Reply, status: StatusCode, what: &str) {
    assert_eq!(reply.status, status, "{what}: {}", reply.body);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "application/problem+json",
        "{what}"
    );
    let problem: serde_json::Value = serde_json::from_str(&reply.body).expect(what);
    assert_eq!(problem["status"], status.as_u16(), "{what}");
    for field in ["title", "detail"] {
        assert!(
            problem[field].as_str().is_some_and(|t| !t.is_empty()),
            "{what}: {field} in {problem}"
        );
    }
}

#[tokio::test]
async fn every_api_error_is_problem_json() {
    let site = Site::new();
    let key = site.app.with_access(|access| {
        access
            .add_key("documenter", "tests", Scope::Write, None)
            .expect("key")
    });
    let api = |method: Method, path: &str, content_type: &str, body: Vec<u8>| {
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .expect("request")
    };
    let json = "application/json";
    let reply = site
        .send(api(Method::GET, "/api/nowhere", json, Vec::new()))
        .await;
    assert_problem(&reply, StatusCode::NOT_FOUND, "an unknown path");
    let reply = site
        .send(api(Method::DELETE, "/api/records", json, Vec::new()))
        .await;
    assert_problem(&reply, StatusCode::METHOD_NOT_ALLOWED, "a wrong method");
    assert!(reply.headers.contains_key(header::ALLOW));
    let reply = site
        .send(api(
            Method::POST,
            "/api/changes",
            json,
            vec![b' '; 3 * 1024 * 1024],
        ))
        .await;
    assert_problem(&reply, StatusCode::PAYLOAD_TOO_LARGE, "a body too large");
    let change = r#"{"changes":[{"op":"create","record":{"type":"person","id":"p-plain","names":[{"text":"박동구","script":"hangul"}]}}]}"#;
    let reply = site
        .send(api(
            Method::POST,
            "/api/changes",
            "text/plain",
            change.as_bytes().to_vec(),
        ))
        .await;
    assert_problem(&reply, StatusCode::UNSUPPORTED_MEDIA_TYPE, "not JSON");
    assert!(
        site.app
            .read(|store| store.get(&girok_model::RecordId::new("p-plain")))
            .expect("read")
            .is_none(),
        "a body that is not declared JSON is not applied"
    );
    let reply = site
        .send(api(Method::GET, "/api/records/%FF", json, Vec::new()))
        .await;
    assert_problem(&reply, StatusCode::BAD_REQUEST, "a path that is not UTF-8");
    let reply = site
        .send(api(
            Method::GET,
            "/api/records?kind=persons&limit=many",
            json,
            Vec::new(),
        ))
        .await;
    assert_problem(&reply, StatusCode::BAD_REQUEST, "a bad parameter");
    // Pages keep their HTML errors.
    let reply = site.get("/nowhere", None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_ne!(
        reply
            .headers
            .get(header::CONTENT_TYPE)
            .map(|v| v.as_bytes()),
        Some(&b"application/problem+json"[..])
    );
}

/// Signs in through the form from a client at `peer` (optionally through a
/// proxy that forwards `forwarded_for`); the status of the answer.
async fn sign_in_from(
    app: Arc<App>,
    name: &str,
    password: &str,
    peer: &str,
    forwarded_for: Option<&str>,
) -> StatusCode {
    let token = "0123456789abcdef0123456789abcdef";
    let peer: std::net::SocketAddr = format!("{peer}:40000").parse().expect("peer");
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("girok_login={token}"));
    if let Some(forwarded_for) = forwarded_for {
        request = request.header("x-forwarded-for", forwarded_for);
    }
    let mut request = request
        .body(Body::from(format!(
            "name={name}&password={}&token={token}",
            password.replace(' ', "+")
        )))
        .expect("request");
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    girok_server::router(app)
        .oneshot(request)
        .await
        .expect("response")
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_wrong_guesses_are_counted_before_they_are_hashed() {
    let site = Site::new();
    let mut guesses = tokio::task::JoinSet::new();
    for guess in 0..40 {
        let app = site.app.clone();
        guesses.spawn(async move {
            let password = if guess == 39 {
                PASSWORD.to_string()
            } else {
                format!("wrong guess {guess}")
            };
            sign_in_from(app, "documenter", &password, "198.51.100.7", None).await
        });
    }
    let mut evaluated = 0;
    while let Some(status) = guesses.join_next().await {
        match status.expect("task") {
            StatusCode::TOO_MANY_REQUESTS => {}
            StatusCode::UNAUTHORIZED | StatusCode::SEE_OTHER => evaluated += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        evaluated <= girok_server::access::MAX_FAILURES,
        "{evaluated} of 40 concurrent guesses were evaluated"
    );
}

/// As many wrong passwords for the documenter from `address` as lock it out there.
async fn lock_out_documenter_from(site: &Site, address: &str) {
    for _ in 0..girok_server::access::MAX_FAILURES {
        let status = sign_in_from(
            site.app.clone(),
            "documenter",
            "wrong password",
            address,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn failed_sign_ins_survive_a_restart() {
    let site = Site::new();
    lock_out_documenter_from(&site, "198.51.100.7").await;
    // Another server process on the same directory, or this one restarted.
    let restarted = App::open(site.dir.path()).expect("reopen");
    let status = sign_in_from(restarted, "documenter", PASSWORD, "198.51.100.7", None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_name_locked_from_one_address_still_signs_in_from_another() {
    a_name_locked_from_one_address_still_signs_in_from_another_on(&Site::new()).await;
}

#[test]
fn a_name_locked_from_one_address_still_signs_in_from_another_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(a_name_locked_from_one_address_still_signs_in_from_another_on(&site));
}

async fn a_name_locked_from_one_address_still_signs_in_from_another_on(site: &Site) {
    lock_out_documenter_from(site, "198.51.100.7").await;
    let attacker = sign_in_from(
        site.app.clone(),
        "documenter",
        PASSWORD,
        "198.51.100.7",
        None,
    )
    .await;
    assert_eq!(attacker, StatusCode::TOO_MANY_REQUESTS);
    let owner = sign_in_from(
        site.app.clone(),
        "documenter",
        PASSWORD,
        "203.0.113.9",
        None,
    )
    .await;
    assert_eq!(
        owner,
        StatusCode::SEE_OTHER,
        "the owner's own address is not locked"
    );
}

#[tokio::test]
async fn forwarded_addresses_are_ignored_from_an_untrusted_peer() {
    let site = Site::new();
    // A client that is not a trusted proxy claims a new address each time.
    for guess in 0..girok_server::access::MAX_FAILURES {
        let claimed = format!("192.0.2.{guess}");
        let status = sign_in_from(
            site.app.clone(),
            "documenter",
            "wrong password",
            "198.51.100.7",
            Some(&claimed),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let status = sign_in_from(
        site.app.clone(),
        "documenter",
        PASSWORD,
        "198.51.100.7",
        Some("192.0.2.200"),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_trusted_proxy_names_the_client() {
    let site = Site::new();
    let proxy: std::net::IpAddr = "127.0.0.1".parse().expect("ip");
    let app = App::open_with(
        site.dir.path(),
        girok_server::Settings {
            trusted_proxies: vec![proxy],
            ..Default::default()
        },
    )
    .expect("app");
    for _ in 0..girok_server::access::MAX_FAILURES {
        let status = sign_in_from(
            app.clone(),
            "documenter",
            "wrong password",
            "127.0.0.1",
            Some("198.51.100.7"),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let attacker = sign_in_from(
        app.clone(),
        "documenter",
        PASSWORD,
        "127.0.0.1",
        Some("198.51.100.7"),
    )
    .await;
    assert_eq!(attacker, StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy is not locked out.
    let owner = sign_in_from(
        app,
        "documenter",
        PASSWORD,
        "127.0.0.1",
        Some("203.0.113.9"),
    )
    .await;
    assert_eq!(owner, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn one_full_verification_runs_at_a_time() {
    let site = Site::new();
    let analyst = site.session("analyst").await;
    let form = format!("csrf={}", analyst.csrf);
    // A verification on another thread holds the slot until told to finish.
    let (held, slot_held) = std::sync::mpsc::channel();
    let (finish, finished) = std::sync::mpsc::channel::<()>();
    let app = site.app.clone();
    let running = std::thread::spawn(move || {
        let _running = app.verification.lock().expect("slot");
        held.send(()).expect("held");
        let _ = finished.recv();
    });
    slot_held.recv().expect("held");
    let busy = site.post_form("/verify", Some(&analyst), &form, None).await;
    assert_eq!(busy.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(busy.body.contains("already running"), "{}", busy.body);
    assert!(busy.headers.contains_key(header::RETRY_AFTER));
    finish.send(()).expect("finish");
    running.join().expect("verification");
    let done = site.post_form("/verify", Some(&analyst), &form, None).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body.contains("Clean"), "{}", done.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_half_sent_connections_are_closed_and_do_not_starve_others() {
    use std::io::{Read, Write};
    use std::time::Duration;
    let site = Site::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listen");
    let addr = listener.local_addr().expect("address");
    let limits = girok_server::ConnectionLimits {
        header_timeout: Duration::from_secs(1),
        max_connections: 100,
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(girok_server::serve_listener(
        listener,
        site.app.clone(),
        limits,
        async {
            let _ = stopped.await;
        },
    ));
    let clients = tokio::task::spawn_blocking(move || {
        // 300 clients hold connections: half send part of a request's head, half nothing.
        let idle: Vec<std::net::TcpStream> = (0..300)
            .map(|client| {
                let mut stream = std::net::TcpStream::connect(addr).expect("connect");
                if client % 2 == 0 {
                    stream
                        .write_all(b"GET /login HTTP/1.1\r\nHost: girok\r\n")
                        .expect("write");
                }
                stream
            })
            .collect();
        // A whole request still gets an answer once the server has dropped the idle.
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(15)))
            .expect("timeout");
        stream
            .write_all(b"GET /login HTTP/1.1\r\nHost: girok\r\nConnection: close\r\n\r\n")
            .expect("write");
        let mut answer = Vec::new();
        stream
            .read_to_end(&mut answer)
            .expect("a whole request is answered while others idle");
        let answer = String::from_utf8_lossy(&answer).into_owned();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        // Every idle connection was closed by the server (end of stream or a reset).
        for mut stream in idle {
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            let mut rest = Vec::new();
            match stream.read_to_end(&mut rest) {
                Ok(_) => {}
                Err(error) => assert!(
                    !matches!(
                        error.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ),
                    "an idle connection is still open"
                ),
            }
        }
    });
    clients.await.expect("clients");
    stop.send(()).expect("stop");
    server.await.expect("server");
}

#[tokio::test]
async fn name_searches_are_audited_without_the_name_searched() {
    let site = Site::encrypted("correct horse battery staple");
    let documenter = site.session("documenter").await;
    let page = site.get("/persons?q=Kim+Eun-joo", Some(&documenter)).await;
    assert!(page.status.is_success(), "{}", page.status);
    // A page past the end still tells how many match: that is a read too.
    let api = site
        .get(
            "/api/records?kind=persons&name=Kim+Eun-joo&offset=100000",
            Some(&documenter),
        )
        .await;
    assert!(
        api.status.is_success() && api.body.contains("\"items\":[]"),
        "{}",
        api.body
    );
    let entries = girok_service::open_audit_log(&site.app.data)
        .expect("audit")
        .entries()
        .expect("entries");
    for entry in &entries {
        let text = format!(
            "{} {} {}",
            entry.action,
            entry.purpose,
            entry.subjects.join(" ")
        );
        assert!(
            !text.contains("Kim") && !text.contains("Eun-joo") && !text.contains("김은주"),
            "the audit log holds a searched name: {entry:?}"
        );
    }
    assert!(
        entries
            .iter()
            .any(|e| e.action == "GET /api/records?kind=person"
                && e.subjects.contains(&"p-un-kim".to_string())),
        "the count of matches was not audited: {entries:?}"
    );
}

/// The records created after journal entry `after`, in order, with every id
/// they made replaced by its kind and order of appearance, and what only a
/// door decides (who received it, where it came from) left out.
fn made_since(site: &Site, after: u64) -> Vec<serde_json::Value> {
    let rows = site.read(|store| store.recent(50).expect("recent"));
    let mut records: Vec<girok_model::Record> = rows
        .into_iter()
        .rev()
        .filter(|row| row.entry.seq > after)
        .filter_map(|row| match row.entry.change {
            girok_model::Change::Create { record } => Some(record),
            _ => None,
        })
        .collect();
    let mut placeholders = std::collections::HashMap::new();
    for record in &records {
        let n = placeholders.len();
        placeholders.insert(record.id().to_string(), format!("{}#{n}", record.kind()));
    }
    records
        .iter_mut()
        .map(|record| {
            let mut json = serde_json::to_value(&*record).expect("json");
            let object = json.as_object_mut().expect("object");
            object.remove("received_by");
            object.remove("provenance");
            for value in object.values_mut() {
                if let Some(placeholder) = value.as_str().and_then(|id| placeholders.get(id)) {
                    *value = serde_json::Value::String(placeholder.clone());
                }
            }
            json
        })
        .collect()
}

fn head(site: &Site) -> u64 {
    site.read(|store| store.head().expect("head").0)
}

#[tokio::test]
async fn one_testimony_makes_the_same_records_through_the_csv_the_forms_and_the_api() {
    let site = Site::new();
    let documenter = site.session("documenter").await;
    // The forms: a new testimony, then an act it attests.
    let before_forms = head(&site);
    let created = site
        .post_form(
            "/sources",
            Some(&documenter),
            &format!(
                "csrf={}&title=Interview+with+a+neighbour&obtained=2024-05&witness=%EC%9D%B4%EC%98%81%EC%88%98&sex=%EC%97%AC&consent=partners&language=ko&organisation=NKDB&notes=",
                documenter.csrf
            ),
            None,
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let source = created.headers[header::LOCATION]
        .to_str()
        .expect("location")
        .trim_start_matches("/sources/")
        .trim_end_matches("?saved=1")
        .to_string();
    let act = site
        .post_form(
            "/persons/p-un-kim/acts",
            Some(&documenter),
            &format!(
                "csrf={}&act_type=arrest&date=2019%EB%85%84+%EA%B0%80%EC%9D%84&place=Hoery%C5%8Fng&age=19&agency=mss&source={source}&relation=neighbour&description=Taken+at+night",
                documenter.csrf
            ),
            None,
        )
        .await;
    assert_eq!(act.status, StatusCode::SEE_OTHER, "{}", act.body);
    let through_forms = made_since(&site, before_forms);
    assert_eq!(through_forms.len(), 5, "{through_forms:#?}");

    // The same testimony as a CSV row, with Korean headers and other spellings.
    let before_csv = head(&site);
    let csv = site.dir.path().join("one.csv");
    std::fs::write(
        &csv,
        "출처ID,출처제목,입수일,언어,기록단체,동의범위,증언자이름,증언자성별,피해자ID,행위유형,행위일시,행위장소,당시나이,가해기관,증언자와의관계,내용\n\
         s-csv,Interview with a neighbour,2024-05,ko,NKDB,협력기관,이영수,여성,p-un-kim,체포,2019년 가을,회령,19,국가보위성,neighbour,Taken at night\n",
    )
    .expect("csv");
    site.app
        .write(|store| {
            store.write("documenter", |sink| {
                girok_interchange::import(&csv, sink, &mut |_| {})
            })
        })
        .expect("import");
    assert_eq!(made_since(&site, before_csv), through_forms);

    // The same again through the API, named as the CSV's English headers.
    let before_api = head(&site);
    let payload = serde_json::json!({
        "source_title": "Interview with a neighbour", "source_date": "2024-05", "language": "ko",
        "organisation": "NKDB", "consent": "partners", "witness_name": "이영수", "witness_sex": "f",
        "victim_id": "p-un-kim", "act_type": "Arrest", "act_date": "2019년 가을", "act_place": "hoeryong",
        "victim_age": "19", "agency": "MSS", "relation": "neighbour", "description": "Taken at night",
    });
    let reply = site
        .post_json(
            "/api/testimonies",
            &documenter,
            Some(&documenter.csrf),
            &payload.to_string(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let made: serde_json::Value = serde_json::from_str(&reply.body).expect("json");
    assert_eq!(made["records"].as_array().map(Vec::len), Some(5), "{made}");
    assert!(made["records"][0]["id"].is_string(), "{made}");
    assert_eq!(made_since(&site, before_api), through_forms);
    let document = site.get("/api/openapi.json", None).await;
    let openapi: serde_json::Value = serde_json::from_str(&document.body).expect("json");
    assert!(openapi["paths"]["/api/testimonies"]["post"].is_object());
}

#[tokio::test]
async fn a_value_no_door_can_read_is_refused_by_every_door_at_its_field() {
    let site = Site::new();
    let documenter = site.session("documenter").await;
    let before = head(&site);
    // The testimony form no longer reads an unknown sex as unknown.
    let form = site
        .post_form(
            "/sources",
            Some(&documenter),
            &format!(
                "csrf={}&title=T&obtained=2024&witness=%EC%9D%B4%EC%98%81%EC%88%98&sex=x&consent=internal",
                documenter.csrf
            ),
            None,
        )
        .await;
    assert_eq!(form.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        form.body.contains("id=\"witness-error\"")
            && form
                .body
                .contains("is not one of female, male, other, unknown"),
        "{}",
        form.body
    );
    let act = site
        .post_form(
            "/persons/p-un-kim/acts",
            Some(&documenter),
            &format!(
                "csrf={}&act_type=arrest&date=2019&age=200&source=s-un-2025-kim",
                documenter.csrf
            ),
            None,
        )
        .await;
    assert_eq!(act.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        act.body.contains("id=\"age-error\"")
            && act.body.contains("is not an age in whole years (0 to 130)"),
        "{}",
        act.body
    );
    // Nothing chosen as what happened: refused at that field, nothing assumed.
    let unchosen = site
        .post_form(
            "/persons/p-un-kim/acts",
            Some(&documenter),
            &format!(
                "csrf={}&act_type=&date=2019&source=s-un-2025-kim",
                documenter.csrf
            ),
            None,
        )
        .await;
    assert_eq!(unchosen.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unchosen.body.contains("id=\"act_type-error\"")
            && unchosen
                .body
                .contains("<option value=\"\">— choose what happened —</option>"),
        "{}",
        unchosen.body
    );
    let reply = site
        .post_json(
            "/api/testimonies",
            &documenter,
            Some(&documenter.csrf),
            r#"{"source_id":"s-new","source_title":"T","consent":"internal","victim_id":"p-new","sex":"x","act_type":"arrest"}"#,
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(
        reply.body.contains("\"field\":\"sex\"")
            && reply
                .body
                .contains("'x' is not one of female, male, other, unknown"),
        "{}",
        reply.body
    );
    let unknown = site
        .post_json(
            "/api/testimonies",
            &documenter,
            Some(&documenter.csrf),
            r#"{"colour":"red"}"#,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(
        unknown.body.contains("\"field\":\"colour\""),
        "{}",
        unknown.body
    );
    let csv = site.dir.path().join("bad.csv");
    std::fs::write(
        &csv,
        "source_id,source_title,consent,victim_id,sex,act_type\ns-new,T,internal,p-new,x,arrest\n",
    )
    .expect("csv");
    let refused = site.write(|store| {
        store.write("documenter", |sink| {
            girok_interchange::import(&csv, sink, &mut |_| {})
        })
    });
    let message = refused.expect_err("refused").to_string();
    assert!(
        message.contains("line 2, column sex: 'x' is not one of female, male, other, unknown"),
        "{message}"
    );
    assert_eq!(head(&site), before, "nothing was written");
}

#[tokio::test]
async fn the_record_editor_reads_each_field_with_the_parser_every_door_uses() {
    let site = Site::new();
    let documenter = site.session("documenter").await;
    let form = site
        .get("/records/a-un-kim-flight-1/edit", Some(&documenter))
        .await;
    let revision = between(&form.body, "name=\"revision\" value=\"", "\"")
        .expect("revision")
        .to_string();
    let edit = |act_type: &str, age: &str| {
        format!(
            "csrf={}&revision={revision}&act_type={act_type}&date=1999&place=%ED%9A%8C%EB%A0%B9&victim_age={age}&status=&facility=&event=&description=",
            documenter.csrf
        )
    };
    let before = head(&site);
    let bad = site
        .post_form(
            "/records/a-un-kim-flight-1/edit",
            Some(&documenter),
            &edit("flight", "200"),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("id=\"victim_age-error\"")
            && bad.body.contains("is not an age in whole years (0 to 130)"),
        "{}",
        bad.body
    );
    assert_eq!(head(&site), before);
    // A label in Korean reads as the term's key, as in a CSV row.
    let saved = site
        .post_form(
            "/records/a-un-kim-flight-1/edit",
            Some(&documenter),
            &edit("%EC%B2%B4%ED%8F%AC", "19"),
            None,
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let record = site
        .get("/api/records/a-un-kim-flight-1", Some(&documenter))
        .await;
    assert!(
        record.body.contains("\"act_type\":\"arrest\"")
            && record.body.contains("\"place\":\"hoeryong\"")
            && record.body.contains("\"victim_age\":19"),
        "{}",
        record.body
    );
    // The form shows the place by its name in the reader's language, not its key.
    let form = site
        .get("/records/a-un-kim-flight-1/edit", Some(&documenter))
        .await;
    assert!(
        form.body
            .contains("name=\"place\" list=\"place-terms\" value=\"Hoeryong\""),
        "{}",
        form.body
    );
    let korean = site
        .get_in("/records/a-un-kim-flight-1/edit", &documenter, "ko")
        .await;
    assert!(
        korean
            .body
            .contains("name=\"place\" list=\"place-terms\" value=\"회령\""),
        "{}",
        korean.body
    );
    // A sex the editor cannot read is refused at its field, no longer read as unknown.
    let form = site.get("/records/p-un-kim/edit", Some(&documenter)).await;
    let revision = between(&form.body, "name=\"revision\" value=\"", "\"")
        .expect("revision")
        .to_string();
    let person = |sex: &str| {
        format!(
            "csrf={}&revision={revision}&names=Kim+Eun-joo&sex={sex}&birth=&origin=",
            documenter.csrf
        )
    };
    let before = head(&site);
    let bad = site
        .post_form(
            "/records/p-un-kim/edit",
            Some(&documenter),
            &person("x"),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"sex-error\""), "{}", bad.body);
    assert_eq!(head(&site), before);
    let saved = site
        .post_form(
            "/records/p-un-kim/edit",
            Some(&documenter),
            &person("%EB%82%A8"),
            None,
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let record = site.get("/api/records/p-un-kim", Some(&documenter)).await;
    assert!(record.body.contains("\"sex\":\"male\""), "{}", record.body);
}

/// Viewers choose among the published tables only: their form offers no
/// conditions, columns or age bands, and a table outside the set is refused
/// with a page in their language (or problem+json), never widened.
#[tokio::test]
async fn viewers_get_the_published_tables_and_a_page_that_says_so_for_others() {
    let site = Site::new();
    let viewer = site.session("viewer").await;
    let analyst = site.session("analyst").await;
    let form = site.get("/stats?by=sex", Some(&viewer)).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    for field in [
        "name=\"where\"",
        "name=\"then\"",
        "name=\"ages\"",
        "value=\"province\"",
    ] {
        assert!(!form.body.contains(field), "{field} offered to a viewer");
    }
    let full = site.get("/stats", Some(&analyst)).await;
    assert!(full.body.contains("name=\"where\"") && full.body.contains("value=\"province\""));
    for path in [
        "/stats?by=province",
        "/stats?by=sex&then=act-type",
        "/stats?by=sex&where=year%3D2019",
        "/stats?by=age-group&ages=0-9%2C10-",
    ] {
        let english = site.get_in(path, &viewer, "en").await;
        assert_eq!(english.status, StatusCode::FORBIDDEN, "{path}");
        assert!(
            english.body.contains("Not a published table")
                && english.body.contains("href=\"/stats?by=act-type\""),
            "{path}: {}",
            english.body
        );
        let korean = site.get_in(path, &viewer, "ko").await;
        assert_eq!(korean.status, StatusCode::FORBIDDEN, "{path}");
        assert!(
            korean.body.contains("공개 표가 아닙니다") && korean.body.contains("<html lang=\"ko\""),
            "{path}: {}",
            korean.body
        );
        // Analysts still make any table.
        let reply = site.get(path, Some(&analyst)).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
    }
    let csv = site.get("/stats.csv?by=province", Some(&viewer)).await;
    assert_eq!(csv.status, StatusCode::FORBIDDEN);
    let api = site
        .get("/api/stats?by=sex&where=sex%3Dfemale", Some(&viewer))
        .await;
    assert_problem(&api, StatusCode::FORBIDDEN, "a condition");
    assert!(api.body.contains("\"field\":\"where\""), "{}", api.body);
}

/// The statistics page reads age bands as `girok stats --age-bands` does,
/// and names the band it cannot read.
#[tokio::test]
async fn the_statistics_page_takes_age_bands() {
    let site = Site::new();
    let analyst = site.session("analyst").await;
    let reply = site
        .get(
            "/stats?by=age-group&ages=0-9%2C10-19%2C20-39%2C40-",
            Some(&analyst),
        )
        .await;
    assert!(reply.status.is_success(), "{}", reply.body);
    assert!(reply.body.contains("value=\"0-9,10-19,20-39,40-\""));
    assert!(!reply.body.contains("role=\"alert\""), "{}", reply.body);
    let reply = site
        .get("/stats?by=age-group&ages=0-9%2C12-19", Some(&analyst))
        .await;
    assert!(
        reply.body.contains("'12-19' does not start at 10"),
        "{}",
        reply.body
    );
    let korean = site
        .get_in("/stats?by=age-group&ages=0-9%2C12-19", &analyst, "ko")
        .await;
    assert!(
        korean
            .body
            .contains("'12-19'이(가) 10세에서 시작하지 않습니다")
            && !korean.body.contains("does not start"),
        "{}",
        korean.body
    );
}

/// Two-way statistics with headings and totals, an explanation when one
/// victim counts under several values, and the same table as CSV.
#[tokio::test]
async fn statistics_cross_tabulate_with_headings_and_download_as_csv() {
    statistics_cross_tabulate_with_headings_and_download_as_csv_on(&Site::new()).await;
}

#[test]
fn statistics_cross_tabulate_with_headings_and_download_as_csv_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(statistics_cross_tabulate_with_headings_and_download_as_csv_on(&site));
}

async fn statistics_cross_tabulate_with_headings_and_download_as_csv_on(site: &Site) {
    let analyst = site.session("analyst").await;
    let page = site
        .get("/stats?by=act-type&then=sex", Some(&analyst))
        .await;
    assert!(page.status.is_success(), "{}", page.body);
    assert!(
        page.body.contains("<thead>") && page.body.contains("<tfoot>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("scope=\"col\""), "{}", page.body);
    let link = between(&page.body, "href=\"/stats.csv?", "\"").expect("csv link");
    let csv = site
        .get(
            &format!("/stats.csv?{}", link.replace("&amp;", "&")),
            Some(&analyst),
        )
        .await;
    assert!(csv.status.is_success(), "{}", csv.body);
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let mut lines = csv.body.lines();
    let heading = lines.next().expect("heading");
    assert!(
        heading.starts_with("act-type (en),act-type (ko),"),
        "{heading}"
    );
    assert!(heading.ends_with("total / 합계"), "{heading}");
    let last = csv.body.lines().last().expect("total row");
    assert!(last.starts_with("total,합계,"), "{last}");
    // By agency one victim counts under each agency named: the page says so.
    let agencies = site.get("/stats?by=agency", Some(&analyst)).await;
    let request = Request::builder()
        .uri("/stats?by=agency")
        .header(
            header::COOKIE,
            format!("girok_session={}; girok_lang=ko", analyst.token),
        )
        .body(Body::empty())
        .expect("request");
    let korean = site.send(request).await;
    assert!(
        agencies.body.contains("more than the total"),
        "{}",
        agencies.body
    );
    assert!(korean.body.contains("100%를 넘습니다"), "{}", korean.body);
    // A dimension that does not exist is named, on the page and for the CSV.
    let bad = site.get("/stats.csv?by=nothing", Some(&analyst)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn admins_sign_in_with_a_second_factor_and_each_code_is_taken_once() {
    let site = Site::new();
    // A password alone gives an admin a session that can only set up a second factor.
    let due = site.sign_in("admin", PASSWORD).await.expect("password");
    let reply = site.get("/persons", Some(&due)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.headers[header::LOCATION], "/account/second-factor");
    let reply = site.get("/api/records?kind=persons", Some(&due)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.body.contains("second factor"), "{}", reply.body);
    // Enrolment shows the secret as text, as an otpauth URI and as a QR code.
    let page = site.get("/account/second-factor", Some(&due)).await;
    let secret = girok_server::totp::base32(&site.secret_of("admin"));
    assert!(
        page.body
            .contains(&format!("<code id=\"secret\">{secret}</code>"))
    );
    assert!(page.body.contains(&format!(
        "otpauth://totp/Girok:admin?secret={secret}&amp;issuer=Girok"
    )));
    assert!(page.body.contains("<svg"), "no QR code");
    let csrf = between(&page.body, "name=\"csrf\" value=\"", "\"").expect("csrf");
    let wrong = site
        .post_form(
            "/account/second-factor",
            Some(&due),
            &format!("csrf={csrf}&action=confirm&code=000000"),
            None,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let forged = site
        .post_form(
            "/account/second-factor",
            Some(&due),
            &format!(
                "csrf=forged&action=confirm&code={}",
                site.code_of("admin", 0)
            ),
            None,
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let codes = site.enrol("admin", &due).await;
    assert_eq!(codes.len(), girok_server::access::RECOVERY_CODES);
    assert_eq!(
        site.get("/persons", Some(&due)).await.status,
        StatusCode::OK
    );
    // Recovery codes are kept only as Argon2id hashes.
    let access = rusqlite::Connection::open(site.dir.path().join("access.sqlite")).expect("db");
    let hashes: Vec<String> = access
        .prepare("SELECT hash FROM recovery_code")
        .expect("query")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("hashes");
    assert_eq!(hashes.len(), codes.len());
    for hash in &hashes {
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(codes.iter().all(|c| !hash.contains(&c.replace('-', ""))));
    }
    // From now on a password alone starts no session.
    let reply = site
        .sign_in("admin", PASSWORD)
        .await
        .err()
        .expect("code asked");
    assert_eq!(reply.headers[header::LOCATION], "/login/code");
    // The code used to enrol is not taken again; the next step's is (drift).
    let used: i64 = access
        .query_row(
            "SELECT last_step FROM second_factor WHERE account = 'admin'",
            [],
            |r| r.get(0),
        )
        .expect("last step");
    let at_step = |step: i64| girok_server::totp::hotp(&site.secret_of("admin"), step as u64, 6);
    let replayed = site
        .sign_in_with_code("admin", &at_step(used))
        .await
        .err()
        .expect("replay refused");
    assert_eq!(replayed.status, StatusCode::UNAUTHORIZED);
    assert!(replayed.body.contains("already used"), "{}", replayed.body);
    let next = at_step(used + 1);
    let signed_in = site
        .sign_in_with_code("admin", &next)
        .await
        .expect("next code");
    assert_eq!(
        site.get("/admin/users", Some(&signed_in)).await.status,
        StatusCode::OK
    );
    assert!(site.sign_in_with_code("admin", &next).await.is_err());
    // Two steps from now is outside the drift allowed.
    assert!(
        site.sign_in_with_code("admin", &at_step(used + 3))
            .await
            .is_err()
    );
    // A recovery code signs in once, typed in any case.
    let recovery = codes[0].to_lowercase();
    assert!(site.sign_in_with_code("admin", &recovery).await.is_ok());
    assert!(site.sign_in_with_code("admin", &recovery).await.is_err());
    assert_eq!(
        site.app
            .with_access(|access| access.second_factor("admin").expect("factor")),
        SecondFactor::On {
            recovery_codes_left: codes.len() - 1
        }
    );
}

#[tokio::test]
async fn wrong_codes_count_like_wrong_passwords_and_a_right_password_does_not_clear_them() {
    wrong_codes_count_like_wrong_passwords_and_a_right_password_does_not_clear_them_on(&Site::new()).await;
}

#[test]
fn wrong_codes_count_like_wrong_passwords_and_a_right_password_does_not_clear_them_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(
        wrong_codes_count_like_wrong_passwords_and_a_right_password_does_not_clear_them_on(&site),
    );
}

async fn wrong_codes_count_like_wrong_passwords_and_a_right_password_does_not_clear_them_on(
    site: &Site,
) {
    site.session("admin").await;
    for _ in 0..girok_server::access::MAX_FAILURES - 1 {
        let reply = site
            .sign_in_with_code("admin", "000000")
            .await
            .err()
            .expect("wrong code");
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    // The password is right again, and the failures stay counted.
    let reply = site
        .sign_in_with_code("admin", "000000")
        .await
        .err()
        .expect("wrong code");
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    // Now even the password and a right code wait.
    let reply = site
        .sign_in("admin", PASSWORD)
        .await
        .err()
        .expect("limited");
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn documenters_need_a_second_factor_when_the_setting_says_so_and_admins_reset_it() {
    documenters_need_a_second_factor_when_the_setting_says_so_and_admins_reset_it_on(&Site::new())
        .await;
}

#[test]
fn documenters_need_a_second_factor_when_the_setting_says_so_and_admins_reset_it_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(
        documenters_need_a_second_factor_when_the_setting_says_so_and_admins_reset_it_on(&site),
    );
}

async fn documenters_need_a_second_factor_when_the_setting_says_so_and_admins_reset_it_on(
    site: &Site,
) {
    let admin = site.session("admin").await;
    let policy = |on: bool| {
        format!(
            "csrf={}&action=policy{}",
            admin.csrf,
            if on { "&documenters=on" } else { "" }
        )
    };
    let reply = site
        .post_form("/admin/second-factor", Some(&admin), &policy(true), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let documenter = site
        .sign_in("documenter", PASSWORD)
        .await
        .expect("password");
    let reply = site.get("/persons", Some(&documenter)).await;
    assert_eq!(reply.headers[header::LOCATION], "/account/second-factor");
    // Analysts are not asked.
    let analyst = site.sign_in("analyst", PASSWORD).await.expect("analyst");
    assert_eq!(
        site.get("/persons", Some(&analyst)).await.status,
        StatusCode::OK
    );
    site.enrol("documenter", &documenter).await;
    assert_eq!(
        site.get("/persons", Some(&documenter)).await.status,
        StatusCode::OK
    );
    // A lost device: the admin resets it, the documenter's sessions end,
    // and with the setting off a password signs in again.
    site.post_form("/admin/second-factor", Some(&admin), &policy(false), None)
        .await;
    let reset = site
        .post_form(
            "/admin/second-factor",
            Some(&admin),
            &format!("csrf={}&action=reset&name=documenter", admin.csrf),
            None,
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    assert_eq!(
        site.get("/persons", Some(&documenter)).await.headers[header::LOCATION],
        "/login"
    );
    assert!(site.sign_in("documenter", PASSWORD).await.is_ok());
    // Only admins reset, with the form's token.
    let analyst_reset = site
        .post_form(
            "/admin/second-factor",
            Some(&analyst),
            &format!("csrf={}&action=reset&name=admin", analyst.csrf),
            None,
        )
        .await;
    assert_eq!(analyst_reset.status, StatusCode::FORBIDDEN);
    assert!(matches!(
        site.app
            .with_access(|access| access.second_factor("admin").expect("factor")),
        SecondFactor::On { .. }
    ));
}

/// A request with an API key.
fn with_key(method: Method, path: &str, key: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

const NARROW: &str = r#"{"changes":[{"op":"set-consent","source":"s-un-2025-kim","scope":"internal","reason":"asked"}]}"#;

#[tokio::test]
async fn api_keys_do_what_their_scope_allows_until_they_expire() {
    let site = Site::new();
    let admin = site.session("admin").await;
    // Made in the admin page with a scope and an expiry, and listed there.
    let made = site
        .post_form(
            "/admin/keys",
            Some(&admin),
            &format!(
                "csrf={}&name=documenter&label=reader&scope=read&expires=2099-01-31",
                admin.csrf
            ),
            None,
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let read = between(&made.body, "shown only now: ", "<")
        .expect("key")
        .to_string();
    let keys = between(&made.body, "<table id=\"keys\">", "</table>").expect("keys");
    assert!(
        keys.contains("<td>reader</td><td>read</td>") && keys.contains("2099-01-31"),
        "{keys}"
    );
    let reply = site
        .send(with_key(
            Method::GET,
            "/api/records?kind=persons",
            &read,
            "",
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let before = head(&site);
    let reply = site
        .send(with_key(Method::POST, "/api/changes", &read, NARROW))
        .await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "scope");
    assert_eq!(head(&site), before);
    // Nor through a page's form.
    let reply = site
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/events/new")
                .header(header::AUTHORIZATION, format!("Bearer {read}"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("title=x"))
                .expect("request"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(head(&site), before);
    // A key cannot be wider than its user's role, nor expire in the past.
    for (name, scope, expires) in [
        ("analyst", "write", ""),
        ("documenter", "admin", ""),
        ("documenter", "read", "2001-01-01"),
        ("documenter", "read", "someday"),
    ] {
        let refused = site
            .post_form(
                "/admin/keys",
                Some(&admin),
                &format!(
                    "csrf={}&name={name}&label=x&scope={scope}&expires={expires}",
                    admin.csrf
                ),
                None,
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name} {scope} {expires}"
        );
    }
    // An expired key is refused with a problem that says so.
    rusqlite::Connection::open(site.dir.path().join("access.sqlite"))
        .expect("db")
        .execute(
            "UPDATE api_key SET expires = '2020-01-01T00:00:00+00:00' WHERE label = 'reader'",
            [],
        )
        .expect("age");
    let reply = site
        .send(with_key(
            Method::GET,
            "/api/records?kind=persons",
            &read,
            "",
        ))
        .await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED, "expired");
    let page = site.get("/admin/users", Some(&admin)).await;
    assert!(page.body.contains("expired"));
}

#[tokio::test]
async fn only_admins_forget_or_widen_consent_and_the_browser_asks_twice() {
    let site = Site::new();
    let forget = r#"{"changes":[{"op":"forget","subject":"p-un-kim","reason":"asked"}]}"#;
    let widen = r#"{"changes":[{"op":"set-consent","source":"s-un-2025-kim","scope":"partners","widen":true,"reason":"asked"}]}"#;
    let before = head(&site);
    // A documenter's key, and a documenter's session, are refused both.
    for body in [forget, widen] {
        let reply = site.post_changes_with_key(body).await;
        assert_problem(&reply, StatusCode::FORBIDDEN, "admin");
    }
    let documenter = site.session("documenter").await;
    let reply = site
        .post_json("/api/changes", &documenter, Some(&documenter.csrf), forget)
        .await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "admin");
    // Narrowing is still theirs.
    assert_eq!(
        site.post_changes_with_key(NARROW).await.status,
        StatusCode::OK
    );
    assert_eq!(head(&site), before + 1);
    let reply = site
        .get("/admin/forget?id=p-un-kim", Some(&documenter))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // An admin's key forgets only with the admin scope.
    let key = |scope: Scope| {
        site.app
            .with_access(|access| access.add_key("admin", "tests", scope, None).expect("key"))
    };
    let reply = site
        .send(with_key(
            Method::POST,
            "/api/changes",
            &key(Scope::Write),
            widen,
        ))
        .await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "admin");
    assert_eq!(head(&site), before + 1);
    let reply = site
        .send(with_key(
            Method::POST,
            "/api/changes",
            &key(Scope::Admin),
            widen,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // In the browser, the page names what will happen and asks for the id again.
    let admin = site.session("admin").await;
    let page = site.get("/admin/forget?id=p-un-kim", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("cannot be undone") && page.body.contains("p-un-kim"));
    let post = |csrf: &str, confirm: &str| {
        format!("csrf={csrf}&id=p-un-kim&reason=asked+by+the+witness&confirm={confirm}")
    };
    let at = head(&site);
    let reply = site
        .post_form(
            "/admin/forget",
            Some(&admin),
            &post(&admin.csrf, "p-un-ki"),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let reply = site
        .post_form(
            "/admin/forget",
            Some(&admin),
            &post("forged", "p-un-kim"),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(head(&site), at);
    let reply = site
        .post_form(
            "/admin/forget",
            Some(&admin),
            &post(&admin.csrf, "p-un-kim"),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(head(&site), at + 1);
    let last = site.read(|store| store.recent(1).expect("recent"));
    assert!(matches!(
        &last[0].entry.change,
        girok_model::Change::Forget { subject, .. } if subject.as_str() == "p-un-kim"
    ));
    // Widening consent in the browser: the scope, then a page that says what it publishes.
    let page = site
        .get("/admin/consent?id=s-un-2025-kim&scope=public", Some(&admin))
        .await;
    assert!(page.body.contains("name=\"confirm\""), "{}", page.body);
    let widen_form = |confirm: &str| {
        format!(
            "csrf={}&id=s-un-2025-kim&scope=public&reason=consent+given&confirm={confirm}",
            admin.csrf
        )
    };
    let reply = site
        .post_form("/admin/consent", Some(&admin), &widen_form(""), None)
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(head(&site), at + 1);
    let reply = site
        .post_form(
            "/admin/consent",
            Some(&admin),
            &widen_form("s-un-2025-kim"),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(head(&site), at + 2);
    let page = site
        .get("/admin/consent?id=s-un-2025-kim", Some(&admin))
        .await;
    assert!(page.body.contains("id=\"nothing-wider\""), "{}", page.body);
}

/// An admin disables and enables users, changes roles and passwords, ends
/// sessions and revokes keys from the browser, and each takes effect at once.
#[tokio::test]
async fn each_user_reads_times_in_the_time_zone_an_admin_gives_them() {
    each_user_reads_times_in_the_time_zone_an_admin_gives_them_on(&Site::new()).await;
}

#[test]
fn each_user_reads_times_in_the_time_zone_an_admin_gives_them_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(each_user_reads_times_in_the_time_zone_an_admin_gives_them_on(&site));
}

async fn each_user_reads_times_in_the_time_zone_an_admin_gives_them_on(site: &Site) {
    let admin = site.session("admin").await;
    let documenter = site.session("documenter").await;
    let zone = |zone: &str| {
        format!(
            "csrf={}&name=documenter&action=time-zone&time_zone={zone}",
            admin.csrf
        )
    };
    // Zones without summer time, so the offsets hold all year.
    for (name, offset) in [
        ("Asia%2FSeoul", "(UTC+09:00)"),
        ("Asia%2FKolkata", "(UTC+05:30)"),
    ] {
        let set = site
            .post_form("/admin/user", Some(&admin), &zone(name), None)
            .await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.body);
        for path in ["/", "/records/p-un-kim/history"] {
            let page = site.get(path, Some(&documenter)).await;
            assert!(page.body.contains(offset), "{path}: {}", page.body);
        }
    }
    let users = site.get("/admin/users", Some(&admin)).await;
    assert!(
        users.body.contains("<td>Asia/Kolkata</td>") && users.body.contains("list=\"time-zones\""),
        "{}",
        users.body
    );
    // A zone the database does not name is refused, in the admin's language, and changes nothing.
    let refused = site
        .post_form(
            "/admin/user",
            Some(&admin),
            &zone("Mars%2FOlympus"),
            Some("girok_lang=ko".into()),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("'Mars/Olympus'은(는) 시간대가 아닙니다"),
        "{}",
        refused.body
    );
    let page = site.get("/", Some(&documenter)).await;
    assert!(page.body.contains("(UTC+05:30)"), "{}", page.body);
    // Empty: the server's zone again.
    site.post_form("/admin/user", Some(&admin), &zone(""), None)
        .await;
    let users = site.get("/admin/users", Some(&admin)).await;
    assert!(!users.body.contains("<td>Asia/Kolkata</td>"));
}

#[tokio::test]
async fn admins_disable_users_change_roles_reset_passwords_and_revoke_keys() {
    admins_disable_users_change_roles_reset_passwords_and_revoke_keys_on(&Site::new()).await;
}

#[test]
fn admins_disable_users_change_roles_reset_passwords_and_revoke_keys_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(admins_disable_users_change_roles_reset_passwords_and_revoke_keys_on(&site));
}

async fn admins_disable_users_change_roles_reset_passwords_and_revoke_keys_on(site: &Site) {
    let admin = site.session("admin").await;
    let documenter = site.session("documenter").await;
    let key = site.app.with_access(|access| {
        access
            .add_key("documenter", "field laptop", Scope::Write, None)
            .expect("key")
    });
    let with_key = |key: &str| {
        Request::builder()
            .uri("/api/records?kind=persons")
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .body(Body::empty())
            .expect("request")
    };
    assert!(site.send(with_key(&key)).await.status.is_success());
    let change = |action: &str, extra: &str| {
        format!(
            "csrf={}&name=documenter&action={action}&role=viewer&password={extra}",
            admin.csrf
        )
    };
    // Disabled: the session ends, sign-in and the key are refused.
    let done = site
        .post_form("/admin/user", Some(&admin), &change("disable", ""), None)
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("disabled"), "{}", done.body);
    let page = site.get("/persons", Some(&documenter)).await;
    assert!(
        !page.status.is_success(),
        "a disabled user's session still works"
    );
    assert!(site.sign_in("documenter", PASSWORD).await.is_err());
    assert_eq!(
        site.send(with_key(&key)).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Enabled again: the password and the key work again.
    site.post_form("/admin/user", Some(&admin), &change("enable", ""), None)
        .await;
    let again = site.sign_in("documenter", PASSWORD).await.expect("sign in");
    assert!(site.send(with_key(&key)).await.status.is_success());
    assert!(
        site.get("/sources/new", Some(&again))
            .await
            .status
            .is_success()
    );
    // A new role ends the sessions; the next one has the new role.
    site.post_form("/admin/user", Some(&admin), &change("role", ""), None)
        .await;
    assert!(!site.get("/persons", Some(&again)).await.status.is_success());
    let viewer = site.session("documenter").await;
    let write = site.get("/sources/new", Some(&viewer)).await;
    assert!(!write.status.is_success(), "{}", write.status);
    // A new password: the old one fails, the new one works.
    let reset = site
        .post_form(
            "/admin/user",
            Some(&admin),
            &change("password", "another+long+password"),
            None,
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    assert!(site.sign_in("documenter", PASSWORD).await.is_err());
    assert!(
        site.sign_in("documenter", "another long password")
            .await
            .is_ok()
    );
    // A weak password is refused and names why.
    let weak = site
        .post_form(
            "/admin/user",
            Some(&admin),
            &change("password", "short"),
            None,
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.body.contains("12 characters"), "{}", weak.body);
    // The key is revoked.
    let revoked = site
        .post_form(
            "/admin/keys/revoke",
            Some(&admin),
            &format!("csrf={}&key=documenter%1Ffield+laptop", admin.csrf),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    assert_eq!(
        site.send(with_key(&key)).await.status,
        StatusCode::UNAUTHORIZED
    );
    // An admin cannot disable their own account, and a form without the token changes nothing.
    let own = site
        .post_form(
            "/admin/user",
            Some(&admin),
            &format!("csrf={}&name=admin&action=disable", admin.csrf),
            None,
        )
        .await;
    assert_eq!(own.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", own.body);
    let forged = site
        .post_form(
            "/admin/user",
            Some(&admin),
            "csrf=wrong&name=analyst&action=disable",
            None,
        )
        .await;
    assert!(!forged.status.is_success());
    assert!(site.sign_in("analyst", PASSWORD).await.is_ok());
}

/// A person of their own (a relative a testimony names) is created in the
/// browser; a name is required and a sex that does not read is refused.
#[tokio::test]
async fn documenters_create_a_person_in_the_browser() {
    documenters_create_a_person_in_the_browser_on(&Site::new()).await;
}

#[test]
fn documenters_create_a_person_in_the_browser_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(documenters_create_a_person_in_the_browser_on(&site));
}

async fn documenters_create_a_person_in_the_browser_on(site: &Site) {
    let documenter = site.session("documenter").await;
    let list = site.get("/persons", Some(&documenter)).await;
    assert!(list.body.contains("href=\"/persons/new\""), "{}", list.body);
    let form = site.get("/persons/new", Some(&documenter)).await;
    assert!(form.status.is_success(), "{}", form.body);
    assert!(form.body.contains("name=\"names\""), "{}", form.body);
    let before = site.read(|store| store.head().expect("head").0);
    let bad = site
        .post_form(
            "/persons/new",
            Some(&documenter),
            &format!(
                "csrf={}&names=%EA%B9%80%EC%9D%80%ED%9D%AC&sex=x",
                documenter.csrf
            ),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert_eq!(site.read(|store| store.head().expect("head").0), before);
    let saved = site
        .post_form(
            "/persons/new",
            Some(&documenter),
            &format!(
                "csrf={}&names=%EA%B9%80%EC%9D%80%ED%9D%AC&sex=%EC%97%AC&birth=1995&origin=hoeryong",
                documenter.csrf
            ),
            None,
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let location = saved.headers[header::LOCATION].to_str().expect("location");
    assert!(location.starts_with("/persons/p-"), "{location}");
    let id = location.trim_start_matches("/persons/");
    let record = site
        .get(&format!("/api/records/{id}"), Some(&documenter))
        .await;
    assert!(
        record.body.contains("김은희") && record.body.contains("\"sex\":\"female\""),
        "{}",
        record.body
    );
    let viewer = site.session("viewer").await;
    assert!(
        !site
            .get("/persons/new", Some(&viewer))
            .await
            .status
            .is_success()
    );
}

/// The text a reader sees: the body without its tags, styles and scripts.
fn visible(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        text.push(' ');
        let tail = &rest[open..];
        let skip_to = if tail.starts_with("<style") {
            tail.find("</style>").map(|i| i + "</style>".len())
        } else {
            tail.find('>').map(|i| i + 1)
        };
        rest = &tail[skip_to.unwrap_or(tail.len())..];
    }
    text.push_str(rest);
    text
}

fn term(kind: girok_model::VocabKind, key: &str) -> girok_model::Term {
    girok_model::vocab::builtin(kind)
        .get(key)
        .expect("a shipped term")
        .clone()
}

#[tokio::test]
async fn record_pages_read_in_the_vocabularies_words_with_links_and_no_internal_keys() {
    use girok_model::VocabKind;
    let site = Site::new();
    let documenter = site.session("documenter").await;
    let act_type = term(VocabKind::ActType, "forced-repatriation");
    let agency = term(VocabKind::Agency, "china-public-security");
    let place = term(VocabKind::Place, "china");
    for lang in ["en", "ko"] {
        let label = |t: &girok_model::Term| {
            if lang == "en" {
                t.en.clone()
            } else {
                t.ko.clone()
            }
        };
        let act = site
            .get_in("/records/a-un-kim-repatriation", &documenter, lang)
            .await;
        assert_eq!(act.status, StatusCode::OK, "{lang}");
        let title = between(&act.body, "<h1>", "</h1>").expect("title");
        // The title says what the act is and whom it was done to, not its id.
        assert!(
            title.contains(&label(&act_type)) && title.contains("Kim Eun-joo"),
            "{lang}: {title}"
        );
        let text = visible(&act.body);
        for word in [label(&act_type), label(&agency), label(&place)] {
            assert!(text.contains(&word), "{lang}: no {word} in {text}");
        }
        // The act summary: its victim and its source are links, the source with its grade.
        assert!(
            act.body
                .contains("href=\"/persons/p-un-kim\">Kim Eun-joo</a>"),
            "{lang}: {}",
            act.body
        );
        assert!(
            act.body
                .contains("href=\"/sources/s-un-2025-kim\">Testimony of Kim Eun-joo")
        );
        let grade = if lang == "en" {
            "B — usually reliable"
        } else {
            "B — 대체로 신뢰할 수 있음"
        };
        assert!(text.contains(grade), "{lang}: {text}");
        let field = if lang == "en" {
            "Type of act"
        } else {
            "행위 유형"
        };
        assert!(text.contains(field), "{lang}: {text}");
    }
    // What a source attests: each act titled by its victim too, though the
    // victim is two steps from the source (source, attestation, act, victim).
    let media = site
        .get_in("/sources/s-media-2025", &documenter, "en")
        .await;
    assert!(
        media.body.contains("Forced repatriation — Eunju Kim")
            && media.body.contains("Torture — Eunju Kim"),
        "{}",
        media.body
    );
    // A person's names are a list with script and system, never JSON.
    let person = site.get_in("/persons/p-un-kim", &documenter, "en").await;
    let text = visible(&person.body);
    assert!(
        text.contains("Kim Eun-joo")
            && text.contains("Latin")
            && text.contains("Passport spelling"),
        "{text}"
    );
    assert!(
        text.contains("Acts against this person") && text.contains("Torture"),
        "{text}"
    );
    let korean = visible(
        &site
            .get_in("/persons/p-un-kim", &documenter, "ko")
            .await
            .body,
    );
    assert!(
        korean.contains("로마자") && korean.contains("여권") && korean.contains("여성"),
        "{korean}"
    );
    // An analyst's titles name no one: the person's page says whose name is withheld once, and its
    // acts are titled by what was done.
    let analyst = site.session("analyst").await;
    let seen = site.get_in("/persons/p-un-kim", &analyst, "en").await;
    let title = between(&seen.body, "<h1>", "</h1>").expect("title");
    assert_eq!(title, "Person (name withheld)");
    assert!(
        !seen.body.contains("— Person (name withheld)"),
        "{}",
        seen.body
    );
    assert!(
        seen.body.contains(">Forced repatriation</a>"),
        "{}",
        seen.body
    );
    for path in [
        "/persons/p-un-kim",
        "/sources/s-un-2025-kim",
        "/records/a-un-kim-repatriation",
        "/records/a-un-kim-torture",
        "/records/i-un-kim-repatriation",
        "/records/f-un-kim-torture",
        "/records/e-covid-executions",
    ] {
        for lang in ["en", "ko"] {
            let page = site.get_in(path, &documenter, lang).await;
            assert_eq!(page.status, StatusCode::OK, "{path}");
            let text = visible(&page.body);
            for internal in [
                "act_type",
                "victim_age",
                "received_by",
                "\"script\"",
                "[{",
                "{\"",
                "forced-repatriation",
                "china-public-security",
                "carried-out",
                "north-korea",
                "heard-from",
                "interview ",
                "public-anonymised",
                " self ",
                "[withheld]",
            ] {
                assert!(
                    !text.contains(internal),
                    "{path} ({lang}) shows {internal}: {text}"
                );
            }
        }
    }
}

#[tokio::test]
async fn history_shows_each_change_before_and_after_in_local_time() {
    history_shows_each_change_before_and_after_in_local_time_on(&Site::new()).await;
}

#[test]
fn history_shows_each_change_before_and_after_in_local_time_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(history_shows_each_change_before_and_after_in_local_time_on(
        &site,
    ));
}

async fn history_shows_each_change_before_and_after_in_local_time_on(site: &Site) {
    let documenter = site.session("documenter").await;
    let reply = site.post_changes_with_key(r#"{"changes":[{"op":"create","record":{"type":"person","id":"p-history","names":[{"text":"박동구","script":"hangul"}],"sex":"unknown"}}]}"#).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let reply = site.post_changes_with_key(r#"{"changes":[{"op":"update","base_revision":1,"record":{"type":"person","id":"p-history","names":[{"text":"박동구","script":"hangul"}],"sex":"male","origin":"hoeryong"}}]}"#).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let history = site
        .get_in("/records/p-history/history", &documenter, "en")
        .await;
    assert_eq!(history.status, StatusCode::OK);
    let body = &history.body;
    // The update names the fields it set: sex from unknown to male, an origin where there was none.
    assert!(
        body.contains("<th>Sex</th><td><del>Unknown</del></td><td><ins>Male</ins></td>"),
        "{body}"
    );
    assert!(body.contains("<th>Place of origin</th><td><span class=\"hint\">—</span></td><td><ins>Hoeryong, North Hamgyong"), "{body}");
    assert!(
        !body.contains("from revision") && body.contains("Changed (revision 1 → 2)"),
        "{body}"
    );
    // Times to the second, in local time with the offset: no microseconds, no raw RFC 3339.
    let stored = site.read(|store| {
        store
            .history(&girok_model::RecordId::new("p-history"))
            .expect("history")
    });
    let raw = &stored[0].entry.time;
    assert!(raw.contains('.'), "the journal keeps microseconds: {raw}");
    assert!(
        !body.contains(raw.as_str()) && !body.contains(&raw[..19]),
        "{body}"
    );
    let local = chrono::DateTime::parse_from_rfc3339(raw)
        .expect("time")
        .with_timezone(&chrono::Local);
    assert!(
        body.contains(&local.format("%Y-%m-%d %H:%M:%S (UTC%:z)").to_string()),
        "{body}"
    );
    let korean = site
        .get_in("/records/p-history/history", &documenter, "ko")
        .await;
    assert!(
        korean
            .body
            .contains("<th>성별</th><td><del>미상</del></td><td><ins>남성</ins></td>"),
        "{}",
        korean.body
    );
    // An analyst sees that the origin changed, not where it is (origin is withheld).
    let analyst = site.session("analyst").await;
    let seen = site
        .get_in("/records/p-history/history", &analyst, "en")
        .await;
    assert!(
        !seen.body.contains("박동구") && !seen.body.contains("Hoeryong"),
        "{}",
        seen.body
    );
    assert!(seen.body.contains("<ins>Male</ins>"), "{}", seen.body);
}

#[tokio::test]
async fn error_pages_are_inside_the_application_with_the_menu_in_the_readers_language() {
    let site = Site::new();
    let viewer = site.session("viewer").await;
    let documenter = site.session("documenter").await;
    for (path, session, status) in [
        ("/no-such-page", &documenter, StatusCode::NOT_FOUND),
        (
            "/records/p-no-such-person",
            &documenter,
            StatusCode::NOT_FOUND,
        ),
        ("/persons", &viewer, StatusCode::FORBIDDEN),
    ] {
        let english = site.get_in(path, session, "en").await;
        assert_eq!(english.status, status, "{path}");
        assert!(
            english.body.contains("<nav") && english.body.contains("href=\"/stats\""),
            "{path}: {}",
            english.body
        );
        assert!(english.body.contains("action=\"/logout\""), "{path}");
        let korean = site.get_in(path, session, "ko").await;
        assert_eq!(korean.status, status, "{path}");
        assert!(
            korean.body.contains("<html lang=\"ko\"") && korean.body.contains("통계"),
            "{path}"
        );
        let words = if status == StatusCode::FORBIDDEN {
            "분석가 이상의 권한이 필요합니다"
        } else {
            "찾을 수 없음"
        };
        assert!(korean.body.contains(words), "{path}: {}", korean.body);
    }
    // The API keeps answering problem+json.
    let api = site.get("/api/no-such-operation", Some(&documenter)).await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(
        api.headers[header::CONTENT_TYPE],
        "application/problem+json"
    );
    // The icon is the application's own, inline SVG.
    let icon = site.get("/favicon.svg", None).await;
    assert_eq!(icon.status, StatusCode::OK);
    assert_eq!(icon.headers[header::CONTENT_TYPE], "image/svg+xml");
    assert!(icon.body.starts_with("<svg"));
    assert!(
        site.get("/", Some(&documenter))
            .await
            .body
            .contains("rel=\"icon\" type=\"image/svg+xml\" href=\"/favicon.svg\"")
    );
}

#[tokio::test]
async fn saving_confirms_and_offers_the_next_steps() {
    let site = Site::new();
    let documenter = site.session("documenter").await;
    let form = format!(
        "csrf={}&title=Testimony+of+a+new+witness&obtained=2024-05&witness=%EC%9D%B4%EC%98%81%EC%88%98&sex=male&consent=internal&language=ko&organisation=NKDB&notes=",
        documenter.csrf
    );
    let created = site
        .post_form("/sources", Some(&documenter), &form, None)
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let location = created.headers[header::LOCATION]
        .to_str()
        .expect("location")
        .to_string();
    assert!(location.ends_with("?saved=1"), "{location}");
    let page = site.get_in(&location, &documenter, "en").await;
    assert!(
        page.body.contains("role=\"status\"") && page.body.contains("Saved."),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Record an act against the witness")
            && page.body.contains("href=\"/sources/new\"")
    );
    // Without the flag the same page has no confirmation.
    let again = site
        .get_in(location.trim_end_matches("?saved=1"), &documenter, "en")
        .await;
    assert!(!again.body.contains("Saved."));
    // Every page carries a print layout without the menu, the actions or the forms.
    let style = between(&page.body, "@media print{", "}}").expect("a print stylesheet");
    for hidden in ["header", ".actions", "form"] {
        assert!(style.contains(hidden), "{style}");
    }
}

#[tokio::test]
async fn name_search_follows_each_write() {
    name_search_follows_each_write_on(&Site::new()).await;
}

#[test]
fn name_search_follows_each_write_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(name_search_follows_each_write_on(&site));
}

async fn name_search_follows_each_write_on(site: &Site) {
    let documenter = site.session("documenter").await;
    let found = |body: &str| body.contains("href=\"/persons/p-follow\"");
    // The first search builds the index; later writes are followed entry by entry
    // (each changed person read again), so a rename and a delete must show at once.
    assert!(!found(
        &site
            .get("/persons?q=Park+Dong-gu", Some(&documenter))
            .await
            .body
    ));
    let reply = site.post_changes_with_key(r#"{"changes":[{"op":"create","record":{"type":"person","id":"p-follow","names":[{"text":"박동구","script":"hangul"}]}}]}"#).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(found(
        &site
            .get("/persons?q=Park+Dong-gu", Some(&documenter))
            .await
            .body
    ));
    let reply = site.post_changes_with_key(r#"{"changes":[{"op":"update","base_revision":1,"record":{"type":"person","id":"p-follow","names":[{"text":"이영희","script":"hangul"}]}}]}"#).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(!found(
        &site
            .get("/persons?q=Park+Dong-gu", Some(&documenter))
            .await
            .body
    ));
    assert!(found(
        &site
            .get("/persons?q=Lee+Young-hee", Some(&documenter))
            .await
            .body
    ));
    let reply = site.post_changes_with_key(r#"{"changes":[{"op":"delete","kind":"person","id":"p-follow","base_revision":2,"reason":"entered twice"}]}"#).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(!found(
        &site
            .get("/persons?q=Lee+Young-hee", Some(&documenter))
            .await
            .body
    ));
    assert!(!found(
        &site.get("/persons?q=이영", Some(&documenter)).await.body
    ));
}

/// Stated dates read in the page's language: "2023-10" is "2023년 10월" in Korean.
#[tokio::test]
async fn dates_read_in_the_language_of_the_page() {
    let site = Site::new();
    let documenter = site.session("documenter").await;
    let english = site
        .get("/records/a-un-kang-flight", Some(&documenter))
        .await;
    assert!(english.status.is_success(), "{}", english.status);
    assert!(english.body.contains("2023-10"), "{}", english.body);
    let request = Request::builder()
        .uri("/records/a-un-kang-flight")
        .header(
            header::COOKIE,
            format!("girok_session={}; girok_lang=ko", documenter.token),
        )
        .body(Body::empty())
        .expect("request");
    let korean = site.send(request).await;
    assert!(korean.body.contains("2023년 10월"), "{}", korean.body);
}

/// An act saved without a source is saved, and the page that confirms it
/// says plainly that nothing attests it yet; with a source, no warning.
#[tokio::test]
async fn an_act_saved_without_a_source_is_named_as_unattested() {
    let site = Site::new();
    let documenter = site.session("documenter").await;
    let act = |source: &str| {
        format!(
            "csrf={}&act_type=arrest&date=2019&place=hoeryong&age=&agency=&source={source}&relation=&description=",
            documenter.csrf
        )
    };
    let unsourced = site
        .post_form("/persons/p-un-kim/acts", Some(&documenter), &act(""), None)
        .await;
    assert_eq!(
        unsourced.status,
        StatusCode::SEE_OTHER,
        "{}",
        unsourced.body
    );
    let location = unsourced.headers[header::LOCATION]
        .to_str()
        .expect("location");
    assert!(location.contains("unsourced=1"), "{location}");
    let page = site.get(location, Some(&documenter)).await;
    assert!(
        page.body.contains("saved without a source"),
        "{}",
        page.body
    );
    // The warning is on the act's own page, which offers to add its source.
    let unsourced_act = location
        .strip_prefix("/records/")
        .and_then(|rest| rest.split('?').next())
        .expect("the act's page")
        .to_string();
    assert!(
        page.body
            .contains(&format!("href=\"/records/{unsourced_act}/sources/new\"")),
        "{}",
        page.body
    );
    let form = site
        .get(
            &format!("/records/{unsourced_act}/sources/new"),
            Some(&documenter),
        )
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(
        form.body.contains("Arrest"),
        "the act is named: {}",
        form.body
    );
    // No source chosen: refused at the field, nothing written.
    let before = site.read(|store| {
        store
            .count(girok_model::RecordKind::Information)
            .expect("count")
    });
    let refused = site
        .post_form(
            &format!("/records/{unsourced_act}/sources"),
            Some(&documenter),
            &format!("csrf={}&source=&reliability=b", documenter.csrf),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("id=\"source-error\"")
            && refused.body.contains("<option value=\"b\" selected>"),
        "{}",
        refused.body
    );
    let added = site
        .post_form(
            &format!("/records/{unsourced_act}/sources"),
            Some(&documenter),
            &format!(
                "csrf={}&source=s-un-2025-kim&reliability=b&credibility=2&knowledge=saw",
                documenter.csrf
            ),
            None,
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let after = site.read(|store| {
        store
            .count(girok_model::RecordKind::Information)
            .expect("count")
    });
    assert_eq!(after, before + 1);
    let attested = site
        .get(&support::location(&added), Some(&documenter))
        .await;
    assert!(
        attested.body.contains("Saved.") && !attested.body.contains("saved without a source"),
        "{}",
        attested.body
    );
    assert!(
        site.get("/records/no-such-act/sources/new", Some(&documenter))
            .await
            .status
            == StatusCode::NOT_FOUND
    );
    let sourced = site
        .post_form(
            "/persons/p-un-kim/acts",
            Some(&documenter),
            &act("s-un-2025-kim"),
            None,
        )
        .await;
    let location = sourced.headers[header::LOCATION]
        .to_str()
        .expect("location");
    assert!(!location.contains("unsourced"), "{location}");
    let page = site.get(location, Some(&documenter)).await;
    assert!(!page.body.contains("saved without a source"));
}

/// The act form grades the attestation as the Admiralty scale does: the
/// source's reliability and the information's credibility, both shown on
/// the attestation's page; a grade outside 1 to 6 is refused by field.
#[tokio::test]
async fn the_act_form_grades_reliability_and_credibility() {
    let site = Site::new();
    let documenter = site.session("documenter").await;
    let form = site
        .get("/persons/p-un-kim/acts/new", Some(&documenter))
        .await;
    assert!(
        form.body.contains("id=\"credibility\"") && form.body.contains("2 — probably true"),
        "{}",
        form.body
    );
    let act = |credibility: &str| {
        format!(
            "csrf={}&act_type=arrest&date=2019&place=hoeryong&source=s-un-2025-kim&reliability=b&credibility={credibility}&knowledge=saw",
            documenter.csrf
        )
    };
    let before = head(&site);
    let refused = site
        .post_form("/persons/p-un-kim/acts", Some(&documenter), &act("9"), None)
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("id=\"credibility-error\"")
            && refused.body.contains("not a credibility grade"),
        "{}",
        refused.body
    );
    assert_eq!(head(&site), before);
    let saved = site
        .post_form("/persons/p-un-kim/acts", Some(&documenter), &act("2"), None)
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let information = site
        .read(|store| store.recent(3).expect("recent"))
        .into_iter()
        .find_map(|row| match row.entry.change {
            girok_model::Change::Create {
                record: girok_model::Record::Information(information),
            } => Some(information),
            _ => None,
        })
        .expect("the attestation is written");
    assert_eq!(
        (information.reliability, information.credibility),
        (Some(girok_model::Reliability::B), Some(2))
    );
    let page = site
        .get_in(&format!("/records/{}", information.id), &documenter, "ko")
        .await;
    assert!(
        page.body.contains("2 — 사실일 가능성 높음"),
        "{}",
        page.body
    );
}

/// A form refused in Korean names each field's problem in Korean: a date
/// and a Hangul slip in a place name, with its suggestion.
#[tokio::test]
async fn a_refused_form_speaks_the_readers_language() {
    let site = Site::new();
    let documenter = site.session("documenter").await;
    let act = format!(
        "csrf={}&act_type=arrest&date=2019-13&place=%ED%9A%8C%EB%A3%A1&age=&agency=&source=s-un-2025-kim&relation=&description=",
        documenter.csrf
    );
    let before = head(&site);
    let korean = site
        .post_form(
            "/persons/p-un-kim/acts",
            Some(&documenter),
            &act,
            Some("girok_lang=ko".into()),
        )
        .await;
    assert_eq!(korean.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        korean.body.contains("월(1-12)이 아닙니다")
            && korean.body.contains("혹시 hoeryong")
            && !korean.body.contains("is not a month")
            && !korean.body.contains("did you mean"),
        "{}",
        korean.body
    );
    let english = site
        .post_form("/persons/p-un-kim/acts", Some(&documenter), &act, None)
        .await;
    assert!(
        english.body.contains("is not a month (1-12)")
            && english.body.contains("did you mean hoeryong"),
        "{}",
        english.body
    );
    assert_eq!(head(&site), before);
}

/// A multipart upload form: the CSRF token first, as the browser sends the page's form.
fn upload_request(
    path: &str,
    session: &Session,
    csrf: &str,
    file: &[u8],
    sensitive: bool,
) -> Request<Body> {
    upload_request_captured(path, session, csrf, file, sensitive, "2024-03")
}

/// [`upload_request`] with the date typed in the form's "captured" field.
fn upload_request_captured(
    path: &str,
    session: &Session,
    csrf: &str,
    file: &[u8],
    sensitive: bool,
    captured: &str,
) -> Request<Body> {
    let boundary = "girok-test-boundary";
    let mut body = Vec::new();
    let mut text_field = |name: &str, value: &str| {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .into_bytes(),
        );
    };
    text_field("csrf", csrf);
    text_field("captured", captured);
    if sensitive {
        text_field("sensitive", "1");
    }
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"kim-interview.txt\"\r\nContent-Type: text/plain\r\n\r\n"
        )
        .into_bytes(),
    );
    body.extend(file);
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header(header::COOKIE, format!("girok_session={}", session.token))
        .body(Body::from(body))
        .expect("request")
}

fn evidence_count(site: &Site) -> u64 {
    site.app
        .read(|store| store.count(girok_model::RecordKind::Evidence))
        .expect("count")
}

fn leftover_uploads(site: &Site) -> Vec<String> {
    std::fs::read_dir(site.dir.path())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".upload-") || name.starts_with(".download-"))
        .collect()
}

#[tokio::test]
async fn documenters_upload_and_download_evidence_and_see_its_chain_of_custody() {
    let site = Site::encrypted("correct horse battery staple");
    let documenter = site.session("documenter").await;
    let analyst = site.session("analyst").await;
    let contents = b"transcript: a witness names her brother";
    let form = site
        .get("/sources/s-un-2025-kim/evidence/new", Some(&documenter))
        .await;
    assert!(
        form.status.is_success()
            && form.body.contains("multipart/form-data")
            && form.body.contains("Testimony of Kim Eun-joo"),
        "{}",
        form.body
    );
    let korean = site
        .get_in("/sources/s-un-2025-kim/evidence/new", &documenter, "ko")
        .await;
    assert!(
        korean.body.contains("증거 추가") && korean.body.contains("파일 저장"),
        "{}",
        korean.body
    );
    let missing = site
        .get("/sources/no-such-source/evidence/new", Some(&documenter))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let path = "/sources/s-un-2025-kim/evidence";

    // Without the form's token, or from an analyst, nothing is stored.
    let before = evidence_count(&site);
    let forged = site
        .send(upload_request(path, &documenter, "forged", contents, true))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    let analysts = site
        .send(upload_request(
            path,
            &analyst,
            &analyst.csrf,
            contents,
            true,
        ))
        .await;
    assert_eq!(analysts.status, StatusCode::FORBIDDEN);
    assert_eq!(evidence_count(&site), before);

    // Stored sealed: its page shows the file's own hash to a documenter, and the custody chain.
    let stored = site
        .send(upload_request(
            path,
            &documenter,
            &documenter.csrf,
            contents,
            true,
        ))
        .await;
    assert_eq!(stored.status, StatusCode::SEE_OTHER, "{}", stored.body);
    let location = stored.headers[header::LOCATION]
        .to_str()
        .expect("location")
        .to_string();
    let id = between(&location, "/records/", "?")
        .expect("evidence id")
        .to_string();
    assert_eq!(evidence_count(&site), before + 1);
    let plain_sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(contents));
    let page = site.get(&format!("/records/{id}"), Some(&documenter)).await;
    assert!(
        page.body.contains(&plain_sha256)
            && page.body.contains("kim-interview.txt")
            && page.body.contains("Chain of custody")
            && page.body.contains("Intake"),
        "{}",
        page.body
    );
    // An analyst sees neither the file's hash nor its name.
    let seen = site.get(&format!("/records/{id}"), Some(&analyst)).await;
    assert!(
        seen.status.is_success()
            && !seen.body.contains(&plain_sha256)
            && !seen.body.contains("kim-interview"),
        "{}",
        seen.body
    );
    let refused = site
        .get(&format!("/records/{id}/download"), Some(&analyst))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // A download hands out the exact bytes and is a custody event.
    let download = site
        .get(&format!("/records/{id}/download"), Some(&documenter))
        .await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.body.as_bytes(), contents);
    assert!(
        download.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .expect("header")
            .contains("kim-interview.txt")
    );
    let page = site.get(&format!("/records/{id}"), Some(&documenter)).await;
    assert!(
        page.body.contains("downloaded in the web application"),
        "{}",
        page.body
    );
    assert!(
        leftover_uploads(&site).is_empty(),
        "{:?}",
        leftover_uploads(&site)
    );

    // Locked, the file cannot be handed out.
    site.app.lock();
    let locked = site
        .get(&format!("/records/{id}/download"), Some(&documenter))
        .await;
    assert_eq!(locked.status, StatusCode::CONFLICT, "{}", locked.body);
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused_and_leaves_nothing() {
    let mut site = Site::new();
    site.app = App::open_with(
        site.dir.path(),
        girok_server::Settings {
            upload_limit: 1024,
            ..Default::default()
        },
    )
    .expect("app");
    let documenter = site.session("documenter").await;
    let before = evidence_count(&site);
    let big = vec![b'x'; 4096];
    let reply = site
        .send(upload_request(
            "/sources/s-un-2025-kim/evidence",
            &documenter,
            &documenter.csrf,
            &big,
            false,
        ))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(
        reply.body.contains("larger than the limit"),
        "{}",
        reply.body
    );
    assert_eq!(evidence_count(&site), before);
    assert!(leftover_uploads(&site).is_empty());
    assert!(
        !site.dir.path().join("evidence").exists(),
        "no file was stored"
    );

    // A date that does not read is named, what was typed is kept, and nothing is stored.
    let reply = site
        .send(upload_request_captured(
            "/sources/s-un-2025-kim/evidence",
            &documenter,
            &documenter.csrf,
            b"small",
            true,
            "the 32nd of Neverary",
        ))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body.contains("Captured")
            && reply.body.contains("value=\"the 32nd of Neverary\"")
            && reply.body.contains("checked"),
        "{}",
        reply.body
    );
    // At the field, with the source still named and the file to be chosen again.
    assert!(
        reply.body.contains("id=\"captured-error\"")
            && reply.body.contains("aria-invalid=\"true\"")
            && reply.body.contains("Add evidence to")
            && reply.body.contains("Choose the file again"),
        "{}",
        reply.body
    );
    assert_eq!(evidence_count(&site), before);
    assert!(leftover_uploads(&site).is_empty());
}

/// A CSV file uploaded through the import form: the CSRF token first, as the browser sends it.
fn import_request(session: &Session, csrf: Option<&str>, name: &str, file: &[u8]) -> Request<Body> {
    let boundary = "girok-test-boundary";
    let mut body = Vec::new();
    if let Some(csrf) = csrf {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n"
            )
            .into_bytes(),
        );
    }
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .into_bytes(),
    );
    body.extend(file);
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    Request::builder()
        .method(Method::POST)
        .uri("/import")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header(header::COOKIE, format!("girok_session={}", session.token))
        .body(Body::from(body))
        .expect("request")
}

/// Uploads waiting for a confirmation, and upload files left behind.
fn staged_and_leftover(site: &Site) -> Vec<String> {
    let staged = std::fs::read_dir(site.dir.path().join("import-staging"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned());
    staged.chain(leftover_uploads(site)).collect()
}

const GOOD_CSV: &str = "source_id,source_title,consent,victim_id,victim_names,sex,act_type,act_date,act_place\n\
s-web-1,Interview in Seoul,internal,p-web-1,박영희;Pak Yŏng-hŭi,여성,arrest,2020년 5월,Hoeryŏng\n\
s-web-1,,,p-web-2,Ri Chol,male,enforced-disappearance,c. 2019,Musan\n";

fn confirmation(page: &str, csrf: &str) -> String {
    let sha256 =
        between(page, "name=\"sha256\" value=\"", "\"").expect("the confirmation names the bytes");
    let name = between(page, "name=\"name\" value=\"", "\"").expect("and the file's name");
    format!("csrf={csrf}&sha256={sha256}&name={name}")
}

/// The rows of a CSV text as the first sheet of a workbook, every cell a string.
fn as_workbook(csv: &str) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (row, line) in csv.lines().enumerate() {
        for (column, cell) in line.split(',').enumerate() {
            if !cell.is_empty() {
                sheet
                    .write_string(row as u32, column as u16, cell)
                    .expect("cell");
            }
        }
    }
    book.save_to_buffer().expect("workbook")
}

#[tokio::test]
async fn a_spreadsheet_previews_and_imports_as_its_csv_does() {
    let site = Site::new();
    let documenter = site.session("documenter").await;
    let form = site.get("/import", Some(&documenter)).await;
    assert!(
        form.body.contains("accept=\".csv,.xlsx,.xlsm,.xls,.ods\""),
        "{}",
        form.body
    );
    let before = head(&site);
    let refused = site
        .send(import_request(
            &documenter,
            Some(&documenter.csrf),
            "seoul.txt",
            GOOD_CSV.as_bytes(),
        ))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("spreadsheet"), "{}", refused.body);
    // A CSV file named as a workbook is not one.
    let disguised = site
        .send(import_request(
            &documenter,
            Some(&documenter.csrf),
            "seoul.xlsx",
            GOOD_CSV.as_bytes(),
        ))
        .await;
    assert_eq!(
        disguised.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        disguised.body
    );
    assert!(
        disguised.body.contains("is not a spreadsheet"),
        "{}",
        disguised.body
    );
    assert!(staged_and_leftover(&site).is_empty());

    let preview = site
        .send(import_request(
            &documenter,
            Some(&documenter.csrf),
            "seoul.xlsx",
            &as_workbook(GOOD_CSV),
        ))
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(
        preview.body.contains("<td id=\"rows\">2</td>"),
        "{}",
        preview.body
    );
    assert_eq!(head(&site), before, "a preview writes nothing");
    let confirm = confirmation(&preview.body, &documenter.csrf);
    let imported = site
        .post_form("/import/confirm", Some(&documenter), &confirm, None)
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    let person = site.get("/persons/p-web-1", Some(&documenter)).await;
    assert!(person.body.contains("박영희"), "{}", person.body);
}

#[tokio::test]
async fn a_csv_previews_what_it_creates_then_imports_whole_and_a_second_time_is_refused() {
    let site = Site::new();
    let documenter = site.session("documenter").await;
    let form = site.get("/import", Some(&documenter)).await;
    assert!(
        form.status.is_success()
            && form.body.contains("multipart/form-data")
            && form.body.contains("href=\"/import\"")
            && form.body.contains("행위유형"),
        "{}",
        form.body
    );
    let korean = site.get_in("/import", &documenter, "ko").await;
    assert!(korean.body.contains("CSV 파일 가져오기") && korean.body.contains("파일 검사"));
    let sources = site.get("/sources", Some(&documenter)).await;
    assert!(sources.body.contains("Import testimonies from a CSV file"));

    let before = head(&site);
    let preview = site
        .send(import_request(
            &documenter,
            Some(&documenter.csrf),
            "seoul.csv",
            GOOD_CSV.as_bytes(),
        ))
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let created = between(&preview.body, "id=\"created\"", "</table>").expect("created");
    assert!(
        preview.body.contains("<td id=\"rows\">2</td>")
            && words(created).contains("Person 2")
            && words(created).contains("Act 2")
            && preview.body.contains("confirm-import"),
        "{}",
        preview.body
    );
    assert_eq!(head(&site), before, "a preview writes nothing");
    assert_eq!(
        staged_and_leftover(&site).len(),
        1,
        "the upload waits on disk"
    );

    let confirm = confirmation(&preview.body, &documenter.csrf);
    let imported = site
        .post_form("/import/confirm", Some(&documenter), &confirm, None)
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    assert!(
        imported.body.contains("id=\"imported\""),
        "{}",
        imported.body
    );
    let person = site.get("/persons/p-web-1", Some(&documenter)).await;
    assert!(person.body.contains("박영희"), "{}", person.body);
    let journaled = site.read(|store| store.recent(20).expect("recent"));
    assert!(journaled.iter().any(|row| matches!(
        &row.entry.change,
        girok_model::Change::Import { file_name, .. } if file_name == "seoul.csv"
    )));
    assert!(
        staged_and_leftover(&site).is_empty(),
        "{:?}",
        staged_and_leftover(&site)
    );

    // The same bytes again, previewed or confirmed, are refused as on the command line.
    let after = head(&site);
    let again = site
        .send(import_request(
            &documenter,
            Some(&documenter.csrf),
            "again.csv",
            GOOD_CSV.as_bytes(),
        ))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(
        again.body.contains("already imported (as seoul.csv"),
        "{}",
        again.body
    );
    let replayed = site
        .post_form("/import/confirm", Some(&documenter), &confirm, None)
        .await;
    assert_eq!(replayed.status, StatusCode::CONFLICT, "{}", replayed.body);
    assert_eq!(head(&site), after);
    assert!(staged_and_leftover(&site).is_empty());
}

#[tokio::test]
async fn a_csv_with_problems_shows_each_by_line_and_column_and_writes_nothing() {
    let site = Site::new();
    let documenter = site.session("documenter").await;
    let csv = "source_id,source_title,consent,victim_id,sex,act_type,act_date\n\
               s-web-2,Interview,internal,p-web-3,female,arrest,2020\n\
               s-web-2,,,,female,arrest,2020\n\
               s-web-2,,,p-web-4,maybe,publc execution,2020\n\
               s-web-2,,,p-web-5\n";
    let before = head(&site);
    let reply = site
        .send(import_request(
            &documenter,
            Some(&documenter.csrf),
            "rows.csv",
            csv.as_bytes(),
        ))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    let problems = words(between(&reply.body, "<tbody>", "</tbody>").expect("problems"));
    for expected in [
        "3 victim_id A victim is required.",
        "4 sex",
        "4 act_type",
        "did you mean public-execution",
        "5 — Not valid CSV",
    ] {
        assert!(problems.contains(expected), "{expected}: {problems}");
    }
    assert!(
        reply.body.contains("4 problems: nothing was written"),
        "{}",
        reply.body
    );
    assert!(!reply.body.contains("confirm-import"));
    assert_eq!(head(&site), before);
    assert!(
        staged_and_leftover(&site).is_empty(),
        "a file with problems is not kept"
    );

    let korean = site
        .send({
            let mut request = import_request(
                &documenter,
                Some(&documenter.csrf),
                "rows.csv",
                csv.as_bytes(),
            );
            request.headers_mut().insert(
                header::COOKIE,
                format!("girok_session={}; girok_lang=ko", documenter.token)
                    .parse()
                    .expect("cookie"),
            );
            request
        })
        .await;
    // The problems found in the cells are worded in Korean too, suggestions included.
    assert!(
        korean.body.contains("피해자를 입력하세요")
            && korean.body.contains("CSV 형식이 아닙니다")
            && korean.body.contains("중 하나가 아닙니다")
            && korean.body.contains("혹시 public-execution")
            && !korean.body.contains("is not one of")
            && korean
                .body
                .contains("개의 문제가 있어 아무것도 쓰지 않았습니다"),
        "{}",
        korean.body
    );
    let header = "source_id,act_typ\ns-web-2,arrest\n";
    let columns = site
        .send(import_request(
            &documenter,
            Some(&documenter.csrf),
            "cols.csv",
            header.as_bytes(),
        ))
        .await;
    let problems = words(between(&columns.body, "<tbody>", "</tbody>").expect("problems"));
    assert!(
        problems.contains("1 act_typ Unknown column")
            && problems.contains("required column victim_id (or 피해자ID) is missing"),
        "{problems}"
    );
    assert_eq!(head(&site), before);
}

#[tokio::test]
async fn importing_needs_the_csrf_token_and_a_role_that_writes() {
    importing_needs_the_csrf_token_and_a_role_that_writes_on(&Site::new()).await;
}

#[test]
fn importing_needs_the_csrf_token_and_a_role_that_writes_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(importing_needs_the_csrf_token_and_a_role_that_writes_on(
        &site,
    ));
}

async fn importing_needs_the_csrf_token_and_a_role_that_writes_on(site: &Site) {
    let documenter = site.session("documenter").await;
    let before = head(site);
    let forged = site
        .send(import_request(
            &documenter,
            None,
            "seoul.csv",
            GOOD_CSV.as_bytes(),
        ))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    let wrong = site
        .send(import_request(
            &documenter,
            Some("forged"),
            "seoul.csv",
            GOOD_CSV.as_bytes(),
        ))
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(staged_and_leftover(site).is_empty());

    let preview = site
        .send(import_request(
            &documenter,
            Some(&documenter.csrf),
            "seoul.csv",
            GOOD_CSV.as_bytes(),
        ))
        .await;
    let confirm = confirmation(&preview.body, &documenter.csrf);
    let without_token = confirm.replace(&format!("csrf={}", documenter.csrf), "csrf=");
    let refused = site
        .post_form("/import/confirm", Some(&documenter), &without_token, None)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    for role in ["viewer", "analyst"] {
        let session = site.session(role).await;
        let form = site.get("/import", Some(&session)).await;
        assert_eq!(form.status, StatusCode::FORBIDDEN, "{role}");
        assert!(form.body.contains("documenter role"), "{}", form.body);
        let upload = site
            .send(import_request(
                &session,
                Some(&session.csrf),
                "seoul.csv",
                GOOD_CSV.as_bytes(),
            ))
            .await;
        assert_eq!(upload.status, StatusCode::FORBIDDEN, "{role}");
        let theirs = confirm.replace(&documenter.csrf, &session.csrf);
        let confirmed = site
            .post_form("/import/confirm", Some(&session), &theirs, None)
            .await;
        assert_eq!(confirmed.status, StatusCode::FORBIDDEN, "{role}");
        let menu = site.get("/", Some(&session)).await;
        assert!(!menu.body.contains("href=\"/import\""), "{role}");
    }
    assert_eq!(head(site), before);
    // What the documenter previewed still waits for them alone to confirm.
    let imported = site
        .post_form("/import/confirm", Some(&documenter), &confirm, None)
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
}

#[tokio::test]
async fn an_import_over_the_limit_cut_off_or_without_rows_is_refused_and_leaves_nothing() {
    let mut site = Site::new();
    site.app = App::open_with(
        site.dir.path(),
        girok_server::Settings {
            upload_limit: 1024,
            ..Default::default()
        },
    )
    .expect("app");
    let documenter = site.session("documenter").await;
    let before = head(&site);
    let big = format!("{GOOD_CSV}{}", "s-web-1,,,p-web-9,,,arrest,,\n".repeat(200));
    let reply = site
        .send(import_request(
            &documenter,
            Some(&documenter.csrf),
            "big.csv",
            big.as_bytes(),
        ))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(
        reply.body.contains("larger than the limit"),
        "{}",
        reply.body
    );
    assert_eq!(head(&site), before);
    assert!(
        staged_and_leftover(&site).is_empty(),
        "{:?}",
        staged_and_leftover(&site)
    );
    let not_csv = site
        .send(import_request(
            &documenter,
            Some(&documenter.csrf),
            "notes.txt",
            b"hello",
        ))
        .await;
    assert_eq!(not_csv.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        not_csv.body.contains("Choose a CSV file"),
        "{}",
        not_csv.body
    );
    let empty = site
        .send(import_request(
            &documenter,
            Some(&documenter.csrf),
            "empty.csv",
            b"source_id,victim_id,act_type\n",
        ))
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        empty.body.contains("no rows below its header"),
        "{}",
        empty.body
    );
    assert_eq!(head(&site), before);
    // A body that ends inside the file, as when a connection drops midway.
    let whole = import_request(
        &documenter,
        Some(&documenter.csrf),
        "cut.csv",
        GOOD_CSV.as_bytes(),
    );
    let (parts, body) = whole.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes();
    let cut = Request::from_parts(parts, Body::from(bytes.slice(..bytes.len() - 40)));
    let reply = site.send(cut).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(reply.body.contains("cut off"), "{}", reply.body);
    assert_eq!(head(&site), before);
    assert!(staged_and_leftover(&site).is_empty());
}

/// The text of a page's markup, its whitespace collapsed.
fn words(html: &str) -> String {
    visible(html)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn a_confirmed_import_is_checked_again_as_it_is_written() {
    a_confirmed_import_is_checked_again_as_it_is_written_on(&Site::new()).await;
}

#[test]
fn a_confirmed_import_is_checked_again_as_it_is_written_on_postgres() {
    let site = Site::on_postgres();
    on_runtime(a_confirmed_import_is_checked_again_as_it_is_written_on(
        &site,
    ));
}

async fn a_confirmed_import_is_checked_again_as_it_is_written_on(site: &Site) {
    let documenter = site.session("documenter").await;
    let preview = site
        .send(import_request(
            &documenter,
            Some(&documenter.csrf),
            "seoul.csv",
            GOOD_CSV.as_bytes(),
        ))
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    // Meanwhile another door takes the id the file gives its second victim, for a source.
    let other = site.dir.path().join("other.csv");
    std::fs::write(
        &other,
        "source_id,source_title,consent,victim_id,act_type\np-web-2,Another interview,internal,p-web-8,arrest\n",
    )
    .expect("csv");
    site.write(|store| {
        store.write("documenter", |sink| {
            girok_interchange::import(&other, sink, &mut |_| {})
        })
    })
    .expect("the other import");
    let before = head(site);
    let refused = site
        .post_form(
            "/import/confirm",
            Some(&documenter),
            &confirmation(&preview.body, &documenter.csrf),
            None,
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let error = words(between(&refused.body, "id=\"import-error\"", "</p>").expect("error"));
    assert!(
        error.contains("seoul.csv, line 3, column victim_id")
            && error.contains("nothing was imported"),
        "{error}"
    );
    assert_eq!(head(site), before, "nothing of the file was written");
    assert!(
        staged_and_leftover(site).is_empty(),
        "a refused file is not kept"
    );
}

#[tokio::test]
async fn ids_that_are_not_there_are_named_on_a_not_found_page_in_both_languages() {
    let site = Site::new();
    let analyst = site.session("analyst").await;
    for (path, english, korean) in [
        (
            "/records/r-no-such",
            "There is no record r-no-such",
            "다음 기록이 없습니다: r-no-such",
        ),
        (
            "/persons/p-no-such/case-file",
            "There is no person p-no-such",
            "다음 인물이 없습니다: p-no-such",
        ),
    ] {
        let page = site.get(path, Some(&analyst)).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.body.contains(english), "{path}: {}", page.body);
        let page = site.get_in(path, &analyst, "ko").await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.body.contains(korean), "{path}: {}", page.body);
        assert!(page.body.contains("찾을 수 없음"), "{path}: {}", page.body);
    }
}

/// Every user chooses the time zone their own pages show times in, from
/// their account page; a name that is no time zone is refused at the field.
#[tokio::test]
async fn users_choose_their_own_time_zone() {
    let site = Site::new();
    let viewer = site.session("viewer").await;
    let page = site.get("/account", Some(&viewer)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("the server&#39;s time zone")
            || page.body.contains("the server's time zone"),
        "{}",
        page.body
    );
    let forged = site
        .post("/account", &viewer, "csrf=forged&time_zone=Asia%2FSeoul")
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let wrong = site
        .post(
            "/account",
            &viewer,
            &format!("csrf={}&time_zone=Mars%2FOlympus", viewer.csrf),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong.body.contains("id=\"time_zone-error\"")
            && wrong.body.contains("value=\"Mars/Olympus\""),
        "{}",
        wrong.body
    );
    let set = site
        .post(
            "/account",
            &viewer,
            &format!("csrf={}&time_zone=Asia%2FSeoul", viewer.csrf),
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    let shown = site.get(&location(&set), Some(&viewer)).await;
    assert!(
        shown.body.contains("Saved.")
            && shown.body.contains("Asia/Seoul")
            && shown.body.contains("(UTC+09:00)"),
        "{}",
        shown.body
    );
    // Their own only: the admin's overview shows it, no one else's changed.
    let zones = off_runtime(|| {
        site.app
            .with_access(|access| access.time_zones())
            .expect("zones")
    });
    assert_eq!(zones.len(), 1);
    assert_eq!(zones["viewer"].name(), "Asia/Seoul");
}
