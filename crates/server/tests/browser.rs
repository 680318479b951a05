//! The web application in a real browser: headless Chromium driven over
//! WebDriver (Debian's `chromium` and `chromium-driver`, installed by
//! `.ci/run`). Sign in, record a testimony with a Hangul name and a fuzzy
//! date, find the witness by a romanized spelling, see a field error for bad
//! input, edit a source, create an event, import a CSV file (its problems by
//! line and column, then the corrected file); choose a witness and a source
//! by typing part of a name or title, name a relative, print a victim's case
//! file; run linkage from the review page, wait for its job, confirm a
//! proposal, see the merged person and unmerge it; switch language; read a
//! record page, its print layout and its menu at tablet width; the same walk on the
//! embedded database and on a team's PostgreSQL one; an admin who sets up
//! two-step sign-in on the way in, opens each admin page and makes a backup
//! (a short passphrase refused at its field first). Every page photographed,
//! and every page of the menu in both languages, is checked with axe-core
//! (from npm, installed by `scripts/test.sh`): no serious or critical
//! violation. Screenshots go to `target/e2e-screenshots/` (and its `postgres/`, `admin/`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use girok_server::App;
use girok_server::access::Role;
use girok_store::{Database, Store};
use hyper_util::client::legacy::connect::HttpConnector;

#[path = "../../store/tests/support/cluster.rs"]
mod cluster;

const PASSWORD: &str = "a long enough password";

/// A CSV file in the import layout with a row without its victim and an act type misspelt.
const IMPORT_WITH_PROBLEMS: &str = "source_id,source_title,consent,victim_id,victim_names,sex,act_type,act_date,act_place\n\
s-csv,Interview in Seoul,internal,p-csv-1,박영희,여성,arrest,2020년 5월,Hoeryŏng\n\
s-csv,,,,Ri Chol,male,enforced-disappearance,c. 2019,Musan\n\
s-csv,,,p-csv-3,Kim Ok,female,publc execution,2018,Hyesan\n";

/// The same file, corrected.
const IMPORT_CORRECTED: &str = "source_id,source_title,consent,victim_id,victim_names,sex,act_type,act_date,act_place\n\
s-csv,Interview in Seoul,internal,p-csv-1,박영희,여성,arrest,2020년 5월,Hoeryŏng\n\
s-csv,,,p-csv-2,Ri Chol,male,enforced-disappearance,c. 2019,Musan\n\
s-csv,,,p-csv-3,Kim Ok,female,public execution,2018,Hyesan\n";

/// chromedriver, stopped when the test ends.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn browser() -> (Driver, Client) {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start chromedriver ({e}): the browser tests need Debian's chromium and \
                 chromium-driver (`apt-get install chromium chromium-driver`; `bash scripts/test.sh` installs them)"
            )
        });
    let driver = Driver(child);
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900", "--lang=en-US"]
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..50 {
        if let Ok(client) = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities.clone())
            .connect(&url)
            .await
        {
            return (driver, client);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("chromedriver did not answer at {url}");
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    dir
}

/// Takes a screenshot of the page and checks it for accessibility.
async fn snap(client: &Client, shots: &std::path::Path, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(shots.join(format!("{name}.png")), png).expect("write screenshot");
    accessible(client, name).await;
}

/// axe-core's script, installed from npm by `scripts/test.sh`.
fn axe_core() -> &'static str {
    static SCRIPT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SCRIPT.get_or_init(|| {
        let path = std::env::var_os("GIROK_AXE_CORE")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("../../target/axe-core/node_modules/axe-core/axe.min.js")
            });
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read axe-core at {} ({e}): the accessibility check needs it \
                 (`bash scripts/test.sh` installs it with npm; GIROK_AXE_CORE names another copy)",
                path.display()
            )
        })
    })
}

