//! Opening a Girok data directory: the one place that composes the store
//! with the installation's checkpoint signer, so that every door (command
//! line, import, web form, API) writes the same way and every committed
//! batch ends with a signed checkpoint.
//!
//! A data directory holds the database (`girok.sqlite`, or `postgres.url`
//! naming a PostgreSQL database shared by a team's servers) and the
//! installation's private checkpoint key (`girok.key`). Without the key a
//! store still reads, but every write is refused before anything is
//! committed: a write no checkpoint covers could be cut off unnoticed.

pub mod backup;
mod directory;
pub mod evidence;
pub mod exports;
pub mod imports;
pub mod jobs;
mod kept;
pub mod linkage;
pub mod organisations;
pub mod proofs;
mod proposals;
pub mod secrets;

pub use directory::{
    BACKUP_STAGING_PREFIX, backup_staging, restrict_to_owner, sweep_abandoned_backups,
};
pub use proposals::adopt_legacy_proposals;

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use girok_access::{AccessError, AccessStore};
use girok_journal::checkpoint::{Checkpoint, NoteError, SignerKey, VerifierKey};
use girok_journal::{Hash, merkle};
use girok_store::{
    AuditLog, AuditTrail, Blobs, Database, KdfParams, KeyStore, Notary, NotaryError, Place, Store,
    StoreError, Unlock,
};

