//! Storage: the journal and the state tables, behind the [`Store`] trait.
//!
//! The only way to change a store is [`Store::write`]: a batch of typed changes,
//! each validated, appended to the journal and applied to the state tables in
//! one transaction. A batch is all-or-nothing. State tables are a pure function
//! of the journal, which [`Store::check`] proves by replaying it.
//!
//! One [`Database`] type holds the store's logic, on SQLite (the embedded
//! default, [`Database::create`], [`Database::open`]) or on PostgreSQL
//! ([`Database::create_postgres`], [`Database::open_postgres`]).

mod apply;
mod audit;
mod blobs;
mod check;
mod files;
mod key_store;
mod keys;
mod postgres;
mod postgres_tls;
mod proposals;
mod rows;
mod schema;
mod sidecar;
pub mod sql;
mod sql_store;
mod sqlite;
mod tree;

use girok_journal::{Entry, Hash, PreparedChange};
use girok_model::{Change, Invalid, Record, RecordId, RecordKind, Vocabularies, Wording};

pub use audit::{
    AuditEntry, AuditLog, AuditReport, AuditTrail, Auditor, ReadAudit, SCHEMA as AUDIT_SCHEMA,
};
pub use blobs::{Blobs, PartReader};
pub use check::{CheckReport, Difference};
pub use files::{EVIDENCE, EvidenceFiles, FileState, Opening};
pub use girok_state::{RecordMeta, Referrer, StateRows};
pub use girok_vault::{KdfParams, Unlock, Vault, VaultError};
pub use key_store::{KEY_STORE_SCHEMA, KeyStore};
pub use keys::{Presealed, Presealer};
pub use postgres::{Postgres, Replication};
pub use proposals::{LinkRun, ProposedRecord, StoredProposal};
pub use schema::SCHEMA_VERSION;
pub use sidecar::{Place, Schema, Sidecar, Step, run_script};
pub use sql_store::{Database, Engine, LockState, SqlStore};
pub use sqlite::{Sqlite, snapshot};
pub use tree::TreeReport;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("{message}")]
    Conflict { id: RecordId, message: Wording },
    #[error(transparent)]
    DuplicateImport(#[from] girok_state::DuplicateImport),
    #[error("{path} is not a Girok database ({reason}); it was not changed")]
    NotGirok { path: String, reason: String },
    #[error(
        "{path} was written by a newer Girok (schema version {found}; this build knows up to {supported}); \
         upgrade Girok to open it; the file was not changed"
    )]
    TooNew {
        path: String,
        found: i32,
        supported: i32,
    },
    #[error("no Girok database at {path}")]
    Missing { path: String },
    #[error("a Girok database already exists at {path}")]
    Exists { path: String },
    #[error("{0}")]
    OutOfRange(String),
    #[error("cannot connect to the {target}: {reason}; nothing was read or written")]
    Connect { target: String, reason: String },
    #[error(
        "this database cannot keep data keys: it keeps deleted rows (in its files, its write-ahead log, \
         replicas and backups), so forgetting a person could not destroy their data key there; \
         keep the keys in a key store apart from it (a file on the servers' host), \
         or use an embedded (SQLite) database"
    )]
    NoSecureDeletion,
    #[error(
        "the data keys of this encrypted database are kept in a key store apart from it, and none \
         is named here: identifying data can be neither opened, written nor forgotten"
    )]
    NoKeyStore,
    #[error("the key store {path} holds the keys of another database; nothing was read or written")]
    ForeignKeyStore { path: String },
    #[error(
        "this database keeps its data keys in its own tables or is not encrypted: \
         a key store apart from it cannot be used"
    )]
    KeysNotApart,
    #[error("an embedded (SQLite) database has no database roles to grant to")]
    NoRoles,
    #[error(
        "this PostgreSQL database can only be read here (a read-only replica, or a role that may \
         only read): write through a server of the primary database; nothing was written"
    )]
    ReadOnlyDatabase,
    #[error("the database is encrypted and locked: unlock it to read or write identifying data")]
    Locked,
    #[error("the database is not encrypted")]
    NotEncrypted,
    #[error(
        "the database cannot be written here (its file or directory is read-only): \
         it can be read, checked and verified, but nothing was written"
    )]
    ReadOnly,
    #[error(
        "{path} has schema version {found} and must be upgraded before this build reads it, \
         which a read-only copy cannot take; open it once where it can be written; it was not changed"
    )]
    ReadOnlyNeedsUpgrade { path: String, found: i32 },
    #[error(
        "only a new database can be encrypted: this one has {entries} journal entries already in plaintext"
    )]
    NotEmpty { entries: u64 },
    #[error(transparent)]
    Vault(#[from] girok_vault::VaultError),
    #[error("{0}; nothing was written")]
    Notary(#[from] NotaryError),
    #[error("the database is damaged: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Journal(#[from] girok_journal::JournalError),
    /// A failure of the database below the store; its type stays inside the backend.
    #[error("database error: {0}")]
    Backend(BackendError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl StoreError {
    /// Korean for what a person may be shown: the refusals (theirs to mend)
    /// and the states of the database they can act on; `None` for a failure,
    /// which is shown as it is worded.
    pub fn korean(&self) -> Option<String> {
        Some(match self {
            StoreError::Invalid(invalid) => invalid.korean(),
            StoreError::Conflict { message, .. } => message.korean().to_string(),
            StoreError::DuplicateImport(duplicate) => duplicate.korean(),
            StoreError::Locked => {
                "데이터베이스가 암호화되어 잠겨 있습니다: 신원 정보를 읽거나 쓰려면 잠금을 푸세요"
                    .to_string()
            }
            StoreError::ReadOnly => "이곳에서는 데이터베이스에 쓸 수 없습니다 (파일이나 폴더가 읽기 전용입니다): \
                 읽기, 점검, 검증은 할 수 있지만 아무것도 쓰지 않았습니다"
                .to_string(),
            StoreError::ReadOnlyDatabase => "이 PostgreSQL 데이터베이스는 이곳에서 읽기만 할 수 있습니다 \
                 (읽기 전용 복제본이거나 읽기만 허용된 역할): 주 데이터베이스의 서버를 통해 쓰세요; \
                 아무것도 쓰지 않았습니다"
                .to_string(),
            StoreError::NoKeyStore => "이 암호화된 데이터베이스의 데이터 키는 따로 떨어진 키 저장소에 있는데, \
                 이곳에는 그 저장소가 지정되어 있지 않습니다: 신원 정보를 열거나 쓰거나 잊을 수 없습니다"
                .to_string(),
            _ => return None,
        })
    }

    /// What to show a person, in Korean when `korean` and Korean is known.
    pub fn shown(&self, korean: bool) -> String {
        match self.korean() {
            Some(words) if korean => words,
            _ => self.to_string(),
        }
    }
}

/// A failure of a backend's database library, carried without its type.
#[derive(Debug)]
pub struct BackendError(pub(crate) Box<dyn std::error::Error + Send + Sync>);

impl std::fmt::Display for BackendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for BackendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        match error.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ReadOnly) => StoreError::ReadOnly,
            _ => StoreError::Backend(BackendError(Box::new(error))),
        }
    }
}

