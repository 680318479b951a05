//! What the HTTP tests share: a site in process on the demo database (SQLite,
//! encrypted or on a private PostgreSQL cluster) with one user per role, and
//! requests signed in as them. A test crate using it declares `mod cluster`
//! (the store tests' private PostgreSQL clusters) beside `mod support`.
#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use girok_server::App;
use girok_server::access::{Role, Scope};
use girok_store::{Database, Store};
use http_body_util::BodyExt;
use tower::ServiceExt;

pub const PASSWORD: &str = "a long enough password";

/// Runs `work` on a thread of its own, outside the test's async runtime.
pub fn off_runtime<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| scope.spawn(work).join().expect("thread"))
}

/// Runs a test's requests on a runtime of their own, for a site that must
/// be made and dropped outside one.
pub fn on_runtime(requests: impl std::future::Future<Output = ()>) {
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(requests);
}

pub struct Site {
    pub dir: tempfile::TempDir,
    pub app: Arc<App>,
    /// The PostgreSQL cluster the site's database is on, kept running while it lives.
    _cluster: Option<crate::cluster::Cluster>,
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
    /// The body as sent (a download need not be text).
    pub bytes: Vec<u8>,
}

impl Site {
    /// The demo database, and one user per role.
    pub fn new() -> Site {
        Site::build(None, None)
    }

    /// The demo database encrypted under `passphrase`, unlocked.
    pub fn encrypted(passphrase: &str) -> Site {
        Site::build(Some(passphrase), None)
    }

    /// The demo database in PostgreSQL, on a private cluster. Made, and
    /// dropped, outside any async runtime, as `girok serve` opens it before
    /// starting one: the PostgreSQL client blocks on a runtime of its own.
    pub fn on_postgres() -> Site {
        Site::build(None, Some(crate::cluster::Cluster::start()))
    }

    pub fn build(passphrase: Option<&str>, cluster: Option<crate::cluster::Cluster>) -> Site {
        let dir = tempfile::tempdir().expect("dir");
        let mut store = match &cluster {
            Some(cluster) => girok_service::create_postgres(dir.path(), &cluster.new_database())
                .expect("create in PostgreSQL"),
            None => Database::create(&dir.path().join("girok.sqlite")).expect("create"),
        };
        girok_service::create_key(dir.path()).expect("checkpoint key");
        girok_service::attach_signer(&mut store, dir.path());
        if let Some(passphrase) = passphrase {
            let quick = girok_store::KdfParams {
                memory_kib: 256,
                iterations: 1,
                parallelism: 1,
            };
            store
                .encrypt(&girok_store::Unlock::Passphrase(passphrase.into()), quick)
                .expect("encrypt");
        }
        let demo = dir.path().join("demo.json");
        std::fs::write(&demo, girok_synth::DEMO_JSON).expect("demo");
        store
            .write("setup", |sink| {
                girok_interchange::import(&demo, sink, &mut |_| {})
            })
            .expect("import");
        drop(store);
        let app = App::open(dir.path()).expect("app");
        if let Some(passphrase) = passphrase {
            app.unlock(&girok_store::Unlock::Passphrase(passphrase.into()))
                .expect("unlock");
        }
        app.with_access(|access| {
            for role in Role::ALL {
                access.add_user(role.name(), role, PASSWORD).expect("user");
            }
        });
        Site {
            dir,
            app,
            _cluster: cluster,
        }
    }

    /// Reads the site's store as a test checks it, off the async runtime
    /// (a PostgreSQL client blocks on a runtime of its own).
    pub fn read<T: Send>(&self, work: impl FnOnce(&Database) -> T + Send) -> T {
        off_runtime(|| self.app.read(work))
    }

    /// Writes to the site's store as another door would, off the async runtime.
    pub fn write<T: Send>(&self, work: impl FnOnce(&mut Database) -> T + Send) -> T {
        off_runtime(|| self.app.write(work))
    }

    /// Another server process's view of the same data directory.
    pub fn other_server(&self) -> Arc<App> {
        off_runtime(|| App::open(self.dir.path()).expect("second server"))
    }

    /// The PostgreSQL URL the site's database is at, if it is on PostgreSQL.
    pub fn postgres_url(&self) -> Option<String> {
        std::fs::read_to_string(self.dir.path().join(girok_service::POSTGRES_FILE))
            .ok()
            .map(|url| url.trim().to_string())
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        send_to(&self.app, request).await
    }

    pub async fn get(&self, path: &str, session: Option<&Session>) -> Reply {
        get_from(&self.app, path, session).await
    }

    /// A form posted in a signed-in session.
    pub async fn post(&self, path: &str, session: &Session, form: &str) -> Reply {
        post_to(&self.app, path, session, form).await
    }

