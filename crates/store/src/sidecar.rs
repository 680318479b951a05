//! The databases a data directory keeps beside the journal: users and
//! sessions, the audit log. Embedded, each is a SQLite file of its own
//! (readable only by its owner), so a sign-in never waits on the journal's
//! writer. On a PostgreSQL installation their tables live in the shared
//! database, so every server process sees the same users, sessions, sign-in
//! limits and audit trail at once. Their owners write their SQL once, in
//! the subset both dialects share, over [`Sql`].

use std::path::PathBuf;
use std::time::Duration;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::StoreError;
use crate::postgres::{Found, Postgres, checked_role, connect, found, in_postgres_types};
use crate::sql::Sql;

/// Where a sidecar database is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// An embedded database file.
    File(PathBuf),
    /// The shared PostgreSQL database of a team's installation (its URL).
    Postgres(String),
}

/// A step of a schema's history, bringing it one version further.
pub type Step = fn(&dyn Sql) -> Result<(), StoreError>;

/// A sidecar's tables and how they came to be.
pub struct Schema {
    /// What the tables are for ("access", "audit"): names its version and its lock.
    pub name: &'static str,
    /// Every step from nothing, in SQLite's dialect: an embedded database
    /// made by an earlier version opens by running the steps it lacks.
    pub steps: &'static [Step],
    /// The tables as they are after `postgres_version` steps, made at once
    /// in a new PostgreSQL database (types in SQLite's words, translated).
    /// Steps after it run on both and are written in the dialect they share.
    pub postgres: &'static str,
    pub postgres_version: usize,
    /// Tables whose rows are only ever added: on PostgreSQL, a trigger
    /// refuses to change or remove them, and a role is granted no more.
    pub append_only: &'static [&'static str],
    /// Tables a server changes freely.
    pub mutable: &'static [&'static str],
}

/// One sidecar database, open.
pub struct Sidecar {
    engine: Engine,
    /// Where it is, for messages: never a password.
    shown: String,
    schema: &'static Schema,
}

enum Engine {
    Sqlite(Connection),
    Postgres(Box<Postgres>),
}

/// How long a writer waits for another's transaction.
const LOCK_WAIT: Duration = Duration::from_secs(30);

