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
}

/// The directory of PostgreSQL's server programs: on `PATH`, or Debian's.
fn server_programs() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file());
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
            };
        }
        Cluster::private()
    }

    /// A cluster of this test's own, whatever `GIROK_TEST_POSTGRES` says:
    /// for tests that crash the server.
    #[allow(dead_code, reason = "only the tests that crash the server use it")]
    pub fn private() -> Cluster {
        let programs = server_programs();
        let dir = tempfile::tempdir().expect("temporary directory");
        let as_nobody = is_root();
        if as_nobody {
            let chown = Command::new("chown")
                .args(["nobody:nogroup"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(chown.success());
        }
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
        let cluster = Cluster {
            pg_ctl: programs.join("pg_ctl"),
            server: format!(
                "host={} user=girok",
                dir.path().to_str().expect("UTF-8 path")
            ),
            dir: Some(dir),
        };
        cluster.start_server();
        cluster
    }

    fn start_server(&self) {
        let dir = self.dir.as_ref().expect("a private cluster").path();
        let socket = dir.to_str().expect("UTF-8 path");
        let options = format!("-k {socket} -c listen_addresses='' -c max_connections=60");
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