    /// A page in the given interface language (the language switch's cookie).
    pub async fn get_in(&self, path: &str, session: &Session, lang: &str) -> Reply {
        let request = Request::builder().uri(path).header(
            header::COOKIE,
            format!("girok_session={}; girok_lang={lang}", session.token),
        );
        self.send(request.body(Body::empty()).expect("request"))
            .await
    }

    pub async fn post_form(
        &self,
        path: &str,
        session: Option<&Session>,
        form: &str,
        cookie: Option<String>,
    ) -> Reply {
        self.send(form_request(path, session, form, cookie)).await
    }

    pub async fn post_json(
        &self,
        path: &str,
        session: &Session,
        csrf: Option<&str>,
        body: &str,
    ) -> Reply {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, format!("girok_session={}", session.token));
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        self.send(request.body(Body::from(body.to_string())).expect("request"))
            .await
    }

    /// Typed changes sent to the API with a documenter's new API key.
    pub async fn post_changes_with_key(&self, changes: &str) -> Reply {
        let key = self.app.with_access(|access| {
            access
                .add_key("documenter", "tests", Scope::Write, None)
                .expect("key")
        });
        let request = Request::builder()
            .method(Method::POST)
            .uri("/api/changes")
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(changes.to_string()))
            .expect("request");
        self.send(request).await
    }

    /// A signed-in session of a user with the test password, with a
    /// second factor set up where the user's role needs one.
    pub async fn session(&self, name: &str) -> Session {
        let session = match self.sign_in(name, PASSWORD).await {
            Ok(session) => session,
            Err(reply) => panic!("{name} cannot sign in: {} {}", reply.status, reply.body),
        };
        let due = self.get("/persons", Some(&session)).await;
        if due.headers.get(header::LOCATION).map(|l| l.as_bytes())
            == Some(b"/account/second-factor")
        {
            self.enrol(name, &session).await;
            return self.with_csrf(session.token).await;
        }
        session
    }

    /// A session and the CSRF token its forms carry.
    pub async fn with_csrf(&self, token: String) -> Session {
        let session = Session {
            token,
            csrf: String::new(),
        };
        let page = self.get("/verify", Some(&session)).await;
        let csrf = between(&page.body, "name=\"csrf\" value=\"", "\"").unwrap_or_default();
        Session {
            csrf: csrf.to_string(),
            ..session
        }
    }

    /// Signs in with a password and then a code; the reply of the step
    /// that refused, if one did.
    pub async fn sign_in_with_code(&self, name: &str, code: &str) -> Result<Session, Reply> {
        let first = match self.sign_in(name, PASSWORD).await {
            Ok(session) => panic!("{name} signed in without a code: {}", session.token),
            Err(reply) => reply,
        };
        if first.headers.get(header::LOCATION).map(|l| l.as_bytes()) != Some(b"/login/code") {
            return Err(first);
        }
        let challenge = cookie_of(&first, "girok_second_step").expect("second step cookie");
        let cookie = format!("girok_second_step={challenge}");
        let form = self.get_with_cookie("/login/code", &cookie).await;
        let csrf = between(&form.body, "name=\"csrf\" value=\"", "\"").expect("form token");
        let reply = self
            .post_form(
                "/login/code",
                None,
                &format!("csrf={csrf}&code={code}"),
                Some(cookie),
            )
            .await;
        match cookie_of(&reply, "girok_session") {
            Some(token) => Ok(self.with_csrf(token).await),
            None => Err(reply),
        }
    }

    pub async fn get_with_cookie(&self, path: &str, cookie: &str) -> Reply {
        let request = Request::builder()
            .uri(path)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .expect("request");
        self.send(request).await
    }

    /// Sets up a second factor in the browser; returns the recovery codes.
    pub async fn enrol(&self, name: &str, session: &Session) -> Vec<String> {
        let page = self.get("/account/second-factor", Some(session)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let csrf = between(&page.body, "name=\"csrf\" value=\"", "\"").expect("csrf");
        let code = self.code_of(name, 0);
        let reply = self
            .post_form(
                "/account/second-factor",
                Some(session),
                &format!("csrf={csrf}&action=confirm&code={code}"),
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let list = between(&reply.body, "<ul id=\"recovery-codes\">", "</ul>").expect("codes");
        list.split("<code>")
            .skip(1)
            .filter_map(|c| c.split('<').next())
            .map(str::to_string)
            .collect()
    }

    /// The TOTP secret of a user, as the access database holds it.
    pub fn secret_of(&self, name: &str) -> Vec<u8> {
        match self.postgres_url() {
            Some(url) => off_runtime(|| {
                postgres::Client::connect(&url, postgres::NoTls)
                    .expect("access")
                    .query_one(
                        "SELECT secret FROM second_factor WHERE account = $1",
                        &[&name],
                    )
                    .expect("secret")
                    .get(0)
            }),
            None => rusqlite::Connection::open(self.dir.path().join(girok_service::ACCESS_FILE))
                .expect("access")
                .query_row(
                    "SELECT secret FROM second_factor WHERE account = ?1",
                    [name],
                    |r| r.get(0),
                )
                .expect("secret"),
        }
    }

    /// A user's code `steps` time steps from now.
    pub fn code_of(&self, name: &str, steps: i64) -> String {
        let now = chrono::Utc::now().timestamp() + steps * 30;
        girok_server::totp::code(&self.secret_of(name), now as u64, 6)
    }

    /// Signs in through the form, as a browser does.
    pub async fn sign_in(&self, name: &str, password: &str) -> Result<Session, Reply> {
        let form = self.get("/login", None).await;
        let token = between(&form.body, "name=\"token\" value=\"", "\"").expect("form token");
        let reply = self
            .post_form(
                "/login",
                None,
                &format!(
                    "name={name}&password={}&token={token}",
                    password.replace(' ', "+")
                ),
                Some(format!("girok_login={token}")),
            )
            .await;
        let Some(token) = reply
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| between(v, "girok_session=", ";"))
            .filter(|t| !t.is_empty())
        else {
            return Err(reply);
        };
        let session = Session {
            token: token.to_string(),
            csrf: String::new(),
        };
        let page = self.get("/verify", Some(&session)).await;
        let csrf = between(&page.body, "name=\"csrf\" value=\"", "\"").unwrap_or_default();
        Ok(Session {
            csrf: csrf.to_string(),
            ..session
        })
    }
}