/// Signs a checkpoint of the journal's tree (size and root) as a note. A
/// store with a notary signs one inside every batch that wrote something,
/// so no committed write is ever outside a signed checkpoint.
pub trait Notary: Send + Sync {
    fn sign(&self, size: u64, root: &Hash) -> Result<String, NotaryError>;
}

/// Why a checkpoint could not be signed; the batch is then not committed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotaryError(pub String);

/// Reviewers' linkage decisions, as pairs of person ids (smaller first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkDecisions {
    pub same: Vec<(RecordId, RecordId)>,
    pub different: Vec<(RecordId, RecordId)>,
}

impl LinkDecisions {
    /// How many people `persons` are once merged records count once.
    pub fn count_resolved(&self, persons: &[RecordId]) -> usize {
        let resolved = self.resolved();
        let mut people: Vec<&RecordId> = persons
            .iter()
            .map(|p| resolved.get(p).unwrap_or(p))
            .collect();
        people.sort();
        people.dedup();
        people.len()
    }

    /// Each person named in a same-person decision, to the smallest id of
    /// the persons merged with it: the resolved person.
    pub fn resolved(&self) -> std::collections::HashMap<RecordId, RecordId> {
        let mut parent: std::collections::HashMap<RecordId, RecordId> = Default::default();
        fn root(
            parent: &std::collections::HashMap<RecordId, RecordId>,
            mut id: RecordId,
        ) -> RecordId {
            while let Some(up) = parent.get(&id).filter(|up| **up != id) {
                id = up.clone();
            }
            id
        }
        for (a, b) in &self.same {
            for id in [a, b] {
                parent.entry(id.clone()).or_insert_with(|| id.clone());
            }
            let (ra, rb) = (root(&parent, a.clone()), root(&parent, b.clone()));
            let (keep, gone) = if ra <= rb { (ra, rb) } else { (rb, ra) };
            parent.insert(gone, keep);
        }
        let ids: Vec<RecordId> = parent.keys().cloned().collect();
        ids.into_iter()
            .map(|id| (id.clone(), root(&parent, id)))
            .collect()
    }
}

