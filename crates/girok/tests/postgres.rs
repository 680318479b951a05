//! The command line on a PostgreSQL database: `girok init --postgres` makes
//! a data directory that names it, and every command then works there as
//! it does on the embedded database, from any data directory that names it.

use std::path::Path;
use std::process::Command;

#[path = "../../store/tests/support/cluster.rs"]
mod cluster;

mod support;
use support::{fails, girok_with_env, ok, text};

#[test]
fn every_command_works_on_a_postgres_database_named_by_the_data_directory() {
    let cluster = cluster::Cluster::start();
    // The test cluster trusts local connections and never asks for the
    // password, so it only shows where the URL goes.
    let url = format!("{} password=hunter2-secret", cluster.new_database());
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");

    let init = girok_with_env(&data, &["init"], &[("GIROK_POSTGRES_URL", &url)]);
    let said = text(&init);
    assert!(init.status.success(), "{said}");
    assert!(said.contains("in PostgreSQL"), "{said}");
    assert!(!said.contains("hunter2"), "{said}");
    assert!(!data.join("girok.sqlite").exists());
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(data.join("postgres.url"))
            .expect("the URL file")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);

    let file = dir.path().join("testimonies.jsonl");
    let file = file.to_str().expect("path");
    ok(
        dir.path(),
        &["synth", "--testimonies", "40", "--seed", "3", "--out", file],
    );
    let imported = ok(&data, &["import", file]);
    assert!(!imported.contains("hunter2"), "{imported}");
    assert!(ok(&data, &["check"]).contains("OK"));
    let verified = ok(&data, &["verify"]);
    assert!(verified.contains("OK"), "{verified}");
    let stats = ok(&data, &["stats", "--by", "act-type", "--count", "acts"]);
    assert!(stats.lines().count() > 2, "{stats}");
    let same = fails(&data, &["import", file]);
    assert!(same.contains("already"), "{same}");

    // A second data directory on the same database (another server's) sees it all.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).expect("mkdir");
    std::fs::copy(data.join("postgres.url"), other.join("postgres.url")).expect("copy");
    std::fs::copy(data.join("girok.key"), other.join("girok.key")).expect("copy");
    assert!(ok(&other, &["check"]).contains("OK"));
    // Both directories' exports give a person the same pseudonym: the key is the database's.
    let export = [
        "export",
        "--audience",
        "partners",
        "--min-cell",
        "1",
        "--format",
        "jsonl",
    ];
    let (here, there) = (ok(&data, &export), ok(&other, &export));
    assert!(
        here.contains("\"type\":\"act\"") && here == there,
        "{here}\n---\n{there}"
    );
    assert!(!data.join("pseudonym.key").exists() && !other.join("pseudonym.key").exists());

    // A role granted by the owner runs Girok without owning the tables.
    postgres::Client::connect(&url, postgres::NoTls)
        .expect("connect")
        .batch_execute("CREATE ROLE girok_app LOGIN")
        .expect("role");
    let refused = fails(&data, &["grant", "app; DROP TABLE journal"]);
    assert!(refused.contains("not a role name"), "{refused}");
    let granted = ok(&data, &["grant", "girok_app"]);
    assert!(granted.contains("girok_app"), "{granted}");
    let as_app = dir.path().join("as-app");
    std::fs::create_dir(&as_app).expect("mkdir");
    std::fs::write(
        as_app.join("postgres.url"),
        url.replace("user=girok", "user=girok_app"),
    )
    .expect("url");
    std::fs::copy(data.join("girok.key"), as_app.join("girok.key")).expect("copy");
    assert!(add_kim(&as_app), "the app role cannot add a user");
    ok(&as_app, &["import", &person_file(dir.path(), "p-app")]);
    assert!(ok(&as_app, &["check"]).contains("OK"));
    let embedded = dir.path().join("embedded");
    ok(&embedded, &["init"]);
    let no_roles = fails(&embedded, &["grant", "girok_app"]);
    assert!(no_roles.contains("no database roles"), "{no_roles}");

    // No second database in the same directory.
    let again = girok_with_env(&data, &["init"], &[("GIROK_POSTGRES_URL", &url)]);
    assert!(!again.status.success(), "{}", text(&again));
    // Nor an embedded database beside the PostgreSQL one, which would hide it.
    let beside = fails(&data, &["init"]);
    assert!(beside.contains("already exists"), "{beside}");
    assert!(!data.join("girok.sqlite").exists());
    // A backup of the shared database restores as an embedded directory
    // that verifies, with its users, evidence and pseudonyms.
    let report = records_file(
        dir.path(),
        "report",
        r#"{"type":"source","id":"s-app","kind":"report","title":"A report","consent":"public"}"#,
    );
    ok(&data, &["import", &report]);
    let scan = dir.path().join("scan.pdf");
    std::fs::write(&scan, b"the bytes of a scanned page").expect("scan");
    ok(&data, &["attach", "s-app", scan.to_str().expect("path")]);
    let sealed = dir.path().join("team.backup");
    let sealed = sealed.to_str().expect("path");
    let passphrase = [("GIROK_PASSPHRASE", "a long enough backup passphrase")];
    let backed_up = girok_with_env(&data, &["backup", "--out", sealed], &passphrase);
    assert!(backed_up.status.success(), "{}", text(&backed_up));
    let restored = dir.path().join("restored");
    let done = girok_with_env(&restored, &["restore", sealed], &passphrase);
    assert!(done.status.success(), "{}", text(&done));
    assert!(restored.join("girok.sqlite").exists() && !restored.join("postgres.url").exists());
    let verified = ok(&restored, &["verify"]);
    assert!(
        verified.contains("VERIFIED") && verified.contains("1 evidence file"),
        "{verified}"
    );
    assert!(ok(&restored, &["user", "list"]).contains("kim"));
    assert_eq!(
        ok(&restored, &export),
        here,
        "the restored pseudonyms differ"
    );

    // The journal never holds the connection's password.
    let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    let leaked: i64 = client
        .query_one(
            "SELECT COUNT(*) FROM journal WHERE position('hunter2' in convert_from(bytes, 'UTF8')) > 0 \
             OR actor LIKE '%hunter2%'",
            &[],
        )
        .expect("query")
        .get(0);
    assert_eq!(leaked, 0);
}

