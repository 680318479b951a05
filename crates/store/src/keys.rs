//! Encryption in the store: the vault header and the wrapped data keys,
//! sealing on the write path and opening on the read path.
//!
//! In an encrypted database the identifying fields and free text of
//! persons, sources, events, acts and evidence are sealed before the change
//! is journaled, so neither the journal nor the state tables ever hold them
//! in plaintext. Reading opens them when the store is unlocked; locked,
//! records come back with their envelope and nothing identifying.

use std::sync::Arc;

use crate::StoreError;
use crate::key_store::KeyStore;
use crate::sql::Sql;
use girok_journal::PreparedChange;
use girok_model::{Change, Invalid, Record, RecordId, Secrets, Vocabularies, Wording};
use girok_vault::{DataKey, Header, Vault};

/// Whether identifying data can be sealed and opened.
#[derive(Clone, Debug)]
pub(crate) enum Lock {
    /// Not an encrypted database: records are stored as written.
    Plain,
    /// Encrypted, and no key in memory.
    Locked,
    Unlocked(Arc<Vault>),
}

/// Where a database's wrapped data keys and vault header are.
pub(crate) enum KeyPlace {
    /// In its own tables, which delete securely (SQLite), in the same
    /// transactions as the journal; or nowhere yet (a plain database).
    InDatabase,
    /// In a key store apart (an encrypted PostgreSQL database), named by the
    /// id the database's marker holds; `None` while no store is attached.
    Apart {
        database: String,
        store: Option<KeyStore>,
    },
}

impl KeyPlace {
    pub(crate) fn at(&self) -> KeysAt<'_> {
        match self {
            KeyPlace::InDatabase => KeysAt::Database,
            KeyPlace::Apart {
                store: Some(store), ..
            } => KeysAt::Apart(store),
            KeyPlace::Apart { store: None, .. } => KeysAt::Unreachable,
        }
    }
}

/// The keys' place, borrowed for one operation.
#[derive(Clone, Copy)]
pub(crate) enum KeysAt<'a> {
    Database,
    Apart(&'a KeyStore),
    Unreachable,
}

impl<'a> KeysAt<'a> {
    /// The connection holding the keys, given the database's.
    pub(crate) fn sql(self, database: &'a dyn Sql) -> Result<&'a dyn Sql, StoreError> {
        match self {
            KeysAt::Database => Ok(database),
            KeysAt::Apart(store) => Ok(store.sql()),
            KeysAt::Unreachable => Err(StoreError::NoKeyStore),
        }
    }
}

/// What the database's `vault` row says: the header itself, or that the
/// header and keys are in the key store it names.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ApartMarker {
    keys_apart: String,
}

enum VaultRow {
    Header(Header),
    Apart(String),
}

fn vault_row(sql: &dyn Sql) -> Result<Option<VaultRow>, StoreError> {
    let text = sql
        .row("SELECT header FROM vault WHERE id = 1", &[])?
        .map(|mut row| row.text(0))
        .transpose()?;
    text.map(|text| {
        if let Ok(marker) = serde_json::from_str::<ApartMarker>(&text) {
            return Ok(VaultRow::Apart(marker.keys_apart));
        }
        serde_json::from_str(&text)
            .map(VaultRow::Header)
            .map_err(|e| StoreError::Corrupt(format!("the key header does not parse: {e}")))
    })
    .transpose()
}