/// A record with its registry data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub record: Record,
    pub meta: RecordMeta,
}

/// A journal entry as stored, with its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalRow {
    pub entry: Entry,
    pub hash: Hash,
}

/// What one committed batch wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    /// First and last journal sequence numbers of the batch; `None` if it was empty.
    pub first: Option<u64>,
    pub last: Option<u64>,
    pub changes: u64,
}

/// Receives the changes of one batch inside its transaction.
pub trait ChangeSink {
    /// Validates, journals and applies one change; returns its sequence number.
    fn apply(&mut self, change: Change) -> Result<u64, StoreError> {
        let prepared = PreparedChange::new(change, self.vocabularies())?;
        self.apply_prepared(prepared)
    }
    /// Journals and applies a change prepared (validated and encoded) ahead of
    /// time, possibly on another thread. Vocabulary terms are checked again
    /// against this batch's vocabularies, so nothing unvalidated gets in.
    fn apply_prepared(&mut self, prepared: PreparedChange) -> Result<u64, StoreError>;
    /// The vocabularies as this batch sees them (shipped terms plus added ones).
    fn vocabularies(&self) -> &Vocabularies;
    /// The kind of a live record with this id, if there is one.
    fn kind_of(&self, id: &RecordId) -> Result<Option<RecordKind>, StoreError>;
    /// What seals changes ahead of the write in an unlocked encrypted
    /// store, so imports can seal on their parsing thread.
    fn presealer(&self) -> Option<Presealer>;
    /// Journals and applies a change sealed ahead, storing its data key.
    fn apply_presealed(&mut self, presealed: Presealed) -> Result<u64, StoreError>;
    /// Learns ahead, in few queries, whether the ids the next changes name
    /// are used: an import says which before it applies them. Changes
    /// nothing; a store may do nothing.
    fn look_up_ahead(&mut self, ids: &[RecordId]) -> Result<(), StoreError> {
        let _ = ids;
        Ok(())
    }
}

/// How a batch is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchSize {
    /// A few changes: indexes kept up to date change by change.
    Small,
    /// Many thousands of changes (imports): the store may trade per-change
    /// index maintenance for a rebuild before the commit.
    Bulk,
}

/// Why the work of a batch stopped: the store failed or refused, or the
/// work gave up for a reason of its own (which it keeps).
#[derive(Debug)]
pub enum BatchError {
    Store(StoreError),
    Abandoned,
}

impl From<StoreError> for BatchError {
    fn from(error: StoreError) -> Self {
        BatchError::Store(error)
    }
}

/// A Girok store. Every method but the writes only reads. The trait is
/// object-safe: a door may hold any backend as `dyn Store` and write with
/// [`write_with`]; `write` and `write_bulk` are its conveniences on a known type.
pub trait Store {
    /// Runs `work` in one transaction: either every change it applies is
    /// committed, or (if it returns an error) none is.
    fn write_batch(
        &mut self,
        actor: &str,
        size: BatchSize,
        work: &mut dyn FnMut(&mut dyn ChangeSink) -> Result<(), BatchError>,
    ) -> Result<Committed, BatchError>;

    /// Runs `work` in one transaction: either every change it applies is
    /// committed, or (if it returns an error) none is.
    fn write<T, E>(
        &mut self,
        actor: &str,
        work: impl FnOnce(&mut dyn ChangeSink) -> Result<T, E>,
    ) -> Result<(T, Committed), E>
    where
        E: From<StoreError>,
        Self: Sized,
    {
        write_with(self, actor, BatchSize::Small, work)
    }

    /// `write` for batches of many thousands of changes (imports).
    fn write_bulk<T, E>(
        &mut self,
        actor: &str,
        work: impl FnOnce(&mut dyn ChangeSink) -> Result<T, E>,
    ) -> Result<(T, Committed), E>
    where
        E: From<StoreError>,
        Self: Sized,
    {
        write_with(self, actor, BatchSize::Bulk, work)
    }