#[test]
fn an_unreachable_server_is_named_and_no_directory_is_left() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let refused = girok_with_env(
        &data,
        &["init"],
        &[(
            "GIROK_POSTGRES_URL",
            "host=127.0.0.1 port=1 user=girok password=s3cret dbname=girok connect_timeout=2",
        )],
    );
    let said = text(&refused);
    assert!(!refused.status.success(), "{said}");
    assert!(
        said.contains("cannot connect") && said.contains("127.0.0.1"),
        "{said}"
    );
    assert!(!said.contains("s3cret"), "{said}");
    assert!(!data.exists(), "the data directory was left behind");
}

/// Adds the documenter kim in `data`; whether it was added.
fn add_kim(data: &Path) -> bool {
    use std::io::Write;
    let mut add = Command::new(env!("CARGO_BIN_EXE_girok"))
        .arg("--data")
        .arg(data)
        .args(["user", "add", "kim", "--role", "documenter"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("user add");
    add.stdin
        .take()
        .expect("stdin")
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .expect("password");
    add.wait().expect("wait").success()
}

const PASSWORD: &str = "a long enough password";

/// A write key of kim's, made in `data`.
fn key_of_kim(data: &Path) -> String {
    let out = ok(
        data,
        &["user", "key", "kim", "--label", "test", "--scope", "write"],
    );
    out.lines().last().expect("the key").trim().to_string()
}

/// A JSONL file `NAME.jsonl` in `dir` of one record; its path.
fn records_file(dir: &Path, name: &str, record: &str) -> String {
    let file = dir.join(format!("{name}.jsonl"));
    std::fs::write(&file, format!("{record}\n")).expect("records");
    file.to_str().expect("path").to_string()
}

/// A JSONL file of one person named 김은주, with the id `id`; its path.
fn person_file(dir: &Path, id: &str) -> String {
    records_file(
        dir,
        id,
        &format!(
            r#"{{"type":"person","id":"{id}","names":[{{"text":"김은주","script":"hangul"}}]}}"#
        ),
    )
}

/// The text between `before` and the next `after`.
fn between<'a>(text: &'a str, before: &str, after: &str) -> &'a str {
    let start = text
        .find(before)
        .unwrap_or_else(|| panic!("no {before} in {text}"))
        + before.len();
    let length = text[start..].find(after).expect("the end");
    &text[start..start + length]
}