/// Runs axe-core on the page as it is now and fails on any serious or
/// critical violation, naming the page, the rule and the elements.
async fn accessible(client: &Client, page: &str) {
    // Through DevTools, so the page's Content-Security-Policy (no inline or
    // evaluated script) does not stop the check's own script.
    let expression = format!(
        "(async () => {{ if (!window.axe) {{ {} }} \
         const found = await axe.run(document, {{ resultTypes: ['violations'] }}); \
         return JSON.stringify(found.violations \
           .filter(v => v.impact === 'serious' || v.impact === 'critical') \
           .map(v => `${{v.impact}} ${{v.id}}: ${{v.help}} at ${{v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(' | ')}}`)); }})()",
        axe_core()
    );
    let answer = client
        .issue_cmd(DevTools(serde_json::json!({
            "cmd": "Runtime.evaluate",
            "params": { "expression": expression, "awaitPromise": true, "returnByValue": true }
        })))
        .await
        .expect("axe-core run");
    let found = answer["result"]["value"].as_str().unwrap_or_else(|| {
        panic!("axe-core did not run on {page}: {answer}");
    });
    let violations: Vec<String> = serde_json::from_str(found).expect("axe-core's answer");
    assert!(
        violations.is_empty(),
        "accessibility of {page} ({}):\n{}",
        client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default(),
        violations.join("\n")
    );
}

async fn fill(client: &Client, id: &str, text: &str) {
    let field = client.find(Locator::Id(id)).await.expect(id);
    field.clear().await.expect("clear");
    field.send_keys(text).await.expect("type");
}

/// Clicks `target` and waits (at most 10 s) for `then` to appear on the page it leads to.
async fn click_then(
    client: &Client,
    target: Locator<'_>,
    then: Locator<'_>,
) -> fantoccini::elements::Element {
    client
        .find(target)
        .await
        .expect("what to click")
        .click()
        .await
        .expect("click");
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(then)
        .await
        .expect("the page after the click")
}

/// A Chromium DevTools command, sent through chromedriver.
#[derive(Debug)]
struct DevTools(serde_json::Value);

impl fantoccini::wd::WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (axum::http::Method::POST, Some(self.0.to_string()))
    }
}

/// Renders the page as it prints (`print`) or as on screen (`screen`).
async fn media(client: &Client, media: &str) {
    client
        .issue_cmd(DevTools(serde_json::json!({
            "cmd": "Emulation.setEmulatedMedia",
            "params": { "media": media }
        })))
        .await
        .expect("emulated media");
}

