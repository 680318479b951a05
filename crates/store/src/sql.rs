//! The small SQL interface the store's logic is written against, once:
//! SQLite and PostgreSQL each implement it, and nothing above it knows
//! which one it talks to.
//!
//! Statements are written in the subset both dialects share, with numbered
//! placeholders `?1`, `?2`, … (PostgreSQL's `$1` is made from them). Values
//! are integers, text and bytes: the state holds nothing else.

use girok_state::tables::Cell;

use crate::StoreError;

/// A parameter of a statement.
#[derive(Debug, Clone, Copy)]
pub enum Value<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl From<f64> for Value<'_> {
    fn from(value: f64) -> Self {
        Value::Real(value)
    }
}

impl From<i64> for Value<'_> {
    fn from(value: i64) -> Self {
        Value::Integer(value)
    }
}

/// Sequence numbers, sizes and limits: "no limit" (`u64::MAX`) becomes the
/// largest signed integer, which both databases take.
impl From<u64> for Value<'_> {
    fn from(value: u64) -> Self {
        Value::Integer(value.min(i64::MAX as u64) as i64)
    }
}

impl From<u32> for Value<'_> {
    fn from(value: u32) -> Self {
        Value::Integer(value.into())
    }
}

impl From<bool> for Value<'_> {
    fn from(value: bool) -> Self {
        Value::Integer(value.into())
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(value: &'a str) -> Self {
        Value::Text(value)
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(value: &'a String) -> Self {
        Value::Text(value)
    }
}

impl<'a> From<&'a [u8]> for Value<'a> {
    fn from(value: &'a [u8]) -> Self {
        Value::Blob(value)
    }
}

impl<'a, T: Into<Value<'a>>> From<Option<T>> for Value<'a> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Value::Null, Into::into)
    }
}

impl<'a> From<&'a Cell<'a>> for Value<'a> {
    fn from(cell: &'a Cell<'a>) -> Self {
        match cell {
            Cell::Null => Value::Null,
            Cell::Integer(value) => Value::Integer(*value),
            Cell::Text(text) => Value::Text(text),
        }
    }
}

impl<'a> From<&'a Owned> for Value<'a> {
    fn from(value: &'a Owned) -> Self {
        match value {
            Owned::Null => Value::Null,
            Owned::Integer(value) => Value::Integer(*value),
            Owned::Real(value) => Value::Real(*value),
            Owned::Text(text) => Value::Text(text),
            Owned::Blob(bytes) => Value::Blob(bytes),
        }
    }
}

impl From<&Value<'_>> for Owned {
    fn from(value: &Value<'_>) -> Self {
        match *value {
            Value::Null => Owned::Null,
            Value::Integer(value) => Owned::Integer(value),
            Value::Real(value) => Owned::Real(value),
            Value::Text(text) => Owned::Text(text.to_string()),
            Value::Blob(bytes) => Owned::Blob(bytes.to_vec()),
        }
    }
}

/// A value read from a row, or a parameter kept until it is sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Owned {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Owned {
    fn what(&self) -> &'static str {
        match self {
            Owned::Null => "NULL",
            Owned::Integer(_) => "an integer",
            Owned::Real(_) => "a real number",
            Owned::Text(_) => "text",
            Owned::Blob(_) => "bytes",
        }
    }

    /// The value as a state cell; the state tables hold no reals or blobs,
    /// so one found there is shown as what it is and differs from any expected cell.
    pub fn into_cell(self) -> Cell<'static> {
        match self {
            Owned::Null => Cell::Null,
            Owned::Integer(value) => Cell::Integer(value),
            Owned::Text(text) => Cell::Text(text.into()),
            Owned::Real(value) => Cell::Text(format!("real {value}").into()),
            Owned::Blob(bytes) => Cell::Text(format!("{} bytes", bytes.len()).into()),
        }
    }
}

/// One row of a result.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub(crate) Vec<Owned>);

impl Row {
    fn take(&mut self, column: usize) -> Result<Owned, StoreError> {
        let cell = self.0.get_mut(column).ok_or_else(|| {
            StoreError::Corrupt(format!("a query row has no column {}", column + 1))
        })?;
        Ok(std::mem::replace(cell, Owned::Null))
    }

    fn unexpected(column: usize, expected: &str, found: &Owned) -> StoreError {
        StoreError::Corrupt(format!(
            "column {} holds {} where {expected} was expected",
            column + 1,
            found.what()
        ))
    }

    pub fn integer(&mut self, column: usize) -> Result<i64, StoreError> {
        self.opt_integer(column)?
            .ok_or_else(|| Self::unexpected(column, "an integer", &Owned::Null))
    }

    pub fn opt_integer(&mut self, column: usize) -> Result<Option<i64>, StoreError> {
        match self.take(column)? {
            Owned::Null => Ok(None),
            Owned::Integer(value) => Ok(Some(value)),
            other => Err(Self::unexpected(column, "an integer", &other)),
        }
    }

    /// A sequence number, count or revision: never negative.
    pub fn count<T: TryFrom<i64>>(&mut self, column: usize) -> Result<T, StoreError> {
        let value = self.integer(column)?;
        T::try_from(value).map_err(|_| {
            StoreError::Corrupt(format!("column {} holds {value}, out of range", column + 1))
        })
    }