impl Sidecar {
    /// Opens (creating if needed) the sidecar at `place`, bringing its
    /// schema to this version's in one transaction that other processes
    /// opening it wait for.
    pub fn open(place: &Place, schema: &'static Schema) -> Result<Sidecar, StoreError> {
        let sidecar = match place {
            Place::File(path) => {
                let conn = Connection::open(path)?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                        .map_err(|source| StoreError::Io {
                            context: format!("cannot restrict access to {}", path.display()),
                            source,
                        })?;
                }
                conn.busy_timeout(LOCK_WAIT)?;
                crate::sqlite::keep_prepared(&conn)?;
                conn.pragma_update(None, "journal_mode", "WAL")?;
                conn.pragma_update(None, "foreign_keys", "ON")?;
                // Deleted rows (ended sessions, destroyed keys) are zeroed, not left in free pages.
                conn.pragma_update(None, "secure_delete", "ON")?;
                Sidecar {
                    engine: Engine::Sqlite(conn),
                    shown: path.display().to_string(),
                    schema,
                }
            }
            Place::Postgres(url) => {
                let (backend, shown) = connect(url)?;
                match found(&backend)? {
                    Found::Girok { .. } => {}
                    Found::Nothing => return Err(StoreError::Missing { path: shown }),
                    Found::Other => {
                        return Err(StoreError::NotGirok {
                            path: shown,
                            reason: "it is a PostgreSQL database that Girok did not create".into(),
                        });
                    }
                }
                Sidecar {
                    engine: Engine::Postgres(Box::new(backend)),
                    shown,
                    schema,
                }
            }
        };
        sidecar.migrate()?;
        Ok(sidecar)
    }

    /// Statements outside a transaction, each committed on its own.
    pub fn sql(&self) -> &dyn Sql {
        match &self.engine {
            Engine::Sqlite(conn) => conn,
            Engine::Postgres(backend) => &**backend,
        }
    }

    /// Runs `work` in a transaction that holds this sidecar's write lock
    /// from its first statement, so writers in every process take turns and
    /// each reads what the one before it committed.
    pub fn write<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&dyn Sql) -> Result<T, E>,
    ) -> Result<T, E> {
        match &self.engine {
            Engine::Sqlite(conn) => {
                let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
                    .map_err(StoreError::from)?;
                let value = work(&*tx)?;
                tx.commit().map_err(StoreError::from)?;
                Ok(value)
            }
            Engine::Postgres(backend) => {
                // The journal's lock key with this sidecar's number: the
                // two-key advisory locks are a key space of their own.
                let begin = format!(
                    "BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL lock_timeout = '{}s'; \
                     SELECT pg_advisory_xact_lock(1198092907, {})",
                    LOCK_WAIT.as_secs(),
                    lock_number(self.schema.name)
                );
                backend.in_transaction(&begin, |tx| work(tx))
            }
        }
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let schema = self.schema;
        let known = schema.steps.len() as i64;
        self.write(|sql| {
            let found = self.version(sql)?;
            if found > known {
                return Err(StoreError::TooNew {
                    path: format!("{} ({} tables)", self.shown, schema.name),
                    found: found as i32,
                    supported: known as i32,
                });
            }
            let from = match &self.engine {
                Engine::Postgres(_) if found == 0 => {
                    run_script(sql, &in_postgres_types(schema.postgres))?;
                    for table in schema.append_only {
                        run_script(sql, &append_only(table))?;
                    }
                    schema.postgres_version
                }
                _ => found as usize,
            };
            for step in &schema.steps[from.min(schema.steps.len())..] {
                step(sql)?;
            }
            if found != known {
                self.set_version(sql, known)?;
            }
            Ok(())
        })
    }

    fn version_key(&self) -> String {
        format!("{}_schema_version", self.schema.name)
    }

    fn version(&self, sql: &dyn Sql) -> Result<i64, StoreError> {
        let row = match &self.engine {
            Engine::Sqlite(_) => sql.row("PRAGMA user_version", &[])?,
            Engine::Postgres(_) => sql.row(
                "SELECT CAST(value AS BIGINT) FROM girok_meta WHERE key = ?1",
                &[self.version_key().as_str().into()],
            )?,
        };
        row.map_or(Ok(0), |mut row| row.integer(0))
    }

    fn set_version(&self, sql: &dyn Sql, version: i64) -> Result<(), StoreError> {
        match &self.engine {
            // A pragma takes no parameters; the version is a number of ours.
            Engine::Sqlite(_) => sql.execute(&format!("PRAGMA user_version = {version}"), &[]),
            Engine::Postgres(_) => sql.execute(
                "INSERT INTO girok_meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[
                    self.version_key().as_str().into(),
                    version.to_string().as_str().into(),
                ],
            ),
        }
    }

    /// Lets the PostgreSQL role `role` use these tables as a server does:
    /// add to the append-only ones, change the others (see
    /// [`crate::Database::grant_to`], which grants the journal's).
    pub fn grant_to(&self, role: &str) -> Result<(), StoreError> {
        let Engine::Postgres(backend) = &self.engine else {
            return Err(StoreError::NoRoles);
        };
        checked_role(role)?;
        let schema = self.schema;
        let mut grants = String::new();
        if !schema.append_only.is_empty() {
            grants.push_str(&format!(
                "GRANT SELECT, INSERT ON {} TO {role};\n",
                schema.append_only.join(", ")
            ));
        }
        if !schema.mutable.is_empty() {
            grants.push_str(&format!(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {role};\n",
                schema.mutable.join(", ")
            ));
        }
        // Role names are checked above; GRANT takes no parameters.
        backend.simple(&grants)
    }

    /// Copies every row of these tables into `target`, the same tables (by
    /// name, column by column) and empty, one of the two an embedded file:
    /// a backup of a shared database's sidecar, or its restore. Writers
    /// wait meanwhile.
    pub fn copy_into(&self, target: &Sidecar) -> Result<(), StoreError> {
        let embedded = match (&self.engine, &target.engine) {
            (_, Engine::Sqlite(_)) => target.sql(),
            (Engine::Sqlite(_), _) => self.sql(),
            _ => {
                return Err(StoreError::Invalid(girok_model::Invalid::field(
                    None,
                    "target",
                    girok_model::Wording::new(
                        "tables are copied to or from an embedded file only",
                        "표는 내장 파일로만, 또는 내장 파일에서만 복사합니다",
                    ),
                )));
            }
        };
        let tables = crate::sql_store::table_columns(embedded)?;
        target.write(|to| self.write(|from| crate::sql_store::copy_rows(from, to, &tables)))
    }

    /// Empties an embedded file's write-ahead log into the file, where its
    /// deleted pages are zeroed; PostgreSQL's log is not Girok's to empty.
    pub(crate) fn empty_log(&self) -> Result<(), StoreError> {
        if let Engine::Sqlite(conn) = &self.engine {
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        Ok(())
    }

    /// Whether the tables are in the shared PostgreSQL database.
    pub fn is_shared(&self) -> bool {
        matches!(self.engine, Engine::Postgres(_))
    }
}

/// A sidecar's number among the advisory locks: stable across processes
/// and builds, as every server sharing a database must take the same one.
fn lock_number(name: &str) -> i32 {
    name.bytes().fold(0i32, |hash, byte| {
        hash.wrapping_mul(31).wrapping_add(byte.into())
    })
}

/// Runs a script of statements separated by `;` (schemas of ours: no `;`
/// inside a string or a comment).
pub fn run_script(sql: &dyn Sql, script: &str) -> Result<(), StoreError> {
    let code: String = script
        .lines()
        .map(|line| line.find("--").map_or(line, |at| &line[..at]))
        .collect::<Vec<_>>()
        .join("\n");
    for statement in code.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        sql.execute(statement, &[])?;
    }
    Ok(())
}

/// The triggers that refuse to change, remove or empty a table's rows
/// (the function is the journal's, made with the database).
fn append_only(table: &str) -> String {
    format!(
        "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} \
             FOR EACH ROW EXECUTE FUNCTION girok_refuse_change();
         CREATE TRIGGER {table}_never_truncated BEFORE TRUNCATE ON {table} \
             FOR EACH STATEMENT EXECUTE FUNCTION girok_refuse_change();"
    )
}