/// The computed `display` of the first element matching `selector`.
async fn display(client: &Client, selector: &str) -> String {
    client
        .execute(
            "return getComputedStyle(document.querySelector(arguments[0])).display;",
            vec![serde_json::json!(selector)],
        )
        .await
        .expect("computed style")
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn text(client: &Client) -> String {
    client
        .find(Locator::Css("body"))
        .await
        .expect("body")
        .text()
        .await
        .expect("text")
}

/// Reads the store on a thread of its own: a PostgreSQL client may not
/// wait on a thread of the test's runtime.
fn read<T: Send>(app: &App, work: impl FnOnce(&Database) -> T + Send) -> T {
    std::thread::scope(|scope| scope.spawn(|| app.read(work)).join().expect("read"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_documenter_records_and_finds_a_testimony_in_a_browser() {
    let dir = tempfile::tempdir().expect("dir");
    Database::create(&dir.path().join("girok.sqlite")).expect("database");
    girok_service::create_key(dir.path()).expect("checkpoint key");
    let app = App::open(dir.path()).expect("app");
    walk(app, dir.path(), &screenshots()).await;
}

/// The same walk on a team's PostgreSQL database.
#[test]
fn a_documenter_records_and_finds_a_testimony_in_a_browser_on_postgres() {
    let cluster = cluster::Cluster::start();
    let dir = tempfile::tempdir().expect("dir");
    girok_service::create_postgres(dir.path(), &cluster.new_database()).expect("database");
    girok_service::create_key(dir.path()).expect("checkpoint key");
    let app = App::open(dir.path()).expect("app");
    let shots = screenshots().join("postgres");
    std::fs::create_dir_all(&shots).expect("screenshot directory");
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(walk(app.clone(), dir.path(), &shots));
}

async fn walk(app: std::sync::Arc<App>, dir: &std::path::Path, shots: &std::path::Path) {
    app.with_access(|access| access.add_user("kim", Role::Documenter, PASSWORD))
        .expect("user");
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    tokio::spawn(girok_server::serve(app.clone(), addr));
    let site = format!("http://{addr}");
    let (_driver, client) = browser().await;

    // Sign in.
    client
        .goto(&format!("{site}/login"))
        .await
        .expect("login page");
    snap(&client, shots, "1-sign-in").await;
    fill(&client, "name", "kim").await;
    fill(&client, "password", PASSWORD).await;
    click_then(
        &client,
        Locator::Css("button[type=submit]"),
        Locator::Css("form[action='/logout']"),
    )
    .await;
    assert!(text(&client).await.contains("Dashboard"));

    // Record a testimony with a Hangul name and a fuzzy date.
    client
        .goto(&format!("{site}/sources/new"))
        .await
        .expect("form");
    fill(&client, "title", "탈북민 증언 — 회령, 2019").await;
    fill(&client, "obtained", "2024년 가을").await;
    fill(&client, "witness", "이영수").await;
    fill(&client, "organisation", "NKDB").await;
    snap(&client, shots, "2-new-testimony").await;
    click_then(
        &client,
        Locator::Css("button.primary"),
        Locator::Css("div.saved"),
    )
    .await;
    let saved = text(&client).await;
    assert!(
        saved.contains("탈북민 증언") && saved.contains("2024") && saved.contains("Saved."),
        "{saved}"
    );
    // The page says what the record is, in words: its title, its kind and consent by their labels.
    let title = client
        .find(Locator::Css("h1"))
        .await
        .expect("h1")
        .text()
        .await
        .expect("title");
    assert_eq!(title, "탈북민 증언 — 회령, 2019");
    assert!(
        saved.contains("Interview") && saved.contains("Internal"),
        "{saved}"
    );
    snap(&client, shots, "3-saved").await;

    // Evidence: a file chosen in the upload form is stored, hashed and in the chain of custody.
    let source_page = client.current_url().await.expect("url");
    let recording = dir.join("recording-note.txt");
    std::fs::write(&recording, "audio transcript, 2024").expect("file");
    click_then(
        &client,
        Locator::Id("add-evidence"),
        Locator::Css("input[type=file]"),
    )
    .await
    .send_keys(recording.to_str().expect("path"))
    .await
    .expect("choose the file");
    fill(&client, "collector", "documenter 3").await;
    snap(&client, shots, "3d-evidence-form").await;
    click_then(
        &client,
        Locator::Css("button.primary"),
        Locator::Id("custody"),
    )
    .await;
    let evidence = text(&client).await;
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
        "audio transcript, 2024",
    ));
    assert!(
        evidence.contains("Saved.")
            && evidence.contains("recording-note.txt")
            && evidence.contains(&sha256)
            && evidence.contains("Intake"),
        "{evidence}"
    );
    snap(&client, shots, "3e-evidence-saved").await;
    client
        .goto(source_page.as_str())
        .await
        .expect("back to the source");

    // The next step leads to the witness, whose names are a list with their script.
    click_then(
        &client,
        Locator::LinkText("Go to the witness"),
        Locator::Css("table.names"),
    )
    .await;
    let witness = text(&client).await;
    assert!(
        witness.contains("이영수")
            && witness.contains("Hangul")
            && witness.contains("Testimonies given"),
        "{witness}"
    );
    assert!(
        !witness.contains("\"script\"") && !witness.contains("[{"),
        "{witness}"
    );
    snap(&client, shots, "3c-witness").await;

    // On paper: no menu, no sign-out, no edit link, the record itself readable.
    media(&client, "print").await;
    assert_eq!(display(&client, "header").await, "none");
    assert_eq!(display(&client, "form[action='/logout']").await, "none");
    assert_eq!(display(&client, "p.actions").await, "none");
    assert_eq!(display(&client, "table.names").await, "table");
    assert_eq!(display(&client, "p.printed").await, "block");
    snap(&client, shots, "3d-witness-printed").await;
    media(&client, "screen").await;
    assert_eq!(display(&client, "header").await, "flex");
    assert_eq!(display(&client, "p.printed").await, "none");

    // At tablet widths the menu takes at most two rows, every entry in sight.
    for width in [800, 768] {
        client
            .set_window_size(width, 1024)
            .await
            .expect("tablet width");
        let rows = client
            .execute(
                "return new Set([...document.querySelectorAll('header nav a')].map(a => a.getBoundingClientRect().top)).size;",
                vec![],
            )
            .await
            .expect("menu rows");
        assert!(
            rows.as_u64().is_some_and(|r| r <= 2),
            "the menu takes {rows} rows at {width} px"
        );
        let hidden = client
            .execute(
                "return [...document.querySelectorAll('header nav a')].filter(a => a.getBoundingClientRect().right > window.innerWidth).map(a => a.textContent);",
                vec![],
            )
            .await
            .expect("menu entries out of sight");
        assert_eq!(hidden, serde_json::json!([]), "at {width} px");
        let header = client
            .execute(
                "return document.querySelector('header').getBoundingClientRect().height;",
                vec![],
            )
            .await
            .expect("header height");
        assert!(
            header.as_f64().is_some_and(|h| h < 130.0),
            "header {header} px high at {width} px"
        );
        snap(&client, shots, &format!("3e-tablet-{width}")).await;
    }
    client
        .set_window_size(1280, 900)
        .await
        .expect("desktop width");

    client.back().await.expect("back to the source");
    client
        .wait()
        .for_element(Locator::Id("edit"))
        .await
        .expect("the source again");

    // Edit it: the form starts from what was saved.
    click_then(&client, Locator::Id("edit"), Locator::Id("title")).await;
    fill(&client, "title", "탈북민 증언 — 회령, 2019년 봄").await;
    click_then(
        &client,
        Locator::Css("button.primary"),
        Locator::XPath("//h1[. = '탈북민 증언 — 회령, 2019년 봄']"),
    )
    .await;
    let edited = text(&client).await;
    assert!(edited.contains("2019년 봄"), "{edited}");

    // An event, with a place in a romanized spelling and a violation ticked.
    client
        .goto(&format!("{site}/events/new"))
        .await
        .expect("event form");
    fill(&client, "title", "회령 장마당 단속").await;
    fill(&client, "date", "2019년 봄").await;
    fill(&client, "place", "Hoeryŏng").await;
    client
        .find(Locator::Css("input[name=violations][value=liberty]"))
        .await
        .expect("violation checkbox")
        .click()
        .await
        .expect("tick");
    snap(&client, shots, "3a-new-event").await;
    click_then(
        &client,
        Locator::Css("button.primary"),
        Locator::XPath("//h1[. = '회령 장마당 단속']"),
    )
    .await;
    // The place and the violation by their vocabulary labels, not their keys.
    let event = text(&client).await;
    assert!(
        event.contains("Hoeryong, North Hamgyong")
            && event.contains("Arbitrary deprivation of liberty")
            && !event.contains("hoeryong"),
        "{event}"
    );
    snap(&client, shots, "3b-event-saved").await;

    // Find the witness by a romanized spelling.
    client
        .goto(&format!("{site}/persons?q=Lee+Young-soo"))
        .await
        .expect("search");
    let found = text(&client).await;
    assert!(found.contains("이영수"), "{found}");
    snap(&client, shots, "4-found-by-romanization").await;

    // Bad input: a field error, and nothing written.
    let before = read(&app, |store| store.head().expect("head").0);
    client
        .goto(&format!("{site}/sources/new"))
        .await
        .expect("form");
    fill(&client, "title", "Another testimony").await;
    fill(&client, "obtained", "the day after tomorrow").await;
    let error = click_then(
        &client,
        Locator::Css("button.primary"),
        Locator::Id("obtained-error"),
    )
    .await
    .text()
    .await
    .expect("error text");
    assert!(error.contains("the day after tomorrow"), "{error}");
    assert_eq!(read(&app, |store| store.head().expect("head").0), before);
    snap(&client, shots, "5-field-error").await;

    // Import a CSV file: its problems by line and column first, then the corrected file, whole.
    let with_problems = dir.join("testimonies.csv");
    std::fs::write(&with_problems, IMPORT_WITH_PROBLEMS).expect("csv");
    let corrected = dir.join("testimonies-corrected.csv");
    std::fs::write(&corrected, IMPORT_CORRECTED).expect("csv");
    click_then(
        &client,
        Locator::Css("header nav a[href='/import']"),
        Locator::Css("input[type=file]"),
    )
    .await
    .send_keys(with_problems.to_str().expect("path"))
    .await
    .expect("choose the file");
    snap(&client, shots, "7-import-form").await;
    let problems = click_then(
        &client,
        Locator::Css("button.primary"),
        Locator::Id("problems"),
    )
    .await
    .text()
    .await
    .expect("problems");
    assert!(
        problems.contains("3 victim_id A victim is required.")
            && problems.contains("4 act_type 'publc execution' is not a term"),
        "{problems}"
    );
    assert_eq!(read(&app, |store| store.head().expect("head").0), before);
    snap(&client, shots, "7a-import-problems").await;
    client
        .set_window_size(768, 1024)
        .await
        .expect("tablet width");
    snap(&client, shots, "7a-import-problems-768").await;
    client
        .set_window_size(1280, 900)
        .await
        .expect("desktop width");
    client
        .find(Locator::Css("input[type=file]"))
        .await
        .expect("the form to upload again")
        .send_keys(corrected.to_str().expect("path"))
        .await
        .expect("choose the corrected file");
    let created = click_then(
        &client,
        Locator::Css("button.primary"),
        Locator::Id("created"),
    )
    .await
    .text()
    .await
    .expect("what it creates");
    assert!(
        created.contains("Person") && created.contains("Act"),
        "{created}"
    );
    assert_eq!(read(&app, |store| store.head().expect("head").0), before);
    snap(&client, shots, "7b-import-preview").await;
    let imported = click_then(
        &client,
        Locator::Id("confirm-import"),
        Locator::Id("imported"),
    )
    .await
    .text()
    .await
    .expect("imported");
    assert!(imported.contains("testimonies-corrected.csv"), "{imported}");
    let victim = read(&app, |store| {
        store
            .get(&girok_model::RecordId::new("p-csv-2"))
            .expect("get")
    });
    assert!(victim.is_some(), "the imported victim exists");
    snap(&client, shots, "7c-imported").await;

    // A second testimony of the same witness, chosen by typing her name in
    // another spelling, naming her brother; then an act against her whose
    // source is picked by typing part of its title; then her case file.
    client
        .goto(&format!("{site}/sources/new"))
        .await
        .expect("form");
    fill(&client, "title", "Second interview, Seoul").await;
    fill(&client, "obtained", "2025").await;
    fill(&client, "known_witness", "Lee Young-soo").await;
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#known_witness-suggestions button.suggestion"))
        .await
        .expect("suggestions while typing");
    snap(&client, shots, "8-witness-suggested").await;
    click_then(
        &client,
        Locator::Css("#known_witness-suggestions button.suggestion"),
        Locator::Css(".chosen"),
    )
    .await;
    let chosen = client
        .find(Locator::Id("known_witness"))
        .await
        .expect("witness field")
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default();
    assert!(chosen.starts_with("p-"), "the witness's id: {chosen}");
    fill(&client, "named1", "이철수").await;
    client
        .find(Locator::Css("select#relation1 option[value=sibling]"))
        .await
        .expect("relation")
        .click()
        .await
        .expect("choose");
    snap(&client, shots, "8-testimony-witness-picked").await;
    click_then(
        &client,
        Locator::Css("button.primary"),
        Locator::Css("div.saved"),
    )
    .await;
    click_then(
        &client,
        Locator::LinkText("Go to the witness"),
        Locator::Css("table.names"),
    )
    .await;
    let witness = text(&client).await;
    assert!(
        witness.contains("이철수") && witness.contains("Sibling"),
        "{witness}"
    );
    click_then(
        &client,
        Locator::LinkText("Record an act against this person"),
        Locator::Id("source"),
    )
    .await;
    // Nothing is chosen for the documenter: the type of act is theirs to pick.
    client
        .find(Locator::Css("select#act_type option[value=arrest]"))
        .await
        .expect("act type")
        .click()
        .await
        .expect("choose");
    fill(&client, "date", "2019년 봄").await;
    fill(&client, "place", "Hoeryong").await;
    client
        .find(Locator::Css("select#reliability option[value=b]"))
        .await
        .expect("reliability")
        .click()
        .await
        .expect("choose");
    fill(&client, "source", "탈북민").await;
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#source-suggestions button.suggestion"))
        .await
        .expect("suggestions while typing");
    snap(&client, shots, "8a-source-suggested").await;
    client
        .find(Locator::Css("#source-suggestions button.suggestion"))
        .await
        .expect("suggestion")
        .click()
        .await
        .expect("choose");
    click_then(
        &client,
        Locator::Css("button.primary"),
        Locator::Css("div.saved"),
    )
    .await;
    assert!(!text(&client).await.contains("without a source"));
    click_then(
        &client,
        Locator::Id("case-file"),
        Locator::Css("section.standing"),
    )
    .await;
    let file = text(&client).await;
    assert!(
        file.contains("Case file")
            && file.contains("이영수")
            && file.contains("탈북민 증언")
            && file.contains(&sha256)
            && file.contains("B — ")
            && file.contains("passes"),
        "{file}"
    );
    snap(&client, shots, "9-case-file").await;
    media(&client, "print").await;
    assert_eq!(display(&client, "header").await, "none");
    assert_eq!(display(&client, "p.actions").await, "none");
    assert_eq!(display(&client, "p.printed").await, "block");
    snap(&client, shots, "9a-case-file-printed").await;
    media(&client, "screen").await;
    // On a tablet the case file fits the screen's width: nothing to scroll sideways.
    client
        .set_window_size(768, 1024)
        .await
        .expect("tablet width");
    let overflow = client
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .expect("page width");
    assert!(
        overflow.as_f64().is_some_and(|px| px <= 0.0),
        "the case file is {overflow} px wider than a tablet"
    );
    snap(&client, shots, "9b-case-file-768").await;
    client
        .set_window_size(1280, 900)
        .await
        .expect("desktop width");

    // Linkage in the browser: the witness again, in a second testimony, under another spelling.
    client
        .goto(&format!("{site}/sources/new"))
        .await
        .expect("form");
    fill(&client, "title", "Interview in Seoul, 2025").await;
    fill(&client, "obtained", "2025").await;
    fill(&client, "witness", "Lee Young-soo").await;
    fill(&client, "organisation", "NKDB").await;
    click_then(
        &client,
        Locator::Css("button.primary"),
        Locator::Css("div.saved"),
    )
    .await;
    click_then(
        &client,
        Locator::Css("header nav a[href='/review']"),
        Locator::Id("run-linkage"),
    )
    .await;
    snap(&client, shots, "10-review-before-linkage").await;
    click_then(
        &client,
        Locator::Id("run-linkage"),
        Locator::Id("job-state"),
    )
    .await;
    snap(&client, shots, "10a-linkage-job").await;
    // The job's page reloads itself until the job is done, then leads to the queue.
    client
        .wait()
        .at_most(Duration::from_secs(120))
        .for_element(Locator::Id("to-review"))
        .await
        .expect("the linkage job ends");
    let done = text(&client).await;
    assert!(
        done.contains("Linkage is done.") && done.contains(" to review."),
        "{done}"
    );
    snap(&client, shots, "10b-linkage-done").await;
    job_page_updates_in_place(&client, &site, &app).await;
    click_then(
        &client,
        Locator::Id("to-review"),
        Locator::Css("a[href='/review/1']"),
    )
    .await;
    click_then(
        &client,
        Locator::Css("a[href='/review/1']"),
        Locator::Id("reason"),
    )
    .await;
    let proposal = text(&client).await;
    assert!(
        proposal.contains("이영수") && proposal.contains("Lee Young-soo"),
        "{proposal}"
    );
    snap(&client, shots, "10c-proposal").await;
    fill(&client, "reason", "same witness, two interviews").await;
    let recorded = click_then(
        &client,
        Locator::Css("button[value=same]"),
        Locator::Css("p[role=status]"),
    )
    .await
    .text()
    .await
    .expect("recorded");
    assert!(recorded.contains("Recorded as journal entry"), "{recorded}");
    // The merged person: each record names the other.
    click_then(
        &client,
        Locator::Css("table a[href^='/persons/']"),
        Locator::XPath("//h2[contains(., 'Merged by reviewers')]"),
    )
    .await;
    snap(&client, shots, "10d-merged-person").await;
    assert_eq!(
        read(&app, |store| store.link_decisions().expect("decisions"))
            .same
            .len(),
        1
    );
    // Unmerge it, with a reason.
    client
        .find(Locator::Css("details summary"))
        .await
        .expect("the unmerge")
        .click()
        .await
        .expect("open");
    client
        .find(Locator::Css("form[action$='/unmerge'] input[name=reason]"))
        .await
        .expect("reason")
        .send_keys("two interviews, two people after all")
        .await
        .expect("type");
    snap(&client, shots, "10e-unmerge").await;
    let unmerged = click_then(
        &client,
        Locator::Css("form[action$='/unmerge'] button"),
        Locator::Css("div.saved"),
    )
    .await
    .text()
    .await
    .expect("unmerged");
    assert!(unmerged.contains("Unmerged."), "{unmerged}");
    assert!(
        read(&app, |store| store.link_decisions().expect("decisions"))
            .same
            .is_empty()
    );
    snap(&client, shots, "10f-unmerged").await;

    // Switch to Korean and back.
    client.goto(&format!("{site}/")).await.expect("dashboard");
    click_then(
        &client,
        Locator::Id("switch-language"),
        Locator::XPath("//h1[. = '대시보드']"),
    )
    .await;
    let korean = text(&client).await;
    assert!(
        korean.contains("대시보드") && korean.contains("최근 변경"),
        "{korean}"
    );
    snap(&client, shots, "6-korean").await;
    click_then(
        &client,
        Locator::Css("header nav a[href='/import']"),
        Locator::Css("input[type=file]"),
    )
    .await
    .send_keys(with_problems.to_str().expect("path"))
    .await
    .expect("choose the file");
    let korean = click_then(
        &client,
        Locator::Css("button.primary"),
        Locator::Id("import-problems"),
    )
    .await
    .text()
    .await
    .expect("problems");
    assert!(korean.contains("개의 문제가 있어"), "{korean}");
    assert!(
        text(&client).await.contains("피해자를 입력하세요."),
        "{}",
        text(&client).await
    );
    snap(&client, shots, "7d-import-problems-korean").await;
    every_menu_page_in_both_languages(&client, &site, shots, "ko").await;
    client.close().await.expect("close");
}

/// An admin's day: sign in with a second factor set up on the way, the
/// admin pages (users, encryption, organisations, backups), a passphrase
/// refused at its field, then a backup made in the background until its
/// download is offered; every page of an admin's menu in both languages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sets_up_two_step_sign_in_and_makes_a_backup_in_a_browser() {
    let dir = tempfile::tempdir().expect("dir");
    let mut store = Database::create(&dir.path().join("girok.sqlite")).expect("database");
    girok_service::create_key(dir.path()).expect("checkpoint key");
    girok_service::attach_signer(&mut store, dir.path());
    let demo = dir.path().join("demo.json");
    std::fs::write(&demo, girok_synth::DEMO_JSON).expect("demo");
    store
        .write("setup", |sink| {
            girok_interchange::import(&demo, sink, &mut |_| {})
        })
        .expect("import");
    drop(store);
    let app = App::open(dir.path()).expect("app");
    app.with_access(|access| access.add_user("lee", Role::Admin, PASSWORD))
        .expect("user");
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    tokio::spawn(girok_server::serve(app.clone(), addr));
    let site = format!("http://{addr}");
    let shots = screenshots().join("admin");
    std::fs::create_dir_all(&shots).expect("screenshot directory");
    let shots = shots.as_path();
    let (_driver, client) = browser().await;

    client
        .goto(&format!("{site}/login"))
        .await
        .expect("login page");
    fill(&client, "name", "lee").await;
    fill(&client, "password", PASSWORD).await;
    click_then(
        &client,
        Locator::Css("button[type=submit]"),
        Locator::Id("secret"),
    )
    .await;
    snap(&client, shots, "1-second-factor").await;
    // The authenticator app's code, from the secret the page shows.
    let secret = match app.with_access(|access| access.second_factor("lee")) {
        Ok(girok_server::access::SecondFactor::Pending(secret)) => secret,
        other => panic!("no secret to enrol with: {other:?}"),
    };
    let now = chrono::Utc::now().timestamp() as u64;
    fill(&client, "code", &girok_server::totp::code(&secret, now, 6)).await;
    click_then(
        &client,
        Locator::Css("button.primary"),
        Locator::Id("recovery-codes"),
    )
    .await;
    snap(&client, shots, "2-recovery-codes").await;

    for (link, then, shot) in [
        ("/admin/users", "form[action='/admin/user']", "3-users"),
        ("/admin/encryption", "#lock-state", "4-encryption"),
        ("/admin/organisations", "main h1", "5-organisations"),
        ("/admin/backups", "#start-backup", "6-backups"),
    ] {
        click_then(
            &client,
            Locator::Css(&format!("header nav a[href='{link}']")),
            Locator::Css(then),
        )
        .await;
        snap(&client, shots, shot).await;
    }

    // Too short: refused at the field, and the field comes back empty.
    fill(&client, "passphrase", "short").await;
    fill(&client, "passphrase_again", "short").await;
    click_then(
        &client,
        Locator::Id("start-backup"),
        Locator::Id("passphrase-error"),
    )
    .await;
    let field = client.find(Locator::Id("passphrase")).await.expect("field");
    assert_eq!(
        field.prop("value").await.expect("value").as_deref(),
        Some("")
    );
    snap(&client, shots, "7-backup-refused").await;
    fill(&client, "passphrase", "correct horse battery staple").await;
    fill(&client, "passphrase_again", "correct horse battery staple").await;
    client
        .find(Locator::Id("start-backup"))
        .await
        .expect("button")
        .click()
        .await
        .expect("click");
    let link = client
        .wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::Css("a[id^='download-backup-']"))
        .await
        .expect("the backup's download, once the job is done");
    assert!(
        link.text().await.expect("text").contains(".backup"),
        "{}",
        text(&client).await
    );
    assert!(text(&client).await.contains("The backup is ready."));
    snap(&client, shots, "8-backup-ready").await;

    every_menu_page_in_both_languages(&client, &site, shots, "en").await;
    client.close().await.expect("close");
}

