//! The embedded SQLite store.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use girok_journal::merkle;
use girok_journal::{Entry, GENESIS, Hash, JournalError, PreparedChange, format_time, leaf_hash};
use girok_model::{Change, Record, RecordId, RecordKind, Term, VocabKind, Vocabularies};
use girok_vault::{DataKey, KdfParams, Unlock, Vault, VaultError};
use rusqlite::{
    Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};

use crate::LinkDecisions;
use crate::apply::{self, SqlView};
use crate::keys::{self, Lock};
use crate::schema::{APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION};
use crate::tree::{StoredTree, TreeWriter};
use crate::{
    Auditor, BatchError, BatchSize, ChangeSink, CheckReport, Committed, JournalRow, Notary, Store,
    StoreError, Stored, TreeReport,
};
use girok_state::EntryMeta;
use girok_state::tables::{STATE_TABLES, compare_table};

/// How long a writer waits for another writer's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(120);

/// Kinds in an order where every record's references come before it.
const DEPENDENCY_ORDER: [RecordKind; 8] = [
    RecordKind::Person,
    RecordKind::Source,
    RecordKind::Event,
    RecordKind::Act,
    RecordKind::Involvement,
    RecordKind::Information,
    RecordKind::Relation,
    RecordKind::Evidence,
];

pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    /// The shipped vocabularies and the terms added up to entry `terms_seq`:
    /// read again when another connection or process has added one since.
    vocabularies: Vocabularies,
    terms_seq: u64,
    lock: Lock,
    /// Whether reads open sealed records (off inside `sealed_reads`).
    revealing: Cell<bool>,
    /// Told before sealed records are opened: the door's audit trail.
    auditor: RefCell<Option<Arc<dyn Auditor>>>,
    /// Signs the checkpoint that ends every batch that wrote something.
    notary: Option<Arc<dyn Notary>>,
}

/// How many records a full scan opens under one audit entry.
const REVEALED_AT_ONCE: usize = 1_000;

/// How an existing database is opened. A connection is used by one thread at
/// a time, so SQLite's own mutexes only cost.
const OPEN_EXISTING: OpenFlags =
    OpenFlags::SQLITE_OPEN_READ_WRITE.union(OpenFlags::SQLITE_OPEN_NO_MUTEX);

/// Whether a store can read and write identifying data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockState {
    /// Not encrypted.
    Plain,
    /// Encrypted; identifying data can be neither read nor written.
    Locked,
    Unlocked,
}

/// How durable each commit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// WAL with a sync at every commit: survives a kill and a power cut.
    Full,
    /// No rollback journal, no syncs: for throwaway replay targets only.
    Scratch,
}

impl SqliteStore {
    /// Creates a new, empty Girok database at `path`.
    pub fn create(path: &Path) -> Result<SqliteStore, StoreError> {
        Self::create_with(path, Durability::Full)
    }

