//! Turning stored columns back into Ward's types. Whatever does not parse is
//! [`StoreError::Corrupt`] naming the table and column, never a panic.

use rusqlite::types::FromSql;
use rusqlite::{Connection, Row};
use ward_store::StoreError;

pub(crate) use ward_store::decode::{corrupt, hash32, parse, subject_id};

pub(crate) type Result<T> = std::result::Result<T, StoreError>;

/// A driver error: the database refused or could not be reached. SQLite's messages never
/// hold bound values.
pub(crate) fn unavailable(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Reads a column by name, mapping a wrong type or an unexpected NULL to `Corrupt`.
pub(crate) fn col<T: FromSql>(row: &Row<'_>, table: &str, column: &str) -> Result<T> {
    row.get(column).map_err(|e| corrupt(table, column, e))
}

/// Reads column `index` (named `column` in errors), for hot paths where looking a column up by
/// name costs more than decoding it.
pub(crate) fn at<T: FromSql>(row: &Row<'_>, index: usize, table: &str, column: &str) -> Result<T> {
    row.get(index).map_err(|e| corrupt(table, column, e))
}

/// Reads an optional subject id column.
pub(crate) fn opt_subject_id(row: &Row<'_>, table: &str, column: &str) -> Result<Option<ward_core::SubjectId>> {
    col::<Option<Vec<u8>>>(row, table, column)?
        .map(|b| subject_id(&b, table, column))
        .transpose()
}

/// Collects every row of a prepared query through `decode`.
pub(crate) fn collect<T>(
    mut rows: rusqlite::Rows<'_>,
    mut decode: impl FnMut(&Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(unavailable)? {
        out.push(decode(row)?);
    }
    Ok(out)
}

/// Runs a prepared (cached) query with `params` and decodes every row.
pub(crate) fn query<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    decode: impl FnMut(&Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql).map_err(unavailable)?;
    let rows = stmt.query(params).map_err(unavailable)?;
    collect(rows, decode)
}

/// Like [`query`], for at most one row.
pub(crate) fn query_opt<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    decode: impl FnOnce(&Row<'_>) -> Result<T>,
) -> Result<Option<T>> {
    let mut stmt = conn.prepare_cached(sql).map_err(unavailable)?;
    let mut rows = stmt.query(params).map_err(unavailable)?;
    match rows.next().map_err(unavailable)? {
        Some(row) => decode(row).map(Some),
        None => Ok(None),
    }
}

/// Runs a prepared (cached) statement that returns no rows; returns how many rows changed.
pub(crate) fn exec(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<usize> {
    conn.prepare_cached(sql)
        .map_err(unavailable)?
        .execute(params)
        .map_err(unavailable)
}

/// Runs `f` in one read transaction, which ends whether or not `f` succeeded.
pub(crate) fn in_read_transaction<T>(c: &Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    exec(c, "BEGIN", [])?;
    let out = f(c);
    let end = exec(c, "COMMIT", []);
    let out = out?;
    end.map(|_| out)
}

/// A name list that cannot be stored comma-joined.
pub(crate) fn unstorable(table: &str, column: &str) -> StoreError {
    corrupt(
        table,
        column,
        "a name is empty or contains a comma and cannot be stored",
    )
}

/// A rusqlite row, as the shared decoders of [`ward_store::decode`] read it.
pub(crate) struct Sql<'a, 'r>(pub &'a Row<'r>);

impl ward_store::decode::Row for Sql<'_, '_> {
    fn int(&self, i: usize) -> std::result::Result<Option<i64>, String> {
        self.0.get(i).map_err(|e| e.to_string())
    }
    fn text(&self, i: usize) -> std::result::Result<Option<String>, String> {
        self.0.get(i).map_err(|e| e.to_string())
    }
    fn bytes(&self, i: usize) -> std::result::Result<Option<Vec<u8>>, String> {
        self.0.get(i).map_err(|e| e.to_string())
    }
    fn boolean(&self, i: usize) -> std::result::Result<Option<bool>, String> {
        self.0.get(i).map_err(|e| e.to_string())
    }
}

/// A bound value of a shared query builder, as SQLite takes it.
pub(crate) fn value(b: ward_store::Bind) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    use ward_store::Bind;
    match b {
        Bind::Bytes(b) => Value::Blob(b),
        Bind::Text(t) => Value::Text(t),
        Bind::Int(i) => Value::Integer(i),
        Bind::NullBytes | Bind::NullText | Bind::NullInt => Value::Null,
    }
}