/// A header or marker as the `vault` row holds it.
fn json(value: &impl serde::Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The vault header, wherever the keys are.
pub(crate) fn header(sql: &dyn Sql, at: KeysAt<'_>) -> Result<Option<Header>, StoreError> {
    match vault_row(at.sql(sql)?)? {
        Some(VaultRow::Header(header)) => Ok(Some(header)),
        Some(VaultRow::Apart(_)) => Err(StoreError::Corrupt(
            "the key store names another key store".into(),
        )),
        None => Ok(None),
    }
}

pub(crate) fn write_header(sql: &dyn Sql, header: &Header) -> Result<(), StoreError> {
    let text = json(header)?;
    sql.execute(
        "INSERT INTO vault (id, header) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET header = excluded.header",
        &[text.as_str().into()],
    )?;
    Ok(())
}

/// Replaces the header of an encrypted database's keys (rotation).
pub(crate) fn replace_header(keys: &dyn Sql, header: &Header) -> Result<(), StoreError> {
    let text = json(header)?;
    keys.execute(
        "UPDATE vault SET header = ?1 WHERE id = 1",
        &[text.as_str().into()],
    )
}

/// Makes `store` the new home of an empty database's keys: the header in
/// the store with the database's new id, then the database's marker
/// (after checking, under the journal's lock, that it is still empty).
pub(crate) fn keep_apart(
    store: &KeyStore,
    header: &Header,
    database: &str,
) -> Result<(), StoreError> {
    if store.database()?.is_some() {
        return Err(StoreError::Exists {
            path: format!("key store {}", store.path().display()),
        });
    }
    let text = json(header)?;
    store.write(|sql| {
        sql.execute(
            "INSERT INTO vault (id, header, database) VALUES (1, ?1, ?2)",
            &[text.as_str().into(), database.into()],
        )
    })
}

/// The marker a database whose keys are apart holds in its `vault` row.
pub(crate) fn write_marker(sql: &dyn Sql, database: &str) -> Result<(), StoreError> {
    let text = json(&ApartMarker {
        keys_apart: database.to_string(),
    })?;
    sql.execute(
        "INSERT INTO vault (id, header) VALUES (1, ?1)",
        &[text.as_str().into()],
    )?;
    Ok(())
}

/// The lock state a database starts in, and where its keys are.
pub(crate) fn initial_lock(sql: &dyn Sql) -> Result<(Lock, KeyPlace), StoreError> {
    Ok(match vault_row(sql)? {
        None => (Lock::Plain, KeyPlace::InDatabase),
        Some(VaultRow::Header(_)) => (Lock::Locked, KeyPlace::InDatabase),
        Some(VaultRow::Apart(database)) => (
            Lock::Locked,
            KeyPlace::Apart {
                database,
                store: None,
            },
        ),
    })
}

/// Puts the header and data keys of `store` into `copy`, an embedded copy
/// of the database whose marker it took: the copy keeps its keys in its
/// own tables, as every embedded database does (the keys of subjects the
/// copy has forgotten stay out).
pub(crate) fn copy_apart_keys(store: &KeyStore, copy: &dyn Sql) -> Result<(), StoreError> {
    let header = header(store.sql(), KeysAt::Apart(store))?
        .ok_or_else(|| StoreError::Corrupt("the key store has no header".into()))?;
    copy.execute("DELETE FROM vault", &[])?;
    write_header(copy, &header)?;
    for (subject, wrapped) in all_wrapped(store.sql())? {
        if !is_forgotten(copy, &subject)? {
            insert_key(copy, &subject, &wrapped)?;
        }
    }
    Ok(())
}

/// Destroys, in a key store just attached, the keys of subjects the
/// database has forgotten: a server stopped between the forget's commit and
/// the key's destruction left them. Returns how many.
pub(crate) fn sweep_forgotten(sql: &dyn Sql, store: &KeyStore) -> Result<usize, StoreError> {
    let forgotten: Vec<RecordId> = sql
        .rows("SELECT subject FROM forgotten", &[])?
        .into_iter()
        .map(|mut row| row.text(0).map(RecordId::new))
        .collect::<Result<_, _>>()?;
    let mut lingering = Vec::new();
    for subject in forgotten {
        if wrapped_key_in(store.sql(), &subject)?.is_some() {
            lingering.push(subject);
        }
    }
    if !lingering.is_empty() {
        store.destroy(&lingering)?;
    }
    Ok(lingering.len())
}

fn wrapped_key_in(keys: &dyn Sql, subject: &RecordId) -> Result<Option<Vec<u8>>, StoreError> {
    keys.row(
        "SELECT wrapped FROM data_key WHERE subject = ?1",
        &[subject.as_str().into()],
    )?
    .map(|mut row| row.blob(0))
    .transpose()
}

/// A subject's wrapped key. Kept apart, a forgotten subject's key may
/// outlive the forget's commit for a moment: it is never handed out.
fn wrapped_key(
    sql: &dyn Sql,
    at: KeysAt<'_>,
    subject: &RecordId,
) -> Result<Option<Vec<u8>>, StoreError> {
    if matches!(at, KeysAt::Apart(_)) && is_forgotten(sql, subject)? {
        return Ok(None);
    }
    wrapped_key_in(at.sql(sql)?, subject)
}

fn is_forgotten(sql: &dyn Sql, subject: &RecordId) -> Result<bool, StoreError> {
    sql.exists(
        "SELECT 1 FROM forgotten WHERE subject = ?1",
        &[subject.as_str().into()],
    )
}

/// Every wrapped data key, for rotation.
pub(crate) fn all_wrapped(keys: &dyn Sql) -> Result<Vec<(RecordId, Vec<u8>)>, StoreError> {
    keys.rows("SELECT subject, wrapped FROM data_key", &[])?
        .into_iter()
        .map(|mut row| Ok((RecordId::new(row.text(0)?), row.blob(1)?)))
        .collect()
}

pub(crate) fn replace_wrapped(
    keys: &dyn Sql,
    subject: &RecordId,
    wrapped: &[u8],
) -> Result<(), StoreError> {
    keys.execute(
        "UPDATE data_key SET wrapped = ?2 WHERE subject = ?1",
        &[subject.as_str().into(), wrapped.into()],
    )?;
    Ok(())
}

/// Destroys a data key kept in the database. The connection deletes
/// securely (pages are zeroed), and the caller checkpoints the write-ahead
/// log after the commit.
pub(crate) fn destroy(sql: &dyn Sql, subject: &RecordId) -> Result<(), StoreError> {
    sql.execute(
        "DELETE FROM data_key WHERE subject = ?1",
        &[subject.as_str().into()],
    )?;
    Ok(())
}

/// The data key of a subject; with `create`, a new one is made and stored
/// if it has none (never for a forgotten subject). A key kept apart
/// commits there just before the batch that uses it: a batch whose own
/// commit then fails leaves a key no record uses, which the next record of
/// that id takes (its nonces are fresh).
pub(crate) fn data_key_of(
    sql: &dyn Sql,
    at: KeysAt<'_>,
    vault: &Vault,
    subject: &RecordId,
    create: bool,
) -> Result<Option<DataKey>, StoreError> {
    if let Some(wrapped) = wrapped_key(sql, at, subject)? {
        return Ok(Some(vault.unwrap_data_key(subject, &wrapped)?));
    }
    if !create || is_forgotten(sql, subject)? {
        return Ok(None);
    }
    let (_, wrapped) = vault.new_data_key(subject)?;
    let keys = at.sql(sql)?;
    // Another server may make the same subject's key at once (two forms
    // naming one new person): the first key stays and both use it.
    keys.execute(
        "INSERT INTO data_key (subject, wrapped) VALUES (?1, ?2) ON CONFLICT (subject) DO NOTHING",
        &[subject.as_str().into(), wrapped.as_slice().into()],
    )?;
    let kept = wrapped_key_in(keys, subject)?
        .ok_or_else(|| StoreError::Corrupt(format!("the data key of {subject} vanished")))?;
    Ok(Some(vault.unwrap_data_key(subject, &kept)?))
}

/// Seals new records ahead of the write, on another thread (imports): each
/// gets a fresh data key, which travels with the sealed change and is
/// stored in the transaction that journals it.
#[derive(Clone)]
pub struct Presealer {
    vault: Arc<Vault>,
}

/// A change sealed ahead of the write, with the wrapped data key it was sealed under.
pub struct Presealed {
    pub(crate) prepared: PreparedChange,
    pub(crate) key: Option<(RecordId, Vec<u8>)>,
}

impl Presealed {
    /// A change with nothing sealed ahead (the write path still seals it).
    pub fn plain(prepared: PreparedChange) -> Presealed {
        Presealed {
            prepared,
            key: None,
        }
    }

    pub fn change(&self) -> &girok_model::Change {
        self.prepared.change()
    }
}

impl Presealer {
    pub(crate) fn new(lock: &Lock) -> Option<Presealer> {
        match lock {
            Lock::Unlocked(vault) => Some(Presealer {
                vault: vault.clone(),
            }),
            _ => None,
        }
    }

    /// Seals the record a `Create` writes; other changes pass unchanged.
    pub fn seal(
        &self,
        prepared: PreparedChange,
        vocabularies: &Vocabularies,
    ) -> Result<Presealed, StoreError> {
        let Change::Create { record } = prepared.change() else {
            return Ok(Presealed::plain(prepared));
        };
        // An act is sealed under its victim's key, which the write path holds.
        if record.sealed().is_some() || record.key_subject() != record.id() {
            return Ok(Presealed::plain(prepared));
        }
        let Some((mut sealed, secrets)) = plaintext_secrets(record) else {
            return Ok(Presealed::plain(prepared));
        };
        let id = record.id().clone();
        let (key, wrapped) = self.vault.new_data_key(&id)?;
        self.vault.seal_secrets(&mut sealed, secrets, &key)?;
        Ok(Presealed {
            prepared: PreparedChange::new(Change::Create { record: sealed }, vocabularies)?,
            key: Some((id, wrapped)),
        })
    }
}

/// The record without its secrets, and the secrets, when it has any in
/// plaintext to seal.
fn plaintext_secrets(record: &Record) -> Option<(Record, Secrets)> {
    let mut bare = record.clone();
    let secrets = bare.take_secrets()?;
    (secrets != Secrets::default()).then_some((bare, secrets))
}

/// Stores the data key a presealed change was sealed under. Kept apart, a
/// key no record uses (its batch failed) gives way to the new one: the
/// batch holds the journal's lock, so no other can be using it.
pub(crate) fn store_presealed_key(
    sql: &dyn Sql,
    at: KeysAt<'_>,
    subject: &RecordId,
    wrapped: &[u8],
) -> Result<(), StoreError> {
    let taken = || StoreError::Conflict {
        id: subject.clone(),
        message: Wording::new(
            format!("{subject} already has a data key or was forgotten"),
            format!("{subject}에는 이미 데이터 키가 있거나 이미 잊혔습니다"),
        ),
    };
    if is_forgotten(sql, subject)? {
        return Err(taken());
    }
    let keys = at.sql(sql)?;
    if wrapped_key_in(keys, subject)?.is_some() {
        let unused = matches!(at, KeysAt::Apart(_))
            && !sql.exists(
                "SELECT 1 FROM record WHERE id = ?1",
                &[subject.as_str().into()],
            )?;
        if !unused {
            return Err(taken());
        }
        return replace_wrapped(keys, subject, wrapped);
    }
    insert_key(keys, subject, wrapped)
}

fn insert_key(keys: &dyn Sql, subject: &RecordId, wrapped: &[u8]) -> Result<(), StoreError> {
    keys.execute(
        "INSERT INTO data_key (subject, wrapped) VALUES (?1, ?2)",
        &[subject.as_str().into(), wrapped.into()],
    )?;
    Ok(())
}

/// Seals the identifying fields of a record a change writes. Returns the
/// change unchanged when there is nothing to seal.
pub(crate) fn seal(
    sql: &dyn Sql,
    at: KeysAt<'_>,
    lock: &Lock,
    vocabularies: &Vocabularies,
    prepared: PreparedChange,
) -> Result<PreparedChange, StoreError> {
    let (Change::Create { record } | Change::Update { record, .. }) = prepared.change() else {
        return Ok(prepared);
    };
    if !record.has_secrets() {
        return Ok(prepared);
    }
    let id = record.id().clone();
    let taken = plaintext_secrets(record);
    let plaintext = taken.is_some();
    let vault = match lock {
        Lock::Plain if record.sealed().is_some() => {
            return Err(Invalid::field(
                Some(&id),
                "sealed",
                Wording::new(
                    "this database is not encrypted; a record cannot carry sealed data",
                    "이 데이터베이스는 암호화되어 있지 않아 기록에 봉인된 자료를 담을 수 없습니다",
                ),
            )
            .into());
        }
        Lock::Plain => return Ok(prepared),
        // Nothing identifying to seal (an envelope written earlier is kept as it is).
        _ if !plaintext => return Ok(prepared),
        _ if record.sealed().is_some() => {
            return Err(Invalid::field(
                Some(&id),
                "sealed",
                Wording::new(
                    "this record's identifying data and free text are sealed and were read while the database was locked; \
                     read it again unlocked to change them",
                    "이 기록의 신원 정보와 자유 기술은 봉인되어 있고 데이터베이스가 잠긴 동안 읽혔습니다; \
                     바꾸려면 잠금을 푼 뒤 다시 읽으세요",
                ),
            )
            .into());
        }
        Lock::Locked => return Err(StoreError::Locked),
        Lock::Unlocked(vault) => vault,
    };
    let subject = record.key_subject().clone();
    if is_forgotten(sql, &subject)? {
        let message = if subject == id {
            Wording::new(
                format!(
                    "{id} was forgotten: its identifying data cannot be written again; record a new person or source"
                ),
                format!(
                    "{id}은(는) 잊혔습니다: 그 신원 정보는 다시 쓸 수 없습니다; 새 인물이나 출처로 기록하세요"
                ),
            )
        } else {
            Wording::new(
                format!(
                    "{subject} was forgotten: nothing can be written again about them; record a new person"
                ),
                format!(
                    "{subject}은(는) 잊혔습니다: 그에 대해서는 아무것도 다시 쓸 수 없습니다; 새 인물로 기록하세요"
                ),
            )
        };
        return Err(Invalid::field(Some(&id), "sealed", message).into());
    }
    let key = data_key_of(sql, at, vault, &subject, true)?
        .ok_or_else(|| StoreError::Corrupt(format!("no data key for {subject}")))?;
    let Some((mut sealed, secrets)) = taken else {
        return Ok(prepared);
    };
    vault.seal_secrets(&mut sealed, secrets, &key)?;
    let change = match prepared.change() {
        Change::Update { base_revision, .. } => Change::Update {
            record: sealed,
            base_revision: *base_revision,
        },
        _ => Change::Create { record: sealed },
    };
    Ok(PreparedChange::new(change, vocabularies)?)
}

/// Opens a sealed record when the store is unlocked and its key exists;
/// otherwise returns it sealed.
pub(crate) fn reveal(
    sql: &dyn Sql,
    at: KeysAt<'_>,
    lock: &Lock,
    mut record: Record,
) -> Result<Record, StoreError> {
    let Lock::Unlocked(vault) = lock else {
        return Ok(record);
    };
    let Some(sealed) = record.sealed() else {
        return Ok(record);
    };
    let subject = sealed.under.clone().unwrap_or_else(|| record.id().clone());
    if let Some(key) = data_key_of(sql, at, vault, &subject, false)? {
        girok_vault::open(&mut record, &key)?;
    }
    Ok(record)
}
