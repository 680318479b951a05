//! The PostgreSQL backend, for teams: several Girok processes on one shared
//! database, each appending to the one hash-chained journal.
//!
//! Every batch runs in a READ COMMITTED transaction that first takes one
//! transaction-scoped advisory lock, so appends are serial across every
//! process and the head a batch reads is the latest committed one (no
//! sequence: sequences leave gaps). The journal, its Merkle nodes and its
//! checkpoints refuse UPDATE, DELETE and TRUNCATE by trigger; only their
//! owner (or a superuser) could disable the triggers, so servers connect as
//! a role given [`Database::grant_to`], which cannot.
//! Text columns sort bytewise (`COLLATE "C"`), as SQLite does, so pages,
//! proofs and `check` see the same order on both backends.
//!
//! Inside a transaction, statements that return nothing are not waited for:
//! they go to the server together with the next query (or the commit), in
//! order, in one round trip. An error in one of them fails that query or the
//! commit, and the whole transaction rolls back, as any failure does.

use std::cell::RefCell;
use std::collections::HashMap;
use std::error::Error;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::BytesMut;
use futures_util::future::{join, join_all};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, Config, NoTls, Statement};

use crate::postgres_tls::Tls;
use crate::schema::{MIGRATIONS, SCHEMA_VERSION};
use crate::sql::{Owned, Row, Sql, Value};
use crate::sql_store::{Backend, Database, Engine, SqlStore};
use crate::{BackendError, CheckReport, StoreError};

/// Marks a database as Girok's and carries its schema version.
const META: &str = r#"
CREATE TABLE girok_meta (
    key   TEXT COLLATE "C" PRIMARY KEY,
    value TEXT COLLATE "C" NOT NULL
);
INSERT INTO girok_meta (key, value) VALUES ('application', 'girok'), ('schema_version', '0');
"#;

/// The journal, its tree and its checkpoints only ever grow: refused for
/// every role whatever privileges it was granted, until the tables' owner
/// disables the triggers (which a role given `grant_to` cannot).
const APPEND_ONLY: &str = r#"
CREATE FUNCTION girok_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'Girok''s % table is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER journal_append_only BEFORE UPDATE OR DELETE ON journal
    FOR EACH ROW EXECUTE FUNCTION girok_refuse_change();
CREATE TRIGGER journal_never_truncated BEFORE TRUNCATE ON journal
    FOR EACH STATEMENT EXECUTE FUNCTION girok_refuse_change();
CREATE TRIGGER merkle_append_only BEFORE UPDATE OR DELETE ON merkle
    FOR EACH ROW EXECUTE FUNCTION girok_refuse_change();
CREATE TRIGGER merkle_never_truncated BEFORE TRUNCATE ON merkle
    FOR EACH STATEMENT EXECUTE FUNCTION girok_refuse_change();
CREATE TRIGGER checkpoint_append_only BEFORE UPDATE OR DELETE ON checkpoint
    FOR EACH ROW EXECUTE FUNCTION girok_refuse_change();
CREATE TRIGGER checkpoint_never_truncated BEFORE TRUNCATE ON checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION girok_refuse_change();
"#;

/// The PostgreSQL backend: one connection to one database, driven by a
/// runtime of its own on the calling thread.
pub struct Postgres {
    runtime: tokio::runtime::Runtime,
    /// Where to connect again when the server has closed the connection.
    config: Config,
    tls: Tls,
    client: RefCell<Arc<Client>>,
    /// Statements prepared on this connection, by their text.
    statements: RefCell<HashMap<String, Statement>>,
}

/// A statement sent and not yet waited for.
type Pending = Pin<Box<dyn Future<Output = Result<u64, tokio_postgres::Error>>>>;

/// Statements a transaction holds back to send with its next query, at most.
const HELD_BACK: usize = 512;

impl From<tokio_postgres::Error> for StoreError {
    fn from(error: tokio_postgres::Error) -> Self {
        match error.code() {
            Some(&SqlState::READ_ONLY_SQL_TRANSACTION) => StoreError::ReadOnlyDatabase,
            // The client shows a server's error as "db error"; say what the server said.
            _ => match error.as_db_error() {
                Some(db) => StoreError::Backend(BackendError(
                    format!("{} (PostgreSQL error {})", db.message(), db.code().code()).into(),
                )),
                None => StoreError::Backend(BackendError(Box::new(error))),
            },
        }
    }
}