/// A `girok serve` process on a free port of its own.
struct Server {
    process: std::process::Child,
    port: u16,
}

impl Server {
    fn start(data: &Path) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let log = data.with_extension("log");
        let process = Command::new(env!("CARGO_BIN_EXE_girok"))
            .arg("--data")
            .arg(data)
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("serve");
        let server = Server { process, port };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!(
            "the server on port {port} did not start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// One request of the API with a key; the status line, headers and body of the reply.
    fn request(&self, method: &str, path: &str, key: &str, body: &str) -> String {
        self.send(
            method,
            path,
            &format!("Authorization: Bearer {key}\r\nContent-Type: application/json"),
            body,
        )
    }

    /// One HTTP/1.1 request with the headers given.
    fn send(&self, method: &str, path: &str, headers: &str, body: &str) -> String {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("send");
        let mut reply = String::new();
        stream.read_to_string(&mut reply).expect("reply");
        reply
    }

    /// The `Cookie` header of a session kim begins with `password`.
    fn session_cookie(&self, password: &str) -> String {
        let signed_in = self.sign_in(password);
        let session = signed_in
            .lines()
            .find_map(|line| line.strip_prefix("set-cookie: girok_session="))
            .and_then(|cookie| cookie.split(';').next())
            .unwrap_or_else(|| panic!("no session: {signed_in}"));
        format!("Cookie: girok_session={session}")
    }

    /// A sign-in through the form; the reply.
    fn sign_in(&self, password: &str) -> String {
        self.send(
            "POST",
            "/login",
            "Cookie: girok_login=t0ken\r\nContent-Type: application/x-www-form-urlencoded",
            &format!(
                "name=kim&password={}&token=t0ken",
                password.replace(' ', "+")
            ),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

#[test]
fn two_server_processes_on_one_database_see_each_others_writes_at_once() {
    let cluster = cluster::Cluster::start();
    let url = cluster.new_database();
    let dir = tempfile::tempdir().expect("tempdir");
    let (first, second) = (dir.path().join("first"), dir.path().join("second"));
    let init = girok_with_env(&first, &["init"], &[("GIROK_POSTGRES_URL", &url)]);
    assert!(init.status.success(), "{}", text(&init));
    std::fs::create_dir(&second).expect("mkdir");
    for file in ["postgres.url", "girok.key"] {
        std::fs::copy(first.join(file), second.join(file)).expect("copy");
    }
    // Users are the database's, not a directory's: kim is there for both.
    assert!(add_kim(&first));
    assert!(!add_kim(&second), "a second kim was added");
    let (first_key, second_key) = (key_of_kim(&first), key_of_kim(&second));
    let (one, two) = (Server::start(&first), Server::start(&second));

    let created = one.request(
        "POST",
        "/api/changes",
        &first_key,
        r#"{"changes":[{"op":"create","record":{"type":"person","id":"p-kim","names":[{"text":"김은주","script":"hangul"}]}}]}"#,
    );
    assert!(created.starts_with("HTTP/1.1 200"), "{created}");
    let read = two.request("GET", "/api/records/p-kim", &second_key, "");
    assert!(read.starts_with("HTTP/1.1 200"), "{read}");
    assert!(read.contains("김은주"), "{read}");
    // And the other way round, in the same journal.
    let created = two.request(
        "POST",
        "/api/changes",
        &second_key,
        r#"{"changes":[{"op":"create","record":{"type":"person","id":"p-lee","names":[{"text":"이영희","script":"hangul"}]}}]}"#,
    );
    assert!(created.starts_with("HTTP/1.1 200"), "{created}");
    let read = one.request("GET", "/api/records/p-lee", &first_key, "");
    assert!(read.contains("이영희"), "{read}");

    // A session begun on one server is good on the other, and ended for both.
    let cookie = one.session_cookie(PASSWORD);
    let page = two.send("GET", "/persons/p-kim", &cookie, "");
    assert!(
        page.starts_with("HTTP/1.1 200") && page.contains("김은주"),
        "{page}"
    );

    // An upload previewed on one server is confirmed on the other, and
    // evidence stored through one directory is downloaded from the other
    // server: both are kept in the shared database, not a directory.
    let form = one.send("GET", "/import", &cookie, "");
    let csrf = between(&form, "name=\"csrf\" value=\"", "\"");
    let boundary = "girok-boundary";
    let upload = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"seoul.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n\
         source_id,source_title,consent,victim_id,victim_names,sex,act_type,act_date,act_place\n\
         s-web-1,Interview in Seoul,internal,p-web-1,박영희,여성,arrest,2020년 5월,Hoeryŏng\n\
         \r\n--{boundary}--\r\n"
    );
    let preview = one.send(
        "POST",
        "/import",
        &format!("{cookie}\r\nContent-Type: multipart/form-data; boundary={boundary}"),
        &upload,
    );
    assert!(preview.starts_with("HTTP/1.1 200"), "{preview}");
    assert!(
        !first
            .join("import-staging")
            .read_dir()
            .is_ok_and(|mut d| d.next().is_some())
    );
    let sha256 = between(&preview, "name=\"sha256\" value=\"", "\"");
    let imported = two.send(
        "POST",
        "/import/confirm",
        &format!("{cookie}\r\nContent-Type: application/x-www-form-urlencoded"),
        &format!("csrf={csrf}&sha256={sha256}&name=seoul.csv"),
    );
    assert!(imported.contains("id=\"imported\""), "{imported}");
    let photo = dir.path().join("photo.jpg");
    std::fs::write(&photo, b"the bytes of a photograph").expect("photo");
    let attached = ok(
        &first,
        &["attach", "s-web-1", photo.to_str().expect("path")],
    );
    assert!(
        !first.join("evidence").exists(),
        "evidence was kept in the directory"
    );
    let evidence = between(&attached, "as evidence ", ",");
    let download = two.send("GET", &format!("/records/{evidence}/download"), &cookie, "");
    assert!(
        download.starts_with("HTTP/1.1 200") && download.ends_with("the bytes of a photograph"),
        "{download}"
    );
    let checked = ok(&second, &["verify"]);
    assert!(checked.contains("OK"), "{checked}");

    ok(&second, &["user", "reset-second-factor", "kim"]);
    let page = one.send("GET", "/persons/p-kim", &cookie, "");
    assert!(
        !page.starts_with("HTTP/1.1 200"),
        "the session outlived its end: {page}"
    );

    // Failed sign-ins count on every server: the limit reached on one holds on the other.
    for _ in 0..5 {
        let wrong = one.sign_in("not the password at all");
        assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");
    }
    let limited = two.sign_in(PASSWORD);
    assert!(limited.starts_with("HTTP/1.1 429"), "{limited}");
    drop((one, two));
    assert!(ok(&first, &["check"]).contains("OK"));
    let verified = ok(&second, &["verify"]);
    assert!(verified.contains("OK"), "{verified}");
}

#[test]
fn a_server_reading_a_replica_serves_reads_refuses_writes_and_says_how_far_behind() {
    let primary = cluster::Cluster::private();
    let url = primary.new_database();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("primary");
    let init = girok_with_env(&data, &["init"], &[("GIROK_POSTGRES_URL", &url)]);
    assert!(init.status.success(), "{}", text(&init));
    let person = |id: &str| person_file(dir.path(), id);
    ok(&data, &["import", &person("p-1")]);
    assert!(add_kim(&data));
    let key = key_of_kim(&data);

    // A server's directory that reads the replica: the primary's two files and the replica's URL.
    let standby = primary.standby();
    let reader = dir.path().join("reader");
    std::fs::create_dir(&reader).expect("mkdir");
    for file in ["postgres.url", "girok.key"] {
        std::fs::copy(data.join(file), reader.join(file)).expect("copy");
    }
    std::fs::write(reader.join("replica.url"), standby.same_database(&url)).expect("replica");
    let caught_up = |expected: &str| {
        for _ in 0..100 {
            let checked = ok(&reader, &["check"]);
            if checked.contains(expected) {
                return checked;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the replica did not catch up");
    };
    let checked = caught_up("every journal entry of the primary");
    assert!(
        checked.contains("read-only replica") && checked.contains("OK"),
        "{checked}"
    );
    let refused = fails(&reader, &["import", &person("p-2")]);
    assert!(refused.contains("read-only replica"), "{refused}");
    // What the primary writes next the replica shows as not yet replayed, then replays.
    ok(&data, &["import", &person("p-3")]);

    let server = Server::start(&reader);
    let read = server.request("GET", "/api/records/p-1", &key, "");
    assert!(
        read.starts_with("HTTP/1.1 200") && read.contains("김은주"),
        "{read}"
    );
    let written = server.request(
        "POST",
        "/api/changes",
        &key,
        r#"{"changes":[{"op":"create","record":{"type":"person","id":"p-4","names":[{"text":"이영희","script":"hangul"}]}}]}"#,
    );
    assert!(
        written.starts_with("HTTP/1.1 503") && written.contains("read-only replica"),
        "{written}"
    );
    // Users and sessions stay on the primary: kim signs in on the replica's server.
    let dashboard = server.send("GET", "/", &server.session_cookie(PASSWORD), "");
    assert!(
        dashboard.contains("id=\"replica\"") && dashboard.contains("read-only replica"),
        "{dashboard}"
    );
    caught_up("every journal entry of the primary");
    drop(server);
    let later = ok(&reader, &["check"]);
    assert!(later.contains("OK"), "{later}");
}

#[test]
fn an_encrypted_team_database_keeps_its_keys_apart_and_forgets_for_good() {
    let cluster = cluster::Cluster::start();
    let url = cluster.new_database();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let secret = ("GIROK_PASSPHRASE", "a long enough team passphrase");
    let init = girok_with_env(
        &data,
        &["init", "--encrypt"],
        &[("GIROK_POSTGRES_URL", &url), secret],
    );
    let said = text(&init);
    assert!(init.status.success(), "{said}");
    assert!(said.contains("key store"), "{said}");
    assert!(data.join("keys.sqlite").is_file() && data.join("keys.path").is_file());
    let run = |data: &Path, args: &[&str]| {
        let output = girok_with_env(data, args, &[secret]);
        assert!(output.status.success(), "{args:?}: {}", text(&output));
        text(&output)
    };
    run(&data, &["import", &person_file(dir.path(), "p-kim")]);
    run(&data, &["import", &person_file(dir.path(), "p-lee")]);
    assert!(run(&data, &["list", "persons"]).contains("김은주"));
    assert!(
        !ok(&data, &["list", "persons"]).contains("김은주"),
        "locked, sealed"
    );

    // Another server's directory names the same key store and reads the names.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).expect("mkdir");
    for file in ["postgres.url", "girok.key", "keys.path"] {
        std::fs::copy(data.join(file), other.join(file)).expect("copy");
    }
    assert!(run(&other, &["list", "persons"]).contains("김은주"));
    // One without it says what is missing and writes nothing.
    std::fs::remove_file(other.join("keys.path")).expect("remove");
    let refused = girok_with_env(&other, &["unlock"], &[secret]);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("key store"), "{}", text(&refused));
    let forget = girok_with_env(
        &other,
        &["forget", "p-kim", "--reason", "withdrawn"],
        &[secret],
    );
    assert!(!forget.status.success(), "{}", text(&forget));

    // A backup carries the keys (sealed under its own secret) and restores as an embedded directory.
    let sealed = dir.path().join("team.backup");
    let sealed = sealed.to_str().expect("path");
    run(&data, &["backup", "--out", sealed]);
    let restored = dir.path().join("restored");
    run(&restored, &["restore", sealed]);
    assert!(run(&restored, &["list", "persons"]).contains("김은주"));
    // Not into PostgreSQL again: it would need a key store of its own; nothing is made.
    let back = dir.path().join("back");
    let into_postgres = girok_with_env(
        &back,
        &["restore", sealed, "--postgres", &cluster.new_database()],
        &[secret],
    );
    assert!(!into_postgres.status.success());
    assert!(
        text(&into_postgres).contains("cannot keep data keys"),
        "{}",
        text(&into_postgres)
    );
    assert!(!back.join("postgres.url").exists());

    // Forgotten on the team's database: its name can no longer be opened there.
    run(
        &data,
        &["forget", "p-kim", "--reason", "the witness withdrew"],
    );
    let after = run(&data, &["list", "persons"]);
    assert!(
        after.contains("p-lee") && after.contains("p-kim"),
        "{after}"
    );
    assert_eq!(after.matches("김은주").count(), 1, "{after}");
    assert!(run(&data, &["unlock"]).contains("1"), "keys counted");
    assert!(ok(&data, &["verify"]).contains("VERIFIED"));
}
