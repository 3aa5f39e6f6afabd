//! Data-subject requests (`subject_requests`, migration `0017_subject_requests`).

use crate::rows::{bind, unavailable, unstorable, Pg, Result};
use crate::PgStore;
use async_trait::async_trait;
use sqlx::postgres::PgConnection;
use sqlx::Row;
use std::sync::LazyLock;
use ward_core::{RequestId, SubjectId};
use ward_store::write::requests::{Inserts, Keys, Snap, Step};
use ward_store::{decode, RequestCursor, RequestFilter, RequestRecord, RequestStore, StoreResult};

static BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {} FROM subject_requests WHERE id = $1", decode::REQUEST.select));

static BY_SUBJECT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM subject_requests WHERE subject_id = $1 ORDER BY received_at, id",
        decode::REQUEST.select
    )
});

static INSERT: LazyLock<String> = LazyLock::new(|| {
    let n = decode::REQUEST.names.len();
    let ph: Vec<String> = (1..=n).map(|k| format!("${k}")).collect();
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
        .map(|(k, n)| format!("{n} = ${}", k + 1))
        .collect();
    format!("UPDATE subject_requests SET {} WHERE id = $1", sets.join(", "))
});

#[async_trait]
impl RequestStore for PgStore {
    async fn find_request(&self, id: RequestId) -> StoreResult<Option<RequestRecord>> {
        let row = sqlx::query(&BY_ID)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.map(|r| decode::request(&Pg(&r))).transpose()
    }

    async fn find_requests_of_subject(&self, subject: SubjectId) -> StoreResult<Vec<RequestRecord>> {
        let rows = sqlx::query(&BY_SUBJECT)
            .bind(&subject.as_bytes()[..])
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(|r| decode::request(&Pg(r))).collect()
    }

    async fn list_requests(
        &self,
        filter: &RequestFilter,
        after: Option<RequestCursor>,
        limit: u32,
    ) -> StoreResult<Vec<RequestRecord>> {
        let (clause, order, binds) = filter.query(after, 2, |k| format!("${k}"));
        let sql = format!(
            "SELECT {} FROM subject_requests WHERE {clause} ORDER BY {order} LIMIT $1",
            decode::REQUEST.select
        );
        let mut q = sqlx::query(&sql).bind(i64::from(limit));
        for b in binds {
            q = bind(q, b);
        }
        let rows = q.fetch_all(&self.pool).await.map_err(unavailable)?;
        rows.iter().map(|r| decode::request(&Pg(r))).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

pub(crate) async fn snapshot(conn: &mut PgConnection, keys: &Keys, snap: &mut Snap) -> Result<()> {
    for id in keys {
        let row = sqlx::query("SELECT state FROM subject_requests WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await
            .map_err(unavailable)?;
        if let Some(r) = row {
            let state: String = r.try_get(0).map_err(unavailable)?;
            snap.insert(*id, decode::parse(&state, "subject_requests", "state")?);
        }
    }
    Ok(())
}

async fn write(conn: &mut PgConnection, sql: &str, r: &RequestRecord) -> Result<()> {
    let values = decode::request_values(r).ok_or_else(|| unstorable("subject_requests", "regimes"))?;
    let mut q = sqlx::query(sql);
    for b in values {
        q = bind(q, b);
    }
    q.execute(&mut *conn).await.map_err(unavailable)?;
    Ok(())
}

pub(crate) async fn insert(conn: &mut PgConnection, rows: &Inserts<'_>) -> Result<()> {
    for r in rows {
        write(conn, &INSERT, r).await?;
    }
    Ok(())
}

pub(crate) async fn apply(conn: &mut PgConnection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Update(r) => write(conn, &UPDATE, r).await,
    }
}
