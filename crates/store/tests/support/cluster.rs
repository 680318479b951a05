//! A private PostgreSQL cluster for one test: made with `initdb` in a
//! temporary directory, listening only on a Unix socket inside it, and
//! stopped when dropped. `GIROK_TEST_POSTGRES`, a URL of a server where the
//! tests may create databases, is used instead when it is set.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

pub struct Cluster {
    /// Kept for its lifetime: the cluster's files and socket live in it.
    dir: Option<tempfile::TempDir>,
    pg_ctl: PathBuf,
    /// A URL of the server without a database name.
    server: String,
    /// The TCP port of a cluster that also takes TLS connections on 127.0.0.1.
    tls_port: Option<u16>,
}

/// The certificates of a cluster that takes TLS connections.
#[allow(dead_code, reason = "only the TLS tests use it")]
pub struct Certificates {
    /// The PEM file of the authority that signed the server's certificate.
    pub authority: PathBuf,
    /// Another authority's, which signed nothing of this server's.
    pub stranger: PathBuf,
}

/// The directory of PostgreSQL's server programs (`initdb`, `pg_ctl`,
/// `pg_basebackup`): on `PATH`, or Debian's.
fn server_programs() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
        // Where the programs really are (a PATH may link only some of them).
        .and_then(|dir| std::fs::canonicalize(dir.join("initdb")).ok())
        .and_then(|initdb| initdb.parent().map(Path::to_path_buf));
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|version| version.path().join("bin"))
        .filter(|bin| bin.join("initdb").is_file())
        .max();
    on_path.or(debian).expect(
        "PostgreSQL's server programs (initdb, pg_ctl) are not installed: \
         `bash scripts/test.sh` installs them (Debian package postgresql), \
         or set GIROK_TEST_POSTGRES to a server URL",
    )
}

/// A server program, run as `nobody` when the tests run as root
/// (PostgreSQL refuses to run as root).
fn program(path: &Path, as_nobody: bool) -> Command {
    let mut command = if as_nobody {
        let mut command = Command::new("setpriv");
        command
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .arg(path);
        command
    } else {
        Command::new(path)
    };
    command.env("LC_ALL", "C.UTF-8");
    command
}

fn run(path: &Path, args: &[&str], as_nobody: bool) {
    let output = program(path, as_nobody)
        .args(args)
        .output()
        .expect("run a PostgreSQL program");
    assert!(
        output.status.success(),
        "{} {args:?} failed: {}{}",
        path.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A temporary directory the server's user owns (`nobody` for a test run as root).
fn server_directory() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    if is_root() {
        let chown = Command::new("chown")
            .args(["nobody:nogroup"])
            .arg(dir.path())
            .status()
            .expect("chown");
        assert!(chown.success());
    }
    dir
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.starts_with(b"0\n"))
}

impl Cluster {
    pub fn start() -> Cluster {
        if let Ok(server) = std::env::var("GIROK_TEST_POSTGRES") {
            return Cluster {
                dir: None,
                pg_ctl: PathBuf::new(),
                server,
                tls_port: None,
            };
        }
        Cluster::private()
    }

    /// A cluster of this test's own, whatever `GIROK_TEST_POSTGRES` says:
    /// for tests that crash the server.
    #[allow(dead_code, reason = "only the tests that crash the server use it")]
    pub fn private() -> Cluster {
        let cluster = Cluster::made();
        cluster.start_server();
        cluster
    }