/// The database inside a data directory.
pub const DATABASE_FILE: &str = "girok.sqlite";
/// The connection URL of a read-only replica of the PostgreSQL database,
/// in the data directory of a server that reads from it (its users,
/// sessions and files stay on the primary `postgres.url` names).
pub const REPLICA_FILE: &str = "replica.url";
/// Users, sessions and keys of an embedded installation.
pub const ACCESS_FILE: &str = "access.sqlite";
/// The audit log of an embedded installation.
pub const AUDIT_FILE: &str = "audit.sqlite";
/// The background jobs of an embedded installation.
pub const JOBS_FILE: &str = "jobs.sqlite";
/// The private checkpoint key inside a data directory.
pub const KEY_FILE: &str = "girok.key";
/// The connection URL of a PostgreSQL database, in a data directory that
/// uses one instead of `girok.sqlite`; readable by its owner only, since
/// the URL may carry a password.
pub const POSTGRES_FILE: &str = "postgres.url";
/// The path of the key store that holds the data keys of an encrypted
/// PostgreSQL database, in the data directory of every server that opens
/// or seals identifying data (see `girok_store::KeyStore`).
pub const KEY_STORE_FILE: &str = "keys.path";

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error("cannot read the checkpoint key {path}: {source}")]
    KeyUnreadable {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a checkpoint key: {reason}")]
    KeyInvalid { path: String, reason: String },
    #[error("cannot create the checkpoint key {path}: {source}")]
    KeyNotCreated {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot restrict access to {path}: {source}")]
    Permissions {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot {action} {path}: {source}")]
    Directory {
        path: String,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot draw random bytes for a new key: {0}")]
    Random(String),
    #[error("the checkpoint is not a valid one from this installation's key: {0}")]
    NotOurCheckpoint(NoteError),
    #[error("a Girok database already exists in {path} ({found}); it was not changed")]
    DirectoryInUse { path: String, found: String },
    #[error("linkage could not train a model on this database: {0}")]
    Training(#[from] girok_linkage::TrainingError),
    #[error("the linkage proposals of an earlier version were not moved into the database: {0}")]
    Proposals(#[from] girok_linkage::proposals::ProposalsError),
}

/// The database file of a data directory.
pub fn database(data: &Path) -> PathBuf {
    data.join(DATABASE_FILE)
}

fn key_path(data: &Path) -> PathBuf {
    data.join(KEY_FILE)
}

/// The PostgreSQL connection URL a data directory names, if it uses one.
fn postgres_url(data: &Path) -> Result<Option<String>, StoreError> {
    url_in(data, POSTGRES_FILE)
}

/// The connection URL a file of a data directory holds, if it is there.
fn url_in(data: &Path, file: &str) -> Result<Option<String>, StoreError> {
    named_in(data, file, "this data directory's PostgreSQL database")
}

/// What a one-line file of a data directory names (a URL, a path), if the
/// file is there; `what` says what it names, for the message.
fn named_in(data: &Path, file: &str, what: &str) -> Result<Option<String>, StoreError> {
    let path = data.join(file);
    match std::fs::read_to_string(&path) {
        Ok(url) => Ok(Some(url.trim().to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StoreError::Io {
            context: format!("cannot read {}, which names {what}", path.display()),
            source,
        }),
    }
}

/// Attaches the key store a data directory names to a database whose data
/// keys are kept apart. Without one the database stays locked: records
/// read sealed, and identifying data can be neither written nor forgotten.
fn attach_key_store(store: &mut Database, data: &Path) -> Result<(), ServiceError> {
    if !store.keeps_keys_apart() {
        return Ok(());
    }
    if let Some(path) = named_in(data, KEY_STORE_FILE, "the key store of this database")? {
        store.use_key_store(KeyStore::open(Path::new(&path))?)?;
    }
    Ok(())
}

/// Whether a data directory has a database: its SQLite file, or a
/// PostgreSQL database it names.
pub fn has_database(data: &Path) -> bool {
    database(data).exists() || data.join(POSTGRES_FILE).exists()
}

/// Opens the database of a data directory (SQLite, the PostgreSQL
/// database it names, or the read-only replica of it it reads from),
/// without a signer: for reads.
pub fn open_database(data: &Path) -> Result<Database, ServiceError> {
    let mut store = match (url_in(data, REPLICA_FILE)?, postgres_url(data)?) {
        (Some(replica), _) => Database::open_postgres(&replica)?,
        (None, Some(url)) => Database::open_postgres(&url)?,
        (None, None) => Database::open(&database(data))?,
    };
    attach_key_store(&mut store, data)?;
    Ok(store)
}

/// How far behind its primary the replica a data directory reads from is.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaStanding {
    /// Journal entries the primary has that the replica has not replayed
    /// yet; `None` when the primary cannot be reached.
    pub entries_behind: Option<u64>,
    /// Seconds since the last change the replica replayed was committed.
    pub since_last_replayed: Option<f64>,
}

/// Where the replica `store` (opened from `data`) stands against the
/// primary; `None` when `store` is not a replica.
pub fn replica_standing(
    store: &Database,
    data: &Path,
) -> Result<Option<ReplicaStanding>, ServiceError> {
    let Some(replication) = store.replication()? else {
        return Ok(None);
    };
    let replica_head = store.head()?.0;
    // The primary is asked for its head only: a replica that cannot reach it still reads.
    let entries_behind = postgres_url(data)?
        .and_then(|url| Database::open_postgres(&url).ok())
        .and_then(|primary| primary.head().ok())
        .map(|(head, _)| head.saturating_sub(replica_head));
    Ok(Some(ReplicaStanding {
        entries_behind,
        since_last_replayed: replication.since_last_replayed,
    }))
}

/// The shared PostgreSQL database a data directory names, if it names one.
fn shared_database(data: &Path) -> Result<Option<Place>, StoreError> {
    Ok(postgres_url(data)?.map(Place::Postgres))
}

/// Where a data directory keeps tables beside its journal: in their own
/// file when embedded, in the shared database when it names a PostgreSQL one.
fn sidecar_place(data: &Path, file: &str) -> Result<Place, ServiceError> {
    Ok(shared_database(data)?.unwrap_or_else(|| Place::File(data.join(file))))
}

/// The users, sessions and keys of a data directory's installation.
pub fn open_access(data: &Path) -> Result<AccessStore, ServiceError> {
    Ok(AccessStore::open(&sidecar_place(data, ACCESS_FILE)?)?)
}

/// The audit log of a data directory.
pub fn open_audit_log(data: &Path) -> Result<AuditLog, ServiceError> {
    Ok(AuditLog::open(&sidecar_place(data, AUDIT_FILE)?)?)
}

/// Where a data directory's background jobs are: every server process
/// sharing its database sees them.
pub fn jobs_place(data: &Path) -> Result<Place, ServiceError> {
    sidecar_place(data, JOBS_FILE)
}

/// The background jobs of a data directory's installation.
pub fn open_jobs(data: &Path) -> Result<jobs::Jobs, ServiceError> {
    Ok(jobs::Jobs::open(&jobs_place(data)?)?)
}

/// The audit trail of a data directory's reads, opened at the first read
/// of identifying data.
pub fn audit_trail(data: &Path) -> Result<AuditTrail, ServiceError> {
    Ok(AuditTrail::new(sidecar_place(data, AUDIT_FILE)?))
}

/// Lets the PostgreSQL role `role` run Girok servers on a data directory's
/// database without owning its tables: append to the journal and the audit
/// log, never change them; read and write the state, users and sessions.
pub fn grant_to(data: &Path, role: &str) -> Result<(), ServiceError> {
    open_database(data)?.grant_to(role)?;
    open_access(data)?.grant_to(role)?;
    open_audit_log(data)?.grant_to(role)?;
    open_jobs(data)?.grant_to(role)?;
    if let Some(place) = shared_database(data)? {
        Blobs::open(&place)?.grant_to(role)?;
        secrets::grant_to(&place, role)?;
    }
    Ok(())
}

/// Refuses a data directory that already has a database of either kind:
/// a new one beside it would be hidden by it, or hide it.
pub fn refuse_if_in_use(data: &Path) -> Result<(), ServiceError> {
    for (file, found) in [
        (DATABASE_FILE, "an embedded database"),
        (POSTGRES_FILE, "a PostgreSQL database"),
    ] {
        if data.join(file).exists() {
            return Err(ServiceError::DirectoryInUse {
                path: data.display().to_string(),
                found: found.into(),
            });
        }
    }
    Ok(())
}

/// Makes a new Girok database in the empty PostgreSQL database at `url`
/// and a data directory `data` that names it (the URL kept readable by its
/// owner only). Nothing is left behind if the database cannot be made.
pub fn create_postgres(data: &Path, url: &str) -> Result<Database, ServiceError> {
    refuse_if_in_use(data)?;
    let not_created = |source| ServiceError::Directory {
        path: data.display().to_string(),
        action: "write the PostgreSQL connection into",
        source,
    };
    // The file first: a database made and then not named by any directory
    // would be left behind, while a file is easily taken back.
    let made_directory = !data.exists();
    std::fs::create_dir_all(data).map_err(not_created)?;
    let path = data.join(POSTGRES_FILE);
    let take_back = || {
        let _ = std::fs::remove_file(&path);
        if made_directory {
            let _ = std::fs::remove_dir(data);
        }
    };
    if let Err(source) = owner_only_file(&path, format!("{url}\n").as_bytes()) {
        take_back();
        return Err(not_created(source));
    }
    let database = Database::create_postgres(url).map_err(|error| {
        take_back();
        ServiceError::from(error)
    })?;
    // The owner makes the tables beside the journal too: the role servers
    // connect as may be one that cannot create tables.
    open_access(data)?;
    open_audit_log(data)?;
    open_jobs(data)?;
    let shared = Place::Postgres(url.to_string());
    Blobs::open(&shared)?;
    secrets::create(&shared)?;
    Ok(database)
}

/// Makes a new encrypted Girok database in the empty PostgreSQL database at
/// `url`, as [`create_postgres`] does, with its data keys in a new key store
/// at `key_store` (a file on the servers' host, which deletes securely),
/// named by `data`. The secret is checked before anything is made.
pub fn create_postgres_encrypted(
    data: &Path,
    url: &str,
    key_store: &Path,
    unlock: &Unlock,
    params: KdfParams,
) -> Result<Database, ServiceError> {
    unlock.check().map_err(StoreError::from)?;
    if key_store.exists() {
        return Err(ServiceError::Store(StoreError::Exists {
            path: key_store.display().to_string(),
        }));
    }
    let mut database = create_postgres(data, url)?;
    let store = KeyStore::create(key_store)?;
    let absolute = std::fs::canonicalize(key_store).map_err(|source| StoreError::Io {
        context: format!("cannot find the key store {}", key_store.display()),
        source,
    })?;
    write_owner_only(
        &data.join(KEY_STORE_FILE),
        format!("{}\n", absolute.display()).as_bytes(),
    )?;
    database.encrypt_apart(store, unlock, params)?;
    Ok(database)
}

/// Opens the database of a data directory with the checkpoint signer
/// attached: every batch it commits ends with a signed checkpoint.
pub fn open(data: &Path) -> Result<Database, ServiceError> {
    let mut store = open_database(data)?;
    sweep_abandoned_backups(data)?;
    if let Ok(staging) = imports::StagedImports::of(data) {
        staging.sweep();
    }
    exports::sweep(data);
    backup::sweep(data);
    adopt_legacy_proposals(&store, data)?;
    attach_signer(&mut store, data);
    Ok(store)
}

/// Attaches the data directory's checkpoint key to a store. A key that
/// cannot be read does not stop reads; it refuses every write, naming why.
pub fn attach_signer(store: &mut Database, data: &Path) {
    store.set_notary(Arc::new(Signer {
        key: signer(data).map_err(|e| e.to_string()),
    }));
}

/// Signs checkpoints with the installation key, or says why it cannot.
struct Signer {
    key: Result<SignerKey, String>,
}

impl Notary for Signer {
    fn sign(&self, size: u64, root: &Hash) -> Result<String, NotaryError> {
        let key = self.key.as_ref().map_err(|e| NotaryError(e.clone()))?;
        Ok(sign_tree(key, size, root))
    }
}

/// The checkpoint note of the tree of `size` entries with `root`.
fn sign_tree(key: &SignerKey, size: u64, root: &Hash) -> String {
    key.sign(&Checkpoint {
        origin: key.name().to_string(),
        size,
        root: *root,
    })
}

/// Creates the installation's checkpoint key, readable by its owner only,
/// and closes the data directory (database, key, evidence) to everyone else.
pub fn create_key(data: &Path) -> Result<VerifierKey, ServiceError> {
    std::fs::set_permissions(data, std::fs::Permissions::from_mode(0o700)).map_err(|source| {
        ServiceError::Permissions {
            path: data.display().to_string(),
            source,
        }
    })?;
    let mut id = [0u8; 8];
    getrandom::fill(&mut id).map_err(|e| ServiceError::Random(e.to_string()))?;
    let signer = SignerKey::generate(&format!("girok/{}", hex::encode(id))).map_err(|e| {
        ServiceError::KeyInvalid {
            path: key_path(data).display().to_string(),
            reason: e.to_string(),
        }
    })?;
    let path = key_path(data);
    let not_created = |source| ServiceError::KeyNotCreated {
        path: path.display().to_string(),
        source,
    };
    owner_only_file(&path, format!("{}\n", signer.to_private_text()).as_bytes())
        .map_err(not_created)?;
    Ok(signer.verifier())
}

/// Writes a new file that only its owner may read, synced; refuses to
/// replace one.
fn owner_only_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Writes a new owner-only file, as the service's error.
pub(crate) fn write_owner_only(path: &Path, bytes: &[u8]) -> Result<(), ServiceError> {
    owner_only_file(path, bytes).map_err(|source| ServiceError::Directory {
        path: path.display().to_string(),
        action: "create",
        source,
    })
}

/// The installation's private checkpoint key.
pub fn signer(data: &Path) -> Result<SignerKey, ServiceError> {
    let path = key_path(data);
    let text = std::fs::read_to_string(&path).map_err(|source| ServiceError::KeyUnreadable {
        path: path.display().to_string(),
        source,
    })?;
    SignerKey::parse(&text).map_err(|e| ServiceError::KeyInvalid {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// The installation's public verifier key.
pub fn verifier(data: &Path) -> Result<VerifierKey, ServiceError> {
    Ok(signer(data)?.verifier())
}

/// Signs and keeps a checkpoint of the current tree; returns its size and note.
pub fn checkpoint(store: &mut Database, data: &Path) -> Result<(u64, String), ServiceError> {
    let signer = signer(data)?;
    let (size, root) = store.tree_head()?;
    let note = sign_tree(&signer, size, &root);
    store.add_checkpoint(size, &root, &note)?;
    Ok((size, note))
}

/// How a database stands to a checkpoint someone kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extension {
    /// The database holds everything the checkpoint signed, and maybe more.
    Extends { size: u64 },
    /// The database has fewer entries than were signed: rolled back or cut.
    RolledBack { signed: u64, now: u64 },
    /// The first `signed` entries are not the ones that were signed.
    Forked { signed: u64 },
}

/// Whether the store still holds what a kept checkpoint `note` signed.
pub fn extends(
    store: &Database,
    verifier: &VerifierKey,
    note: &str,
) -> Result<Extension, ServiceError> {
    let held = verifier
        .verify(note)
        .map_err(ServiceError::NotOurCheckpoint)?;
    extends_to(store, &held, store.tree_head()?)
}

/// Whether the store's tree `head` (its size and root, as the caller read
/// them) extends what the checkpoint `held` (its signature checked) signed.
pub fn extends_to(
    store: &Database,
    held: &Checkpoint,
    (size, root): (u64, Hash),
) -> Result<Extension, ServiceError> {
    if held.size > size {
        return Ok(Extension::RolledBack {
            signed: held.size,
            now: size,
        });
    }
    let proof = store.consistency_proof(held.size, size)?;
    Ok(
        if merkle::verify_consistency(held.size, size, &held.root, &root, &proof) {
            Extension::Extends { size: held.size }
        } else {
            Extension::Forked { signed: held.size }
        },
    )
}
