//! The web application and JSON API (`girok serve`): documenters work in a
//! browser, partners integrate over HTTP, and both go through the same
//! typed changes and write path as the command line.
//!
//! [`access`] keeps users, sessions and keys; [`auth`] turns a request into
//! a signed-in principal and checks CSRF tokens; [`pages`] renders the
//! bilingual HTML; [`api`] serves JSON with an OpenAPI document;
//! [`redact`] removes witnesses' identifying data for roles that may not
//! see it. Database work runs on blocking threads: one writer, a pool of
//! readers (SQLite in WAL mode lets them read while it writes).

pub use girok_access as access;
pub mod api;
pub mod auth;
pub mod intake;
pub mod pages;
pub mod redact;
pub mod search;
mod turns;
pub use girok_access::totp;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use girok_journal::checkpoint::{Checkpoint, VerifierKey};
use girok_service::jobs::{JobKind, Jobs, Refused};
use girok_store::{AuditTrail, Database, LockState, ReadAudit, StoreError, Unlock};

use crate::access::{AccessError, AccessStore, Role};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error(transparent)]
    Service(#[from] girok_service::ServiceError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// The purpose recorded for reads in the web application.
const WEB_PURPOSE: &str = "documentation work in the web application";

/// Who reads, and what they asked for, for the audit log.
pub struct Reading {
    pub actor: String,
    pub role: Role,
    pub action: String,
}

impl Reading {
    pub fn of(principal: &auth::Principal, action: impl Into<String>) -> Reading {
        Reading {
            actor: principal.user.name.clone(),
            role: principal.user.role,
            action: action.into(),
        }
    }
}

/// Shared state of the server.
pub struct App {
    pub data: PathBuf,
    writer: Mutex<Database>,
    readers: Vec<Mutex<Database>>,
    /// Which reader a request may take, in the order requests asked.
    reader_turns: turns::Turns,
    access: Mutex<AccessStore>,
    /// The access store is the shared PostgreSQL database's.
    access_shared: bool,
    /// Background jobs, in the table every server process sharing the database reads.
    jobs: Mutex<Jobs>,
    jobs_shared: bool,
    /// Where reads of identifying data are recorded, shared by every request.
    audit: Arc<AuditTrail>,
    pub settings: Settings,
    pub names: search::NameIndex,
    pub checkpoints: CheckpointKey,
    /// Held while a full verification runs. Each `girok serve` process runs
    /// at most one, so the processes sharing a database bound how many run.
    pub verification: Mutex<()>,
}

/// The installation's checkpoint key, read when the writers read theirs, and
/// the last note it verified: pages check the latest checkpoint on every view,
/// and the same note under the same key need not have its signature checked
/// again (the tree it names is still compared with the database each time).
pub struct CheckpointKey {
    key: Result<VerifierKey, String>,
    last: Mutex<Option<(String, Checkpoint)>>,
}

impl CheckpointKey {
    /// What `note` signed, if it is the installation's; else why not.
    pub fn verify(&self, note: &str) -> Result<Checkpoint, String> {
        let key = self.key.as_ref().map_err(Clone::clone)?;
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((verified, checkpoint)) = &*last
            && verified == note
        {
            return Ok(checkpoint.clone());
        }
        let checkpoint = key
            .verify(note)
            .map_err(|e| girok_service::ServiceError::NotOurCheckpoint(e).to_string())?;
        *last = Some((note.to_string(), checkpoint.clone()));
        Ok(checkpoint)
    }
}

/// How a server is run, beyond its data directory.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Reverse proxies whose `X-Forwarded-For` names the client (none by default).
    pub trusted_proxies: Vec<IpAddr>,
    /// The largest evidence file accepted by upload, in bytes.
    pub upload_limit: u64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            trusted_proxies: Vec::new(),
            upload_limit: 256 * 1024 * 1024,
        }
    }
}

/// Readers in the pool: enough for the machine's cores to read at once.
fn reader_count() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get() * 2)
}

impl App {
    /// Opens the database in `data` (created by `girok init` or `girok demo`).
    pub fn open(data: &Path) -> Result<Arc<App>, ServerError> {
        App::open_with(data, Settings::default())
    }