/// Where a URL points, for messages: never its password.
fn shown(config: &Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|host| match host {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    format!(
        "PostgreSQL database {} on {host} as {}",
        config.get_dbname().unwrap_or("(default)"),
        config.get_user().unwrap_or("(default user)")
    )
}

pub(crate) fn connect(url: &str) -> Result<(Postgres, String), StoreError> {
    let (url, tls) = crate::postgres_tls::split(url)?;
    let config: Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| StoreError::Connect {
            target: "the PostgreSQL server".into(),
            reason: format!("the connection URL does not parse ({e})"),
        })?;
    let target = shown(&config);
    let failed = |reason: String| StoreError::Connect {
        target: target.clone(),
        reason,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| failed(format!("cannot start the client's runtime ({e})")))?;
    let client = connected(&runtime, &config, &tls).map_err(|e| failed(connection_failure(&e)))?;
    let backend = Postgres {
        runtime,
        config,
        tls,
        client: RefCell::new(Arc::new(client)),
        statements: RefCell::default(),
    };
    Ok((backend, target))
}

/// A new connection, driven by `runtime` whenever the client waits.
fn connected(
    runtime: &tokio::runtime::Runtime,
    config: &Config,
    tls: &Tls,
) -> Result<Client, tokio_postgres::Error> {
    Ok(match tls {
        Tls::Plain => {
            let (client, connection) = runtime.block_on(config.connect(NoTls))?;
            runtime.spawn(connection);
            client
        }
        Tls::Verified(connector) => {
            let (client, connection) = runtime.block_on(config.connect(connector.clone()))?;
            runtime.spawn(connection);
            client
        }
    })
}

/// Why a connection failed, with the reason a TLS handshake gave (the
/// client library shows only "error performing TLS handshake").
fn connection_failure(error: &tokio_postgres::Error) -> String {
    let mut said = error.to_string();
    let mut cause = error.source();
    while let Some(reason) = cause {
        said.push_str(&format!(": {reason}"));
        cause = reason.source();
    }
    said
}

/// What the database at a URL holds.
pub(crate) enum Found {
    Nothing,
    Girok { version: i32 },
    Other,
}

pub(crate) fn found(sql: &dyn Sql) -> Result<Found, StoreError> {
    let marked = sql
        .row("SELECT to_regclass('girok_meta') IS NOT NULL", &[])?
        .map(|mut row| row.boolean(0))
        .transpose()?
        .unwrap_or(false);
    if marked {
        let mut values = HashMap::new();
        for mut row in sql.rows(
            "SELECT key, value FROM girok_meta WHERE key IN ('application', 'schema_version')",
            &[],
        )? {
            values.insert(row.text(0)?, row.text(1)?);
        }
        if values.get("application").map(String::as_str) == Some("girok")
            && let Some(version) = values.get("schema_version").and_then(|v| v.parse().ok())
        {
            return Ok(Found::Girok { version });
        }
        return Ok(Found::Other);
    }
    let tables = sql.number(
        "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()",
        &[],
    )?;
    Ok(if tables == 0 {
        Found::Nothing
    } else {
        Found::Other
    })
}

/// A SQLite migration in PostgreSQL's types: 64-bit integers, bytes, and
/// text that sorts bytewise.
pub(crate) fn in_postgres_types(sqlite: &str) -> String {
    let mut out = String::with_capacity(sqlite.len() + 256);
    for line in sqlite.lines() {
        let (code, comment) = match line.find("--") {
            Some(at) => line.split_at(at),
            None => (line, ""),
        };
        let code = code.replace(" WITHOUT ROWID", "");
        let mut words = Vec::new();
        for word in code.split(' ') {
            // A type may end its column's line with a comma.
            let (name, comma) = match word.strip_suffix(',') {
                Some(name) => (name, ","),
                None => (word, ""),
            };
            let translated = match name {
                "INTEGER" => "BIGINT",
                "BLOB" => "BYTEA",
                "REAL" => "DOUBLE PRECISION",
                "TEXT" => "TEXT COLLATE \"C\"",
                other => other,
            };
            words.push(format!("{translated}{comma}"));
        }
        out.push_str(&words.join(" "));
        out.push_str(comment);
        out.push('\n');
    }
    out
}

