//! Data-subject requests (`subject_requests`, migration `0017_subject_requests`).

use crate::rows::{exec, query, query_opt, unstorable, value, Result, Sql};
use crate::SqliteStore;
use async_trait::async_trait;
use rusqlite::{params_from_iter, Connection};
use std::sync::LazyLock;
use ward_core::{RequestId, SubjectId};
use ward_store::write::requests::{Inserts, Keys, Snap, Step};
use ward_store::{decode, RequestCursor, RequestFilter, RequestRecord, RequestStore, StoreResult};

static BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {} FROM subject_requests WHERE id = ?1", decode::REQUEST.select));

static BY_SUBJECT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM subject_requests WHERE subject_id = ?1 ORDER BY received_at, id",
        decode::REQUEST.select
    )
});

static INSERT: LazyLock<String> = LazyLock::new(|| {
    let n = decode::REQUEST.names.len();
    let ph: Vec<String> = (1..=n).map(|k| format!("?{k}")).collect();
    format!(
        "INSERT INTO subject_requests ({}) VALUES ({})",
        decode::REQUEST.select,
        ph.join(", ")
    )
});

static UPDATE: LazyLock<String> = LazyLock::new(|| {
    let sets: Vec<String> = decode::REQUEST
        .names
        .iter()
        .enumerate()
        .skip(1)
        .map(|(k, n)| format!("{n} = ?{}", k + 1))
        .collect();
    format!("UPDATE subject_requests SET {} WHERE id = ?1", sets.join(", "))
});

#[async_trait]
impl RequestStore for SqliteStore {
    async fn find_request(&self, id: RequestId) -> StoreResult<Option<RequestRecord>> {
        self.readers()
            .with(|c| query_opt(c, &BY_ID, [id.to_string()], |r| decode::request(&Sql(r))))
    }

    async fn find_requests_of_subject(&self, subject: SubjectId) -> StoreResult<Vec<RequestRecord>> {
        self.readers().scan(move |c| {
            query(c, &BY_SUBJECT, [&subject.as_bytes()[..]], |r| decode::request(&Sql(r)))
        })
        .await
    }

    async fn list_requests(
        &self,
        filter: &RequestFilter,
        after: Option<RequestCursor>,
        limit: u32,
    ) -> StoreResult<Vec<RequestRecord>> {
        let (clause, order, binds) = filter.query(after, 2, |k| format!("?{k}"));
        let sql = format!(
            "SELECT {} FROM subject_requests WHERE {clause} ORDER BY {order} LIMIT ?1",
            decode::REQUEST.select
        );
        self.readers()
            .scan(move |c| {
                let values = std::iter::once(rusqlite::types::Value::Integer(i64::from(limit)))
                    .chain(binds.into_iter().map(value));
                let mut stmt = c.prepare_cached(&sql).map_err(crate::rows::unavailable)?;
                let rows = stmt
                    .query(params_from_iter(values))
                    .map_err(crate::rows::unavailable)?;
                crate::rows::collect(rows, |r| decode::request(&Sql(r)))
            })
            .await
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

pub(crate) fn snapshot(conn: &Connection, keys: &Keys, snap: &mut Snap) -> Result<()> {
    for id in keys {
        let row = query_opt(
            conn,
            "SELECT state FROM subject_requests WHERE id = ?1",
            [id.to_string()],
            |r| crate::rows::col::<String>(r, "subject_requests", "state"),
        )?;
        if let Some(state) = row {
            snap.insert(*id, decode::parse(&state, "subject_requests", "state")?);
        }
    }
    Ok(())
}

fn values(r: &RequestRecord) -> Result<Vec<rusqlite::types::Value>> {
    Ok(decode::request_values(r)
        .ok_or_else(|| unstorable("subject_requests", "regimes"))?
        .into_iter()
        .map(value)
        .collect())
}

pub(crate) fn insert(conn: &Connection, rows: &Inserts<'_>) -> Result<()> {
    for r in rows {
        exec(conn, &INSERT, params_from_iter(values(r)?))?;
    }
    Ok(())
}

pub(crate) fn apply(conn: &Connection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Update(r) => {
            exec(conn, &UPDATE, params_from_iter(values(r)?))?;
            Ok(())
        }
    }
}
