//! The PostgreSQL backend, for teams: several Girok processes on one shared
//! database, each appending to the one hash-chained journal.
//!
//! Every batch runs in a READ COMMITTED transaction that first takes one
//! transaction-scoped advisory lock, so appends are serial across every
//! process and the head a batch reads is the latest committed one (no
//! sequence: sequences leave gaps). The journal, its Merkle nodes and its
//! checkpoints refuse UPDATE, DELETE and TRUNCATE by trigger, for every role.
//! Text columns sort bytewise (`COLLATE "C"`), as SQLite does, so pages,
//! proofs and `check` see the same order on both backends.

use std::cell::RefCell;
use std::collections::HashMap;
use std::error::Error;

use bytes::BytesMut;
use postgres::error::SqlState;
use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, Config, GenericClient, IsolationLevel, NoTls, Statement};

use crate::schema::{MIGRATIONS, SCHEMA_VERSION};
use crate::sql::{Owned, Row, Sql, Value};
use crate::sql_store::{Backend, Database, Engine, SqlStore};
use crate::{BackendError, CheckReport, StoreError};

/// The advisory lock every batch holds while it appends: "Girk" in ASCII.
const APPEND_LOCK: i64 = 0x4769_726b;

/// Marks a database as Girok's and carries its schema version.
const META: &str = r#"
CREATE TABLE girok_meta (
    key   TEXT COLLATE "C" PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO girok_meta (key, value) VALUES ('application', 'girok'), ('schema_version', '0');
"#;

/// The journal, its tree and its checkpoints only ever grow: refused for
/// every role, the owner's included, whatever privileges it was granted.
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

/// The PostgreSQL backend: one connection to one database.
pub struct Postgres {
    client: RefCell<Client>,
    /// Statements prepared on this connection, by their text.
    statements: RefCell<HashMap<String, Statement>>,
}

impl From<postgres::Error> for StoreError {
    fn from(error: postgres::Error) -> Self {
        match error.code() {
            Some(&SqlState::READ_ONLY_SQL_TRANSACTION) => StoreError::ReadOnly,
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
            postgres::config::Host::Tcp(name) => name.clone(),
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    format!(
        "PostgreSQL database {} on {host} as {}",
        config.get_dbname().unwrap_or("(default)"),
        config.get_user().unwrap_or("(default user)")
    )
}

fn connect(url: &str) -> Result<(Client, String), StoreError> {
    let config: Config = url
        .parse()
        .map_err(|e: postgres::Error| StoreError::Connect {
            target: "the PostgreSQL server".into(),
            reason: format!("the connection URL does not parse ({e})"),
        })?;
    let target = shown(&config);
    let client = config.connect(NoTls).map_err(|e| StoreError::Connect {
        target: target.clone(),
        reason: e.to_string(),
    })?;
    Ok((client, target))
}

/// What the database at a URL holds.
enum Found {
    Nothing,
    Girok { version: i32 },
    Other,
}

fn found(client: &mut impl GenericClient) -> Result<Found, StoreError> {
    let marked = client
        .query_one("SELECT to_regclass('girok_meta') IS NOT NULL", &[])?
        .get::<_, bool>(0);
    if marked {
        let rows = client.query(
            "SELECT key, value FROM girok_meta WHERE key IN ('application', 'schema_version')",
            &[],
        )?;
        let value = |key: &str| {
            rows.iter()
                .find(|row| row.get::<_, &str>(0) == key)
                .map(|row| row.get::<_, String>(1))
        };
        if value("application").as_deref() == Some("girok")
            && let Some(version) = value("schema_version").and_then(|v| v.parse().ok())
        {
            return Ok(Found::Girok { version });
        }
        return Ok(Found::Other);
    }
    let tables = client
        .query_one(
            "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()",
            &[],
        )?
        .get::<_, i64>(0);
    Ok(if tables == 0 {
        Found::Nothing
    } else {
        Found::Other
    })
}

/// A SQLite migration in PostgreSQL's types: 64-bit integers, bytes, and
/// text that sorts bytewise.
fn in_postgres_types(sqlite: &str) -> String {
    let mut out = String::with_capacity(sqlite.len() + 256);
    for line in sqlite.lines() {
        let (code, comment) = match line.find("--") {
            Some(at) => line.split_at(at),
            None => (line, ""),
        };
        let code = code.replace(" WITHOUT ROWID", "");
        let mut words = Vec::new();
        for word in code.split(' ') {
            words.push(match word {
                "INTEGER" => "BIGINT",
                "BLOB" => "BYTEA",
                "REAL" => "DOUBLE PRECISION",
                "TEXT" => "TEXT COLLATE \"C\"",
                other => other,
            });
        }
        out.push_str(&words.join(" "));
        out.push_str(comment);
        out.push('\n');
    }
    out
}

/// Brings the schema from `from` to this build's version, in `tx`.
fn migrate(tx: &mut postgres::Transaction<'_>, from: i32) -> Result<(), StoreError> {
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(from.max(0) as usize) {
        tx.batch_execute(&in_postgres_types(migration))?;
        if index == 0 {
            tx.batch_execute(APPEND_ONLY)?;
        }
        tx.execute(
            "UPDATE girok_meta SET value = $1 WHERE key = 'schema_version'",
            &[&(index as i32 + 1).to_string()],
        )?;
    }
    Ok(())
}

impl Database {
    /// Makes a Girok database in the empty PostgreSQL database at `url`.
    pub fn create_postgres(url: &str) -> Result<Database, StoreError> {
        let (mut client, target) = connect(url)?;
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&APPEND_LOCK])?;
        match found(&mut tx)? {
            Found::Nothing => {}
            Found::Girok { .. } => return Err(StoreError::Exists { path: target }),
            Found::Other => {
                return Err(StoreError::NotGirok {
                    path: target,
                    reason: "it holds tables of another application".into(),
                });
            }
        }
        tx.batch_execute(META)?;
        migrate(&mut tx, 0)?;
        tx.commit()?;
        Self::over_client(client)
    }

    /// Opens the Girok database at `url`, migrating an older schema.
    pub fn open_postgres(url: &str) -> Result<Database, StoreError> {
        let (mut client, target) = connect(url)?;
        let version = match found(&mut client)? {
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
            let mut tx = client.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&APPEND_LOCK])?;
            // Another process may have migrated it while this one waited for the lock.
            if let Found::Girok { version } = found(&mut tx)? {
                migrate(&mut tx, version)?;
            }
            tx.commit()?;
        }
        Self::over_client(client)
    }

    /// Lets the database role `role` run Girok without owning its tables:
    /// it may append to the journal, its tree and its checkpoints but never
    /// change or remove their rows (nor disable the triggers that refuse it,
    /// which only the owner may), and read and write the state. Run by the
    /// owner that created the database; the servers then connect as `role`.
    pub fn grant_to(&self, role: &str) -> Result<(), StoreError> {
        let valid = !role.is_empty()
            && role.len() <= 63
            && role
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !role.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            return Err(StoreError::Invalid(girok_model::Invalid::field(
                None,
                "role",
                format!(
                    "{role:?} is not a role name Girok grants to: use 1 to 63 lower-case letters, digits or _, \
                     starting with a letter"
                ),
            )));
        }
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
        postgres.client.borrow_mut().batch_execute(&grants)?;
        Ok(())
    }

    fn over_client(client: Client) -> Result<Database, StoreError> {
        SqlStore::over(Engine::Postgres(Box::new(Postgres {
            client: RefCell::new(client),
            statements: RefCell::default(),
        })))
    }
}

