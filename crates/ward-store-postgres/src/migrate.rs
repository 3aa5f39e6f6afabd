//! The schema's migrations (`migrations/`, embedded), run with sqlx's migrator, which records
//! each applied one (version and SHA-384 checksum) in `_sqlx_migrations`.
//!
//! PostgreSQL's history differs from SQLite's: SQLite's 0005–0007 change its physical layout,
//! which PostgreSQL does not need. Earlier Ward builds nevertheless shipped 0005–0007 here
//! too, as placeholders (`SELECT 1`), because the two backends' migrations were compared by
//! file name. They are gone (parity between the backends is what the conformance suite
//! proves), and a database those builds migrated has them recorded as applied, which sqlx
//! refuses ("migration 5 was previously applied but is missing"). So before migrating,
//! [`retire_placeholders`] deletes exactly those three records, each recognised by its
//! version AND the checksum of the placeholder's text; a record that differs in either is
//! kept, and sqlx refuses it as before.
//!
//! Not `Migrator::set_ignore_missing`: that would also accept a database migrated by a newer
//! Ward, whose migrations this binary does not know, and run on a schema it does not
//! understand.

use crate::rows::unavailable;
use sqlx::migrate::Migrator;
use sqlx::PgPool;
use ward_store::{StoreError, StoreResult};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The placeholder migrations of earlier builds: version and hex SHA-384 of the file's text
/// (kept, byte for byte, in `tests/fixtures/retired_migrations/`).
const RETIRED_PLACEHOLDERS: [(i64, &str); 3] = [
    (
        5,
        "285d14559e81203370ad010ee48c578650d31745b94fca561ea3aba0996ad049f35eb2311a98d9b32d0587a5e7e70d29",
    ),
    (
        6,
        "04e3e4695017b7839203306341609e62a6f0e9bb42ae89d02a382d547035f1b5da48973888be001d0a1bf72ddc2df0a2",
    ),
    (
        7,
        "446de929bba0388762bdb794057abcd172ee9dcd6a5ba1a36e3dab507fc188eeec5becd46ac0c60208bed02476850273",
    ),
];

/// Names of the embedded migrations, in order: the file names without `.sql`
/// (e.g. `0001_init`).
pub fn migration_names() -> Vec<String> {
    MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| format!("{:04}_{}", m.version, m.description.replace(' ', "_")))
        .collect()
}

/// Brings the schema (the pool's `search_path`) up to date.
pub(crate) async fn run(pool: &PgPool) -> StoreResult<()> {
    retire_placeholders(pool).await?;
    MIGRATOR
        .run(pool)
        .await
        .map_err(|e| StoreError::Migration(e.to_string()))
}

/// Deletes the records of the placeholder migrations 0005–0007 of earlier builds (see the
/// module's documentation); returns how many there were. Idempotent; nothing to do on a
/// new database.
async fn retire_placeholders(pool: &PgPool) -> StoreResult<u64> {
    let history: Option<String> = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
        .fetch_one(pool)
        .await
        .map_err(unavailable)?;
    if history.is_none() {
        return Ok(0);
    }
    let versions: Vec<i64> = RETIRED_PLACEHOLDERS.iter().map(|(v, _)| *v).collect();
    let checksums: Vec<&str> = RETIRED_PLACEHOLDERS.iter().map(|(_, c)| *c).collect();
    let done = sqlx::query(
        "DELETE FROM _sqlx_migrations m USING UNNEST($1::int8[], $2::text[]) AS r (version, checksum) \
         WHERE m.version = r.version AND m.checksum = decode(r.checksum, 'hex')",
    )
    .bind(&versions)
    .bind(&checksums)
    .execute(pool)
    .await
    .map_err(|e| StoreError::Migration(format!("retiring placeholder migrations failed: {e}")))?;
    Ok(done.rows_affected())
}
