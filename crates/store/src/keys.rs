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
use crate::sql::Sql;
use girok_journal::PreparedChange;
use girok_model::{Change, Invalid, Record, RecordId, Secrets, Vocabularies};
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

pub(crate) fn header(sql: &dyn Sql) -> Result<Option<Header>, StoreError> {
    let text = sql
        .row("SELECT header FROM vault WHERE id = 1", &[])?
        .map(|mut row| row.text(0))
        .transpose()?;
    text.map(|text| {
        serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("the key header does not parse: {e}")))
    })
    .transpose()
}

pub(crate) fn write_header(sql: &dyn Sql, header: &Header) -> Result<(), StoreError> {
    let text = serde_json::to_string(header).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sql.execute(
        "INSERT INTO vault (id, header) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET header = excluded.header",
        &[text.as_str().into()],
    )?;
    Ok(())
}

/// The lock state a database starts in.
pub(crate) fn initial_lock(sql: &dyn Sql) -> Result<Lock, StoreError> {
    Ok(if header(sql)?.is_some() {
        Lock::Locked
    } else {
        Lock::Plain
    })
}

fn wrapped_key(sql: &dyn Sql, subject: &RecordId) -> Result<Option<Vec<u8>>, StoreError> {
    sql.row(
        "SELECT wrapped FROM data_key WHERE subject = ?1",
        &[subject.as_str().into()],
    )?
    .map(|mut row| row.blob(0))
    .transpose()
}

fn is_forgotten(sql: &dyn Sql, subject: &RecordId) -> Result<bool, StoreError> {
    sql.exists(
        "SELECT 1 FROM forgotten WHERE subject = ?1",
        &[subject.as_str().into()],
    )
}

/// Every wrapped data key, for rotation.
pub(crate) fn all_wrapped(sql: &dyn Sql) -> Result<Vec<(RecordId, Vec<u8>)>, StoreError> {
    sql.rows("SELECT subject, wrapped FROM data_key", &[])?
        .into_iter()
        .map(|mut row| Ok((RecordId::new(row.text(0)?), row.blob(1)?)))
        .collect()
}

pub(crate) fn replace_wrapped(
    sql: &dyn Sql,
    subject: &RecordId,
    wrapped: &[u8],
) -> Result<(), StoreError> {
    sql.execute(
        "UPDATE data_key SET wrapped = ?2 WHERE subject = ?1",
        &[subject.as_str().into(), wrapped.into()],
    )?;
    Ok(())
}

/// Destroys a data key. The connection deletes securely (pages are zeroed),
/// and the caller checkpoints the write-ahead log after the commit.
pub(crate) fn destroy(sql: &dyn Sql, subject: &RecordId) -> Result<(), StoreError> {
    sql.execute(
        "DELETE FROM data_key WHERE subject = ?1",
        &[subject.as_str().into()],
    )?;
    Ok(())
}

/// The data key of a subject; with `create`, a new one is made and stored
/// if it has none (never for a forgotten subject).
pub(crate) fn data_key_of(
    sql: &dyn Sql,
    vault: &Vault,
    subject: &RecordId,
    create: bool,
) -> Result<Option<DataKey>, StoreError> {
    if let Some(wrapped) = wrapped_key(sql, subject)? {
        return Ok(Some(vault.unwrap_data_key(subject, &wrapped)?));
    }
    if !create || is_forgotten(sql, subject)? {
        return Ok(None);
    }
    let (key, wrapped) = vault.new_data_key(subject)?;
    insert_key(sql, subject, &wrapped)?;
    Ok(Some(key))
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

/// Stores the data key a presealed change was sealed under.
pub(crate) fn store_presealed_key(
    sql: &dyn Sql,
    subject: &RecordId,
    wrapped: &[u8],
) -> Result<(), StoreError> {
    if is_forgotten(sql, subject)? || wrapped_key(sql, subject)?.is_some() {
        return Err(StoreError::Conflict {
            id: subject.clone(),
            message: format!("{subject} already has a data key or was forgotten"),
        });
    }
    insert_key(sql, subject, wrapped)
}

fn insert_key(sql: &dyn Sql, subject: &RecordId, wrapped: &[u8]) -> Result<(), StoreError> {
    sql.execute(
        "INSERT INTO data_key (subject, wrapped) VALUES (?1, ?2)",
        &[subject.as_str().into(), wrapped.into()],
    )?;
    Ok(())
}

/// Seals the identifying fields of a record a change writes. Returns the
/// change unchanged when there is nothing to seal.
pub(crate) fn seal(
    sql: &dyn Sql,
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
                "this database is not encrypted; a record cannot carry sealed data",
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
                "this record's identifying data and free text are sealed and were read while the database was locked; \
                 read it again unlocked to change them",
            )
            .into());
        }
        Lock::Locked => return Err(StoreError::Locked),
        Lock::Unlocked(vault) => vault,
    };
    let subject = record.key_subject().clone();
    if is_forgotten(sql, &subject)? {
        let message = if subject == id {
            format!(
                "{id} was forgotten: its identifying data cannot be written again; record a new person or source"
            )
        } else {
            format!(
                "{subject} was forgotten: nothing can be written again about them; record a new person"
            )
        };
        return Err(Invalid::field(Some(&id), "sealed", message).into());
    }
    let key = data_key_of(sql, vault, &subject, true)?
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
pub(crate) fn reveal(sql: &dyn Sql, lock: &Lock, mut record: Record) -> Result<Record, StoreError> {
    let Lock::Unlocked(vault) = lock else {
        return Ok(record);
    };
    let Some(sealed) = record.sealed() else {
        return Ok(record);
    };
    let subject = sealed.under.clone().unwrap_or_else(|| record.id().clone());
    if let Some(key) = data_key_of(sql, vault, &subject, false)? {
        girok_vault::open(&mut record, &key)?;
    }
    Ok(record)
}