    /// A cluster of this test's own that also listens on 127.0.0.1, where
    /// it takes TLS connections only, with a certificate for `localhost`
    /// signed by an authority made for it.
    #[allow(dead_code, reason = "only the TLS tests use it")]
    pub fn with_tls() -> (Cluster, Certificates) {
        let mut cluster = Cluster::made();
        let dir = cluster.dir.as_ref().expect("a private cluster").path();
        let tls = dir.join("tls");
        std::fs::create_dir(&tls).expect("mkdir");
        let openssl = |args: &[&str]| {
            let output = Command::new("openssl")
                .args(args)
                .current_dir(&tls)
                .output()
                .expect("openssl");
            assert!(
                output.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        };
        let key = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        for name in ["authority", "stranger"] {
            let (keyout, out, subject) = (
                format!("{name}.key"),
                format!("{name}.pem"),
                format!("/CN=Girok test {name}"),
            );
            let mut args = vec!["req", "-x509", "-days", "2", "-subj", &subject];
            args.extend(key);
            args.extend(["-keyout", &keyout, "-out", &out]);
            openssl(&args);
        }
        let mut args = vec![
            "req",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ];
        args.extend(key);
        openssl(&args);
        std::fs::write(tls.join("names.ext"), "subjectAltName=DNS:localhost\n").expect("names");
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "authority.pem",
            "-CAkey",
            "authority.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "names.ext",
            "-out",
            "server.pem",
        ]);
        let data = dir.join("data");
        // Only TLS over TCP: a connection without it finds no rule that lets it in.
        let hba = std::fs::read_to_string(data.join("pg_hba.conf")).expect("hba");
        let hba: String = hba
            .lines()
            .map(|line| match line.strip_prefix("host ") {
                Some(rest) => format!("hostssl {rest}\n"),
                None => format!("{line}\n"),
            })
            .collect();
        std::fs::write(data.join("pg_hba.conf"), hba).expect("hba");
        if is_root() {
            let chown = Command::new("chown")
                .args(["-R", "nobody:nogroup"])
                .arg(&tls)
                .arg(&data)
                .status()
                .expect("chown");
            assert!(chown.success());
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            tls.join("server.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .expect("key mode");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        cluster.tls_port = Some(port);
        // The Unix socket is named by the port too.
        cluster.server = format!("{} port={port}", cluster.server);
        cluster.start_server();
        let certificates = Certificates {
            authority: tls.join("authority.pem"),
            stranger: tls.join("stranger.pem"),
        };
        (cluster, certificates)
    }

    /// A streaming replica of this private cluster, as `pg_basebackup -R`
    /// makes one: read-only, replaying what the primary writes.
    #[allow(dead_code, reason = "only the replica tests use it")]
    pub fn standby(&self) -> Cluster {
        let primary = self.dir.as_ref().expect("a private cluster").path();
        let dir = server_directory();
        let as_nobody = is_root();
        let data = dir.path().join("data");
        let programs = server_programs();
        run(
            &programs.join("pg_basebackup"),
            &[
                "-D",
                data.to_str().expect("UTF-8 path"),
                "-R",
                // A checkpoint at once, not one spread over minutes.
                "--checkpoint=fast",
                "-h",
                primary.to_str().expect("UTF-8 path"),
                "-U",
                "girok",
            ],
            as_nobody,
        );
        let standby = Cluster {
            pg_ctl: programs.join("pg_ctl"),
            server: format!(
                "host={} user=girok",
                dir.path().to_str().expect("UTF-8 path")
            ),
            dir: Some(dir),
            tls_port: None,
        };
        standby.start_server();
        standby
    }

    /// Every file of a private cluster: its data, write-ahead log and settings.
    #[allow(dead_code, reason = "only the key store test reads them")]
    pub fn files(&self) -> &Path {
        self.dir.as_ref().expect("a private cluster").path()
    }

    /// The URL of the same database on another cluster (a standby).
    #[allow(dead_code, reason = "only the replica tests use it")]
    pub fn same_database(&self, url: &str) -> String {
        let name = url
            .split_whitespace()
            .find_map(|word| word.strip_prefix("dbname="))
            .expect("a database name");
        format!("{} dbname={name}", self.server)
    }

    /// The TCP port of a TLS cluster.
    #[allow(dead_code, reason = "only the TLS tests use it")]
    pub fn tcp_port(&self) -> u16 {
        self.tls_port.expect("a TLS cluster")
    }

    /// The URL of a database on a TLS cluster, over TCP to `host` (which
    /// resolves to 127.0.0.1).
    #[allow(dead_code, reason = "only the TLS tests use it")]
    pub fn over_tcp(&self, database: &str, host: &str) -> String {
        let name = database
            .split_whitespace()
            .find_map(|word| word.strip_prefix("dbname="))
            .expect("a database name");
        format!(
            "host={host} port={} user=girok dbname={name}",
            self.tcp_port()
        )
    }

    fn made() -> Cluster {
        let programs = server_programs();
        let dir = server_directory();
        let as_nobody = is_root();
        let data = dir.path().join("data");
        let data_arg = data.to_str().expect("UTF-8 path");
        run(
            &programs.join("initdb"),
            &[
                "-D",
                data_arg,
                "-U",
                "girok",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-instructions",
            ],
            as_nobody,
        );
        Cluster {
            pg_ctl: programs.join("pg_ctl"),
            server: format!(
                "host={} user=girok",
                dir.path().to_str().expect("UTF-8 path")
            ),
            dir: Some(dir),
            tls_port: None,
        }
    }

    fn start_server(&self) {
        let dir = self.dir.as_ref().expect("a private cluster").path();
        let socket = dir.to_str().expect("UTF-8 path");
        let mut options = format!("-k {socket} -c max_connections=60");
        match self.tls_port {
            None => options.push_str(" -c listen_addresses=''"),
            Some(port) => options.push_str(&format!(
                " -c listen_addresses=127.0.0.1 -p {port} -c ssl=on \
                 -c ssl_cert_file={socket}/tls/server.pem -c ssl_key_file={socket}/tls/server.key"
            )),
        }
        let log = dir.join("server.log");
        run(
            &self.pg_ctl,
            &[
                "-D",
                dir.join("data").to_str().expect("UTF-8 path"),
                "-o",
                &options,
                "-l",
                log.to_str().expect("UTF-8 path"),
                "-w",
                "start",
            ],
            is_root(),
        );
    }

    /// Stops the server as a crash would (an immediate shutdown: no
    /// checkpoint, every connection cut, recovery from the write-ahead log
    /// at the next start), then starts it again.
    #[allow(dead_code, reason = "only the tests that crash the server use it")]
    pub fn crash_and_restart(&self) {
        let dir = self.dir.as_ref().expect("a private cluster").path();
        run(
            &self.pg_ctl,
            &[
                "-D",
                dir.join("data").to_str().expect("UTF-8 path"),
                "-m",
                "immediate",
                "stop",
            ],
            is_root(),
        );
        self.start_server();
    }

    /// A URL of a new, empty database on the cluster.
    pub fn new_database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "girok_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin =
            postgres::Client::connect(&format!("{} dbname=postgres", self.server), postgres::NoTls)
                .expect("connect to the test cluster");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create a test database");
        format!("{} dbname={name}", self.server)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let data = dir.path().join("data");
            let _ = program(&self.pg_ctl, is_root())
                .arg("-D")
                .arg(&data)
                .args(["-m", "immediate", "stop"])
                .output();
        }
    }
}