    fn vocabularies(&self) -> &Vocabularies;
    /// The vocabularies as they are now, to keep past the read (not a copy).
    fn shared_vocabularies(&self) -> std::sync::Arc<Vocabularies>;
    fn get(&self, id: &RecordId) -> Result<Option<Stored>, StoreError>;
    /// Live records of one kind in id order, paginated.
    fn list(&self, kind: RecordKind, offset: u64, limit: u64) -> Result<Vec<Stored>, StoreError>;
    fn count(&self, kind: RecordKind) -> Result<u64, StoreError>;
    /// Every live record, in an order in which each record's references come before it.
    fn for_each_record(
        &self,
        visit: &mut dyn FnMut(Record) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// Records that refer to this one (at most `limit` per referring field).
    fn referrers(&self, id: &RecordId, limit: u32) -> Result<Vec<Referrer>, StoreError>;
    /// The journal entries about one record, oldest first.
    fn history(&self, id: &RecordId) -> Result<Vec<JournalRow>, StoreError>;
    /// The latest journal entries, newest first.
    fn recent(&self, limit: u32) -> Result<Vec<JournalRow>, StoreError>;
    /// The last journal sequence number and hash; `(0, GENESIS)` when empty.
    fn head(&self) -> Result<(u64, Hash), StoreError>;
    /// The custody events of an evidence file, oldest first.
    fn custody(&self, sha256: &str) -> Result<Vec<JournalRow>, StoreError>;
    /// The size and RFC 6962 root of the journal's Merkle tree.
    fn tree_head(&self) -> Result<(u64, Hash), StoreError>;
    /// The audit path of journal entry `seq` in the tree of the first `size` entries.
    fn inclusion_proof(&self, seq: u64, size: u64) -> Result<Vec<Hash>, StoreError>;
    /// Proof that the tree of `old_size` entries is a prefix of the tree of `new_size`.
    fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, StoreError>;
    /// Keeps a signed checkpoint note of the tree at `size` (one per size).
    fn add_checkpoint(&mut self, size: u64, root: &Hash, note: &str) -> Result<(), StoreError>;
    /// The latest stored checkpoint: size and note.
    fn latest_checkpoint(&self) -> Result<Option<(u64, String)>, StoreError>;
    /// Rebuilds the Merkle tree from the leaves and checks stored nodes and checkpoints.
    fn verify_tree(
        &self,
        verifier: &girok_journal::checkpoint::VerifierKey,
    ) -> Result<TreeReport, StoreError>;
    /// The persons named as victims of at least one act.
    fn victims(&self) -> Result<Vec<RecordId>, StoreError>;
    /// Reviewers' linkage decisions: pairs decided to be the same person, and
    /// pairs decided to be different persons.
    fn link_decisions(&self) -> Result<LinkDecisions, StoreError>;
    /// Replays the journal into a scratch store and compares; `progress(done, total)`.
    fn check(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<CheckReport, StoreError>;
}

/// A batch with a result and an error of the work's own through the
/// object-safe [`Store::write_batch`], for any store (`dyn Store` too): the
/// work's error is kept aside while the store rolls back.
pub fn write_with<S: Store + ?Sized, T, E: From<StoreError>>(
    store: &mut S,
    actor: &str,
    size: BatchSize,
    work: impl FnOnce(&mut dyn ChangeSink) -> Result<T, E>,
) -> Result<(T, Committed), E> {
    let mut work = Some(work);
    let mut outcome: Option<Result<T, E>> = None;
    let written = store.write_batch(actor, size, &mut |sink| {
        let Some(work) = work.take() else {
            return Err(BatchError::Abandoned);
        };
        match work(sink) {
            Ok(value) => {
                outcome = Some(Ok(value));
                Ok(())
            }
            Err(error) => {
                outcome = Some(Err(error));
                Err(BatchError::Abandoned)
            }
        }
    });
    match (written, outcome) {
        (Ok(committed), Some(Ok(value))) => Ok((value, committed)),
        (_, Some(Err(error))) => Err(error),
        (Err(BatchError::Store(error)), _) => Err(E::from(error)),
        (Ok(_) | Err(BatchError::Abandoned), _) => Err(E::from(StoreError::Corrupt(
            "the store ended a batch without running its work".into(),
        ))),
    }
}