/// Keeps one linkage proposal of two person records in the site's database,
/// with its explanation, as `girok link` does.
pub fn propose(site: &Site, a: &str, b: &str) {
    use girok_linkage::proposals::{ExplainedPair, encode_links};
    let explanation: girok_linkage::Explanation = serde_json::from_value(serde_json::json!({
        "prior_weight": -9.0, "weight": 12.5, "probability": 0.9998,
        "parts": [{"comparison": "given name", "level": "same Hangul possible", "weight": 14.0, "term_frequency": null},
                  {"comparison": "surname", "level": "same class", "weight": 7.5, "term_frequency": 0.21}]
    }))
    .expect("explanation");
    let person = |id: &str| girok_store::ProposedRecord {
        id: girok_model::RecordId::new(id),
        sources: "s".into(),
    };
    let run = girok_store::LinkRun {
        journal_size: site.read(|store| store.head().expect("head").0),
        time: "2026-01-01T00:00:00Z".into(),
        training: None,
    };
    let proposal = girok_store::StoredProposal {
        number: 1,
        persons: vec![person(a), person(b)],
        probability: 0.9998,
        links: encode_links(&[ExplainedPair {
            a: a.into(),
            b: b.into(),
            explanation,
        }]),
        decided: None,
    };
    site.write(|store| store.replace_link_proposals(&run, &[proposal]))
        .expect("proposals");
}

pub struct Session {
    pub token: String,
    pub csrf: String,
}

/// Sends a request to one server process of a site.
pub async fn send_to(app: &Arc<App>, request: Request<Body>) -> Reply {
    let response = girok_server::router(app.clone())
        .oneshot(request)
        .await
        .expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes: bytes.to_vec(),
    }
}

pub async fn get_from(app: &Arc<App>, path: &str, session: Option<&Session>) -> Reply {
    let mut request = Request::builder().uri(path);
    if let Some(session) = session {
        request = request.header(header::COOKIE, format!("girok_session={}", session.token));
    }
    send_to(app, request.body(Body::empty()).expect("request")).await
}

/// A form posted in a signed-in session to one server process of a site.
pub async fn post_to(app: &Arc<App>, path: &str, session: &Session, form: &str) -> Reply {
    send_to(app, form_request(path, Some(session), form, None)).await
}

/// A form posted, in a session or not, with any other cookie it needs.
fn form_request(
    path: &str,
    session: Option<&Session>,
    form: &str,
    cookie: Option<String>,
) -> Request<Body> {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    let cookies: Vec<String> = session
        .map(|s| format!("girok_session={}", s.token))
        .into_iter()
        .chain(cookie)
        .collect();
    if !cookies.is_empty() {
        request = request.header(header::COOKIE, cookies.join("; "));
    }
    request.body(Body::from(form.to_string())).expect("request")
}

/// A cookie a reply sets (not one it clears).
pub fn cookie_of(reply: &Reply, name: &str) -> Option<String> {
    reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| between(v, &format!("{name}="), ";"))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// Where a redirect sends the browser.
pub fn location(reply: &Reply) -> String {
    reply
        .headers
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

pub fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(&text[from..to])
}