/// A job's page follows the job without reloading itself: a job held by
/// the test shows as queued with a button to pause the updates; once it
/// ends its outcome appears in place, on the same document.
async fn job_page_updates_in_place(client: &Client, site: &str, app: &std::sync::Arc<App>) {
    use girok_service::jobs::JobKind;
    let back = client.current_url().await.expect("url");
    let runner = "held by the browser test";
    let id = app
        .with_jobs(|jobs| jobs.start(JobKind::Linkage, "{}", "kim", runner, None))
        .expect("jobs")
        .expect("queued");
    client
        .goto(&format!("{site}/jobs/{id}"))
        .await
        .expect("job page");
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("pause-updates"))
        .await
        .expect("a running job's page offers to pause its updates");
    // A mark on this document: a reload would lose it.
    client
        .execute("window.sameDocument = true;", vec![])
        .await
        .expect("mark");
    app.with_jobs(|jobs| jobs.finish(id, runner, &Err("stopped by the test".into())))
        .expect("finish");
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath("//td[@id='job-state' and . = 'Failed']"))
        .await
        .expect("the outcome appears in place");
    let same = client
        .execute("return window.sameDocument === true;", vec![])
        .await
        .expect("mark");
    assert_eq!(same, serde_json::json!(true), "the page was reloaded");
    assert!(
        client.find(Locator::Id("pause-updates")).await.is_err(),
        "an ended job's page has nothing to pause"
    );
    assert!(text(client).await.contains("stopped by the test"));
    client.goto(back.as_str()).await.expect("back");
}

