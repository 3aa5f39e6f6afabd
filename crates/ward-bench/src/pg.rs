//! The PostgreSQL server a run uses: fresh databases for Ward and for each baseline, dropped
//! afterwards.

use crate::say;
use anyhow::{Context, Result};

/// The PostgreSQL server: fresh databases for Ward and for each baseline.
pub(crate) struct PgAdmin {
    url: String,
    prefix: String,
    pub(crate) created: Vec<String>,
}

impl PgAdmin {
    pub(crate) async fn new(url: &str) -> Result<PgAdmin> {
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let admin = PgAdmin {
            url: url.to_owned(),
            prefix: format!("ward_bench_{stamp}_{}", std::process::id()),
            created: Vec::new(),
        };
        admin.conn().await?;
        Ok(admin)
    }

    async fn conn(&self) -> Result<sqlx::PgConnection> {
        use sqlx::Connection;
        sqlx::PgConnection::connect(&self.url)
            .await
            .context("connecting to PostgreSQL at the given URL")
    }

    /// Creates database `<prefix>_<name>`; returns its URL.
    pub(crate) async fn create(&mut self, name: &str) -> Result<String> {
        let db = format!("{}_{name}", self.prefix);
        let mut c = self.conn().await?;
        sqlx::query(&format!("CREATE DATABASE \"{db}\""))
            .execute(&mut c)
            .await
            .with_context(|| format!("creating database {db}"))?;
        self.created.push(db.clone());
        Ok(url_with_database(&self.url, &db))
    }

    pub(crate) async fn describe(&self) -> Result<String> {
        use sqlx::Row;
        let mut c = self.conn().await?;
        let mut parts = Vec::new();
        for setting in [
            "server_version",
            "synchronous_commit",
            "fsync",
            "wal_sync_method",
            "shared_buffers",
        ] {
            let v: String = sqlx::query(&format!("SHOW {setting}"))
                .fetch_one(&mut c)
                .await
                .with_context(|| format!("SHOW {setting}"))?
                .try_get(0)?;
            parts.push(format!("{setting}={v}"));
        }
        Ok(format!("PostgreSQL {}", parts.join(", ")))
    }

    pub(crate) async fn drop_all(&self) {
        let Ok(mut c) = self.conn().await else { return };
        for db in &self.created {
            if let Err(e) = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"))
                .execute(&mut c)
                .await
            {
                say(format!("could not drop database {db}: {e}"));
            }
        }
    }
}

/// `postgres://u@h:5432/test?x=y` with database `db` instead of `test`.
pub fn url_with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[after_scheme..].find('/').map_or(base.len(), |i| after_scheme + i);
    let mut out = format!("{}/{db}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_rewritten() {
        assert_eq!(
            url_with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(url_with_database("postgres://h", "x"), "postgres://h/x");
        assert_eq!(
            url_with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
    }
}