    /// Opens the database in `data`, served as `settings` say.
    pub fn open_with(data: &Path, settings: Settings) -> Result<Arc<App>, ServerError> {
        // Every connection signs what it commits, so no door writes without a checkpoint.
        let writer = girok_service::open(data)?;
        let readers: Vec<_> = (0..reader_count())
            .map(|_| girok_service::open(data).map(Mutex::new))
            .collect::<Result<_, _>>()?;
        let access = girok_service::open_access(data)?;
        let jobs = girok_service::open_jobs(data)?;
        Ok(Arc::new(App {
            data: data.to_path_buf(),
            writer: Mutex::new(writer),
            reader_turns: turns::Turns::new(readers.len()),
            readers,
            access_shared: access.is_shared(),
            access: Mutex::new(access),
            jobs_shared: jobs.is_shared(),
            jobs: Mutex::new(jobs),
            audit: Arc::new(girok_service::audit_trail(data)?),
            settings,
            names: search::NameIndex::default(),
            checkpoints: CheckpointKey {
                key: girok_service::verifier(data).map_err(|e| e.to_string()),
                last: Mutex::new(None),
            },
            verification: Mutex::new(()),
        }))
    }

    /// Runs work on a pooled connection, with the vocabularies as the
    /// database holds them now (another process may have added a term).
    fn pooled<T>(&self, work: impl FnOnce(&Database) -> T) -> T {
        let turn = self.reader_turns.take();
        // Only the vault's lock and unlock, which go through every reader, may hold it too.
        let mut store = self.readers[turn.slot]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // A database that cannot be read fails the work itself, with its own error.
        let _ = store.refresh_vocabularies();
        work(&store)
    }

    /// Runs read-only work that needs no identifying data: sealed records
    /// stay sealed, so nothing is decrypted.
    pub fn read<T>(&self, work: impl FnOnce(&Database) -> T) -> T {
        self.pooled(|store| store.sealed_reads(work))
    }

    /// Runs read-only work for someone: for roles that see identifying data,
    /// sealed records are opened once the audit log has recorded who opens
    /// which (if it cannot, the read fails); for others nothing is decrypted.
    pub fn read_as<T>(
        &self,
        reading: &Reading,
        work: impl FnOnce(&Database) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if !reading.role.sees_witnesses() {
            return self.read(work);
        }
        let audit = ReadAudit::new(
            self.audit.clone(),
            &reading.actor,
            &reading.action,
            WEB_PURPOSE,
        );
        self.pooled(|store| {
            store.set_auditor(Some(Arc::new(audit)));
            let result = work(store);
            store.set_auditor(None);
            result
        })
    }

    /// Runs work with the single writer.
    pub fn write<T>(&self, work: impl FnOnce(&mut Database) -> T) -> T {
        let mut store = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        work(&mut store)
    }

    /// Whether identifying data can be read.
    pub fn lock_state(&self) -> LockState {
        self.write(|store| store.lock_state())
    }

    /// Unlocks an encrypted database for every connection (one key derivation).
    pub fn unlock(&self, unlock: &Unlock) -> Result<(), ServerError> {
        let vault = self.write(|store| {
            store.unlock(unlock)?;
            Ok::<_, StoreError>(store.vault())
        })?;
        if let Some(vault) = vault {
            for reader in &self.readers {
                reader
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .unlock_with(vault.clone())?;
            }
        }
        // The name index was built from what a locked store could read.
        self.names.invalidate();
        Ok(())
    }

    /// Drops the keys from memory: identifying data cannot be read until unlocked again.
    pub fn lock(&self) {
        self.write(Database::lock);
        for reader in &self.readers {
            reader
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .lock();
        }
        self.names.invalidate();
    }

    /// Runs work on the access store (users, sessions, keys), from any thread.
    pub fn with_access<T: Send>(&self, work: impl FnOnce(&AccessStore) -> T + Send) -> T {
        off_the_runtime(self.access_shared, || {
            work(
                &self
                    .access
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
            )
        })
    }

    /// Runs work on the background jobs' table, from any thread.
    pub fn with_jobs<T: Send>(&self, work: impl FnOnce(&Jobs) -> T + Send) -> T {
        off_the_runtime(self.jobs_shared, || {
            work(
                &self
                    .jobs
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
            )
        })
    }

    /// Records in the audit log that `actor` took `what` (a file handed out
    /// by the web application) doing `action`.
    pub fn record_taken(&self, actor: &str, action: &str, what: &str) -> Result<(), StoreError> {
        self.audit.taken(actor, action, WEB_PURPOSE, what)
    }