/// [`every_menu_page`] in the language the reader has (`now`), then again
/// after switching to the other.
async fn every_menu_page_in_both_languages(
    client: &Client,
    site: &str,
    shots: &std::path::Path,
    now: &str,
) {
    every_menu_page(client, site, shots, now).await;
    client.goto(&format!("{site}/")).await.expect("dashboard");
    let (other, heading) = if now == "ko" {
        ("en", "Dashboard")
    } else {
        ("ko", "대시보드")
    };
    click_then(
        client,
        Locator::Id("switch-language"),
        Locator::XPath(&format!("//h1[. = '{heading}']")),
    )
    .await;
    every_menu_page(client, site, shots, other).await;
}

/// Every page the menu leads to, and a wrong address, each checked for
/// accessibility (and photographed) in the reader's language.
async fn every_menu_page(client: &Client, site: &str, shots: &std::path::Path, lang: &str) {
    client.goto(&format!("{site}/")).await.expect("dashboard");
    let mut targets = Vec::new();
    for link in client
        .find_all(Locator::Css("header nav a"))
        .await
        .expect("the menu")
    {
        if let Some(href) = link.attr("href").await.expect("href")
            && href.starts_with('/')
            && !targets.contains(&href)
        {
            targets.push(href);
        }
    }
    assert!(targets.len() >= 8, "the menu: {targets:?}");
    targets.push("/account".into());
    targets.push("/no-such-page".into());
    for href in targets {
        client
            .goto(&format!("{site}{href}"))
            .await
            .expect("a menu page");
        let name = href.trim_matches('/').replace('/', "-");
        snap(
            client,
            shots,
            &format!(
                "11-menu-{}-{lang}",
                if name.is_empty() { "dashboard" } else { &name }
            ),
        )
        .await;
    }
}
