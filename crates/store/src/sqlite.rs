//! The embedded SQLite backend: one database file, written through one
//! connection per store, with a write-ahead log and a sync at every commit.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::schema::{APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION};
use crate::sql::Sql;
use crate::sql_store::{Backend, Database, Engine, SqlStore};
use crate::{CheckReport, StoreError};

/// How long a writer waits for another writer's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(120);

/// How an existing database is opened. A connection is used by one thread at
/// a time, so SQLite's own mutexes only cost.
const OPEN_EXISTING: OpenFlags =
    OpenFlags::SQLITE_OPEN_READ_WRITE.union(OpenFlags::SQLITE_OPEN_NO_MUTEX);

/// The SQLite backend: a connection to one database file.
pub struct Sqlite {
    conn: Connection,
}

/// How durable each commit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// WAL with a sync at every commit: survives a kill and a power cut.
    Full,
    /// No rollback journal, no syncs: for throwaway replay targets only.
    Scratch,
}

impl Backend for Sqlite {
    fn sql(&self) -> &dyn Sql {
        &self.conn
    }

    fn write<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&dyn Sql) -> Result<T, E>,
    ) -> Result<T, E> {
        // IMMEDIATE takes the write lock now, so the head the work reads cannot go stale.
        // The connection is this store's alone, so no other transaction is open on it.
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let value = work(&*tx)?;
        tx.commit().map_err(StoreError::from)?;
        Ok(value)
    }

    fn snapshot<T>(
        &self,
        work: impl FnOnce(&dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let snapshot = self.conn.unchecked_transaction()?;
        let value = work(&*snapshot)?;
        snapshot.commit()?;
        Ok(value)
    }

    fn drop_secondary_indexes(&self, sql: &dyn Sql) -> Result<Vec<String>, StoreError> {
        drop_secondary_indexes(sql)
    }

    /// Secure delete zeroes a deleted key's page; the log is reset after.
    fn destroys_deleted_rows(&self) -> bool {
        true
    }

    /// SQLite's planner walks the id index for a page without statistics.
    fn after_large_batch(&self) {}

    fn after_destroying_keys(&self) -> Result<(), StoreError> {
        // The deleted key's page may linger in the write-ahead log until it is reset.
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    fn check(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<CheckReport, StoreError> {
        crate::check::check(&self.conn, progress)
    }
}

impl Database {
    /// Creates a new, empty Girok database at `path`.
    pub fn create(path: &Path) -> Result<Database, StoreError> {
        Self::create_with(path, Durability::Full)
    }

    pub(crate) fn create_with(path: &Path, durability: Durability) -> Result<Database, StoreError> {
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
        Self::create_on(Connection::open(path)?, durability)
    }

    /// Creates a new, empty Girok database named `name` in the registered
    /// SQLite VFS `vfs` rather than on the file system: crash tests put it on
    /// one that fails and tears writes.
    pub fn create_in_vfs(name: &str, vfs: &str) -> Result<Database, StoreError> {
        let conn = Connection::open_with_flags_and_vfs(name, OpenFlags::default(), vfs)?;
        Self::create_on(conn, Durability::Full)
    }

    fn create_on(mut conn: Connection, durability: Durability) -> Result<Database, StoreError> {
        configure(&conn, durability)?;
        let tx = conn.transaction()?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        migrate(&tx, 0)?;
        if durability == Durability::Scratch {
            // A replay target is written once and compared row by row; only
            // primary keys (which the write path's lookups use) are worth keeping.
            drop_secondary_indexes(&*tx)?;
        }
        tx.commit()?;
        SqlStore::over(Engine::Sqlite(Sqlite { conn }))
    }

    /// Opens an existing Girok database, migrating an older schema.
    pub fn open(path: &Path) -> Result<Database, StoreError> {
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
    fn open_read_only(path: &Path) -> Result<Database, StoreError> {
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
    pub fn open_in_vfs(name: &str, vfs: &str) -> Result<Database, StoreError> {
        let conn = Connection::open_with_flags_and_vfs(name, OPEN_EXISTING, vfs)?;
        Self::open_on(conn, Path::new(name))
    }

    fn open_on(mut conn: Connection, path: &Path) -> Result<Database, StoreError> {
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
            keep_prepared(&conn)?;
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
        SqlStore::over(Engine::Sqlite(Sqlite { conn }))
    }
}

/// Drops every secondary index and returns the statements that recreate them.
fn drop_secondary_indexes(sql: &dyn Sql) -> Result<Vec<String>, StoreError> {
    let indexes = sql.rows(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
        &[],
    )?;
    let mut create = Vec::new();
    for mut index in indexes {
        sql.execute(&format!("DROP INDEX \"{}\"", index.text(0)?), &[])?;
        create.push(index.text(1)?);
    }
    Ok(create)
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

/// Statements a connection keeps prepared: a page runs a few dozen, and
/// rusqlite's default of 16 had each evict another and be parsed again.
const PREPARED_STATEMENTS: usize = 256;

/// Keeps a connection's statements prepared once: a cache large enough for a
/// page's statements, and plans that never depend on the values bound. Without
/// the second, SQLite parses a statement again whenever a new value is bound to
/// a `LIMIT ?` or to a column with a partial index (most of ours): a third of a
/// case file's time went to parsing SQL it had already parsed.
pub(crate) fn keep_prepared(conn: &Connection) -> Result<(), StoreError> {
    conn.set_prepared_statement_cache_capacity(PREPARED_STATEMENTS);
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

fn configure(conn: &Connection, durability: Durability) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    keep_prepared(conn)?;
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

fn migrate(tx: &Transaction, from: i32) -> Result<(), StoreError> {
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(from.max(0) as usize) {
        tx.execute_batch(migration)?;
        tx.pragma_update(None, "user_version", index as i32 + 1)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::StatementStatus;

    use super::*;

    /// A query by reference, as every record page runs dozens of: bound again
    /// and again, it is never parsed again, and it still uses its partial index.
    #[test]
    fn statements_are_parsed_once_whatever_values_are_bound() {
        let mut conn = Connection::open_in_memory().expect("open");
        keep_prepared(&conn).expect("configure");
        let tx = conn.transaction().expect("transaction");
        migrate(&tx, 0).expect("schema");
        tx.commit().expect("commit");
        let query = "SELECT id FROM source WHERE witness = ?1 ORDER BY id LIMIT ?2";
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {query}"))
            .expect("explain")
            .query_map(["w1", "10"], |row| row.get(3))
            .expect("plan")
            .collect::<Result<_, _>>()
            .expect("plan rows");
        assert!(
            plan.iter().any(|step| step.contains("source_witness")),
            "{plan:?}"
        );
        for (witness, limit) in [("w1", 1000), ("w2", 1), ("w3", 0), ("w4", 1000)] {
            let mut statement = conn.prepare_cached(query).expect("prepare");
            let found: Vec<String> = statement
                .query_map(rusqlite::params![witness, limit], |row| row.get(0))
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("rows");
            assert!(found.is_empty());
            assert_eq!(statement.get_status(StatementStatus::RePrepare), 0);
        }
    }
}