/// Brings the schema from `from` to this build's version, inside the
/// transaction `tx` of `backend`.
fn migrate(backend: &Postgres, tx: &InTransaction, from: i32) -> Result<(), StoreError> {
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(from.max(0) as usize) {
        backend.simple(&in_postgres_types(migration))?;
        if index == 0 {
            backend.simple(APPEND_ONLY)?;
        }
        let version = (index as i32 + 1).to_string();
        tx.execute(
            "UPDATE girok_meta SET value = ?1 WHERE key = 'schema_version'",
            &[version.as_str().into()],
        )?;
    }
    Ok(())
}

/// Begins a batch's transaction and takes the advisory lock every batch
/// holds while it appends (its key is "Girk" in ASCII), in one round trip.
/// A writer waits at most two minutes for another's batch, as on SQLite.
const BEGIN_WRITE: &str = "BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL lock_timeout = '120s'; \
                           SELECT pg_advisory_xact_lock(1198092907)";

impl Database {
    /// Makes a Girok database in the empty PostgreSQL database at `url`.
    pub fn create_postgres(url: &str) -> Result<Database, StoreError> {
        let (backend, target) = connect(url)?;
        backend.in_transaction(BEGIN_WRITE, |tx| {
            match found(tx)? {
                Found::Nothing => {}
                Found::Girok { .. } => return Err(StoreError::Exists { path: target }),
                Found::Other => {
                    return Err(StoreError::NotGirok {
                        path: target,
                        reason: "it holds tables of another application".into(),
                    });
                }
            }
            backend.simple(META)?;
            migrate(&backend, tx, 0)
        })?;
        Self::over_backend(backend)
    }

    /// Opens the Girok database at `url`, migrating an older schema.
    pub fn open_postgres(url: &str) -> Result<Database, StoreError> {
        let (backend, target) = connect(url)?;
        let version = match found(&backend)? {
            Found::Girok { version } => version,
            Found::Nothing => return Err(StoreError::Missing { path: target }),
            Found::Other => {
                return Err(StoreError::NotGirok {
                    path: target,
                    reason: "it is a PostgreSQL database that Girok did not create".into(),
                });
            }
        };
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: target,
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version < SCHEMA_VERSION {
            backend.in_transaction(BEGIN_WRITE, |tx| {
                // Another process may have migrated it while this one waited for the lock.
                match found(tx)? {
                    Found::Girok { version } => migrate(&backend, tx, version),
                    _ => Ok(()),
                }
            })?;
        }
        Self::over_backend(backend)
    }

    /// Lets the database role `role` run Girok without owning its tables:
    /// it may append to the journal, its tree and its checkpoints but never
    /// change or remove their rows (nor disable the triggers that refuse it,
    /// which only the owner may), and read and write the state. Run by the
    /// owner that created the database; the servers then connect as `role`.
    pub fn grant_to(&self, role: &str) -> Result<(), StoreError> {
        checked_role(role)?;
        let append_only = ["journal", "merkle", "checkpoint"];
        let mut grants = format!(
            "GRANT USAGE ON SCHEMA public TO {role};\n\
             GRANT SELECT ON girok_meta TO {role};\n\
             GRANT SELECT, INSERT ON {} TO {role};\n",
            append_only.join(", ")
        );
        let mutable: Vec<&str> = girok_state::tables::STATE_TABLES
            .iter()
            .map(|table| table.name)
            .filter(|name| !append_only.contains(name))
            .chain([
                "vault",
                "data_key",
                "link_run",
                "link_proposal",
                "link_proposal_person",
            ])
            .collect();
        grants.push_str(&format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {role};\n",
            mutable.join(", ")
        ));
        let Engine::Postgres(postgres) = &self.backend else {
            return Err(StoreError::NoRoles);
        };
        // Role names are checked above; GRANT takes no parameters.
        postgres.simple(&grants)
    }

    /// How far a read-only replica has come, or `None` for a primary (or SQLite).
    pub fn replication(&self) -> Result<Option<Replication>, StoreError> {
        let Engine::Postgres(postgres) = &self.backend else {
            return Ok(None);
        };
        let sql: &dyn Sql = &**postgres;
        let Some(mut row) = sql.row(
            "SELECT EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8, \
                    pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() \
             WHERE pg_is_in_recovery()",
            &[],
        )?
        else {
            return Ok(None);
        };
        Ok(Some(Replication {
            since_last_replayed: row.opt_real(0)?,
            replayed_all_received: row.boolean(1)?,
        }))
    }

    fn over_backend(backend: Postgres) -> Result<Database, StoreError> {
        SqlStore::over(Engine::Postgres(Box::new(backend)))
    }
}

