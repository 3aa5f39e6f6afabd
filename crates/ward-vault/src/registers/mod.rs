//! The officer's registers: the paged, filtered list of subjects with their standing facts
//! (`subjects.rs`), and of journal entries (`journal.rs`). Both answer with ids, enums and
//! names from the policy, never personal data, open no sealed data, and are journaled
//! themselves (`subjects.listed`, `journal.read`) before they answer.
//!
//! Pages are keyset pages: a subject's id, an entry's position. The cursor is opaque to
//! clients (base64url of a tag and the key), so a page read after another neither repeats
//! nor skips anything that was there when the first was read, whatever is written between.

mod journal;
mod subjects;

pub use journal::{JournalListing, JournalQuery};
pub use subjects::{SubjectListState, SubjectListing, SubjectQuery};

use crate::error::{VaultError, VaultResult};
use crate::Vault;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use ward_core::ProblemCode;

/// The most items a page may ask for.
pub const MAX_LIMIT: u32 = 1000;
/// Items in a page that does not say.
pub const DEFAULT_LIMIT: u32 = 100;

/// One page of a register, and where the next one starts (`None`: this was the last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The registers service, reached by [`Vault::registers`].
#[derive(Clone, Copy)]
pub struct Registers<'v>(pub(crate) &'v Vault);

/// A page's limit: `DEFAULT_LIMIT` when not given, else 1 to [`MAX_LIMIT`].
fn limit(limit: Option<u32>) -> VaultResult<u32> {
    match limit.unwrap_or(DEFAULT_LIMIT) {
        l @ 1..=MAX_LIMIT => Ok(l),
        _ => Err(filter_error(format!("limit must be 1 to {MAX_LIMIT}"))),
    }
}

fn filter_error(message: impl Into<String>) -> VaultError {
    VaultError::invalid(ProblemCode::InvalidFilter, message)
}

/// The cursor for a page that continues after `key`, tagged by register.
fn cursor(tag: u8, key: &[u8]) -> String {
    let mut raw = Vec::with_capacity(key.len() + 1);
    raw.push(tag);
    raw.extend_from_slice(key);
    URL_SAFE_NO_PAD.encode(raw)
}

/// The key a cursor of register `tag` continues after, `len` bytes long.
fn cursor_key(tag: u8, cursor: &str, len: usize) -> VaultResult<Vec<u8>> {
    let invalid = || {
        VaultError::invalid(
            ProblemCode::InvalidCursor,
            "the cursor is not one this listing returned; start again without it",
        )
    };
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    match raw.split_first() {
        Some((t, key)) if *t == tag && key.len() == len => Ok(key.to_vec()),
        _ => Err(invalid()),
    }
}

/// An instant given as RFC 3339 or as a date (`YYYY-MM-DD`, its start in UTC).
fn instant(name: &str, value: &str) -> VaultResult<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(value, &Rfc3339) {
        return Ok(t);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(value, &format)
        .map(|d| d.midnight().assume_utc())
        .map_err(|_| filter_error(format!("`{name}` must be a date (YYYY-MM-DD) or an RFC 3339 instant")))
}

/// An instant as the journal's detail names it.
fn stamp(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        let c = cursor(b's', &[7; 16]);
        assert_eq!(cursor_key(b's', &c, 16).unwrap(), vec![7; 16]);
        for bad in [
            cursor(b'j', &[7; 16]),
            cursor(b's', &[7; 8]),
            "!!".into(),
            String::new(),
        ] {
            let e = cursor_key(b's', &bad, 16).unwrap_err();
            assert_eq!(e.code(), ProblemCode::InvalidCursor);
        }
    }

    #[test]
    fn limits_and_instants() {
        assert_eq!(limit(None).unwrap(), DEFAULT_LIMIT);
        assert_eq!(limit(Some(1000)).unwrap(), 1000);
        assert_eq!(limit(Some(0)).unwrap_err().code(), ProblemCode::InvalidFilter);
        assert_eq!(limit(Some(1001)).unwrap_err().code(), ProblemCode::InvalidFilter);
        assert_eq!(
            instant("to", "2026-03-01").unwrap(),
            time::macros::datetime!(2026-03-01 00:00 UTC)
        );
        assert_eq!(
            instant("to", "2026-03-01T10:00:00+03:00").unwrap(),
            time::macros::datetime!(2026-03-01 07:00 UTC)
        );
        assert_eq!(instant("to", "soon").unwrap_err().code(), ProblemCode::InvalidFilter);
    }
}