    pub fn text(&mut self, column: usize) -> Result<String, StoreError> {
        self.opt_text(column)?
            .ok_or_else(|| Self::unexpected(column, "text", &Owned::Null))
    }

    pub fn opt_text(&mut self, column: usize) -> Result<Option<String>, StoreError> {
        match self.take(column)? {
            Owned::Null => Ok(None),
            Owned::Text(text) => Ok(Some(text)),
            other => Err(Self::unexpected(column, "text", &other)),
        }
    }

    pub fn real(&mut self, column: usize) -> Result<f64, StoreError> {
        self.opt_real(column)?
            .ok_or_else(|| Self::unexpected(column, "a real number", &Owned::Null))
    }

    pub fn opt_real(&mut self, column: usize) -> Result<Option<f64>, StoreError> {
        Ok(Some(match self.take(column)? {
            Owned::Null => return Ok(None),
            Owned::Real(value) => value,
            Owned::Integer(value) => value as f64,
            other => return Err(Self::unexpected(column, "a real number", &other)),
        }))
    }

    pub fn blob(&mut self, column: usize) -> Result<Vec<u8>, StoreError> {
        self.opt_blob(column)?
            .ok_or_else(|| Self::unexpected(column, "bytes", &Owned::Null))
    }

    pub fn opt_blob(&mut self, column: usize) -> Result<Option<Vec<u8>>, StoreError> {
        match self.take(column)? {
            Owned::Null => Ok(None),
            Owned::Blob(bytes) => Ok(Some(bytes)),
            other => Err(Self::unexpected(column, "bytes", &other)),
        }
    }

    pub fn boolean(&mut self, column: usize) -> Result<bool, StoreError> {
        Ok(self.integer(column)? != 0)
    }
}

/// A connection or transaction of a backend.
pub trait Sql {
    /// Runs a statement that returns no rows. Inside a transaction a backend
    /// may send it with the next statement: its error then fails that one,
    /// or the commit.
    fn execute(&self, sql: &str, parameters: &[Value<'_>]) -> Result<(), StoreError>;
    /// Runs a query and hands each row to `row`, in order.
    fn each(
        &self,
        sql: &str,
        parameters: &[Value<'_>],
        row: &mut dyn FnMut(Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
}

impl dyn Sql + '_ {
    pub fn rows(&self, sql: &str, parameters: &[Value<'_>]) -> Result<Vec<Row>, StoreError> {
        let mut rows = Vec::new();
        self.each(sql, parameters, &mut |row| {
            rows.push(row);
            Ok(())
        })?;
        Ok(rows)
    }

    /// The first row, if the query gives any.
    pub fn row(&self, sql: &str, parameters: &[Value<'_>]) -> Result<Option<Row>, StoreError> {
        let mut first = None;
        self.each(sql, parameters, &mut |row| {
            first.get_or_insert(row);
            Ok(())
        })?;
        Ok(first)
    }

    pub fn exists(&self, sql: &str, parameters: &[Value<'_>]) -> Result<bool, StoreError> {
        Ok(self.row(sql, parameters)?.is_some())
    }

    /// The single integer a query such as `SELECT COUNT(*)` gives.
    pub fn number(&self, sql: &str, parameters: &[Value<'_>]) -> Result<u64, StoreError> {
        match self.row(sql, parameters)? {
            Some(mut row) => row.count(0),
            None => Err(StoreError::Corrupt(format!("no row from {sql}"))),
        }
    }
}

pub(crate) use sqlite::owned;

mod sqlite {
    use rusqlite::types::{ToSqlOutput, ValueRef};
    use rusqlite::{Connection, ToSql};

    use super::{Owned, Row, Sql, Value};
    use crate::StoreError;

    impl ToSql for Value<'_> {
        fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
            Ok(ToSqlOutput::Borrowed(match *self {
                Value::Null => ValueRef::Null,
                Value::Integer(value) => ValueRef::Integer(value),
                Value::Real(value) => ValueRef::Real(value),
                Value::Text(text) => ValueRef::Text(text.as_bytes()),
                Value::Blob(bytes) => ValueRef::Blob(bytes),
            }))
        }
    }

    pub(crate) fn owned(value: ValueRef<'_>) -> Owned {
        match value {
            ValueRef::Null => Owned::Null,
            ValueRef::Integer(value) => Owned::Integer(value),
            ValueRef::Real(value) => Owned::Real(value),
            ValueRef::Text(text) => Owned::Text(String::from_utf8_lossy(text).into_owned()),
            ValueRef::Blob(bytes) => Owned::Blob(bytes.to_vec()),
        }
    }

    impl Sql for Connection {
        fn execute(&self, sql: &str, parameters: &[Value<'_>]) -> Result<(), StoreError> {
            self.prepare_cached(sql)?
                .execute(rusqlite::params_from_iter(parameters))?;
            Ok(())
        }

        fn each(
            &self,
            sql: &str,
            parameters: &[Value<'_>],
            each: &mut dyn FnMut(Row) -> Result<(), StoreError>,
        ) -> Result<(), StoreError> {
            let mut statement = self.prepare_cached(sql)?;
            let columns = statement.column_count();
            let mut rows = statement.query(rusqlite::params_from_iter(parameters))?;
            while let Some(row) = rows.next()? {
                let mut values = Vec::with_capacity(columns);
                for column in 0..columns {
                    values.push(owned(row.get_ref(column)?));
                }
                each(Row(values))?;
            }
            Ok(())
        }
    }
}