/// A role name Girok grants to: never one that stands for every role or
/// for whoever runs the grant.
pub(crate) fn checked_role(role: &str) -> Result<(), StoreError> {
    let valid = !role.is_empty()
            && role.len() <= 63
            && role
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !role.starts_with(|c: char| c.is_ascii_digit())
            // Names that stand for every role, or for whoever runs the grant.
            && !["public", "current_user", "current_role", "session_user", "user"].contains(&role)
            && !role.starts_with("pg_");
    if !valid {
        return Err(StoreError::Invalid(girok_model::Invalid::field(
            None,
            "role",
            girok_model::Wording::new(
                format!(
                    "{role:?} is not a role name Girok grants to: use 1 to 63 lower-case letters, digits or _, \
                     starting with a letter"
                ),
                format!(
                    "{role:?}은(는) Girok이 권한을 줄 수 있는 역할 이름이 아닙니다: 글자로 시작하는 \
                     소문자, 숫자, _ 1~63자를 쓰세요"
                ),
            ),
        )));
    }
    Ok(())
}

/// Where a read-only replica stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Replication {
    /// Seconds since the last change it replayed was committed on the
    /// primary (which grows while the primary is idle, too).
    pub since_last_replayed: Option<f64>,
    /// Whether it has replayed everything it received.
    pub replayed_all_received: bool,
}

/// Parameters as the client takes them.
fn as_parameters(parameters: &[Owned]) -> Vec<&(dyn ToSql + Sync)> {
    parameters
        .iter()
        .map(|p| p as &(dyn ToSql + Sync))
        .collect()
}

/// `?1` placeholders as PostgreSQL's `$1`.
fn numbered(sql: &str) -> String {
    sql.replace('?', "$")
}

impl Postgres {
    /// Runs SQL text of one or more statements without parameters
    /// (schema, grants, transaction control), waiting for it.
    pub(crate) fn simple(&self, text: &str) -> Result<(), StoreError> {
        Ok(self.runtime.block_on(self.client().batch_execute(text))?)
    }

    fn client(&self) -> Arc<Client> {
        self.client.borrow().clone()
    }

    /// Runs `attempt`, and once more on a new connection if it failed
    /// because the server had closed this one (it restarted, or an
    /// administrator ended the session). Only for what is safe to repeat:
    /// a read, or the start of a transaction; a transaction whose connection
    /// is lost midway has failed, and says so.
    fn reconnecting<T>(
        &self,
        attempt: impl Fn() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match attempt() {
            Err(_) if self.client.borrow().is_closed() => {
                let client = connected(&self.runtime, &self.config, &self.tls)?;
                *self.client.borrow_mut() = Arc::new(client);
                // Prepared statements belong to the connection that prepared them.
                self.statements.borrow_mut().clear();
                attempt()
            }
            outcome => outcome,
        }
    }

    fn prepared(&self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(statement) = self.statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = self
            .runtime
            .block_on(self.client().prepare(&numbered(sql)))?;
        self.statements
            .borrow_mut()
            .insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    /// A prepared statement and its parameters, kept until it is sent.
    fn statement(
        &self,
        sql: &str,
        parameters: &[Value<'_>],
    ) -> Result<(Statement, Vec<Owned>), StoreError> {
        Ok((
            self.prepared(sql)?,
            parameters.iter().map(Owned::from).collect(),
        ))
    }

    /// Sends `held` (in order) and then `last`, in one round trip, and
    /// waits for all of them; the first failure is the outcome.
    fn after_held<T>(
        &self,
        held: Vec<Pending>,
        last: impl Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, StoreError> {
        let (written, last) = self.runtime.block_on(join(join_all(held), last));
        for outcome in written {
            outcome?;
        }
        Ok(last?)
    }

    /// Sends `held` (in order) and then the query, and waits for all of them.
    fn query_after(
        &self,
        held: Vec<Pending>,
        sql: &str,
        parameters: &[Value<'_>],
    ) -> Result<Vec<Row>, StoreError> {
        let (statement, parameters) = self.statement(sql, parameters)?;
        let client = self.client();
        let rows = self.after_held(held, async move {
            client.query(&statement, &as_parameters(&parameters)).await
        })?;
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|column| row.try_get::<_, Owned>(column).map_err(StoreError::from))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Row)
            })
            .collect()
    }

