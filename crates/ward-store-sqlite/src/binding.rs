//! The key binding (`key_binding`, migration `0009_key_binding`): see
//! `ward_store::KeyBindingStore`. Written directly, on the writer thread, in one transaction.

use crate::rows::{col, exec, query, unavailable, Result};
use crate::SqliteStore;
use async_trait::async_trait;
use rusqlite::{params, Row, TransactionBehavior};
use ward_core::clock::{from_micros, to_micros};
use ward_store::{BoundKey, KeyBindingStore, StoreResult};

const T: &str = "key_binding";

fn bound(row: &Row<'_>) -> Result<BoundKey> {
    Ok(BoundKey {
        name: col(row, T, "name")?,
        fingerprint: col(row, T, "fingerprint")?,
        recorded_at: from_micros(col(row, T, "recorded_at")?),
    })
}

#[async_trait]
impl KeyBindingStore for SqliteStore {
    async fn find_key_binding(&self) -> StoreResult<Vec<BoundKey>> {
        self.readers().with(|c| {
            query(
                c,
                "SELECT name, fingerprint, recorded_at FROM key_binding ORDER BY name",
                [],
                bound,
            )
        })
    }

    async fn record_key_binding(&self, keys: &[BoundKey]) -> StoreResult<()> {
        let keys = keys.to_vec();
        self.writer()
            .run(move |c| {
                let tx = c
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(unavailable)?;
                for k in &keys {
                    exec(
                        &tx,
                        "INSERT INTO key_binding (name, fingerprint, recorded_at) VALUES (?1, ?2, ?3) \
                         ON CONFLICT (name) DO NOTHING",
                        params![k.name, k.fingerprint, to_micros(k.recorded_at)],
                    )?;
                }
                tx.commit().map_err(unavailable)
            })
            .await
    }
}
