//! The wrapped data keys of an encrypted PostgreSQL database, kept apart
//! from it. PostgreSQL keeps a deleted row in its heap, its write-ahead
//! log, its replicas and its backups, so a key deleted there would not be
//! gone and `forget` would not mean what it says. The keys (and the vault
//! header that unlocks them) live instead in a SQLite file of their own that
//! deletes securely: a destroyed key's page is zeroed and the file's log is
//! emptied after the commit. PostgreSQL holds only sealed records and a
//! marker naming the key store by a random id, so a server pointed at
//! another database's key store is refused. Every server on the host of the
//! file shares it (SQLite locks the file between processes).

use std::path::{Path, PathBuf};

use crate::StoreError;
use crate::sidecar::{Place, Schema, Sidecar};
use crate::sql::Sql;
use girok_model::RecordId;

/// The key store's tables: one header row (naming the database the keys
/// belong to) and the wrapped data keys.
pub static KEY_STORE_SCHEMA: Schema = Schema {
    name: "keys",
    steps: &[|sql| crate::run_script(sql, TABLES)],
    postgres: TABLES,
    postgres_version: 1,
    append_only: &[],
    mutable: &[],
};

const TABLES: &str = "
CREATE TABLE vault (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    header   TEXT NOT NULL,
    database TEXT NOT NULL
);
CREATE TABLE data_key (
    subject TEXT PRIMARY KEY,
    wrapped BLOB NOT NULL
) WITHOUT ROWID;
";

/// An open key store.
pub struct KeyStore {
    sidecar: Sidecar,
    path: PathBuf,
}

impl KeyStore {
    /// Makes a new key store at `path`; an existing file is refused.
    pub fn create(path: &Path) -> Result<KeyStore, StoreError> {
        if path.exists() {
            return Err(StoreError::Exists {
                path: path.display().to_string(),
            });
        }
        Self::open_at(path)
    }

    /// Opens the key store at `path`, which must exist: a missing file is
    /// never replaced by an empty one (every sealed record would stay shut).
    pub fn open(path: &Path) -> Result<KeyStore, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Missing {
                path: format!("key store {}", path.display()),
            });
        }
        Self::open_at(path)
    }

    fn open_at(path: &Path) -> Result<KeyStore, StoreError> {
        Ok(KeyStore {
            sidecar: Sidecar::open(&Place::File(path.to_path_buf()), &KEY_STORE_SCHEMA)?,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn sql(&self) -> &dyn Sql {
        self.sidecar.sql()
    }

    pub(crate) fn write<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&dyn Sql) -> Result<T, E>,
    ) -> Result<T, E> {
        self.sidecar.write(work)
    }

    /// Opens the transaction that a batch's new keys join, committed just
    /// before the batch itself (one sync of the file per batch, not per key);
    /// dropped uncommitted, it rolls back. The batch holds the journal's
    /// lock first, and nothing waits for that lock while holding this one.
    pub(crate) fn begin(&self) -> Result<KeyBatch<'_>, StoreError> {
        self.sql().execute("BEGIN IMMEDIATE", &[])?;
        Ok(KeyBatch {
            store: self,
            open: true,
        })
    }

    /// The id of the database whose keys these are (`None` while new).
    pub(crate) fn database(&self) -> Result<Option<String>, StoreError> {
        self.sql()
            .row("SELECT database FROM vault WHERE id = 1", &[])?
            .map(|mut row| row.text(0))
            .transpose()
    }

    /// Destroys the data keys of `subjects` in one transaction, then empties
    /// the file's write-ahead log, where the deleted rows' pages lingered.
    pub(crate) fn destroy(&self, subjects: &[RecordId]) -> Result<(), StoreError> {
        self.write(|sql| {
            for subject in subjects {
                sql.execute(
                    "DELETE FROM data_key WHERE subject = ?1",
                    &[subject.as_str().into()],
                )?;
            }
            Ok::<_, StoreError>(())
        })?;
        self.sidecar.empty_log()
    }
}

/// The key store's transaction of one batch.
pub(crate) struct KeyBatch<'a> {
    store: &'a KeyStore,
    open: bool,
}

impl KeyBatch<'_> {
    pub(crate) fn commit(mut self) -> Result<(), StoreError> {
        self.open = false;
        self.store.sql().execute("COMMIT", &[])
    }
}

impl Drop for KeyBatch<'_> {
    fn drop(&mut self) {
        if self.open {
            // A failed rollback leaves nothing committed: the connection's
            // next transaction fails and says why.
            let _ = self.store.sql().execute("ROLLBACK", &[]);
        }
    }
}