    /// A statement to send later, with the next query or the commit.
    fn deferred(&self, sql: &str, parameters: &[Value<'_>]) -> Result<Pending, StoreError> {
        let (statement, parameters) = self.statement(sql, parameters)?;
        let client = self.client();
        Ok(Box::pin(async move {
            client
                .execute(&statement, &as_parameters(&parameters))
                .await
        }))
    }

    /// Runs `work` between `begin` and a commit, rolling back if it fails
    /// (or panics) or the commit does.
    pub(crate) fn in_transaction<T, E: From<StoreError>>(
        &self,
        begin: &str,
        work: impl FnOnce(&InTransaction) -> Result<T, E>,
    ) -> Result<T, E> {
        if let Err(error) = self.reconnecting(|| self.simple(begin)) {
            // The statements that begin it may have opened the transaction
            // before one failed (a lock not granted in time).
            let _ = self.simple("ROLLBACK");
            return Err(error.into());
        }
        let tx = InTransaction {
            backend: self,
            held: RefCell::default(),
            open: std::cell::Cell::new(true),
        };
        let value = work(&tx)?;
        tx.commit()?;
        Ok(value)
    }
}

impl Sql for Postgres {
    fn execute(&self, sql: &str, parameters: &[Value<'_>]) -> Result<(), StoreError> {
        let statement = self.deferred(sql, parameters)?;
        self.runtime.block_on(statement)?;
        Ok(())
    }

    fn each(
        &self,
        sql: &str,
        parameters: &[Value<'_>],
        each: &mut dyn FnMut(Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        // Every row is read before the first is handed on, so the handler
        // may run statements of its own on the same connection.
        self.reconnecting(|| self.query_after(Vec::new(), sql, parameters))?
            .into_iter()
            .try_for_each(each)
    }
}

/// One transaction on the connection, as SQL for the store's logic: its
/// statements that return nothing are held back and sent with the next query.
pub(crate) struct InTransaction<'a> {
    backend: &'a Postgres,
    held: RefCell<Vec<Held>>,
    open: std::cell::Cell<bool>,
}

/// A statement held back, with its parameters.
struct Held {
    sql: String,
    parameters: Vec<Owned>,
}

/// Rows one multi-row INSERT carries at most; groups are cut into powers
/// of two below it, so few statement texts are ever prepared.
const ROWS_AT_ONCE: usize = 64;

/// The `INSERT INTO t (…) VALUES` and `(…)` of a plain one-row insert (no
/// conflict clause, no RETURNING), which rows of its kind can share.
fn one_row_insert(sql: &str) -> Option<(&str, &str)> {
    if !sql.starts_with("INSERT INTO ") || !sql.ends_with(')') {
        return None;
    }
    let at = sql.rfind(" VALUES (")?;
    let tuple = &sql[at + " VALUES ".len()..];
    (tuple[1..].find(['(', ')']) == Some(tuple.len() - 2)).then(|| (&sql[..at], tuple))
}

/// `tuple` with each placeholder `?k` moved on by `offset`.
fn renumbered(tuple: &str, offset: usize, out: &mut String) {
    let mut chars = tuple.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '?' {
            let mut number = 0;
            while let Some(digit) = chars.peek().and_then(|d| d.to_digit(10)) {
                number = number * 10 + digit as usize;
                chars.next();
            }
            out.push_str(&(number + offset).to_string());
        }
    }
}

/// The held statements as they are sent: runs of plain inserts between
/// other statements become multi-row inserts, one per table, each table's
/// rows in their order. Inserts into different tables commute (the state
/// tables have no foreign keys or insert triggers); nothing moves past an
/// update, a delete or a query.
fn coalesced(held: Vec<Held>) -> Vec<Held> {
    let mut out = Vec::new();
    let mut run: Vec<(String, Vec<Vec<Owned>>)> = Vec::new();
    let flush = |run: &mut Vec<(String, Vec<Vec<Owned>>)>, out: &mut Vec<Held>| {
        for (sql, rows) in run.drain(..) {
            let Some((head, tuple)) = one_row_insert(&sql) else {
                continue;
            };
            let width = rows.first().map_or(0, Vec::len);
            let mut rows = rows.into_iter().peekable();
            while rows.peek().is_some() {
                let left = rows.len();
                let take = if left >= ROWS_AT_ONCE {
                    ROWS_AT_ONCE
                } else {
                    1 << left.ilog2()
                };
                let mut text = format!("{head} VALUES ");
                let mut parameters = Vec::with_capacity(take * width);
                for (index, row) in rows.by_ref().take(take).enumerate() {
                    if index > 0 {
                        text.push_str(", ");
                    }
                    renumbered(tuple, index * width, &mut text);
                    parameters.extend(row);
                }
                out.push(Held {
                    sql: text,
                    parameters,
                });
            }
        }
    };
    for statement in held {
        if one_row_insert(&statement.sql).is_none() {
            flush(&mut run, &mut out);
            out.push(statement);
            continue;
        }
        match run.iter_mut().find(|(sql, _)| *sql == statement.sql) {
            Some((_, rows)) => rows.push(statement.parameters),
            None => run.push((statement.sql, vec![statement.parameters])),
        }
    }
    flush(&mut run, &mut out);
    out
}

impl InTransaction<'_> {
    /// The held statements, coalesced and ready to send.
    fn take_held(&self) -> Result<Vec<Pending>, StoreError> {
        coalesced(self.held.take())
            .iter()
            .map(|held| {
                let parameters: Vec<Value<'_>> = held.parameters.iter().map(Value::from).collect();
                self.backend.deferred(&held.sql, &parameters)
            })
            .collect()
    }