/// `?1` placeholders as PostgreSQL's `$1`.
fn numbered(sql: &str) -> String {
    sql.replace('?', "$")
}

/// Runs a query on `client`, with statements cached on its connection;
/// every row is read before the first is handed on, so the handler may
/// run statements of its own on the same connection.
fn rows_of(
    client: &mut impl GenericClient,
    statements: &RefCell<HashMap<String, Statement>>,
    sql: &str,
    parameters: &[Value<'_>],
) -> Result<Vec<Row>, StoreError> {
    let statement = prepared(client, statements, sql)?;
    let parameters: Vec<&(dyn ToSql + Sync)> = parameters
        .iter()
        .map(|p| p as &(dyn ToSql + Sync))
        .collect();
    let rows = client.query(&statement, &parameters)?;
    rows.iter()
        .map(|row| {
            (0..row.len())
                .map(|column| row.try_get::<_, Owned>(column).map_err(StoreError::from))
                .collect::<Result<Vec<_>, _>>()
                .map(Row)
        })
        .collect()
}

fn prepared(
    client: &mut impl GenericClient,
    statements: &RefCell<HashMap<String, Statement>>,
    sql: &str,
) -> Result<Statement, StoreError> {
    if let Some(statement) = statements.borrow().get(sql) {
        return Ok(statement.clone());
    }
    let statement = client.prepare(&numbered(sql))?;
    statements
        .borrow_mut()
        .insert(sql.to_string(), statement.clone());
    Ok(statement)
}

fn execute_on(
    client: &mut impl GenericClient,
    statements: &RefCell<HashMap<String, Statement>>,
    sql: &str,
    parameters: &[Value<'_>],
) -> Result<u64, StoreError> {
    let statement = prepared(client, statements, sql)?;
    let parameters: Vec<&(dyn ToSql + Sync)> = parameters
        .iter()
        .map(|p| p as &(dyn ToSql + Sync))
        .collect();
    Ok(client.execute(&statement, &parameters)?)
}

impl Sql for Postgres {
    fn execute(&self, sql: &str, parameters: &[Value<'_>]) -> Result<u64, StoreError> {
        execute_on(
            &mut *self.client.borrow_mut(),
            &self.statements,
            sql,
            parameters,
        )
    }

    fn each(
        &self,
        sql: &str,
        parameters: &[Value<'_>],
        each: &mut dyn FnMut(Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let rows = rows_of(
            &mut *self.client.borrow_mut(),
            &self.statements,
            sql,
            parameters,
        )?;
        rows.into_iter().try_for_each(each)
    }
}

/// One transaction on the connection, as SQL for the store's logic.
struct InTransaction<'a> {
    tx: RefCell<postgres::Transaction<'a>>,
    statements: &'a RefCell<HashMap<String, Statement>>,
}

impl Sql for InTransaction<'_> {
    fn execute(&self, sql: &str, parameters: &[Value<'_>]) -> Result<u64, StoreError> {
        execute_on(&mut *self.tx.borrow_mut(), self.statements, sql, parameters)
    }

    fn each(
        &self,
        sql: &str,
        parameters: &[Value<'_>],
        each: &mut dyn FnMut(Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let rows = rows_of(&mut *self.tx.borrow_mut(), self.statements, sql, parameters)?;
        rows.into_iter().try_for_each(each)
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
        let mut client = self.client.borrow_mut();
        // READ COMMITTED with the lock taken first: every statement after it
        // sees what the writer before committed. A snapshot isolation level
        // would take its snapshot before the lock is granted and lose appends.
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::ReadCommitted)
            .start()
            .map_err(StoreError::from)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&APPEND_LOCK])
            .map_err(StoreError::from)?;
        let sql = InTransaction {
            tx: RefCell::new(tx),
            statements: &self.statements,
        };
        // On an error the transaction is dropped, which rolls it back.
        let value = work(&sql)?;
        sql.tx.into_inner().commit().map_err(StoreError::from)?;
        Ok(value)
    }

    fn snapshot<T>(
        &self,
        work: impl FnOnce(&dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut client = self.client.borrow_mut();
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let sql = InTransaction {
            tx: RefCell::new(tx),
            statements: &self.statements,
        };
        let value = work(&sql)?;
        sql.tx.into_inner().commit()?;
        Ok(value)
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

    fn check(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<CheckReport, StoreError> {
        self.snapshot(|sql| crate::check::check_in_memory(sql, progress))
    }
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