    pub(crate) fn create_with(
        path: &Path,
        durability: Durability,
    ) -> Result<SqliteStore, StoreError> {
        if path.exists() {
            return Err(StoreError::Exists {
                path: path.display().to_string(),
            });
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Io {
                context: format!("cannot create {}", parent.display()),
                source,
            })?;
        }
        Self::create_on(Connection::open(path)?, path, durability)
    }

    /// Creates a new, empty Girok database named `name` in the registered
    /// SQLite VFS `vfs` rather than on the file system: crash tests put it on
    /// one that fails and tears writes.
    pub fn create_in_vfs(name: &str, vfs: &str) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open_with_flags_and_vfs(name, OpenFlags::default(), vfs)?;
        Self::create_on(conn, Path::new(name), Durability::Full)
    }

    fn create_on(
        mut conn: Connection,
        path: &Path,
        durability: Durability,
    ) -> Result<SqliteStore, StoreError> {
        configure(&conn, durability)?;
        let tx = conn.transaction()?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        migrate(&tx, 0)?;
        if durability == Durability::Scratch {
            // A replay target is written once and compared row by row; only
            // primary keys (which the write path's lookups use) are worth keeping.
            drop_secondary_indexes(&tx)?;
        }
        tx.commit()?;
        Ok(SqliteStore {
            conn,
            path: path.to_path_buf(),
            vocabularies: Vocabularies::default(),
            terms_seq: 0,
            lock: Lock::Plain,
            revealing: Cell::new(true),
            auditor: RefCell::default(),
            notary: None,
        })
    }

    /// Opens an existing Girok database, migrating an older schema.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let shown = path.display().to_string();
        if !path.exists() {
            return Err(StoreError::Missing { path: shown });
        }
        match Self::open_on(Connection::open_with_flags(path, OPEN_EXISTING)?, path) {
            Err(StoreError::ReadOnly) => Self::open_read_only(path),
            opened => opened,
        }
    }

    /// Opens a database whose file or directory cannot be written (a
    /// read-only mount, an archive copy): every read works, every write is
    /// refused as [`StoreError::ReadOnly`]. Without a write-ahead log beside
    /// it, nothing can change the file under the reader, so SQLite is told
    /// so (`immutable`) and needs no shared-memory file it could not create.
    fn open_read_only(path: &Path) -> Result<SqliteStore, StoreError> {
        let wal = PathBuf::from(format!("{}-wal", path.display()));
        let immutable = if wal.exists() { "" } else { "&immutable=1" };
        // In a URI's path only these three would be read as syntax.
        let escaped = path
            .to_string_lossy()
            .replace('%', "%25")
            .replace('?', "%3f")
            .replace('#', "%23");
        let conn = Connection::open_with_flags(
            format!("file:{escaped}?mode=ro{immutable}"),
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Self::open_on(conn, path)
    }

    /// Opens an existing Girok database named `name` in the registered SQLite
    /// VFS `vfs` (see [`Self::create_in_vfs`]).
    pub fn open_in_vfs(name: &str, vfs: &str) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open_with_flags_and_vfs(name, OPEN_EXISTING, vfs)?;
        Self::open_on(conn, Path::new(name))
    }

    fn open_on(mut conn: Connection, path: &Path) -> Result<SqliteStore, StoreError> {
        let shown = path.display().to_string();
        let not_girok = |reason: &str| StoreError::NotGirok {
            path: shown.clone(),
            reason: reason.to_string(),
        };
        let application_id: i32 =
            match conn.pragma_query_value(None, "application_id", |r| r.get(0)) {
                Ok(id) => id,
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::NotADatabase =>
                {
                    return Err(not_girok("it is not a SQLite file"));
                }
                Err(e) => return Err(e.into()),
            };
        if application_id != APPLICATION_ID {
            return Err(not_girok(&if application_id == 0 {
                "it is a SQLite database that Girok did not create".to_string()
            } else {
                format!("it belongs to another application (id {application_id:#010x})")
            }));
        }
        let version: i32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: shown,
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if conn.is_readonly(rusqlite::MAIN_DB)? {
            conn.busy_timeout(BUSY_TIMEOUT)?;
            if version < SCHEMA_VERSION {
                return Err(StoreError::ReadOnlyNeedsUpgrade {
                    path: shown,
                    found: version,
                });
            }
        } else {
            configure(&conn, Durability::Full)?;
        }
        if version < SCHEMA_VERSION {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            migrate(&tx, version)?;
            tx.commit()?;
        }
        let (vocabularies, terms_seq) = load_vocabularies(&conn)?;
        let lock = keys::initial_lock(&conn)?;
        Ok(SqliteStore {
            conn,
            path: path.to_path_buf(),
            vocabularies,
            terms_seq,
            lock,
            revealing: Cell::new(true),
            auditor: RefCell::default(),
            notary: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the vocabularies again if another connection or process has
    /// added a term since they were read (writes do this inside their transaction).
    pub fn refresh_vocabularies(&mut self) -> Result<(), StoreError> {
        refresh_vocabularies(&self.conn, &mut self.vocabularies, &mut self.terms_seq)
    }

    /// From now on every batch that writes ends with a checkpoint signed by `notary`,
    /// in the batch's own transaction (a failure to sign commits nothing).
    pub fn set_notary(&mut self, notary: Arc<dyn Notary>) {
        self.notary = Some(notary);
    }

    /// Runs `work` with reads that leave sealed records sealed: for work
    /// that needs no identifying data (statistics), so none is decrypted.
    pub fn sealed_reads<T>(&self, work: impl FnOnce(&Self) -> T) -> T {
        let before = self.revealing.replace(false);
        let result = work(self);
        self.revealing.set(before);
        result
    }

    /// From now on, before sealed records are opened, `auditor` is told
    /// which (and a failure to record it fails the read); `None` stops it.
    pub fn set_auditor(&self, auditor: Option<Arc<dyn Auditor>>) {
        *self.auditor.borrow_mut() = auditor;
    }

    /// Tells the auditor that the identifying data of `ids` was consulted
    /// without being opened here (a name search matched them), when the
    /// store reveals; the read fails if it cannot be recorded.
    pub fn consulted(&self, ids: &[RecordId]) -> Result<(), StoreError> {
        if self.reveals() {
            self.audit_opening(ids)?;
        }
        Ok(())
    }

    /// Whether reads open sealed records: unlocked, and outside `sealed_reads`.
    fn reveals(&self) -> bool {
        self.revealing.get() && matches!(self.lock, Lock::Unlocked(_))
    }

    /// Tells the auditor, if there is one, that `ids` are about to be opened.
    fn audit_opening(&self, ids: &[RecordId]) -> Result<(), StoreError> {
        match self.auditor.borrow().as_ref() {
            Some(auditor) if !ids.is_empty() => auditor.opening(ids),
            _ => Ok(()),
        }
    }

    /// Opens the sealed ones of `records` when the store reveals (unlocked,
    /// outside `sealed_reads`), after the auditor has recorded which.
    pub(crate) fn reveal(&self, records: Vec<Record>) -> Result<Vec<Record>, StoreError> {
        if !self.reveals() {
            return Ok(records);
        }
        let sealed: Vec<RecordId> = records
            .iter()
            .filter(|r| r.sealed().is_some())
            .map(|r| r.id().clone())
            .collect();
        if sealed.is_empty() {
            return Ok(records);
        }
        self.audit_opening(&sealed)?;
        records
            .into_iter()
            .map(|record| match record.sealed() {
                Some(_) => keys::reveal(&self.conn, &self.lock, record),
                None => Ok(record),
            })
            .collect()
    }

    fn reveal_one(&self, record: Record) -> Result<Record, StoreError> {
        self.reveal(vec![record])?
            .pop()
            .ok_or_else(|| StoreError::Corrupt("a revealed record vanished".into()))
    }

    /// The whole state as typed rows, sealed records as stored.
    pub fn state_rows(&self) -> Result<crate::StateRows, StoreError> {
        crate::rows::state_rows(&self.conn)
    }

    /// Where the stored tables differ from the rows `expected` gives, as
    /// `check` reports it: every state table row by row, in key order.
    pub fn differences_from(
        &self,
        expected: &girok_state::MemoryState,
    ) -> Result<Vec<crate::Difference>, StoreError> {
        let snapshot = self.conn.unchecked_transaction()?;
        let mut found = Vec::new();
        for table in STATE_TABLES {
            found.extend(crate::check::with_rows(
                &snapshot,
                "main",
                table,
                |stored| compare_table(table, stored, expected.table_rows(table).map(Ok)),
            )?);
        }
        snapshot.commit()?;
        Ok(found)
    }

    pub fn lock_state(&self) -> LockState {
        match self.lock {
            Lock::Plain => LockState::Plain,
            Lock::Locked => LockState::Locked,
            Lock::Unlocked(_) => LockState::Unlocked,
        }
    }

    /// Makes a new, empty database encrypted: from now on identifying data
    /// is sealed before it is journaled. A database with entries is refused
    /// (its journal already holds them in plaintext and is never rewritten).
    pub fn encrypt(&mut self, unlock: &Unlock, params: KdfParams) -> Result<(), StoreError> {
        if !matches!(self.lock, Lock::Plain) {
            return Err(StoreError::Vault(VaultError::BadHeader(
                "the database is already encrypted".into(),
            )));
        }
        let (head, _) = head_of(&self.conn)?;
        if head > 0 {
            return Err(StoreError::NotEmpty { entries: head });
        }
        let (vault, header) = Vault::create(unlock, params)?;
        keys::write_header(&self.conn, &header)?;
        self.lock = Lock::Unlocked(Arc::new(vault));
        Ok(())
    }

    /// Unlocks an encrypted database; a wrong passphrase or key file is refused.
    pub fn unlock(&mut self, unlock: &Unlock) -> Result<(), StoreError> {
        let header = keys::header(&self.conn)?.ok_or(StoreError::NotEncrypted)?;
        self.lock = Lock::Unlocked(Arc::new(Vault::unlock(&header, unlock)?));
        Ok(())
    }

    /// Unlocks with a vault another connection to the same database unlocked.
    pub fn unlock_with(&mut self, vault: Arc<Vault>) -> Result<(), StoreError> {
        if matches!(self.lock, Lock::Plain) {
            return Err(StoreError::NotEncrypted);
        }
        self.lock = Lock::Unlocked(vault);
        Ok(())
    }

    /// Forgets the keys in memory.
    pub fn lock(&mut self) {
        if !matches!(self.lock, Lock::Plain) {
            self.lock = Lock::Locked;
        }
    }

    pub fn vault(&self) -> Option<Arc<Vault>> {
        match &self.lock {
            Lock::Unlocked(vault) => Some(vault.clone()),
            _ => None,
        }
    }

    /// Key rotation: a new master key, unlocked by `unlock` from now on,
    /// and every data key rewrapped, in one transaction.
    pub fn rotate(&mut self, unlock: &Unlock, params: KdfParams) -> Result<u64, StoreError> {
        let Lock::Unlocked(vault) = &self.lock else {
            return Err(StoreError::Locked);
        };
        let (next, header) = vault.rotate(unlock, params)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let wrapped = keys::all_wrapped(&tx)?;
        for (subject, key) in &wrapped {
            keys::replace_wrapped(&tx, subject, &vault.rewrap(&next, subject, key)?)?;
        }
        keys::write_header(&tx, &header)?;
        tx.commit()?;
        self.lock = Lock::Unlocked(Arc::new(next));
        Ok(wrapped.len() as u64)
    }

    /// The data key of a subject (an evidence record whose file is sealed),
    /// created if it has none. Needs the store unlocked; a forgotten subject
    /// gets none.
    pub fn data_key(&mut self, subject: &RecordId) -> Result<DataKey, StoreError> {
        let Lock::Unlocked(vault) = &self.lock else {
            return Err(StoreError::Locked);
        };
        let vault = vault.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let key = keys::data_key_of(&tx, &vault, subject, true)?;
        tx.commit()?;
        key.ok_or_else(|| StoreError::Corrupt(format!("no data key for {subject}")))
    }

    /// The data key of a subject if the store is unlocked and the key exists
    /// (`None` when locked or forgotten).
    pub fn existing_data_key(&self, subject: &RecordId) -> Result<Option<DataKey>, StoreError> {
        match &self.lock {
            Lock::Unlocked(vault) => keys::data_key_of(&self.conn, vault, subject, false),
            _ => Ok(None),
        }
    }

    /// How many data keys exist and how many subjects were forgotten.
    pub fn key_counts(&self) -> Result<(u64, u64), StoreError> {
        let count = |table: &str| -> Result<u64, StoreError> {
            Ok(self
                .conn
                .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?)
        };
        Ok((count("data_key")?, count("forgotten")?))
    }

    /// Journal rows selected by a query with one text parameter, decoded.
    fn journal_rows(
        &self,
        sql: &str,
        parameters: impl rusqlite::Params,
    ) -> Result<Vec<JournalRow>, StoreError> {
        let mut statement = self.conn.prepare_cached(sql)?;
        let rows = statement.query_map(parameters, |r| {
            Ok((
                r.get::<_, u64>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?;
        rows.map(|row| {
            let (seq, bytes, hash) = row?;
            Ok(JournalRow {
                entry: Entry::decode(seq, &bytes)?,
                hash: hash.try_into().map_err(|_| {
                    StoreError::Corrupt(format!("journal entry {seq} has a malformed hash"))
                })?,
            })
        })
        .collect()
    }

    fn check_tree_size(&self, size: u64) -> Result<(), StoreError> {
        let (head, _) = head_of(&self.conn)?;
        if size > head {
            return Err(StoreError::OutOfRange(format!(
                "the journal has {head} entries, not {size}"
            )));
        }
        Ok(())
    }

    /// One transaction around `work`. In bulk mode the secondary indexes are
    /// dropped inside the transaction and rebuilt before it commits: nothing in
    /// the write path reads them, and building an index once from sorted data
    /// is far cheaper than maintaining it row by row. Readers keep seeing the
    /// committed database, indexes included, and a failure rolls it all back.
    fn transaction<T, E>(
        &mut self,
        actor: &str,
        bulk: bool,
        work: impl FnOnce(&mut dyn ChangeSink) -> Result<T, E>,
    ) -> Result<(T, Committed, bool), E>
    where
        E: From<StoreError>,
    {
        if actor.trim().is_empty() {
            return Err(StoreError::from(JournalError::NoActor).into());
        }
        // IMMEDIATE takes the write lock now, so the head read below cannot go stale.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let (seq, prev) = head_of(&tx)?;
        // Terms another connection added are read inside this transaction, which uses them.
        refresh_vocabularies(&tx, &mut self.vocabularies, &mut self.terms_seq)?;
        let tree = TreeWriter::resume(&tx, seq)?;
        let rebuild = if bulk {
            drop_secondary_indexes(&tx)?
        } else {
            Vec::new()
        };
        let mut writer = SqliteWriter {
            tx,
            lock: self.lock.clone(),
            destroyed_keys: false,
            vocabularies: self.vocabularies.clone(),
            terms_seq: self.terms_seq,
            actor,
            seq,
            prev,
            first: None,
            changes: 0,
            tree,
        };
        let value = work(&mut writer)?;
        for index in rebuild {
            writer.tx.execute_batch(&index).map_err(StoreError::from)?;
        }
        let committed = Committed {
            first: writer.first,
            last: writer.first.map(|_| writer.seq),
            changes: writer.changes,
        };
        if let (Some(notary), Some(_)) = (&self.notary, writer.first) {
            keep_checkpoint(&writer.tx, notary.as_ref(), writer.seq)?;
        }
        let destroyed_keys = writer.destroyed_keys;
        writer.tx.commit().map_err(StoreError::from)?;
        self.vocabularies = writer.vocabularies;
        self.terms_seq = writer.terms_seq;
        Ok((value, committed, destroyed_keys))
    }

    /// [`Self::transaction`], then resets the write-ahead log if a data key
    /// was destroyed.
    fn batch<T, E>(
        &mut self,
        actor: &str,
        bulk: bool,
        work: impl FnOnce(&mut dyn ChangeSink) -> Result<T, E>,
    ) -> Result<(T, Committed), E>
    where
        E: From<StoreError>,
    {
        let (value, committed, destroyed_keys) = self.transaction(actor, bulk, work)?;
        if destroyed_keys {
            // The deleted key's page may linger in the write-ahead log until it is reset.
            self.conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .map_err(StoreError::from)?;
        }
        Ok((value, committed))
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Applies a journal entry during replay, exactly as the write path did.
    pub(crate) fn replay(&mut self, entry: &Entry) -> Result<(), StoreError> {
        let meta = EntryMeta {
            seq: entry.seq,
            time: &entry.time,
            actor: &entry.actor,
        };
        entry.change.validate(&self.vocabularies)?;
        apply::apply(&self.conn, &mut self.vocabularies, &meta, &entry.change)
    }
}

/// A consistent copy of a SQLite database, taken while others may write
/// (`VACUUM INTO`: one read transaction, a compact file, no write-ahead log).
pub fn snapshot(from: &Path, to: &Path) -> Result<(), StoreError> {
    let conn = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let target = to.to_str().ok_or_else(|| StoreError::Io {
        context: format!("{} is not a UTF-8 path", to.display()),
        source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
    })?;
    conn.execute("VACUUM INTO ?1", [target])?;
    Ok(())
}

/// Signs the tree of the first `size` entries and keeps the checkpoint.
fn keep_checkpoint(conn: &Connection, notary: &dyn Notary, size: u64) -> Result<(), StoreError> {
    let root = merkle::root(&StoredTree { conn }, size)?;
    let note = notary.sign(size, &root)?;
    insert_checkpoint(conn, size, &root, &note)
}

fn insert_checkpoint(
    conn: &Connection,
    size: u64,
    root: &Hash,
    note: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO checkpoint (size, root, note, time) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        size,
        root.as_slice(),
        note,
        format_time(Utc::now())
    ])?;
    Ok(())
}

fn configure(conn: &Connection, durability: Durability) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    match durability {
        Durability::Full => {
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            // Deleted content (a destroyed data key) is overwritten, not just unlinked.
            conn.pragma_update(None, "secure_delete", "ON")?;
        }
        Durability::Scratch => {
            conn.pragma_update(None, "journal_mode", "OFF")?;
            conn.pragma_update(None, "synchronous", "OFF")?;
        }
    }
    // 256 MiB of page cache: a large import then rarely spills pages before it commits.
    conn.pragma_update(None, "cache_size", -262_144)?;
    Ok(())
}

/// Drops every secondary index and returns the statements that recreate them.
fn drop_secondary_indexes(tx: &Transaction) -> Result<Vec<String>, StoreError> {
    let indexes: Vec<(String, String)> = tx
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut create = Vec::new();
    for (name, sql) in indexes {
        tx.execute_batch(&format!("DROP INDEX \"{name}\""))?;
        create.push(sql);
    }
    Ok(create)
}

fn migrate(tx: &Transaction, from: i32) -> Result<(), StoreError> {
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(from.max(0) as usize) {
        tx.execute_batch(migration)?;
        tx.pragma_update(None, "user_version", index as i32 + 1)?;
    }
    Ok(())
}

/// The journal entry of the latest added term (0 if none was added).
fn latest_term_seq(conn: &Connection) -> Result<u64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(MAX(added_seq), 0) FROM term")?
        .query_row([], |r| r.get(0))?)
}

/// Reads `vocabularies` again if a term was added after entry `terms_seq`.
fn refresh_vocabularies(
    conn: &Connection,
    vocabularies: &mut Vocabularies,
    terms_seq: &mut u64,
) -> Result<(), StoreError> {
    if latest_term_seq(conn)? != *terms_seq {
        (*vocabularies, *terms_seq) = load_vocabularies(conn)?;
    }
    Ok(())
}

/// The shipped vocabularies with the added terms, and the entry of the latest.
fn load_vocabularies(conn: &Connection) -> Result<(Vocabularies, u64), StoreError> {
    let mut vocabularies = Vocabularies::default();
    let mut statement =
        conn.prepare("SELECT vocabulary, key, body FROM term ORDER BY added_seq")?;
    let rows = statement.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    for row in rows {
        let (vocabulary, key, body) = row?;
        let corrupt =
            || StoreError::Corrupt(format!("added term {vocabulary}/{key} cannot be read"));
        let kind = VocabKind::from_name(&vocabulary).ok_or_else(corrupt)?;
        let term: Term = serde_json::from_str(&body).map_err(|_| corrupt())?;
        vocabularies.add(kind, term).map_err(|_| corrupt())?;
    }
    Ok((vocabularies, latest_term_seq(conn)?))
}

fn head_of(conn: &Connection) -> Result<(u64, Hash), StoreError> {
    let head: Option<(u64, Vec<u8>)> = conn
        .query_row(
            "SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match head {
        None => Ok((0, GENESIS)),
        Some((seq, hash)) => Ok((
            seq,
            hash.try_into().map_err(|_| {
                StoreError::Corrupt(format!("journal entry {seq} has a malformed hash"))
            })?,
        )),
    }
}

/// The transaction of one batch.
pub struct SqliteWriter<'a> {
    tx: Transaction<'a>,
    lock: Lock,
    /// Whether this batch destroyed a data key (`forget`).
    destroyed_keys: bool,
    vocabularies: Vocabularies,
    /// The entry of the latest term these vocabularies hold.
    terms_seq: u64,
    actor: &'a str,
    seq: u64,
    prev: Hash,
    first: Option<u64>,
    changes: u64,
    tree: TreeWriter,
}

impl ChangeSink for SqliteWriter<'_> {
    fn apply_prepared(&mut self, prepared: PreparedChange) -> Result<u64, StoreError> {
        let prepared = keys::seal(&self.tx, &self.lock, &self.vocabularies, prepared)?;
        let change = prepared.change();
        change.validate(&self.vocabularies)?;
        let seq = self.seq + 1;
        let time = format_time(Utc::now());
        let meta = EntryMeta {
            seq,
            time: &time,
            actor: self.actor,
        };
        apply::apply(&self.tx, &mut self.vocabularies, &meta, change)?;
        let bytes = prepared.entry_bytes(seq, &time, self.actor, &self.prev);
        let hash = leaf_hash(&bytes);
        self.tx
            .prepare_cached("INSERT INTO journal (seq, time, actor, subject, bytes, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
            .execute(params![seq, time, self.actor, change.subject().map(RecordId::as_str), bytes, hash.as_slice()])?;
        self.tree.append(&self.tx, seq, hash)?;
        match change {
            Change::Forget { subject, .. } => {
                keys::destroy(&self.tx, subject)?;
                crate::proposals::purge(&self.tx, subject)?;
                self.destroyed_keys = true;
            }
            Change::LinkDecision { persons, .. } => {
                crate::proposals::mark_decided(&self.tx, persons, seq)?
            }
            Change::AddTerm { .. } => self.terms_seq = seq,
            _ => {}
        }
        self.seq = seq;
        self.prev = hash;
        self.first.get_or_insert(seq);
        self.changes += 1;
        Ok(seq)
    }

    fn vocabularies(&self) -> &Vocabularies {
        &self.vocabularies
    }

    fn kind_of(&self, id: &RecordId) -> Result<Option<RecordKind>, StoreError> {
        apply::live_kind(&self.tx, id.as_str())
    }

    fn presealer(&self) -> Option<keys::Presealer> {
        keys::Presealer::new(&self.lock)
    }

    fn apply_presealed(&mut self, presealed: keys::Presealed) -> Result<u64, StoreError> {
        if let Some((subject, wrapped)) = &presealed.key {
            keys::store_presealed_key(&self.tx, subject, wrapped)?;
        }
        self.apply_prepared(presealed.prepared)
    }
}

impl Store for SqliteStore {
    fn write_batch(
        &mut self,
        actor: &str,
        size: BatchSize,
        work: &mut dyn FnMut(&mut dyn ChangeSink) -> Result<(), BatchError>,
    ) -> Result<Committed, BatchError> {
        self.batch(actor, size == BatchSize::Bulk, work)
            .map(|((), committed)| committed)
    }

    fn vocabularies(&self) -> &Vocabularies {
        &self.vocabularies
    }

    fn get(&self, id: &RecordId) -> Result<Option<Stored>, StoreError> {
        let Some(meta) = apply::record_meta(&self.conn, id.as_str())?.filter(|m| !m.deleted) else {
            return Ok(None);
        };
        let record = apply::load(&self.conn, id)?.ok_or_else(|| {
            StoreError::Corrupt(format!(
                "{} {id} is registered but its content is missing",
                meta.kind
            ))
        })?;
        let record = self.reveal_one(record)?;
        Ok(Some(Stored { record, meta }))
    }

    fn list(&self, kind: RecordKind, offset: u64, limit: u64) -> Result<Vec<Stored>, StoreError> {
        let mut statement = self.conn.prepare_cached(&format!(
            // The page is cut from the id index alone; only its rows are joined.
            "SELECT t.id, j.seq, j.bytes, r.revision, r.created_seq, r.created_by, r.updated_seq, r.updated_by \
             FROM (SELECT id FROM {} ORDER BY id LIMIT ?1 OFFSET ?2) t \
             JOIN record r ON r.id = t.id JOIN journal j ON j.seq = r.content_seq \
             ORDER BY t.id",
            kind.as_str()
        ))?;
        // SQLite integers are signed: "no limit" (u64::MAX) becomes the largest one.
        let rows = statement.query_map(
            params![limit.min(i64::MAX as u64), offset.min(i64::MAX as u64)],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, u64>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    crate::RecordMeta {
                        kind,
                        revision: r.get(3)?,
                        created_seq: r.get(4)?,
                        created_by: r.get(5)?,
                        updated_seq: r.get(6)?,
                        updated_by: r.get(7)?,
                        content_seq: r.get(1)?,
                        deleted: false,
                    },
                ))
            },
        )?;
        let mut metas = Vec::new();
        let mut records = Vec::new();
        for row in rows {
            let (id, seq, bytes, meta) = row?;
            records.push(apply::decode(&self.conn, &id, seq, &bytes)?);
            metas.push(meta);
        }
        // The whole page is recorded as opened in one audit entry, before it is opened.
        Ok(self
            .reveal(records)?
            .into_iter()
            .zip(metas)
            .map(|(record, meta)| Stored { record, meta })
            .collect())
    }

    fn count(&self, kind: RecordKind) -> Result<u64, StoreError> {
        Ok(self.conn.query_row(
            &format!("SELECT COUNT(*) FROM {}", kind.as_str()),
            [],
            |r| r.get(0),
        )?)
    }

    fn for_each_record(
        &self,
        visit: &mut dyn FnMut(Record) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        for kind in DEPENDENCY_ORDER {
            let mut statement = self.conn.prepare(&format!(
                "SELECT t.id, j.seq, j.bytes FROM {} t JOIN record r ON r.id = t.id \
                 JOIN journal j ON j.seq = r.content_seq ORDER BY t.id",
                kind.as_str()
            ))?;
            let mut rows = statement.query([])?;
            let mut chunk = Vec::with_capacity(REVEALED_AT_ONCE);
            while let Some(row) = rows.next()? {
                let id: String = row.get(0)?;
                let bytes = row
                    .get_ref(2)?
                    .as_blob()
                    .map_err(|e| StoreError::Corrupt(format!("{kind} {id}: {e}")))?;
                chunk.push(apply::decode(&self.conn, &id, row.get(1)?, bytes)?);
                if chunk.len() == REVEALED_AT_ONCE {
                    for record in self.reveal(std::mem::take(&mut chunk))? {
                        visit(record)?;
                    }
                }
            }
            for record in self.reveal(chunk)? {
                visit(record)?;
            }
        }
        Ok(())
    }

    fn custody(&self, sha256: &str) -> Result<Vec<JournalRow>, StoreError> {
        self.journal_rows(
            "SELECT j.seq, j.bytes, j.hash FROM custody c JOIN journal j ON j.seq = c.seq WHERE c.sha256 = ?1 ORDER BY j.seq",
            [sha256],
        )
    }

    fn referrers(&self, id: &RecordId, limit: u32) -> Result<Vec<crate::Referrer>, StoreError> {
        match apply::record_meta(&self.conn, id.as_str())?.filter(|m| !m.deleted) {
            Some(meta) => {
                girok_state::referring_records(&SqlView(&self.conn), meta.kind, id, limit)
            }
            None => Ok(Vec::new()),
        }
    }

    fn history(&self, id: &RecordId) -> Result<Vec<JournalRow>, StoreError> {
        self.journal_rows(
            "SELECT seq, bytes, hash FROM journal WHERE subject = ?1 ORDER BY seq",
            [id.as_str()],
        )
    }

    fn recent(&self, limit: u32) -> Result<Vec<JournalRow>, StoreError> {
        self.journal_rows(
            "SELECT seq, bytes, hash FROM journal ORDER BY seq DESC LIMIT ?1",
            [limit],
        )
    }

    fn head(&self) -> Result<(u64, Hash), StoreError> {
        head_of(&self.conn)
    }

    fn add_checkpoint(&mut self, size: u64, root: &Hash, note: &str) -> Result<(), StoreError> {
        insert_checkpoint(&self.conn, size, root, note)
    }

    fn latest_checkpoint(&self) -> Result<Option<(u64, String)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT size, note FROM checkpoint ORDER BY size DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    fn verify_tree(
        &self,
        verifier: &girok_journal::checkpoint::VerifierKey,
    ) -> Result<TreeReport, StoreError> {
        let snapshot = self.conn.unchecked_transaction()?;
        let report = crate::tree::verify(&snapshot, verifier)?;
        snapshot.commit()?;
        Ok(report)
    }

    fn tree_head(&self) -> Result<(u64, Hash), StoreError> {
        let (size, _) = head_of(&self.conn)?;
        Ok((size, merkle::root(&StoredTree { conn: &self.conn }, size)?))
    }

    fn inclusion_proof(&self, seq: u64, size: u64) -> Result<Vec<Hash>, StoreError> {
        self.check_tree_size(size)?;
        if seq == 0 || seq > size {
            return Err(StoreError::OutOfRange(format!(
                "entry {seq} is not in a tree of {size} entries"
            )));
        }
        merkle::inclusion_proof(&StoredTree { conn: &self.conn }, seq - 1, size)
    }

    fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, StoreError> {
        self.check_tree_size(new_size)?;
        if old_size > new_size {
            return Err(StoreError::OutOfRange(format!(
                "a tree of {old_size} entries cannot be a prefix of one of {new_size}"
            )));
        }
        merkle::consistency_proof(&StoredTree { conn: &self.conn }, old_size, new_size)
    }

    fn victims(&self) -> Result<Vec<RecordId>, StoreError> {
        let mut statement = self
            .conn
            .prepare("SELECT DISTINCT victim FROM act ORDER BY victim")?;
        let rows = statement.query_map([], |r| Ok(RecordId::new(r.get::<_, String>(0)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn link_decisions(&self) -> Result<LinkDecisions, StoreError> {
        let pairs = |table: &str| -> Result<Vec<(RecordId, RecordId)>, StoreError> {
            let mut statement = self
                .conn
                .prepare(&format!("SELECT a, b FROM {table} ORDER BY a, b"))?;
            let rows = statement.query_map([], |r| {
                Ok((
                    RecordId::new(r.get::<_, String>(0)?),
                    RecordId::new(r.get::<_, String>(1)?),
                ))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        };
        Ok(LinkDecisions {
            same: pairs("same_person")?,
            different: pairs("different_person")?,
        })
    }

    fn check(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<CheckReport, StoreError> {
        crate::check::check(self, progress)
    }
}
