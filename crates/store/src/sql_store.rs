//! The store's logic, written once over [`Backend`]: the write path (seal,
//! apply the rules' operations, journal, extend the Merkle tree, sign a
//! checkpoint), reads that open sealed records after the audit trail has
//! recorded them, encryption, and proofs. A backend only connects, runs
//! SQL and says how its transactions begin and end.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use chrono::Utc;
use girok_journal::merkle;
use girok_journal::{Entry, GENESIS, Hash, JournalError, PreparedChange, format_time, leaf_hash};
use girok_model::{Change, Record, RecordId, RecordKind, Term, VocabKind, Vocabularies};
use girok_state::EntryMeta;
use girok_vault::{DataKey, KdfParams, Unlock, Vault, VaultError};

use crate::apply::{self, SqlView};
use crate::key_store::KeyStore;
use crate::keys::{self, KeyPlace, KeysAt, Lock};
use crate::sql::{Sql, Value};
use crate::tree::{StoredTree, TreeWriter};
use crate::{
    Auditor, BatchError, BatchSize, ChangeSink, CheckReport, Committed, JournalRow, LinkDecisions,
    Notary, Store, StoreError, Stored, TreeReport,
};

/// What a database gives the store's logic: SQL, and transactions.
pub(crate) trait Backend {
    /// Statements outside any batch (each its own transaction).
    fn sql(&self) -> &dyn Sql;
    /// Runs `work` in a write transaction that holds the journal's append
    /// lock from its first statement, so the head it reads cannot go stale;
    /// commits if `work` succeeds, rolls back otherwise.
    fn write<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&dyn Sql) -> Result<T, E>,
    ) -> Result<T, E>;
    /// Runs `work` over one consistent snapshot of the database.
    fn snapshot<T>(
        &self,
        work: impl FnOnce(&dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError>;
    /// Drops what a bulk batch need not maintain row by row, inside its
    /// transaction; returns the statements that rebuild it before the commit.
    fn drop_secondary_indexes(&self, sql: &dyn Sql) -> Result<Vec<String>, StoreError>;
    /// Whether a deleted row is gone from everything the backend writes, so
    /// destroying a data key erases what it sealed (crypto-shredding).
    fn destroys_deleted_rows(&self) -> bool;
    /// After a batch that destroyed a data key has committed: whatever the
    /// backend must do so the key's bytes do not linger in its files.
    fn after_destroying_keys(&self) -> Result<(), StoreError>;
    /// After a batch of at least [`LARGE_BATCH`] changes has committed: what
    /// keeps the backend's query plans right for tables that just grew.
    fn after_large_batch(&self);
    /// Replays the journal and compares it with the state tables.
    fn check(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<CheckReport, StoreError>;
}

/// Changes in a batch after which the backend's statistics are renewed.
const LARGE_BATCH: u64 = 10_000;

/// The database a store is on: the embedded default or a shared server.
pub enum Engine {
    Sqlite(crate::Sqlite),
    // Boxed: a PostgreSQL client is several times the size of a SQLite connection.
    Postgres(Box<crate::Postgres>),
}

impl Backend for Engine {
    fn sql(&self) -> &dyn Sql {
        match self {
            Engine::Sqlite(backend) => backend.sql(),
            Engine::Postgres(backend) => backend.sql(),
        }
    }

    fn write<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&dyn Sql) -> Result<T, E>,
    ) -> Result<T, E> {
        match self {
            Engine::Sqlite(backend) => backend.write(work),
            Engine::Postgres(backend) => backend.write(work),
        }
    }

    fn snapshot<T>(
        &self,
        work: impl FnOnce(&dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match self {
            Engine::Sqlite(backend) => backend.snapshot(work),
            Engine::Postgres(backend) => backend.snapshot(work),
        }
    }

    fn drop_secondary_indexes(&self, sql: &dyn Sql) -> Result<Vec<String>, StoreError> {
        match self {
            Engine::Sqlite(backend) => backend.drop_secondary_indexes(sql),
            Engine::Postgres(backend) => backend.drop_secondary_indexes(sql),
        }
    }

    fn after_large_batch(&self) {
        match self {
            Engine::Sqlite(backend) => backend.after_large_batch(),
            Engine::Postgres(backend) => backend.after_large_batch(),
        }
    }

    fn destroys_deleted_rows(&self) -> bool {
        match self {
            Engine::Sqlite(backend) => backend.destroys_deleted_rows(),
            Engine::Postgres(backend) => backend.destroys_deleted_rows(),
        }
    }

    fn after_destroying_keys(&self) -> Result<(), StoreError> {
        match self {
            Engine::Sqlite(backend) => backend.after_destroying_keys(),
            Engine::Postgres(backend) => backend.after_destroying_keys(),
        }
    }

    fn check(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<CheckReport, StoreError> {
        match self {
            Engine::Sqlite(backend) => backend.check(progress),
            Engine::Postgres(backend) => backend.check(progress),
        }
    }
}

/// A Girok store, on SQLite or PostgreSQL.
pub type Database = SqlStore<Engine>;

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

/// How many records a full scan opens under one audit entry.
const REVEALED_AT_ONCE: usize = 1_000;

/// A Girok store on a SQL backend.
pub struct SqlStore<B> {
    pub(crate) backend: B,
    /// The shipped vocabularies and the terms added up to entry `terms_seq`:
    /// read again when another connection or process has added one since;
    /// shared, so that a batch or a page takes them without copying.
    vocabularies: Arc<Vocabularies>,
    terms_seq: u64,
    lock: Lock,
    /// Where the wrapped data keys are.
    keys: KeyPlace,
    /// Whether reads open sealed records (off inside `sealed_reads`).
    revealing: Cell<bool>,
    /// Told before sealed records are opened: the door's audit trail.
    auditor: RefCell<Option<Arc<dyn Auditor>>>,
    /// Signs the checkpoint that ends every batch that wrote something.
    notary: Option<Arc<dyn Notary>>,
}

/// Whether a store can read and write identifying data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockState {
    /// Not encrypted.
    Plain,
    /// Encrypted; identifying data can be neither read nor written.
    Locked,
    Unlocked,
}

// The backend interface stays inside this crate: a store is made only by
// its backends' constructors, and no door can reach SQL through it.
#[allow(private_bounds)]
impl<B: Backend> SqlStore<B> {
    /// The store over a backend whose schema is current.
    pub(crate) fn over(backend: B) -> Result<SqlStore<B>, StoreError> {
        let (vocabularies, terms_seq) = load_vocabularies(backend.sql())?;
        let (lock, keys) = keys::initial_lock(backend.sql())?;
        Ok(SqlStore {
            backend,
            vocabularies: Arc::new(vocabularies),
            terms_seq,
            lock,
            keys,
            revealing: Cell::new(true),
            auditor: RefCell::default(),
            notary: None,
        })
    }

    pub(crate) fn sql(&self) -> &dyn Sql {
        self.backend.sql()
    }

    /// Applies a journal entry during replay, exactly as the write path did.
    pub(crate) fn replay(&mut self, entry: &Entry) -> Result<(), StoreError> {
        let meta = EntryMeta {
            seq: entry.seq,
            time: &entry.time,
            actor: &entry.actor,
        };
        entry.change.validate(&self.vocabularies)?;
        apply::apply(
            self.backend.sql(),
            None,
            &mut self.vocabularies,
            &meta,
            &entry.change,
        )
    }

    /// Reads the vocabularies again if another connection or process has
    /// added a term since they were read (writes do this inside their transaction).
    pub fn refresh_vocabularies(&mut self) -> Result<(), StoreError> {
        refresh_vocabularies(
            self.backend.sql(),
            &mut self.vocabularies,
            &mut self.terms_seq,
        )
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
                Some(_) => keys::reveal(self.sql(), self.keys.at(), &self.lock, record),
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
        self.backend.snapshot(crate::rows::state_rows)
    }

    /// Where the stored tables differ from the rows `expected` gives, as
    /// `check` reports it: every state table row by row, in key order.
    pub fn differences_from(
        &self,
        expected: &girok_state::MemoryState,
    ) -> Result<Vec<crate::Difference>, StoreError> {
        self.backend
            .snapshot(|sql| crate::check::differences_from(sql, expected))
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
    /// (its journal already holds them in plaintext and is never rewritten),
    /// and so is one that cannot destroy a deleted key (use [`Self::encrypt_apart`]).
    pub fn encrypt(&mut self, unlock: &Unlock, params: KdfParams) -> Result<(), StoreError> {
        self.refuse_if_encrypted()?;
        if !self.backend.destroys_deleted_rows() {
            return Err(StoreError::NoSecureDeletion);
        }
        let (vault, header) = Vault::create(unlock, params)?;
        self.backend.write(|sql| {
            refuse_if_written(sql)?;
            keys::write_header(sql, &header)
        })?;
        self.lock = Lock::Unlocked(Arc::new(vault));
        Ok(())
    }

    /// Makes a new, empty database encrypted with its data keys in `store`,
    /// a new key store apart from it (for a database that keeps deleted
    /// rows): the database holds sealed records and a marker naming the store.
    pub fn encrypt_apart(
        &mut self,
        store: KeyStore,
        unlock: &Unlock,
        params: KdfParams,
    ) -> Result<(), StoreError> {
        self.refuse_if_encrypted()?;
        let (vault, header) = Vault::create(unlock, params)?;
        let database = hex::encode(&girok_vault::random_salt()?[..16]);
        self.backend.write(|sql| {
            refuse_if_written(sql)?;
            keys::keep_apart(&store, &header, &database)?;
            keys::write_marker(sql, &database)
        })?;
        self.keys = KeyPlace::Apart {
            database,
            store: Some(store),
        };
        self.lock = Lock::Unlocked(Arc::new(vault));
        Ok(())
    }

    fn refuse_if_encrypted(&self) -> Result<(), StoreError> {
        if !matches!(self.lock, Lock::Plain) {
            return Err(StoreError::Vault(VaultError::BadHeader(
                "the database is already encrypted".into(),
            )));
        }
        Ok(())
    }

    /// Attaches the key store that holds this database's data keys, once
    /// it has shown that it is this database's; keys of subjects forgotten
    /// since (a server stopped before destroying them) are destroyed now.
    pub fn use_key_store(&mut self, store: KeyStore) -> Result<(), StoreError> {
        let KeyPlace::Apart {
            database,
            store: attached,
        } = &mut self.keys
        else {
            return Err(StoreError::KeysNotApart);
        };
        if store.database()?.as_deref() != Some(database.as_str()) {
            return Err(StoreError::ForeignKeyStore {
                path: store.path().display().to_string(),
            });
        }
        keys::sweep_forgotten(self.backend.sql(), &store)?;
        *attached = Some(store);
        Ok(())
    }

    /// Whether the data keys are in a key store apart from the database.
    pub fn keeps_keys_apart(&self) -> bool {
        matches!(self.keys, KeyPlace::Apart { .. })
    }

    /// Unlocks an encrypted database; a wrong passphrase or key file is refused.
    pub fn unlock(&mut self, unlock: &Unlock) -> Result<(), StoreError> {
        let header = keys::header(self.sql(), self.keys.at())?.ok_or(StoreError::NotEncrypted)?;
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
        let vault = vault.clone();
        let (next, header) = vault.rotate(unlock, params)?;
        let rewrap = |keys: &dyn Sql| {
            let wrapped = keys::all_wrapped(keys)?;
            for (subject, key) in &wrapped {
                keys::replace_wrapped(keys, subject, &vault.rewrap(&next, subject, key)?)?;
            }
            keys::replace_header(keys, &header)?;
            Ok::<_, StoreError>(wrapped.len() as u64)
        };
        let rewrapped = match self.keys.at() {
            KeysAt::Database => self.backend.write(rewrap)?,
            KeysAt::Apart(store) => store.write(rewrap)?,
            KeysAt::Unreachable => return Err(StoreError::NoKeyStore),
        };
        self.lock = Lock::Unlocked(Arc::new(next));
        Ok(rewrapped)
    }

    /// The data key of a subject (an evidence record whose file is sealed),
    /// created if it has none. Needs the store unlocked; a forgotten subject
    /// gets none.
    pub fn data_key(&mut self, subject: &RecordId) -> Result<DataKey, StoreError> {
        let Lock::Unlocked(vault) = &self.lock else {
            return Err(StoreError::Locked);
        };
        let vault = vault.clone();
        let key = self
            .backend
            .write(|sql| keys::data_key_of(sql, self.keys.at(), &vault, subject, true))?;
        key.ok_or_else(|| StoreError::Corrupt(format!("no data key for {subject}")))
    }

    /// The data key of a subject if the store is unlocked and the key exists
    /// (`None` when locked or forgotten).
    pub fn existing_data_key(&self, subject: &RecordId) -> Result<Option<DataKey>, StoreError> {
        match &self.lock {
            Lock::Unlocked(vault) => {
                keys::data_key_of(self.sql(), self.keys.at(), vault, subject, false)
            }
            _ => Ok(None),
        }
    }

    /// How many data keys exist and how many subjects were forgotten.
    pub fn key_counts(&self) -> Result<(u64, u64), StoreError> {
        let keys = self.keys.at().sql(self.sql())?;
        Ok((
            keys.number("SELECT COUNT(*) FROM data_key", &[])?,
            self.sql().number("SELECT COUNT(*) FROM forgotten", &[])?,
        ))
    }

    /// Journal rows selected by a query, decoded.
    fn journal_rows(
        &self,
        query: &str,
        parameters: &[Value<'_>],
    ) -> Result<Vec<JournalRow>, StoreError> {
        let mut rows = Vec::new();
        self.sql().each(query, parameters, &mut |mut row| {
            let seq = row.count(0)?;
            rows.push(JournalRow {
                entry: Entry::decode(seq, &row.blob(1)?)?,
                hash: row.blob(2)?.try_into().map_err(|_| {
                    StoreError::Corrupt(format!("journal entry {seq} has a malformed hash"))
                })?,
            });
            Ok(())
        })?;
        Ok(rows)
    }

    fn check_tree_size(&self, size: u64) -> Result<(), StoreError> {
        let (head, _) = head_of(self.sql())?;
        if size > head {
            return Err(StoreError::OutOfRange(format!(
                "the journal has {head} entries, not {size}"
            )));
        }
        Ok(())
    }

    /// One transaction around `work`. In bulk mode the backend may drop what
    /// the write path does not read (secondary indexes) and rebuild it before
    /// the commit: building an index once from sorted data is far cheaper
    /// than maintaining it row by row. Readers keep seeing the committed
    /// database, and a failure rolls it all back. A batch that destroyed a
    /// data key is followed by the backend's clean-up.
    fn batch<T, E>(
        &mut self,
        actor: &str,
        bulk: bool,
        work: impl FnOnce(&mut dyn ChangeSink) -> Result<T, E>,
    ) -> Result<(T, Committed), E>
    where
        E: From<StoreError>,
    {
        if actor.trim().is_empty() {
            return Err(StoreError::from(JournalError::NoActor).into());
        }
        let lock = self.lock.clone();
        let notary = self.notary.clone();
        let (vocabularies, terms_seq) = (&mut self.vocabularies, &mut self.terms_seq);
        let backend = &self.backend;
        let keys_at = self.keys.at();
        let (value, committed, destroyed, added) = backend.write(|sql| -> Result<_, E> {
            let key_batch = match keys_at {
                KeysAt::Apart(store) => Some(store.begin()?),
                _ => None,
            };
            let (seq, prev) = head_of(sql)?;
            // Terms another connection added are read inside this transaction, which uses them.
            refresh_vocabularies(sql, vocabularies, terms_seq)?;
            let tree = TreeWriter::resume(sql, seq)?;
            let rebuild = if bulk {
                backend.drop_secondary_indexes(sql)?
            } else {
                Vec::new()
            };
            let mut writer = Writer {
                sql,
                lock,
                keys: keys_at,
                destroyed: Vec::new(),
                vocabularies: vocabularies.clone(),
                terms_seq: *terms_seq,
                actor,
                seq,
                prev,
                first: None,
                changes: 0,
                tree,
                known: apply::Known::default(),
            };
            let value = work(&mut writer)?;
            for index in rebuild {
                sql.execute(&index, &[])?;
            }
            let committed = Committed {
                first: writer.first,
                last: writer.first.map(|_| writer.seq),
                changes: writer.changes,
            };
            if let (Some(notary), Some(_)) = (&notary, writer.first) {
                keep_checkpoint(sql, notary.as_ref(), writer.seq)?;
            }
            let added = (writer.vocabularies, writer.terms_seq);
            if let Some(key_batch) = key_batch {
                key_batch.commit()?;
            }
            Ok((value, committed, writer.destroyed, added))
        })?;
        // The batch's own terms are taken once it has committed.
        (self.vocabularies, self.terms_seq) = added;
        if !destroyed.is_empty() {
            match keys_at {
                KeysAt::Apart(store) => store.destroy(&destroyed)?,
                _ => self.backend.after_destroying_keys()?,
            }
        }
        if committed.changes >= LARGE_BATCH {
            self.backend.after_large_batch();
        }
        Ok((value, committed))
    }
}

/// Refuses to encrypt a database whose journal has entries (in plaintext).
fn refuse_if_written(sql: &dyn Sql) -> Result<(), StoreError> {
    let (head, _) = head_of(sql)?;
    if head > 0 {
        return Err(StoreError::NotEmpty { entries: head });
    }
    Ok(())
}

/// Signs the tree of the first `size` entries and keeps the checkpoint.
fn keep_checkpoint(sql: &dyn Sql, notary: &dyn Notary, size: u64) -> Result<(), StoreError> {
    let root = merkle::root(&StoredTree { sql }, size)?;
    let note = notary.sign(size, &root)?;
    insert_checkpoint(sql, size, &root, &note)
}

fn insert_checkpoint(sql: &dyn Sql, size: u64, root: &Hash, note: &str) -> Result<(), StoreError> {
    let time = format_time(Utc::now());
    sql.execute(
        "INSERT INTO checkpoint (size, root, note, time) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
        &[size.into(), root.as_slice().into(), note.into(), time.as_str().into()],
    )?;
    Ok(())
}

/// The journal entry of the latest added term (0 if none was added).
fn latest_term_seq(sql: &dyn Sql) -> Result<u64, StoreError> {
    sql.number("SELECT COALESCE(MAX(added_seq), 0) FROM term", &[])
}

/// Reads `vocabularies` again if a term was added after entry `terms_seq`.
fn refresh_vocabularies(
    sql: &dyn Sql,
    vocabularies: &mut Arc<Vocabularies>,
    terms_seq: &mut u64,
) -> Result<(), StoreError> {
    if latest_term_seq(sql)? != *terms_seq {
        let (loaded, seq) = load_vocabularies(sql)?;
        (*vocabularies, *terms_seq) = (Arc::new(loaded), seq);
    }
    Ok(())
}

/// The shipped vocabularies with the added terms, and the entry of the latest.
fn load_vocabularies(sql: &dyn Sql) -> Result<(Vocabularies, u64), StoreError> {
    let mut vocabularies = Vocabularies::default();
    for mut row in sql.rows(
        "SELECT vocabulary, key, body FROM term ORDER BY added_seq",
        &[],
    )? {
        let (vocabulary, key, body) = (row.text(0)?, row.text(1)?, row.text(2)?);
        let corrupt =
            || StoreError::Corrupt(format!("added term {vocabulary}/{key} cannot be read"));
        let kind = VocabKind::from_name(&vocabulary).ok_or_else(corrupt)?;
        let term: Term = serde_json::from_str(&body).map_err(|_| corrupt())?;
        vocabularies.add(kind, term).map_err(|_| corrupt())?;
    }
    Ok((vocabularies, latest_term_seq(sql)?))
}

pub(crate) fn head_of(sql: &dyn Sql) -> Result<(u64, Hash), StoreError> {
    match sql.row(
        "SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1",
        &[],
    )? {
        None => Ok((0, GENESIS)),
        Some(mut row) => {
            let seq = row.count(0)?;
            Ok((
                seq,
                row.blob(1)?.try_into().map_err(|_| {
                    StoreError::Corrupt(format!("journal entry {seq} has a malformed hash"))
                })?,
            ))
        }
    }
}

/// The transaction of one batch.
struct Writer<'a> {
    sql: &'a dyn Sql,
    lock: Lock,
    keys: KeysAt<'a>,
    /// The subjects whose data keys this batch destroyed (`forget`).
    destroyed: Vec<RecordId>,
    /// Copied only if the batch adds a term.
    vocabularies: Arc<Vocabularies>,
    /// The entry of the latest term these vocabularies hold.
    terms_seq: u64,
    actor: &'a str,
    seq: u64,
    prev: Hash,
    first: Option<u64>,
    changes: u64,
    tree: TreeWriter,
    /// Which ids are used, as far as this batch has learnt.
    known: apply::Known,
}

impl ChangeSink for Writer<'_> {
    fn apply_prepared(&mut self, prepared: PreparedChange) -> Result<u64, StoreError> {
        let sql = self.sql;
        let prepared = keys::seal(sql, self.keys, &self.lock, &self.vocabularies, prepared)?;
        let change = prepared.change();
        change.validate(&self.vocabularies)?;
        let seq = self.seq + 1;
        let time = format_time(Utc::now());
        let meta = EntryMeta {
            seq,
            time: &time,
            actor: self.actor,
        };
        apply::apply(
            sql,
            Some(&self.known),
            &mut self.vocabularies,
            &meta,
            change,
        )?;
        let bytes = prepared.entry_bytes(seq, &time, self.actor, &self.prev);
        let hash = leaf_hash(&bytes);
        sql.execute(
            "INSERT INTO journal (seq, time, actor, subject, bytes, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            &[
                seq.into(),
                time.as_str().into(),
                self.actor.into(),
                change.subject().map(RecordId::as_str).into(),
                bytes.as_slice().into(),
                hash.as_slice().into(),
            ],
        )?;
        self.tree.append(sql, seq, hash)?;
        match change {
            Change::Forget { subject, .. } => {
                match self.keys {
                    KeysAt::Database => keys::destroy(sql, subject)?,
                    // Destroyed once the forget has committed: a key gone
                    // with the forget rolled back would shut a record that
                    // was never forgotten.
                    KeysAt::Apart(_) => {}
                    KeysAt::Unreachable => return Err(StoreError::NoKeyStore),
                }
                crate::proposals::purge(sql, subject)?;
                self.destroyed.push(subject.clone());
            }
            Change::LinkDecision { persons, .. } => {
                crate::proposals::mark_decided(sql, persons, seq)?
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
        girok_state::StateView::live_kind(&SqlView::with_known(self.sql, &self.known), id)
    }

    fn look_up_ahead(&mut self, ids: &[RecordId]) -> Result<(), StoreError> {
        apply::look_up_ahead(self.sql, &self.known, ids)
    }

    fn presealer(&self) -> Option<keys::Presealer> {
        keys::Presealer::new(&self.lock)
    }

    fn apply_presealed(&mut self, presealed: keys::Presealed) -> Result<u64, StoreError> {
        if let Some((subject, wrapped)) = &presealed.key {
            keys::store_presealed_key(self.sql, self.keys, subject, wrapped)?;
        }
        self.apply_prepared(presealed.prepared)
    }
}

impl<B: Backend> Store for SqlStore<B> {
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

    fn shared_vocabularies(&self) -> Arc<Vocabularies> {
        Arc::clone(&self.vocabularies)
    }

    fn get(&self, id: &RecordId) -> Result<Option<Stored>, StoreError> {
        // One query for what a page reads most: the record's registration and its content.
        let Some(mut row) = self.sql().row(
            "SELECT r.kind, r.revision, r.created_seq, r.created_by, r.updated_seq, r.updated_by, \
             r.content_seq, j.bytes FROM record r LEFT JOIN journal j ON j.seq = r.content_seq \
             WHERE r.id = ?1 AND r.deleted = 0",
            &[id.as_str().into()],
        )?
        else {
            return Ok(None);
        };
        let kind = row.text(0)?;
        let kind = RecordKind::parse(&kind).ok_or_else(|| {
            StoreError::Corrupt(format!("record {id} has an unknown kind {kind}"))
        })?;
        let meta = crate::RecordMeta {
            kind,
            revision: row.count(1)?,
            created_seq: row.count(2)?,
            created_by: row.text(3)?,
            updated_seq: row.count(4)?,
            updated_by: row.text(5)?,
            content_seq: row.count(6)?,
            deleted: false,
        };
        let bytes = row.opt_blob(7)?.ok_or_else(|| {
            StoreError::Corrupt(format!(
                "{kind} {id} is registered but its content is missing"
            ))
        })?;
        let record = apply::decode(self.sql(), id.as_str(), meta.content_seq, &bytes)?;
        let record = self.reveal_one(record)?;
        Ok(Some(Stored { record, meta }))
    }

    fn list(&self, kind: RecordKind, offset: u64, limit: u64) -> Result<Vec<Stored>, StoreError> {
        // The page is cut from the id index alone; only its rows are joined.
        let query = format!(
            "SELECT t.id, j.seq, j.bytes, r.revision, r.created_seq, r.created_by, r.updated_seq, r.updated_by \
             FROM (SELECT id FROM {} ORDER BY id LIMIT ?1 OFFSET ?2) t \
             JOIN record r ON r.id = t.id JOIN journal j ON j.seq = r.content_seq \
             ORDER BY t.id",
            kind.as_str()
        );
        let mut metas = Vec::new();
        let mut records = Vec::new();
        self.sql()
            .each(&query, &[limit.into(), offset.into()], &mut |mut row| {
                let (id, seq) = (row.text(0)?, row.count(1)?);
                records.push(apply::decode(self.sql(), &id, seq, &row.blob(2)?)?);
                metas.push(crate::RecordMeta {
                    kind,
                    revision: row.count(3)?,
                    created_seq: row.count(4)?,
                    created_by: row.text(5)?,
                    updated_seq: row.count(6)?,
                    updated_by: row.text(7)?,
                    content_seq: seq,
                    deleted: false,
                });
                Ok(())
            })?;
        // The whole page is recorded as opened in one audit entry, before it is opened.
        Ok(self
            .reveal(records)?
            .into_iter()
            .zip(metas)
            .map(|(record, meta)| Stored { record, meta })
            .collect())
    }

    fn count(&self, kind: RecordKind) -> Result<u64, StoreError> {
        self.sql()
            .number(&format!("SELECT COUNT(*) FROM {}", kind.as_str()), &[])
    }

    fn for_each_record(
        &self,
        visit: &mut dyn FnMut(Record) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        for kind in DEPENDENCY_ORDER {
            let query = format!(
                "SELECT t.id, j.seq, j.bytes FROM {} t JOIN record r ON r.id = t.id \
                 JOIN journal j ON j.seq = r.content_seq ORDER BY t.id",
                kind.as_str()
            );
            let mut chunk = Vec::with_capacity(REVEALED_AT_ONCE);
            self.sql().each(&query, &[], &mut |mut row| {
                let (id, seq) = (row.text(0)?, row.count(1)?);
                chunk.push(apply::decode(self.sql(), &id, seq, &row.blob(2)?)?);
                if chunk.len() == REVEALED_AT_ONCE {
                    for record in self.reveal(std::mem::take(&mut chunk))? {
                        visit(record)?;
                    }
                }
                Ok(())
            })?;
            for record in self.reveal(chunk)? {
                visit(record)?;
            }
        }
        Ok(())
    }

    fn custody(&self, sha256: &str) -> Result<Vec<JournalRow>, StoreError> {
        self.journal_rows(
            "SELECT j.seq, j.bytes, j.hash FROM custody c JOIN journal j ON j.seq = c.seq WHERE c.sha256 = ?1 ORDER BY j.seq",
            &[sha256.into()],
        )
    }

    fn referrers(&self, id: &RecordId, limit: u32) -> Result<Vec<crate::Referrer>, StoreError> {
        match apply::record_meta(self.sql(), id.as_str())?.filter(|m| !m.deleted) {
            Some(meta) => {
                girok_state::referring_records(&SqlView::new(self.sql()), meta.kind, id, limit)
            }
            None => Ok(Vec::new()),
        }
    }

    fn history(&self, id: &RecordId) -> Result<Vec<JournalRow>, StoreError> {
        self.journal_rows(
            "SELECT seq, bytes, hash FROM journal WHERE subject = ?1 ORDER BY seq",
            &[id.as_str().into()],
        )
    }

    fn recent(&self, limit: u32) -> Result<Vec<JournalRow>, StoreError> {
        self.journal_rows(
            "SELECT seq, bytes, hash FROM journal ORDER BY seq DESC LIMIT ?1",
            &[limit.into()],
        )
    }

    fn head(&self) -> Result<(u64, Hash), StoreError> {
        head_of(self.sql())
    }

    fn add_checkpoint(&mut self, size: u64, root: &Hash, note: &str) -> Result<(), StoreError> {
        insert_checkpoint(self.sql(), size, root, note)
    }

    fn latest_checkpoint(&self) -> Result<Option<(u64, String)>, StoreError> {
        self.sql()
            .row(
                "SELECT size, note FROM checkpoint ORDER BY size DESC LIMIT 1",
                &[],
            )?
            .map(|mut row| Ok((row.count(0)?, row.text(1)?)))
            .transpose()
    }

    fn verify_tree(
        &self,
        verifier: &girok_journal::checkpoint::VerifierKey,
    ) -> Result<TreeReport, StoreError> {
        self.backend
            .snapshot(|sql| crate::tree::verify(sql, verifier))
    }

    fn tree_head(&self) -> Result<(u64, Hash), StoreError> {
        self.backend.snapshot(|sql| {
            let (size, _) = head_of(sql)?;
            Ok((size, merkle::root(&StoredTree { sql }, size)?))
        })
    }

    fn inclusion_proof(&self, seq: u64, size: u64) -> Result<Vec<Hash>, StoreError> {
        self.check_tree_size(size)?;
        if seq == 0 || seq > size {
            return Err(StoreError::OutOfRange(format!(
                "entry {seq} is not in a tree of {size} entries"
            )));
        }
        merkle::inclusion_proof(&StoredTree { sql: self.sql() }, seq - 1, size)
    }

    fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, StoreError> {
        self.check_tree_size(new_size)?;
        if old_size > new_size {
            return Err(StoreError::OutOfRange(format!(
                "a tree of {old_size} entries cannot be a prefix of one of {new_size}"
            )));
        }
        merkle::consistency_proof(&StoredTree { sql: self.sql() }, old_size, new_size)
    }

    fn victims(&self) -> Result<Vec<RecordId>, StoreError> {
        apply::ids(
            self.sql(),
            "SELECT DISTINCT victim FROM act ORDER BY victim",
            &[],
        )
    }

    fn link_decisions(&self) -> Result<LinkDecisions, StoreError> {
        let pairs = |table: &str| -> Result<Vec<(RecordId, RecordId)>, StoreError> {
            self.sql()
                .rows(&format!("SELECT a, b FROM {table} ORDER BY a, b"), &[])?
                .into_iter()
                .map(|mut row| Ok((RecordId::new(row.text(0)?), RecordId::new(row.text(1)?))))
                .collect()
        };
        Ok(LinkDecisions {
            same: pairs("same_person")?,
            different: pairs("different_person")?,
        })
    }

    fn check(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<CheckReport, StoreError> {
        self.backend.check(progress)
    }
}

impl Database {
    /// Copies every row of this database, as one consistent snapshot, into
    /// `target`, a new and empty database, one of the two embedded: a
    /// PostgreSQL database becomes a file that backs it up and verifies as
    /// any other, and such a file becomes a PostgreSQL database again. The
    /// embedded side's tables say what is copied, column by column by name.
    pub fn copy_into(&self, target: &Database) -> Result<(), StoreError> {
        let embedded = match (&self.backend, &target.backend) {
            (_, Engine::Sqlite(_)) => target.backend.sql(),
            (Engine::Sqlite(_), _) => self.backend.sql(),
            _ => {
                return Err(StoreError::Invalid(girok_model::Invalid::field(
                    None,
                    "target",
                    girok_model::Wording::new(
                        "a database is copied to or from an embedded one only",
                        "데이터베이스는 내장 데이터베이스로만, 또는 내장 데이터베이스에서만 복사합니다",
                    ),
                )));
            }
        };
        if target.head()?.0 != 0 {
            return Err(StoreError::Exists {
                path: "the copy's target".into(),
            });
        }
        let tables = table_columns(embedded)?;
        target.backend.write(|to| {
            self.backend.snapshot(|from| copy_rows(from, to, &tables))?;
            match self.keys.at() {
                KeysAt::Apart(store) => keys::copy_apart_keys(store, to),
                KeysAt::Unreachable => Err(StoreError::NoKeyStore),
                KeysAt::Database => Ok(()),
            }
        })
    }
}

/// The tables of an embedded database and their columns, in order.
pub(crate) fn table_columns(sql: &dyn Sql) -> Result<Vec<(String, Vec<String>)>, StoreError> {
    let names: Vec<String> = sql
        .rows(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            &[],
        )?
        .into_iter()
        .map(|mut row| row.text(0))
        .collect::<Result<_, _>>()?;
    names
        .into_iter()
        .map(|name| {
            // Table names come from the database's own schema, never from input.
            let columns = sql
                .rows(&format!("PRAGMA table_info({name})"), &[])?
                .into_iter()
                .map(|mut row| row.text(1))
                .collect::<Result<_, _>>()?;
            Ok((name, columns))
        })
        .collect()
}

/// Copies the rows of `tables` from one connection to another.
pub(crate) fn copy_rows(
    from: &dyn Sql,
    to: &dyn Sql,
    tables: &[(String, Vec<String>)],
) -> Result<(), StoreError> {
    for (table, columns) in tables {
        let list = columns.join(", ");
        let placeholders = (1..=columns.len())
            .map(|n| format!("?{n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let insert = format!("INSERT INTO {table} ({list}) VALUES ({placeholders})");
        from.each(&format!("SELECT {list} FROM {table}"), &[], &mut |row| {
            let values: Vec<Value<'_>> = row.0.iter().map(Value::from).collect();
            to.execute(&insert, &values)
        })?;
    }
    Ok(())
}