    fn commit(&self) -> Result<(), StoreError> {
        let client = self.backend.client();
        let held = self.take_held()?;
        self.backend
            .after_held(held, async move { client.batch_execute("COMMIT").await })?;
        self.open.set(false);
        Ok(())
    }
}

impl Drop for InTransaction<'_> {
    fn drop(&mut self) {
        if self.open.get() {
            // Held statements are dropped unsent; a failure to roll back means
            // the connection is gone, and the server ends the transaction itself.
            self.held.take();
            let _ = self.backend.simple("ROLLBACK");
        }
    }
}

impl Sql for InTransaction<'_> {
    fn execute(&self, sql: &str, parameters: &[Value<'_>]) -> Result<(), StoreError> {
        let full = {
            let mut held = self.held.borrow_mut();
            held.push(Held {
                sql: sql.to_string(),
                parameters: parameters.iter().map(Owned::from).collect(),
            });
            held.len() >= HELD_BACK
        };
        if full {
            let held = self.take_held()?;
            self.backend.after_held(held, std::future::ready(Ok(())))?;
        }
        Ok(())
    }

    fn each(
        &self,
        sql: &str,
        parameters: &[Value<'_>],
        each: &mut dyn FnMut(Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let held = self.take_held()?;
        self.backend
            .query_after(held, sql, parameters)?
            .into_iter()
            .try_for_each(each)
    }
}

impl Backend for Postgres {
    fn sql(&self) -> &dyn Sql {
        self
    }

    fn write<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&dyn Sql) -> Result<T, E>,
    ) -> Result<T, E> {
        // READ COMMITTED with the lock taken first: every statement after it
        // sees what the writer before committed. A snapshot isolation level
        // would take its snapshot before the lock is granted and lose appends.
        self.in_transaction(BEGIN_WRITE, |tx| work(tx))
    }

    fn snapshot<T>(
        &self,
        work: impl FnOnce(&dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.in_transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", |tx| {
            work(tx)
        })
    }

    /// PostgreSQL keeps its indexes through a bulk batch: other servers
    /// read the database while it is written.
    fn drop_secondary_indexes(&self, _: &dyn Sql) -> Result<Vec<String>, StoreError> {
        Ok(Vec::new())
    }

    /// PostgreSQL keeps a deleted row in its heap until vacuumed, and in
    /// its write-ahead log, replicas and backups: a data key deleted here
    /// is not gone, so encryption waits for a key store outside it.
    fn destroys_deleted_rows(&self) -> bool {
        false
    }

    fn after_destroying_keys(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Statistics of the tables as they are now: planned with the ones of
    /// an empty table, a page of a grown table is sorted from a full scan
    /// (35 ms instead of 1 ms at 100,000 acts). The batch has committed, so
    /// a failure here (a role that does not own the tables is only warned)
    /// changes nothing written.
    fn after_large_batch(&self) {
        let _ = self.simple("ANALYZE");
    }

    fn check(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<CheckReport, StoreError> {
        self.snapshot(|sql| crate::check::check_in_memory(sql, progress))
    }
}

impl ToSql for Owned {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        Value::from(self).to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        <Value as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

impl ToSql for Value<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match *self {
            Value::Null => Ok(IsNull::Yes),
            Value::Integer(value) => match *ty {
                Type::INT8 => value.to_sql(ty, out),
                Type::INT4 => i32::try_from(value)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(value)?.to_sql(ty, out),
                Type::BOOL => (value != 0).to_sql(ty, out),
                _ => Err(format!("an integer cannot be written as {ty}").into()),
            },
            Value::Real(value) if *ty == Type::FLOAT8 => value.to_sql(ty, out),
            Value::Text(text) if <&str as ToSql>::accepts(ty) => text.to_sql(ty, out),
            Value::Blob(bytes) if *ty == Type::BYTEA => bytes.to_sql(ty, out),
            _ => Err(format!("{self:?} cannot be written as {ty}").into()),
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(
            *ty,
            Type::INT8 | Type::INT4 | Type::INT2 | Type::BOOL | Type::FLOAT8 | Type::BYTEA
        ) || <&str as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Owned {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(match *ty {
            Type::INT8 => Owned::Integer(i64::from_sql(ty, raw)?),
            Type::INT4 => Owned::Integer(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Owned::Integer(i16::from_sql(ty, raw)?.into()),
            Type::BOOL => Owned::Integer(bool::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => Owned::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Owned::Real(f32::from_sql(ty, raw)?.into()),
            Type::BYTEA => Owned::Blob(raw.to_vec()),
            _ => Owned::Text(<&str as FromSql>::from_sql(ty, raw)?.to_string()),
        })
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(Owned::Null)
    }

    fn accepts(ty: &Type) -> bool {
        matches!(
            *ty,
            Type::INT8
                | Type::INT4
                | Type::INT2
                | Type::BOOL
                | Type::FLOAT8
                | Type::FLOAT4
                | Type::BYTEA
        ) || <&str as FromSql>::accepts(ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(sql: &str, values: &[i64]) -> Held {
        Held {
            sql: sql.to_string(),
            parameters: values.iter().map(|v| Owned::Integer(*v)).collect(),
        }
    }

    const RECORD: &str =
        "INSERT INTO record (id, kind, revision, created_seq) VALUES (?1, ?2, 1, ?2)";
    const JOURNAL: &str = "INSERT INTO journal (seq, hash) VALUES (?1, ?2)";

    #[test]
    fn plain_inserts_between_other_statements_share_one_statement_per_table_in_order() {
        let sent = coalesced(vec![
            held(RECORD, &[1, 10]),
            held(JOURNAL, &[1, 100]),
            held(RECORD, &[2, 20]),
            held(JOURNAL, &[2, 200]),
            held("UPDATE record SET revision = ?2 WHERE id = ?1", &[1, 2]),
            held(RECORD, &[3, 30]),
            held(
                "INSERT INTO term (key) VALUES (?1) ON CONFLICT DO NOTHING",
                &[7],
            ),
            held(RECORD, &[4, 40]),
        ]);
        let texts: Vec<&str> = sent.iter().map(|h| h.sql.as_str()).collect();
        assert_eq!(
            texts,
            [
                "INSERT INTO record (id, kind, revision, created_seq) VALUES (?1, ?2, 1, ?2), (?3, ?4, 1, ?4)",
                "INSERT INTO journal (seq, hash) VALUES (?1, ?2), (?3, ?4)",
                "UPDATE record SET revision = ?2 WHERE id = ?1",
                RECORD,
                "INSERT INTO term (key) VALUES (?1) ON CONFLICT DO NOTHING",
                RECORD,
            ]
        );
        let values: Vec<i64> = sent[0]
            .parameters
            .iter()
            .map(|p| match p {
                Owned::Integer(v) => *v,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(values, [1, 10, 2, 20]);
    }

    #[test]
    fn many_rows_go_in_statements_of_a_few_sizes() {
        let sent = coalesced((0..100).map(|n| held(JOURNAL, &[n, n])).collect());
        let rows: Vec<usize> = sent.iter().map(|h| h.parameters.len() / 2).collect();
        assert_eq!(rows, [64, 32, 4]);
        assert!(sent[2].sql.ends_with("(?7, ?8)"), "{}", sent[2].sql);
        assert_eq!(
            one_row_insert("INSERT INTO t (a) VALUES (?1) RETURNING a"),
            None
        );
        assert_eq!(one_row_insert("INSERT INTO t (a) SELECT ?1"), None);
    }
}