    /// Starts a background job of `kind` for `by` (or runs job `again` once
    /// more) on a thread of this server; refused while one of its kind runs
    /// on any server of the database. Returns the job's id.
    /// A backup is sealed under `secret`, which the job holds in memory only.
    pub fn start_job(
        &self,
        kind: JobKind,
        parameters: &str,
        by: &str,
        again: Option<u64>,
        secret: Option<girok_store::Unlock>,
    ) -> Result<Result<u64, Refused>, ServerError> {
        let runner = girok_service::jobs::runner_token()?;
        let started = self.with_jobs(|jobs| match again {
            Some(id) => jobs.again(id, by, &runner),
            None => jobs
                .start(kind, parameters, by, &runner, None)
                .map(|found| found.map(|new| (new, kind, parameters.to_string()))),
        })?;
        let (id, kind, parameters) = match started {
            Ok(started) => started,
            Err(refused) => return Ok(Err(refused)),
        };
        let data = self.data.clone();
        let vault = self.write(|store| store.vault());
        let audit = ReadAudit::new(
            self.audit.clone(),
            by,
            &format!("{} job {id}", kind.key()),
            WEB_PURPOSE,
        );
        let place = girok_service::jobs_place(&self.data)?;
        girok_service::jobs::spawn(place, id, runner, move |progress| {
            // The job's own connection, unlocked as the server is, its reads
            // written to the audit log under the name of who started it.
            let store = || -> Result<Database, String> {
                let mut store = girok_service::open(&data).map_err(|e| e.to_string())?;
                if let Some(vault) = vault {
                    store.unlock_with(vault).map_err(|e| e.to_string())?;
                }
                store.set_auditor(Some(Arc::new(audit)));
                Ok(store)
            };
            match kind {
                JobKind::Linkage => {
                    girok_service::linkage::run_job(&store()?, &parameters, progress)
                }
                JobKind::Export => {
                    girok_service::exports::run_job(&mut store()?, &data, id, &parameters, progress)
                }
                // The backup copies files and snapshots: it opens no record.
                JobKind::Backup => {
                    let secret = secret.ok_or("a backup needs a passphrase")?;
                    girok_service::backup::run_job(&data, &secret, progress)
                }
            }
        });
        Ok(Ok(id))
    }
}

/// Runs `work` where a blocking PostgreSQL client may wait: its client
/// waits on a runtime of its own, which cannot be entered from a thread of
/// the server's, so `shared` work on one of those runs on another thread.
fn off_the_runtime<T: Send>(shared: bool, work: impl FnOnce() -> T + Send) -> T {
    if shared && tokio::runtime::Handle::try_current().is_ok() {
        return std::thread::scope(|scope| {
            scope
                .spawn(work)
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
    }
    work()
}

/// Every route of the application and the API.
pub fn router(app: Arc<App>) -> Router {
    pages::routes(&app)
        .merge(api::routes())
        .layer(axum::middleware::from_fn(api::problem_details))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(app)
}

/// Headers every response carries: no framing, no sniffing, no referrer
/// leaking record ids, and a content policy that allows only this origin
/// (inline styles for the charts; no scripts but our own).
async fn security_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::HeaderValue;
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        (
            "content-security-policy",
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
        ),
        ("cache-control", "no-store"),
    ] {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

/// How long a client may take to send a request's head before it is
/// disconnected, so half-sent requests cannot hold connections for ever.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once; further clients wait in the listen queue
/// rather than each costing a task and its buffers.
pub const MAX_CONNECTIONS: usize = 512;

/// What one server lets its clients hold.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub header_timeout: Duration,
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            header_timeout: HEADER_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
        }
    }
}

/// Serves until interrupted (Ctrl-C).
pub async fn serve(app: Arc<App>, addr: SocketAddr) -> Result<(), ServerError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Listen { addr, source })?;
    serve_listener(listener, app, ConnectionLimits::default(), async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    Ok(())
}

/// Serves the connections of `listener` within `limits` until `shutdown`
/// completes, then lets the requests in flight finish.
pub async fn serve_listener(
    listener: tokio::net::TcpListener,
    app: Arc<App>,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use tower::ServiceExt;
    let router = router(app);
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_closed) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors, or a client gone before it was
                // accepted: pause rather than spin, and go on.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let router = router.clone();
        let service = hyper::service::service_fn(
            move |mut request: axum::http::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                router.clone().oneshot(request.map(axum::body::Body::new))
            },
        );
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that times out or goes away is not an error of the server's.
            let _ = connection.await;
            drop(slot);
        });
    }
    graceful.shutdown().await;
}
