//! The key binding (`key_binding`, migration `0009_key_binding`): see
//! `ward_store::KeyBindingStore`. Written directly, in one transaction.

use crate::rows::{col, unavailable, Result};
use crate::PgStore;
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use ward_core::clock::{from_micros, to_micros};
use ward_store::{BoundKey, KeyBindingStore, StoreResult};

const T: &str = "key_binding";

fn bound(row: &PgRow) -> Result<BoundKey> {
    Ok(BoundKey {
        name: col(row, T, "name")?,
        fingerprint: col(row, T, "fingerprint")?,
        recorded_at: from_micros(col(row, T, "recorded_at")?),
    })
}

#[async_trait]
impl KeyBindingStore for PgStore {
    async fn find_key_binding(&self) -> StoreResult<Vec<BoundKey>> {
        let rows = sqlx::query("SELECT name, fingerprint, recorded_at FROM key_binding ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(bound).collect()
    }

    async fn record_key_binding(&self, keys: &[BoundKey]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        for k in keys {
            sqlx::query(
                "INSERT INTO key_binding (name, fingerprint, recorded_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(&k.name)
            .bind(&k.fingerprint)
            .bind(to_micros(k.recorded_at))
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        }
        tx.commit().await.map_err(unavailable)
    }
}
