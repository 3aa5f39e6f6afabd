//! Turning stored columns back into Ward's types. Whatever does not parse is
//! [`StoreError::Corrupt`] naming the table and column, never a panic.

use sqlx::{ColumnIndex, Decode, Row, Type};
use ward_store::StoreError;

pub(crate) use ward_store::decode::{corrupt, hash32, parse, subject_id};

pub(crate) type Result<T> = std::result::Result<T, StoreError>;

/// A driver error: the database refused or could not be reached. The driver's text never
/// holds bound values.
pub(crate) fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Reads a column, mapping a wrong type or an unexpected NULL to `Corrupt`.
pub(crate) fn col<'r, R, T>(row: &'r R, table: &str, column: &str) -> Result<T>
where
    R: Row,
    T: Decode<'r, R::Database> + Type<R::Database>,
    for<'s> &'s str: ColumnIndex<R>,
{
    row.try_get(column).map_err(|e| corrupt(table, column, e))
}

/// A name list that cannot be stored comma-joined.
pub(crate) fn unstorable(table: &str, column: &str) -> StoreError {
    corrupt(
        table,
        column,
        "a name is empty or contains a comma and cannot be stored",
    )
}

/// A PostgreSQL row, as the shared decoders of [`ward_store::decode`] read it.
pub(crate) struct Pg<'a>(pub &'a sqlx::postgres::PgRow);

impl ward_store::decode::Row for Pg<'_> {
    fn int(&self, i: usize) -> std::result::Result<Option<i64>, String> {
        self.0.try_get(i).map_err(|e| e.to_string())
    }
    fn text(&self, i: usize) -> std::result::Result<Option<String>, String> {
        self.0.try_get(i).map_err(|e| e.to_string())
    }
    fn bytes(&self, i: usize) -> std::result::Result<Option<Vec<u8>>, String> {
        self.0.try_get(i).map_err(|e| e.to_string())
    }
    fn boolean(&self, i: usize) -> std::result::Result<Option<bool>, String> {
        self.0.try_get(i).map_err(|e| e.to_string())
    }
}

/// Binds a value of a shared query builder (a typed NULL for a NULL).
pub(crate) fn bind<'q>(
    q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    b: ward_store::Bind,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    use ward_store::Bind;
    match b {
        Bind::Bytes(b) => q.bind(b),
        Bind::Text(t) => q.bind(t),
        Bind::Int(i) => q.bind(i),
        Bind::NullBytes => q.bind(None::<Vec<u8>>),
        Bind::NullText => q.bind(None::<String>),
        Bind::NullInt => q.bind(None::<i64>),
    }
}
