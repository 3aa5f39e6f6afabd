//! Turning stored columns back into Ward's types. Whatever does not parse is
//! [`StoreError::Corrupt`] naming the table and column, never a panic. Shared by the backends.

use crate::StoreError;
use std::str::FromStr;
use ward_core::SubjectId;
use ward_crypto::Hash32;

type Result<T> = std::result::Result<T, StoreError>;

pub fn corrupt(table: &str, column: &str, what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{table}.{column}: {what}"))
}

pub fn subject_id(bytes: &[u8], table: &str, column: &str) -> Result<SubjectId> {
    let b: [u8; 16] = bytes
        .try_into()
        .map_err(|_| corrupt(table, column, "expected 16 bytes"))?;
    Ok(SubjectId::from_bytes(b))
}

pub fn hash32(bytes: &[u8], table: &str, column: &str) -> Result<Hash32> {
    bytes
        .try_into()
        .map_err(|_| corrupt(table, column, "expected 32 bytes"))
}

/// Parses a stored name (state, role, consent kind) into its enum.
pub fn parse<T: FromStr>(s: &str, table: &str, column: &str) -> Result<T> {
    s.parse().map_err(|_| corrupt(table, column, "not a known value"))
}
